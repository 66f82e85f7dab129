// The fork start method: a callable in a forked child.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/child.h"
#include "tubo/spawn.h"

namespace tubo {
namespace internal {
namespace {

absl::Status ForkError(absl::Status status) {
  return WithError(std::move(status), Error::kSpawn);
}

// The number of threads of this process, or 0 if it cannot be told. The
// link count of /proc/self/task is 2 plus the number of threads: one stat
// (about 2.6 us) instead of reading and parsing /proc/self/stat (about 20 us,
// most of it the kernel formatting the file).
int CountThreads() {
  struct stat st;
  if (::stat("/proc/self/task", &st) != 0 || st.st_nlink < 3) return 0;
  return static_cast<int>(st.st_nlink - 2);
}

// Whether pidfd_open(2) can be used here: not under kernels before 5.3,
// seccomp profiles that predate it (EPERM) or valgrind up to 3.19 (ENOSYS).
// Asked once, with this process's own pid.
std::atomic<bool> g_pidfd_open_disabled{false};

bool PidfdOpenWorks() {
  if (g_pidfd_open_disabled.load(std::memory_order_relaxed)) return false;
  static const bool works = [] {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    return errno != ENOSYS && errno != EPERM;
  }();
  return works;
}

void FlushStdio() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
}

}  // namespace

void DisablePidfdOpenForTesting() { g_pidfd_open_disabled = true; }

absl::Status PrepareForChild(ReadEnd&) { return absl::OkStatus(); }
absl::Status PrepareForChild(WriteEnd& end) { return end.Flush(); }
absl::Status PrepareForChild(DuplexEnd& end) { return end.Flush(); }

absl::StatusOr<Process> ForkChild(const ForkOptions& options, const std::vector<int>& keep,
                                  absl::FunctionRef<int()> child) {
  if (!options.allow_threads) {
    int threads = CountThreads();
    if (threads > 1) {
      return ForkError(absl::FailedPreconditionError(absl::StrCat(
          "fork: the parent runs ", threads,
          " threads, and a forked child can deadlock on a lock one of them held; "
          "use tubo::Command (exec) or tubo::Command::Self (self) instead, or set "
          "ForkOptions::allow_threads if the callable takes no locks")));
    }
  }
  FlushStdio();
  // Normally fork(), then pidfd_open. Where pidfd_open is missing, the child
  // is created by the clone system call itself with CLONE_PIDFD (a fork at
  // the system-call level; glibc's fork bookkeeping and pthread_atfork
  // handlers do not run, which a single-threaded parent does not need).
  const bool have_pidfd_open = PidfdOpenWorks();
  int pidfd = -1;
  pid_t pid = have_pidfd_open
                  ? ::fork()
                  : static_cast<pid_t>(::syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, nullptr,
                                                 &pidfd, nullptr, nullptr));
  if (pid < 0) return ForkError(absl::ErrnoToStatus(errno, "fork"));
  if (pid == 0) {
    ResetSignals(/*keep_libc_handlers=*/true);
    CloseFdsExcept(keep);
    int code = 1;
    try {
      code = child();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tubo: fork worker %d: uncaught exception: %s\n",
                   static_cast<int>(::getpid()), e.what());
    } catch (...) {
      std::fprintf(stderr, "tubo: fork worker %d: uncaught exception\n",
                   static_cast<int>(::getpid()));
    }
    FlushStdio();
    ::_exit(code & 0xff);
  }
  if (!have_pidfd_open) return Process(pid, OwnedFd::Adopt(pidfd));
  // glibc 2.36 declares pidfd_open without C linkage for C++; use the syscall.
  pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int err = errno;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return ForkError(absl::ErrnoToStatus(err, "fork: pidfd_open"));
  }
  return Process(pid, OwnedFd::Adopt(pidfd));
}

}  // namespace internal
}  // namespace tubo
