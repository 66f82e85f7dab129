/// @file
/// @brief `ForkServer`: the **fork server** start method, a clean process
/// that forks workers on request (CPython's `forkserver`, Android's zygote).
///
/// A worker started by a fork server costs a fork of a small single-threaded
/// process plus a hand-off over a Unix socket, whatever the size of this
/// process and however many threads it runs; it runs an entry point of this
/// binary (`TUBO_ENTRY`, see `tubo/entry.h`) exactly as a `Command::Self`
/// worker does, and this process owns it exactly as it owns any other child:
///
/// @code
///   TUBO_ENTRY(square) {
///     absl::StatusOr<tubo::ReadEnd> in = tubo::TakeReadEnd("in");
///     ...
///   }
///
///   int main(int argc, char** argv) {
///     tubo::RunEntryIfRequested(argc, argv);   // also where the server runs
///     absl::StatusOr<tubo::ForkServer> server = tubo::ForkServer::Start();
///     absl::StatusOr<tubo::Process> p =
///         server->Spawn(tubo::Command::Self("square").Channel("in", std::move(reader)));
///     absl::StatusOr<tubo::ExitStatus> st = p->Wait();
///   }
/// @endcode
///
/// **How it works.** The server is this binary re-executed (the self start
/// method, so it starts clean whatever this process looks like) into a
/// built-in entry point, `tubo.fork-server`, which `RunEntryIfRequested`
/// dispatches like any other: a program that can run self workers can serve.
/// It holds one end of a `SOCK_SEQPACKET` socket pair. `Spawn` sends it the
/// command and the worker's descriptors (`SCM_RIGHTS`); the server creates
/// the worker with `clone(CLONE_PARENT | CLONE_PIDFD)`, so the worker is a
/// child of *this* process, not of the server. The worker puts its
/// descriptors, streams, directory and environment in place and hands itself
/// over: it sends a pidfd of its own over the server's socket, then runs the
/// entry. (A worker that fails its set-up reports the stage to the server,
/// which replies with the error and the worker's pidfd, so that the failed
/// worker is reaped.) `Spawn` returns a `Process` that owns the worker
/// through that pidfd: `Wait`, the exit status, signals, the stop sequence
/// and `Detach` behave as for any child; `getppid()` in the worker is this
/// process.
///
/// **How the worker ends.** When the entry returns, the worker flushes C
/// stdio and the C++ standard streams and leaves with `_exit(return value)`,
/// as a `Fork` worker does (and a CPython `forkserver` child): atexit handlers
/// and static destructors do not run in it. An exception escaping the entry
/// prints its message on stderr and exits 1.
///
/// **What the worker inherits.** Its memory image is the server's: the
/// binary after static initialisation and `main` up to
/// `RunEntryIfRequested`, nothing this process did later. Its environment
/// and working directory are the server's (copies of this process's at the
/// time the server started), with the command's changes applied; its
/// standard streams are the server's (this process's at that time) unless the
/// command sets them. Entry points registered after the server started (for
/// example with the C ABI's `tubo_entry_register` from a thread, later) are
/// not known to it: register them before `main` calls `RunEntryIfRequested`.
///
/// **Supervision.** The server dies with this process (SIGKILL included) and
/// leaves as soon as its `ForkServer` is destroyed. A worker created with
/// `Command::DieWithParent` (the default) gets SIGKILL when this process
/// dies, like any self worker. A server that died (killed, crashed) is
/// noticed by the next `Spawn`, before the request is sent (its pidfd), when
/// the send fails or when its socket closes before a reply, and started
/// again; a `Spawn` never waits on a dead server (one stopped with SIGSTOP, though, makes it wait
/// until it is continued). A worker's exit signal is SIGCHLD, as a self worker's: what
/// `tubo/process.h` says of foreign reapers for exec and self children
/// holds for it.
///
/// **Thread-safety**: `Spawn` may be called from any number of threads at
/// once (the requests are sent one at a time). Moving or destroying the
/// handle must not race with a `Spawn`.
#ifndef TUBO_FORK_SERVER_H_
#define TUBO_FORK_SERVER_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <sys/types.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/command.h"
#include "tubo/process.h"

namespace tubo {

namespace internal {
struct ForkServerState;
}  // namespace internal

/// @brief A handle that owns one fork server process and starts workers
/// through it (C: `tubo_fork_server`, Go: not available, Python: not yet).
///
/// Move-only. Destroying the handle ends the server (its socket closes and
/// it is killed and reaped at once); workers already started are not
/// affected: each is owned by its own `Process`.
class ForkServer {
 public:
  /// A handle whose server is not started yet: the first `Spawn` starts it
  /// (see `Start` for the errors it can then return).
  ForkServer();
  /// Ends the server (see the class comment).
  ~ForkServer();
  /// Moves the handle (and its server); `other` becomes empty.
  ForkServer(ForkServer&& other) noexcept;
  /// Ends the server held, then takes `other`'s.
  ForkServer& operator=(ForkServer&& other) noexcept;
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  /// Starts a server now and returns its handle, once the server has said it
  /// is ready.
  ///
  /// Errors: `Error::kSpawn`: the socket pair or the self spawn failed (the
  /// message names the stage and errno), or the server ended, or did not say
  /// it was ready within 10 s, before it was ready, which usually means that
  /// `main` does not call `RunEntryIfRequested` first (the message says so,
  /// with the server's exit status).
  static absl::StatusOr<ForkServer> Start();

  /// Starts `command`, which must come from `Command::Self`, as a worker
  /// forked by the server, and returns the handle that owns it. What the
  /// command sets applies as for `Command::Spawn`: arguments, channels
  /// (contract 2: `TakeReadEnd` and friends work in the worker), environment
  /// changes (`ClearEnv`, `SetEnv`, `UnsetEnv`, over the server's
  /// environment), working directory, standard streams, `DieWithParent`
  /// (on by default), `NewProcessGroup`. `Argv0` and `SearchPath` have no
  /// effect (the worker does not exec). The channels and stdio descriptors
  /// are consumed: closed here when this returns, success or failure (the
  /// command itself stays usable, as after `Command::Spawn`: spawning it again
  /// passes no channel). Starts the server first if it is not running (never
  /// started, or died).
  ///
  /// Errors: `Error::kInvalidArgument` for a command that is not a
  /// `Command::Self`, and for what `Command::Spawn` rejects as such (NUL
  /// bytes). `Error::kSpawn`, naming the entry, the stage and errno: those of
  /// `Command::Spawn` (an invalid or duplicate channel name, an end that
  /// cannot be handed over, an unknown entry, `open stdout`, `chdir`, ...),
  /// more than 253 descriptors or a command larger than 128 KiB, `clone` in
  /// the server, a server that cannot be (re)started (see `Start`), and a
  /// server that died twice while handling this very request, before it
  /// created the worker (a server that dies once is started again and the
  /// request sent again: no worker can start twice). `Error::kClosed` for a
  /// moved-from handle.
  absl::StatusOr<Process> Spawn(Command& command);
  /// `Spawn` of a temporary command (`Spawn(Command::Self("name"))`).
  absl::StatusOr<Process> Spawn(Command&& command) { return Spawn(command); }

  /// The server's process id, or -1 if no server runs (not started yet,
  /// moved from, or known to have died).
  pid_t server_pid() const;

 private:
  std::unique_ptr<internal::ForkServerState> state_;
};

}  // namespace tubo

#endif  // TUBO_FORK_SERVER_H_
