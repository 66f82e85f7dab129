// Internal: the one registry of entry points for the self start method,
// shared by the C++ API (TUBO_ENTRY) and the C ABI (tubo_entry_register).
// Not part of the public API.
#ifndef TUBO_INTERNAL_ENTRY_REGISTRY_H_
#define TUBO_INTERNAL_ENTRY_REGISTRY_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <string>
#include <vector>

namespace tubo {
namespace internal {

// argv[1] of a self worker: kEntryFlag followed by the entry's name.
inline constexpr char kEntryFlag[] = "--tubo-entry=";

// An entry registered with a context (the C ABI's): called with `ctx`, the
// entry's name and the arguments given with Command::Arg.
using ContextEntryFunction = int (*)(void* ctx, const std::string& name,
                                     const std::vector<std::string>& args);

// Registers `fn` with `ctx` as entry point `name`. False, registering
// nothing, if the name is taken (by either kind of entry) or invalid.
bool RegisterContextEntry(const char* name, ContextEntryFunction fn, void* ctx);

// True if an entry of either kind is registered as `name`.
bool HasEntry(const std::string& name);

// Runs the entry `name` with `args` and returns its exit code: 2 (with a
// message on stderr) for an unknown entry, 1 (with the message) for an
// exception escaping it. RunEntryIfRequested exits with it.
int RunEntry(const std::string& name, const std::vector<std::string>& args);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_ENTRY_REGISTRY_H_
