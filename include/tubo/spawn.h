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
/// An error from any start method means nothing ran (the one exception, no
/// descriptor free above 2 for the pidfd, is documented on `Fork`). NUL bytes
/// in any string of a `Command` are an `Error::kInvalidArgument` naming it.
///
/// Children start with default signal dispositions and an empty signal mask,
/// and see only descriptors 0, 1, 2 and the ends passed to them; no
/// descriptor tubo creates is ever one of 0, 1, 2. Supervision, on every
/// start method: `die_with_parent` (on by default) and `new_process_group`;
/// what exactly holds, and where the kernel sets limits, is in
/// `tubo/process.h`.
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

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include "tubo/command.h"
#include "tubo/fork.h"
#include "tubo/stdio.h"

#endif  // TUBO_SPAWN_H_
