/// @file
/// @brief What went wrong, in a form a program (and the C ABI) can act on.
///
/// tubo reports errors as `absl::Status` whose message names the operation and
/// its object (`recv on fd 5: truncated message (3 of 4 header bytes)`). The
/// canonical code says what kind of failure it is in abseil's terms; `ErrorOf`
/// gives the finer, tubo-specific kind, carried as a status payload, so that a
/// truncated message and a bad length are told apart without parsing text.
/// When a failed system call is the cause, `ErrorErrno` gives its errno the
/// same way (the message also carries its text, for people).
///
/// @code
///   absl::StatusOr<std::optional<tubo::Bytes>> m = in.Recv();
///   if (!m.ok() && tubo::ErrorOf(m.status()) == tubo::Error::kTruncated) {
///     // the writer died in the middle of a message
///   }
///   absl::Status sent = out.Send(m);
///   if (tubo::ErrorErrno(sent) == EPIPE) {
///     // the readers are gone (ErrorOf says Error::kPeerClosed)
///   }
/// @endcode
#ifndef TUBO_ERROR_H_
#define TUBO_ERROR_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tubo {

/// @brief The one table of tubo's error kinds, shared by every language.
///
/// `TUBO_ERROR_KINDS(X)` calls `X(kind, value, C_NAME, name, meaning)` once per
/// kind: the C++ enumerator of `tubo::Error`, its stable value, the C code's
/// suffix (`TUBO_E_<C_NAME>` is `-value` in `capi/tubo.h`), the short
/// lower-case name (`ErrorName`, `tubo_code_name`) and what it means
/// (`ErrorMeaning`). Adding a kind is one line here: the enumerator, its name
/// and its C mapping follow, and the build (C: a static check in the C ABI)
/// and the drift tests (Go sentinels, Python classes) fail until every
/// language has it. Values are never reused.
#define TUBO_ERROR_KINDS(X)                                                                        \
  X(kOther, 1, OTHER, "other", "A failure with no more specific kind.")                            \
  X(kInvalidArgument, 2, INVALID_ARGUMENT, "invalid_argument",                                     \
    "The caller passed a bad argument (the message says which).")                                  \
  X(kSystem, 3, SYSTEM, "system", "A system call failed; the message carries its errno text.")     \
  X(kClosed, 4, CLOSED, "closed", "The end or handle was already closed, released or moved from.") \
  X(kTruncated, 5, TRUNCATED, "truncated", "End of stream inside a frame header or payload.")      \
  X(kBadLength, 6, BAD_LENGTH, "bad_length",                                                       \
    "A frame header with a negative length other than -1.")                                        \
  X(kTooLarge, 7, TOO_LARGE, "too_large",                                                          \
    "A frame longer than the receiving end's maximum message size.")                               \
  X(kPeerClosed, 8, PEER_CLOSED, "peer_closed",                                                    \
    "A write to an end whose readers are all gone (EPIPE, ECONNRESET).")                           \
  X(kTimeout, 9, TIMEOUT, "timeout", "A deadline passed before the operation could complete.")     \
  X(kSpawn, 10, SPAWN, "spawn",                                                                    \
    "Starting a process failed; the message names the stage, program and errno.")                  \
  X(kChannel, 11, CHANNEL, "channel",                                                              \
    "A worker-side channel (TUBO_CHANNELS) is malformed, missing, taken, of the wrong mode, or "   \
    "not open.")                                                                                   \
  X(kWorkerDied, 12, WORKER_DIED, "worker_died",                                                   \
    "The pool worker running the task died; the message names the task, pid and exit status.")     \
  X(kTaskFailed, 13, TASK_FAILED, "task_failed",                                                   \
    "The pool worker reported the task as failed; the message is the worker's.")                   \
  X(kCancelled, 14, CANCELLED, "cancelled",                                                        \
    "The task was cancelled before it started, or its pool was terminated.")

/// @brief The kinds of failure tubo distinguishes: `kOk` (0) and one
/// enumerator per line of `TUBO_ERROR_KINDS`, which says what each means.
///
/// The numeric values are stable: the C ABI exposes them as `TUBO_E_*` codes
/// (minus the value).
enum class Error : int {
  kOk = 0,
/// @cond INTERNAL
#define TUBO_ERROR_ENUMERATOR(kind, value, c_name, name, meaning) kind = value,
  /// @endcond
  TUBO_ERROR_KINDS(TUBO_ERROR_ENUMERATOR)
#undef TUBO_ERROR_ENUMERATOR
};

/// Returns the kind of `status`: `Error::kOk` for an OK status, the kind tubo
/// attached if it made the status, and otherwise a kind derived from its
/// canonical code (`kInvalidArgument`, `kTimeout` for `DeadlineExceeded`, or
/// `kOther`).
Error ErrorOf(const absl::Status& status);

/// Returns a short, stable, lower-case name for `error` (for example
/// `"truncated"`), or `"unknown"` for a value outside the enumeration.
const char* ErrorName(Error error);

/// Returns what `error` means (one sentence, from `TUBO_ERROR_KINDS`), or an
/// empty string for a value outside the enumeration.
const char* ErrorMeaning(Error error);

/// Returns `status` with `error` attached as its tubo kind (see `ErrorOf`).
/// An OK status is returned unchanged. Used by tubo and by code that wraps it
/// and wants to keep the kind of failure it forwards.
absl::Status WithError(absl::Status status, Error error);

/// Returns the errno of the system call whose failure `status` reports (for
/// example `EPIPE` for a send to a pipe whose readers are gone, `ENOENT` for a
/// spawn of a program that does not exist), or 0 when none applies: an OK
/// status, a failure no system call caused (a truncated message, a bad
/// argument), or a status tubo did not make. Every tubo error of kind
/// `Error::kSystem` carries one; so do `Error::kPeerClosed` and the
/// `Error::kSpawn` errors of a failed system call, in the parent or in the
/// child. The errno is carried as a status payload, so it survives copying
/// and forwarding the status (not rebuilding it from its code and message).
int ErrorErrno(const absl::Status& status);

/// Returns `status` with `errno_value` attached as its errno (see
/// `ErrorErrno`). An OK status, or an `errno_value` of 0 or less, returns
/// `status` unchanged.
absl::Status WithErrno(absl::Status status, int errno_value);

/// Returns the error for a system call that failed with `errno_value`:
/// `absl::ErrnoToStatus(errno_value, message)` (so the canonical code follows
/// the errno and the message ends with its text), with `error` as its tubo
/// kind and `errno_value` as its errno. `errno_value` must not be 0.
absl::Status SystemError(int errno_value, absl::string_view message, Error error = Error::kSystem);

}  // namespace tubo

#endif  // TUBO_ERROR_H_
