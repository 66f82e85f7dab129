// Spawning tests/end/cpython_peer.py under the system CPython, with tubo ends
// handed over as inherited descriptors.
#ifndef TUBO_TESTS_END_CPYTHON_PEER_H_
#define TUBO_TESTS_END_CPYTHON_PEER_H_

#include <spawn.h>
#include <sys/types.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tubo/tubo.h"

extern char** environ;

namespace tubo_test {

// The system CPython, not whatever `python3` a PATH or pyenv shim picks.
inline constexpr char kPython[] = "/usr/bin/python3";

// Where Bazel put the peer script among the test's runfiles.
inline std::string PeerScript() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string root = srcdir ? srcdir : ".";
  return root + "/" + (workspace ? workspace : "tubo") + "/tests/end/cpython_peer.py";
}

// Runs `cpython_peer.py args...` with each `fds[i].first` (an open, possibly
// close-on-exec descriptor of the caller) placed on `fds[i].second` in the
// child, without close-on-exec. Returns the pid, or -1 on failure.
inline pid_t SpawnPeer(const std::vector<std::string>& args,
                       const std::vector<std::pair<int, int>>& fds) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (const auto& [from, to] : fds) posix_spawn_file_actions_adddup2(&actions, from, to);
  std::vector<std::string> argv_storage = {kPython, PeerScript()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int err = posix_spawn(&pid, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return err == 0 ? pid : -1;
}

// Fd numbers the peer finds its ends on (far from anything the test holds).
inline constexpr int kPeerIn = 100;
inline constexpr int kPeerOut = 101;

// How the C++ side and the peer are connected.
enum class Transport { kPipes, kDuplex };

inline std::string TransportName(const ::testing::TestParamInfo<Transport>& info) {
  return info.param == Transport::kPipes ? "Pipes" : "Duplex";
}

// The C++ side of a conversation with a CPython peer: two simplex pipes or
// one duplex end.
class Conversation {
 public:
  // Spawns `cpython_peer.py <command> <in> <out> <extra...>` (or, for
  // `generate`, only the peer's sending fd) connected to this side.
  bool Start(Transport transport, const std::string& command,
             const std::vector<std::string>& extra) {
    std::vector<std::string> args = {command};
    std::vector<std::pair<int, int>> fds;
    const bool send_only = command == "generate";
    if (transport == Transport::kPipes) {
      absl::StatusOr<tubo::Pipe> to_peer = tubo::Pipe::Create();
      absl::StatusOr<tubo::Pipe> from_peer = tubo::Pipe::Create();
      if (!to_peer.ok() || !from_peer.ok()) return false;
      if (!send_only) {
        fds.push_back({to_peer->reader.fd().get(), kPeerIn});
        args.push_back(std::to_string(kPeerIn));
      }
      fds.push_back({from_peer->writer.fd().get(), kPeerOut});
      args.push_back(std::to_string(kPeerOut));
      args.insert(args.end(), extra.begin(), extra.end());
      pid_ = SpawnPeer(args, fds);
      writer_ = std::move(to_peer->writer);
      reader_ = std::move(from_peer->reader);
      // to_peer->reader and from_peer->writer close here: the peer holds the
      // only copies, so each side sees EOF when the other is done.
    } else {
      absl::StatusOr<tubo::DuplexPipe> d = tubo::DuplexPipe::Create();
      if (!d.ok()) return false;
      fds.push_back({d->second.fd().get(), kPeerIn});
      args.push_back(std::to_string(kPeerIn));
      if (!send_only) args.push_back(std::to_string(kPeerIn));
      args.insert(args.end(), extra.begin(), extra.end());
      pid_ = SpawnPeer(args, fds);
      duplex_ = std::move(d->first);
      duplex_mode_ = true;
    }
    return pid_ > 0;
  }

  absl::Status Send(std::string_view m) { return duplex_mode_ ? duplex_.Send(m) : writer_.Send(m); }
  absl::StatusOr<std::optional<tubo::Bytes>> Recv() {
    return duplex_mode_ ? duplex_.Recv() : reader_.Recv();
  }
  absl::StatusOr<tubo::RecvResult> RecvInto(void* buffer, size_t capacity) {
    return duplex_mode_ ? duplex_.RecvInto(buffer, capacity) : reader_.RecvInto(buffer, capacity);
  }
  // Tells the peer there is nothing more: it sees EOF but can still reply.
  absl::Status FinishSending() { return duplex_mode_ ? duplex_.CloseWrite() : writer_.Close(); }
  void set_max_message_size(uint64_t max) {
    duplex_.set_max_message_size(max);
    reader_.set_max_message_size(max);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool duplex_mode_ = false;
  tubo::WriteEnd writer_;
  tubo::ReadEnd reader_;
  tubo::DuplexEnd duplex_;
};

}  // namespace tubo_test

#endif  // TUBO_TESTS_END_CPYTHON_PEER_H_
