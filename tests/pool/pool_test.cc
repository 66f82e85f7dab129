// Pool basics: every start method round-trips, Map keeps order,
// MapUnordered does not wait for the slow, the window bounds what is in
// flight, a failed task keeps its worker, Submit is safe from many threads,
// a standard-library Python worker serves a C++ pool (contract 4), and tasks
// wait in a WaitSet beside ends and processes.
#include "tubo/pool.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/pool/workers.h"
#include "tests/test_util.h"
#include "tubo/error.h"
#include "tubo/fork_server.h"
#include "tubo/pipe.h"
#include "tubo/wait.h"

namespace {

using namespace tubo_test;  // NOLINT: the shared test helpers

using tubo::Error;
using tubo::ErrorOf;
using tubo::Pool;
using tubo::PoolOptions;
using tubo::WorkerStart;

constexpr char kExecWorker[] = "tests/pool/pool_test_worker";

std::unique_ptr<Pool> MakePool(WorkerStart start, PoolOptions options = PoolOptions()) {
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(std::move(start), options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? std::move(*pool) : nullptr;
}

void RoundTrip(WorkerStart start) {
  PoolOptions options;
  options.workers = 2;
  std::unique_ptr<Pool> pool = MakePool(std::move(start), options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<tubo::Task> task = pool->Submit(absl::StrCat("echo value-", i));
    ASSERT_TRUE(task.ok()) << task.status();
    EXPECT_NE(task->id(), 0u);
    tasks.push_back(*task);
  }
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<tubo::Bytes> result = tasks[i].Result();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->str(), absl::StrCat("value-", i));
  }
  EXPECT_TRUE(pool->Close().ok());
}

TEST(Pool, RoundTripSelf) { RoundTrip(WorkerStart::Self("pool_worker")); }
TEST(Pool, RoundTripExec) { RoundTrip(WorkerStart::Exec(kExecWorker)); }
TEST(Pool, RoundTripFork) { RoundTrip(WorkerStart::Fork(pool_test::ForkWorker)); }
TEST(Pool, RoundTripForkServer) { RoundTrip(WorkerStart::ForkServer("pool_worker")); }

// Two pools share one fork server; a worker killed mid-task is blamed and
// its replacement comes from the same server.
TEST(Pool, ForkServerSharedByPoolsReplacesAKilledWorker) {
  auto server = std::make_shared<tubo::ForkServer>();
  PoolOptions options;
  options.workers = 1;
  std::unique_ptr<Pool> a = MakePool(WorkerStart::ForkServer("pool_worker", server), options);
  std::unique_ptr<Pool> b = MakePool(WorkerStart::ForkServer("pool_worker", server), options);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  absl::StatusOr<tubo::Task> killed = a->Submit("kill mid-task");
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_FALSE(killed->Result().ok());
  const pid_t server_pid = server->server_pid();  // started with the first worker
  EXPECT_GT(server_pid, 0);
  for (Pool* pool : {a.get(), b.get()}) {
    absl::StatusOr<tubo::Task> task = pool->Submit("echo after");
    ASSERT_TRUE(task.ok()) << task.status();
    absl::StatusOr<tubo::Bytes> result = task->Result();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->str(), "after");
  }
  EXPECT_EQ(server->server_pid(), server_pid);
  EXPECT_TRUE(a->Close().ok());
  EXPECT_TRUE(b->Close().ok());
}

