// Internal: starting one pool worker as a WorkerStart describes it. Not part
// of the public API.
#ifndef TUBO_INTERNAL_POOL_LAUNCH_H_
#define TUBO_INTERNAL_POOL_LAUNCH_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include "absl/status/statusor.h"
#include "tubo/end.h"
#include "tubo/pool.h"
#include "tubo/process.h"

namespace tubo {
namespace internal {

// A started worker: its process (leading its own group, stop sequence
// KillNow), the pool's ends of its `tasks` and `results` channels, and the
// read end of its standard error if captured (else closed).
struct LaunchedWorker {
  Process process;
  WriteEnd tasks;
  ReadEnd results;
  ReadEnd err;
};

// OK, or kInvalidArgument naming what is wrong: an empty program or entry,
// a fork start without a function.
absl::Status CheckWorkerStart(const WorkerStart& start);

// Starts a worker. Errors: those of Pipe::Create and the start method.
absl::StatusOr<LaunchedWorker> LaunchWorker(const WorkerStart& start);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_POOL_LAUNCH_H_
