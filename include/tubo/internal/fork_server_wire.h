// Internal: what a ForkServer (tubo/fork_server.h) and its server process
// say to each other over their SOCK_SEQPACKET socket pair, one message per
// request and per reply, descriptors travelling with SCM_RIGHTS. Both ends
// are the same binary, so the format has no compatibility to keep; a magic
// number still catches a message that is not one of ours. Not part of the
// public API.
//
//   hello   server -> parent, once at start:  magic
//   request parent -> server: magic, flags, entry, args, environment changes,
//           working directory, the three stdio choices, the channels (name,
//           mode); descriptors: the stdio descriptors (kFd, in stream
//           order), then the channels in order
//   reply   worker or server -> parent: magic, the request's sequence
//           number, errno (0: started), pid, message (the stage that
//           failed); descriptor: the worker's pidfd whenever a worker was
//           created, failed or not (the parent reaps it). A worker that set
//           itself up sends its own reply (one hop less); the server replies
//           for a request that created no worker, for a worker that failed
//           its set-up, and for one that ended before it said whether it
//           replied, which can then be a second reply: the parent drops a
//           reply whose sequence number is not its request's.
#ifndef TUBO_INTERNAL_FORK_SERVER_WIRE_H_
#define TUBO_INTERNAL_FORK_SERVER_WIRE_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tubo/fd.h"

namespace tubo {
namespace internal {

// The entry point the server runs in (argv[1] of the server process is
// --tubo-entry=tubo.fork-server); the "tubo." prefix is tubo's own.
inline constexpr char kForkServerEntry[] = "tubo.fork-server";
// The name of the server's end of the socket pair in its TUBO_CHANNELS.
inline constexpr char kForkServerChannel[] = "control";

inline constexpr uint32_t kForkServerMagic = 0x74667331;  // "tfs1"
// The largest request (arguments, environment, paths): a SOCK_SEQPACKET
// message must fit in the socket's send buffer.
inline constexpr size_t kForkServerMaxRequest = 128 * 1024;
// The most descriptors one request carries (the kernel's SCM_MAX_FD).
inline constexpr size_t kForkServerMaxFds = 253;

// A worker's standard stream, as Stdio describes it.
enum class StdioKind : uint8_t { kInherit = 0, kNull = 1, kFile = 2, kFd = 3 };

struct ForkServerRequest {
  uint32_t seq = 0;
  std::string entry;
  std::vector<std::string> args;
  bool clear_env = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> env_changes;
  std::optional<std::string> cwd;
  bool die_with_parent = true;
  bool new_process_group = false;
  StdioKind stdio[3] = {StdioKind::kInherit, StdioKind::kInherit, StdioKind::kInherit};
  std::string stdio_path[3];                                  // for kFile
  std::vector<std::pair<std::string, std::string>> channels;  // name, mode
};

struct ForkServerReply {
  uint32_t seq = 0;
  int32_t error = 0;  // errno of the failed stage, 0 if the worker started
  int32_t pid = -1;   // the worker's pid, -1 if none was created
  std::string message;
};

std::string EncodeHello();
bool DecodeHello(std::string_view data);
std::string EncodeRequest(const ForkServerRequest& request);
// Sets the sequence number of an encoded request.
void SetRequestSeq(uint32_t seq, std::string* encoded);
// False if `data` is not a well-formed request.
bool DecodeRequest(std::string_view data, ForkServerRequest* request);
std::string EncodeReply(const ForkServerReply& reply);
bool DecodeReply(std::string_view data, ForkServerReply* reply);
// A worker's own reply (errno 0: started; else the stage that failed, cut
// to fit), encoded into `out` without allocating. Returns its size.
inline constexpr size_t kWorkerReplySize = 64;
size_t EncodeWorkerReply(uint32_t seq, int32_t error, int32_t pid, const char* stage,
                         char (&out)[kWorkerReplySize]);

// Sends `data` as one message with `fds` attached (MSG_NOSIGNAL; EINTR
// retried). Returns 0 or errno (EPIPE: the peer is gone).
int SendWithFds(int sock, std::string_view data, const int* fds, size_t count);

// Receives one message of at most `size` bytes into `buf` and the
// descriptors attached to it (close-on-exec, owned by `*fds`; EINTR
// retried). Returns the size (0 with no descriptor: end of stream) or
// -errno; -EMSGSIZE for a message or a set of descriptors that was cut.
// Writes only the bytes received: after a fork every page the server writes
// costs it a copy, so its buffer is not cleared for each message.
ssize_t RecvWithFds(int sock, char* buf, size_t size, std::vector<OwnedFd>* fds);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FORK_SERVER_WIRE_H_
