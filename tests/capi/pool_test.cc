// The worker pool through the C ABI (tubo_pool.h) with real worker processes:
// C workers served by tubo_pool_serve for the self, exec, fork and fork server
// start methods; a failing task; a SIGKILLed worker blamed exactly; cancel;
// close and terminate; task timeout; retries; recycling after a number of
// tasks and above a memory ceiling; submitting from several threads at once;
// start failures; option errors; the notify descriptor; a task's own
// descriptor and a task in a wait set beside an end; tagged batches
// (tubo_pool_submit_tagged, tubo_pool_take_done); no leaked descriptors or
// children.
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pool_tasks.h"
#include "tests/capi/capi_error.h"
#include "tubo.h"

namespace {

using tubo_capi_test::Err;

constexpr char kEntry[] = "c_pool_worker";

int ServeEntry(int, char**) { return tubo_pool_serve(pool_run_task, nullptr); }

enum class Start { kSelf, kExec, kFork, kForkServer };

const char* StartName(Start s) {
  switch (s) {
    case Start::kSelf:
      return "self";
    case Start::kExec:
      return "exec";
    case Start::kFork:
      return "fork";
    case Start::kForkServer:
      return "fork_server";
  }
  return "?";
}

tubo_worker_start* MakeStart(Start s) {
  tubo_worker_start* start = nullptr;
  int rc = TUBO_E_OTHER;
  switch (s) {
    case Start::kSelf:
      rc = tubo_worker_start_new_self(&start, kEntry, nullptr);
      break;
    case Start::kExec:
      rc = tubo_worker_start_new_exec(&start, "tests/capi/capi_pool_worker", nullptr);
      break;
    case Start::kFork:
      rc = tubo_worker_start_new_fork(&start, pool_fork_worker, nullptr, nullptr);
      break;
    case Start::kForkServer:
      rc = tubo_worker_start_new_fork_server(&start, kEntry, nullptr, nullptr);
      break;
  }
  EXPECT_EQ(rc, TUBO_OK);
  return start;
}

// A pool of `workers` workers started as `s`, with `extra` options set and
// `env` ("NAME", "value") in the workers' environment.
tubo_pool* MakePool(Start s, int workers, std::vector<std::pair<int, int64_t>> extra = {},
                    std::vector<std::pair<std::string, std::string>> env = {}) {
  tubo_worker_start* start = MakeStart(s);
  for (const auto& [name, value] : env) {
    EXPECT_EQ(tubo_worker_start_env_set(start, name.c_str(), value.c_str(), nullptr), TUBO_OK);
  }
  tubo_pool_options* options = nullptr;
  EXPECT_EQ(tubo_pool_options_new(&options, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_pool_options_set(options, TUBO_POOL_WORKERS, workers, nullptr), TUBO_OK);
  for (auto [option, value] : extra) {
    EXPECT_EQ(tubo_pool_options_set(options, option, value, nullptr), TUBO_OK);
  }
  tubo_pool* pool = nullptr;
  Err err;
  EXPECT_EQ(tubo_pool_new(&pool, start, options, &err), TUBO_OK) << err.msg();
  tubo_pool_options_free(options);
  tubo_worker_start_free(start);
  return pool;
}

tubo_task* Submit(tubo_pool* pool, const std::string& task) {
  tubo_task* t = nullptr;
  Err err;
  EXPECT_EQ(tubo_pool_submit(&t, pool, task.data(), task.size(), -1, &err), TUBO_OK) << err.msg();
  return t;
}

// The task's result as a string, or "<code name>: <message>".
std::string Outcome(const tubo_task* task) {
  tubo_bytes* b = nullptr;
  Err err;
  const int rc = tubo_task_result(&b, task, &err);
  if (rc != TUBO_OK) return std::string(tubo_code_name(rc)) + ": " + err.msg();
  std::string s(reinterpret_cast<const char*>(b->data), b->len);
  tubo_bytes_free(b);
  return s;
}

int ResultCode(const tubo_task* task) {
  tubo_bytes* b = nullptr;
  const int rc = tubo_task_result(&b, task, nullptr);
  if (rc == TUBO_OK) tubo_bytes_free(b);
  return rc;
}

int OpenFdCount() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* e = ::readdir(dir)) count += e->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory's own descriptor
}

