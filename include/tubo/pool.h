/// @file
/// @brief `Pool`: a stream of byte tasks farmed out to worker processes
/// (contract 4), with exact blame when a worker dies.
///
/// @code
///   // In the worker (the self start method):
///   TUBO_ENTRY(upper) {
///     return tubo::ServePoolTasks([](std::string_view task) -> absl::StatusOr<std::string> {
///       return absl::AsciiStrToUpper(task);
///     });
///   }
///
///   // In the parent:
///   absl::StatusOr<std::unique_ptr<tubo::Pool>> pool =
///       tubo::Pool::Create(tubo::WorkerStart::Self("upper"));
///   absl::StatusOr<tubo::Task> task = (*pool)->Submit("hello");
///   absl::StatusOr<tubo::Bytes> result = task->Result();   // "HELLO"
///   (*pool)->Close().IgnoreError();                          // finish, join the workers
/// @endcode
///
/// **Failure semantics.** Each worker has its own two channels (`tasks`,
/// `results`: Unix stream sockets used one way each, so that no send on either
/// side needs SIGPIPE blocked around it) and is owned through a pidfd; the pool keeps, per worker,
/// the FIFO of task ids it sent and has no answer for. Since a worker runs its tasks one at a time
/// in the order they arrive (contract 4), when it dies the oldest of them is the one it was
/// running:
/// - a task the worker reports as failed gives `Error::kTaskFailed` with the
///   worker's message; the worker goes on;
/// - a worker that dies (any exit, any signal) fails exactly the oldest task
///   it had not answered, with `Error::kWorkerDied` and a message naming the
///   task id, the worker's pid and its exit status; the tasks queued behind
///   it run elsewhere, once; the worker is replaced (with `retries`, the task
///   is first run again on another worker);
/// - a worker that dies before its ready frame blames no task; it is
///   replaced with back-off, and after `max_start_failures` consecutive
///   start failures the pool fails its pending tasks with `Error::kSpawn`
///   saying why (and stays broken: later submissions fail the same way).
///
/// **Thread-safety**: every member of `Pool` and of `Task` may be called from
/// any thread, concurrently.
#ifndef TUBO_POOL_H_
#define TUBO_POOL_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/bytes.h"
#include "tubo/end.h"
#include "tubo/pool_worker.h"

namespace tubo {

class ForkServer;
class WorkerStart;
class Pool;

namespace internal {
struct PoolCore;
struct PoolTask;
class PoolSupervisor;
struct LaunchedWorker;
absl::StatusOr<LaunchedWorker> LaunchWorker(const WorkerStart& start);
absl::Status CheckWorkerStart(const WorkerStart& start);
void SetPoolDoneHook(Pool& pool, std::function<void()> hook);
}  // namespace internal

/// @brief How a pool starts each of its workers: the self, exec or fork start
/// method, described once and used for every worker (replacements included).
///
/// Every worker gets the channels `tasks` (mode `r`) and `results` (mode `w`)
/// by contract 2, dies with this process (`Command::DieWithParent`,
/// `ForkOptions::die_with_parent`) and leads its own process group, so that
/// a timeout stops whatever the worker started too.
class WorkerStart {
 public:
  /// The self start method: this binary re-executed into the entry point
  /// `entry` (see `Command::Self`), which usually calls `ServePoolTasks`.
  static WorkerStart Self(std::string entry);
  /// The exec start method: `program` (a path, or a name looked up in
  /// `PATH`, see `Command`), any program that follows contract 4.
  static WorkerStart Exec(std::string program);
  /// The fork start method: `fn(tasks, results)` in a forked child; its
  /// return value is the worker's exit code (`ServePoolTasks(tasks, results,
  /// ...)` is the usual body). The pool forks from its supervisor thread,
  /// so the child is forked from a process with several threads
  /// (`ForkOptions::allow_threads`): use it only if no other thread of this
  /// process can hold a lock (malloc's included) that `fn` takes, or prefer
  /// `Self`. Not available to a process that must never fork (Go).
  static WorkerStart Fork(std::function<int(ReadEnd tasks, WriteEnd results)> fn);
  /// The fork server start method: the entry point `entry`, as for `Self`,
  /// in a worker forked by `server` (see `tubo/fork_server.h`), so a worker
  /// (a replacement included) starts in a fraction of a self worker's time,
  /// whatever this process's size and threads. With no `server`, the pool
  /// gets one of its own, started with the first worker and shared by the
  /// copies of this `WorkerStart`; one server can serve several pools.
  static WorkerStart ForkServer(std::string entry,
                                std::shared_ptr<tubo::ForkServer> server = nullptr);

