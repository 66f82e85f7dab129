/// @file
/// @brief Starting processes: Python's three start methods, done safely.
///
/// - **fork** (`Fork`): run a callable in a forked child, with pipe ends moved
///   into it. Cheap and direct, but only safe in a single-threaded parent.
/// - **exec** (`Command`): run a program, with argv (no shell), environment,
///   working directory, standard streams and channels (contract 2).
/// - **self** (`Command::Self`): re-exec the current binary into an entry point
///   registered with `TUBO_ENTRY` (see `tubo/entry.h`); like Python's `spawn`
///   method, safe from any thread.
///
/// Every start method **consumes** the ends it passes: the parent's copies are
/// closed when the call returns, whether it succeeded or failed, so keeping a
/// child's write end open by mistake (and waiting forever for EOF) cannot be
/// written. Every failure while starting comes back from the call as an error
/// (`Error::kSpawn`) naming the stage, the program and errno, never as a silent
/// exit status 127:
/// `spawn "/usr/bin/nope": exec: No such file or directory`.
///
/// Children start with default signal dispositions and an empty signal mask,
/// and see only descriptors 0, 1, 2 and the ends passed to them.
///
/// @code
///   auto [jobs_r, jobs_w] = std::move(*tubo::Pipe::Create());
///   auto [res_r, res_w] = std::move(*tubo::Pipe::Create());
///   absl::StatusOr<tubo::Process> worker =
///       tubo::Command("./worker")
///           .Arg("--verbose")
///           .Channel("jobs", std::move(jobs_r))
///           .Channel("results", std::move(res_w))
///           .Spawn();
///   // jobs_r and res_w are closed here: res_r sees EOF when the worker ends.
/// @endcode
#ifndef TUBO_SPAWN_H_
#define TUBO_SPAWN_H_

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/end.h"
#include "tubo/fd.h"
#include "tubo/internal/fork.h"
#include "tubo/process.h"