// The pids the pool reports (tubo_pool_worker_pids).
std::vector<int> WorkerPids(const tubo_pool* pool) {
  std::vector<int> pids(tubo_pool_worker_pids(pool, nullptr, 0) + 4);
  pids.resize(std::min(pids.size(), tubo_pool_worker_pids(pool, pids.data(), pids.size())));
  return pids;
}

// Waits until tubo_pool_worker_pids gives exactly `want`; false after 5 s.
bool WaitForWorkerPids(const tubo_pool* pool, const std::vector<int>& want) {
  for (int i = 0; i < 500 && WorkerPids(pool) != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WorkerPids(pool) == want;
}

// A fresh path in the test's scratch directory.
std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/capi_pool_" + name;
  std::remove(path.c_str());
  return path;
}

// How many times `line` appears in the file at `path` (the POOL_TEST_LOG
// execution log).
int CountLines(const std::string& path, const std::string& line) {
  std::ifstream in(path);
  int n = 0;
  for (std::string l; std::getline(in, l);) n += l == line;
  return n;
}

class PoolStarts : public ::testing::TestWithParam<Start> {};

TEST_P(PoolStarts, RoundTripInOrderWithAFailingTask) {
  tubo_pool* pool = MakePool(GetParam(), 2);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(tubo_pool_workers(pool), 2);
  std::vector<tubo_task*> tasks;
  for (int i = 0; i < 50; ++i) {
    tasks.push_back(Submit(pool, i == 7 ? "fail boom 7" : "echo " + std::to_string(i)));
  }
  for (int i = 0; i < 50; ++i) {
    if (i == 7) {
      EXPECT_EQ(ResultCode(tasks[i]), TUBO_E_TASK_FAILED);
      EXPECT_EQ(Outcome(tasks[i]), "task_failed: boom 7");
    } else {
      EXPECT_EQ(Outcome(tasks[i]), std::to_string(i));
      EXPECT_EQ(Outcome(tasks[i]), std::to_string(i)) << "every call gives the same outcome";
    }
    EXPECT_EQ(tubo_task_done(tasks[i]), 1);
    EXPECT_NE(tubo_task_id(tasks[i]), 0u);
  }
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  for (tubo_task* t : tasks) tubo_task_free(t);
  tubo_pool_free(pool);
}

TEST_P(PoolStarts, AKilledWorkerFailsExactlyItsTask) {
  tubo_pool* pool = MakePool(GetParam(), 2);
  std::vector<tubo_task*> tasks;
  for (int i = 0; i < 30; ++i) {
    tasks.push_back(
        Submit(pool, i % 10 == 3 ? "kill " + std::to_string(i) : "echo " + std::to_string(i)));
  }
  for (int i = 0; i < 30; ++i) {
    if (i % 10 == 3) {
      Err err;
      tubo_bytes* b = nullptr;
      EXPECT_EQ(tubo_task_result(&b, tasks[i], &err), TUBO_E_WORKER_DIED) << i;
      EXPECT_EQ(err.code(), TUBO_E_WORKER_DIED);
      const std::string want = "task " + std::to_string(tubo_task_id(tasks[i])) + ": worker pid ";
      EXPECT_NE(err.msg().find(want), std::string::npos) << err.msg();
      EXPECT_NE(err.msg().find("signaled(9)"), std::string::npos) << err.msg();
    } else {
      EXPECT_EQ(Outcome(tasks[i]), std::to_string(i));
    }
  }
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  for (tubo_task* t : tasks) tubo_task_free(t);
  tubo_pool_free(pool);
}

INSTANTIATE_TEST_SUITE_P(Starts, PoolStarts,
                         ::testing::Values(Start::kSelf, Start::kExec, Start::kFork,
                                           Start::kForkServer),
                         [](const auto& info) { return std::string(StartName(info.param)); });

