// WaitSet over ends: what counts as ready, timeouts, and the bookkeeping.
#include "tubo/wait.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/error.h"
#include "tubo/pipe.h"

namespace tubo {
namespace {

using ::tubo_test::NewPipe;
using ::tubo_test::NewWaitSet;

std::vector<uint64_t> Keys(std::initializer_list<uint64_t> keys) { return keys; }

std::vector<uint64_t> Sorted(std::vector<uint64_t> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

// True if poll(2) says `fd` has something to read right now.
bool KernelSaysReadable(int fd) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 1;
}

std::vector<uint64_t> WaitOk(WaitSet& set, absl::Duration timeout) {
  absl::StatusOr<std::vector<uint64_t>> ready = set.Wait(timeout);
  EXPECT_TRUE(ready.ok()) << ready.status();
  return ready.ok() ? Sorted(*ready) : std::vector<uint64_t>{};
}

TEST(WaitSet, CreateGivesAnEmptySet) {
  WaitSet set = NewWaitSet();
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
}

TEST(WaitSet, NothingReadyTimesOut) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  const absl::Time start = absl::Now();
  EXPECT_EQ(WaitOk(set, absl::Milliseconds(150)), Keys({}));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(140));
}

TEST(WaitSet, ZeroTimeoutOnlyLooks) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(pipe.writer.Send("x").ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({1}));
}

TEST(WaitSet, NegativeTimeoutOnlyLooks) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(-1)), Keys({}));
}

TEST(WaitSet, ReportsExactlyTheReadyEnd) {
  WaitSet set = NewWaitSet();
  std::vector<Pipe> pipes;
  for (int i = 0; i < 8; ++i) pipes.push_back(NewPipe());
  for (uint64_t i = 0; i < pipes.size(); ++i) ASSERT_TRUE(set.Add(pipes[i].reader, 100 + i).ok());
  ASSERT_TRUE(pipes[5].writer.Send("five").ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({105}));
}

TEST(WaitSet, ReportsEveryReadyEnd) {
  WaitSet set = NewWaitSet();
  std::vector<Pipe> pipes;
  for (int i = 0; i < 6; ++i) pipes.push_back(NewPipe());
  for (uint64_t i = 0; i < pipes.size(); ++i) ASSERT_TRUE(set.Add(pipes[i].reader, i).ok());
  ASSERT_TRUE(pipes[1].writer.Send("a").ok());
  ASSERT_TRUE(pipes[4].writer.Send("b").ok());
  ASSERT_TRUE(pipes[5].writer.Close().ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({1, 4, 5}));
}

TEST(WaitSet, NothingIsConsumed) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 7).ok());
  ASSERT_TRUE(pipe.writer.Send("kept").ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({7}));
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({7}));  // level-triggered
  absl::StatusOr<std::optional<Bytes>> m = pipe.reader.Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "kept");
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
}

TEST(WaitSet, EndOfStreamCountsAsReady) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 3).ok());
  ASSERT_TRUE(pipe.writer.Close().ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({3}));
}

TEST(WaitSet, DuplexEndReadyWhenPeerSends) {
  WaitSet set = NewWaitSet();
  absl::StatusOr<DuplexPipe> duplex = DuplexPipe::Create();
  ASSERT_TRUE(duplex.ok());
  ASSERT_TRUE(set.Add(duplex->first, 1).ok());
  ASSERT_TRUE(set.Add(duplex->second, 2).ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(duplex->first.Send("to second").ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({2}));
}

TEST(WaitSet, DuplexEndReadyAfterPeerShutsDownWrite) {
  WaitSet set = NewWaitSet();
  absl::StatusOr<DuplexPipe> duplex = DuplexPipe::Create();
  ASSERT_TRUE(duplex.ok());
  ASSERT_TRUE(set.Add(duplex->second, 2).ok());
  ASSERT_TRUE(duplex->first.CloseWrite().ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({2}));
}

TEST(WaitSet, ReadAheadCountsAsReady) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 9).ok());
  ASSERT_TRUE(pipe.writer.Send("one").ok());
  ASSERT_TRUE(pipe.writer.Send("two").ok());
  absl::StatusOr<std::optional<Bytes>> m = pipe.reader.Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "one");
  // The trap: both frames came in with one read, so the kernel has nothing.
  ASSERT_FALSE(KernelSaysReadable(pipe.reader.fd().get()));
  const absl::Time start = absl::Now();
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({9}));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({9}));
}