// One wait over a task, an end and a process: each is reported when it, and
// only it, is ready; a task done before it was added is ready at once; its
// descriptor works with poll; it is closed once no handle or set holds it.
TEST(Pool, TasksWaitInAWaitSetWithEndsAndProcesses) {
  PoolOptions options;
  options.workers = 1;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok()) << set.status();
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  ASSERT_TRUE(set->Add(pipe->reader, 1).ok());

  absl::StatusOr<tubo::Task> slow = pool->Submit("sleep 300");
  ASSERT_TRUE(slow.ok()) << slow.status();
  ASSERT_TRUE(set->Add(*slow, 2).ok());
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Milliseconds(50));
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(ready->empty()) << "nothing is ready while the task runs";

  ASSERT_TRUE(pipe->writer.Send("ping").ok());
  ready = set->Wait(absl::Seconds(10));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{1}) << "the end, not the running task";
  ASSERT_TRUE(pipe->reader.Recv().ok());

  ready = set->Wait(absl::Seconds(30));
  ASSERT_TRUE(ready.ok());
  ASSERT_EQ(*ready, std::vector<uint64_t>{2});
  EXPECT_TRUE(slow->done());
  absl::StatusOr<tubo::Bytes> result = slow->Result();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->str(), "slept");
  ready = set->Wait(absl::ZeroDuration());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{2}) << "a done task stays ready";
  EXPECT_FALSE(set->Add(*slow, 3).ok()) << "one task, one key";
  ASSERT_TRUE(set->Remove(2).ok());

  // Failed and crashed tasks are done too.
  absl::StatusOr<tubo::Task> killer = pool->Submit("kill waitset");
  ASSERT_TRUE(killer.ok());
  ASSERT_TRUE(set->Add(*killer, 4).ok());
  ready = set->Wait(absl::Seconds(30));
  ASSERT_TRUE(ready.ok());
  ASSERT_EQ(*ready, std::vector<uint64_t>{4});
  EXPECT_EQ(ErrorOf(killer->Result().status()), Error::kWorkerDied);
  ASSERT_TRUE(set->Remove(4).ok());

  // Done before it is added: ready at once; its descriptor polls readable.
  absl::StatusOr<tubo::Task> quick = pool->Submit("echo quick");
  ASSERT_TRUE(quick.ok());
  ASSERT_TRUE(quick->Result().ok());
  ASSERT_TRUE(set->Add(*quick, 5).ok());
  ready = set->Wait(absl::ZeroDuration());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{5});
  absl::StatusOr<tubo::BorrowedFd> fd = quick->fd();
  ASSERT_TRUE(fd.ok());
  pollfd p{fd->get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  absl::StatusOr<tubo::BorrowedFd> again = quick->fd();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), fd->get()) << "one descriptor per task";

  // A process in the same set.
  absl::StatusOr<tubo::Process> child = tubo::Command("true").Spawn();
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(set->Add(*child, 6).ok());
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {  // key 5 stays ready meanwhile: wait until 6 joins it
    ready = set->Wait(absl::Milliseconds(10));
    ASSERT_TRUE(ready.ok());
  } while (std::find(ready->begin(), ready->end(), 6) == ready->end() && absl::Now() < give_up);
  EXPECT_NE(std::find(ready->begin(), ready->end(), 6), ready->end());
  ASSERT_TRUE(child->Wait().ok());

  // The set and the handle were the last holders: the eventfd is closed.
  const int number = fd->get();
  ASSERT_TRUE(set->Remove(5).ok());
  quick = absl::StatusOr<tubo::Task>(tubo::Task());
  EXPECT_EQ(::fcntl(number, F_GETFD), -1) << "the task's descriptor outlived every holder";
  EXPECT_TRUE(pool->Close().ok());
}

TEST(Pool, StdlibPythonWorkerServesACppPool) {
  PoolOptions options;
  options.workers = 2;
  std::unique_ptr<Pool> pool =
      MakePool(WorkerStart::Exec("python3").Arg("tests/pool/stdlib_worker.py"), options);
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<tubo::Task> ok = pool->Submit("hello");
  absl::StatusOr<tubo::Task> failed = pool->Submit("fail no good");
  ASSERT_TRUE(ok.ok() && failed.ok());
  absl::StatusOr<tubo::Bytes> result = ok->Result();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->str(), "HELLO");
  EXPECT_EQ(ErrorOf(failed->Result().status()), Error::kTaskFailed);
  EXPECT_EQ(failed->Result().status().message(), "no good");
  EXPECT_TRUE(pool->Close().ok());
}

