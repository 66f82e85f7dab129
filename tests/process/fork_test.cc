// The fork start method: a callable in a forked child. A binary of its own,
// because Fork refuses a parent that runs other threads.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/process/helpers.h"
#include "tests/test_util.h"
#include "tubo/error.h"
#include "tubo/pipe.h"
#include "tubo/spawn.h"

namespace tubo {
namespace {

using ::tubo::testing::ReadAll;
using ::tubo::testing::RunAndCapture;
using ::tubo_test::MakeRawPipe;
using ::tubo_test::MessageHas;
using ::tubo_test::NewPipe;
using ::tubo_test::RawPipe;

// The next message on `end` (nullopt at EOF), failing rather than hanging.
std::optional<std::string> Next(ReadEnd& end) {
  absl::StatusOr<bool> ready = end.Poll(absl::Seconds(20));
  EXPECT_TRUE(ready.ok() && *ready) << "nothing within 20 s";
  if (!ready.ok() || !*ready) return "<timeout>";
  absl::StatusOr<std::optional<Bytes>> m = end.Recv();
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return "<error>";
  if (!*m) return std::nullopt;
  return (*m)->str();
}

ExitStatus MustWait(absl::StatusOr<Process>& p) {
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return ExitStatus::Exited(-1);
  absl::StatusOr<ExitStatus> st = p->Wait();
  EXPECT_TRUE(st.ok()) << st.status();
  return st.ok() ? *st : ExitStatus::Exited(-1);
}

// Runs `fn` with this process's stderr sent into a pipe; returns what was written.
template <typename Fn>
std::string CaptureStderr(Fn fn) {
  RawPipe err = MakeRawPipe();
  const int saved = ::dup(2);
  ::dup2(err.write.get(), 2);
  fn();
  ::dup2(saved, 2);
  ::close(saved);
  err.write.Reset();
  return ReadAll(err.read.get());
}

TEST(Fork, ChildSeesOnlyStdioAndItsEnds) {
  // Unrelated descriptors without close-on-exec: a forked child keeps them
  // unless tubo closes them.
  int null_fd = ::open("/dev/null", O_RDONLY);
  int raw[2];
  ASSERT_EQ(::pipe(raw), 0);
  Pipe result = NewPipe();
  Pipe other = NewPipe();
  std::vector<int> expected = {0, 1, 2, result.writer.fd().get(), other.reader.fd().get()};
  std::sort(expected.begin(), expected.end());
  absl::StatusOr<Process> p = Fork(
      [](WriteEnd out, ReadEnd) {
        return out.Send(absl::StrJoin(::tubo::testing::OpenFds(), " ")).ok() ? 0 : 1;
      },
      std::move(result.writer), std::move(other.reader));
  EXPECT_EQ(Next(result.reader), absl::StrJoin(expected, " "));
  EXPECT_EQ(MustWait(p), ExitStatus::Exited(0));
  ::close(null_fd);
  ::close(raw[0]);
  ::close(raw[1]);
}

TEST(Fork, ConsumesTheEnds) {
  Pipe p = NewPipe();
  absl::StatusOr<Process> child =
      Fork([](WriteEnd out) { out.Send("hi").IgnoreError(); }, std::move(p.writer));
  EXPECT_FALSE(p.writer.is_open());
  EXPECT_EQ(Next(p.reader), "hi");
  EXPECT_EQ(Next(p.reader), std::nullopt);  // EOF: the parent kept no copy
  EXPECT_EQ(MustWait(child), ExitStatus::Exited(0));
}

TEST(Fork, ReturnValueIsTheExitCode) {
  absl::StatusOr<Process> p = Fork([] { return 7; });
  EXPECT_EQ(MustWait(p), ExitStatus::Exited(7));
}

TEST(Fork, VoidCallableExitsZero) {
  absl::StatusOr<Process> p = Fork([] {});
  EXPECT_EQ(MustWait(p), ExitStatus::Exited(0));
}

TEST(Fork, EscapingExceptionPrintsItsMessageAndExitsOne) {
  std::optional<ExitStatus> st;
  std::string err = CaptureStderr([&] {
    absl::StatusOr<Process> p = Fork([]() -> int { throw std::runtime_error("boom in child"); });
    st = MustWait(p);
  });
  EXPECT_EQ(st, ExitStatus::Exited(1));
  EXPECT_TRUE(absl::StrContains(err, "boom in child")) << err;
}

TEST(Fork, StdioIsFlushedBeforeForkSoNothingPrintsTwice) {
  // In a child of the test whose stdout is a pipe (fully buffered).
  std::optional<ExitStatus> st;
  std::string out = RunAndCapture(Command::Self("printf_then_fork"), &st);
  EXPECT_EQ(out, "before|cout|child|cchild|after\n");
  EXPECT_EQ(st, ExitStatus::Exited(0));
}

TEST(Fork, BufferedMessagesOfAnEndLeaveOnce) {
  Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(4096).ok());
  ASSERT_TRUE(p.writer.Send("buffered by the parent").ok());
  absl::StatusOr<Process> child =
      Fork([](WriteEnd out) { out.Send("from the child").IgnoreError(); }, std::move(p.writer));
  EXPECT_EQ(Next(p.reader), "buffered by the parent");
  EXPECT_EQ(Next(p.reader), "from the child");
  EXPECT_EQ(Next(p.reader), std::nullopt);
  EXPECT_EQ(MustWait(child), ExitStatus::Exited(0));
}

void Handler(int) {}

TEST(Fork, ChildStartsWithDefaultSignalsAndEmptyMask) {
  sighandler_t old_int = ::signal(SIGINT, SIG_IGN);
  sighandler_t old_usr2 = ::signal(SIGUSR2, Handler);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  Pipe p = NewPipe();
  absl::StatusOr<Process> child = Fork(
      [](WriteEnd out) {
        std::ifstream status("/proc/self/status");
        std::string line, state;
        while (std::getline(status, line)) {
          if (absl::StartsWith(line, "SigBlk:") || absl::StartsWith(line, "SigIgn:") ||
              absl::StartsWith(line, "SigCgt:")) {
            state += line + "\n";
          }
        }
        out.Send(state).IgnoreError();
      },
      std::move(p.writer));
  ::signal(SIGINT, old_int);
  ::signal(SIGUSR2, old_usr2);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  const std::string state = Next(p.reader).value_or("");
  EXPECT_EQ(state.rfind("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", 0), 0u) << state;
  // Handlers glibc installs for its reserved signals (32 .. SIGRTMIN-1; a
  // sanitizer runtime makes glibc install them) stay, as ResetSignals intends:
  // the child's own glibc relies on them. No handler of the program remains.
  const size_t at = state.find("SigCgt:\t");
  ASSERT_NE(at, std::string::npos) << state;
  uint64_t caught = std::stoull(state.substr(at + 8, 16), nullptr, 16);
  for (int sig = 32; sig < SIGRTMIN; ++sig) caught &= ~(uint64_t{1} << (sig - 1));
  EXPECT_EQ(caught, 0u) << state;
  EXPECT_EQ(MustWait(child), ExitStatus::Exited(0));
}

TEST(Fork, KilledChildReportsTheSignal) {
  absl::StatusOr<Process> p = Fork([] {
    for (;;) ::pause();
  });
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->Kill().ok());
  EXPECT_EQ(MustWait(p), ExitStatus::Signaled(SIGKILL));
}

// A second thread, blocked until the object is destroyed.
class BlockedThread {
 public:
  BlockedThread()
      : thread_([this] {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [this] { return done_; });
        }) {}
  ~BlockedThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

TEST(Fork, RefusedInAMultithreadedParentNamingTheAlternatives) {
  BlockedThread other;
  Pipe p = NewPipe();
  absl::StatusOr<Process> child = Fork([](WriteEnd) { return 0; }, std::move(p.writer));
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(ErrorOf(child.status()), Error::kSpawn) << child.status();
  EXPECT_TRUE(MessageHas(child.status(), "Command::Self"));
  EXPECT_TRUE(MessageHas(child.status(), "tubo::Command"));
  EXPECT_TRUE(MessageHas(child.status(), "allow_threads"));
  // A refused fork consumed the end all the same.
  EXPECT_EQ(Next(p.reader), std::nullopt);
}

TEST(Fork, AllowedInAMultithreadedParentWhenOptedIn) {
  BlockedThread other;
  absl::StatusOr<Process> child = Fork(ForkOptions{/*allow_threads=*/true}, [] { return 3; });
  EXPECT_EQ(MustWait(child), ExitStatus::Exited(3));
}

}  // namespace
}  // namespace tubo
