/// @file
/// @brief The **fork** start method: a callable in a forked child, with pipe
/// ends moved into it. Cheap and direct, but only safe in a single-threaded
/// parent (see `ForkOptions::allow_threads`).
///
/// @code
///   auto [r, w] = std::move(*tubo::Pipe::Create());
///   absl::StatusOr<tubo::Process> child = tubo::Fork(
///       [](tubo::WriteEnd out) { return out.Send("hello").ok() ? 0 : 1; }, std::move(w));
///   // w is closed here: r sees EOF when the child ends.
/// @endcode
#ifndef TUBO_FORK_H_
#define TUBO_FORK_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/end.h"
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
inline constexpr bool kIsEnd =
    std::is_same_v<T, ReadEnd> || std::is_same_v<T, WriteEnd> || std::is_same_v<T, DuplexEnd>;

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

}  // namespace tubo

#endif  // TUBO_FORK_H_
