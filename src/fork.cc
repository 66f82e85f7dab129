// The fork start method: a callable in a forked child.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tubo/error.h"
#include "tubo/internal/child.h"
#include "tubo/spawn.h"

namespace tubo {
namespace internal {
namespace {

absl::Status ForkError(absl::Status status) {
  return WithError(std::move(status), Error::kSpawn);
}

// The number of threads of this process, from /proc/self/stat (field 20), or
// 0 if it cannot be read.
int CountThreads() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  int threads = 0;
  // Field 3 (state) is the first after the command name; field 20 is num_threads.
  if (fields.size() > 17 && absl::SimpleAtoi(fields[17], &threads)) return threads;
  return 0;
}

void FlushStdio() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
}

}  // namespace

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
  pid_t pid = ::fork();
  if (pid < 0) return ForkError(absl::ErrnoToStatus(errno, "fork"));
  if (pid == 0) {
    ResetSignals();
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
  // glibc 2.36 declares pidfd_open without C linkage for C++; use the syscall.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
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
