/// @file
/// @brief What went wrong, in a form a program (and the C ABI) can act on.
///
/// tubo reports errors as `absl::Status` whose message names the operation and
/// its object (`recv on fd 5: truncated message (3 of 4 header bytes)`). The
/// canonical code says what kind of failure it is in abseil's terms; `ErrorOf`
/// gives the finer, tubo-specific kind, carried as a status payload, so that a
/// truncated message and a bad length are told apart without parsing text.
///
/// @code
///   absl::StatusOr<std::optional<tubo::Bytes>> m = in.Recv();
///   if (!m.ok() && tubo::ErrorOf(m.status()) == tubo::Error::kTruncated) {
///     // the writer died in the middle of a message
///   }
/// @endcode
#ifndef TUBO_ERROR_H_
#define TUBO_ERROR_H_

#include <string>

#include "absl/status/status.h"

namespace tubo {

/// @brief The kinds of failure tubo distinguishes.
///
/// The numeric values are stable: the C ABI exposes them as `TUBO_E_*` codes.
enum class Error : int {
  kOk = 0,             ///< Not an error.
  kOther = 1,          ///< A failure with no more specific kind.
  kInvalidArgument = 2,///< The caller passed a bad argument (the message says which).
  kSystem = 3,         ///< A system call failed; the message carries its errno text.
  kClosed = 4,         ///< The end or handle was already closed, released or moved from.
  kTruncated = 5,      ///< End of stream inside a frame header or payload.
  kBadLength = 6,      ///< A frame header with a negative length other than -1.
  kTooLarge = 7,       ///< A frame longer than the receiving end's maximum message size.
  kPeerClosed = 8,     ///< A write to an end whose readers are all gone (EPIPE, ECONNRESET).
  kTimeout = 9,        ///< A deadline passed before the operation could complete.
  kSpawn = 10,         ///< Starting a process failed; the message names the stage, program and errno.
  kChannel = 11,       ///< A worker-side channel (TUBO_CHANNELS) is malformed, missing, taken, of the wrong mode, or not open.
};

/// Returns the kind of `status`: `Error::kOk` for an OK status, the kind tubo
/// attached if it made the status, and otherwise a kind derived from its
/// canonical code (`kInvalidArgument`, `kTimeout` for `DeadlineExceeded`, or
/// `kOther`).
Error ErrorOf(const absl::Status& status);

/// Returns a short, stable, lower-case name for `error` (for example
/// `"truncated"`), or `"unknown"` for a value outside the enumeration.
const char* ErrorName(Error error);

/// Returns `status` with `error` attached as its tubo kind (see `ErrorOf`).
/// An OK status is returned unchanged. Used by tubo and by code that wraps it
/// and wants to keep the kind of failure it forwards.
absl::Status WithError(absl::Status status, Error error);

}  // namespace tubo

#endif  // TUBO_ERROR_H_
