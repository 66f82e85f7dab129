/// @file
/// @brief `Process`: the one owner of a child process.
///
/// A `Process` comes from a start method (`Fork`, `Command::Spawn`, see
/// `tubo/spawn.h`) and owns its child through a pidfd, so signals can never
/// reach a recycled pid.
///
/// @code
///   absl::StatusOr<tubo::Process> p = tubo::Command("/bin/true").Spawn();
///   absl::StatusOr<tubo::ExitStatus> st = p->Wait();
///   std::cout << st->ToString();   // "exited(0)"
/// @endcode
///
/// **No zombies.** Unlike Rust's `Child`, whose drop leaves the child alone, a
/// `Process` destroyed while its child still runs runs its stop sequence (see
/// `StopSequence`) and always reaps the child. `Detach()` is the only way to
/// leave a child running without an owner; a background thread then reaps it
/// when it exits.
///
/// **No unowned children, within these limits.** A handle cannot outlive its
/// process: if the parent dies without running destructors (SIGKILL, a
/// crash, `_exit`), its children are stopped by the kernel when the start
/// method's `die_with_parent` option is on (the default in C++ and C; see
/// `ForkOptions` and `Command::DieWithParent`): they get SIGKILL when the
/// thread that started them ends (for the exec and self start methods tubo
/// starts children from a non-main thread through a helper thread that lives
/// as long as the process, so in practice: when the process ends). The
/// kernel clears that signal when the child execs a set-user-ID or
/// set-group-ID program, or one with file capabilities. A worker's own
/// children are not stopped by it unless the worker leads its own process
/// group (`new_process_group`) and the group is signalled (`SignalGroup`, and
/// the stop sequence, which addresses the whole group of a leader).
///
/// **The exit status and foreign reapers.** A user's SIGCHLD handler that
/// reaps with `waitpid(-1)`, or SIGCHLD set to SIG_IGN, would take a child's
/// status from its owner. Exactly what holds:
/// - A **fork** child (that does not exec) is created with no exit signal: no
///   SIGCHLD is sent when it ends, `wait()`, `waitpid(-1, ...)` and
///   `waitpid(pid, ...)` without `__WALL`/`__WCLONE` do not see it, and SIGCHLD
///   set to SIG_IGN (or SA_NOCLDWAIT) does not reap it. Its status cannot be
///   taken, on any kernel, except by a wait that asks for such children
///   (`__WALL`, `__WCLONE`).
/// - An **exec** or **self** child (and a fork child that execs) has SIGCHLD
///   as its exit signal again once it execs (the kernel resets it), so a
///   foreign reaper can reap it. On Linux 6.15 and later, the handle then
///   still gets the status from its pidfd (`PIDFD_INFO_EXIT`), so nothing is
///   lost; on older kernels `Wait` fails with `Error::kSystem` and a message
///   saying the status was taken.
/// - A child adopted with the public constructor keeps the exit signal it was
///   created with; the same rules apply.
///
/// **Thread-safety**: a `Process` may be moved to another thread, but must not
/// be used by two threads at once.
#ifndef TUBO_PROCESS_H_
#define TUBO_PROCESS_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/fd.h"
#include "tubo/internal/watched_fd.h"

namespace tubo {

/// @brief How a process ended (contract 3): `exited(code)` or
/// `signaled(signal, core_dumped)`.
class ExitStatus {
 public:
  /// The status of a process that called `exit(code)`.
  static ExitStatus Exited(int code) { return ExitStatus(false, code, false); }
  /// The status of a process killed by `signal`.
  static ExitStatus Signaled(int signal, bool core_dumped = false) {
    return ExitStatus(true, signal, core_dumped);
  }

