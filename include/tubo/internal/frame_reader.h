// Internal: the receiving half of contract 1 (CPython Connection framing).
// Not part of the public API; the ends in tubo/end.h are its only users.
#ifndef TUBO_INTERNAL_FRAME_READER_H_
#define TUBO_INTERNAL_FRAME_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/bytes.h"
#include "tubo/recv_result.h"

namespace tubo {
namespace internal {

// Decodes frames from a blocking descriptor. Small frames are parsed out of
// one read-ahead buffer, many per read(2); a payload too large for it is read
// straight into its final buffer, which grows with the bytes that arrive (at
// most doubling), never with what a header claims. A framing error (truncated
// frame, bad length, length above the maximum) is sticky: the byte stream
// cannot be resynchronised, so every later call reports it again.
class FrameReader {
 public:
  // Size of the read-ahead buffer; frames up to half of it are assembled there.
  static constexpr size_t kBufferSize = 64 * 1024;

  FrameReader() = default;
  // Moving takes all state; the source is left as if newly constructed.
  FrameReader(FrameReader&& other) noexcept { *this = std::move(other); }
  FrameReader& operator=(FrameReader&& other) noexcept;

  absl::StatusOr<std::optional<Bytes>> Recv(int fd);
  absl::StatusOr<RecvResult> RecvInto(int fd, void* buf, size_t capacity);
  absl::StatusOr<bool> Poll(int fd, absl::Duration timeout);

  uint64_t max_message_size() const { return max_; }
  void set_max_message_size(uint64_t max) { max_ = max; }

  // Bytes read from the descriptor but not yet returned (a parsed header of a
  // pending message counts as one byte here: it cannot be put back).
  size_t buffered() const { return (end_ - begin_) + (has_pending_ ? 1 : 0); }
  // True after a framing error: every receive call returns it at once.
  bool failed() const { return !sticky_.ok(); }

 private:
  // Makes the next frame's payload length known (`pending_`). Returns false
  // at a clean end of stream.
  absl::StatusOr<bool> ReadHeader(int fd);
  // Reads until at least `want` bytes are buffered or the stream ends; returns
  // whether `want` was reached. `want` must not exceed kBufferSize.
  absl::StatusOr<bool> Fill(int fd, size_t want);
  // Copies the buffered part of the pending payload to `dst`, then reads the
  // rest; `dst` holds `pending_` bytes.
  absl::Status ReadPayload(int fd, char* dst);
  // Records and returns a sticky error: a framing error, or any failure after
  // part of a payload was consumed (the stream position is then lost).
  absl::Status Fail(absl::Status status);

  std::unique_ptr<char[]> buf_;
  size_t begin_ = 0;  // first unread byte in buf_
  size_t end_ = 0;    // one past the last read byte in buf_
  bool has_pending_ = false;
  uint64_t pending_ = 0;  // payload length of the frame whose header was read
  uint64_t max_ = kDefaultMaxMessageSize;
  absl::Status sticky_;
};

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FRAME_READER_H_
