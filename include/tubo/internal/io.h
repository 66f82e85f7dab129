// Internal: the system-call layer under the ends. Not part of the public API.
//
// Every loop here retries EINTR and keeps its deadline; no function installs a
// signal handler or changes process-wide state.
#ifndef TUBO_INTERNAL_IO_H_
#define TUBO_INTERNAL_IO_H_

#include <sys/uio.h>

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tubo {
namespace internal {

// How an end writes: unknown until the first write tries `sendmsg`.
enum class WriteKind : unsigned char { kUnknown, kSocket, kOther };

// Writes all of `iov[0..count)` to `fd`, handling short writes and EINTR.
// Never raises SIGPIPE: sockets use MSG_NOSIGNAL, other descriptors block
// SIGPIPE in the calling thread for the duration of the write and consume the
// one the write raised (the thread's signal mask is restored). `kind` caches
// whether `fd` is a socket. `iov` is modified. `op` names the operation in
// error messages ("send", "flush"). On error, `*written` (if given) holds the
// bytes that did leave.
absl::Status WriteAll(int fd, WriteKind& kind, struct iovec* iov, int count,
                      const char* op, size_t* written = nullptr);

// Best effort: if `fd` is a pipe smaller than `size` bytes, enlarges it
// (F_SETPIPE_SZ). Failures (not a pipe, over /proc/sys/fs/pipe-max-size or
// the user's pipe-user-pages limits) are ignored: the pipe keeps its size.
void TryGrowPipe(int fd, size_t size);

// One read(2) into `buf`, retrying EINTR. Returns bytes read, 0 at end of stream.
// ECONNRESET counts as end of stream: a stream socket whose peer closed while
// bytes sent to it were still unread reports it once, after every byte the
// peer sent has been read, so nothing is lost and the peer is gone, exactly
// as at EOF (a frame cut short is still reported as truncated).
absl::StatusOr<size_t> ReadSome(int fd, char* buf, size_t size);

// Waits until `fd` is readable, at end of stream or in error (poll's POLLIN,
// POLLHUP, POLLERR), or `timeout` passes. Returns whether it became ready.
// An infinite timeout waits forever; a zero timeout only looks.
absl::StatusOr<bool> WaitReadable(int fd, absl::Duration timeout);

// Keeps a descriptor tubo just created off 0, 1 and 2. In a process started
// with standard streams closed, the kernel hands out the lowest free numbers,
// so a new pipe could land on 0 or 1, where every child (which keeps 0-2)
// would inherit it and a child's prints would land in a framed stream. If
// `fd` is below 3, it is moved to the lowest free number >= 3
// (close-on-exec) and the original is closed. Returns the descriptor to use,
// or -1 with errno set (the original is closed then too). Never allocates.
int OffStdio(int fd);

// "<op> on fd <fd>: <what>" with the errno text; kind kSystem, or kPeerClosed
// for EPIPE and ECONNRESET.
absl::Status ErrnoError(int err, const char* op, int fd);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_IO_H_
