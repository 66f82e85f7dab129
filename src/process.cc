// Process: one owner of a child, through its pidfd.
#include "tubo/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>
#include <cerrno>

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/io.h"
#include "tubo/internal/readiness.h"

namespace tubo {
namespace {

absl::Status EmptyHandleError(const char* op) {
  return WithError(
      absl::FailedPreconditionError(absl::StrCat(op, ": the Process handle owns no child")),
      Error::kClosed);
}

absl::Status ProcessErrno(int err, const char* op, pid_t pid) {
  return SystemError(err, absl::StrCat(op, " pid ", pid));
}

// PIDFD_GET_INFO (Linux 6.15, <linux/pidfd.h>; Debian's headers predate it).
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;  // a wait status, as waitpid's
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr uint64_t kPidfdInfoExit = 1u << 3;
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);

ExitStatus FromSiginfo(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED:
      return ExitStatus::Exited(info.si_status);
    case CLD_DUMPED:
      return ExitStatus::Signaled(info.si_status, /*core_dumped=*/true);
    default:  // CLD_KILLED
      return ExitStatus::Signaled(info.si_status, /*core_dumped=*/false);
  }
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (!signaled_) return absl::StrCat("exited(", value_, ")");
  return absl::StrCat("signaled(", value_, core_dumped_ ? ", core dumped)" : ")");
}

Process::~Process() {
  if (pidfd_.valid()) Stop().IgnoreError();
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      status_(std::exchange(other.status_, std::nullopt)),
      stop_(other.stop_),
      leads_group_(std::exchange(other.leads_group_, false)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pidfd_.valid()) Stop().IgnoreError();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    status_ = std::exchange(other.status_, std::nullopt);
    stop_ = other.stop_;
    leads_group_ = std::exchange(other.leads_group_, false);
  }
  return *this;
}

absl::StatusOr<std::optional<ExitStatus>> Process::Reap(int flags) {
  if (status_) return status_;
  if (!pidfd_.valid()) return EmptyHandleError("wait");
  siginfo_t info = {};
  for (;;) {
    // __WALL: tubo's children have no exit signal (see process.h), and a
    // wait without it does not see them.
    if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | __WALL | flags) == 0) {
      break;
    }
    if (errno == ECHILD) return StolenStatus();
    if (errno != EINTR) return ProcessErrno(errno, "wait", pid_);
  }
  if (info.si_pid == 0) return std::optional<ExitStatus>();  // WNOHANG: still running
  status_ = FromSiginfo(info);
  pidfd_.Reset();
  return status_;
}

absl::StatusOr<std::optional<ExitStatus>> Process::StolenStatus() {
  // Someone else reaped the child: a foreign waitpid(-1), or SIGCHLD set to
  // SIG_IGN, for a child that execs (execve gives a process SIGCHLD as its
  // exit signal again). Linux 6.15 and later keep the status for pidfd holders.
  PidfdInfo info;
  std::memset(&info, 0, sizeof(info));
  info.mask = kPidfdInfoExit;
  if (::ioctl(pidfd_.get(), kPidfdGetInfo, &info) == 0 && (info.mask & kPidfdInfoExit) != 0) {
    const int w = info.exit_code;
    status_ = WIFSIGNALED(w) ? ExitStatus::Signaled(WTERMSIG(w), WCOREDUMP(w) != 0)
                             : ExitStatus::Exited(WEXITSTATUS(w));
    pidfd_.Reset();
    return status_;
  }
  // waitid failed with ECHILD: that is the errno the error reports.
  return WithErrno(
      WithError(absl::FailedPreconditionError(absl::StrCat(
                    "wait pid ", pid_,
                    ": the exit status was taken by another wait (a waitpid(-1) in a SIGCHLD "
                    "handler, or SIGCHLD ignored); this kernel (before Linux 6.15) cannot "
                    "give it back")),
                Error::kSystem),
      ECHILD);
}

absl::StatusOr<ExitStatus> Process::Wait() {
  absl::StatusOr<std::optional<ExitStatus>> st = Reap(0);
  if (!st.ok()) return st.status();
  return **st;
}

absl::StatusOr<std::optional<ExitStatus>> Process::TryWait() { return Reap(WNOHANG); }

absl::StatusOr<std::optional<ExitStatus>> Process::WaitFor(absl::Duration timeout) {
  if (status_) return status_;
  if (!pidfd_.valid()) return EmptyHandleError("wait");
  if (timeout == absl::InfiniteDuration()) return Reap(0);
  // The pidfd becomes readable when the child exits.
  absl::StatusOr<bool> exited = internal::WaitReadable(pidfd_.get(), timeout);
  if (!exited.ok()) return exited.status();
  return Reap(WNOHANG);
}

bool Process::is_alive() {
  if (!pidfd_.valid()) return false;
  absl::StatusOr<std::optional<ExitStatus>> st = TryWait();
  return st.ok() && !st->has_value();
}

