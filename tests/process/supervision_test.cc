// Supervision: workers of every start method die with a parent killed by
// SIGKILL; a worker leading its own process group is stopped with its tree.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/process/helpers.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ForkChild;

tubo::ForkOptions Options(bool die_with_parent = true) {
  tubo::ForkOptions o;
  o.allow_threads = true;  // ThreadSanitizer runs a thread of its own
  o.die_with_parent = die_with_parent;
  return o;
}

// A pidfd for any process (not only a child), to watch it end.
int PidfdOf(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits until the process behind `pidfd` has ended; returns how long it took,
// or a negative duration after `timeout`.
absl::Duration TimeToExit(int pidfd, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  struct pollfd p = {pidfd, POLLIN, 0};
  const int r = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (r != 1) return -absl::Seconds(1);
  return absl::Now() - start;
}

// A parent (a forked "middle" process) starts one worker with each start
// method, then the test SIGKILLs it. `spawn_from_thread`: the exec and self
// workers are started from a thread that has ended before the kill.
struct Workers {
  pid_t middle;
  std::vector<pid_t> pids;  // fork, exec, self
};

Workers StartMiddle(bool die_with_parent, bool spawn_from_thread) {
  tubo_test::RawPipe report = tubo_test::MakeRawPipe();
  pid_t middle = ForkChild([&] {
    report.read.Reset();
    absl::StatusOr<tubo::Process> forked = tubo::Fork(Options(die_with_parent), [] { ::pause(); });
    CHILD_CHECK(forked.ok(), 2);
    std::optional<tubo::Process> exec, self;
    auto spawn = [&] {
      absl::StatusOr<tubo::Process> e =
          tubo::Command("/bin/sleep").Arg("100").DieWithParent(die_with_parent).Spawn();
      absl::StatusOr<tubo::Process> s =
          tubo::Command::Self("sleep_forever").DieWithParent(die_with_parent).Spawn();
      if (e.ok()) exec = std::move(*e);
      if (s.ok()) self = std::move(*s);
    };
    if (spawn_from_thread) {
      std::thread(spawn).join();  // the creating thread is gone before the kill
    } else {
      spawn();
    }
    CHILD_CHECK(exec && self, 3);
    std::string line = absl::StrCat(forked->pid(), " ", exec->pid(), " ", self->pid(), "\n");
    CHILD_CHECK(tubo_test::WriteRaw(report.write.get(), line), 4);
    for (;;) ::pause();  // killed by the test
  });
  report.write.Reset();
  std::string line;
  char c;
  while (::read(report.read.get(), &c, 1) == 1 && c != '\n') line.push_back(c);
  std::istringstream in(line);
  Workers w{middle, {}};
  pid_t p;
  while (in >> p) w.pids.push_back(p);
  return w;
}

void KillMiddle(const Workers& w) {
  ::kill(w.middle, SIGKILL);
  tubo_test::WaitStatus(w.middle);
}

TEST(DieWithParent, WorkersOfEveryStartMethodDieWithASigkilledParent) {
  Workers w = StartMiddle(/*die_with_parent=*/true, /*spawn_from_thread=*/false);
  ASSERT_EQ(w.pids.size(), 3u);
  std::vector<int> pidfds;
  for (pid_t p : w.pids) pidfds.push_back(PidfdOf(p));
  for (int fd : pidfds) ASSERT_GE(fd, 0);
  KillMiddle(w);
  const char* names[] = {"fork", "exec", "self"};
  for (size_t i = 0; i < pidfds.size(); ++i) {
    absl::Duration took = TimeToExit(pidfds[i], absl::Seconds(10));
    EXPECT_GE(took, absl::ZeroDuration()) << names[i] << " worker outlived its parent";
    std::printf("%s worker died %s after its parent\n", names[i],
                absl::FormatDuration(took).c_str());
    ::close(pidfds[i]);
  }
}

TEST(DieWithParent, SpawnedFromAThreadThatEndedTheWorkersLiveUntilTheProcessDies) {
  Workers w = StartMiddle(/*die_with_parent=*/true, /*spawn_from_thread=*/true);
  ASSERT_EQ(w.pids.size(), 3u);
  std::vector<int> pidfds;
  for (pid_t p : w.pids) pidfds.push_back(PidfdOf(p));
  // The thread that asked for the exec and self workers has ended: they live.
  EXPECT_LT(TimeToExit(pidfds[1], absl::Milliseconds(300)), absl::ZeroDuration());
  EXPECT_LT(TimeToExit(pidfds[2], absl::Milliseconds(1)), absl::ZeroDuration());
  KillMiddle(w);
  for (int fd : pidfds) {
    EXPECT_GE(TimeToExit(fd, absl::Seconds(10)), absl::ZeroDuration());
    ::close(fd);
  }
}

TEST(DieWithParent, OffLetsWorkersOutliveTheParent) {
  Workers w = StartMiddle(/*die_with_parent=*/false, /*spawn_from_thread=*/false);
  ASSERT_EQ(w.pids.size(), 3u);
  std::vector<int> pidfds;
  for (pid_t p : w.pids) pidfds.push_back(PidfdOf(p));
  KillMiddle(w);
  for (int fd : pidfds) {
    EXPECT_LT(TimeToExit(fd, absl::Milliseconds(300)), absl::ZeroDuration());
    ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);  // clean up
    EXPECT_GE(TimeToExit(fd, absl::Seconds(10)), absl::ZeroDuration());
    ::close(fd);
  }
}

