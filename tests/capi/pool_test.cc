// The worker pool through the C ABI (tubo_pool.h) with real worker processes:
// C workers served by tubo_pool_serve for the self, exec, fork and fork server
// start methods; a failing task; a SIGKILLed worker blamed exactly; cancel; close
// and terminate; task timeout; start failures; option errors; the notify
// descriptor; a task's own descriptor and a task in a wait set beside an
// end; no leaked descriptors or children.
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
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

// A pool of `workers` workers started as `s`, with `extra` options set.
tubo_pool* MakePool(Start s, int workers, std::vector<std::pair<int, int64_t>> extra = {}) {
  tubo_worker_start* start = MakeStart(s);
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
