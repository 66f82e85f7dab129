// Error kinds carried as absl::Status payloads.
#include "tubo/error.h"

#include <string_view>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace tubo {
namespace {

// The payload type URL under which the kind is stored (abseil convention).
constexpr char kErrorPayloadUrl[] = "type.tubo.dev/tubo.Error";
// The payload type URL under which the errno of a failed system call is stored.
constexpr char kErrnoPayloadUrl[] = "type.tubo.dev/tubo.Errno";

}  // namespace

absl::Status WithError(absl::Status status, Error error) {
  if (status.ok()) return status;
  status.SetPayload(kErrorPayloadUrl, absl::Cord(std::to_string(static_cast<int>(error))));
  return status;
}

absl::Status WithErrno(absl::Status status, int errno_value) {
  if (status.ok() || errno_value <= 0) return status;
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(std::to_string(errno_value)));
  return status;
}

int ErrorErrno(const absl::Status& status) {
  if (status.ok()) return 0;
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayloadUrl);
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value) || value < 0) return 0;
  return value;
}

absl::Status SystemError(int errno_value, absl::string_view message, Error error) {
  return WithErrno(WithError(absl::ErrnoToStatus(errno_value, message), error), errno_value);
}

Error ErrorOf(const absl::Status& status) {
  if (status.ok()) return Error::kOk;
  if (absl::optional<absl::Cord> payload = status.GetPayload(kErrorPayloadUrl)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*payload), &value) && value > static_cast<int>(Error::kOk) &&
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

const char* ErrorName(Error error) {
  switch (error) {
    case Error::kOk:
      return "ok";
#define TUBO_ERROR_NAME(kind, value, c_name, name, meaning) \
  case Error::kind:                                         \
    return name;
      TUBO_ERROR_KINDS(TUBO_ERROR_NAME)
#undef TUBO_ERROR_NAME
  }
  return "unknown";
}

const char* ErrorMeaning(Error error) {
  switch (error) {
    case Error::kOk:
      return "Not an error.";
#define TUBO_ERROR_MEANING(kind, value, c_name, name, meaning) \
  case Error::kind:                                            \
    return meaning;
      TUBO_ERROR_KINDS(TUBO_ERROR_MEANING)
#undef TUBO_ERROR_MEANING
  }
  return "";
}

}  // namespace tubo
