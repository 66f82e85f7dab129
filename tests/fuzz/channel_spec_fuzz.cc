// libFuzzer target: parsing TUBO_CHANNELS (tubo::ParseChannelSpec).
//
// Any input either parses into entries that obey contract 2 (valid unique
// names, unique fds from 3 up, modes r/w/rw), whose FormatChannelSpec parses
// back to the same entries, or fails with Error::kChannel and a one-line
// message. IsValidChannelName agrees with the grammar on every name.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tubo/tubo.h"

#define CHECK(cond)                                                                              \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "channel_spec_fuzz: check failed at line %d: %s\n", __LINE__, #cond); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

namespace {

bool GrammarName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool Same(const std::vector<tubo::ChannelSpec>& a, const std::vector<tubo::ChannelSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].fd != b[i].fd || a[i].mode != b[i].mode) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CHECK(tubo::IsValidChannelName(input) == GrammarName(input));

  absl::StatusOr<std::vector<tubo::ChannelSpec>> specs = tubo::ParseChannelSpec(input);
  if (!specs.ok()) {
    CHECK(tubo::ErrorOf(specs.status()) == tubo::Error::kChannel);
    const std::string message(specs.status().message());
    CHECK(!message.empty());
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find('\0') == std::string::npos);
    return 0;
  }
  std::set<std::string> names;
  std::set<int> fds;
  for (const tubo::ChannelSpec& s : *specs) {
    CHECK(GrammarName(s.name));
    CHECK(s.fd >= 3);
    CHECK(s.mode == "r" || s.mode == "w" || s.mode == "rw");
    CHECK(names.insert(s.name).second);
    CHECK(fds.insert(s.fd).second);
  }
  CHECK(specs->empty() == input.empty());
  const std::string formatted = tubo::FormatChannelSpec(*specs);
  absl::StatusOr<std::vector<tubo::ChannelSpec>> again = tubo::ParseChannelSpec(formatted);
  CHECK(again.ok());
  CHECK(Same(*specs, *again));
  CHECK(tubo::FormatChannelSpec(*again) == formatted);  // the formatted form is canonical
  return 0;
}
