// Internal: a pool's supervisor thread. It owns the workers (their
// processes and pipes), waits on them and on the wake pipe with one WaitSet,
// starts and replaces workers, sends tasks, reads results and blames exactly
// one task when a worker dies. Not part of the public API.
#ifndef TUBO_INTERNAL_POOL_SUPERVISOR_H_
#define TUBO_INTERNAL_POOL_SUPERVISOR_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/end.h"
#include "tubo/internal/pool_core.h"
#include "tubo/pool.h"
#include "tubo/process.h"
#include "tubo/wait.h"

namespace tubo {
namespace internal {

class PoolSupervisor {
 public:
  // Creates the wake pipe (its write end goes to `core`) and the wait set,
  // and starts the thread. `options` has its defaults resolved.
  static absl::StatusOr<std::unique_ptr<PoolSupervisor>> Start(WorkerStart start,
                                                               const PoolOptions& options,
                                                               std::shared_ptr<PoolCore> core);
  // Joins the thread once it has stopped (after core->closing or
  // core->terminating and a wake). Idempotent, from any thread.
  void Join();
  ~PoolSupervisor();

 private:
  struct Worker {
    uint64_t serial = 0;
    Process process;
    WriteEnd tasks;
    ReadEnd results;
    ReadEnd err;  // captured standard error, or closed
    std::string err_tail;
    bool ready = false;
    bool retiring = false;     // no more tasks; its `tasks` end is closed once flushed
    bool killed = false;       // stopped by the pool; no task left to blame on it
    bool send_failed = false;  // its `tasks` end broke: it is dying
    bool writable_watched = false;
    std::string violation;                       // why the pool killed it for breaking contract 4
    std::deque<std::shared_ptr<PoolTask>> sent;  // sent, unanswered, oldest first
    absl::Time front_since;                      // when sent.front() started
    int sent_total = 0;
    size_t batched = 0;  // bytes of task frames buffered by this round's Dispatch
  };

  PoolSupervisor(WorkerStart start, const PoolOptions& options, std::shared_ptr<PoolCore> core,
                 ReadEnd wake_read, WaitSet waits);
  void Run();
  void HandleWake();
  void StartWorkers(bool closing);
  absl::Status StartWorker();
  void StartFailed(const std::string& why);
  void Dispatch();
  bool SendTo(Worker& w);
  // Writes what Dispatch buffered for `w`, without blocking; watches its
  // `tasks` end for writability if some is left.
  void SendBatch(Worker& w);
  // How many tasks a worker may have sent and unanswered: 1 + the prefetch
  // in effect (PoolOptions::prefetch, or the automatic one).
  size_t Depth() const;
  // The time of this round (read once per wake-up: results handled and tasks
  // sent in one round share it; a round lasts microseconds).
  absl::Time RoundTime();
  // Updates the automatic prefetch with one task's running time.
  void NoteRunningTime(absl::Duration took);
  // The tasks the ready workers could be sent now (see PoolCore::free_slots).
  size_t FreeSlots() const;
  // True if `w` may be sent a task now (its window aside).
  bool Sendable(const Worker& w) const;
  void Retire(Worker& w);
  // Handles the result frames one read gives (all there are, to end of
  // stream, if `drain`: the worker is gone).
  void ReadResults(Worker& w, bool drain = false);
  void HandleResult(Worker& w, std::string_view frame);
  void HandleExit(Worker& w);
  void ReadStderr(Worker& w);
  void Kill(Worker& w, std::string violation);
  void CheckTimeouts();
  void Flush(Worker& w);
  void Requeue(std::deque<std::shared_ptr<PoolTask>>& tasks);
  void Terminate();
  void PublishPids();
  Worker* Find(uint64_t serial);
  absl::Duration NextTimeout() const;

  const WorkerStart start_;
  const PoolOptions options_;
  const std::shared_ptr<PoolCore> core_;
  ReadEnd wake_read_;
  WaitSet waits_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint64_t next_serial_ = 1;
  int start_failures_ = 0;  // consecutive
  absl::Duration restart_delay_;
  absl::Time next_start_ = absl::InfinitePast();
  std::string last_failure_;
  // The recent tasks' mean running time (an exponential moving average), for
  // the automatic prefetch; zero before the first result.
  absl::Duration mean_running_ = absl::ZeroDuration();
  absl::Time round_time_ = absl::InfinitePast();  // see RoundTime
  std::thread thread_;
  std::mutex join_mu_;
};

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_POOL_SUPERVISOR_H_