  /// True if the process exited normally.
  bool exited() const { return !signaled_; }
  /// True if a signal killed the process.
  bool signaled() const { return signaled_; }
  /// The exit code (0-255) if `exited()`, else -1 (C: `tubo_process_exit_code`,
  /// Go: `ExitStatus.ExitCode`).
  int exit_code() const { return signaled_ ? -1 : value_; }
  /// The signal that killed it if `signaled()`, else 0.
  int signal() const { return signaled_ ? value_ : 0; }
  /// True if `signaled()` and a core dump was written.
  bool core_dumped() const { return core_dumped_; }
  /// True for `exited(0)`.
  bool success() const { return !signaled_ && value_ == 0; }
  /// The signed return code (contract 3): the exit code, or minus the signal
  /// number, as `subprocess`'s `returncode` and `multiprocessing`'s `exitcode`
  /// (C: `tubo_process_returncode`, Go: `ExitStatus.ReturnCode`).
  int returncode() const { return signaled_ ? -value_ : value_; }
  /// `"exited(<code>)"` or `"signaled(<signal>)"` (with `", core dumped"`).
  std::string ToString() const;

  /// True if both describe the same ending.
  friend bool operator==(const ExitStatus& a, const ExitStatus& b) {
    return a.signaled_ == b.signaled_ && a.value_ == b.value_ && a.core_dumped_ == b.core_dumped_;
  }
  /// True if the endings differ.
  friend bool operator!=(const ExitStatus& a, const ExitStatus& b) { return !(a == b); }

 private:
  ExitStatus(bool signaled, int value, bool core)
      : signaled_(signaled), value_(value), core_dumped_(core) {}
  bool signaled_;
  int value_;
  bool core_dumped_;
};

/// @brief What a `Process` does to a child that is still running when the
/// handle is destroyed (or `Stop()` is called).
///
/// For a child that leads its own process group (`Process::leads_group`),
/// every signal of the sequence goes to the whole group, and the group gets
/// SIGKILL before the leader is reaped, whether or not the leader needed a
/// signal: no member of the tree survives a stop.
///
/// In order: wait up to `grace` for the child to exit by itself; send `signal`
/// (unless it is 0, or cannot be sent, such as an invalid number) and wait up
/// to `signal_timeout`; send SIGKILL and wait for the child to die. A step
/// that fails is skipped, never the last one: the child is always reaped. The
/// default gives a well-behaved worker 1 s to finish, then 1 s to honour SIGTERM.
struct StopSequence {
  /// How long to wait for the child to exit by itself.
  absl::Duration grace = absl::Seconds(1);
  /// The signal sent after the grace period (0: go straight to SIGKILL).
  int signal = SIGTERM;
  /// How long to wait after `signal` before SIGKILL.
  absl::Duration signal_timeout = absl::Seconds(1);

  /// SIGKILL at once, then reap.
  static StopSequence KillNow() {
    return StopSequence{absl::ZeroDuration(), 0, absl::ZeroDuration()};
  }
  /// Wait as long as it takes (Python's join of non-daemon processes).
  static StopSequence WaitForever() {
    return StopSequence{absl::InfiniteDuration(), 0, absl::ZeroDuration()};
  }
};

/// @brief A move-only handle that owns one child process.
class Process {
 public:
  /// An empty handle that owns nothing.
  Process() = default;
  /// If the child still runs, runs the stop sequence; then reaps it. Blocks at
  /// most `grace + signal_timeout` plus the time SIGKILL takes. Does nothing
  /// for an empty, detached or already-reaped handle.
  ~Process();
  /// Moves ownership; `other` becomes empty.
  Process(Process&& other) noexcept;
  /// Stops and reaps the child held (as the destructor does), then takes `other`'s.
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Adopts a child of this process: `pidfd` must refer to `pid`, which must
  /// be an unreaped child that nothing else waits for. `leads_group`: the
  /// child is the leader of its own process group (its process group id is
  /// `pid`), so `SignalGroup` and the stop sequence address the group. Used by
  /// the start methods.
  Process(pid_t pid, OwnedFd pidfd, bool leads_group = false)
      : pid_(pid), pidfd_(std::move(pidfd)), leads_group_(leads_group) {}

  /// The child's process id (valid until reaped), or -1 for an empty handle.
  pid_t pid() const { return pid_; }
  /// The pidfd, borrowed: readable once the child has exited. -1 once reaped.
  BorrowedFd pidfd() const { return pidfd_.Borrow(); }
  /// True if the handle owns a child that has not been reaped yet.
  bool owns_child() const { return pidfd_.valid(); }
  /// True if the child was started as the leader of its own process group
  /// (`ForkOptions::new_process_group`, `Command::NewProcessGroup`).
  bool leads_group() const { return leads_group_; }

