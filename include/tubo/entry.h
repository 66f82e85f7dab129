/// @file
/// @brief Entry points for the **self** start method.
///
/// A program registers named entry points with `TUBO_ENTRY` and calls
/// `tubo::RunEntryIfRequested` first thing in `main`. `Command::Self("name")`
/// then re-executes the binary, and the call runs the entry instead of the
/// rest of `main`:
///
/// @code
///   TUBO_ENTRY(square) {
///     absl::StatusOr<tubo::ReadEnd> in = tubo::TakeReadEnd("in");
///     ...
///     return 0;   // the worker's exit code
///   }
///
///   int main(int argc, char** argv) {
///     tubo::RunEntryIfRequested(argc, argv);   // never returns in a worker
///     absl::StatusOr<tubo::Process> p =
///         tubo::Command::Self("square").Channel("in", std::move(reader)).Spawn();
///     ...
///   }
/// @endcode
///
/// The worker is selected by its command line (`argv[1]` is
/// `--tubo-entry=<name>`), not by the environment, so programs the worker runs
/// in turn never inherit the request.
#ifndef TUBO_ENTRY_H_
#define TUBO_ENTRY_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <string>
#include <vector>

namespace tubo {

/// The function behind an entry point: receives the arguments given with
/// `Command::Arg` and returns the worker's exit code.
using EntryFunction = int (*)(const std::vector<std::string>& args);

/// Registers `fn` as the entry point `name` (normally through `TUBO_ENTRY`,
/// during static initialisation). Returns false, registering nothing, if the
/// name is taken or invalid (`[A-Za-z0-9_.-]{1,64}`).
bool RegisterEntry(const char* name, EntryFunction fn);

/// Returns the function registered as entry point `name` with
/// `RegisterEntry`, or null (also for an entry registered through the C ABI's
/// `tubo_entry_register`, which `RunEntryIfRequested` runs all the same).
EntryFunction FindEntry(const std::string& name);

/// If this process was started by `Command::Self` (its `argv[1]` is
/// `--tubo-entry=<name>`), runs that entry (registered with `TUBO_ENTRY`,
/// `RegisterEntry` or the C ABI's `tubo_entry_register`: one registry) with the remaining arguments
/// and exits with its return value (`std::exit`, so stdio is flushed); an unknown entry prints an
/// error and exits with 2, an exception escaping the entry prints its message and exits with 1.
/// Otherwise returns at once. Call it first thing in `main`.
void RunEntryIfRequested(int argc, char** argv);

}  // namespace tubo

/// Defines and registers an entry point `name` for the self start method. The
/// body that follows is an `int(const std::vector<std::string>& args)` function.
#define TUBO_ENTRY(name)                                              \
  static int tubo_entry_##name(const std::vector<std::string>& args); \
  static const bool tubo_entry_registered_##name =                    \
      ::tubo::RegisterEntry(#name, &tubo_entry_##name);               \
  static int tubo_entry_##name([[maybe_unused]] const std::vector<std::string>& args)

#endif  // TUBO_ENTRY_H_
