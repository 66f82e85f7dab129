// The fork start method: a callable in a forked child.
//
// The child is created with clone(CLONE_PIDFD) and no exit signal, not with
// fork(): the parent gets the pidfd from the same system call that creates
// the child (so a start can never fail after the callable ran, and nothing
// is ever signalled by a raw pid), and a child with no exit signal is
// invisible to waitpid(-1) and to SIGCHLD set to SIG_IGN, so a foreign
// reaper cannot take its exit status (see Process). glibc's clone() wrapper
// is used rather than the raw system call so that sanitizers that model
// fork-like clones (ThreadSanitizer) see it; like the raw call, it runs no
// pthread_atfork handlers, which a single-threaded parent does not need.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/fork.h"
#include "tubo/internal/child.h"
#include "tubo/internal/fork.h"
#include "tubo/internal/io.h"
#include "tubo/internal/spawner_thread.h"

namespace tubo {
namespace internal {
namespace {

absl::Status ForkError(absl::Status status) { return WithError(std::move(status), Error::kSpawn); }

// The number of threads of this process, or 0 if it cannot be told. The
// link count of /proc/self/task is 2 plus the number of threads: one stat
// (about 2.6 us) instead of reading and parsing /proc/self/stat (about 20 us,
// most of it the kernel formatting the file).
int CountThreads() {
  struct stat st;
  if (::stat("/proc/self/task", &st) != 0 || st.st_nlink < 3) return 0;
  return static_cast<int>(st.st_nlink - 2);
}

// UBSan's vptr check is off here: it probes memory through a pipe, which
// fails when the process has no descriptor left (a start that must then fail
// cleanly), and reports the standard streams as objects with a bad vptr.
#if defined(__clang__)
__attribute__((no_sanitize("vptr")))
#endif
void FlushStdio() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
}

// What the child needs; lives in the parent's frame, copied into the child.
struct ForkArgs {
  const ForkOptions* options;
  const std::vector<int>* keep;
  absl::FunctionRef<int()>* child;
  pid_t parent;
};

int ForkChildMain(void* arg) {
  ForkArgs* args = static_cast<ForkArgs*>(arg);
  ResetSignals(/*keep_libc_handlers=*/true);
  // SIGPIPE has its default disposition again: the parent's declaration
  // (tubo/sigpipe.h) does not hold here.
  ClearSigpipeDeclaredIgnored();
  if (args->options->die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The parent may have died before the line above: then nobody would
    // send the signal, so the child leaves as if it had been sent.
    if (::getppid() != args->parent) ::kill(::getpid(), SIGKILL);
  }
  if (args->options->new_process_group) ::setpgid(0, 0);
  if (int err = CloseFdsExcept(*args->keep)) {
    std::fprintf(stderr, "tubo: fork worker %d: cannot close inherited descriptors: %s\n",
                 static_cast<int>(::getpid()), std::strerror(err));
    ::_exit(127);
  }
  int code = 1;
  try {
    code = (*args->child)();
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

// The child runs on its copy of the calling thread's stack, in a region that
// ForkChild reserves in its own frame (as after fork, the callable runs on
// this thread's stack), so sanitizers, valgrind and unwinders see an ordinary
// stack in use. Its top is where the child's frames begin; they grow down
// through the region and, beyond it, over the frames of clone() (dead in the
// child) into the rest of the stack. kStackNeed is what must be left of a
// fixed-size thread stack, else the child gets a stack of its own.
constexpr size_t kStackReserve = 64 * 1024;
constexpr size_t kStackNeed = 512 * 1024;
constexpr size_t kOwnStackSize = 8 * 1024 * 1024;

// True if this thread's stack has kStackNeed below `here`: the main
// thread's grows on demand; another thread's has a fixed size.
bool StackHasRoom(const char* here) {
  if (::syscall(SYS_gettid) == ::getpid()) return true;
  pthread_attr_t attr;
  if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return false;
  void* low = nullptr;
  size_t size = 0;
  const int got = ::pthread_attr_getstack(&attr, &low, &size);
  ::pthread_attr_destroy(&attr);
  return got == 0 && here >= static_cast<const char*>(low) + kStackNeed;
}

}  // namespace

absl::StatusOr<Process> AdoptNewChild(pid_t pid, int pidfd, bool leads_group, const char* what) {
  const int moved = pidfd < 3 ? ::fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : pidfd;
  if (moved < 0) {
    const int err = errno;
    // The handle's own stop sequence kills and reaps the child (on return).
    Process doomed(pid, OwnedFd::Adopt(pidfd), leads_group);
    doomed.set_stop_sequence(StopSequence::KillNow());
    return SystemError(err, absl::StrCat(what, ": move the pidfd off the standard streams"),
                       Error::kSpawn);
  }
  if (moved != pidfd) ::close(pidfd);
  return Process(pid, OwnedFd::Adopt(moved), leads_group);
}

absl::Status ForkPrepareError(absl::Status status) {
  return WithErrno(ForkError(absl::Status(status.code(), absl::StrCat("fork: ", status.message()))),
                   ErrorErrno(status));
}

absl::Status PrepareForChild(ReadEnd&) { return absl::OkStatus(); }
absl::Status PrepareForChild(WriteEnd& end) { return end.Flush(); }
absl::Status PrepareForChild(DuplexEnd& end) { return end.Flush(); }

absl::StatusOr<Process> ForkChild(const ForkOptions& options, const std::vector<int>& keep,
                                  absl::FunctionRef<int()> child) {
  if (!options.allow_threads) {
    // tubo's own spawner thread (internal/spawner_thread.h) is not a risk.
    const int threads = CountThreads() - (SpawnerThreadRunning() ? 1 : 0);
    if (threads > 1) {
      return ForkError(absl::FailedPreconditionError(
          absl::StrCat("fork: the parent runs ", threads,
                       " threads, and a forked child can deadlock on a lock one of them held; "
                       "use tubo::Command (exec) or tubo::Command::Self (self) instead, or set "
                       "ForkOptions::allow_threads if the callable takes no locks")));
    }
  }
  FlushStdio();
  ForkArgs args{&options, &keep, &child, ::getpid()};
  char* stack = nullptr;
  void* own_stack = nullptr;
  if (StackHasRoom(static_cast<char*>(__builtin_frame_address(0)))) {
    char* reserve = static_cast<char*>(__builtin_alloca(kStackReserve));
    stack = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(reserve + kStackReserve - 64) &
                                    ~static_cast<uintptr_t>(63));
  } else {
    own_stack = ::mmap(nullptr, kOwnStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (own_stack == MAP_FAILED) return SystemError(errno, "fork: mmap stack", Error::kSpawn);
    stack = static_cast<char*>(own_stack) + kOwnStackSize;
  }
  absl::Cleanup unmap = [own_stack] {
    if (own_stack != nullptr) ::munmap(own_stack, kOwnStackSize);
  };
  int pidfd = -1;
  // No exit signal (the low byte of the flags is 0): see the file comment.
  const pid_t pid = ::clone(ForkChildMain, stack, CLONE_PIDFD, &args, &pidfd);
  if (pid < 0) return SystemError(errno, "fork: clone", Error::kSpawn);
  if (options.new_process_group) ::setpgid(pid, pid);  // whichever of the two runs first
  return AdoptNewChild(pid, pidfd, options.new_process_group, "fork");
}

}  // namespace internal
}  // namespace tubo
