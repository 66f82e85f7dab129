// The process layer at its edges, as a hostile environment would test it:
// closed standard streams, a foreign SIGCHLD reaper, no free descriptor,
// seccomp profiles without close_range, no room for a thread, NUL bytes.
// Each test runs in a forked child of its own, since it changes process-wide
// state (signal dispositions, rlimits, seccomp).
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/process/seccomp.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo::testing::Denial;
using tubo::testing::DenySyscalls;
using tubo_test::ForkChild;
using tubo_test::IsClosed;

// ThreadSanitizer runs a thread of its own in every process.
tubo::ForkOptions Options() {
  tubo::ForkOptions o;
  o.allow_threads = true;
  return o;
}

// True if `st` is exited(code).
bool ExitedWith(const absl::StatusOr<tubo::ExitStatus>& st, int code) {
  return st.ok() && st->exited() && st->exit_code() == code;
}

// ----------------------------------------------------------- closed stdio

TEST(ClosedStdio, NoDescriptorTuboCreatesLandsOnZeroToTwo) {
  pid_t pid = ForkChild([] {
    ::close(0);
    ::close(1);
    ::close(2);
    absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
    CHILD_CHECK(pipe.ok(), 2);
    CHILD_CHECK(pipe->reader.fd().get() >= 3 && pipe->writer.fd().get() >= 3, 3);
    absl::StatusOr<tubo::DuplexPipe> duplex = tubo::DuplexPipe::Create();
    CHILD_CHECK(duplex.ok(), 4);
    CHILD_CHECK(duplex->first.fd().get() >= 3 && duplex->second.fd().get() >= 3, 5);
    absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
    CHILD_CHECK(set.ok(), 6);
    // An unrelated fork worker keeps 0, 1, 2: none of them may be the pipe.
    absl::StatusOr<tubo::Process> unrelated = tubo::Fork(Options(), [] { ::pause(); });
    CHILD_CHECK(unrelated.ok() && unrelated->pidfd().get() >= 3, 7);
    absl::StatusOr<tubo::Process> exec = tubo::Command("/bin/true").Spawn();
    CHILD_CHECK(exec.ok() && exec->pidfd().get() >= 3, 8);
    CHILD_CHECK(IsClosed(0) && IsClosed(1) && IsClosed(2), 9);
    // So the reader sees EOF as soon as its only writer closes, while the
    // unrelated worker still runs.
    CHILD_CHECK(pipe->writer.Send("last").ok() && pipe->writer.Close().ok(), 10);
    CHILD_CHECK(pipe->reader.Poll(absl::Seconds(10)).value_or(false), 11);
    absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->reader.Recv();
    CHILD_CHECK(m.ok() && m->has_value() && (*m)->view() == "last", 12);
    CHILD_CHECK(pipe->reader.Poll(absl::Seconds(10)).value_or(false), 13);
    m = pipe->reader.Recv();
    CHILD_CHECK(m.ok() && !m->has_value(), 14);
    CHILD_CHECK(unrelated->is_alive(), 15);
    unrelated->set_stop_sequence(tubo::StopSequence::KillNow());
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

// ------------------------------------------------------- foreign reapers

std::atomic<int> g_reaped{0};

// Linux 6.15 and later keep a reaped child's status for its pidfd holders.
bool KernelKeepsExitStatus() {
  struct utsname u;
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 15);
}

void ReapEverything(int) {
  const int saved = errno;
  int status;
  while (::waitpid(-1, &status, WNOHANG) > 0) g_reaped.fetch_add(1);
  errno = saved;
}

// Starts one child of each start method and checks that each status reaches
// its handle: exited(5) for fork, exited(3) for exec, exited(4) for self.
int StartEachAndWait() {
  absl::StatusOr<tubo::Process> forked = tubo::Fork(Options(), [] { return 5; });
  CHILD_CHECK(forked.ok(), 20);
  absl::StatusOr<tubo::Process> exec = tubo::Command("/bin/sh").Args({"-c", "exit 3"}).Spawn();
  CHILD_CHECK(exec.ok(), 21);
  absl::StatusOr<tubo::Process> self = tubo::Command::Self("exit_with").Arg("4").Spawn();
  CHILD_CHECK(self.ok(), 22);
  ::usleep(200 * 1000);  // all three have ended; a reaper had its chance
  CHILD_CHECK(ExitedWith(forked->Wait(), 5), 23);
  absl::StatusOr<tubo::ExitStatus> exec_status = exec->Wait();
  if (!ExitedWith(exec_status, 3)) {
    std::fprintf(stderr, "exec: %s\n",
                 exec_status.ok() ? exec_status->ToString().c_str()
                                  : exec_status.status().ToString().c_str());
  }
  // An exec'd child has SIGCHLD as its exit signal again (execve resets it):
  // a foreign reaper can take it, and before Linux 6.15 the status is gone.
  auto taken = [](const absl::StatusOr<tubo::ExitStatus>& st) {
    return !KernelKeepsExitStatus() && !st.ok() &&
           tubo::ErrorOf(st.status()) == tubo::Error::kSystem &&
           absl::StrContains(st.status().message(), "taken by another wait");
  };
  CHILD_CHECK(ExitedWith(exec_status, 3) || taken(exec_status), 24);
  absl::StatusOr<tubo::ExitStatus> self_status = self->Wait();
  CHILD_CHECK(ExitedWith(self_status, 4) || taken(self_status), 25);
  return 0;
}

TEST(ForeignReaper, SigchldHandlerReapingAllCannotStealTheStatus) {
  pid_t pid = ForkChild([] {
    struct sigaction sa = {};
    sa.sa_handler = ReapEverything;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHILD_CHECK(::sigaction(SIGCHLD, &sa, nullptr) == 0, 2);
    if (int r = StartEachAndWait()) return r;
    // And a blocking waitpid(-1) sees no tubo child at all.
    absl::StatusOr<tubo::Process> sleeper = tubo::Fork(Options(), [] { ::pause(); });
    CHILD_CHECK(sleeper.ok(), 3);
    int status;
    CHILD_CHECK(::waitpid(-1, &status, 0) < 0 && errno == ECHILD, 4);
    sleeper->set_stop_sequence(tubo::StopSequence::KillNow());
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

TEST(ForeignReaper, SigchldIgnoredDoesNotReapTuboChildren) {
  pid_t pid = ForkChild([] {
    CHILD_CHECK(::signal(SIGCHLD, SIG_IGN) != SIG_ERR, 2);
    return StartEachAndWait();
  });
  EXPECT_CHILD_OK(pid);
}

// ------------------------------------------- a start error means nothing ran

TEST(ForkStart, NoFreeDescriptorFailsBeforeTheCallableRuns) {
  pid_t pid = ForkChild([] {
    absl::StatusOr<tubo::Pipe> marker = tubo::Pipe::Create();
    CHILD_CHECK(marker.ok(), 2);
    struct rlimit limit = {64, 64};
    CHILD_CHECK(::setrlimit(RLIMIT_NOFILE, &limit) == 0, 3);
    std::vector<int> fillers;
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fillers.push_back(fd);
    }
    CHILD_CHECK(errno == EMFILE, 4);
    absl::StatusOr<tubo::Process> p = tubo::Fork(
        Options(), [](tubo::WriteEnd w) { return w.Send("ran").ok() ? 0 : 1; },
        std::move(marker->writer));
    CHILD_CHECK(!p.ok(), 5);
    CHILD_CHECK(tubo::ErrorOf(p.status()) == tubo::Error::kSpawn, 6);
    CHILD_CHECK(absl::StrContains(p.status().message(), "fork"), 7);
    for (int fd : fillers) ::close(fd);
    // The callable never ran: the only writer is gone without a message.
    CHILD_CHECK(marker->reader.Poll(absl::Seconds(10)).value_or(false), 8);
    absl::StatusOr<std::optional<tubo::Bytes>> m = marker->reader.Recv();
    CHILD_CHECK(m.ok() && !m->has_value(), 9);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

TEST(ForkStart, FailedFlushIsASpawnErrorNamingTheFork) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  ASSERT_TRUE(pipe->writer.SetSendBufferSize(4096).ok());
  ASSERT_TRUE(pipe->writer.Send("buffered").ok());
  pipe->reader.Close().IgnoreError();
  absl::StatusOr<tubo::Process> p = tubo::Fork(
      Options(), [](tubo::WriteEnd) { return 0; }, std::move(pipe->writer));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kSpawn);
  EXPECT_TRUE(absl::StartsWith(p.status().message(), "fork: flush on fd")) << p.status();
}

// ------------------------------------------------------ close_range denied

// A descriptor the test opened without close-on-exec, on a number of its
// own, must not reach a fork or exec child.
int ChildrenSeeNoStrayDescriptor() {
  const int stray = ::dup2(::open("/dev/null", O_RDONLY), 50);
  CHILD_CHECK(stray == 50, 30);
  absl::StatusOr<tubo::Process> forked = tubo::Fork(Options(), [] { return IsClosed(50) ? 0 : 9; });
  CHILD_CHECK(forked.ok(), 31);
  CHILD_CHECK(ExitedWith(forked->Wait(), 0), 32);
  absl::StatusOr<tubo::Process> exec =
      tubo::Command("/bin/sh").Args({"-c", "[ ! -e /proc/self/fd/50 ]"}).Spawn();
  CHILD_CHECK(exec.ok(), 33);
  CHILD_CHECK(ExitedWith(exec->Wait(), 0), 34);
  return 0;
}

TEST(CloseRangeMissing, EnosysFallsBackToProcSelfFd) {
  pid_t pid = ForkChild([] {
    CHILD_CHECK(DenySyscalls({{SYS_close_range, ENOSYS}}), 2);
    CHILD_CHECK(::syscall(SYS_close_range, 100, 100, 0) < 0 && errno == ENOSYS, 3);
    return ChildrenSeeNoStrayDescriptor();
  });
  EXPECT_CHILD_OK(pid);
}

TEST(CloseRangeMissing, EpermFallsBackToProcSelfFd) {
  pid_t pid = ForkChild([] {
    CHILD_CHECK(DenySyscalls({{SYS_close_range, EPERM}}), 2);
    return ChildrenSeeNoStrayDescriptor();
  });
  EXPECT_CHILD_OK(pid);
}

TEST(CloseRangeMissing, NoProcListingFallsBackToEveryNumber) {
  pid_t pid = ForkChild([] {
    CHILD_CHECK(DenySyscalls({{SYS_close_range, ENOSYS}, {SYS_getdents64, ENOSYS}}), 2);
    return ChildrenSeeNoStrayDescriptor();
  });
  EXPECT_CHILD_OK(pid);
}

// ------------------------------------------------------ Detach, no thread

TEST(Detach, NoReaperThreadReturnsAnErrorAndKeepsTheChild) {
  pid_t pid = ForkChild([] {
    absl::StatusOr<tubo::Process> p = tubo::Command("/bin/sleep").Arg("100").Spawn();
    CHILD_CHECK(p.ok(), 2);
    const pid_t child = p->pid();
    // No thread can be created (as at RLIMIT_NPROC, which root is exempt from).
    CHILD_CHECK(DenySyscalls({{SYS_clone3, ENOSYS}, {SYS_clone, EAGAIN, CLONE_THREAD}}), 3);
    absl::Status st = p->Detach();
    CHILD_CHECK(!st.ok() && tubo::ErrorOf(st) == tubo::Error::kSystem, 4);
    CHILD_CHECK(absl::StrContains(st.message(), "reaper thread"), 5);
    CHILD_CHECK(p->owns_child() && p->pid() == child, 6);
    CHILD_CHECK(p->Kill().ok(), 7);
    absl::StatusOr<tubo::ExitStatus> ended = p->Wait();
    CHILD_CHECK(ended.ok() && ended->signaled() && ended->signal() == SIGKILL, 8);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

// ------------------------------------------------------------ NUL bytes

void ExpectNulRejected(tubo::Command& cmd, const std::string& field) {
  absl::StatusOr<tubo::Process> p = cmd.Spawn();
  ASSERT_FALSE(p.ok()) << field;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kInvalidArgument) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), field)) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), "NUL")) << p.status();
}

TEST(CommandNul, EveryFieldIsCheckedAndNamed) {
  using namespace std::string_literals;
  tubo::Command program("/bin/echo\0/../../usr/bin/false"s);
  ExpectNulRejected(program, "the program");
  ExpectNulRejected(tubo::Command("/bin/true").Arg("a\0b"s), "argument 1");
  ExpectNulRejected(tubo::Command("/bin/true").Arg("x").Arg("a\0b"s), "argument 2");
  ExpectNulRejected(tubo::Command("/bin/true").Argv0("t\0x"s), "argv[0]");
  ExpectNulRejected(tubo::Command("/bin/true").SetEnv("X\0Y"s, "v"), "environment variable name");
  ExpectNulRejected(tubo::Command("/bin/true").SetEnv("X", "v\0w"s), "value of environment");
  ExpectNulRejected(tubo::Command("/bin/true").UnsetEnv("X\0Y"s), "environment variable name");
  ExpectNulRejected(tubo::Command("/bin/true").WorkingDirectory("/tmp\0/x"s), "working directory");
  ExpectNulRejected(tubo::Command("/bin/true").Stdout(tubo::Stdio::Path("/tmp/a\0b"s)),
                    "stdout file path");
  tubo::Command self = tubo::Command::Self("exit\0_with"s);
  ExpectNulRejected(self, "entry name");
}

TEST(CommandNul, TheEndsAreStillConsumed) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  using namespace std::string_literals;
  absl::StatusOr<tubo::Process> p =
      tubo::Command("/bin/true").Arg("a\0b"s).Channel("out", std::move(pipe->writer)).Spawn();
  ASSERT_FALSE(p.ok());
  absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->reader.Recv();
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());  // EOF: the parent kept no copy of the writer
}

