// Adversarial checks of the pool's send path (buffered task frames, large
// frames, automatic prefetch), of blame with several unanswered tasks, of
// tasks in wait sets, and of the SIGPIPE declaration. Each runs real worker
// processes; the SIGPIPE ones run in a forked child, so that the declaration
// (process-wide, permanent) does not leak into the other tests.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/pool/workers.h"
#include "tubo/error.h"
#include "tubo/fork.h"
#include "tubo/pipe.h"
#include "tubo/pool.h"
#include "tubo/sigpipe.h"
#include "tubo/wait.h"

namespace {

using tubo::Error;
using tubo::ErrorOf;
using tubo::Pool;
using tubo::PoolOptions;
using tubo::WorkerStart;

std::unique_ptr<Pool> MakePool(WorkerStart start, PoolOptions options = PoolOptions()) {
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(std::move(start), options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? std::move(*pool) : nullptr;
}

// CPU time (user + system) this process used so far.
absl::Duration CpuTime() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return absl::DurationFromTimeval(u.ru_utime) + absl::DurationFromTimeval(u.ru_stime);
}

std::string Temp(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name, "-", getpid());
}

// Tasks that trickle in while a worker runs a long one: each is queued
// behind it (prefetch), and between submissions the supervisor must sleep.
// With two tasks already at the worker, Dispatch used to stop at depth 2
// ("nobody took one at this depth") while FreeSlots counted the deeper
// slots, so Run waited with a zero timeout, round after round, until the
// long task ended. Measures this process's CPU time over the wait.
void NoSpinWhileTasksTrickle(int prefetch) {
  PoolOptions options;
  options.workers = 1;
  options.prefetch = prefetch;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Submit("echo warm")->Result().ok());
  std::vector<tubo::Task> tasks;
  tasks.push_back(*pool->Submit("sleep 1000"));
  const absl::Duration cpu0 = CpuTime();
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < 4; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    tasks.push_back(*pool->Submit(absl::StrCat("echo t", i)));
  }
  for (auto& t : tasks) ASSERT_TRUE(t.Result().ok()) << t.Result().status();
  const absl::Duration cpu = CpuTime() - cpu0;
  const absl::Duration wall = absl::Now() - t0;
  // The worker runs in another process: this one should be almost idle.
  EXPECT_LT(cpu, wall / 4) << "the supervisor spun: cpu " << cpu << " over " << wall;
}

TEST(PoolEdges, NoSpinWhileTasksTrickleFixedPrefetch) { NoSpinWhileTasksTrickle(8); }
TEST(PoolEdges, NoSpinWhileTasksTrickleAutoPrefetch) {
  NoSpinWhileTasksTrickle(PoolOptions::kAutoPrefetch);
}

// Small tasks around a large one, all buffered for one worker with a deep
// prefetch: every result comes back, in order, each task runs once.
TEST(PoolEdges, LargeAmongSmall) {
  const std::string log = Temp("large-among-small");
  unlink(log.c_str());
  PoolOptions options;
  options.workers = 2;
  options.prefetch = 15;
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log), options);
  ASSERT_NE(pool, nullptr);
  std::vector<std::string> inputs;
  for (int i = 0; i < 200; ++i) {
    inputs.push_back(i % 17 == 5 ? absl::StrCat("echo ", i, std::string(70000 + i * 100, 'y'))
                                 : absl::StrCat("echo s", i));
  }
  std::vector<tubo::Task> tasks;
  for (const auto& in : inputs) tasks.push_back(*pool->Submit(in));
  for (size_t i = 0; i < tasks.size(); ++i) {
    absl::StatusOr<tubo::Bytes> r = tasks[i].Result();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(std::string(r->view()), inputs[i].substr(5));
  }
  ASSERT_TRUE(pool->Close().ok());
  for (const auto& [line, count] : pool_test::ExecutionCounts(log)) {
    EXPECT_EQ(count, 1) << line.substr(0, 40);
  }
}

// A worker with several tasks buffered dies running the second: exactly that
// one fails (kWorkerDied, no retries), every other one runs exactly once.
TEST(PoolEdges, BlameWithBufferedTasks) {
  const std::string log = Temp("blame-buffered");
  unlink(log.c_str());
  PoolOptions options;
  options.workers = 1;
  options.prefetch = 15;
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log), options);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Submit("echo warm")->Result().ok());
  std::vector<std::string> inputs = {"sleep 100", "kill k1"};
  for (int i = 0; i < 10; ++i) inputs.push_back(absl::StrCat("echo e", i));
  inputs.push_back("kill k2");
  inputs.push_back(absl::StrCat("echo ", std::string(90000, 'z')));
  inputs.push_back("echo last");
  std::vector<tubo::Task> tasks;
  for (const auto& in : inputs) tasks.push_back(*pool->Submit(in));
  for (size_t i = 0; i < tasks.size(); ++i) {
    absl::StatusOr<tubo::Bytes> r = tasks[i].Result();
    if (inputs[i].rfind("kill", 0) == 0) {
      EXPECT_EQ(ErrorOf(r.status()), Error::kWorkerDied) << inputs[i] << ": " << r.status();
    } else {
      EXPECT_TRUE(r.ok()) << inputs[i].substr(0, 20) << ": " << r.status();
    }
  }
  ASSERT_TRUE(pool->Close().ok());
  for (const auto& [line, count] : pool_test::ExecutionCounts(log)) {
    EXPECT_EQ(count, 1) << line.substr(0, 40);
  }
}

