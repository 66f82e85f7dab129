// WaitSet over processes (pidfds), alone and mixed with ends.
//
// Links only with src/process.cc (Process's destructor and Wait); see the
// `manual` tag in BUILD.bazel.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/error.h"
#include "tubo/pipe.h"
#include "tubo/process.h"
#include "tubo/wait.h"

namespace tubo {
namespace {

using ::tubo_test::NewWaitSet;

std::vector<uint64_t> Keys(std::initializer_list<uint64_t> keys) { return keys; }

std::vector<uint64_t> WaitOk(WaitSet& set, absl::Duration timeout) {
  absl::StatusOr<std::vector<uint64_t>> ready = set.Wait(timeout);
  EXPECT_TRUE(ready.ok()) << ready.status();
  if (!ready.ok()) return {};
  std::sort(ready->begin(), ready->end());
  return *ready;
}

// Forks a child that sleeps `delay`, runs `body` and exits with its result,
// and adopts it as a Process (what the start methods do).
template <typename Body>
Process ForkChild(absl::Duration delay, Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::usleep(static_cast<useconds_t>(absl::ToInt64Microseconds(delay)));
    _exit(body());
  }
  EXPECT_GT(pid, 0);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  EXPECT_GE(pidfd, 0);
  Process process(pid, OwnedFd::Adopt(pidfd));
  process.set_stop_sequence(StopSequence::KillNow());
  return process;
}

TEST(WaitSetProcess, ChildExitWakesTheWait) {
  WaitSet set = NewWaitSet();
  Process child = ForkChild(absl::Milliseconds(200), [] { return 3; });
  ASSERT_TRUE(set.Add(child, 1).ok());
  const absl::Time start = absl::Now();
  EXPECT_EQ(WaitOk(set, absl::Seconds(10)), Keys({1}));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  absl::StatusOr<ExitStatus> status = child.Wait();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ExitStatus::Exited(3));
}

TEST(WaitSetProcess, RunningChildIsNotReady) {
  WaitSet set = NewWaitSet();
  Process child = ForkChild(absl::Seconds(30), [] { return 0; });
  ASSERT_TRUE(set.Add(child, 1).ok());
  EXPECT_EQ(WaitOk(set, absl::Milliseconds(100)), Keys({}));
  ASSERT_TRUE(child.Kill().ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(10)), Keys({1}));
  absl::StatusOr<ExitStatus> status = child.Wait();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, ExitStatus::Signaled(SIGKILL));
}

TEST(WaitSetProcess, ReapedProcessIsAlwaysReady) {
  WaitSet set = NewWaitSet();
  Process child = ForkChild(absl::ZeroDuration(), [] { return 0; });
  ASSERT_TRUE(child.Wait().ok());
  ASSERT_FALSE(child.owns_child());
  ASSERT_TRUE(set.Add(child, 8).ok());
  EXPECT_EQ(WaitOk(set, absl::InfiniteDuration()), Keys({8}));
  EXPECT_TRUE(set.Remove(8).ok());
}

TEST(WaitSetProcess, ProcessReapedAfterAddIsReady) {
  WaitSet set = NewWaitSet();
  Process child = ForkChild(absl::ZeroDuration(), [] { return 0; });
  ASSERT_TRUE(set.Add(child, 8).ok());
  ASSERT_TRUE(child.Wait().ok());  // closes the pidfd: epoll forgets it
  EXPECT_EQ(WaitOk(set, absl::Seconds(10)), Keys({8}));
  EXPECT_TRUE(set.Remove(8).ok());
}

TEST(WaitSetProcess, ProcessReapedAfterAnEarlierWaitIsReady) {
  WaitSet set = NewWaitSet();
  Process child = ForkChild(absl::Seconds(30), [] { return 0; });
  ASSERT_TRUE(set.Add(child, 8).ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(child.Kill().ok());
  ASSERT_TRUE(child.Wait().ok());  // reaped between two waits
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({8}));
}

TEST(WaitSetProcess, EmptyHandleIsAnError) {
  WaitSet set = NewWaitSet();
  Process empty;
  EXPECT_EQ(ErrorOf(set.Add(empty, 1)), Error::kClosed);
  EXPECT_EQ(set.size(), 0u);
}

TEST(WaitSetProcess, DuplicateKeyIsAnError) {
  WaitSet set = NewWaitSet();
  Process child = ForkChild(absl::ZeroDuration(), [] { return 0; });
  Pipe pipe = *Pipe::Create();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  EXPECT_EQ(ErrorOf(set.Add(child, 1)), Error::kInvalidArgument);
  ASSERT_TRUE(child.Wait().ok());
}

TEST(WaitSetProcess, EndsAndProcessesTogether) {
  WaitSet set = NewWaitSet();
  Pipe pipe = *Pipe::Create();
  Process writer = ForkChild(absl::Milliseconds(100),
                             [&pipe] { return pipe.writer.Send("from the child").ok() ? 0 : 1; });
  Process sleeper = ForkChild(absl::Seconds(30), [] { return 0; });
  ASSERT_TRUE(pipe.writer.Close().ok());
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  ASSERT_TRUE(set.Add(writer, 2).ok());
  ASSERT_TRUE(set.Add(sleeper, 3).ok());

  // The message first (or with the exit), never the sleeper.
  std::vector<uint64_t> ready = WaitOk(set, absl::Seconds(10));
  ASSERT_FALSE(ready.empty());
  EXPECT_EQ(std::count(ready.begin(), ready.end(), 3), 0);
  absl::StatusOr<ExitStatus> status = writer.Wait();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->success());
  EXPECT_EQ(WaitOk(set, absl::Seconds(10)), Keys({1, 2}));
  // Without the ready ones, the wait blocks until the sleeper is killed.
  ASSERT_TRUE(set.Remove(1).ok());
  ASSERT_TRUE(set.Remove(2).ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(sleeper.Kill().ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(10)), Keys({3}));
}

}  // namespace
}  // namespace tubo
