// Internal: what the parent prepares for an exec or self child: argv and
// environment in execve's form, the paths to try, the checks on strings.
#ifndef TUBO_INTERNAL_EXEC_PLAN_H_
#define TUBO_INTERNAL_EXEC_PLAN_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tubo {
namespace internal {

// A string vector in the char* const[] form execve wants (null-terminated).
class CStrings {
 public:
  void Add(const std::string& s) { ptrs_.push_back(const_cast<char*>(s.c_str())); }
  char* const* Terminated() {
    ptrs_.push_back(nullptr);
    return ptrs_.data();
  }

 private:
  std::vector<char*> ptrs_;
};

// The child's environment: the parent's (unless cleared) with the changes
// applied in order, TUBO_CHANNELS set to `channels` (or removed if empty).
std::vector<std::string> BuildEnv(
    bool clear, const std::vector<std::pair<std::string, std::optional<std::string>>>& changes,
    const std::string& channels);

// The value of `name` in `env` ("NAME=value" strings), or "".
std::string FindEnv(const std::vector<std::string>& env, const std::string& name);

// The paths execve tries for `program`, in order: each directory of the PATH
// in `env` (or "/bin:/usr/bin") when `search` is on and the name has no `/`,
// else `program` itself.
std::vector<std::string> ExecCandidates(const std::string& program, bool search,
                                        const std::vector<std::string>& env);

// The path the self start method executes (see exec_plan.cc). Decided once.
const std::string& SelfExecutable();

// An InvalidArgument error if `value` holds a NUL byte: the kernel would
// read the string only up to it, so "/bin/echo\0/../false" would run /bin/echo.
absl::Status CheckNoNul(const std::string& value, absl::string_view field);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_EXEC_PLAN_H_
