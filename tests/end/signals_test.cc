// Signals around I/O: a write to a reader that is gone is an error, not a
// SIGPIPE; an interrupting signal handler (no SA_RESTART) causes no
// spurious failure.
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ForkChild;
using tubo_test::IsPattern;
using tubo_test::Pattern;

// The thread's signal mask, SIGPIPE's disposition and pending state, before
// and after: tubo must leave all three as they were.
struct SignalState {
  sigset_t mask;
  struct sigaction pipe_action;
  bool pipe_pending;

  static SignalState Now() {
    SignalState s;
    pthread_sigmask(SIG_BLOCK, nullptr, &s.mask);
    sigaction(SIGPIPE, nullptr, &s.pipe_action);
    sigset_t pending;
    sigpending(&pending);
    s.pipe_pending = sigismember(&pending, SIGPIPE) == 1;
    return s;
  }
};

void ExpectUnchanged(const SignalState& before) {
  SignalState after = SignalState::Now();
  for (int sig = 1; sig < NSIG; ++sig) {
    EXPECT_EQ(sigismember(&before.mask, sig), sigismember(&after.mask, sig)) << "signal " << sig;
  }
  EXPECT_EQ(after.pipe_action.sa_handler, SIG_DFL);
  EXPECT_EQ(before.pipe_action.sa_handler, after.pipe_action.sa_handler);
  EXPECT_FALSE(after.pipe_pending);
}

TEST(PeerClosed, PipeSendIsAnErrorAndTheProcessSurvives) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->reader.Close().ok());
  const SignalState before = SignalState::Now();
  ASSERT_EQ(before.pipe_action.sa_handler, SIG_DFL);
  absl::Status s = p->writer.Send("nobody listens");
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
  ExpectUnchanged(before);
  // And again: the end reports the same, still without a signal.
  s = p->writer.Send("still nobody");
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
  ExpectUnchanged(before);
}

TEST(PeerClosed, DuplexSendIsAnErrorAndTheProcessSurvives) {
  absl::StatusOr<tubo::DuplexPipe> d = tubo::DuplexPipe::Create();
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->second.Close().ok());
  const SignalState before = SignalState::Now();
  absl::Status s = d->first.Send("nobody listens");
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
  ExpectUnchanged(before);
}

TEST(PeerClosed, FlushAndCloseOfABufferedEndReportIt) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p->writer.Send("held").ok());
  ASSERT_TRUE(p->reader.Close().ok());
  const SignalState before = SignalState::Now();
  EXPECT_EQ(tubo::ErrorOf(p->writer.Flush()), tubo::Error::kPeerClosed);
  EXPECT_EQ(tubo::ErrorOf(p->writer.Close()), tubo::Error::kPeerClosed);
  EXPECT_FALSE(p->writer.is_open());
  ExpectUnchanged(before);
}

TEST(PeerClosed, DestroyingABufferedEndWithoutReadersIsQuiet) {
  const SignalState before = SignalState::Now();
  {
    absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p->writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
    ASSERT_TRUE(p->writer.Send("held").ok());
    ASSERT_TRUE(p->reader.Close().ok());
  }
  ExpectUnchanged(before);
}

TEST(PeerClosed, ReaderInAnotherProcessExitsMidMessage) {
  // The child reads one message and exits; a large send blocked on the full
  // pipe then fails instead of killing the parent.
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p->writer.Close().IgnoreError();
    absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.Recv();
    CHILD_CHECK(m.ok() && m->has_value(), 2);
    return 0;
  });
  ASSERT_TRUE(p->reader.Close().ok());
  ASSERT_TRUE(p->writer.Send("first").ok());
  const SignalState before = SignalState::Now();
  absl::Status s = p->writer.Send(Pattern(8 << 20));
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
  ExpectUnchanged(before);
  EXPECT_CHILD_OK(pid);
}

TEST(PeerClosed, ACallerThatBlocksSigpipeKeepsItBlocked) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->reader.Close().ok());
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_set, &old), 0);
  absl::Status s = p->writer.Send("x");
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  EXPECT_EQ(sigismember(&now, SIGPIPE), 1);
  // The caller's pending SIGPIPE is the caller's business; consume it here.
  const struct timespec zero = {0, 0};
  sigtimedwait(&pipe_set, nullptr, &zero);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// EINTR

std::atomic<int> g_alarms{0};
void CountAlarm(int) { g_alarms.fetch_add(1, std::memory_order_relaxed); }