TEST(Pool, CancelBeforeItIsSent) {
  tubo_pool* pool = MakePool(Start::kSelf, 1, {{TUBO_POOL_PREFETCH, 0}});
  tubo_task* running = Submit(pool, "sleep 300");
  tubo_task* queued = Submit(pool, "echo never");
  EXPECT_EQ(tubo_task_cancel(queued), 1);
  EXPECT_EQ(tubo_task_cancel(queued), 0) << "already done";
  EXPECT_EQ(ResultCode(queued), TUBO_E_CANCELLED);
  EXPECT_EQ(tubo_task_wait(running, -1), 1);
  EXPECT_EQ(tubo_task_cancel(running), 0) << "done";
  EXPECT_EQ(Outcome(running), "slept");
  EXPECT_EQ(tubo_task_cancel(nullptr), 0);
  tubo_task_free(running);
  tubo_task_free(queued);
  tubo_pool_free(pool);
}

TEST(Pool, CloseFinishesWhatWasSubmitted) {
  tubo_pool* pool = MakePool(Start::kSelf, 2);
  std::vector<tubo_task*> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(Submit(pool, "sleep 100"));
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  for (tubo_task* t : tasks) {
    EXPECT_EQ(tubo_task_done(t), 1);
    EXPECT_EQ(Outcome(t), "slept");
    tubo_task_free(t);
  }
  EXPECT_EQ(tubo_pool_worker_pids(pool, nullptr, 0), 0u);
  tubo_task* late = nullptr;
  Err err;
  EXPECT_EQ(tubo_pool_submit(&late, pool, "echo x", 6, -1, &err), TUBO_E_CLOSED);
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK) << "again: at once";
  tubo_pool_free(pool);
}

TEST(Pool, TerminateCancelsAndKillsAtOnce) {
  tubo_pool* pool = MakePool(Start::kSelf, 1);
  tubo_task* t = Submit(pool, "sleep 10000");
  tubo_task* u = Submit(pool, "echo queued");
  int pids[4] = {0};
  // The worker is up once it runs the task.
  for (int i = 0; i < 500 && tubo_pool_worker_pids(pool, pids, 4) == 0; ++i) ::usleep(10000);
  ASSERT_EQ(tubo_pool_worker_pids(pool, pids, 4), 1u);
  const auto before = std::chrono::steady_clock::now();
  tubo_pool_terminate(pool);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(ResultCode(t), TUBO_E_CANCELLED);
  EXPECT_EQ(ResultCode(u), TUBO_E_CANCELLED);
  EXPECT_EQ(::kill(pids[0], 0), -1) << "the worker is gone and reaped";
  tubo_pool_terminate(pool);  // again: at once
  tubo_pool_free(pool);
  EXPECT_EQ(ResultCode(t), TUBO_E_CANCELLED) << "tasks outlive their pool";
  tubo_task_free(t);
  tubo_task_free(u);
}

TEST(Pool, FreeWithoutCloseTerminates) {
  tubo_pool* pool = MakePool(Start::kExec, 1);
  tubo_task* t = Submit(pool, "sleep 10000");
  tubo_pool_free(pool);
  EXPECT_EQ(ResultCode(t), TUBO_E_CANCELLED);
  tubo_task_free(t);
}

TEST(Pool, TaskTimeoutFailsTheTaskAndReplacesTheWorker) {
  tubo_pool* pool = MakePool(Start::kSelf, 1, {{TUBO_POOL_TASK_TIMEOUT_MS, 200}});
  tubo_task* slow = Submit(pool, "sleep 10000");
  tubo_task* next = Submit(pool, "echo after");
  EXPECT_EQ(ResultCode(slow), TUBO_E_TIMEOUT);
  EXPECT_EQ(Outcome(next), "after");
  tubo_task_free(slow);
  tubo_task_free(next);
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  tubo_pool_free(pool);
}