  /// Appends one argument (self, exec and fork server).
  WorkerStart& Arg(std::string arg);
  /// Sets `name=value` in the worker's environment (self, exec and fork
  /// server; for the fork server, over the server's environment).
  WorkerStart& SetEnv(std::string name, std::string value);
  /// Runs the worker in `dir` (self, exec and fork server).
  WorkerStart& WorkingDirectory(std::string dir);
  /// Captures the worker's standard error (self, exec and fork server): the pool copies
  /// it to this process's standard error as it arrives and keeps its last
  /// 4 KiB, quoted in the error of a worker that died before it was ready.
  /// Off by default: the worker inherits standard error.
  WorkerStart& CaptureStderr(bool capture = true);

  /// A short description for messages: `self "entry"`, `exec "program"`,
  /// `fork`, `fork server "entry"`.
  std::string Describe() const;

 private:
  friend absl::StatusOr<internal::LaunchedWorker> internal::LaunchWorker(const WorkerStart&);
  friend absl::Status internal::CheckWorkerStart(const WorkerStart&);
  enum class Kind { kSelf, kExec, kFork, kForkServer };
  Kind kind_ = Kind::kExec;
  std::string target_;  // the entry (self, fork server) or the program (exec)
  std::vector<std::string> args_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::optional<std::string> cwd_;
  bool capture_stderr_ = false;
  std::function<int(ReadEnd, WriteEnd)> fork_fn_;
  std::shared_ptr<tubo::ForkServer> fork_server_;
};

/// @brief A pool's options. Every field has a usable default.
struct PoolOptions {
  /// The number of workers; 0 means one per CPU this process may run on
  /// (`sched_getaffinity`).
  int workers = 0;
  /// How many tasks may be submitted and not yet finished at once, across
  /// the pool (the back-pressure window): `Submit` waits for room. 0 means
  /// `4 * workers * (1 + prefetch)`, with `kMaxAutoPrefetch` for an automatic
  /// `prefetch`. A finished task leaves the window whether or not its result
  /// was collected.
  size_t max_in_flight = 0;
  /// How many tasks the pool sends a worker beyond the one it runs (the
  /// worker reads them ahead but starts each only after answering the
  /// previous one); they wait behind it, and run elsewhere if it dies. 0
  /// waits for each result before sending the next task. `kAutoPrefetch`
  /// (the default) adapts to the tasks: as many as fit in about a
  /// millisecond of the recent tasks' running time, between 1 and
  /// `kMaxAutoPrefetch`, so that tiny tasks stream (one write carries
  /// several, a worker rarely waits) while long ones queue no deeper than 1.
  int prefetch = kAutoPrefetch;
  /// `prefetch`'s default: adapt to the tasks' running time.
  static constexpr int kAutoPrefetch = -1;
  /// The deepest an automatic `prefetch` goes.
  static constexpr int kMaxAutoPrefetch = 15;
  /// Recycling: a worker is sent at most this many tasks, then its `tasks`
  /// channel is closed (it exits 0 after the last) and a new worker replaces
  /// it. 0: no limit (`maxtasksperchild`).
  int max_tasks_per_worker = 0;
  /// Recycling: after each result, a worker whose resident memory
  /// (`/proc/PID/statm`) is above this many bytes is sent no more tasks and
  /// is retired as above. 0: no ceiling.
  uint64_t max_worker_rss_bytes = 0;
  /// How many times a task whose worker died is run again on another worker
  /// before it fails with `Error::kWorkerDied` (only for idempotent work).
  int retries = 0;
  /// Per-task timeout, counted from when the worker starts the task (when
  /// the previous task's result arrived, or when it was sent to an idle
  /// worker). On expiry the worker and its process group get SIGKILL, the
  /// task fails with `Error::kTimeout`, and the worker is replaced.
  absl::Duration task_timeout = absl::InfiniteDuration();
  /// After this many consecutive workers died before they were ready (or
  /// could not be started at all), the pool gives up: pending tasks, and
  /// every later submission, fail with `Error::kSpawn`.
  int max_start_failures = 5;
  /// The delay before restarting after a start failure; doubled after each
  /// consecutive one, at most `max_restart_delay`.
  absl::Duration restart_delay = absl::Milliseconds(10);
  /// The longest delay between restarts.
  absl::Duration max_restart_delay = absl::Seconds(1);
};

/// @brief A handle on one submitted task: its id, its state, its result. A
/// future: copies share the task; it stays valid after the pool is gone.
class Task {
 public:
  /// An empty handle (`valid()` is false); the other members must not be
  /// called on it.
  Task() = default;
  /// True unless the handle is empty.
  bool valid() const { return task_ != nullptr; }
  /// The task's id within its pool (contract 4: never 0).
  uint64_t id() const;
  /// True once the task has a final outcome (a result or an error).
  bool done() const;
  /// Waits until the task is done or `timeout` passes; returns `done()`.
  bool Wait(absl::Duration timeout = absl::InfiniteDuration()) const;
  /// Waits until the task is done and returns its outcome (a copy; every
  /// call returns the same). Errors: `Error::kTaskFailed` (the worker's
  /// message), `Error::kWorkerDied`, `Error::kTimeout` (the task's timeout,
  /// not a wait's), `Error::kCancelled` (`Cancel`, `Pool::Terminate`, the
  /// pool's destructor), `Error::kSpawn` (the pool could not keep workers
  /// running).
  absl::StatusOr<Bytes> Result() const;
  /// Cancels the task if no worker was sent it yet: it then fails with
  /// `Error::kCancelled` and returns true. Returns false if it was already
  /// sent (it will run) or is done.
  bool Cancel();
  /// A descriptor readable once the task is done, for event loops (poll,
  /// epoll, another library's loop); a `WaitSet` takes the task itself
  /// (`WaitSet::Add(const Task&, key)`). Borrowed: an eventfd (close-on-exec)
  /// that belongs to the task, shared by every copy of the handle and closed
  /// when the last of them and the pool let go of the task; never read it or
  /// close it. Created by the first call (a task not waited for this way
  /// costs no descriptor); the same one afterwards. It stays readable once
  /// the task is done. Errors: `Error::kSystem` from `eventfd` (EMFILE: out
  /// of descriptors). C: `tubo_task_fd`.
  absl::StatusOr<BorrowedFd> fd() const;

