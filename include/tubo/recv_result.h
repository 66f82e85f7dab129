/// @file
/// @brief Results of receiving into a caller's buffer, and the default size limit.
#ifndef TUBO_RECV_RESULT_H_
#define TUBO_RECV_RESULT_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstddef>
#include <cstdint>

namespace tubo {

/// The maximum message size an end accepts unless told otherwise: 1 GiB. A
/// frame header announcing more is an error (`Error::kTooLarge`) before
/// anything is allocated. Change it per end with `set_max_message_size`.
inline constexpr uint64_t kDefaultMaxMessageSize = uint64_t{1} << 30;

/// @brief The outcome of `RecvInto`: a message, end of stream, or a buffer
/// too small for the next message (which then stays unread).
struct RecvResult {
  /// Which outcome this is.
  enum class Kind {
    kMessage,   ///< A message of `size` bytes was stored in the buffer.
    kEof,       ///< End of stream at a message boundary; `size` is 0.
    kTooSmall,  ///< The next message needs `size` bytes; nothing was consumed.
  };
  /// Which outcome this is.
  Kind kind = Kind::kEof;
  /// Bytes stored (`kMessage`), bytes needed (`kTooSmall`), or 0 (`kEof`).
  size_t size = 0;

  /// True for `Kind::kMessage`.
  bool message() const { return kind == Kind::kMessage; }
  /// True for `Kind::kEof`.
  bool eof() const { return kind == Kind::kEof; }
  /// True for `Kind::kTooSmall`.
  bool too_small() const { return kind == Kind::kTooSmall; }
};

}  // namespace tubo

#endif  // TUBO_RECV_RESULT_H_