TEST(WaitSet, ReadAheadLeftAfterAnEarlierWaitCountsAsReady) {
  // The set caches what it found ready in user space between waits; a
  // receive that leaves read-ahead must still be seen by the next wait.
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  Pipe other = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 9).ok());
  ASSERT_TRUE(set.Add(other.reader, 10).ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(pipe.writer.Send("one").ok());
  ASSERT_TRUE(pipe.writer.Send("two").ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({9}));
  ASSERT_TRUE(pipe.reader.Recv().ok());
  ASSERT_FALSE(KernelSaysReadable(pipe.reader.fd().get()));
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({9}));
  ASSERT_TRUE(pipe.reader.Recv().ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
}

TEST(WaitSet, EndClosedAfterAnEarlierWaitIsReady) {
  WaitSet set = NewWaitSet();
  Pipe first = NewPipe();
  Pipe second = NewPipe();
  ASSERT_TRUE(set.Add(first.reader, 1).ok());
  ASSERT_TRUE(set.Add(second.reader, 2).ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(second.reader.Close().ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({2}));
}

TEST(WaitSet, ReadAheadDrainedIsNotReady) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 9).ok());
  ASSERT_TRUE(pipe.writer.Send("one").ok());
  ASSERT_TRUE(pipe.writer.Send("two").ok());
  ASSERT_TRUE(pipe.reader.Recv().ok());
  ASSERT_TRUE(pipe.reader.Recv().ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
}

TEST(WaitSet, ReadAheadInDuplexEndCountsAsReady) {
  WaitSet set = NewWaitSet();
  absl::StatusOr<DuplexPipe> duplex = DuplexPipe::Create();
  ASSERT_TRUE(duplex.ok());
  ASSERT_TRUE(set.Add(duplex->second, 4).ok());
  ASSERT_TRUE(duplex->first.Send("one").ok());
  ASSERT_TRUE(duplex->first.Send("two").ok());
  ASSERT_TRUE(duplex->second.Recv().ok());
  ASSERT_FALSE(KernelSaysReadable(duplex->second.fd().get()));
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({4}));
}

TEST(WaitSet, ReadAheadAndReadableReportTheKeyOnce) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 9).ok());
  ASSERT_TRUE(pipe.writer.Send("one").ok());
  ASSERT_TRUE(pipe.writer.Send("two").ok());
  ASSERT_TRUE(pipe.reader.Recv().ok());
  ASSERT_TRUE(pipe.writer.Send("three").ok());
  ASSERT_TRUE(KernelSaysReadable(pipe.reader.fd().get()));
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({9}));
}

TEST(WaitSet, HeaderLeftByTooSmallRecvIntoCountsAsReady) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 2).ok());
  ASSERT_TRUE(pipe.writer.Send(std::string(100, 'x')).ok());
  char small[10];
  absl::StatusOr<RecvResult> r = pipe.reader.RecvInto(small, sizeof small);
  ASSERT_TRUE(r.ok() && r->too_small());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({2}));
}

TEST(WaitSet, StickyFramingErrorCountsAsReady) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 5).ok());
  const unsigned char bad_header[4] = {0xff, 0xff, 0xff, 0xfe};  // length -2
  ASSERT_EQ(::write(pipe.writer.fd().get(), bad_header, 4), 4);
  absl::StatusOr<std::optional<Bytes>> m = pipe.reader.Recv();
  ASSERT_FALSE(m.ok());
  ASSERT_EQ(ErrorOf(m.status()), Error::kBadLength);
  ASSERT_FALSE(KernelSaysReadable(pipe.reader.fd().get()));
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({5}));
}

TEST(WaitSet, RemoveStopsWatching) {
  WaitSet set = NewWaitSet();
  Pipe a = NewPipe();
  Pipe b = NewPipe();
  ASSERT_TRUE(set.Add(a.reader, 1).ok());
  ASSERT_TRUE(set.Add(b.reader, 2).ok());
  ASSERT_TRUE(a.writer.Send("a").ok());
  ASSERT_TRUE(b.writer.Send("b").ok());
  ASSERT_TRUE(set.Remove(1).ok());
  EXPECT_EQ(set.size(), 1u);
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({2}));
}

TEST(WaitSet, RemovedEndCanBeAddedAgain) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  ASSERT_TRUE(set.Remove(1).ok());
  ASSERT_TRUE(set.Add(pipe.reader, 2).ok());
  ASSERT_TRUE(pipe.writer.Send("x").ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({2}));
}

TEST(WaitSet, RemoveUnknownKeyIsAnError) {
  WaitSet set = NewWaitSet();
  absl::Status s = set.Remove(42);
  EXPECT_EQ(ErrorOf(s), Error::kInvalidArgument) << s;
}

