// The worker side of contract 4 (see tubo/pool_worker.h).
#include "tubo/pool_worker.h"

#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "tubo/bytes.h"
#include "tubo/channel.h"
#include "tubo/internal/pool_frames.h"

namespace tubo {

absl::Status ServePoolTasks(ReadEnd& tasks, WriteEnd& results, const PoolTaskFunction& fn) {
  using internal::PoolStatus;
  absl::Status sent = results.Send(internal::EncodePoolResult(0, PoolStatus::kReady, ""));
  if (!sent.ok()) return sent;
  for (;;) {
    absl::StatusOr<std::optional<Bytes>> frame = tasks.Recv();
    if (!frame.ok()) return frame.status();
    if (!frame->has_value()) return absl::OkStatus();  // end of stream: no more tasks
    absl::StatusOr<internal::PoolTaskFrame> task = internal::DecodePoolTask((*frame)->view());
    if (!task.ok()) return task.status();
    absl::StatusOr<std::string> outcome;
    try {
      outcome = fn(task->body);
    } catch (const std::exception& e) {
      outcome = absl::InternalError(e.what());
    } catch (...) {
      outcome = absl::InternalError("unknown exception");
    }
    sent = outcome.ok()
               ? results.Send(internal::EncodePoolResult(task->id, PoolStatus::kDone, *outcome))
               : results.Send(internal::EncodePoolResult(task->id, PoolStatus::kFailed,
                                                         std::string(outcome.status().message())));
    if (!sent.ok()) return sent;
  }
}

int ServePoolTasks(const PoolTaskFunction& fn) {
  absl::StatusOr<ReadEnd> tasks = TakeReadEnd("tasks");
  if (!tasks.ok()) {
    std::cerr << "pool worker: " << tasks.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<WriteEnd> results = TakeWriteEnd("results");
  if (!results.ok()) {
    std::cerr << "pool worker: " << results.status().message() << "\n";
    return 1;
  }
  absl::Status served = ServePoolTasks(*tasks, *results, fn);
  if (!served.ok()) {
    std::cerr << "pool worker: " << served.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace tubo