  /// Blocks until the child exits, reaps it and returns its status. Once
  /// reaped, returns the same status again. Errors: `Error::kClosed` for an
  /// empty or detached handle; `Error::kSystem` if `waitid` fails.
  absl::StatusOr<ExitStatus> Wait();
  /// Like `Wait`, but gives up after `timeout` and returns `std::nullopt` if
  /// the child still runs.
  absl::StatusOr<std::optional<ExitStatus>> WaitFor(absl::Duration timeout);
  /// Reaps the child if it has exited, without blocking; `std::nullopt` if it
  /// still runs.
  absl::StatusOr<std::optional<ExitStatus>> TryWait();
  /// The status, if the child has been reaped.
  std::optional<ExitStatus> exit_status() const { return status_; }
  /// True if the child has not exited (it is checked without blocking).
  bool is_alive();

  /// Sends `signal` through the pidfd, so never to a recycled pid. Does
  /// nothing and succeeds if the child has already been reaped. Errors:
  /// `Error::kClosed` for an empty or detached handle; `Error::kSystem`
  /// (for example `EINVAL` for a bad signal number).
  absl::Status Signal(int signal);
  /// Sends SIGTERM. See `Signal`.
  absl::Status Terminate();
  /// Sends SIGKILL. See `Signal`.
  absl::Status Kill();

  /// Sends `signal` to every process of the child's process group: the child
  /// and whatever it started that stayed in its group (shells, build tools).
  /// Only for a child that leads its own group (`leads_group()`), and only
  /// until it is reaped: while the leader is unreaped its process group id
  /// cannot name anyone else's group; after the reap it could, so tubo
  /// refuses. Succeeds if no process of the group is left. Errors:
  /// `Error::kInvalidArgument` if the child does not lead its own group;
  /// `Error::kClosed` for an empty, detached or reaped handle, or a leader
  /// that another wait reaped (a foreign reaper; the message says which);
  /// `Error::kSystem` (for example `EINVAL` for a bad signal).
  absl::Status SignalGroup(int signal);
  /// Sends SIGTERM to the child's process group. See `SignalGroup`.
  absl::Status TerminateGroup();
  /// Sends SIGKILL to the child's process group. See `SignalGroup`.
  absl::Status KillGroup();

  /// The stop sequence run by the destructor and by `Stop`.
  const StopSequence& stop_sequence() const { return stop_; }
  /// Sets the stop sequence run by the destructor and by `Stop`.
  void set_stop_sequence(const StopSequence& stop) { stop_ = stop; }
  /// Runs the stop sequence now and returns the child's status (at once, if
  /// it was already reaped). Errors as for `Wait`.
  absl::StatusOr<ExitStatus> Stop();

  /// Gives up ownership and leaves the child running: the handle becomes
  /// empty, and a background thread reaps the child when it exits, so it
  /// never lingers as a zombie. The only way to leave a child unowned. While
  /// that thread runs, this process has more than one thread, so `Fork`
  /// (without `ForkOptions::allow_threads`) is refused. A child started with
  /// `die_with_parent` still dies with this process.
  ///
  /// Errors: `Error::kSystem` if the reaper thread cannot be created (for
  /// example `EAGAIN` under RLIMIT_NPROC); the handle then still owns its
  /// child, exactly as before the call. Detaching an empty handle succeeds.
  absl::Status Detach();

 private:
  absl::StatusOr<std::optional<ExitStatus>> Reap(int flags);
  absl::StatusOr<std::optional<ExitStatus>> StolenStatus();
  absl::StatusOr<ExitStatus> StopGroup();

  pid_t pid_ = -1;
  internal::WatchedFd pidfd_;
  std::optional<ExitStatus> status_;
  StopSequence stop_;
  bool leads_group_ = false;
};

}  // namespace tubo

#endif  // TUBO_PROCESS_H_