namespace tubo {

/// @brief Options of the fork start method.
struct ForkOptions {
  /// Fork even if the parent runs more than one thread. Off by default: a
  /// forked child of a multithreaded parent inherits locks held by threads
  /// that do not exist in it (malloc, stdio, any mutex), so the callable can
  /// deadlock. Only opt in if the callable uses nothing another thread might
  /// have held; otherwise use `Command` or `Command::Self`.
  bool allow_threads = false;
  /// The child gets SIGKILL when this process dies, by any cause (SIGKILL
  /// included): the kernel's parent-death signal (`PR_SET_PDEATHSIG`), set
  /// in the child before the callable runs, and checked against a parent that
  /// died before it was set. On by default, so that a forked worker never
  /// outlives its owner. The kernel ties it to the *thread* that forked: a
  /// child forked by a thread other than the main one (`allow_threads`) dies
  /// when that thread ends.
  bool die_with_parent = true;
  /// The child leads a new process group (`setpgid(0, 0)`), so that
  /// `Process::SignalGroup` and the stop sequence reach whatever it starts.
  /// Off by default: the child stays in this process's group (a terminal's
  /// Ctrl-C reaches it too).
  bool new_process_group = false;
};

namespace internal {

template <typename T>
inline constexpr bool kIsEnd = std::is_same_v<T, ReadEnd> || std::is_same_v<T, WriteEnd> ||
                               std::is_same_v<T, DuplexEnd>;

}  // namespace internal

/// Runs `fn(ends...)` in a forked child (the **fork** start method) and
/// returns the handle of the child.
///
/// `ends` are pipe ends (`ReadEnd`, `WriteEnd`, `DuplexEnd`) passed by value:
/// they are moved into the call, and the parent's copies are closed when it
/// returns, success or failure. Buffered output of the ends is flushed first.
///
/// In the child: signal dispositions are reset to default and the signal mask
/// emptied; every descriptor except 0, 1, 2 and the ends is closed; `fn` runs
/// with the ends; its return value (an `int`, or 0 if it returns `void`) is
/// the exit code. An exception escaping `fn` prints its message on stderr and
/// exits with 1. The child leaves with `_exit`, after flushing stdio, so none
/// of the parent's destructors or `atexit` handlers run in it. Standard I/O
/// buffers (C stdio and `std::cout`/`std::cerr`) are flushed before the fork
/// so nothing prints twice.
///
/// The child is created by `clone(CLONE_PIDFD)` with no exit signal (see
/// `tubo/process.h`): `pthread_atfork` handlers do not run. Supervision:
/// `options.die_with_parent` (on by default) and `options.new_process_group`.
///
/// Errors (`Error::kSpawn`; an error means the callable did not run): the
/// parent runs more than one thread and `options.allow_threads` is false (the
/// message names the alternatives); flushing an end failed (`"fork: flush on
/// fd 4: Broken pipe"`); `clone` failed (`EAGAIN` at RLIMIT_NPROC, `ENOMEM`).
/// The one exception: with no descriptor free above 2 to hold the pidfd, the
/// child (which may have started) is killed and reaped before the error
/// returns. If the child cannot close the descriptors it inherited (not even
/// by listing /proc/self/fd or trying every number below the RLIMIT_NOFILE
/// hard limit), it exits with 127 without running the callable.
template <typename Fn, typename... Ends>
absl::StatusOr<Process> Fork(const ForkOptions& options, Fn&& fn, Ends... ends) {
  static_assert((internal::kIsEnd<Ends> && ...),
                "Fork passes ReadEnd, WriteEnd or DuplexEnd values (std::move them in)");
  std::tuple<Ends...> owned(std::move(ends)...);
  absl::Status prepared = absl::OkStatus();
  std::vector<int> keep;
  std::apply(
      [&](auto&... e) {
        ((prepared.Update(internal::PrepareForChild(e)), keep.push_back(e.fd().get())), ...);
      },
      owned);
  if (!prepared.ok()) return internal::ForkPrepareError(prepared);
  return internal::ForkChild(options, keep, [&]() -> int {
    return std::apply(
        [&](auto&... e) -> int {
          if constexpr (std::is_void_v<std::invoke_result_t<Fn, Ends...>>) {
            std::invoke(std::forward<Fn>(fn), std::move(e)...);
            return 0;
          } else {
            return static_cast<int>(std::invoke(std::forward<Fn>(fn), std::move(e)...));
          }
        },
        owned);
  });
}

/// `Fork` with default options (refused in a multithreaded parent).
template <typename Fn, typename... Ends,
          typename = std::enable_if_t<!std::is_same_v<std::decay_t<Fn>, ForkOptions>>>
absl::StatusOr<Process> Fork(Fn&& fn, Ends... ends) {
  return Fork(ForkOptions(), std::forward<Fn>(fn), std::move(ends)...);
}

/// @brief Where a child's standard stream comes from or goes to.
class Stdio {
 public:
  /// The parent's own stream (the default).
  static Stdio Inherit() { return Stdio(Kind::kInherit); }
  /// `/dev/null`.
  static Stdio Null() { return Stdio(Kind::kNull); }
  /// The file at `path`: opened for reading for stdin; created or truncated
  /// for writing for stdout and stderr. Opened in the child; a failure is a
  /// spawn error naming the stage (`open stdout`) and the path.
  static Stdio Path(std::string path);
  /// The descriptor `fd`, consumed (closed in the parent when `Spawn` returns).
  static Stdio Fd(OwnedFd fd);
  /// A pipe end, consumed like a channel (the child reads or writes raw bytes
  /// on it; the framing is up to the two programs).
  static Stdio End(ReadEnd end);
  /// A pipe end, consumed. See the `ReadEnd` overload.
  static Stdio End(WriteEnd end);
  /// A pipe end, consumed. See the `ReadEnd` overload.
  static Stdio End(DuplexEnd end);

  /// Moves the choice (and any descriptor it holds).
  Stdio(Stdio&&) noexcept = default;
  /// Moves the choice (and any descriptor it holds).
  Stdio& operator=(Stdio&&) noexcept = default;

 private:
  friend class Command;
  enum class Kind { kInherit, kNull, kFile, kFd };
  explicit Stdio(Kind kind) : kind_(kind) {}
  static Stdio FromRelease(absl::StatusOr<OwnedFd> fd);
  Kind kind_;
  std::string path_;
  OwnedFd fd_;
  absl::Status error_;  // from releasing an end; reported by Spawn
};

/// @brief A program to run (the **exec** start method) or an entry point of
/// this binary to run (the **self** start method), built up with setters and
/// started with `Spawn`.
///
/// The child is started with `clone(CLONE_VM | CLONE_VFORK)` and `execve`, so
/// the cost does not grow with the parent's memory, and it is safe in a
/// multithreaded parent. It sees descriptors 0, 1, 2 (as set with `Stdin`,
/// `Stdout`, `Stderr`) and the channels on 3, 4, 5, ... in the order given,
/// described in `TUBO_CHANNELS` (contract 2); every other descriptor is closed.
class Command {
 public:
  /// A command running `program`: a path, or a name without `/` looked up in
  /// the `PATH` of the child's environment (as `execvp`, Go's `os/exec` and
  /// Python's `subprocess` do; `SearchPath(false)` turns that off). `argv[0]`
  /// is `program`.
  explicit Command(std::string program);
  /// A command re-executing this binary (`/proc/self/exe`) into the entry
  /// point `entry`, registered with `TUBO_ENTRY` and dispatched by
  /// `tubo::RunEntryIfRequested` early in `main`. `Arg` adds the entry's arguments.
  static Command Self(std::string entry);

