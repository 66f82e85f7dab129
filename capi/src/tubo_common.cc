// capi/tubo_common.h: version, errors and bytes; the error helpers of
// internal.h, with the mapping of the C++ error kinds to C codes.
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "internal.h"
#include "tubo/tubo.h"

namespace tubo_capi {

int Fail(tubo_error** err, int code, std::string message, int errno_value) {
  if (err != nullptr) *err = new (std::nothrow) tubo_error{code, std::move(message), errno_value};
  return code;
}

namespace {

// The C code of each C++ kind: minus its value (tubo::Error's table).
constexpr int CodeOf(tubo::Error kind) { return -static_cast<int>(kind); }

// The C header spells every kind of the table, with the value the table gives:
// a kind added to TUBO_ERROR_KINDS without its TUBO_E_ code, or with another
// value, fails to compile here.
#define TUBO_CHECK_C_CODE(kind, value, c_name, name, meaning)                            \
  static_assert(TUBO_E_##c_name == -(value) && TUBO_E_##c_name > TUBO_CODE_C_ONLY_FIRST, \
                "TUBO_E_" #c_name " must be -" #value);
TUBO_ERROR_KINDS(TUBO_CHECK_C_CODE)
#undef TUBO_CHECK_C_CODE

}  // namespace

int FromStatus(tubo_error** err, const absl::Status& status) {
  if (status.ok()) return Ok(err);
  const tubo::Error kind = tubo::ErrorOf(status);
  const int code = std::string_view(tubo::ErrorName(kind)) == "unknown" || kind == tubo::Error::kOk
                       ? TUBO_E_OTHER
                       : CodeOf(kind);
  return Fail(err, code, std::string(status.message()), tubo::ErrorErrno(status));
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

TUBO_EXPORT int tubo_error_errno(const tubo_error* error) {
  return error == nullptr ? 0 : error->errno_value;
}

TUBO_EXPORT const char* tubo_error_message(const tubo_error* error) {
  return error == nullptr ? "" : error->message.c_str();
}

TUBO_EXPORT const char* tubo_code_name(int code) {
  switch (code) {
    case TUBO_OK:
      return "ok";
    case TUBO_EOF:
      return "eof";
    case TUBO_E_BUFFER_TOO_SMALL:
      return "buffer_too_small";
    case TUBO_E_NO_MEMORY:
      return "no_memory";
    default:
      // ErrorName says "unknown" for a value outside the table.
      if (code < 0 && code > TUBO_CODE_C_ONLY_FIRST) {
        return tubo::ErrorName(static_cast<tubo::Error>(-code));
      }
      return "unknown";
  }
}

// ------------------------------------------------------------------ bytes

TUBO_EXPORT void tubo_bytes_free(tubo_bytes* bytes) {
  if (bytes == nullptr) return;
  std::free(const_cast<uint8_t*>(bytes->data));
  std::free(bytes);
}

TUBO_EXPORT int tubo_bytes_new(tubo_bytes** out, const void* data, size_t len, tubo_error** err) {
  return tubo_capi::Guard(err, "tubo_bytes_new", [&] {
    if (out == nullptr) return tubo_capi::Null(err, "tubo_bytes_new", "out");
    if (data == nullptr && len != 0) return tubo_capi::Null(err, "tubo_bytes_new", "data");
    auto* b = static_cast<tubo_bytes*>(std::malloc(sizeof(tubo_bytes)));
    if (b == nullptr) throw std::bad_alloc();
    uint8_t* copy = nullptr;
    if (len != 0) {
      copy = static_cast<uint8_t*>(std::malloc(len));
      if (copy == nullptr) {
        std::free(b);
        throw std::bad_alloc();
      }
      std::memcpy(copy, data, len);
    }
    b->data = copy;
    b->len = len;
    *out = b;
    return tubo_capi::Ok(err);
  });
}

TUBO_EXPORT int tubo_declare_sigpipe_ignored(tubo_error** err) {
  return tubo_capi::Guard(err, "tubo_declare_sigpipe_ignored", [&] {
    return tubo_capi::FromStatus(err, tubo::DeclareSigpipeIgnored());
  });
}