// A task timeout with prefetch: the queued task's clock starts when the one
// before it ends, so a task shorter than the timeout never times out.
TEST(PoolEdges, TimeoutCountsFromStart) {
  PoolOptions options;
  options.workers = 1;
  options.prefetch = 4;
  options.task_timeout = absl::Milliseconds(600);
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(*pool->Submit("sleep 400"));
  for (auto& t : tasks) EXPECT_TRUE(t.Result().ok()) << t.Result().status();
  absl::StatusOr<tubo::Task> slow = pool->Submit("sleep 2000");
  const absl::Time t0 = absl::Now();
  EXPECT_EQ(ErrorOf(slow->Result().status()), Error::kTimeout);
  const absl::Duration took = absl::Now() - t0;
  EXPECT_GE(took, absl::Milliseconds(590));
  EXPECT_LT(took, absl::Milliseconds(1500));
}

// Recycling with a deep prefetch: a worker retired by its task count or its
// resident size, with tasks buffered for it, loses none and runs none twice.
TEST(PoolEdges, RecyclingWithBufferedTasks) {
  const std::string log = Temp("recycle-buffered");
  unlink(log.c_str());
  PoolOptions options;
  options.workers = 2;
  options.prefetch = 15;
  options.max_tasks_per_worker = 3;
  options.max_worker_rss_bytes = 1;  // every result retires its worker
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log), options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 60; ++i) tasks.push_back(*pool->Submit(absl::StrCat("pid ", i)));
  std::set<std::string> pids;
  for (auto& t : tasks) {
    absl::StatusOr<tubo::Bytes> r = t.Result();
    ASSERT_TRUE(r.ok()) << r.status();
    pids.insert(std::string(r->view()));
  }
  EXPECT_GE(pids.size(), 20u);
  ASSERT_TRUE(pool->Close().ok());
  std::map<std::string, int> counts = pool_test::ExecutionCounts(log);
  EXPECT_EQ(counts.size(), 60u);
  for (const auto& [line, count] : counts) EXPECT_EQ(count, 1) << line;
}

// Cancel from another thread while the supervisor dispatches: a task whose
// Cancel returned true never runs; every other one runs exactly once.
TEST(PoolEdges, CancelRacingDispatch) {
  const std::string log = Temp("cancel-race");
  unlink(log.c_str());
  PoolOptions options;
  options.workers = 2;
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log), options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 400; ++i) tasks.push_back(*pool->Submit(absl::StrCat("echo c", i)));
  std::vector<bool> cancelled(tasks.size());
  std::thread canceller([&] {
    for (size_t i = tasks.size(); i-- > 0;) cancelled[i] = tasks[i].Cancel();
  });
  canceller.join();
  for (size_t i = 0; i < tasks.size(); ++i) {
    absl::StatusOr<tubo::Bytes> r = tasks[i].Result();
    if (cancelled[i]) {
      EXPECT_EQ(ErrorOf(r.status()), Error::kCancelled);
    } else {
      EXPECT_TRUE(r.ok()) << r.status();
    }
  }
  ASSERT_TRUE(pool->Close().ok());
  std::map<std::string, int> counts = pool_test::ExecutionCounts(log);
  for (size_t i = 0; i < tasks.size(); ++i) {
    const auto it = counts.find(absl::StrCat("echo c", i));
    EXPECT_EQ(it == counts.end() ? 0 : it->second, cancelled[i] ? 0 : 1) << i;
  }
}

