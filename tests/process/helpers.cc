// Helper children (TUBO_ENTRY points) and helpers for the process-layer tests.
#include "tests/process/helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/test_util.h"
#include "tubo/channel.h"
#include "tubo/entry.h"
#include "tubo/pipe.h"

namespace tubo {
namespace testing {

std::string ReadAll(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string out;
  char buf[4096];
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      ADD_FAILURE() << "no end of stream on fd " << fd << " within " << timeout
                    << "; got so far: \"" << out << "\"";
      return out;
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ADD_FAILURE() << "read fd " << fd << ": " << std::strerror(errno);
      return out;
    }
    if (r == 0) return out;
    out.append(buf, static_cast<size_t>(r));
  }
}

bool SeesEofWithin(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  for (;;) {
    absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r == 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

std::string RunAndCapture(Command cmd, std::optional<ExitStatus>* status) {
  tubo_test::RawPipe out = tubo_test::MakeRawPipe();
  absl::StatusOr<Process> p = cmd.Stdout(Stdio::Fd(std::move(out.write))).Spawn();
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    return "";
  }
  std::string text = ReadAll(out.read.get());
  absl::StatusOr<ExitStatus> st = p->Wait();
  EXPECT_TRUE(st.ok()) << st.status();
  if (status != nullptr && st.ok()) *status = *st;
  return text;
}

namespace {

std::string LineAfter(const std::string& output, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StartsWith(line, prefix)) return std::string(line.substr(prefix.size()));
  }
  return "<no line " + prefix + ">";
}

}  // namespace

std::vector<int> ParseFdList(const std::string& output) {
  std::vector<int> fds;
  for (absl::string_view f : absl::StrSplit(LineAfter(output, "fds: "), ' ', absl::SkipEmpty())) {
    int fd;
    if (absl::SimpleAtoi(f, &fd)) fds.push_back(fd);
  }
  return fds;
}

std::string ParseChannels(const std::string& output) { return LineAfter(output, "channels: "); }

std::vector<int> OpenFds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int self = ::dirfd(dir);
  while (struct dirent* e = ::readdir(dir)) {
    int fd;
    if (absl::SimpleAtoi(e->d_name, &fd) && fd != self) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

bool HasNoChildren() {
  siginfo_t info = {};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

bool GoneWithin(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string path = absl::StrCat("/proc/", pid);
  while (::access(path.c_str(), F_OK) == 0) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

std::string PackageFile(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "tubo", "/", name);
}

std::string EchoWorkerPath() { return PackageFile("examples/cpp/echo_worker"); }

}  // namespace testing
}  // namespace tubo

namespace {

int Die(const std::string& what) {
  std::fprintf(stderr, "helper: %s\n", what.c_str());
  return 100;
}

}  // namespace

TUBO_ENTRY(list_fds) {
  std::vector<int> fds = tubo::testing::OpenFds();
  const char* channels = std::getenv(tubo::kChannelsEnvVar);
  std::printf("fds: %s\nchannels: %s\n", absl::StrJoin(fds, " ").c_str(),
              channels != nullptr ? channels : "");
  return 0;
}

TUBO_ENTRY(exit_with) {
  int code = 0;
  if (args.empty() || !absl::SimpleAtoi(args[0], &code)) return Die("exit_with N");
  return code;
}

TUBO_ENTRY(sleep_forever) {
  for (;;) ::pause();
}

TUBO_ENTRY(ignore_term) {
  ::signal(SIGTERM, SIG_IGN);
  absl::StatusOr<tubo::WriteEnd> ready = tubo::TakeWriteEnd("ready");
  if (!ready.ok()) return Die(ready.status().ToString());
  if (!ready->Send("ready").ok()) return Die("send ready");
  for (;;) ::pause();
}

TUBO_ENTRY(signal_state) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "SigBlk:") || absl::StartsWith(line, "SigIgn:")) {
      std::printf("%s\n", line.c_str());
    }
  }
  return 0;
}

namespace {

template <typename In, typename Out>
int EchoFrames(In& in, Out& out) {
  in.set_max_message_size(UINT64_MAX);
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = in.Recv();
    if (!m.ok()) return Die(m.status().ToString());
    if (!*m) return 0;
    absl::Status s = out.Send((*m)->view());
    if (!s.ok()) return Die(s.ToString());
  }
}

}  // namespace

TUBO_ENTRY(echo) {
  const char* spec = std::getenv(tubo::kChannelsEnvVar);
  if (spec != nullptr && absl::StrContains(spec, "io:")) {
    absl::StatusOr<tubo::DuplexEnd> io = tubo::TakeDuplexEnd("io");
    if (!io.ok()) return Die(io.status().ToString());
    return EchoFrames(*io, *io);
  }
  absl::StatusOr<tubo::ReadEnd> in = tubo::TakeReadEnd("in");
  if (!in.ok()) return Die(in.status().ToString());
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok()) return Die(out.status().ToString());
  return EchoFrames(*in, *out);
}

TUBO_ENTRY(die_mid_message) {
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok()) return Die(out.status().ToString());
  if (!out->Send("a whole message").ok()) return Die("send");
  absl::StatusOr<tubo::OwnedFd> fd = out->Release();
  if (!fd.ok()) return Die("release");
  // A header announcing 100 bytes, then only 10 of them.
  const char partial[] =
      "\x00\x00\x00\x64"
      "0123456789";
  if (::write(fd->get(), partial, sizeof partial - 1) != sizeof partial - 1) return Die("write");
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

TUBO_ENTRY(print_args) {
  for (const std::string& a : args) std::printf("%s\n", a.c_str());
  return 0;
}

TUBO_ENTRY(print_env) {
  for (const std::string& name : args) {
    const char* value = std::getenv(name.c_str());
    if (value != nullptr) {
      std::printf("%s=%s\n", name.c_str(), value);
    } else {
      std::printf("%s unset\n", name.c_str());
    }
  }
  return 0;
}

TUBO_ENTRY(print_cwd) {
  char buf[4096];
  if (::getcwd(buf, sizeof buf) == nullptr) return Die("getcwd");
  std::printf("%s\n", buf);
  return 0;
}

TUBO_ENTRY(printf_then_fork) {
  // stdout is a pipe, so fully buffered: without a flush before fork, the
  // child would inherit "before|" and print it a second time.
  std::printf("before|");
  std::cout << "cout|";
  absl::StatusOr<tubo::Process> child = tubo::Fork([] {
    std::printf("child|");
    std::cout << "cchild|";
    return 0;
  });
  if (!child.ok()) return Die(child.status().ToString());
  absl::StatusOr<tubo::ExitStatus> st = child->Wait();
  if (!st.ok() || !st->success()) return Die("child failed");
  std::printf("after\n");
  return 0;
}
