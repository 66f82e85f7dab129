// The child of the exec and self start methods (see tubo/internal/exec_child.h).
#include "tubo/internal/exec_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "tubo/internal/child.h"

namespace tubo {
namespace internal {
namespace {

constexpr size_t kChildStackSize = 64 * 1024;

// The child runs in the parent's memory (CLONE_VM) until it execs, on its
// own small stack, while the parent waits (CLONE_VFORK). So it makes raw
// system calls only, never libc functions that a sanitizer intercepts: those
// keep their books in memory the child shares with the parent (TSan's sigaction
// records handlers there, its clone and close interceptors update its thread
// and descriptor state), and the child's calls would corrupt the parent's.
// For the same reason the child's code is not instrumented by sanitizers.
// TUBO_CHILD_CODE (tubo/internal/child.h) marks it.

// ThreadSanitizer intercepts clone() to model fork-like children; with
// CLONE_VM the child's half of that model runs on the parent's thread state
// and the parent then fails a CHECK. The child here runs no instrumented code,
// so under TSan the call goes to glibc's implementation (exported as __clone,
// of which clone is a weak alias) directly.
#if defined(__SANITIZE_THREAD__)
#define TUBO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TUBO_TSAN 1
#endif
#endif
#ifdef TUBO_TSAN
extern "C" int __clone(int (*fn)(void*), void* stack, int flags, void* arg, ...);
#define TUBO_CLONE __clone
#else
#define TUBO_CLONE ::clone
#endif

[[noreturn]] TUBO_CHILD_CODE void ChildFail(ChildPlan* plan, Stage stage, int index, int error) {
  plan->stage = stage;
  plan->stage_index = index;
  plan->error = error;
  for (;;) ::syscall(SYS_exit_group, 127);
}

TUBO_CHILD_CODE int ChildMain(void* arg) {
  ChildPlan* plan = static_cast<ChildPlan*>(arg);
  // Default dispositions for every signal that has a handler or is ignored
  // (execve keeps ignored ones ignored), then an empty mask.
  if (int err = ResetSignals(/*keep_libc_handlers=*/false)) {
    ChildFail(plan, Stage::kSignals, 0, err);
  }
  if (plan->die_with_parent) {
    ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // A parent that died before the line above sends nothing: leave as if
    // it had (the parent is gone, so nobody reads the stage).
    if (::syscall(SYS_getppid) != plan->parent) ::syscall(SYS_kill, ::syscall(SYS_getpid), SIGKILL);
  }
  if (plan->new_process_group && ::syscall(SYS_setpgid, 0, 0) != 0) {
    ChildFail(plan, Stage::kProcessGroup, 0, errno);
  }
  for (int i = 0; i < 3; ++i) {
    const StdioPlan& s = plan->stdio[i];
    int fd = s.fd;
    if (s.path != nullptr) {
      fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, s.path, s.flags | O_CLOEXEC, 0666));
      if (fd < 0) ChildFail(plan, Stage::kOpenStdio, i, errno);
    }
    if (fd < 0) continue;
    if (fd == i) {
      // Opened onto the very number (the parent had it closed): keep it, but
      // without close-on-exec, or the program would start without it.
      if (::syscall(SYS_fcntl, fd, F_SETFD, 0) != 0) ChildFail(plan, Stage::kDupStdio, i, errno);
      continue;
    }
    if (::syscall(SYS_dup3, fd, i, 0) < 0) ChildFail(plan, Stage::kDupStdio, i, errno);
    if (s.path != nullptr) ::syscall(SYS_close, fd);
  }
  for (int j = 0; j < plan->channel_count; ++j) {
    // Sources are all above the targets, so no dup3 clobbers a later source;
    // the target is left without close-on-exec.
    if (::syscall(SYS_dup3, plan->channel_fds[j], 3 + j, 0) < 0) {
      ChildFail(plan, Stage::kDupChannel, j, errno);
    }
  }
  if (plan->cwd != nullptr && ::syscall(SYS_chdir, plan->cwd) != 0) {
    ChildFail(plan, Stage::kChdir, 0, errno);
  }
  if (int err = CloseRange(3 + plan->channel_count, ~0U)) {
    ChildFail(plan, Stage::kCloseRange, 0, err);
  }
  // Like execvp: remember EACCES, go on after ENOENT/ENOTDIR, stop otherwise.
  int err = ENOENT;
  bool denied = false;
  for (const char* const* c = plan->candidates; *c != nullptr; ++c) {
    ::syscall(SYS_execve, *c, plan->argv, plan->envp);
    err = errno;
    if (err == EACCES) {
      denied = true;
    } else if (err != ENOENT && err != ENOTDIR) {
      break;
    }
  }
  if (denied && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  ChildFail(plan, Stage::kExec, 0, err);
}

}  // namespace

std::string StageName(const ChildPlan& plan, const std::vector<std::string>& channel_names) {
  switch (plan.stage) {
    case Stage::kSignals:
      return "reset signals";
    case Stage::kOpenStdio:
      return absl::StrCat("open ", kStreamNames[plan.stage_index], " \"",
                          plan.stdio[plan.stage_index].path, "\"");
    case Stage::kDupStdio:
      return absl::StrCat("dup2 ", kStreamNames[plan.stage_index]);
    case Stage::kDupChannel:
      return absl::StrCat("dup2 channel \"", channel_names[plan.stage_index], "\"");
    case Stage::kChdir:
      return absl::StrCat("chdir \"", plan.cwd, "\"");
    case Stage::kProcessGroup:
      return "setpgid";
    case Stage::kCloseRange:
      return "close inherited descriptors";
    case Stage::kExec:
      return "exec";
    case Stage::kNone:
      break;
  }
  return "start";
}

int StartExecChild(ChildPlan* plan, pid_t* pid, int* pidfd) {
  void* stack = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return errno;
  absl::Cleanup unmap = [stack] { ::munmap(stack, kChildStackSize); };
  // All signals stay blocked until the child has reset their dispositions:
  // a handler of the parent must never run in the child, which shares the
  // parent's memory until it execs. No exit signal (the low byte of the
  // flags is 0): see tubo/process.h.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  *pid = TUBO_CLONE(ChildMain, static_cast<char*>(stack) + kChildStackSize,
                    CLONE_VM | CLONE_VFORK | CLONE_PIDFD, plan, pidfd);
  const int err = *pid < 0 ? errno : 0;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}

}  // namespace internal
}  // namespace tubo