TEST(Pool, MapGivesResultsInInputOrder) {
  PoolOptions options;
  options.workers = 3;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  int i = 0;
  std::vector<std::string> seen;
  absl::Status mapped = pool->Map(
      [&]() -> std::optional<std::string> {
        if (i == 30) return std::nullopt;
        // Early tasks are slower: they finish after later ones.
        const int n = i++;
        return n % 5 == 0 ? std::string("sleep 60") : absl::StrCat("echo ", n);
      },
      [&](size_t index, absl::StatusOr<tubo::Bytes> outcome) {
        EXPECT_EQ(index, seen.size());
        EXPECT_TRUE(outcome.ok()) << outcome.status();
        seen.push_back(outcome.ok() ? outcome->str() : "?");
        return true;
      });
  ASSERT_TRUE(mapped.ok()) << mapped;
  ASSERT_EQ(seen.size(), 30u);
  for (int n = 0; n < 30; ++n) {
    EXPECT_EQ(seen[n], n % 5 == 0 ? std::string("slept") : absl::StrCat(n)) << n;
  }
}

TEST(Pool, MapUnorderedDoesNotWaitForTheSlowOne) {
  PoolOptions options;
  options.workers = 2;
  options.prefetch = 0;  // nothing waits behind the slow task on its worker
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  int i = 0;
  std::vector<size_t> order;
  absl::Status mapped = pool->MapUnordered(
      [&]() -> std::optional<std::string> {
        if (i == 10) return std::nullopt;
        return i++ == 0 ? std::string("sleep 500") : absl::StrCat("echo ", i - 1);
      },
      [&](size_t index, absl::StatusOr<tubo::Bytes> outcome) {
        EXPECT_TRUE(outcome.ok()) << outcome.status();
        if (outcome.ok()) {
          EXPECT_EQ(outcome->str(), index == 0 ? "slept" : absl::StrCat(index));
        }
        order.push_back(index);
        return true;
      });
  ASSERT_TRUE(mapped.ok()) << mapped;
  ASSERT_EQ(order.size(), 10u);
  EXPECT_EQ(std::set<size_t>(order.begin(), order.end()).size(), 10u);
  EXPECT_EQ(order.back(), 0u) << "the slow task should finish last";
}

// The automatic prefetch: after tasks that take long, at most one task waits
// behind a running one; after tiny tasks, a worker reads several ahead, and
// every result is still exact and in order.
TEST(Pool, AutomaticPrefetchQueuesLittleBehindLongTasks) {
  PoolOptions options;
  options.workers = 2;
  ASSERT_EQ(options.prefetch, PoolOptions::kAutoPrefetch) << "the default";
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  // Tiny tasks first: the pool streams them (checked for order and content).
  int n = 0;
  absl::Status mapped = pool->Map(
      [&]() -> std::optional<std::string> {
        if (n == 2000) return std::nullopt;
        return absl::StrCat("echo ", n++);
      },
      [&](size_t index, absl::StatusOr<tubo::Bytes> outcome) {
        EXPECT_TRUE(outcome.ok() && outcome->str() == absl::StrCat(index)) << index;
        return true;
      });
  ASSERT_TRUE(mapped.ok()) << mapped;
  // Long tasks teach it otherwise: 8 tasks of 100 ms.
  std::vector<tubo::Task> warm;
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<tubo::Task> t = pool->Submit("sleep 100");
    ASSERT_TRUE(t.ok());
    warm.push_back(*t);
  }
  for (auto& t : warm) ASSERT_TRUE(t.Result().ok());
  // Now a 3 s task and ten echoes: one may wait behind it, the rest run on
  // the other worker at once.
  absl::StatusOr<tubo::Task> slow = pool->Submit("sleep 3000");
  ASSERT_TRUE(slow.ok());
  absl::SleepFor(absl::Milliseconds(50));  // it is sent first
  std::vector<tubo::Task> echoes;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<tubo::Task> t = pool->Submit(absl::StrCat("echo ", i));
    ASSERT_TRUE(t.ok());
    echoes.push_back(*t);
  }
  int waiting = 0;
  for (auto& t : echoes) waiting += !t.Wait(absl::Milliseconds(1500));
  EXPECT_LE(waiting, 1) << "tasks queued behind the 3 s task after long tasks";
  EXPECT_FALSE(slow->done());
  EXPECT_TRUE(pool->Close().ok());
}

