// What every start method does first in a new child.
#include "tubo/internal/child.h"

#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace tubo {
namespace internal {

namespace {

// The kernel's struct sigaction for rt_sigaction (the generic layout, used by
// x86_64 and aarch64), which glibc's sigaction wraps.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

// glibc reserves the signals between 32 and SIGRTMIN for itself (SIGCANCEL,
// SIGSETXID) and its sigaction refuses them. But a parent can still leave them
// ignored (some launchers do), an ignored disposition survives exec, and the
// child would then start with them ignored. Reset those through the system
// call. A handler glibc installed is left alone: exec resets it anyway, and a
// forked child's glibc may rely on it.
void ResetReservedIgnoredSignals() {
  for (int sig = 32; sig < SIGRTMIN; ++sig) {
    KernelSigaction old = {};
    if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof old.mask) != 0) continue;
    if (old.handler != SIG_IGN) continue;
    KernelSigaction dfl = {};
    dfl.handler = SIG_DFL;
    ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
  }
}

}  // namespace

int ResetSignals() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction old;
    // Fails for the signals glibc reserves for itself (32, 33); those are
    // handled by ResetReservedIgnoredSignals.
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) continue;
    ::sigaction(sig, &dfl, nullptr);
  }
  ResetReservedIgnoredSignals();
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return errno;
  return 0;
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
