// Spawning tests/cpython_peer.py under the system CPython, with tubo ends
// handed over as inherited descriptors.
#ifndef TUBO_TESTS_CPYTHON_PEER_H_
#define TUBO_TESTS_CPYTHON_PEER_H_

#include <spawn.h>
#include <sys/types.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace tubo_test {

// The system CPython, not whatever `python3` a PATH or pyenv shim picks.
inline constexpr char kPython[] = "/usr/bin/python3";

// Where Bazel put the peer script among the test's runfiles.
inline std::string PeerScript() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string root = srcdir ? srcdir : ".";
  return root + "/" + (workspace ? workspace : "tubo") + "/tests/cpython_peer.py";
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

}  // namespace tubo_test

#endif  // TUBO_TESTS_CPYTHON_PEER_H_
