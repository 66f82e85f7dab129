// What every start method does first in a new child.
#include "tubo/internal/child.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/resource.h>
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

namespace {

// The record getdents64(2) fills in (glibc declares no type for it).
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Closes the open descriptors in [lo, hi] that /proc/self/fd lists. Returns
// false if the directory cannot be read to the end (no /proc, seccomp).
TUBO_CHILD_CODE bool CloseListed(unsigned lo, unsigned hi) {
  const int dir = static_cast<int>(
      ::syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir < 0) return false;
  alignas(8) char buf[2048];
  bool complete = false;
  for (;;) {
    // /proc/self/fd keeps its position by descriptor number, so closing the
    // entries already listed does not disturb the listing.
    const long n = ::syscall(SYS_getdents64, dir, buf, sizeof(buf));
    if (n <= 0) {
      complete = n == 0;
      break;
    }
    for (long off = 0; off < n;) {
      const LinuxDirent64* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
      off += d->d_reclen;
      unsigned fd = 0;
      bool number = d->d_name[0] != '\0';
      for (const char* c = d->d_name; *c != '\0'; ++c) {
        if (*c < '0' || *c > '9') {
          number = false;
          break;
        }
        fd = fd * 10 + static_cast<unsigned>(*c - '0');
      }
      if (number && fd >= lo && fd <= hi && static_cast<int>(fd) != dir) {
        ::syscall(SYS_close, fd);
      }
    }
  }
  ::syscall(SYS_close, dir);
  return complete;
}

}  // namespace

TUBO_CHILD_CODE int CloseRange(unsigned lo, unsigned hi) {
  if (lo > hi) return 0;
  if (::syscall(SYS_close_range, lo, hi, 0) == 0) return 0;
  // No close_range (kernels before 5.9, seccomp profiles that deny it): the
  // list in /proc, else every number up to the highest one that can be open.
  if (CloseListed(lo, hi)) return 0;
  struct rlimit limit = {};
  if (::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit) != 0) return errno;
  // A descriptor may sit above a soft limit lowered after it was opened, but
  // never above the hard limit (the kernel refuses to lower it below an open
  // one); without a hard limit, fs.nr_open's default bounds the numbers.
  uint64_t top = limit.rlim_max == RLIM_INFINITY ? (1u << 20) : limit.rlim_max;
  if (top > (1u << 30)) top = 1u << 30;
  for (uint64_t fd = lo; fd < top && fd <= hi; ++fd) ::syscall(SYS_close, fd);
  return 0;
}

int CloseFdsExcept(const std::vector<int>& keep) {
  // `keep` is small: find each next kept fd above `from` without sorting
  // (sorting could allocate).
  unsigned from = 3;
  for (;;) {
    long next = -1;
    for (int fd : keep) {
      if (fd >= static_cast<int>(from) && (next < 0 || fd < next)) next = fd;
    }
    if (next < 0) {
      return CloseRange(from, ~0U);
    }
    if (static_cast<unsigned>(next) > from) {
      if (int err = CloseRange(from, static_cast<unsigned>(next) - 1)) return err;
    }
    from = static_cast<unsigned>(next) + 1;
  }
}

}  // namespace internal
}  // namespace tubo