TEST(Pool, MapKeepsAtMostTheWindowInFlight) {
  PoolOptions options;
  options.workers = 2;
  options.max_in_flight = 4;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  int pulled = 0;
  int delivered = 0;
  int most = 0;
  absl::Status mapped = pool->Map(
      [&]() -> std::optional<std::string> {
        if (pulled == 40) return std::nullopt;
        ++pulled;
        most = std::max(most, pulled - delivered);
        return std::string("sleep 5");
      },
      [&](size_t, absl::StatusOr<tubo::Bytes> outcome) {
        EXPECT_TRUE(outcome.ok());
        ++delivered;
        return true;
      });
  ASSERT_TRUE(mapped.ok()) << mapped;
  EXPECT_EQ(delivered, 40);
  EXPECT_LE(most, 4);
  EXPECT_GE(most, 2);  // and it did run tasks side by side
}

TEST(Pool, SubmitWaitsForRoomInTheWindow) {
  PoolOptions options;
  options.workers = 1;
  options.max_in_flight = 3;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  std::vector<tubo::Task> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(*pool->Submit("sleep 300"));
  absl::StatusOr<tubo::Task> full = pool->TrySubmit("echo x");
  EXPECT_EQ(ErrorOf(full.status()), Error::kTimeout) << full.status();
  absl::StatusOr<tubo::Task> waited = pool->Submit("echo x", absl::Milliseconds(100));
  EXPECT_EQ(ErrorOf(waited.status()), Error::kTimeout) << waited.status();
  absl::StatusOr<tubo::Task> later = pool->Submit("echo x", absl::Seconds(30));  // a task ends
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(tasks[0].done());
  EXPECT_EQ(later->Result()->str(), "x");
}

TEST(Pool, AFailedTaskKeepsItsWorker) {
  PoolOptions options;
  options.workers = 1;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  const std::string before = pool->Submit("pid x")->Result()->str();
  absl::StatusOr<tubo::Bytes> failed = pool->Submit("fail the disk is on fire")->Result();
  EXPECT_EQ(ErrorOf(failed.status()), Error::kTaskFailed) << failed.status();
  EXPECT_EQ(failed.status().message(), "the disk is on fire");
  EXPECT_EQ(pool->Submit("pid x")->Result()->str(), before);
  EXPECT_EQ(pool->workers_started(), 1u);
}

TEST(Pool, SubmitFromManyThreads) {
  PoolOptions options;
  options.workers = 2;
  options.max_in_flight = 8;
  std::unique_ptr<Pool> pool = MakePool(WorkerStart::Self("pool_worker"), options);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<std::string, tubo::Task>> mine;
      for (int i = 0; i < 200; ++i) {
        std::string value = absl::StrCat(t, "-", i);
        absl::StatusOr<tubo::Task> task = pool->Submit("echo " + value);
        if (task.ok()) mine.emplace_back(value, *task);
      }
      for (auto& [value, task] : mine) {
        absl::StatusOr<tubo::Bytes> r = task.Result();
        if (r.ok() && r->str() == value) ++right;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(right.load(), 800);
}

TEST(Pool, BadOptionsAreNamed) {
  PoolOptions options;
  options.workers = -1;
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(WorkerStart::Self("x"), options);
  EXPECT_EQ(ErrorOf(pool.status()), Error::kInvalidArgument);
  EXPECT_TRUE(MessageHas(pool.status(), "workers is -1"));
  pool = Pool::Create(WorkerStart::Exec(""));
  EXPECT_TRUE(MessageHas(pool.status(), "empty program"));
}

}  // namespace
