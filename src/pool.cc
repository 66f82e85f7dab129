// Pool and Task: submitting, waiting, mapping, closing (see tubo/pool.h).
// The workers themselves are the supervisor's (internal/pool_supervisor.cc).
#include "tubo/pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/pool_core.h"
#include "tubo/internal/pool_launch.h"
#include "tubo/internal/pool_supervisor.h"

namespace tubo {
namespace {

absl::Status BadOption(absl::string_view what) {
  return WithError(absl::InvalidArgumentError(absl::StrCat("pool: ", what)),
                   Error::kInvalidArgument);
}

int CpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
  return 1;
}

// Waits on `cv` under `lock` until `done()` or `timeout` passes; returns done().
template <typename Done>
bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
             absl::Duration timeout, Done done) {
  if (timeout == absl::InfiniteDuration()) {
    cv.wait(lock, done);
    return true;
  }
  return cv.wait_until(lock, absl::ToChronoTime(absl::Now() + timeout), done);
}

}  // namespace

uint64_t Task::id() const { return task_->id; }

bool Task::done() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return task_->phase == internal::PoolTask::Phase::kDone;
}

bool Task::Wait(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(core_->mu);
  return WaitFor(core_->cv, lock, timeout,
                 [&] { return task_->phase == internal::PoolTask::Phase::kDone; });
}

absl::StatusOr<Bytes> Task::Result() const {
  std::unique_lock<std::mutex> lock(core_->mu);
  core_->cv.wait(lock, [&] { return task_->phase == internal::PoolTask::Phase::kDone; });
  return task_->outcome;
}

bool Task::Cancel() {
  std::lock_guard<std::mutex> lock(core_->mu);
  if (task_->phase != internal::PoolTask::Phase::kPending) return false;
  core_->Finish(*task_, WithError(absl::CancelledError(absl::StrCat(
                                      "task ", task_->id, " was cancelled before it started")),
                                  Error::kCancelled));
  return true;
}

absl::StatusOr<BorrowedFd> Task::fd() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  absl::Status made = task_->EnsureDoneFd();
  if (!made.ok()) return made;
  return task_->done_fd.Borrow();
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(WorkerStart start, const PoolOptions& options) {
  PoolOptions resolved = options;
  if (resolved.workers < 0) return BadOption(absl::StrCat("workers is ", resolved.workers));
  if (resolved.workers == 0) resolved.workers = CpuCount();
  if (resolved.prefetch < PoolOptions::kAutoPrefetch) {
    return BadOption(
        absl::StrCat("prefetch is ", resolved.prefetch, " (0 or more, or kAutoPrefetch)"));
  }
  if (resolved.max_tasks_per_worker < 0) {
    return BadOption(absl::StrCat("max_tasks_per_worker is ", resolved.max_tasks_per_worker));
  }
  if (resolved.retries < 0) return BadOption(absl::StrCat("retries is ", resolved.retries));
  if (resolved.max_start_failures < 1) {
    return BadOption(
        absl::StrCat("max_start_failures is ", resolved.max_start_failures, " (at least 1)"));
  }
  if (resolved.task_timeout <= absl::ZeroDuration()) {
    return BadOption(absl::StrCat("task_timeout is ", absl::FormatDuration(resolved.task_timeout),
                                  " (positive, or infinite for none)"));
  }
  if (resolved.restart_delay < absl::ZeroDuration() ||
      resolved.max_restart_delay < resolved.restart_delay) {
    return BadOption("restart_delay must be >= 0 and <= max_restart_delay");
  }
  absl::Status checked = internal::CheckWorkerStart(start);
  if (!checked.ok()) return checked;
  if (resolved.max_in_flight == 0) {
    const int prefetch = resolved.prefetch == PoolOptions::kAutoPrefetch
                             ? PoolOptions::kMaxAutoPrefetch
                             : resolved.prefetch;
    resolved.max_in_flight = 4 * static_cast<size_t>(resolved.workers) * (1 + prefetch);
  }
  auto core = std::make_shared<internal::PoolCore>();
  core->max_in_flight = resolved.max_in_flight;
  absl::StatusOr<std::unique_ptr<internal::PoolSupervisor>> supervisor =
      internal::PoolSupervisor::Start(std::move(start), resolved, core);
  if (!supervisor.ok()) return supervisor.status();
  return std::unique_ptr<Pool>(new Pool(resolved, std::move(core), std::move(*supervisor)));
}

Pool::Pool(PoolOptions options, std::shared_ptr<internal::PoolCore> core,
           std::unique_ptr<internal::PoolSupervisor> supervisor)
    : options_(std::move(options)), core_(std::move(core)), supervisor_(std::move(supervisor)) {}

Pool::~Pool() { Terminate(); }

absl::StatusOr<Task> Pool::Submit(std::string_view task, absl::Duration timeout) {
  return SubmitTo(task, timeout, nullptr);
}

