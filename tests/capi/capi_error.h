// Test helper for the C ABI suites: owns the tubo_error a call reports.
#ifndef TUBO_TESTS_CAPI_CAPI_ERROR_H_
#define TUBO_TESTS_CAPI_CAPI_ERROR_H_

#include <string>

#include "tubo.h"

namespace tubo_capi_test {

// Owns a tubo_error for one check: `&err` frees the previous error and hands
// the C call a fresh `tubo_error **`; the destructor frees the last one.
struct Err {
  tubo_error* e = nullptr;
  Err() = default;
  Err(const Err&) = delete;
  Err& operator=(const Err&) = delete;
  ~Err() { tubo_error_free(e); }
  tubo_error** operator&() {
    tubo_error_free(e);
    e = nullptr;
    return &e;
  }
  int code() const { return tubo_error_code(e); }
  std::string msg() const { return tubo_error_message(e); }
};

}  // namespace tubo_capi_test

#endif  // TUBO_TESTS_CAPI_CAPI_ERROR_H_
