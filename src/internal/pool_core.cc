// The state a pool shares with its handles and its supervisor (see
// internal/pool_core.h).
#include "tubo/internal/pool_core.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/io.h"

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

namespace {

// Makes the eventfd `fd` readable (its counter stays above zero: nobody reads it).
void Signal(int fd) {
  const uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(fd, &one, sizeof one);
  } while (n < 0 && errno == EINTR);
}

}  // namespace

absl::Status PoolTask::EnsureDoneFd() {
  if (done_fd.valid()) return absl::OkStatus();
  const int fd = OffStdio(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (fd < 0) return SystemError(errno, absl::StrCat("task ", id, ": eventfd"));
  done_fd = OwnedFd::Adopt(fd);
  if (phase == Phase::kDone) Signal(fd);
  return absl::OkStatus();
}

void PoolCore::Finish(PoolTask& task, absl::StatusOr<Bytes> outcome, bool notify) {
  if (task.phase == PoolTask::Phase::kDone) return;
  task.phase = PoolTask::Phase::kDone;
  task.outcome = std::move(outcome);
  std::string().swap(task.input);
  if (task.done_fd.valid()) Signal(task.done_fd.get());
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