// Close and Terminate while frames wait in a busy worker's buffers: Close
// finishes them all; Terminate ends every one (cancelled or done), leaves no
// child and no descriptor behind.
TEST(PoolEdges, CloseAndTerminateWithBufferedFrames) {
  const int fds0 = pool_test::OpenFdCount();
  for (bool terminate : {false, true}) {
    PoolOptions options;
    options.workers = 2;
    options.prefetch = 15;
    std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
    ASSERT_NE(pool, nullptr);
    std::vector<tubo::Task> tasks;
    tasks.push_back(*pool->Submit("sleep 300"));
    tasks.push_back(*pool->Submit("sleep 300"));
    for (int i = 0; i < 40; ++i) {
      tasks.push_back(*pool->Submit(i % 7 == 3 ? absl::StrCat("echo ", std::string(90000, 'b'))
                                               : absl::StrCat("echo ", i)));
    }
    absl::SleepFor(absl::Milliseconds(50));
    if (terminate) {
      pool->Terminate();
    } else {
      ASSERT_TRUE(pool->Close().ok());
    }
    for (auto& t : tasks) {
      ASSERT_TRUE(t.Wait(absl::Seconds(5)));
      absl::StatusOr<tubo::Bytes> r = t.Result();
      if (!terminate) EXPECT_TRUE(r.ok()) << r.status();
      if (terminate && !r.ok()) EXPECT_EQ(ErrorOf(r.status()), Error::kCancelled) << r.status();
    }
    pool.reset();
    EXPECT_TRUE(pool_test::Children().empty());
  }
  EXPECT_EQ(pool_test::OpenFdCount(), fds0);
}

// Tasks in wait sets: the set outlives handles and pool; the same task in two
// sets; remove and add again; no descriptor left behind.
TEST(PoolEdges, TaskInWaitSets) {
  const int fds0 = pool_test::OpenFdCount();
  {
    absl::StatusOr<tubo::WaitSet> a = tubo::WaitSet::Create();
    absl::StatusOr<tubo::WaitSet> b = tubo::WaitSet::Create();
    ASSERT_TRUE(a.ok() && b.ok());
    {
      PoolOptions options;
      options.workers = 1;
      std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
      ASSERT_NE(pool, nullptr);
      tubo::Task slow = *pool->Submit("sleep 300");
      tubo::Task queued = *pool->Submit("echo q");
      ASSERT_TRUE(a->Add(slow, 1).ok());
      ASSERT_TRUE(b->Add(slow, 1).ok());
      ASSERT_TRUE(a->Add(queued, 2).ok());
      EXPECT_EQ(ErrorOf(a->Add(slow, 3)), Error::kInvalidArgument);
      ASSERT_TRUE(a->Remove(2).ok());
      ASSERT_TRUE(a->Add(queued, 2).ok());
      absl::StatusOr<std::vector<uint64_t>> none = a->Wait(absl::ZeroDuration());
      ASSERT_TRUE(none.ok());
      EXPECT_TRUE(none->empty());
      // handles and pool go; the pool terminates: both tasks end cancelled or done
    }
    for (auto* set : {&*a, &*b}) {
      absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Seconds(5));
      ASSERT_TRUE(ready.ok());
      EXPECT_EQ(ready->size(), set == &*a ? 2u : 1u);
    }
  }
  EXPECT_EQ(pool_test::OpenFdCount(), fds0);
}

// Runs `body` in a forked child (raw fork: this test process is single
// threaded here) and returns its wait status.
template <typename Body>
int InChild(Body body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// A disposition that is the default, set with SA_SIGINFO and a null
// sa_sigaction, is not "handled": the declaration must be refused, else a
// write to a pipe without readers kills the process.
TEST(SigpipeEdges, DefaultWithSiginfoFlagIsRefused) {
  const int status = InChild([] {
    struct sigaction sa = {};
    sa.sa_sigaction = nullptr;  // SIG_DFL
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPIPE, &sa, nullptr);
    absl::Status declared = tubo::DeclareSigpipeIgnored();
    if (declared.ok()) {
      // Wrongly accepted: show what it costs.
      absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
      p->reader.Close().IgnoreError();
      p->writer.Send("x").IgnoreError();  // dies here of SIGPIPE
      return 3;
    }
    return ErrorOf(declared) == Error::kInvalidArgument ? 0 : 4;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status << (WIFSIGNALED(status) ? " (killed by a signal)" : "");
}

// A process that declared forks a tubo child: the child starts with SIGPIPE's
// default disposition, so it must not inherit the declaration; its send to a
// pipe without readers fails with kPeerClosed instead of killing it.
TEST(SigpipeEdges, ForkChildDoesNotInheritDeclaration) {
  const int status = InChild([] {
    signal(SIGPIPE, SIG_IGN);
    if (!tubo::DeclareSigpipeIgnored().ok()) return 5;
    absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
    if (!p.ok()) return 6;
    absl::StatusOr<tubo::Process> child = tubo::Fork(
        [](tubo::ReadEnd unused, tubo::WriteEnd out) {
          unused.Close().IgnoreError();
          absl::Status s = out.Send("x");
          return ErrorOf(s) == Error::kPeerClosed ? 0 : 7;
        },
        std::move(p->reader), std::move(p->writer));
    if (!child.ok()) return 8;
    absl::StatusOr<tubo::ExitStatus> st = child->Wait();
    if (!st.ok()) return 9;
    if (!st->exited()) return 10;  // killed by SIGPIPE
    return st->exit_code();
  });
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 means the forked child died of SIGPIPE";
}

}  // namespace
