// What every start method does first in a new child.
#include "tubo/internal/child.h"

#include <linux/close_range.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace tubo {
namespace internal {

int ResetSignals() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction old;
    // Fails for the signals glibc reserves for itself (32, 33); skip those.
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) continue;
    ::sigaction(sig, &dfl, nullptr);
  }
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
