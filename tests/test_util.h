// The helpers shared by the test suites, defined here once: forked children
// and their wait statuses, pipes (framed and raw), wait sets, pattern
// messages, raw frames, descriptor checks, status messages, temporary paths.
#ifndef TUBO_TESTS_TEST_UTIL_H_
#define TUBO_TESTS_TEST_UTIL_H_

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tubo/tubo.h"

namespace tubo_test {

// Forks; the child runs `body` and `_exit`s with its result (so none of the
// parent's destructors run in it). Returns the child's pid.
inline pid_t ForkChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    int code = 1;
    try {
      code = body();
    } catch (...) {
      code = 99;
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  return pid;
}

// Waits for `pid` and returns its wait status.
inline int WaitStatus(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// Describes a wait status, for failure messages.
inline std::string DescribeStatus(int status) {
  if (status == -1) return "waitpid failed";
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Waits for `pid` and expects a clean exit with code 0.
#define EXPECT_CHILD_OK(pid) \
  EXPECT_EQ(::tubo_test::DescribeStatus(::tubo_test::WaitStatus(pid)), "exited 0")

// In a child: reports a failed check on stderr and returns `code` from `body`.
#define CHILD_CHECK(cond, code)                                                             \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "child check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      return code;                                                                          \
    }                                                                                       \
  } while (0)

// A deterministic test message: byte i is (i + seed) % 251, so messages of
// different sizes differ and a shifted or dropped run of bytes shows.
inline std::string Pattern(size_t size, size_t seed = 0) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i + seed) % 251);
  return s;
}

// True if `data` is exactly Pattern(data.size(), seed).
inline bool IsPattern(std::string_view data, size_t seed = 0) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (static_cast<unsigned char>(data[i]) != (i + seed) % 251) return false;
  }
  return true;
}

// Writes all of `bytes` to the raw descriptor `fd` with write(2).
inline bool WriteRaw(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A contract-1 header: 4 bytes big-endian signed.
inline std::string Header4(int32_t length) {
  uint32_t u = static_cast<uint32_t>(length);
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(u >> (24 - 8 * i));
  return h;
}

// A contract-1 header in the 8-byte form: ff ff ff ff, then big-endian size.
inline std::string Header12(uint64_t size) {
  std::string h = Header4(-1);
  for (int i = 0; i < 8; ++i) h.push_back(static_cast<char>(size >> (56 - 8 * i)));
  return h;
}

// A new simplex pipe; aborts if none can be created.
inline tubo::Pipe NewPipe() {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  if (!pipe.ok()) {
    std::fprintf(stderr, "Pipe::Create: %s\n", pipe.status().ToString().c_str());
    std::abort();
  }
  return std::move(*pipe);
}

// A new duplex pipe (a socketpair); aborts if none can be created.
inline tubo::DuplexPipe NewDuplex() {
  absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
  if (!pipe.ok()) {
    std::fprintf(stderr, "DuplexPipe::Create: %s\n", pipe.status().ToString().c_str());
    std::abort();
  }
  return std::move(*pipe);
}

// A new wait set; fails the test if none can be created.
inline tubo::WaitSet NewWaitSet() {
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  EXPECT_TRUE(set.ok()) << set.status();
  return *std::move(set);
}

// A raw pipe (not framed): both ends close-on-exec unless `cloexec` is false.
struct RawPipe {
  tubo::OwnedFd read;
  tubo::OwnedFd write;
};

// A new raw pipe; aborts if none can be created.
inline RawPipe MakeRawPipe(bool cloexec = true) {
  int fds[2];
  if (::pipe2(fds, cloexec ? O_CLOEXEC : 0) != 0) {
    std::perror("pipe2");
    std::abort();
  }
  return RawPipe{tubo::OwnedFd::Adopt(fds[0]), tubo::OwnedFd::Adopt(fds[1])};
}

// Expects `m` to hold a message equal to `want`.
inline void ExpectMessage(const absl::StatusOr<std::optional<tubo::Bytes>>& m,
                          std::string_view want) {
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_value()) << "EOF instead of a message";
  EXPECT_EQ((*m)->view(), want);
}

// Expects `m` to be end of stream.
inline void ExpectEof(const absl::StatusOr<std::optional<tubo::Bytes>>& m) {
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->has_value()) << "a message instead of EOF";
}

// Whether `status`'s message contains `part`.
inline ::testing::AssertionResult MessageHas(const absl::Status& status, const std::string& part) {
  if (absl::StrContains(status.message(), part)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << status.message() << "\" lacks \"" << part << "\"";
}

// A file path in the test's temporary directory.
inline std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

// The stress suite's counts and durations: `full` scaled by
// TUBO_STRESS_SCALE (0.1 shortens a run, for trying things out; the
// documented command runs the full figures), at least 1.
inline int StressScaled(int full) {
  const char* s = std::getenv("TUBO_STRESS_SCALE");
  const double scale = s != nullptr ? std::atof(s) : 1.0;
  return std::max(1, static_cast<int>(full * scale));
}

// Prints one figure of the stress suite, as a line "STRESS <figure>".
#define STRESS_FIGURE(...)              \
  do {                                  \
    std::printf("STRESS " __VA_ARGS__); \
    std::printf("\n");                  \
    std::fflush(stdout);                \
  } while (0)

// True if `fd` is an open descriptor.
inline bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// True if `fd` is closed (fcntl fails with EBADF).
inline bool IsClosed(int fd) { return ::fcntl(fd, F_GETFD) < 0 && errno == EBADF; }

// True if `fd` has FD_CLOEXEC set.
inline bool IsCloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

}  // namespace tubo_test

#endif  // TUBO_TESTS_TEST_UTIL_H_
