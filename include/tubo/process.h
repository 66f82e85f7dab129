/// @file
/// @brief `Process`: the one owner of a child process.
///
/// A `Process` comes from a start method (`Fork`, `Command::Spawn`, see
/// `tubo/spawn.h`) and owns its child through a pidfd, so signals can never
/// reach a recycled pid and the exit status cannot be lost to someone else.
///
/// @code
///   absl::StatusOr<tubo::Process> p = tubo::Command("/bin/true").Spawn();
///   absl::StatusOr<tubo::ExitStatus> st = p->Wait();
///   std::cout << st->ToString();   // "exited(0)"
/// @endcode
///
/// **No zombies, no unowned children.** Unlike Rust's `Child`, whose drop
/// leaves the child alone, a `Process` destroyed while its child still runs
/// runs its stop sequence (see `StopSequence`) and always reaps the child.
/// `Detach()` is the only way to leave a child running without an owner; a
/// background thread then reaps it when it exits.
///
/// **Thread-safety**: a `Process` may be moved to another thread, but must not
/// be used by two threads at once.
#ifndef TUBO_PROCESS_H_
#define TUBO_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/fd.h"

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
  /// The exit code (0-255) if `exited()`, else -1.
  int code() const { return signaled_ ? -1 : value_; }
  /// The signal that killed it if `signaled()`, else 0.
  int signal() const { return signaled_ ? value_ : 0; }
  /// True if `signaled()` and a core dump was written.
  bool core_dumped() const { return core_dumped_; }
  /// True for `exited(0)`.
  bool success() const { return !signaled_ && value_ == 0; }
  /// The Python-style integer (`multiprocessing.Process.exitcode`): the exit
  /// code, or minus the signal number.
  int exitcode() const { return signaled_ ? -value_ : value_; }
  /// `"exited(<code>)"` or `"signaled(<signal>)"` (with `", core dumped"`).
  std::string ToString() const;

  /// True if both describe the same ending.
  friend bool operator==(const ExitStatus& a, const ExitStatus& b) {
    return a.signaled_ == b.signaled_ && a.value_ == b.value_ &&
           a.core_dumped_ == b.core_dumped_;
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
/// In order: wait up to `grace` for the child to exit by itself; send `signal`
/// (unless it is 0, or cannot be sent, such as an invalid number) and wait up
/// to `signal_timeout`; send SIGKILL and wait for the child to die. A step
/// that fails is skipped, never the last one: the child is always reaped. The
/// default gives a well-behaved worker 1 s to finish, then 1 s to honour SIGTERM.
struct StopSequence {
  /// How long to wait for the child to exit by itself.
  absl::Duration grace = absl::Seconds(1);
  /// The signal sent after the grace period (0: go straight to SIGKILL).
  int signal = 15;  // SIGTERM
  /// How long to wait after `signal` before SIGKILL.
  absl::Duration signal_timeout = absl::Seconds(1);

  /// SIGKILL at once, then reap.
  static StopSequence KillNow() { return StopSequence{absl::ZeroDuration(), 0, absl::ZeroDuration()}; }
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
  /// be an unreaped child that nothing else waits for. Used by the start methods.
  Process(pid_t pid, OwnedFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}

  /// The child's process id (valid until reaped), or -1 for an empty handle.
  pid_t pid() const { return pid_; }
  /// The pidfd, borrowed: readable once the child has exited. -1 once reaped.
  BorrowedFd pidfd() const { return pidfd_.Borrow(); }
  /// True if the handle owns a child that has not been reaped yet.
  bool owns_child() const { return pidfd_.valid(); }

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
  /// (without `ForkOptions::allow_threads`) is refused.
  void Detach();

 private:
  absl::StatusOr<std::optional<ExitStatus>> Reap(int flags);

  pid_t pid_ = -1;
  OwnedFd pidfd_;
  std::optional<ExitStatus> status_;
  StopSequence stop_;
};

}  // namespace tubo

#endif  // TUBO_PROCESS_H_
