// A pool's life: cancel a task not yet sent, Close finishes what was
// submitted, Terminate and the destructor stop at once and cancel the rest,
// recycling after K tasks or above a memory ceiling, and nothing left
// behind: no child, no descriptor.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/pool/workers.h"
#include "tests/test_util.h"
#include "tubo/error.h"
#include "tubo/pool.h"

namespace {

using namespace tubo_test;  // NOLINT: the shared test helpers

using tubo::Error;
using tubo::ErrorOf;
using tubo::Pool;
using tubo::PoolOptions;
using tubo::WorkerStart;

std::unique_ptr<Pool> MakePool(PoolOptions options,
                               WorkerStart start = WorkerStart::Self("pool_worker")) {
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(std::move(start), options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? std::move(*pool) : nullptr;
}

PoolOptions Workers(int n) {
  PoolOptions options;
  options.workers = n;
  return options;
}

TEST(PoolLifecycle, CancelATaskNotYetSent) {
  PoolOptions options = Workers(1);
  options.prefetch = 0;
  std::unique_ptr<Pool> pool = MakePool(options);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Submit("echo ready")->Result().ok());  // the worker is ready
  tubo::Task running = *pool->Submit("sleep 300");
  absl::SleepFor(absl::Milliseconds(100));  // the idle worker has been sent it
  tubo::Task waiting = *pool->Submit("echo never");
  ASSERT_TRUE(waiting.Cancel());
  EXPECT_FALSE(waiting.Cancel());
  absl::Status cancelled = waiting.Result().status();
  EXPECT_EQ(ErrorOf(cancelled), Error::kCancelled) << cancelled;
  EXPECT_TRUE(MessageHas(cancelled, absl::StrCat("task ", waiting.id())));
  EXPECT_FALSE(running.Cancel()) << "a task already sent was cancelled";
  EXPECT_EQ(running.Result()->str(), "slept");
}

TEST(PoolLifecycle, CloseFinishesEverythingSubmitted) {
  std::unique_ptr<Pool> pool = MakePool(Workers(2));
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(*pool->Submit("sleep 20"));
  ASSERT_TRUE(pool->Close().ok());
  for (auto& t : tasks) {
    ASSERT_TRUE(t.done());
    EXPECT_EQ(t.Result()->str(), "slept");
  }
  EXPECT_TRUE(pool->worker_pids().empty());
  absl::StatusOr<tubo::Task> late = pool->Submit("echo late");
  EXPECT_EQ(ErrorOf(late.status()), Error::kClosed) << late.status();
}

TEST(PoolLifecycle, TerminateStopsNowAndCancelsTheRest) {
  std::unique_ptr<Pool> pool = MakePool(Workers(2));
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(*pool->Submit("sleep 10000"));
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time start = absl::Now();
  pool->Terminate();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  for (auto& t : tasks) EXPECT_EQ(ErrorOf(t.Result().status()), Error::kCancelled);
  EXPECT_TRUE(pool->worker_pids().empty());
}

TEST(PoolLifecycle, TheDestructorTerminates) {
  tubo::Task task;
  std::vector<pid_t> pids;
  {
    std::unique_ptr<Pool> pool = MakePool(Workers(1));
    ASSERT_NE(pool, nullptr);
    task = *pool->Submit("sleep 10000");
    for (int i = 0; i < 200 && pool->worker_pids().empty(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    pids = pool->worker_pids();
  }
  ASSERT_TRUE(task.Wait(absl::Seconds(1)));  // the handle outlives its pool
  EXPECT_EQ(ErrorOf(task.Result().status()), Error::kCancelled);
  for (pid_t pid : pids) EXPECT_FALSE(pool_test::Alive(pid));
}

TEST(PoolLifecycle, RecyclesAfterMaxTasksPerWorker) {
  PoolOptions options = Workers(1);
  options.max_tasks_per_worker = 2;
  std::unique_ptr<Pool> pool = MakePool(options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(*pool->Submit(absl::StrCat("pid ", i)));
  std::vector<std::string> pids;
  for (auto& t : tasks) {
    absl::StatusOr<tubo::Bytes> r = t.Result();
    ASSERT_TRUE(r.ok()) << r.status();
    pids.push_back(r->str());
  }
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[2], pids[3]);
  EXPECT_EQ(pids[4], pids[5]);
  EXPECT_EQ(std::set<std::string>(pids.begin(), pids.end()).size(), 3u);
}

TEST(PoolLifecycle, RecyclesAWorkerAboveTheMemoryCeiling) {
  PoolOptions options = Workers(1);
  options.max_worker_rss_bytes = 64 << 20;
  std::unique_ptr<Pool> pool = MakePool(options);
  ASSERT_NE(pool, nullptr);
  const std::string first = pool->Submit("pid a")->Result()->str();
  EXPECT_EQ(pool->Submit("pid b")->Result()->str(), first);  // small: kept
  ASSERT_TRUE(pool->Submit("alloc 100")->Result().ok());
  EXPECT_NE(pool->Submit("pid c")->Result()->str(), first);
}

TEST(PoolLifecycle, LeavesNoChildAndNoDescriptor) {
  // A first pool starts what lives as long as the process (tubo's spawner
  // thread): count after it.
  { MakePool(Workers(1))->Submit("echo warm")->Result().IgnoreError(); }
  const int fds = pool_test::OpenFdCount();
  const std::set<pid_t> children = pool_test::Children();
  for (bool close : {true, false}) {
    PoolOptions options = Workers(3);
    options.task_timeout = absl::Seconds(1);
    std::unique_ptr<Pool> pool =
        MakePool(options, WorkerStart::Self("pool_worker").CaptureStderr());
    ASSERT_NE(pool, nullptr);
    std::vector<tubo::Task> tasks;
    for (int i = 0; i < 30; ++i) {
      const char* what = i % 10 == 3 ? "kill x" : i % 10 == 5 ? "sleep 3000" : "echo y";
      tasks.push_back(*pool->Submit(what));
    }
    for (auto& t : tasks) t.Wait();
    if (close) {
      ASSERT_TRUE(pool->Close().ok());
    }
    pool.reset();
    EXPECT_EQ(pool_test::OpenFdCount(), fds) << (close ? "after Close" : "after the destructor");
    EXPECT_EQ(pool_test::Children(), children);
  }
}

}  // namespace
