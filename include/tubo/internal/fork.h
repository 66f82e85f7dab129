// Internal: the non-template half of the fork start method (tubo::Fork in
// tubo/spawn.h), shared with the C ABI's tubo_fork. Not part of the public API.
#ifndef TUBO_INTERNAL_FORK_H_
#define TUBO_INTERNAL_FORK_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/end.h"
#include "tubo/process.h"

namespace tubo {

struct ForkOptions;

namespace internal {

// Prepares an end for a child: flushes buffered output, so it leaves once.
absl::Status PrepareForChild(ReadEnd& end);
absl::Status PrepareForChild(WriteEnd& end);
absl::Status PrepareForChild(DuplexEnd& end);

// The error Fork returns when preparing an end failed: "fork: <message>",
// kind Error::kSpawn.
absl::Status ForkPrepareError(absl::Status status);

// Checks threads, flushes stdio and creates the child; the child resets
// signals, applies the supervision options, closes every descriptor but 0,
// 1, 2 and `keep`, runs `child` and leaves with _exit.
absl::StatusOr<Process> ForkChild(const ForkOptions& options, const std::vector<int>& keep,
                                  absl::FunctionRef<int()> child);

// Takes ownership of a child just created with CLONE_PIDFD: moves `pidfd`
// off 0-2 (see OffStdio) and returns the handle. If that fails (no free
// descriptor above 2), the child is killed through the pidfd and reaped, and
// the error says why. `what` names the start ("fork", "spawn ...").
absl::StatusOr<Process> AdoptNewChild(pid_t pid, int pidfd, bool leads_group, const char* what);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FORK_H_
