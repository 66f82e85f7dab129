// Internal: contract 4's frames (a task, a result, the ready frame) as bytes,
// shared by the pool and the worker-side helper. Not part of the public API.
#ifndef TUBO_INTERNAL_POOL_FRAMES_H_
#define TUBO_INTERNAL_POOL_FRAMES_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tubo {
namespace internal {

// A result frame's status byte.
enum class PoolStatus : uint8_t { kDone = 0, kFailed = 1, kReady = 2 };

// The 8-byte big-endian id followed by `body`.
std::string EncodePoolTask(uint64_t id, std::string_view body);
// The 8-byte big-endian id, the status byte, then `body`.
std::string EncodePoolResult(uint64_t id, PoolStatus status, std::string_view body);

struct PoolTaskFrame {
  uint64_t id = 0;
  std::string_view body;  // points into the frame decoded
};
// A task frame: at least 8 bytes, id not 0 (else kInvalidArgument naming what).
absl::StatusOr<PoolTaskFrame> DecodePoolTask(std::string_view frame);

struct PoolResultFrame {
  uint64_t id = 0;
  PoolStatus status = PoolStatus::kDone;
  std::string_view body;  // points into the frame decoded
};
// A result frame: at least 9 bytes, a known status, id 0 exactly for ready
// (else kInvalidArgument naming what).
absl::StatusOr<PoolResultFrame> DecodePoolResult(std::string_view frame);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_POOL_FRAMES_H_
