// The state a pool shares with its handles and its supervisor (see
// internal/pool_core.h).
#include "tubo/internal/pool_core.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace tubo {
namespace internal {

void PoolCore::Wake() {
  if (wake_pending || !wake_write.valid()) return;
  wake_pending = true;
  // One byte in an empty pipe: never blocks. A failure cannot happen while
  // the supervisor holds the read end, which it does as long as it runs.
  ssize_t n;
  do {
    n = ::write(wake_write.get(), "w", 1);
  } while (n < 0 && errno == EINTR);
}

void PoolCore::Finish(PoolTask& task, absl::StatusOr<Bytes> outcome, bool notify) {
  if (task.phase == PoolTask::Phase::kDone) return;
  task.phase = PoolTask::Phase::kDone;
  task.outcome = std::move(outcome);
  std::string().swap(task.input);
  --in_flight;
  if (task.on_done) {
    task.on_done(task.id);
    task.on_done = nullptr;
  }
  notify_due = true;
  if (notify) NotifyDone();
}

void PoolCore::NotifyDone() {
  if (!notify_due) return;
  notify_due = false;
  if (on_any_done) on_any_done();
  cv.notify_all();
}

std::shared_ptr<PoolTask> PoolCore::TakePending() {
  while (!pending.empty()) {
    std::shared_ptr<PoolTask> task = std::move(pending.front());
    pending.pop_front();
    if (task->phase != PoolTask::Phase::kPending) continue;  // cancelled
    task->phase = PoolTask::Phase::kSent;
    return task;
  }
  return nullptr;
}

}  // namespace internal
}  // namespace tubo
