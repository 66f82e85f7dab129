// What the parent prepares for an exec or self child (tubo/internal/exec_plan.h).
#include "tubo/internal/exec_plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tubo/channel.h"
#include "tubo/error.h"

extern char** environ;

namespace tubo {
namespace internal {

std::vector<std::string> BuildEnv(
    bool clear, const std::vector<std::pair<std::string, std::optional<std::string>>>& changes,
    const std::string& channels) {
  std::vector<std::string> env;
  if (!clear) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  }
  auto set = [&env](const std::string& name, const std::optional<std::string>& value) {
    const std::string prefix = name + "=";
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& e) { return absl::StartsWith(e, prefix); }),
              env.end());
    if (value) env.push_back(prefix + *value);
  };
  for (const auto& [name, value] : changes) set(name, value);
  set(kChannelsEnvVar, channels.empty() ? std::nullopt : std::optional<std::string>(channels));
  return env;
}

// The path the self start method executes. Normally /proc/self/exe itself:
// it names the running binary even if its file was since replaced or
// removed. An emulator such as valgrind virtualises /proc/self/exe for
// readlink but not for execve, where it names the emulator's own binary: it
// shows as readlink naming a file other than the one /proc/self/exe opens.
// Then the path readlink gives is used. Decided once.
const std::string& SelfExecutable() {
  static const std::string* const path = [] {
    auto* self = new std::string("/proc/self/exe");
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof(buf)) - 1) return self;
    const std::string link(buf, static_cast<size_t>(n));
    struct stat named, running;
    if (::stat(link.c_str(), &named) != 0 || ::stat("/proc/self/exe", &running) != 0) return self;
    if (named.st_dev != running.st_dev || named.st_ino != running.st_ino) *self = link;
    return self;
  }();
  return *path;
}

std::string FindEnv(const std::vector<std::string>& env, const std::string& name) {
  const std::string prefix = name + "=";
  for (const std::string& e : env) {
    if (absl::StartsWith(e, prefix)) return e.substr(prefix.size());
  }
  return "";
}

std::vector<std::string> ExecCandidates(const std::string& program, bool search,
                                        const std::vector<std::string>& env) {
  std::vector<std::string> candidates;
  if (!search || absl::StrContains(program, '/')) {
    candidates.push_back(program);
    return candidates;
  }
  std::string path = FindEnv(env, "PATH");
  if (path.empty()) path = "/bin:/usr/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    candidates.push_back(absl::StrCat(dir.empty() ? "." : dir, "/", program));
  }
  return candidates;
}

absl::Status CheckNoNul(const std::string& value, absl::string_view field) {
  if (value.find('\0') == std::string::npos) return absl::OkStatus();
  return WithError(absl::InvalidArgumentError(absl::StrCat(field, " contains a NUL byte")),
                   Error::kInvalidArgument);
}

}  // namespace internal
}  // namespace tubo