 private:
  friend class Pool;
  friend class WaitSet;
  Task(std::shared_ptr<internal::PoolCore> core, std::shared_ptr<internal::PoolTask> task)
      : core_(std::move(core)), task_(std::move(task)) {}
  std::shared_ptr<internal::PoolCore> core_;
  std::shared_ptr<internal::PoolTask> task_;
};

/// @brief A pool of worker processes serving byte tasks by contract 4.
///
/// One supervisor thread per pool waits (one `WaitSet`) on the workers'
/// `results` ends, their pidfds and a wake pipe, starts and replaces
/// workers, sends tasks, reads results, and enforces timeouts and recycling.
class Pool {
 public:
  /// Starts a pool: validates `options`, starts the supervisor thread, which
  /// starts `options.workers` workers with `start`. Returns before the
  /// workers are ready; tasks submitted meanwhile wait for them. A worker
  /// that cannot be started counts as a start failure (see the file comment).
  ///
  /// Errors: `Error::kInvalidArgument` for a negative count, a fork start
  /// without a function, an empty program or entry, or an option out of
  /// range (the message names it); `Error::kSystem` if the wake pipe, the
  /// wait set or the thread cannot be created.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(WorkerStart start,
                                                      const PoolOptions& options = PoolOptions());

  /// Terminates (see `Terminate`): a pool going out of scope stops at once
  /// and never waits for work; call `Close` first to finish what was
  /// submitted. Tasks not done fail with `Error::kCancelled`; their handles
  /// stay valid. Every worker is killed and reaped, every descriptor closed.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Submits `task` (its bytes are copied) and returns its handle. Waits up
  /// to `timeout` for room in the window (`PoolOptions::max_in_flight`).
  /// Errors: `Error::kTimeout` if the window stayed full (nothing was
  /// submitted); `Error::kClosed` after `Close` or `Terminate`;
  /// `Error::kSpawn` once the pool gave up starting workers.
  absl::StatusOr<Task> Submit(std::string_view task,
                              absl::Duration timeout = absl::InfiniteDuration());
  /// `Submit` that never waits: `Error::kTimeout` at once if the window is full.
  absl::StatusOr<Task> TrySubmit(std::string_view task) {
    return Submit(task, absl::ZeroDuration());
  }