// ------------------------------------------------------- tagged errors

TEST(Duplicate, ErrorsCarryTheirKinds) {
  tubo::OwnedFd empty;
  EXPECT_EQ(tubo::ErrorOf(empty.Duplicate().status()), tubo::Error::kClosed);
  pid_t pid = ForkChild([] {
    tubo::OwnedFd fd = tubo::OwnedFd::Adopt(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    struct rlimit limit = {16, 16};
    CHILD_CHECK(::setrlimit(RLIMIT_NOFILE, &limit) == 0, 2);
    while (::open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0) {
    }
    absl::StatusOr<tubo::OwnedFd> dup = fd.Duplicate();
    CHILD_CHECK(!dup.ok() && tubo::ErrorOf(dup.status()) == tubo::Error::kSystem, 3);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

}  // namespace

namespace {

// Uses about `depth` KiB of stack; returns `depth`.
int Recurse(int depth) {
  volatile char frame[1024];
  frame[0] = 1;
  return depth == 0 ? 0 : Recurse(depth - 1) + frame[0];
}

// The callable runs on this thread's stack, as after fork: a deep one grows
// it far beyond the region reserved for the child's first frames.
TEST(ForkStack, TheCallableHasAWholeStack) {
  absl::StatusOr<tubo::Process> p =
      tubo::Fork(Options(), [] { return Recurse(2048) == 2048 ? 0 : 3; });
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(ExitedWith(p->Wait(), 0));
}

}  // namespace

namespace {

// A group leader reaped by a foreign reaper (SIGCHLD ignored: an exec'd child
// has SIGCHLD as its exit signal again) can no longer be addressed by its
// group id: tubo refuses rather than signal a group that may be someone else's.
TEST(ForeignReaper, AReapedGroupLeaderIsNotSignalledByItsGroupId) {
  pid_t pid = ForkChild([] {
    CHILD_CHECK(::signal(SIGCHLD, SIG_IGN) != SIG_ERR, 2);
    absl::StatusOr<tubo::Process> p =
        tubo::Command("/bin/sh").Args({"-c", "exit 0"}).NewProcessGroup().Spawn();
    CHILD_CHECK(p.ok(), 3);
    ::usleep(200 * 1000);  // it exited, and the kernel reaped it
    absl::Status st = p->SignalGroup(SIGTERM);
    CHILD_CHECK(!st.ok() && tubo::ErrorOf(st) == tubo::Error::kClosed, 4);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

}  // namespace