absl::StatusOr<Task> Pool::SubmitTo(std::string_view input, absl::Duration timeout,
                                    std::function<void(uint64_t)> on_done) {
  auto task = std::make_shared<internal::PoolTask>();
  task->input.assign(input.data(), input.size());
  task->on_done = std::move(on_done);
  std::unique_lock<std::mutex> lock(core_->mu);
  const bool room = WaitFor(core_->cv, lock, timeout, [&] {
    return core_->in_flight < core_->max_in_flight || core_->closing || core_->terminating ||
           !core_->broken.ok();
  });
  if (core_->closing || core_->terminating) {
    return WithError(absl::FailedPreconditionError("pool: Submit after Close or Terminate"),
                     Error::kClosed);
  }
  if (!core_->broken.ok()) return core_->broken;
  if (!room) {
    return WithError(absl::DeadlineExceededError(absl::StrCat(
                         "pool: Submit: the window of ", core_->max_in_flight,
                         " tasks in flight stayed full for ", absl::FormatDuration(timeout))),
                     Error::kTimeout);
  }
  task->id = core_->next_id++;
  ++core_->in_flight;
  core_->pending.push_back(task);
  core_->WakeForTask();
  return Task(core_, std::move(task));
}

absl::Status Pool::Map(absl::FunctionRef<std::optional<std::string>()> next,
                       absl::FunctionRef<bool(size_t index, absl::StatusOr<Bytes> outcome)> each) {
  return MapImpl(true, next, each);
}

absl::Status Pool::MapUnordered(
    absl::FunctionRef<std::optional<std::string>()> next,
    absl::FunctionRef<bool(size_t index, absl::StatusOr<Bytes> outcome)> each) {
  return MapImpl(false, next, each);
}

absl::Status Pool::MapImpl(bool ordered, absl::FunctionRef<std::optional<std::string>()> next,
                           absl::FunctionRef<bool(size_t, absl::StatusOr<Bytes>)> each) {
  // The map's own window: tasks submitted and not yet given to `each`.
  std::deque<std::pair<size_t, Task>> window;
  // Unordered: the ids of finished tasks, in the order they finished (under core_->mu).
  auto finished = std::make_shared<std::deque<uint64_t>>();
  auto cancel_all = [&] {
    for (auto& [index, task] : window) task.Cancel();
  };
  size_t submitted = 0;
  bool input_done = false;
  for (;;) {
    // Refill once half the window is consumed, or when the next outcome is
    // not there yet (the wait would come anyway): submissions then arrive
    // in bursts, which the supervisor sends a few per write, rather than one
    // per consumed result.
    const bool refill = window.size() <= options_.max_in_flight / 2 ||
                        (ordered ? !window.front().second.done() : [&] {
                          std::lock_guard<std::mutex> lock(core_->mu);
                          return finished->empty();
                        }());
    while (refill && !input_done && window.size() < options_.max_in_flight) {
      std::optional<std::string> input = next();
      if (!input) {
        input_done = true;
        break;
      }
      std::function<void(uint64_t)> on_done;
      if (!ordered) on_done = [finished](uint64_t id) { finished->push_back(id); };
      absl::StatusOr<Task> task = SubmitTo(*input, absl::InfiniteDuration(), std::move(on_done));
      if (!task.ok()) {
        cancel_all();
        return task.status();
      }
      window.emplace_back(submitted++, std::move(*task));
    }
    if (window.empty()) return absl::OkStatus();
    // Every outcome there is now, taken under one lock (ordered: the done
    // tasks at the front of the window; unordered: every finished one), so
    // that a burst of results costs one wake-up; then given to `each`
    // without the lock. The map's handles are its own: outcomes are moved.
    std::vector<std::pair<size_t, absl::StatusOr<Bytes>>> outs;
    {
      using Phase = internal::PoolTask::Phase;
      std::unique_lock<std::mutex> lock(core_->mu);
      if (ordered) {
        core_->cv.wait(lock, [&] { return window.front().second.task_->phase == Phase::kDone; });
        while (!window.empty() && window.front().second.task_->phase == Phase::kDone) {
          outs.emplace_back(window.front().first, std::move(window.front().second.task_->outcome));
          window.pop_front();
        }
      } else {
        core_->cv.wait(lock, [&] { return !finished->empty(); });
        for (uint64_t id : *finished) {
          auto it = std::find_if(window.begin(), window.end(),
                                 [&](const auto& entry) { return entry.second.id() == id; });
          outs.emplace_back(it->first, std::move(it->second.task_->outcome));
          window.erase(it);
        }
        finished->clear();
      }
    }
    for (auto& [index, outcome] : outs) {
      if (!each(index, std::move(outcome))) {
        cancel_all();
        return absl::OkStatus();
      }
    }
  }
}

absl::Status Pool::Close() {
  Shutdown(false);
  return absl::OkStatus();
}

void Pool::Terminate() { Shutdown(true); }

void Pool::Shutdown(bool terminate) {
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (terminate) {
      core_->terminating = true;
    } else {
      core_->closing = true;
    }
    core_->Wake();
    core_->cv.notify_all();
  }
  supervisor_->Join();
  // Handles may outlive the pool: its wake pipe must not.
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->wake_write.Reset();
}

std::vector<pid_t> Pool::worker_pids() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->pids;
}

uint64_t Pool::workers_started() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->workers_started;
}

namespace internal {

void SetPoolDoneHook(Pool& pool, std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(pool.core_->mu);
  pool.core_->on_any_done = std::move(hook);
}

}  // namespace internal
}  // namespace tubo
