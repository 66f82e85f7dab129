/// @file
/// @brief The worker side of contract 4: serving a pool's tasks with a
/// function.
///
/// @code
///   TUBO_ENTRY(square) {
///     return tubo::ServePoolTasks([](std::string_view task) -> absl::StatusOr<std::string> {
///       int n = 0;
///       if (!absl::SimpleAtoi(task, &n)) return absl::InvalidArgumentError("not a number");
///       return absl::StrCat(n * n);
///     });
///   }
/// @endcode
///
/// Any program that follows contract 4 is a pool worker (a
/// standard-library-only Python worker is about 15 lines, see
/// `docs/contracts.md`); these helpers are the C++ way to write one.
#ifndef TUBO_POOL_WORKER_H_
#define TUBO_POOL_WORKER_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/end.h"

namespace tubo {

/// What a pool worker does with one task: returns the result's bytes, or an
/// error whose message the pool gives that task (`Error::kTaskFailed`).
using PoolTaskFunction = std::function<absl::StatusOr<std::string>(std::string_view task)>;

/// Serves tasks over the given ends: sends the ready frame, then for each
/// task frame read from `tasks` runs `fn` and sends its result frame
/// (status 0 with the bytes, or 1 with the error's message) before reading
/// the next, until end of stream on `tasks`. An exception escaping `fn`
/// fails that task with the exception's `what()`. Returns OK at end of
/// stream. Errors: a receive or send error of the ends; `Error::kInvalidArgument`
/// for a frame that is not a task (shorter than 8 bytes, or id 0).
absl::Status ServePoolTasks(ReadEnd& tasks, WriteEnd& results, const PoolTaskFunction& fn);

/// Takes the channels `tasks` and `results` (contract 2, see
/// `TakeReadEnd`) and serves them as the overload above. Returns the exit
/// code for the worker: 0 after end of stream, 1 after an error (printed on
/// standard error, naming it). Meant as the whole body of a self entry point.
int ServePoolTasks(const PoolTaskFunction& fn);

}  // namespace tubo

#endif  // TUBO_POOL_WORKER_H_