TEST(WaitSet, DuplicateKeyIsAnError) {
  WaitSet set = NewWaitSet();
  Pipe a = NewPipe();
  Pipe b = NewPipe();
  ASSERT_TRUE(set.Add(a.reader, 1).ok());
  absl::Status s = set.Add(b.reader, 1);
  EXPECT_EQ(ErrorOf(s), Error::kInvalidArgument) << s;
  EXPECT_EQ(set.size(), 1u);
  // The refused end was not registered either.
  ASSERT_TRUE(b.writer.Send("b").ok());
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
}

TEST(WaitSet, SameEndUnderTwoKeysIsAnError) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  absl::Status s = set.Add(pipe.reader, 2);
  EXPECT_EQ(ErrorOf(s), Error::kInvalidArgument) << s;
  EXPECT_EQ(set.size(), 1u);
}

TEST(WaitSet, AddingAClosedEndIsAnError) {
  WaitSet set = NewWaitSet();
  ReadEnd closed_read;
  EXPECT_EQ(ErrorOf(set.Add(closed_read, 1)), Error::kClosed);
  DuplexEnd closed_duplex;
  EXPECT_EQ(ErrorOf(set.Add(closed_duplex, 2)), Error::kClosed);
  EXPECT_EQ(set.size(), 0u);
}

TEST(WaitSet, EndClosedAfterAddIsReady) {
  // Its receive calls fail at once (Error::kClosed), so waiting must not block.
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  ASSERT_TRUE(pipe.reader.Close().ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({1}));
  EXPECT_TRUE(set.Remove(1).ok());
  EXPECT_EQ(set.size(), 0u);
}

TEST(WaitSet, MovedSetKeepsItsEntries) {
  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  WaitSet moved = std::move(set);
  ASSERT_TRUE(pipe.writer.Send("x").ok());
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(WaitOk(moved, absl::Seconds(5)), Keys({1}));
}

TEST(WaitSet, OneReadyAmong1024Ends) {
  // 1024 pipes need 2048 descriptors plus a few.
  struct rlimit limit;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur < 2200) GTEST_SKIP() << "RLIMIT_NOFILE too low: " << limit.rlim_cur;
  }
  WaitSet set = NewWaitSet();
  std::vector<Pipe> pipes;
  pipes.reserve(1024);
  for (int i = 0; i < 1024; ++i) pipes.push_back(NewPipe());
  for (uint64_t i = 0; i < pipes.size(); ++i) ASSERT_TRUE(set.Add(pipes[i].reader, i).ok());
  EXPECT_EQ(set.size(), 1024u);
  EXPECT_EQ(WaitOk(set, absl::ZeroDuration()), Keys({}));
  ASSERT_TRUE(pipes[777].writer.Send("the one").ok());
  EXPECT_EQ(WaitOk(set, absl::Seconds(5)), Keys({777}));
}

TEST(WaitSet, ForkedChildWritingLaterWakesTheWait) {
  WaitSet set = NewWaitSet();
  Pipe quiet = NewPipe();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(quiet.reader, 1).ok());
  ASSERT_TRUE(set.Add(pipe.reader, 2).ok());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::usleep(200 * 1000);
    _exit(pipe.writer.Send("late").ok() ? 0 : 1);
  }
  const absl::Time start = absl::Now();
  EXPECT_EQ(WaitOk(set, absl::InfiniteDuration()), Keys({2}));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  absl::StatusOr<std::optional<Bytes>> m = pipe.reader.Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "late");
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void IgnoreAlarm(int) {}

TEST(WaitSet, SignalsDoNotCutTheTimeoutShort) {
  // SIGALRM every 10 ms interrupts epoll_wait (EINTR, never restarted); the
  // wait must retry and still last the whole timeout.
  struct sigaction action = {};
  action.sa_handler = IgnoreAlarm;
  struct sigaction old_action;
  ASSERT_EQ(::sigaction(SIGALRM, &action, &old_action), 0);
  struct itimerval timer = {{0, 10000}, {0, 10000}};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &timer, nullptr), 0);

  WaitSet set = NewWaitSet();
  Pipe pipe = NewPipe();
  ASSERT_TRUE(set.Add(pipe.reader, 1).ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<uint64_t>> ready = set.Wait(absl::Milliseconds(200));
  const absl::Duration elapsed = absl::Now() - start;

  struct itimerval off = {};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &old_action, nullptr);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(ready->empty());
  EXPECT_GE(elapsed, absl::Milliseconds(190));
}

}  // namespace
}  // namespace tubo
