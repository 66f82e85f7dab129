// capi/tubo_entry.h: entry points of the self start method.
#include <string>
#include <vector>

#include "internal.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

namespace {

// The C++ side of every C entry: calls the C function (the context) with a
// C argv whose argv[0] is the entry's name.
int CEntryTrampoline(void* ctx, const std::string& name, const std::vector<std::string>& args) {
  tubo_entry_fn fn = reinterpret_cast<tubo_entry_fn>(ctx);
  std::vector<std::string> storage;
  storage.push_back(name);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return fn(static_cast<int>(storage.size()), argv.data());
}

}  // namespace

TUBO_EXPORT int tubo_entry_register(const char* name, tubo_entry_fn fn, tubo_error** err) {
  return Guard(err, "tubo_entry_register", [&] {
    TUBO_REQUIRE(name, "tubo_entry_register");
    TUBO_REQUIRE(fn, "tubo_entry_register");
    if (!tubo::internal::RegisterContextEntry(name, &CEntryTrampoline,
                                              reinterpret_cast<void*>(fn))) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string("tubo_entry_register: \"") + name +
                      "\" is taken or not a valid name ([A-Za-z0-9_.-]{1,64})");
    }
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_run_entry_if_requested(int argc, char** argv) {
  if (argv == nullptr) return;
  tubo::RunEntryIfRequested(argc, argv);
}