// Installs a SIGALRM handler without SA_RESTART and a 100 µs interval timer
// in this process, and restores both on destruction.
class AlarmStorm {
 public:
  AlarmStorm() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_handler = CountAlarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking calls fail with EINTR
    sigaction(SIGALRM, &sa, &old_action_);
    struct itimerval every = {{0, 100}, {0, 100}};
    setitimer(ITIMER_REAL, &every, &old_timer_);
  }
  ~AlarmStorm() {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_action_, nullptr);
    setitimer(ITIMER_REAL, &old_timer_, nullptr);
  }

 private:
  struct sigaction old_action_;
  struct itimerval old_timer_;
};

constexpr size_t kStormSize = (6 << 20) + 1;

TEST(Eintr, PipeSendAndRecvUnderASignalStorm) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  AlarmStorm storm;  // installed before fork: the handler is inherited
  pid_t pid = ForkChild([&] {
    AlarmStorm child_storm;  // interval timers are not inherited
    p->reader.Close().IgnoreError();
    // Sleep first so the parent's Recv blocks (and is interrupted) in read.
    ::usleep(20 * 1000);
    for (int i = 0; i < 3; ++i) CHILD_CHECK(p->writer.Send(Pattern(kStormSize, i)).ok(), 2);
    return 0;
  });
  ASSERT_TRUE(p->writer.Close().ok());
  g_alarms = 0;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.Recv();
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value());
    ASSERT_EQ((*m)->size(), kStormSize);
    EXPECT_TRUE(IsPattern((*m)->view(), i));
  }
  absl::StatusOr<std::optional<tubo::Bytes>> eof = p->reader.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_GT(g_alarms.load(), 0);  // the storm really happened
  EXPECT_CHILD_OK(pid);
}

TEST(Eintr, DuplexSendFromParentUnderASignalStorm) {
  absl::StatusOr<tubo::DuplexPipe> d = tubo::DuplexPipe::Create();
  ASSERT_TRUE(d.ok());
  AlarmStorm storm;
  pid_t pid = ForkChild([&] {
    AlarmStorm child_storm;
    d->first.Close().IgnoreError();
    ::usleep(20 * 1000);  // the parent's send fills the socket and blocks
    std::string buffer(kStormSize, '\0');
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<tubo::RecvResult> r = d->second.RecvInto(buffer.data(), buffer.size());
      CHILD_CHECK(r.ok() && r->message() && r->size == kStormSize, 2);
      CHILD_CHECK(IsPattern(buffer, i), 3);
    }
    CHILD_CHECK(d->second.Send("done").ok(), 4);
    return 0;
  });
  ASSERT_TRUE(d->second.Close().ok());
  g_alarms = 0;
  for (int i = 0; i < 3; ++i) {
    absl::Status s = d->first.Send(Pattern(kStormSize, i));
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::StatusOr<std::optional<tubo::Bytes>> m = d->first.Recv();
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->view(), "done");
  EXPECT_GT(g_alarms.load(), 0);
  EXPECT_CHILD_OK(pid);
}

TEST(Eintr, PollKeepsItsDeadlineUnderASignalStorm) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  AlarmStorm storm;
  g_alarms = 0;
  const absl::Time start = absl::Now();
  absl::StatusOr<bool> ready = p->reader.Poll(absl::Milliseconds(100));
  const absl::Duration waited = absl::Now() - start;
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
  EXPECT_GE(waited, absl::Milliseconds(95));  // not cut short by the signals
  EXPECT_GT(g_alarms.load(), 0);
}

// The exec child shares the parent's memory until it execs (CLONE_VM): resetting
// its signal dispositions must not touch anything of the parent's. (Found under
// ThreadSanitizer: its sigaction interceptor records handlers in memory the
// child shared, so the parent's handler was replaced by SIG_DFL and lost.)
std::atomic<int> g_usr1{0};
void CountUsr1(int) { g_usr1.fetch_add(1); }

TEST(SpawnSignals, ParentHandlersSurviveAnExecSpawn) {
  struct sigaction sa, old;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = CountUsr1;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<tubo::Process> p = tubo::Command("/bin/true").Spawn();
    ASSERT_TRUE(p.ok()) << p.status();
    absl::StatusOr<tubo::ExitStatus> st = p->Wait();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_TRUE(st->success()) << st->ToString();
  }
  g_usr1 = 0;
  ASSERT_EQ(::raise(SIGUSR1), 0);  // delivered before raise returns
  EXPECT_EQ(g_usr1.load(), 1);
  struct sigaction now;
  ASSERT_EQ(sigaction(SIGUSR1, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, &CountUsr1);
  sigaction(SIGUSR1, &old, nullptr);
}

}  // namespace