  /// Moves the command (and the ends it holds).
  Command(Command&&) noexcept = default;
  /// Moves the command (and the ends it holds).
  Command& operator=(Command&&) noexcept = default;

  /// Appends one argument.
  Command& Arg(std::string arg);
  /// Appends arguments.
  Command& Args(std::vector<std::string> args);
  /// Sets `argv[0]` (by default the program as given).
  Command& Argv0(std::string argv0);
  /// Whether a program name without `/` is looked up in the `PATH` of the
  /// child's environment, like `execvp` (on by default; off: the name is a
  /// path relative to the working directory).
  Command& SearchPath(bool search = true);

  /// Starts the child with an empty environment (plus what `SetEnv` adds),
  /// instead of a copy of the parent's.
  Command& ClearEnv();
  /// Sets `name=value` in the child's environment.
  Command& SetEnv(std::string name, std::string value);
  /// Removes `name` from the child's environment.
  Command& UnsetEnv(std::string name);
  /// Runs the child in `dir`. A missing directory is a spawn error at stage `chdir`.
  Command& WorkingDirectory(std::string dir);

  /// The child gets SIGKILL when this process dies, by any cause (SIGKILL
  /// included; on by default). Set in the child before it execs (the
  /// kernel's `PR_SET_PDEATHSIG`), checked against a parent that died before
  /// it was set. The kernel ties it to the thread that created the child, so
  /// a `Spawn` called on a thread other than the main one creates the child
  /// from a tubo thread that lives as long as the process (started on first
  /// use, all signals blocked): the child dies when the process does, not
  /// when the calling thread ends. The kernel clears it when the child execs
  /// a set-user-ID or set-group-ID program, or one with file capabilities;
  /// such a program outlives its parent. A child started by the worker is not
  /// covered (see `NewProcessGroup`).
  Command& DieWithParent(bool die = true);
  /// Starts the child as the leader of a new process group (`setpgid(0, 0)`
  /// before exec; off by default), so that `Process::SignalGroup` and the
  /// stop sequence reach whatever it starts and keeps in its group. A child
  /// in its own group no longer gets a terminal's Ctrl-C.
  Command& NewProcessGroup(bool lead = true);

  /// The child's standard input (default: inherited).
  Command& Stdin(Stdio stdio);
  /// The child's standard output (default: inherited).
  Command& Stdout(Stdio stdio);
  /// The child's standard error (default: inherited).
  Command& Stderr(Stdio stdio);

  /// Passes `end` to the child as channel `name` (mode `r`), consumed: it is
  /// closed in the parent when `Spawn` returns. Names must match
  /// `[A-Za-z0-9_.-]{1,64}` and be unique; a bad one fails `Spawn`.
  Command& Channel(std::string name, ReadEnd end);
  /// Passes `end` as channel `name` (mode `w`). See the `ReadEnd` overload.
  Command& Channel(std::string name, WriteEnd end);
  /// Passes `end` as channel `name` (mode `rw`). See the `ReadEnd` overload.
  Command& Channel(std::string name, DuplexEnd end);

  /// Starts the child. The channels and the descriptors given to `Stdin`,
  /// `Stdout`, `Stderr` are consumed: closed in the parent when this returns,
  /// success or failure (a second `Spawn` of the same command passes none).
  ///
  /// Errors: `Error::kInvalidArgument` (canonical code InvalidArgument) if the
  /// program, an argument, `argv[0]`, an environment name or value, the
  /// working directory, a stdio file path or the entry name holds a NUL byte
  /// (the message names the field; the kernel would silently cut the string
  /// there). Otherwise `Error::kSpawn`, naming the stage, the program and
  /// errno: an invalid or duplicate channel name or environment name, an unknown entry
  /// (self), an end that cannot be handed over (unflushable output, read-ahead
  /// bytes), `clone`, opening a stdio file, `chdir`, `dup2`, `execve` (for
  /// example `No such file or directory`, `Permission denied`, `Exec format error`).
  absl::StatusOr<Process> Spawn();

 private:
  struct ChannelEnd {
    std::string name;
    std::string mode;
    OwnedFd fd;
  };
  Command& AddChannel(std::string name, const char* mode, absl::StatusOr<OwnedFd> fd);

  std::string program_;
  std::string entry_;  // non-empty for Command::Self
  std::vector<std::string> args_;
  std::optional<std::string> argv0_;
  bool search_path_ = true;
  bool die_with_parent_ = true;
  bool new_process_group_ = false;
  bool clear_env_ = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> env_changes_;
  std::optional<std::string> cwd_;
  Stdio stdio_[3] = {Stdio::Inherit(), Stdio::Inherit(), Stdio::Inherit()};
  std::vector<ChannelEnd> channels_;
  absl::Status error_;  // the first setter error, reported by Spawn
};

}  // namespace tubo

#endif  // TUBO_SPAWN_H_