absl::Status Process::Signal(int signal) {
  if (status_) return absl::OkStatus();
  if (!pidfd_.valid()) return EmptyHandleError("signal");
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0) < 0) {
    // ESRCH: it exited but is not reaped yet; the signal has nothing to do.
    if (errno == ESRCH) return absl::OkStatus();
    return ProcessErrno(errno, absl::StrCat("signal ", signal, " to").c_str(), pid_);
  }
  return absl::OkStatus();
}

absl::Status Process::Terminate() { return Signal(SIGTERM); }

absl::Status Process::Kill() { return Signal(SIGKILL); }

absl::Status Process::SignalGroup(int signal) {
  if (!leads_group_) {
    return WithError(absl::InvalidArgumentError(absl::StrCat(
                         "signal group of pid ", pid_,
                         ": the child does not lead its own process group (start it with "
                         "new_process_group)")),
                     Error::kInvalidArgument);
  }
  if (status_) {
    return WithError(absl::FailedPreconditionError(absl::StrCat(
                         "signal group of pid ", pid_,
                         ": the leader was reaped, so its group id may name another group now")),
                     Error::kClosed);
  }
  if (!pidfd_.valid()) return EmptyHandleError("signal group");
  // The leader must still be unreaped (a zombie at worst): then no other
  // process or group can have its id, and the raw group id is safe. A foreign
  // reaper (see the file comment of process.h) may have reaped an exec'd
  // leader; then tubo refuses, as after its own reap.
  siginfo_t info = {};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info,
               WEXITED | WNOHANG | WNOWAIT | __WALL) != 0 &&
      errno == ECHILD) {
    return WithError(absl::FailedPreconditionError(absl::StrCat(
                         "signal group of pid ", pid_,
                         ": the leader was reaped by another wait, so its group id may name "
                         "another group now")),
                     Error::kClosed);
  }
  if (::kill(-pid_, signal) < 0) {
    if (errno == ESRCH) return absl::OkStatus();  // nobody left in the group
    return ProcessErrno(errno, absl::StrCat("signal ", signal, " to group of").c_str(), pid_);
  }
  return absl::OkStatus();
}

absl::Status Process::TerminateGroup() { return SignalGroup(SIGTERM); }

absl::Status Process::KillGroup() { return SignalGroup(SIGKILL); }

absl::StatusOr<ExitStatus> Process::StopGroup() {
  // Waits for the leader's exit without reaping it, so that the group id
  // stays ours until the last SIGKILL to the group.
  absl::StatusOr<bool> exited = internal::WaitReadable(pidfd_.get(), stop_.grace);
  if (!(exited.ok() && *exited) && stop_.signal != 0 && stop_.signal != SIGKILL &&
      SignalGroup(stop_.signal).ok()) {
    internal::WaitReadable(pidfd_.get(), stop_.signal_timeout).IgnoreError();
  }
  SignalGroup(SIGKILL).IgnoreError();
  return Wait();
}

absl::StatusOr<ExitStatus> Process::Stop() {
  if (status_) return *status_;
  if (!pidfd_.valid()) return EmptyHandleError("stop");
  if (leads_group_) return StopGroup();
  // A step that fails (a wait that errs, a signal with a bad number) is only
  // skipped: the sequence always ends with SIGKILL and a blocking reap, as the
  // destructor promises.
  absl::StatusOr<std::optional<ExitStatus>> st = WaitFor(stop_.grace);
  if (st.ok() && *st) return **st;
  if (stop_.signal != 0 && stop_.signal != SIGKILL && Signal(stop_.signal).ok()) {
    st = WaitFor(stop_.signal_timeout);
    if (st.ok() && *st) return **st;
  }
  Kill().IgnoreError();  // fails only if it already exited; the reap tells
  return Wait();
}

namespace {

// The reaper of one detached child: blocked in waitid on its pidfd (no CPU),
// then closes the pidfd. `arg` is the pidfd.
void* ReapDetached(void* arg) {
  const int pidfd = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  siginfo_t info;
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | __WALL) < 0 &&
         errno == EINTR) {
  }
  ::close(pidfd);
  return nullptr;
}

}  // namespace

absl::Status Process::Detach() {
  if (!pidfd_.valid()) {
    pid_ = -1;
    status_.reset();
    return absl::OkStatus();
  }
  // The child stays ours to reap: without a reaper it would linger as a zombie
  // once it exits. The handle gives the child up only once the thread exists.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t thread;
  const int err = ::pthread_create(&thread, &attr, ReapDetached,
                                   reinterpret_cast<void*>(static_cast<intptr_t>(pidfd_.get())));
  pthread_attr_destroy(&attr);
  if (err != 0) {
    return SystemError(err, absl::StrCat("detach pid ", pid_, ": create the reaper thread"));
  }
  pidfd_.Release();
  pid_ = -1;
  status_.reset();
  leads_group_ = false;
  return absl::OkStatus();
}

}  // namespace tubo
