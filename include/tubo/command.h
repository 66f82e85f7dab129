/// @file
/// @brief `Command`: the **exec** start method (a program) and the **self**
/// start method (an entry point of this binary, see `tubo/entry.h`).
///
/// @code
///   absl::StatusOr<tubo::Process> worker =
///       tubo::Command("./worker")
///           .Arg("--verbose")
///           .Channel("jobs", std::move(jobs_r))
///           .Channel("results", std::move(res_w))
///           .Spawn();
///   // jobs_r and res_w are closed here: res_r sees EOF when the worker ends.
/// @endcode
#ifndef TUBO_COMMAND_H_
#define TUBO_COMMAND_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/end.h"
#include "tubo/fd.h"
#include "tubo/process.h"
#include "tubo/stdio.h"

namespace tubo {

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
  friend class ForkServer;  // reads the command to send it to the server
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

#endif  // TUBO_COMMAND_H_
