// Internal to the C ABI (capi/src/*.cc, one file per public header): the
// structs behind the opaque C handles and the helpers every exported function
// is built from. Every exported function catches every exception (nothing may
// unwind into C) and checks its arguments, so a NULL or invalid argument is an
// error code, never a crash. Compiled with hidden visibility: nothing here is
// exported (capi/tubo.map).
#ifndef TUBO_CAPI_SRC_INTERNAL_H_
#define TUBO_CAPI_SRC_INTERNAL_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tubo/tubo.h"
// Found through the target's `includes`, as capi/tubo.h: the path, and so the
// topic headers' paths, that abidw matches against the public headers.
#include "tubo.h"

// Marks a definition as part of the C ABI.
#define TUBO_EXPORT extern "C" __attribute__((visibility("default")))

struct tubo_error {
  int code;
  std::string message;
  int errno_value = 0;  // the failed system call's errno (tubo::ErrorErrno), or 0
};

struct tubo_end {
  std::variant<tubo::ReadEnd, tubo::WriteEnd, tubo::DuplexEnd> v;
};

struct tubo_command {
  tubo::Command cmd;
};

struct tubo_process {
  tubo::Process p;
};

// Shared: a pool start method made with the server keeps it alive.
struct tubo_fork_server {
  std::shared_ptr<tubo::ForkServer> server;
};

struct tubo_wait_set {
  tubo::WaitSet set;
};

namespace tubo_capi {

// Stores an error (if `err` is wanted) and returns `code`. `errno_value` is
// what tubo_error_errno reports (0: no system call failed).
int Fail(tubo_error** err, int code, std::string message, int errno_value = 0);

// Stores no error (if `err` is wanted) and returns TUBO_OK.
inline int Ok(tubo_error** err) {
  if (err != nullptr) *err = nullptr;
  return TUBO_OK;
}

// End of stream: not an error. Stores no error and returns TUBO_EOF.
inline int Eof(tubo_error** err) {
  if (err != nullptr) *err = nullptr;
  return TUBO_EOF;
}

// TUBO_OK for an ok status, else its C code (TUBO_E_*), message and errno.
int FromStatus(tubo_error** err, const absl::Status& status);

// TUBO_E_INVALID_ARGUMENT: "<fn>: <arg> is NULL".
int Null(tubo_error** err, const char* fn, const char* arg);

// TUBO_E_INVALID_ARGUMENT: "<fn>: end must be <needed>".
int WrongKind(tubo_error** err, const char* fn, const char* needed);

// Fails with Null when the pointer `ptr` is NULL (the message names it).
#define TUBO_REQUIRE(ptr, fn) \
  if ((ptr) == nullptr) return ::tubo_capi::Null(err, fn, #ptr)

// Runs `body`, turning escaping exceptions into error codes.
template <typename F>
int Guard(tubo_error** err, const char* fn, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(err, TUBO_E_NO_MEMORY, std::string(fn) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(err, TUBO_E_OTHER, std::string(fn) + ": " + e.what());
  } catch (...) {
    return Fail(err, TUBO_E_OTHER, std::string(fn) + ": unknown exception");
  }
}

// A call on a handle: fails for a NULL `handle` (named `arg` in the message),
// else returns what `f` returns for it.
template <typename Handle, typename F>
int WithHandle(Handle* handle, tubo_error** err, const char* fn, const char* arg, F&& f) {
  return Guard(err, fn, [&] {
    if (handle == nullptr) return Null(err, fn, arg);
    return f(*handle);
  });
}

// Deletes a handle for a tubo_*_free function: nothing escapes into C.
template <typename T>
void DeleteQuietly(T* handle) noexcept {
  try {
    delete handle;
  } catch (...) {
  }
}

// Milliseconds from C: negative is forever.
inline absl::Duration Ms(int64_t ms) {
  return ms < 0 ? absl::InfiniteDuration() : absl::Milliseconds(ms);
}

inline tubo_end* NewEnd(tubo::ReadEnd e) { return new tubo_end{std::move(e)}; }
inline tubo_end* NewEnd(tubo::WriteEnd e) { return new tubo_end{std::move(e)}; }
inline tubo_end* NewEnd(tubo::DuplexEnd e) { return new tubo_end{std::move(e)}; }

// Calls `f` with the end's alternative if it is an A or a B, or fails with
// WrongKind (`needed` names the two kinds).
template <typename A, typename B, typename F>
int WithEither(tubo_end* end, tubo_error** err, const char* fn, const char* needed, F&& f) {
  if (end == nullptr) return Null(err, fn, "end");
  if (auto* a = std::get_if<A>(&end->v)) return f(*a);
  if (auto* b = std::get_if<B>(&end->v)) return f(*b);
  return WrongKind(err, fn, needed);
}

// Calls `f` with the end's receiving alternative, or fails for a write end.
template <typename F>
int WithReceiver(tubo_end* end, tubo_error** err, const char* fn, F&& f) {
  return WithEither<tubo::ReadEnd, tubo::DuplexEnd>(end, err, fn, "a read or duplex end",
                                                    std::forward<F>(f));
}

// Calls `f` with the end's sending alternative, or fails for a read end.
template <typename F>
int WithSender(tubo_end* end, tubo_error** err, const char* fn, F&& f) {
  return WithEither<tubo::WriteEnd, tubo::DuplexEnd>(end, err, fn, "a write or duplex end",
                                                     std::forward<F>(f));
}

// What `f` reads from the end's alternative if it is an A or a B; 0 for NULL
// or another kind (the getters that cannot fail).
template <typename A, typename B, typename F>
auto ReadEither(const tubo_end* end, F&& f) -> decltype(f(std::declval<const A&>())) {
  if (end == nullptr) return 0;
  if (auto* a = std::get_if<A>(&end->v)) return f(*a);
  if (auto* b = std::get_if<B>(&end->v)) return f(*b);
  return 0;
}

}  // namespace tubo_capi

#endif  // TUBO_CAPI_SRC_INTERNAL_H_
