// Internal: the state a pool shares with its task handles and its
// supervisor thread: the tasks, the queue of those not yet sent, the window,
// and the wake pipe. One mutex guards all of it. Not part of the public API.
//
// A std::mutex, not absl::Mutex: the system abseil is built without
// ThreadSanitizer annotations (see TakenNames in channel.cc).
#ifndef TUBO_INTERNAL_POOL_CORE_H_
#define TUBO_INTERNAL_POOL_CORE_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/bytes.h"
#include "tubo/fd.h"

namespace tubo {
namespace internal {

struct PoolTask {
  enum class Phase { kPending, kSent, kDone };

  uint64_t id = 0;
  std::string input;  // kept until done: a task whose worker died is sent again
  Phase phase = Phase::kPending;
  absl::StatusOr<Bytes> outcome = absl::UnknownError("not done");  // once kDone
  int deaths = 0;                            // how many workers died running it (retries)
  std::function<void(uint64_t id)> on_done;  // called under PoolCore::mu when done
  // An eventfd made readable when the task is done, created on demand
  // (Task::fd); guarded by PoolCore::mu.
  OwnedFd done_fd;

  // Creates `done_fd` if needed (readable at once if done). Call under PoolCore::mu.
  absl::Status EnsureDoneFd();
};

struct PoolCore {
  std::mutex mu;
  std::condition_variable cv;  // a task done, room in the window, a state change

  // Guarded by mu.
  std::deque<std::shared_ptr<PoolTask>> pending;  // not sent; done ones (cancelled) are skipped
  size_t in_flight = 0;                           // submitted and not done
  size_t max_in_flight = 0;
  uint64_t next_id = 1;
  bool closing = false;      // Close: no more submissions, finish, then stop
  bool terminating = false;  // Terminate: stop now
  absl::Status broken;       // not OK once the pool gave up starting workers
  std::vector<pid_t> pids;   // the live workers
  uint64_t workers_started = 0;
  bool wake_pending = false;          // a byte sits in the wake pipe
  OwnedFd wake_write;                 // the wake pipe's write end
  std::function<void()> on_any_done;  // called after tasks are done (SetPoolDoneHook)
  // The supervisor is about to wait, or waits, with `free_slots` tasks it
  // could send at once: a submission wakes it only then. While it runs it
  // dispatches before it waits, so a wake would be wasted.
  bool supervisor_waiting = false;
  size_t free_slots = 0;
  bool notify_due = false;  // tasks were finished with notify = false

  // Wakes the supervisor (at most one byte in the pipe). Call under mu.
  void Wake();
  // Wakes the supervisor if a task just queued could be sent now. Call under mu.
  void WakeForTask() {
    if (supervisor_waiting && free_slots > 0) Wake();
  }
  // Gives `task` its final outcome, leaves the window, notifies the waiters
  // (and on_any_done), or with `notify` false leaves that to `NotifyDone`, so
  // that the supervisor wakes the waiters once for a whole round of results.
  // Call under mu; does nothing if the task is already done.
  void Finish(PoolTask& task, absl::StatusOr<Bytes> outcome, bool notify = true);
  // Notifies for the tasks finished without it. Call under mu.
  void NotifyDone();
  // Takes the oldest pending task that is not done and marks it sent, or
  // null. Call under mu.
  std::shared_ptr<PoolTask> TakePending();
};

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_POOL_CORE_H_