  /// Runs every task `next` gives (it returns `std::nullopt` after the last)
  /// and calls `each(index, outcome)` with the outcomes **in input order**
  /// (`index` counts from 0). At most `max_in_flight` tasks of the map are
  /// submitted and not yet given to `each` at once, so the input is read as
  /// the results are consumed, never materialised. `each` returning false
  /// stops the map: tasks not yet sent are cancelled, the others finish
  /// unobserved. A task's failure is its outcome, not the map's. `next` and
  /// `each` run on the calling thread. Errors: those of `Submit` (other than
  /// the timeout); the tasks already submitted are then cancelled.
  absl::Status Map(absl::FunctionRef<std::optional<std::string>()> next,
                   absl::FunctionRef<bool(size_t index, absl::StatusOr<Bytes> outcome)> each);
  /// `Map` with the outcomes in the order the tasks finish (`index` still
  /// names the input).
  absl::Status MapUnordered(
      absl::FunctionRef<std::optional<std::string>()> next,
      absl::FunctionRef<bool(size_t index, absl::StatusOr<Bytes> outcome)> each);

  /// No more tasks: waits until every task submitted is done, closes the
  /// workers' `tasks` channels so they exit, reaps them and joins the
  /// supervisor. Later `Submit` calls fail with `Error::kClosed`. Calling it
  /// again (or after `Terminate`) returns at once. Errors: none so far
  /// (a status, so that one can be added).
  absl::Status Close();
  /// Stops now: tasks not done fail with `Error::kCancelled`, every worker
  /// and its process group gets SIGKILL and is reaped, the supervisor is
  /// joined. Calling it again returns at once.
  void Terminate();

  /// The pids of the workers running now (ready or starting), for tests and
  /// monitoring.
  std::vector<pid_t> worker_pids() const;
  /// The number of workers started so far (replacements included).
  uint64_t workers_started() const;
  /// The options in effect (the defaults resolved: `workers`, `max_in_flight`).
  const PoolOptions& options() const { return options_; }

 private:
  // The C ABI's notification descriptor (capi/tubo_pool.h) is written by
  // this hook: `hook()` runs under the pool's lock after tasks are done (once
  // for all the results a supervisor round gave, once per other task).
  friend void internal::SetPoolDoneHook(Pool&, std::function<void()>);
  Pool(PoolOptions options, std::shared_ptr<internal::PoolCore> core,
       std::unique_ptr<internal::PoolSupervisor> supervisor);
  absl::StatusOr<Task> SubmitTo(std::string_view task, absl::Duration timeout,
                                std::function<void(uint64_t)> on_done);
  absl::Status MapImpl(bool ordered, absl::FunctionRef<std::optional<std::string>()> next,
                       absl::FunctionRef<bool(size_t, absl::StatusOr<Bytes>)> each);
  void Shutdown(bool terminate);

  PoolOptions options_;
  std::shared_ptr<internal::PoolCore> core_;
  std::unique_ptr<internal::PoolSupervisor> supervisor_;
};

}  // namespace tubo

#endif  // TUBO_POOL_H_
