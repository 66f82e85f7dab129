// Entry points for the self start method.
#include "tubo/entry.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "tubo/channel.h"

namespace tubo {
namespace {

constexpr char kEntryFlag[] = "--tubo-entry=";

// std::mutex (constant-initialised, so usable from any static initialiser),
// not absl::Mutex: see TakenNames in channel.cc (the system abseil carries no
// ThreadSanitizer annotations).
std::mutex registry_mutex;

// Function-local, so registration from any static initialiser finds it built.
absl::flat_hash_map<std::string, EntryFunction>& Registry() {
  static auto* registry = new absl::flat_hash_map<std::string, EntryFunction>();
  return *registry;
}

}  // namespace

bool RegisterEntry(const char* name, EntryFunction fn) {
  if (name == nullptr || fn == nullptr || !IsValidChannelName(name)) return false;
  std::lock_guard<std::mutex> lock(registry_mutex);
  return Registry().emplace(name, fn).second;
}

EntryFunction FindEntry(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second;
}

void RunEntryIfRequested(int argc, char** argv) {
  if (argc < 2 || std::strncmp(argv[1], kEntryFlag, sizeof(kEntryFlag) - 1) != 0) return;
  const std::string name = argv[1] + sizeof(kEntryFlag) - 1;
  EntryFunction fn = FindEntry(name);
  if (fn == nullptr) {
    std::fprintf(stderr, "tubo: no entry point \"%s\" is registered in this binary\n", name.c_str());
    std::exit(2);
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  int code = 1;
  try {
    code = fn(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tubo: entry \"%s\": uncaught exception: %s\n", name.c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "tubo: entry \"%s\": uncaught exception\n", name.c_str());
  }
  std::exit(code);
}

}  // namespace tubo
