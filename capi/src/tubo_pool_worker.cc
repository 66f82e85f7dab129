// capi/tubo_pool.h, the worker side: tubo_pool_serve and tubo_pool_serve_ends
// over tubo::ServePoolTasks (contract 4).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "internal.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

namespace {

// The C task function as a tubo::PoolTaskFunction: its result or its message,
// freed here whatever happens.
tubo::PoolTaskFunction Wrap(tubo_pool_task_fn fn, void* arg) {
  return [fn, arg](std::string_view task) -> absl::StatusOr<std::string> {
    tubo_bytes* result = nullptr;
    char* message = nullptr;
    const int rc = fn(arg, task.data(), task.size(), &result, &message);
    if (rc == 0) {
      std::string bytes;
      if (result != nullptr && result->len != 0) {
        bytes.assign(reinterpret_cast<const char*>(result->data), result->len);
      }
      tubo_bytes_free(result);
      std::free(message);
      return bytes;
    }
    std::string text = message != nullptr ? std::string(message)
                                          : "the task function returned " + std::to_string(rc);
    tubo_bytes_free(result);
    std::free(message);
    return absl::UnknownError(text);
  };
}

}  // namespace

TUBO_EXPORT int tubo_pool_serve(tubo_pool_task_fn fn, void* arg) {
  if (fn == nullptr) {
    std::fprintf(stderr, "pool worker: tubo_pool_serve: fn is NULL\n");
    return 2;
  }
  try {
    return tubo::ServePoolTasks(Wrap(fn, arg));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pool worker: %s\n", e.what());
    return 1;
  }
}

TUBO_EXPORT int tubo_pool_serve_ends(tubo_end* tasks, tubo_end* results, tubo_pool_task_fn fn,
                                     void* arg) {
  auto* in = tasks != nullptr ? std::get_if<tubo::ReadEnd>(&tasks->v) : nullptr;
  auto* out = results != nullptr ? std::get_if<tubo::WriteEnd>(&results->v) : nullptr;
  if (fn == nullptr || in == nullptr || out == nullptr) {
    std::fprintf(stderr,
                 "pool worker: tubo_pool_serve_ends: fn must not be NULL, tasks must be a read "
                 "end and results a write end\n");
    return 2;
  }
  try {
    absl::Status served = tubo::ServePoolTasks(*in, *out, Wrap(fn, arg));
    if (!served.ok()) {
      std::fprintf(stderr, "pool worker: %s\n", std::string(served.message()).c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pool worker: %s\n", e.what());
    return 1;
  }
}
