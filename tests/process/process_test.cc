// Process handles: exit status, waiting, signals over the pidfd, the stop
// sequence of the destructor, Detach, and what a child starts with.
#include "tubo/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/process/helpers.h"
#include "tubo/error.h"
#include "tubo/pipe.h"
#include "tubo/spawn.h"

namespace tubo {
namespace {

using ::tubo::testing::GoneWithin;
using ::tubo::testing::RunAndCapture;

Process MustSpawn(Command& cmd) {
  absl::StatusOr<Process> p = cmd.Spawn();
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : Process();
}

Process MustSpawn(Command&& cmd) { return MustSpawn(cmd); }

Process SleepForever() { return MustSpawn(Command::Self("sleep_forever")); }

bool ProcessExists(pid_t pid) { return ::access(absl::StrCat("/proc/", pid).c_str(), F_OK) == 0; }

// ---------------------------------------------------------------------------
// 4. Exit status (contract 3).

TEST(ExitStatus, ExitedWithEachCode) {
  for (int code : {0, 1, 2, 42, 127, 255}) {
    Process p = MustSpawn(Command("/bin/sh").Arg("-c").Arg(absl::StrCat("exit ", code)));
    absl::StatusOr<ExitStatus> st = p.Wait();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_TRUE(st->exited());
    EXPECT_FALSE(st->signaled());
    EXPECT_EQ(st->exit_code(), code);
    EXPECT_EQ(st->signal(), 0);
    EXPECT_EQ(st->returncode(), code);
    EXPECT_EQ(st->success(), code == 0);
    EXPECT_EQ(st->ToString(), absl::StrCat("exited(", code, ")"));
    EXPECT_EQ(*st, ExitStatus::Exited(code));
  }
}

TEST(ExitStatus, TrueAndFalse) {
  EXPECT_EQ(*MustSpawn(Command("/bin/true")).Wait(), ExitStatus::Exited(0));
  EXPECT_EQ(*MustSpawn(Command("/bin/false")).Wait(), ExitStatus::Exited(1));
}

TEST(ExitStatus, SignaledBySigkill) {
  Process p = SleepForever();
  ASSERT_TRUE(p.Kill().ok());
  absl::StatusOr<ExitStatus> st = p.Wait();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->signaled());
  EXPECT_FALSE(st->exited());
  EXPECT_EQ(st->signal(), SIGKILL);
  EXPECT_EQ(st->exit_code(), -1);
  EXPECT_EQ(st->returncode(), -SIGKILL);
  EXPECT_FALSE(st->success());
  EXPECT_FALSE(st->core_dumped());
  EXPECT_EQ(st->ToString(), "signaled(9)");
  EXPECT_EQ(*st, ExitStatus::Signaled(SIGKILL));
  EXPECT_NE(*st, ExitStatus::Exited(9));
}

TEST(ExitStatus, ToStringOfACoreDump) {
  EXPECT_EQ(ExitStatus::Signaled(SIGSEGV, true).ToString(), "signaled(11, core dumped)");
  EXPECT_EQ(ExitStatus::Signaled(SIGSEGV, true).returncode(), -SIGSEGV);
}

// ---------------------------------------------------------------------------
// 5. Waiting.

TEST(Process, WaitTwiceReturnsTheSameStatus) {
  Process p = MustSpawn(Command::Self("exit_with").Arg("3"));
  EXPECT_EQ(p.exit_status(), std::nullopt);
  absl::StatusOr<ExitStatus> first = p.Wait();
  absl::StatusOr<ExitStatus> second = p.Wait();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, ExitStatus::Exited(3));
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(p.exit_status(), *first);
  EXPECT_FALSE(p.owns_child());
  EXPECT_EQ(p.pidfd().get(), -1);
  // Every other way of asking agrees.
  EXPECT_EQ(**p.TryWait(), *first);
  EXPECT_EQ(**p.WaitFor(absl::Seconds(1)), *first);
  EXPECT_EQ(*p.Stop(), *first);
  EXPECT_FALSE(p.is_alive());
}

