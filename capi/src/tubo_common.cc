// capi/tubo_common.h: version, errors and bytes; the error helpers of
// internal.h, with the mapping of the C++ error kinds to C codes.
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "internal.h"
#include "tubo/tubo.h"

namespace tubo_capi {

int Fail(tubo_error** err, int code, std::string message) {
  if (err != nullptr) *err = new (std::nothrow) tubo_error{code, std::move(message)};
  return code;
}

namespace {

// The C code of each C++ kind. A switch with no default: a kind added to
// tubo::Error without a C code here fails to compile (-Werror=switch), so it
// can neither collide with a C-only code nor fall back to TUBO_E_OTHER.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
constexpr int CodeOf(tubo::Error kind) {
  switch (kind) {
    case tubo::Error::kOk: return TUBO_OK;
    case tubo::Error::kOther: return TUBO_E_OTHER;
    case tubo::Error::kInvalidArgument: return TUBO_E_INVALID_ARGUMENT;
    case tubo::Error::kSystem: return TUBO_E_SYSTEM;
    case tubo::Error::kClosed: return TUBO_E_CLOSED;
    case tubo::Error::kTruncated: return TUBO_E_TRUNCATED;
    case tubo::Error::kBadLength: return TUBO_E_BAD_LENGTH;
    case tubo::Error::kTooLarge: return TUBO_E_TOO_LARGE;
    case tubo::Error::kPeerClosed: return TUBO_E_PEER_CLOSED;
    case tubo::Error::kTimeout: return TUBO_E_TIMEOUT;
    case tubo::Error::kSpawn: return TUBO_E_SPAWN;
    case tubo::Error::kChannel: return TUBO_E_CHANNEL;
  }
  return TUBO_E_OTHER;  // a value outside the enumeration
}
#pragma GCC diagnostic pop

// The header promises TUBO_E_<kind> == -tubo::Error::<kind>; the C-only codes
// come after the last shared one.
static_assert(CodeOf(tubo::Error::kOther) == -static_cast<int>(tubo::Error::kOther) &&
                  CodeOf(tubo::Error::kTimeout) == -static_cast<int>(tubo::Error::kTimeout) &&
                  CodeOf(tubo::Error::kChannel) == -static_cast<int>(tubo::Error::kChannel),
              "TUBO_E_* codes must be minus the tubo::Error kinds");

}  // namespace

int FromStatus(tubo_error** err, const absl::Status& status) {
  if (status.ok()) return Ok(err);
  int code = CodeOf(tubo::ErrorOf(status));
  if (code == TUBO_OK) code = TUBO_E_OTHER;
  return Fail(err, code, std::string(status.message()));
}

int Null(tubo_error** err, const char* fn, const char* arg) {
  return Fail(err, TUBO_E_INVALID_ARGUMENT, std::string(fn) + ": " + arg + " is NULL");
}

int WrongKind(tubo_error** err, const char* fn, const char* needed) {
  return Fail(err, TUBO_E_INVALID_ARGUMENT, std::string(fn) + ": end must be " + needed);
}

}  // namespace tubo_capi

// ---------------------------------------------------------------- version

TUBO_EXPORT unsigned tubo_version(void) { return TUBO_VERSION_NUMBER; }

#define TUBO_STR2(x) #x
#define TUBO_STR(x) TUBO_STR2(x)
TUBO_EXPORT const char* tubo_version_string(void) {
  return TUBO_STR(TUBO_VERSION_MAJOR) "." TUBO_STR(TUBO_VERSION_MINOR) "." TUBO_STR(
      TUBO_VERSION_PATCH);
}

// ----------------------------------------------------------------- errors

TUBO_EXPORT void tubo_error_free(tubo_error* error) { delete error; }

TUBO_EXPORT int tubo_error_code(const tubo_error* error) {
  return error == nullptr ? TUBO_OK : error->code;
}

TUBO_EXPORT const char* tubo_error_message(const tubo_error* error) {
  return error == nullptr ? "" : error->message.c_str();
}

TUBO_EXPORT const char* tubo_code_name(int code) {
  switch (code) {
    case TUBO_OK: return "ok";
    case TUBO_EOF: return "eof";
    case TUBO_E_BUFFER_TOO_SMALL: return "buffer_too_small";
    case TUBO_E_NO_MEMORY: return "no_memory";
    default:
      if (code < 0 && code >= TUBO_E_CHANNEL) return tubo::ErrorName(static_cast<tubo::Error>(-code));
      return "unknown";
  }
}

// ------------------------------------------------------------------ bytes

TUBO_EXPORT void tubo_bytes_free(tubo_bytes* bytes) {
  if (bytes == nullptr) return;
  std::free(const_cast<uint8_t*>(bytes->data));
  std::free(bytes);
}
