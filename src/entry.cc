// Entry points for the self start method.
#include "tubo/entry.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "tubo/channel.h"
#include "tubo/internal/entry_registry.h"

namespace tubo {
namespace {

using internal::kEntryFlag;

// One registered entry: a C++ function, or a function with a context.
struct Entry {
  EntryFunction fn = nullptr;
  internal::ContextEntryFunction context_fn = nullptr;
  void* ctx = nullptr;
};

// std::mutex (constant-initialised, so usable from any static initialiser),
// not absl::Mutex: see TakenNames in channel.cc (the system abseil carries no
// ThreadSanitizer annotations).
std::mutex registry_mutex;

// Function-local, so registration from any static initialiser finds it built.
absl::flat_hash_map<std::string, Entry>& Registry() {
  static auto* registry = new absl::flat_hash_map<std::string, Entry>();
  return *registry;
}

bool Register(const char* name, Entry entry) {
  if (name == nullptr || !IsValidChannelName(name)) return false;
  std::lock_guard<std::mutex> lock(registry_mutex);
  return Registry().emplace(name, entry).second;
}

std::optional<Entry> Find(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(name);
  if (it == Registry().end()) return std::nullopt;
  return it->second;
}

}  // namespace

namespace internal {

bool RegisterContextEntry(const char* name, ContextEntryFunction fn, void* ctx) {
  if (fn == nullptr) return false;
  Entry entry;
  entry.context_fn = fn;
  entry.ctx = ctx;
  return Register(name, entry);
}

bool HasEntry(const std::string& name) { return Find(name).has_value(); }

int RunEntry(const std::string& name, const std::vector<std::string>& args) {
  std::optional<Entry> entry = Find(name);
  if (!entry) {
    std::fprintf(stderr, "tubo: no entry point \"%s\" is registered in this binary\n",
                 name.c_str());
    return 2;
  }
  int code = 1;
  try {
    code = entry->fn != nullptr ? entry->fn(args) : entry->context_fn(entry->ctx, name, args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tubo: entry \"%s\": uncaught exception: %s\n", name.c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "tubo: entry \"%s\": uncaught exception\n", name.c_str());
  }
  return code;
}

}  // namespace internal

bool RegisterEntry(const char* name, EntryFunction fn) {
  if (fn == nullptr) return false;
  Entry entry;
  entry.fn = fn;
  return Register(name, entry);
}

EntryFunction FindEntry(const std::string& name) {
  std::optional<Entry> entry = Find(name);
  return entry ? entry->fn : nullptr;
}

void RunEntryIfRequested(int argc, char** argv) {
  if (argv == nullptr || argc < 2 || argv[1] == nullptr ||
      std::strncmp(argv[1], kEntryFlag, sizeof(kEntryFlag) - 1) != 0)
    return;
  const std::string name = argv[1] + sizeof(kEntryFlag) - 1;
  std::vector<std::string> args(argv + 2, argv + argc);
  const int code = internal::RunEntry(name, args);
  std::exit(code);
}

}  // namespace tubo
