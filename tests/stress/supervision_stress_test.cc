// Stress scenarios for the process promises at their edges: closed standard
// streams, a foreign SIGCHLD reaper, parents SIGKILLed with workers of every
// start method, worker trees, Detach with no thread to spare. Each prints its
// figures as "STRESS ..." lines (tools/stress).
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ForkChild;
using tubo_test::StressScaled;

tubo::ForkOptions Options() {
  tubo::ForkOptions o;
  o.allow_threads = true;  // ThreadSanitizer's own thread
  return o;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

// Waits for `pidfd` to become readable (its process ended); -1 on timeout.
double MsToExit(int pidfd, int timeout_ms) {
  const absl::Time start = absl::Now();
  struct pollfd p = {pidfd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return -1;
  return Ms(absl::Now() - start);
}

TEST(SupervisionStress, ClosedStdioPipesNeverLeakIntoWorkers) {
  const int rounds = StressScaled(300);
  pid_t pid = ForkChild([rounds] {
    ::close(0);
    ::close(1);
    int err = ::dup(2);  // keep a way to report
    ::close(2);
    int low = 0, late = 0;
    double worst = 0;
    for (int i = 0; i < rounds; ++i) {
      absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
      if (!pipe.ok()) return 2;
      if (pipe->reader.fd().get() < 3 || pipe->writer.fd().get() < 3) ++low;
      absl::StatusOr<tubo::Process> unrelated = tubo::Fork(Options(), [] { ::pause(); });
      if (!unrelated.ok()) return 3;
      unrelated->set_stop_sequence(tubo::StopSequence::KillNow());
      const absl::Time start = absl::Now();
      pipe->writer.Close().IgnoreError();
      if (!pipe->reader.Poll(absl::Seconds(5)).value_or(false)) ++late;
      worst = std::max(worst, Ms(absl::Now() - start));
    }
    std::string line = absl::StrCat(
        "STRESS closed stdio: ", rounds, " pipes with an unrelated fork worker running: ", low,
        " landed on 0-2, ", late, " readers missed EOF, worst EOF after close ", worst, " ms\n");
    (void)!::write(err, line.data(), line.size());
    return low == 0 && late == 0 ? 0 : 4;
  });
  EXPECT_CHILD_OK(pid);
}

std::atomic<int> g_stolen{0};
void Reaper(int) {
  const int saved = errno;
  while (::waitpid(-1, nullptr, WNOHANG) > 0) g_stolen.fetch_add(1);
  errno = saved;
}

TEST(SupervisionStress, ForeignReaperLosesNoStatus) {
  const int rounds = StressScaled(200);
  pid_t pid = ForkChild([rounds] {
    struct sigaction sa = {};
    sa.sa_handler = Reaper;
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGCHLD, &sa, nullptr);
    int right = 0, wrong = 0, lost = 0;
    for (int i = 0; i < rounds; ++i) {
      const int code = i % 200;
      std::vector<absl::StatusOr<tubo::Process>> ps;
      ps.push_back(tubo::Fork(Options(), [code] { return code; }));
      ps.push_back(tubo::Command("/bin/sh").Args({"-c", absl::StrCat("exit ", code)}).Spawn());
      ps.push_back(tubo::Command::Self("stress_exit_with").Arg(std::to_string(code)).Spawn());
      for (auto& p : ps) {
        if (!p.ok()) return 2;
        absl::StatusOr<tubo::ExitStatus> st = p->Wait();
        if (!st.ok()) {
          ++lost;
        } else if (st->exited() && st->exit_code() == code) {
          ++right;
        } else {
          ++wrong;
        }
      }
    }
    STRESS_FIGURE(
        "foreign reaper (SIGCHLD handler reaping waitpid(-1)): %d children (fork, exec, self): "
        "%d statuses right, %d wrong, %d lost; the handler reaped %d exec'd children, whose "
        "status came back from the pidfd",
        3 * rounds, right, wrong, lost, g_stolen.load());
    return wrong == 0 && lost == 0 ? 0 : 3;
  });
  EXPECT_CHILD_OK(pid);
}

TEST(SupervisionStress, WorkersDieWithASigkilledParent) {
  const int rounds = StressScaled(30);
  const char* names[3] = {"fork", "exec", "self"};
  std::vector<double> ms[3];
  int survivors = 0;
  for (int r = 0; r < rounds; ++r) {
    int report[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    pid_t middle = ForkChild([&] {
      absl::StatusOr<tubo::Process> a = tubo::Fork(Options(), [] { ::pause(); });
      absl::StatusOr<tubo::Process> b = tubo::Command("/bin/sleep").Arg("100").Spawn();
      absl::StatusOr<tubo::Process> c = tubo::Command::Self("stress_sleep").Spawn();
      if (!a.ok() || !b.ok() || !c.ok()) return 2;
      pid_t pids[3] = {a->pid(), b->pid(), c->pid()};
      if (::write(report[1], pids, sizeof(pids)) != sizeof(pids)) return 3;
      for (;;) ::pause();
    });
    ::close(report[1]);
    pid_t pids[3];
    ASSERT_EQ(::read(report[0], pids, sizeof(pids)), static_cast<ssize_t>(sizeof(pids)));
    ::close(report[0]);
    int pidfds[3];
    for (int i = 0; i < 3; ++i) pidfds[i] = static_cast<int>(::syscall(SYS_pidfd_open, pids[i], 0));
    ::kill(middle, SIGKILL);
    const absl::Time killed = absl::Now();
    tubo_test::WaitStatus(middle);
    for (int i = 0; i < 3; ++i) {
      struct pollfd p = {pidfds[i], POLLIN, 0};
      if (::poll(&p, 1, 5000) == 1) {
        ms[i].push_back(Ms(absl::Now() - killed));
      } else {
        ++survivors;
        ::syscall(SYS_pidfd_send_signal, pidfds[i], SIGKILL, nullptr, 0);
      }
      ::close(pidfds[i]);
    }
  }
  for (int i = 0; i < 3; ++i) {
    STRESS_FIGURE(
        "parent SIGKILLed, %s worker: died after a median %.2f ms, at worst %.2f ms (%d rounds)",
        names[i], Percentile(ms[i], 0.5), Percentile(ms[i], 1.0), rounds);
    EXPECT_LT(Percentile(ms[i], 1.0), 100.0) << names[i];
  }
  STRESS_FIGURE("parent SIGKILLed: %d workers of %d survived", survivors, 3 * rounds);
  EXPECT_EQ(survivors, 0);
}

TEST(SupervisionStress, StoppingWorkerTreesClosesTheirPipes) {
  const int rounds = StressScaled(50);
  std::vector<double> ms;
  int missed = 0;
  for (int r = 0; r < rounds; ++r) {
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    absl::StatusOr<tubo::Process> p =
        tubo::Command("/bin/sh")
            .Args({"-c", "sleep 100 & sleep 100 & sleep 100 & echo started; wait"})
            .NewProcessGroup()
            .Stdout(tubo::Stdio::Fd(tubo::OwnedFd::Adopt(out[1])))
            .Spawn();
    ASSERT_TRUE(p.ok()) << p.status();
    char buf[16];
    ASSERT_GT(::read(out[0], buf, sizeof(buf)), 0);
    p->set_stop_sequence({absl::ZeroDuration(), SIGTERM, absl::Seconds(1)});
    const absl::Time start = absl::Now();
    ASSERT_TRUE(p->Stop().ok());
    struct pollfd pfd = {out[0], POLLIN, 0};
    if (::poll(&pfd, 1, 5000) == 1 && ::read(out[0], buf, sizeof(buf)) == 0) {
      ms.push_back(Ms(absl::Now() - start));
    } else {
      ++missed;
    }
    ::close(out[0]);
  }
  STRESS_FIGURE(
      "worker trees (sh + 3 grandchildren holding the pipe), Stop of the group: reader saw EOF "
      "after a median %.2f ms, at worst %.2f ms; %d of %d missed EOF",
      Percentile(ms, 0.5), Percentile(ms, 1.0), missed, rounds);
  EXPECT_EQ(missed, 0);
}

TEST(SupervisionStress, DetachAtRlimitNprocKeepsTheChild) {
  pid_t pid = ForkChild([] {
    if (::geteuid() == 0) {  // RLIMIT_NPROC does not bind root
      ::setgroups(0, nullptr);
      CHILD_CHECK(::setgid(65534) == 0, 2);
      CHILD_CHECK(::setuid(65534) == 0, 3);
    }
    absl::StatusOr<tubo::Process> p = tubo::Command("/bin/sleep").Arg("100").Spawn();
    CHILD_CHECK(p.ok(), 4);
    struct rlimit rl = {1, 1};
    CHILD_CHECK(::setrlimit(RLIMIT_NPROC, &rl) == 0, 5);
    absl::Status st = p->Detach();
    STRESS_FIGURE("Detach at RLIMIT_NPROC: %s; handle still owns pid %d: %s", st.ToString().c_str(),
                  static_cast<int>(p->pid()), p->owns_child() ? "yes" : "no");
    CHILD_CHECK(!st.ok() && p->owns_child(), 6);
    CHILD_CHECK(p->Kill().ok() && p->Wait().ok(), 7);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

}  // namespace

TUBO_ENTRY(stress_exit_with) { return args.empty() ? 99 : std::atoi(args[0].c_str()); }
TUBO_ENTRY(stress_sleep) {
  for (;;) ::pause();
}
