// What every start method does first in a new child.
#include "tubo/internal/child.h"

#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>

namespace tubo {
namespace internal {

namespace {

// The kernel's struct sigaction for rt_sigaction (the generic layout, used by
// x86_64 and aarch64), which glibc's sigaction wraps. glibc's wrapper is not
// used: it refuses the signals glibc reserves, and sanitizers intercept it.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};
constexpr int kKernelSigsetSize = 8;
constexpr int kMaxSignal = 64;

}  // namespace

TUBO_CHILD_CODE int ResetSignals(bool keep_libc_handlers) {
  // SIGRTMIN is a glibc call; only a forked child (a normal process) asks.
  const int first_realtime = keep_libc_handlers ? SIGRTMIN : 32;
  int error = 0;
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old = {};
    if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, kKernelSigsetSize) != 0) continue;
    if (old.handler == SIG_DFL) continue;
    const bool reserved = sig >= 32 && sig < first_realtime;
    if (reserved && keep_libc_handlers && old.handler != SIG_IGN) continue;
    KernelSigaction dfl = {};
    dfl.handler = SIG_DFL;
    if (::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, kKernelSigsetSize) != 0 && error == 0) {
      error = errno;
    }
  }
  const uint64_t no_signals = 0;
  if (::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &no_signals, nullptr, kKernelSigsetSize) != 0 &&
      error == 0) {
    error = errno;
  }
  return error;
}

void CloseFdsExcept(const std::vector<int>& keep) {
  // `keep` is small: find each next kept fd above `from` without sorting
  // (sorting could allocate).
  unsigned from = 3;
  for (;;) {
    long next = -1;
    for (int fd : keep) {
      if (fd >= static_cast<int>(from) && (next < 0 || fd < next)) next = fd;
    }
    if (next < 0) {
      ::close_range(from, ~0U, 0);
      return;
    }
    if (static_cast<unsigned>(next) > from) ::close_range(from, static_cast<unsigned>(next) - 1, 0);
    from = static_cast<unsigned>(next) + 1;
  }
}

}  // namespace internal
}  // namespace tubo
