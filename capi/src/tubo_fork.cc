// capi/tubo_fork.h: the fork start method.
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "internal.h"
#include "tubo/internal/fork.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

TUBO_EXPORT int tubo_fork(tubo_process** out, tubo_fork_fn fn, void* ctx, tubo_end** ends,
                          size_t n_ends, unsigned flags, tubo_error** err) {
  // Every end is consumed: freed in the parent when this returns.
  std::vector<std::unique_ptr<tubo_end>> owned;
  bool null_end = false;
  if (ends != nullptr) {
    for (size_t i = 0; i < n_ends; ++i) {
      try {
        owned.emplace_back(ends[i]);
      } catch (...) {
        for (size_t j = i; j < n_ends; ++j) delete ends[j];
        return Fail(err, TUBO_E_NO_MEMORY, "tubo_fork: out of memory");
      }
      if (ends[i] == nullptr) null_end = true;
    }
  }
  return Guard(err, "tubo_fork", [&] {
    TUBO_REQUIRE(out, "tubo_fork");
    TUBO_REQUIRE(fn, "tubo_fork");
    if (ends == nullptr && n_ends != 0) return Null(err, "tubo_fork", "ends");
    if (null_end) return Fail(err, TUBO_E_INVALID_ARGUMENT, "tubo_fork: an entry of ends is NULL");
    if ((flags & ~(TUBO_FORK_ALLOW_THREADS | TUBO_FORK_OUTLIVE_PARENT |
                   TUBO_FORK_NEW_PROCESS_GROUP)) != 0) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  "tubo_fork: unknown flags " + std::to_string(flags));
    }
    std::vector<int> keep;
    std::vector<tubo_end*> raw;
    for (auto& e : owned) {
      absl::Status prepared =
          std::visit([](auto& x) { return tubo::internal::PrepareForChild(x); }, e->v);
      if (!prepared.ok()) return FromStatus(err, tubo::internal::ForkPrepareError(prepared));
      keep.push_back(tubo_end_fd(e.get()));
      raw.push_back(e.get());
    }
    tubo::ForkOptions options;
    options.allow_threads = (flags & TUBO_FORK_ALLOW_THREADS) != 0;
    options.die_with_parent = (flags & TUBO_FORK_OUTLIVE_PARENT) == 0;
    options.new_process_group = (flags & TUBO_FORK_NEW_PROCESS_GROUP) != 0;
    absl::StatusOr<tubo::Process> p = tubo::internal::ForkChild(options, keep, [&]() -> int {
      int code = fn(ctx, raw.empty() ? nullptr : raw.data(), raw.size());
      // Flush what the function left buffered, as the C++ ends' destructors do.
      for (tubo_end* e : raw) std::visit([](auto& x) { x.Close().IgnoreError(); }, e->v);
      return code;
    });
    if (!p.ok()) return FromStatus(err, p.status());
    *out = new tubo_process{std::move(*p)};
    return Ok(err);
  });
}
