// Internal: what every start method does in a new child before it runs
// anything else. Async-signal-safe: usable after fork and in a CLONE_VM child.
#ifndef TUBO_INTERNAL_CHILD_H_
#define TUBO_INTERNAL_CHILD_H_

#include <vector>

namespace tubo {
namespace internal {

// Sets every catchable signal's disposition to SIG_DFL (ignored ones too)
// and empties the signal mask. Returns 0, or an errno.
int ResetSignals();

// Closes every descriptor >= 3 except those in `keep` (close_range over the
// gaps, so the cost does not depend on RLIMIT_NOFILE). Allocates nothing.
void CloseFdsExcept(const std::vector<int>& keep);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_CHILD_H_
