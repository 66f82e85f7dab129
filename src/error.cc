// Error kinds carried as absl::Status payloads.
#include "tubo/error.h"

#include <string_view>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace tubo {
namespace {

// The payload type URL under which the kind is stored (abseil convention).
constexpr char kErrorPayloadUrl[] = "type.tubo.dev/tubo.Error";

}  // namespace

absl::Status WithError(absl::Status status, Error error) {
  if (status.ok()) return status;
  status.SetPayload(kErrorPayloadUrl,
                    absl::Cord(std::to_string(static_cast<int>(error))));
  return status;
}

Error ErrorOf(const absl::Status& status) {
  if (status.ok()) return Error::kOk;
  if (absl::optional<absl::Cord> payload = status.GetPayload(kErrorPayloadUrl)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*payload), &value) &&
        value > static_cast<int>(Error::kOk) &&
        std::string_view(ErrorName(static_cast<Error>(value))) != "unknown") {
      return static_cast<Error>(value);
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return Error::kInvalidArgument;
    case absl::StatusCode::kDeadlineExceeded:
      return Error::kTimeout;
    default:
      return Error::kOther;
  }
}

// No default: a kind added to tubo::Error without a name fails to compile.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
const char* ErrorName(Error error) {
  switch (error) {
    case Error::kOk: return "ok";
    case Error::kOther: return "other";
    case Error::kInvalidArgument: return "invalid_argument";
    case Error::kSystem: return "system";
    case Error::kClosed: return "closed";
    case Error::kTruncated: return "truncated";
    case Error::kBadLength: return "bad_length";
    case Error::kTooLarge: return "too_large";
    case Error::kPeerClosed: return "peer_closed";
    case Error::kTimeout: return "timeout";
    case Error::kSpawn: return "spawn";
    case Error::kChannel: return "channel";
  }
  return "unknown";
}
#pragma GCC diagnostic pop

}  // namespace tubo
