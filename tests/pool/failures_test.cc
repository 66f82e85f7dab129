// When workers fail: a SIGKILLed worker blames exactly the task it ran (the
// others run once, elsewhere), a worker that dies before it is ready blames
// none, a worker program that cannot start makes the pool give up with the
// reason, a task past its timeout stops its worker's whole process group,
// and retries run a crashed task again.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
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

std::unique_ptr<Pool> MakePool(WorkerStart start, PoolOptions options) {
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(std::move(start), options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? std::move(*pool) : nullptr;
}

TEST(PoolFailures, SigkillBlamesExactlyTheTaskItRan) {
  const std::string log = TempPath("sigkill.log");
  std::remove(log.c_str());
  PoolOptions options;
  options.workers = 2;
  options.prefetch = 2;  // tasks wait behind the killer on its worker
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log), options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 12; ++i) {
    tasks.push_back(*pool->Submit(i == 4 ? std::string("kill 4") : absl::StrCat("echo ", i)));
  }
  for (int i = 0; i < 12; ++i) {
    absl::StatusOr<tubo::Bytes> r = tasks[i].Result();
    if (i == 4) {
      EXPECT_EQ(ErrorOf(r.status()), Error::kWorkerDied) << r.status();
      EXPECT_TRUE(MessageHas(r.status(), absl::StrCat("task ", tasks[i].id(), ": worker pid ")));
      EXPECT_TRUE(MessageHas(r.status(), "signaled(9)"));
    } else {
      ASSERT_TRUE(r.ok()) << i << ": " << r.status();
      EXPECT_EQ(r->str(), absl::StrCat(i));
    }
  }
  ASSERT_TRUE(pool->Close().ok());
  std::map<std::string, int> counts = pool_test::ExecutionCounts(log);
  EXPECT_EQ(counts.size(), 12u);
  for (const auto& [task, n] : counts) EXPECT_EQ(n, 1) << task << " ran " << n << " times";
  EXPECT_EQ(pool->workers_started(), 3u);  // two, and one replacement
}

TEST(PoolFailures, ACrashBeforeReadyBlamesNoTask) {
  const std::string marker = TempPath("flaky_start");
  std::remove(marker.c_str());
  PoolOptions options;
  options.workers = 1;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_flaky_start").Arg(marker), options);
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<tubo::Bytes> r = pool->Submit("echo fine")->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->str(), "fine");
  EXPECT_EQ(pool->workers_started(), 2u);
}

TEST(PoolFailures, AWorkerThatCannotStartMakesThePoolGiveUpSayingWhy) {
  PoolOptions options;
  options.workers = 2;
  options.max_start_failures = 3;
  options.restart_delay = absl::Milliseconds(1);
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Exec("/bin/sh")
                                            .Arg("-c")
                                            .Arg("echo the config is missing >&2; exit 3")
                                            .CaptureStderr(),
                                        options);
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<tubo::Task> task = pool->Submit("echo x");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(task->Wait(absl::Seconds(20)));
  absl::Status failed = task->Result().status();
  EXPECT_EQ(ErrorOf(failed), Error::kSpawn) << failed;
  EXPECT_TRUE(MessageHas(failed, "3 consecutive worker start failures"));
  EXPECT_TRUE(MessageHas(failed, "exited(3) before it was ready"));
  EXPECT_TRUE(MessageHas(failed, "the config is missing"));
  absl::StatusOr<tubo::Task> later = pool->Submit("echo y");
  EXPECT_EQ(ErrorOf(later.status()), Error::kSpawn) << later.status();
}

TEST(PoolFailures, AProgramThatDoesNotExistIsAStartFailure) {
  PoolOptions options;
  options.workers = 1;
  options.max_start_failures = 2;
  options.restart_delay = absl::Milliseconds(1);
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Exec("/nonexistent/worker"), options);
  ASSERT_NE(pool, nullptr);
  absl::Status failed = pool->Submit("echo x")->Result().status();
  EXPECT_EQ(ErrorOf(failed), Error::kSpawn) << failed;
  EXPECT_TRUE(MessageHas(failed, "No such file or directory"));
}

TEST(PoolFailures, ATimeoutStopsTheWorkerAndItsGroup) {
  const std::string grandchild = TempPath("grandchild.pid");
  std::remove(grandchild.c_str());
  PoolOptions options;
  options.workers = 1;
  options.task_timeout = absl::Milliseconds(300);
  std::unique_ptr<Pool> pool = MakePool(
      WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_GRANDCHILD", grandchild), options);
  ASSERT_NE(pool, nullptr);
  const std::string pid_before = pool->Submit("pid x")->Result()->str();
  const absl::Time start = absl::Now();
  absl::StatusOr<tubo::Task> slow = pool->Submit("grandchild 20000");
  absl::StatusOr<tubo::Task> next = pool->Submit("pid y");  // queued behind it: runs elsewhere
  absl::Status timed_out = slow->Result().status();
  EXPECT_EQ(ErrorOf(timed_out), Error::kTimeout) << timed_out;
  EXPECT_TRUE(MessageHas(timed_out, absl::StrCat("task ", slow->id(), " timed out")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::StatusOr<tubo::Bytes> after = next->Result();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->str(), pid_before);
  std::ifstream in(grandchild);
  pid_t pid = 0;
  ASSERT_TRUE(in >> pid) << "the worker did not start its grandchild";
  for (int i = 0; i < 100 && pool_test::Alive(pid); ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_FALSE(pool_test::Alive(pid)) << "the worker's grandchild survived the timeout";
}

TEST(PoolFailures, RetriesRunACrashedTaskAgainElsewhere) {
  const std::string log = TempPath("retries.log");
  std::remove(log.c_str());
  PoolOptions options;
  options.workers = 2;
  options.retries = 2;
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log), options);
  ASSERT_NE(pool, nullptr);
  absl::Status failed = pool->Submit("kill always")->Result().status();
  EXPECT_EQ(ErrorOf(failed), Error::kWorkerDied) << failed;
  EXPECT_TRUE(MessageHas(failed, "after 2 retries"));
  ASSERT_TRUE(pool->Close().ok());
  EXPECT_EQ(pool_test::ExecutionCounts(log)["kill always"], 3);
}

TEST(PoolFailures, AWorkerBreakingTheProtocolIsKilledAndNamed) {
  // A worker whose first frame (on fd 4, its results channel) has status 7.
  PoolOptions options;
  options.workers = 1;
  options.max_start_failures = 1;
  std::string script = "\\000\\000\\000\\011";  // a 9-byte frame: id 0, status 7
  for (int i = 0; i < 8; ++i) script += "\\000";
  script += "\\007";
  std::unique_ptr<Pool> pool = MakePool(
      WorkerStart::Exec("/bin/sh").Arg("-c").Arg("printf '" + script + "' >&4; sleep 30"), options);
  ASSERT_NE(pool, nullptr);
  absl::Status failed = pool->Submit("echo x")->Result().status();
  EXPECT_EQ(ErrorOf(failed), Error::kSpawn) << failed;
  EXPECT_TRUE(MessageHas(failed, "status 7"));
}

}  // namespace