TEST(Process, WaitForTimesOutWithNullopt) {
  Process p = SleepForever();
  const absl::Duration timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<ExitStatus>> st = p.WaitFor(timeout);
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, std::nullopt);
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, timeout + absl::Seconds(2));
  EXPECT_TRUE(p.is_alive());
  ASSERT_TRUE(p.Kill().ok());
  st = p.WaitFor(absl::Seconds(20));
  ASSERT_TRUE(st.ok() && st->has_value()) << "not reaped after SIGKILL";
  EXPECT_EQ(**st, ExitStatus::Signaled(SIGKILL));
}

TEST(Process, WaitForReturnsWhenTheChildExits) {
  Process p = MustSpawn(Command::Self("exit_with").Arg("5"));
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<ExitStatus>> st = p.WaitFor(absl::Seconds(30));
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ(**st, ExitStatus::Exited(5));
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));  // did not sit out the timeout
}

TEST(Process, TryWaitDoesNotBlockAndReapsOnceExited) {
  Process p = SleepForever();
  absl::StatusOr<std::optional<ExitStatus>> st = p.TryWait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, std::nullopt);
  ASSERT_TRUE(p.Terminate().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((st = p.TryWait()).ok() && !st->has_value() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ(**st, ExitStatus::Signaled(SIGTERM));
  EXPECT_FALSE(ProcessExists(p.pid())) << "exited but not reaped";
}

TEST(Process, IsAliveUntilTheChildExits) {
  Process p = SleepForever();
  EXPECT_TRUE(p.is_alive());
  EXPECT_TRUE(p.is_alive());  // looking does not reap
  ASSERT_TRUE(p.Kill().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (p.is_alive() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exit_status(), ExitStatus::Signaled(SIGKILL));
}

// ---------------------------------------------------------------------------
// 6. Signals.

TEST(Process, SignalSendsThatSignal) {
  Process p = SleepForever();
  ASSERT_TRUE(p.Signal(SIGUSR1).ok());
  EXPECT_EQ(*p.Wait(), ExitStatus::Signaled(SIGUSR1));
}

TEST(Process, TerminateSendsSigterm) {
  Process p = SleepForever();
  ASSERT_TRUE(p.Terminate().ok());
  EXPECT_EQ(*p.Wait(), ExitStatus::Signaled(SIGTERM));
}

TEST(Process, SignalAfterExitBeforeReapSucceeds) {
  Process p = MustSpawn(Command("/bin/true"));
  // Wait until it has exited (its pidfd is readable) without reaping it.
  siginfo_t info = {};
  ASSERT_EQ(::waitid(P_PIDFD, static_cast<id_t>(p.pidfd().get()), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(p.Kill().ok());
  EXPECT_TRUE(p.Signal(SIGTERM).ok());
  EXPECT_EQ(*p.Wait(), ExitStatus::Exited(0));
}

TEST(Process, SignalAfterReapIsANoOpSuccess) {
  Process p = MustSpawn(Command("/bin/true"));
  ASSERT_TRUE(p.Wait().ok());
  EXPECT_TRUE(p.Signal(SIGTERM).ok());
  EXPECT_TRUE(p.Terminate().ok());
  EXPECT_TRUE(p.Kill().ok());
  EXPECT_EQ(*p.Wait(), ExitStatus::Exited(0));
}

TEST(Process, BadSignalNumberIsASystemError) {
  Process p = SleepForever();
  absl::Status s = p.Signal(12345);
  EXPECT_EQ(ErrorOf(s), Error::kSystem) << s;
  EXPECT_TRUE(p.is_alive());
  p.set_stop_sequence(StopSequence::KillNow());
}

TEST(Process, EmptyHandleIsClosed) {
  Process p;
  EXPECT_EQ(p.pid(), -1);
  EXPECT_FALSE(p.owns_child());
  EXPECT_EQ(ErrorOf(p.Wait().status()), Error::kClosed);
  EXPECT_EQ(ErrorOf(p.WaitFor(absl::Seconds(1)).status()), Error::kClosed);
  EXPECT_EQ(ErrorOf(p.TryWait().status()), Error::kClosed);
  EXPECT_EQ(ErrorOf(p.Stop().status()), Error::kClosed);
  EXPECT_EQ(ErrorOf(p.Signal(SIGTERM)), Error::kClosed);
  EXPECT_EQ(ErrorOf(p.Terminate()), Error::kClosed);
  EXPECT_EQ(ErrorOf(p.Kill()), Error::kClosed);
  EXPECT_FALSE(p.is_alive());
}

TEST(Process, MovedFromHandleIsEmptyAndTheNewOneOwnsTheChild) {
  Process a = SleepForever();
  const pid_t pid = a.pid();
  Process b = std::move(a);
  EXPECT_EQ(a.pid(), -1);  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(ErrorOf(a.Kill()), Error::kClosed);
  EXPECT_EQ(b.pid(), pid);
  ASSERT_TRUE(b.Kill().ok());
  EXPECT_EQ(*b.Wait(), ExitStatus::Signaled(SIGKILL));
}

// ---------------------------------------------------------------------------
// 7. Children start with default signal dispositions and an empty mask.

// Makes this process ignore SIGINT and block SIGUSR1 until destroyed.
class HostileSignalState {
 public:
  HostileSignalState() {
    old_int_ = ::signal(SIGINT, SIG_IGN);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask_);
  }
  ~HostileSignalState() {
    ::signal(SIGINT, old_int_);
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sighandler_t old_int_;
  sigset_t old_mask_;
};

TEST(Spawn, ExecChildStartsWithDefaultSignalsAndEmptyMask) {
  HostileSignalState hostile;
  Command cmd("/proc/self/exe");
  cmd.Arg("--tubo-entry=signal_state");
  std::string out = RunAndCapture(std::move(cmd));
  EXPECT_EQ(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST(Spawn, SelfChildStartsWithDefaultSignalsAndEmptyMask) {
  HostileSignalState hostile;
  std::string out = RunAndCapture(Command::Self("signal_state"));
  EXPECT_EQ(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST(Spawn, ParentSignalStateIsUnchangedBySpawn) {
  HostileSignalState hostile;
  ASSERT_TRUE(MustSpawn(Command("/bin/true")).Wait().ok());
  sigset_t now;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
  EXPECT_FALSE(sigismember(&now, SIGTERM));
  struct sigaction sa;
  ::sigaction(SIGINT, nullptr, &sa);
  EXPECT_EQ(sa.sa_handler, SIG_IGN);
}

// ---------------------------------------------------------------------------
// 8. The stop sequence and Detach.

TEST(StopSequence, DestructorReapsARunningChild) {
  pid_t pid;
  {
    Process p = SleepForever();
    pid = p.pid();
    p.set_stop_sequence(StopSequence{absl::Milliseconds(50), SIGTERM, absl::Seconds(5)});
    ASSERT_TRUE(ProcessExists(pid));
  }
  EXPECT_FALSE(ProcessExists(pid)) << "left running or as a zombie";
}

TEST(StopSequence, DefaultSequenceEndsAWellBehavedChildWithSigterm) {
  Process p = SleepForever();
  const absl::Time start = absl::Now();
  absl::StatusOr<ExitStatus> st = p.Stop();  // 1 s grace, then SIGTERM
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, ExitStatus::Signaled(SIGTERM));
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
}

// A child that ignores SIGTERM, once it has said so.
Process SigtermIgnoringChild() {
  Pipe ready = std::move(*Pipe::Create());
  Process p = MustSpawn(Command::Self("ignore_term").Channel("ready", std::move(ready.writer)));
  absl::StatusOr<bool> polled = ready.reader.Poll(absl::Seconds(20));
  EXPECT_TRUE(polled.ok() && *polled);
  absl::StatusOr<std::optional<Bytes>> m = ready.reader.Recv();
  EXPECT_TRUE(m.ok() && *m && (*m)->str() == "ready");
  return p;
}

TEST(StopSequence, EscalatesToSigkillWhenSigtermIsIgnored) {
  Process p = SigtermIgnoringChild();
  p.set_stop_sequence(StopSequence{absl::Milliseconds(50), SIGTERM, absl::Milliseconds(200)});
  absl::StatusOr<ExitStatus> st = p.Stop();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, ExitStatus::Signaled(SIGKILL));
}

TEST(StopSequence, DestructorEscalatesToSigkillAndReaps) {
  pid_t pid;
  {
    Process p = SigtermIgnoringChild();
    pid = p.pid();
    p.set_stop_sequence(StopSequence{absl::Milliseconds(50), SIGTERM, absl::Milliseconds(200)});
  }
  EXPECT_FALSE(ProcessExists(pid));
}

TEST(StopSequence, KillNowSendsSigkillAtOnce) {
  Process p = SigtermIgnoringChild();
  p.set_stop_sequence(StopSequence::KillNow());
  const absl::Time start = absl::Now();
  absl::StatusOr<ExitStatus> st = p.Stop();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, ExitStatus::Signaled(SIGKILL));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(StopSequence, ZeroSignalGoesStraightToSigkill) {
  Process p = SleepForever();
  p.set_stop_sequence(StopSequence{absl::Milliseconds(10), 0, absl::Seconds(30)});
  EXPECT_EQ(*p.Stop(), ExitStatus::Signaled(SIGKILL));
}

TEST(StopSequence, AnInvalidSignalStillEndsInSigkillAndAReap) {
  pid_t pid;
  {
    Process p = SleepForever();
    pid = p.pid();
    p.set_stop_sequence(StopSequence{absl::Milliseconds(10), 12345, absl::Seconds(30)});
  }
  EXPECT_FALSE(ProcessExists(pid)) << "the destructor must always reap";
}

TEST(StopSequence, ChildExitingWithinTheGraceIsNotSignalled) {
  Process p = MustSpawn(Command("/bin/sh").Arg("-c").Arg("sleep 0.3; exit 7"));
  p.set_stop_sequence(StopSequence{absl::Seconds(30), SIGTERM, absl::Seconds(1)});
  absl::StatusOr<ExitStatus> st = p.Stop();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, ExitStatus::Exited(7));
}

TEST(StopSequence, MoveAssignmentStopsTheChildItHeld) {
  Process p = SleepForever();
  const pid_t first = p.pid();
  p.set_stop_sequence(StopSequence::KillNow());
  p = MustSpawn(Command("/bin/true"));
  EXPECT_FALSE(ProcessExists(first));
  EXPECT_EQ(*p.Wait(), ExitStatus::Exited(0));
}

TEST(Detach, LeavesTheChildRunningAndReapsItLater) {
  Process p = SleepForever();
  const pid_t pid = p.pid();
  ASSERT_TRUE(p.Detach().ok());
  EXPECT_EQ(p.pid(), -1);
  EXPECT_FALSE(p.owns_child());
  EXPECT_EQ(ErrorOf(p.Wait().status()), Error::kClosed);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_TRUE(ProcessExists(pid)) << "a detached child must keep running";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // the test plays the child's fate
  EXPECT_TRUE(GoneWithin(pid, absl::Seconds(20))) << "a detached child lingers as a zombie";
}

TEST(Detach, AChildExitingByItselfIsReaped) {
  pid_t pid;
  {
    Process p = MustSpawn(Command("/bin/sh").Arg("-c").Arg("sleep 0.2"));
    pid = p.pid();
    ASSERT_TRUE(p.Detach().ok());
  }  // the destructor of a detached handle does nothing
  EXPECT_TRUE(GoneWithin(pid, absl::Seconds(20)));
}

// ---------------------------------------------------------------------------
// 13. A worker killed in the middle of a message.

TEST(Process, WorkerKilledMidMessageIsATruncatedMessage) {
  Pipe p = std::move(*Pipe::Create());
  Process worker = MustSpawn(Command::Self("die_mid_message").Channel("out", std::move(p.writer)));
  ASSERT_TRUE(*p.reader.Poll(absl::Seconds(20)));
  absl::StatusOr<std::optional<Bytes>> m = p.reader.Recv();
  ASSERT_TRUE(m.ok() && *m) << m.status();
  EXPECT_EQ((*m)->str(), "a whole message");
  m = p.reader.Recv();  // blocks until the worker dies mid-frame
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ErrorOf(m.status()), Error::kTruncated) << m.status();
  // Sticky: the stream cannot be resynchronised.
  m = p.reader.Recv();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ErrorOf(m.status()), Error::kTruncated) << m.status();
  EXPECT_EQ(*worker.Wait(), ExitStatus::Signaled(SIGKILL));
}

}  // namespace
}  // namespace tubo
