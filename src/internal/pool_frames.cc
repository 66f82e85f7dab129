// Contract 4's frames as bytes (see internal/pool_frames.h).
#include "tubo/internal/pool_frames.h"

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tubo/error.h"

namespace tubo {
namespace internal {
namespace {

constexpr size_t kIdSize = 8;

std::string WithId(uint64_t id, size_t extra) {
  std::string frame(kIdSize, '\0');
  frame.reserve(kIdSize + extra);
  absl::big_endian::Store64(frame.data(), id);
  return frame;
}

absl::Status BadFrame(std::string message) {
  return WithError(absl::InvalidArgumentError(std::move(message)), Error::kInvalidArgument);
}

}  // namespace

std::string EncodePoolTask(uint64_t id, std::string_view body) {
  std::string frame = WithId(id, body.size());
  frame.append(body.data(), body.size());
  return frame;
}

std::string EncodePoolResult(uint64_t id, PoolStatus status, std::string_view body) {
  std::string frame = WithId(id, 1 + body.size());
  frame.push_back(static_cast<char>(status));
  frame.append(body.data(), body.size());
  return frame;
}

absl::StatusOr<PoolTaskFrame> DecodePoolTask(std::string_view frame) {
  if (frame.size() < kIdSize) {
    return BadFrame(
        absl::StrCat("pool task frame of ", frame.size(), " bytes: shorter than its 8-byte id"));
  }
  PoolTaskFrame task;
  task.id = absl::big_endian::Load64(frame.data());
  if (task.id == 0) return BadFrame("pool task frame with id 0");
  task.body = frame.substr(kIdSize);
  return task;
}

absl::StatusOr<PoolResultFrame> DecodePoolResult(std::string_view frame) {
  if (frame.size() < kIdSize + 1) {
    return BadFrame(absl::StrCat("pool result frame of ", frame.size(),
                                 " bytes: shorter than its id and status byte"));
  }
  PoolResultFrame result;
  result.id = absl::big_endian::Load64(frame.data());
  const uint8_t status = static_cast<uint8_t>(frame[kIdSize]);
  if (status > 2) return BadFrame(absl::StrCat("pool result frame with status ", status));
  result.status = static_cast<PoolStatus>(status);
  result.body = frame.substr(kIdSize + 1);
  if ((result.status == PoolStatus::kReady) != (result.id == 0)) {
    return BadFrame(absl::StrCat("pool result frame with id ", result.id, " and status ", status,
                                 ": id 0 is the ready frame's, and only its"));
  }
  return result;
}

}  // namespace internal
}  // namespace tubo
