// Internal: the receiving half of contract 1 (CPython Connection framing).
// Not part of the public API; the ends in tubo/end.h are its only users.
#ifndef TUBO_INTERNAL_FRAME_READER_H_
#define TUBO_INTERNAL_FRAME_READER_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/bytes.h"
#include "tubo/internal/readiness.h"
#include "tubo/recv_result.h"

namespace tubo {
namespace internal {

// Decodes frames from a blocking descriptor. Small frames are parsed out of
// one read-ahead buffer, many per read(2); a payload too large for it is read
// straight into its final buffer, which grows with the bytes that arrive (at
// most doubling), never with what a header claims. A framing error (truncated
// frame, bad length, length above the maximum) is sticky: the byte stream
// cannot be resynchronised, so every later call reports it again.
//
// Receiving is resumable: given a deadline, a receive waits (poll) before
// each read and, when the deadline passes, returns an `Error::kTimeout`
// status wherever it is in a frame, keeping what it read (a partial header or
// small payload in the read-ahead buffer, a partial large payload in `part_`),
// so that the next receive continues the same frame. Without a deadline
// (`absl::InfiniteFuture()`) nothing is polled: the reads are those of a plain
// blocking reader.
class FrameReader {
 public:
  // Size of the read-ahead buffer; frames up to half of it are assembled there.
  static constexpr size_t kBufferSize = 64 * 1024;

  FrameReader() = default;
  // Moving takes all state; the source is left as if newly constructed.
  FrameReader(FrameReader&& other) noexcept { *this = std::move(other); }
  FrameReader& operator=(FrameReader&& other) noexcept;

  // Receives the next frame. Like every receive, it tells wait sets
  // (internal/readiness.h) when it leaves bytes read ahead or fails for good:
  // the end is then ready although its descriptor may show nothing.
  absl::StatusOr<std::optional<Bytes>> Recv(int fd, absl::Time deadline = absl::InfiniteFuture()) {
    return NoteReadAhead(RecvFrame(fd, deadline));
  }
  absl::StatusOr<RecvResult> RecvInto(int fd, void* buf, size_t capacity,
                                      absl::Time deadline = absl::InfiniteFuture()) {
    return NoteReadAhead(RecvFrameInto(fd, buf, capacity, deadline));
  }
  absl::StatusOr<bool> Poll(int fd, absl::Duration timeout);

  uint64_t max_message_size() const { return max_; }
  // Applies to the next receive, including a message whose header was
  // already read: a pending message above the new maximum fails it.
  void set_max_message_size(uint64_t max) { max_ = max; }

  // Bytes read from the descriptor but not yet returned (a parsed header of a
  // pending message counts as one byte here: it cannot be put back).
  size_t buffered() const { return (end_ - begin_) + part_got_ + (has_pending_ ? 1 : 0); }
  // True if a receive can answer without reading: a whole frame is in user
  // space, or a too-small RecvInto reported the pending message's size (the
  // same RecvInto answers at once), or a sticky error. A partial frame alone
  // is not ready: the descriptor's readiness decides.
  bool ReadyInUserSpace() const;
  // True after a framing error: every receive call returns it at once.
  bool failed() const { return !sticky_.ok(); }

 private:
  absl::StatusOr<std::optional<Bytes>> RecvFrame(int fd, absl::Time deadline);
  absl::StatusOr<RecvResult> RecvFrameInto(int fd, void* buf, size_t capacity, absl::Time deadline);
  template <typename T>
  T NoteReadAhead(T result) const {
    if (buffered() > 0 || failed()) NoteUserSpaceReadiness();
    return result;
  }

  // Makes the next frame's payload length known (`pending_`). Returns false
  // at a clean end of stream. Fails (sticky) if the pending length is above
  // the maximum, also for a header read by an earlier call.
  absl::StatusOr<bool> ReadHeader(int fd, absl::Time deadline);
  // Reads until at least `want` bytes are buffered or the stream ends; returns
  // whether `want` was reached. `want` must not exceed kBufferSize.
  absl::StatusOr<bool> Fill(int fd, size_t want, absl::Time deadline);
  // One read(2) of up to `size` bytes into `dst`; with a finite deadline,
  // first waits for readability and returns the timeout error if it passes.
  absl::StatusOr<size_t> ReadBefore(int fd, char* dst, size_t size, absl::Time deadline);
  // True if the pending payload is assembled in the read-ahead buffer (no
  // partial large payload, and it is small or already there).
  bool SmallPending() const;
  // Reads the rest of a large pending payload into `part_`, growing it with
  // the bytes that arrive. On success `part_` holds exactly the payload.
  absl::Status ReadLarge(int fd, absl::Time deadline);
  // Reads a large pending payload into `dst` (room for `pending_` bytes),
  // starting with what `part_` or the read-ahead buffer holds. On a timeout,
  // what arrived is moved to `part_`.
  absl::Status ReadLargeInto(int fd, char* dst, absl::Time deadline);
  // The timeout status: names the fd and what is kept.
  absl::Status Timeout(int fd) const;
  // A read error inside a payload: sticky unless it is a timeout.
  absl::Status PayloadError(absl::Status status);
  // Records and returns a sticky error: a framing error, or any failure after
  // part of a payload was consumed (the stream position is then lost).
  absl::Status Fail(absl::Status status);
  // Forgets the pending message: its header and any partial large payload.
  void ClearPending();

  std::unique_ptr<char[]> buf_;
  size_t begin_ = 0;  // first unread byte in buf_
  size_t end_ = 0;    // one past the last read byte in buf_
  bool has_pending_ = false;
  bool size_reported_ = false;  // a too-small RecvInto told the pending size
  uint64_t pending_ = 0;        // payload length of the frame whose header was read
  // A large pending payload received in part: `part_` is its buffer (size()
  // is the capacity), the first `part_got_` bytes are payload. While it holds
  // bytes, the read-ahead buffer is empty.
  Bytes part_;
  size_t part_got_ = 0;
  uint64_t max_ = kDefaultMaxMessageSize;
  absl::Status sticky_;
};

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FRAME_READER_H_