TEST(Pool, RetriesRunATaskWhoseWorkerDiedAgain) {
  const std::string log = TempPath("retries.log");
  tubo_pool* pool = MakePool(Start::kSelf, 1, {{TUBO_POOL_RETRIES, 1}}, {{"POOL_TEST_LOG", log}});
  ASSERT_NE(pool, nullptr);
  // A task that kills every worker it runs on: run twice, then failed.
  tubo_task* killer = Submit(pool, "kill always");
  EXPECT_EQ(ResultCode(killer), TUBO_E_WORKER_DIED);
  EXPECT_NE(Outcome(killer).find("after 1 retries"), std::string::npos) << Outcome(killer);
  // An idempotent task whose first worker dies under it (killed here while
  // it runs) succeeds on its retry.
  tubo_task* sleeper = Submit(pool, "sleep 1000");
  for (int i = 0; i < 3000 && CountLines(log, "sleep 1000") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(CountLines(log, "sleep 1000"), 1) << "the worker did not start the task";
  const std::vector<int> pids = WorkerPids(pool);  // one worker: the one running it
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  EXPECT_EQ(Outcome(sleeper), "slept");
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  EXPECT_EQ(CountLines(log, "kill always"), 2);
  EXPECT_EQ(CountLines(log, "sleep 1000"), 2);
  tubo_task_free(killer);
  tubo_task_free(sleeper);
  tubo_pool_free(pool);
}

TEST(Pool, RecyclesAfterMaxTasksPerWorker) {
  tubo_pool* pool = MakePool(Start::kExec, 1, {{TUBO_POOL_MAX_TASKS_PER_WORKER, 2}});
  ASSERT_NE(pool, nullptr);
  std::vector<tubo_task*> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(Submit(pool, "pid " + std::to_string(i)));
  std::vector<std::string> pids;
  for (tubo_task* t : tasks) pids.push_back(Outcome(t));
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[2], pids[3]);
  EXPECT_EQ(pids[4], pids[5]);
  EXPECT_EQ(std::set<std::string>(pids.begin(), pids.end()).size(), 3u)
      << pids[0] << " " << pids[2] << " " << pids[4];
  // The three workers, each recycled after its second task, leave
  // tubo_pool_worker_pids; the one there then is a fourth, which runs the
  // next task.
  std::vector<int> now;
  for (int i = 0; i < 500; ++i) {
    now = WorkerPids(pool);
    if (now.size() == 1 &&
        std::find(pids.begin(), pids.end(), std::to_string(now[0])) == pids.end()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(now.size(), 1u) << ::testing::PrintToString(now);
  EXPECT_EQ(std::find(pids.begin(), pids.end(), std::to_string(now[0])), pids.end())
      << now[0] << " was recycled";
  tasks.push_back(Submit(pool, "pid 6"));
  EXPECT_EQ(Outcome(tasks.back()), std::to_string(now[0]));
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  for (tubo_task* t : tasks) tubo_task_free(t);
  tubo_pool_free(pool);
}

TEST(Pool, RecyclesAWorkerAboveTheMemoryCeiling) {
  tubo_pool* pool = MakePool(Start::kExec, 1, {{TUBO_POOL_MAX_WORKER_RSS_BYTES, 64 << 20}});
  ASSERT_NE(pool, nullptr);
  auto run = [pool](const std::string& task) {
    tubo_task* t = Submit(pool, task);
    std::string outcome = Outcome(t);
    tubo_task_free(t);
    return outcome;
  };
  const std::string first = run("pid a");
  EXPECT_EQ(run("pid b"), first) << "a worker under the ceiling was recycled";
  EXPECT_TRUE(WaitForWorkerPids(pool, {std::atoi(first.c_str())}));
  EXPECT_EQ(run("alloc 100"), "ok");
  const std::string second = run("pid c");
  EXPECT_NE(second, first) << "the worker above the ceiling was kept";
  EXPECT_TRUE(WaitForWorkerPids(pool, {std::atoi(second.c_str())}))
      << "worker pids " << ::testing::PrintToString(WorkerPids(pool)) << ", want " << second;
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  tubo_pool_free(pool);
}

TEST(Pool, SubmitFromManyThreadsAtOnce) {
  constexpr int kThreads = 4, kEach = 100;
  // A small window: the threads also wait for room together.
  tubo_pool* pool = MakePool(Start::kExec, 2, {{TUBO_POOL_MAX_IN_FLIGHT, 8}});
  ASSERT_NE(pool, nullptr);
  std::mutex mu;
  std::map<uint64_t, std::string> ids;
  std::vector<std::string> wrong;
  std::vector<std::thread> threads;
  for (int n = 0; n < kThreads; ++n) {
    threads.emplace_back([&, n] {
      std::vector<tubo_task*> tasks;
      for (int i = 0; i < kEach; ++i) {
        const std::string want = std::to_string(n) + "." + std::to_string(i);
        tubo_task* t = nullptr;
        const std::string task = "echo " + want;
        const int rc = tubo_pool_submit(&t, pool, task.data(), task.size(), -1, nullptr);
        std::lock_guard<std::mutex> lock(mu);
        if (rc != TUBO_OK) {
          wrong.push_back(want + ": submit " + tubo_code_name(rc));
          break;
        }
        if (!ids.emplace(tubo_task_id(t), want).second) {
          wrong.push_back(want + ": id " + std::to_string(tubo_task_id(t)) + " given twice");
        }
        tasks.push_back(t);
      }
      for (size_t i = 0; i < tasks.size(); ++i) {
        const std::string want = std::to_string(n) + "." + std::to_string(i);
        const std::string got = Outcome(tasks[i]);
        tubo_task_free(tasks[i]);
        if (got != want) {
          std::lock_guard<std::mutex> lock(mu);
          wrong.push_back(want + ": " + got);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(wrong.empty()) << ::testing::PrintToString(wrong);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  tubo_pool_free(pool);
}

TEST(Pool, StartFailuresGiveUpWithSpawn) {
  tubo_worker_start* start = nullptr;
  ASSERT_EQ(tubo_worker_start_new_exec(&start, "/nonexistent/tubo-worker", nullptr), TUBO_OK);
  tubo_pool_options* options = nullptr;
  ASSERT_EQ(tubo_pool_options_new(&options, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_pool_options_set(options, TUBO_POOL_WORKERS, 1, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_pool_options_set(options, TUBO_POOL_MAX_START_FAILURES, 2, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_pool_options_set(options, TUBO_POOL_RESTART_DELAY_MS, 1, nullptr), TUBO_OK);
  tubo_pool* pool = nullptr;
  ASSERT_EQ(tubo_pool_new(&pool, start, options, nullptr), TUBO_OK);
  tubo_task* t = Submit(pool, "echo x");
  EXPECT_EQ(ResultCode(t), TUBO_E_SPAWN);
  EXPECT_NE(Outcome(t).find("/nonexistent/tubo-worker"), std::string::npos) << Outcome(t);
  tubo_task_free(t);
  tubo_pool_free(pool);
  tubo_pool_options_free(options);
  tubo_worker_start_free(start);
}

TEST(Pool, SubmitWithoutWaitingWhenTheWindowIsFull) {
  tubo_pool* pool = MakePool(Start::kSelf, 1, {{TUBO_POOL_MAX_IN_FLIGHT, 1}});
  tubo_task* t = Submit(pool, "sleep 300");
  tubo_task* u = nullptr;
  Err err;
  EXPECT_EQ(tubo_pool_submit(&u, pool, "echo x", 6, 0, &err), TUBO_E_TIMEOUT);
  EXPECT_EQ(u, nullptr);
  EXPECT_EQ(tubo_pool_submit(&u, pool, "echo x", 6, -1, &err), TUBO_OK) << "waits for room";
  EXPECT_EQ(tubo_task_done(t), 1);
  EXPECT_EQ(Outcome(u), "x");
  tubo_task_free(t);
  tubo_task_free(u);
  tubo_pool_free(pool);
}

TEST(Pool, NotifyFdIsReadableWhenATaskIsDone) {
  tubo_pool* pool = MakePool(Start::kSelf, 1);
  const int fd = tubo_pool_notify_fd(pool);
  ASSERT_GE(fd, 3);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "nothing done yet";
  tubo_task* t = Submit(pool, "sleep 100");
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  EXPECT_EQ(tubo_task_done(t), 1);
  uint64_t count = 0;
  EXPECT_EQ(::read(fd, &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "read resets it";
  tubo_task_free(t);
  tubo_pool_free(pool);
  EXPECT_EQ(tubo_pool_notify_fd(nullptr), -1);
}

TEST(Pool, TaskFdAndWaitSetReportATaskWhenItIsDone) {
  tubo_pool* pool = MakePool(Start::kSelf, 1);
  tubo_wait_set* set = nullptr;
  Err err;
  ASSERT_EQ(tubo_wait_set_new(&set, &err), TUBO_OK) << err.msg();
  tubo_end* r = nullptr;
  tubo_end* w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, &err), TUBO_OK) << err.msg();
  ASSERT_EQ(tubo_wait_set_add_end(set, r, 1, &err), TUBO_OK) << err.msg();

  tubo_task* slow = Submit(pool, "sleep 200");
  int fd = -1;
  ASSERT_EQ(tubo_task_fd(&fd, slow, &err), TUBO_OK) << err.msg();
  ASSERT_GE(fd, 3);
  int again = -1;
  ASSERT_EQ(tubo_task_fd(&again, slow, nullptr), TUBO_OK);
  EXPECT_EQ(again, fd) << "one descriptor per task";
  ASSERT_EQ(tubo_wait_set_add_task(set, slow, 2, &err), TUBO_OK) << err.msg();
  EXPECT_EQ(tubo_wait_set_add_task(set, slow, 3, nullptr), TUBO_E_INVALID_ARGUMENT);
  tubo_task_free(slow);  // the set keeps the task (and its descriptor)

  uint64_t keys[4];
  size_t n = 99;
  ASSERT_EQ(tubo_wait_set_wait(&n, set, keys, 4, 20, &err), TUBO_OK) << err.msg();
  EXPECT_EQ(n, 0u) << "nothing ready while the task runs";
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  ASSERT_EQ(tubo_wait_set_wait(&n, set, keys, 4, 10000, &err), TUBO_OK) << err.msg();
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(keys[0], 2u);
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  ASSERT_EQ(tubo_wait_set_wait(&n, set, keys, 4, 0, &err), TUBO_OK);
  EXPECT_EQ(n, 1u) << "a done task stays ready";
  ASSERT_EQ(tubo_wait_set_remove(set, 2, &err), TUBO_OK) << err.msg();

  EXPECT_EQ(tubo_task_fd(&fd, nullptr, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_task_fd(nullptr, nullptr, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_wait_set_add_task(set, nullptr, 5, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_wait_set_add_task(nullptr, nullptr, 5, nullptr), TUBO_E_INVALID_ARGUMENT);
  tubo_end_free(r);
  tubo_end_free(w);
  tubo_wait_set_free(set);
  tubo_pool_free(pool);
}

// The records of one tubo_pool_take_done: tag -> (code, body).
void TakeDone(tubo_pool* pool, std::map<uint64_t, std::pair<int, std::string>>& out) {
  tubo_bytes* b = nullptr;
  size_t count = 0;
  Err err;
  ASSERT_EQ(tubo_pool_take_done(pool, &b, &count, nullptr, &err), TUBO_OK) << err.msg();
  if (count == 0) {
    EXPECT_EQ(b, nullptr);
    return;
  }
  ASSERT_NE(b, nullptr);
  size_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    uint64_t tag = 0;
    int32_t code = 0;
    uint64_t len = 0;
    ASSERT_LE(at + 20, b->len);
    std::memcpy(&tag, b->data + at, 8);
    std::memcpy(&code, b->data + at + 8, 4);
    std::memcpy(&len, b->data + at + 12, 8);
    at += 20;
    ASSERT_LE(at + len, b->len);
    EXPECT_EQ(out.count(tag), 0u) << "tag " << tag << " given twice";
    out[tag] = {code, std::string(reinterpret_cast<const char*>(b->data + at), len)};
    at += len;
  }
  EXPECT_EQ(at, b->len) << "the records fill the buffer";
  tubo_bytes_free(b);
}

TEST(Pool, TaggedTasksGoInAndComeBackInBatches) {
  // A window of 4: a batch of 40 goes in a prefix at a time (as much as the
  // window has room for while the call runs).
  tubo_pool* pool = MakePool(Start::kExec, 2, {{TUBO_POOL_MAX_IN_FLIGHT, 4}});
  std::string data;
  std::vector<size_t> lens;
  std::vector<uint64_t> tags;
  for (int i = 0; i < 40; ++i) {
    const std::string task = i == 5    ? "fail boom 5"
                             : i == 13 ? "kill 13"
                                       : "echo " + std::to_string(i);
    data += task;
    lens.push_back(task.size());
    tags.push_back(1000 + i);
  }
  std::map<uint64_t, std::pair<int, std::string>> got;
  size_t next = 0;
  const char* at = data.data();
  const int fd = tubo_pool_notify_fd(pool);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (got.size() < 40 && std::chrono::steady_clock::now() < deadline) {
    if (next < 40) {
      size_t submitted = 99;
      Err err;
      const int rc = tubo_pool_submit_tagged(pool, at, &lens[next], &tags[next], 40 - next, 0,
                                             &submitted, &err);
      if (rc == TUBO_E_TIMEOUT) {
        EXPECT_EQ(submitted, 0u);
      } else {
        ASSERT_EQ(rc, TUBO_OK) << err.msg();
        ASSERT_GE(submitted, 1u);
        ASSERT_LE(submitted, 40 - next);
      }
      for (size_t k = 0; k < submitted; ++k) at += lens[next + k];
      next += submitted;
    }
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 100);
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(fd, &count, sizeof count);
    TakeDone(pool, got);
  }
  ASSERT_EQ(got.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    const auto& [code, body] = got[1000 + i];
    if (i == 5) {
      EXPECT_EQ(code, TUBO_E_TASK_FAILED);
      EXPECT_EQ(body, "boom 5");
    } else if (i == 13) {
      EXPECT_EQ(code, TUBO_E_WORKER_DIED) << "a dying worker fails exactly its task";
      EXPECT_NE(body.find("worker pid "), std::string::npos) << body;
      EXPECT_NE(body.find("signaled(9)"), std::string::npos) << body;
    } else {
      EXPECT_EQ(code, TUBO_OK) << i << ": " << body;
      EXPECT_EQ(body, std::to_string(i));
    }
  }
  size_t pending = 99;
  tubo_bytes* b = nullptr;
  size_t count = 99;
  EXPECT_EQ(tubo_pool_take_done(pool, &b, &count, &pending, nullptr), TUBO_OK);
  EXPECT_EQ(count, 0u) << "a task taken is never given again";
  EXPECT_EQ(pending, 0u);
  EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
  size_t submitted = 99;
  Err err;
  const size_t len = 6;
  const uint64_t tag = 1;
  EXPECT_EQ(tubo_pool_submit_tagged(pool, "echo x", &len, &tag, 1, -1, &submitted, &err),
            TUBO_E_CLOSED);
  EXPECT_EQ(submitted, 0u);
  tubo_pool_free(pool);
}

TEST(Pool, TaggedCallsRefuseBadArguments) {
  tubo_pool* pool = MakePool(Start::kSelf, 1);
  const size_t len = 6;
  const uint64_t tag = 1;
  size_t submitted = 99;
  Err err;
  EXPECT_EQ(tubo_pool_submit_tagged(nullptr, "echo x", &len, &tag, 1, 0, &submitted, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(submitted, 0u);
  EXPECT_EQ(tubo_pool_submit_tagged(pool, "echo x", &len, &tag, 1, 0, nullptr, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_pool_submit_tagged(pool, "echo x", nullptr, &tag, 1, 0, &submitted, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("lens"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_submit_tagged(pool, "echo x", &len, nullptr, 1, 0, &submitted, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("tags"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_submit_tagged(pool, nullptr, &len, &tag, 1, 0, &submitted, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("data"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_submit_tagged(pool, "echo x", &len, &tag, 1, -2, &submitted, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("timeout_ms"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_submit_tagged(pool, nullptr, nullptr, nullptr, 0, 0, &submitted, &err),
            TUBO_OK)
      << "an empty batch";
  EXPECT_EQ(submitted, 0u);
  tubo_bytes* b = nullptr;
  size_t count = 0;
  EXPECT_EQ(tubo_pool_take_done(pool, nullptr, &count, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_pool_take_done(pool, &b, nullptr, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_pool_take_done(nullptr, &b, &count, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_pool_free(pool);
}

TEST(Pool, OptionErrorsNameTheOption) {
  tubo_pool_options* o = nullptr;
  ASSERT_EQ(tubo_pool_options_new(&o, nullptr), TUBO_OK);
  Err err;
  EXPECT_EQ(tubo_pool_options_set(o, 99, 1, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("unknown option 99"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_options_set(o, TUBO_POOL_WORKERS, -1, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("TUBO_POOL_WORKERS is -1"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_options_set(o, TUBO_POOL_TASK_TIMEOUT_MS, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("TUBO_POOL_TASK_TIMEOUT_MS is 0"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_pool_options_set(o, TUBO_POOL_MAX_START_FAILURES, 0, &err),
            TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_pool_options_set(nullptr, TUBO_POOL_WORKERS, 1, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("o is NULL"), std::string::npos) << err.msg();
  // Options that disagree are found by tubo_pool_new.
  ASSERT_EQ(tubo_pool_options_set(o, TUBO_POOL_RESTART_DELAY_MS, 500, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_pool_options_set(o, TUBO_POOL_MAX_RESTART_DELAY_MS, 100, nullptr), TUBO_OK);
  tubo_worker_start* start = MakeStart(Start::kSelf);
  tubo_pool* pool = nullptr;
  EXPECT_EQ(tubo_pool_new(&pool, start, o, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("restart_delay"), std::string::npos) << err.msg();
  EXPECT_EQ(pool, nullptr);
  tubo_worker_start_free(start);
  // An empty program.
  ASSERT_EQ(tubo_worker_start_new_exec(&start, "", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_pool_new(&pool, start, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_worker_start_free(start);
  EXPECT_EQ(tubo_pool_new(&pool, nullptr, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("start is NULL"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_worker_start_new_fork(&start, nullptr, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_pool_submit(nullptr, nullptr, nullptr, 0, -1, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_pool_options_free(o);
}

TEST(Pool, ServeRefusesNullsWithExitCode2) {
  EXPECT_EQ(tubo_pool_serve(nullptr, nullptr), 2);
  EXPECT_EQ(tubo_pool_serve_ends(nullptr, nullptr, pool_run_task, nullptr), 2);
}

TEST(Pool, NoLeakedDescriptorsOrChildren) {
  const int before = OpenFdCount();
  for (Start s : {Start::kSelf, Start::kExec, Start::kFork}) {
    tubo_pool* pool = MakePool(s, 2);
    tubo_task* a = Submit(pool, "kill 1");
    tubo_task* b = Submit(pool, "echo b");
    EXPECT_EQ(ResultCode(a), TUBO_E_WORKER_DIED);
    EXPECT_EQ(Outcome(b), "b");
    tubo_task_free(a);
    tubo_task_free(b);
    EXPECT_EQ(tubo_pool_close(pool, nullptr), TUBO_OK);
    tubo_pool_free(pool);
  }
  EXPECT_EQ(OpenFdCount(), before);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "no child left, not even a zombie";
}

}  // namespace

int main(int argc, char** argv) {
  if (tubo_entry_register(kEntry, ServeEntry, nullptr) != TUBO_OK) return 99;
  tubo_run_entry_if_requested(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