// ------------------------------------------------------------ worker trees

// A shell that starts two grandchildren holding its stdout (a raw pipe).
absl::StatusOr<tubo::Process> StartTree(bool group, tubo::OwnedFd out, const char* seconds) {
  return tubo::Command("/bin/sh")
      .Args({"-c", absl::StrCat("sleep ", seconds, " & sleep ", seconds, " & echo started; wait")})
      .NewProcessGroup(group)
      .Stdout(tubo::Stdio::Fd(std::move(out)))
      .Spawn();
}

bool ReadStarted(int fd) {
  char buf[16];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  return n > 0;
}

TEST(ProcessGroup, StoppingTheTreeGivesTheReaderEof) {
  tubo_test::RawPipe out = tubo_test::MakeRawPipe();
  absl::StatusOr<tubo::Process> p = StartTree(true, std::move(out.write), "100");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->leads_group());
  ASSERT_TRUE(ReadStarted(out.read.get()));
  p->set_stop_sequence({absl::ZeroDuration(), SIGTERM, absl::Seconds(1)});
  absl::StatusOr<tubo::ExitStatus> st = p->Stop();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(tubo::testing::SeesEofWithin(out.read.get(), absl::Seconds(10)));
  // Reaped: the group id could name another group now.
  EXPECT_EQ(tubo::ErrorOf(p->SignalGroup(SIGTERM)), tubo::Error::kClosed);
}

TEST(ProcessGroup, WithoutAGroupTheGrandchildrenKeepThePipeOpen) {
  tubo_test::RawPipe out = tubo_test::MakeRawPipe();
  absl::StatusOr<tubo::Process> p = StartTree(false, std::move(out.write), "2");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->leads_group());
  ASSERT_TRUE(ReadStarted(out.read.get()));
  EXPECT_EQ(tubo::ErrorOf(p->SignalGroup(SIGTERM)), tubo::Error::kInvalidArgument);
  p->set_stop_sequence(tubo::StopSequence::KillNow());
  ASSERT_TRUE(p->Stop().ok());
  EXPECT_FALSE(tubo::testing::SeesEofWithin(out.read.get(), absl::Milliseconds(300)));
  EXPECT_TRUE(tubo::testing::SeesEofWithin(out.read.get(), absl::Seconds(20)));
}

TEST(ProcessGroup, KillGroupReachesAForkWorkersChildren) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::ForkOptions o = Options();
  o.new_process_group = true;
  absl::StatusOr<tubo::Process> p = tubo::Fork(
      o,
      [](tubo::WriteEnd w) {
        absl::StatusOr<tubo::Process> grandchild = tubo::Command("/bin/sleep")
                                                       .Arg("100")
                                                       .DieWithParent(false)
                                                       .Stdout(tubo::Stdio::End(std::move(w)))
                                                       .Spawn();
        if (!grandchild.ok() || !grandchild->Detach().ok()) return 1;
        for (;;) ::pause();
      },
      std::move(pipe->writer));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(tubo::testing::SeesEofWithin(pipe->reader.fd().get(), absl::Milliseconds(200)));
  ASSERT_TRUE(p->KillGroup().ok());
  absl::StatusOr<tubo::ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->signaled());
  EXPECT_TRUE(tubo::testing::SeesEofWithin(pipe->reader.fd().get(), absl::Seconds(10)));
}

}  // namespace

namespace {

// tubo's spawner thread (started by a die-with-parent spawn from a thread
// other than the main one) does not make Fork refuse the process, and a
// forked child that spawns from a thread gets a spawner of its own.
TEST(DieWithParent, TheSpawnerThreadDoesNotBlockFork) {
#if defined(__SANITIZE_THREAD__)
#define TUBO_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TUBO_TEST_TSAN 1
#endif
#endif
#ifdef TUBO_TEST_TSAN
  GTEST_SKIP() << "ThreadSanitizer runs a thread of its own: Fork always needs allow_threads";
#endif
  pid_t pid = tubo_test::ForkChild([] {
    bool spawned = false;
    std::thread([&] {
      absl::StatusOr<tubo::Process> p = tubo::Command("/bin/true").Spawn();
      spawned = p.ok() && p->Wait().ok();
    }).join();
    CHILD_CHECK(spawned, 2);
    absl::StatusOr<tubo::Process> forked = tubo::Fork([] {
      bool again = false;
      std::thread([&] {
        absl::StatusOr<tubo::Process> p = tubo::Command("/bin/true").Spawn();
        again = p.ok() && p->Wait().ok();
      }).join();
      return again ? 0 : 5;
    });
    CHILD_CHECK(forked.ok(), 3);
    absl::StatusOr<tubo::ExitStatus> st = forked->Wait();
    CHILD_CHECK(st.ok() && st->success(), 4);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

}  // namespace
