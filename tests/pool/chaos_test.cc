// The chaos run: N tiny tasks (TUBO_CHAOS_TASKS, default 10 000, times
// TUBO_STRESS_SCALE), 1 % SIGKILL their worker and 1 % fail. Every other
// result is right, exactly the killers fail with WorkerDied and the failers
// with their message, nothing hangs, nothing runs twice, nothing leaks.
// Prints its figures as one "STRESS pool chaos [c++]: ..." line.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

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

constexpr int kWorkers = 2;

// The task count: TUBO_CHAOS_TASKS (default 10 000) scaled by
// TUBO_STRESS_SCALE; 0 (and a failure naming it) for a bad count.
int ChaosTasks() {
  const char* tasks = std::getenv("TUBO_CHAOS_TASKS");
  if (tasks == nullptr) return StressScaled(10000);
  int n = 0;
  if (!absl::SimpleAtoi(tasks, &n) || n < 1 || n > 100000000) {
    ADD_FAILURE() << "TUBO_CHAOS_TASKS=\"" << tasks << "\": want a positive whole number of tasks";
    return 0;
  }
  return StressScaled(n);
}

TEST(PoolChaos, KillersAndFailersAreBlamedExactly) {
  const int n = ChaosTasks();
  ASSERT_GT(n, 0);
  const std::string log = TempPath("chaos.log");
  std::remove(log.c_str());
  { tubo::Pool::Create(tubo::WorkerStart::Self("pool_worker")).value()->Terminate(); }
  const int fds = pool_test::OpenFdCount();
  const std::set<pid_t> children = pool_test::Children();

  tubo::PoolOptions options;
  options.workers = kWorkers;
  std::unique_ptr<tubo::Pool> pool =
      tubo::Pool::Create(tubo::WorkerStart::Self("pool_worker").SetEnv("POOL_TEST_LOG", log),
                         options)
          .value();
  // Which task is a killer (1 %) or a failer (1 %): a fixed scatter.
  auto kind = [](int i) { return (i * 7919) % 100; };
  int right = 0, died = 0, failed = 0, wrong = 0;
  const absl::Time start = absl::Now();
  int next = 0;
  absl::Status mapped = pool->MapUnordered(
      [&]() -> std::optional<std::string> {
        if (next == n) return std::nullopt;
        const int i = next++;
        if (kind(i) == 0) return absl::StrCat("kill ", i);
        if (kind(i) == 1) return absl::StrCat("fail failer ", i);
        return absl::StrCat("echo ", i);
      },
      [&](size_t index, absl::StatusOr<tubo::Bytes> outcome) {
        const int i = static_cast<int>(index);
        if (kind(i) == 0) {
          died += tubo::ErrorOf(outcome.status()) == tubo::Error::kWorkerDied;
        } else if (kind(i) == 1) {
          failed += tubo::ErrorOf(outcome.status()) == tubo::Error::kTaskFailed &&
                    outcome.status().message() == absl::StrCat("failer ", i);
        } else if (outcome.ok() && outcome->str() == absl::StrCat(i)) {
          ++right;
        } else {
          ++wrong;
        }
        return true;
      });
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(mapped.ok()) << mapped;
  ASSERT_TRUE(pool->Close().ok());
  int killers = 0, failers = 0;
  for (int i = 0; i < n; ++i) {
    killers += kind(i) == 0;
    failers += kind(i) == 1;
  }
  EXPECT_EQ(died, killers);
  EXPECT_EQ(failed, failers);
  EXPECT_EQ(right, n - killers - failers);
  EXPECT_EQ(wrong, 0);
  std::map<std::string, int> counts = pool_test::ExecutionCounts(log);
  int duplicates = 0;
  for (const auto& [task, times] : counts) duplicates += times != 1;
  EXPECT_EQ(static_cast<int>(counts.size()), n);
  EXPECT_EQ(duplicates, 0);
  const uint64_t started = pool->workers_started();
  pool.reset();
  const int leaked_fds = pool_test::OpenFdCount() - fds;
  std::set<pid_t> left = pool_test::Children();
  const int leaked_children = static_cast<int>(
      std::count_if(left.begin(), left.end(), [&](pid_t pid) { return children.count(pid) == 0; }));
  EXPECT_EQ(leaked_fds, 0);
  EXPECT_EQ(leaked_children, 0);
  STRESS_FIGURE(
      "pool chaos [c++]: %d tasks (%d killers, %d raisers) on %d workers in %.2f s: %.0f "
      "tasks/s, %llu workers started, %d duplicates, %d leaked fds, %d leaked children",
      n, killers, failers, kWorkers, absl::ToDoubleSeconds(took), n / absl::ToDoubleSeconds(took),
      static_cast<unsigned long long>(started), duplicates, leaked_fds, leaked_children);
}

}  // namespace
