// Internal: what every start method does in a new child before it runs
// anything else. Async-signal-safe: usable after fork and in a CLONE_VM child.
#ifndef TUBO_INTERNAL_CHILD_H_
#define TUBO_INTERNAL_CHILD_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <vector>

namespace tubo {
namespace internal {

// Marks code that runs in a CLONE_VM child (see src/spawn.cc): sanitizers
// must not instrument it, since their books live in memory the child shares
// with its parent.
#if defined(__clang__)
#if __has_attribute(disable_sanitizer_instrumentation)
#define TUBO_CHILD_CODE                             \
  __attribute__((disable_sanitizer_instrumentation, \
                 no_sanitize("address", "thread", "undefined", "memory")))
#else
#define TUBO_CHILD_CODE __attribute__((no_sanitize("address", "thread", "undefined", "memory")))
#endif
#else
#define TUBO_CHILD_CODE
#endif

// Sets every catchable signal's disposition to SIG_DFL (ignored ones too)
// and empties the signal mask, with raw system calls only (so it is safe in
// a CLONE_VM child). With `keep_libc_handlers`, handlers glibc installed on
// the signals it reserves (32 .. SIGRTMIN-1) stay: a forked child goes on
// running glibc, which relies on them; an ignored reserved signal is still
// reset. An exec'd child resets everything. Returns 0, or the first errno.
TUBO_CHILD_CODE int ResetSignals(bool keep_libc_handlers);

// Closes every open descriptor in [lo, hi] with raw system calls (safe in a
// CLONE_VM child): close_range(2), or where that is missing or denied
// (kernels before 5.9, seccomp), the descriptors /proc/self/fd lists, or
// else every number below the RLIMIT_NOFILE hard limit. Never leaves one
// open that it could close. Returns 0, or errno if even the limit cannot be read.
TUBO_CHILD_CODE int CloseRange(unsigned lo, unsigned hi);

// Closes every descriptor >= 3 except those in `keep` (CloseRange over the
// gaps, so the cost does not depend on RLIMIT_NOFILE). Allocates nothing.
// Returns 0, or the errno of a CloseRange that failed.
int CloseFdsExcept(const std::vector<int>& keep);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_CHILD_H_
