// Internal: the sending half of contract 1 (CPython Connection framing).
// Not part of the public API; the ends in tubo/end.h are its only users.
#ifndef TUBO_INTERNAL_FRAME_WRITER_H_
#define TUBO_INTERNAL_FRAME_WRITER_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/internal/io.h"

namespace tubo {
namespace internal {

// Encodes frames onto a blocking descriptor. Unbuffered, each message leaves
// in one writev (header and payload together). Buffered, frames collect in
// user space and leave when the buffer would overflow (together with the
// frame that did not fit, still one writev) or on Flush. A blocking write that
// fails after some bytes left is sticky: the peer would see a torn frame.
//
// Non-blocking and timed sends (SendUntil) never leave part of a frame on the
// wire without owning the rest: once a byte of a frame is written the frame is
// committed, and what is left of it is copied into `pending_`, which goes out
// before anything else on every later call. Order on the wire: `pending_`,
// then the send buffer, then the new frame.
class FrameWriter {
 public:
  // A message this large (bigger than a default 64 KiB pipe) enlarges the
  // pipe it goes to, to kLargePipeSize, while it is being sent: measured, a
  // 1 MiB pipe carries 1 MiB and 16 MiB messages about twice as fast as a
  // 64 KiB one, which needs a wakeup of each side every 64 KiB
  // (bench/NOTES.md). The capacity is given back afterwards and bounded per
  // process (internal/io.h, PipeGrowth).
  static constexpr size_t kGrowPipeAt = 64 * 1024;
  static constexpr size_t kLargePipeSize = 1024 * 1024;

  FrameWriter() = default;
  // Moving takes all state; the source is left as if newly constructed.
  FrameWriter(FrameWriter&& other) noexcept { *this = std::move(other); }
  FrameWriter& operator=(FrameWriter&& other) noexcept;
  // Returns pipe capacity still held to the process budget.
  ~FrameWriter() { DropPipeGrowth(&growth_); }

  absl::Status Send(int fd, std::string_view message);
  // Sends `message` (or, if null, only what is owed: the pending remainder and
  // the send buffer) without blocking past `deadline`. Returns true when it
  // was accepted (written, or committed with its remainder in `pending_`);
  // false when nothing of it could be written by then (what was owed may
  // have progressed). With a null message, true means nothing is owed now.
  absl::StatusOr<bool> SendUntil(int fd, const std::string_view* message, absl::Time deadline);
  absl::Status Flush(int fd);
  // Sets the user-space buffer to `capacity` bytes (0: unbuffered), flushing
  // first if the frames held would not fit.
  absl::Status SetBufferSize(int fd, size_t capacity);
  // The descriptor is about to be closed or released: gives the pipe its old
  // capacity back if it can, and forgets the growth either way.
  void Detach(int fd);

  size_t buffer_size() const { return capacity_; }
  size_t buffered() const { return used_; }
  // Bytes accepted but not yet written: a committed remainder plus the buffer.
  size_t unsent() const { return pending_.size() - pending_off_ + used_; }
  // True after a failure that left a torn frame: every call fails.
  bool failed() const { return !sticky_.ok(); }

 private:
  absl::Status Write(int fd, struct iovec* iov, int count, const char* op);
  // After a write completed: gives grown capacity back when the kernel lets it.
  void MaybeShrink(int fd) {
    if (growth_.old_size != 0) ShrinkPipe(fd, &growth_);
  }

  WriteKind kind_ = WriteKind::kUnknown;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  // The unwritten rest of a committed frame (and of frames before it), from
  // pending_off_ on.
  std::string pending_;
  size_t pending_off_ = 0;
  PipeGrowth growth_;
  absl::Status sticky_;
};

// SendFor and FlushFor of the sending ends (tubo/end.h), on `writer` and `fd`.
absl::Status SendFor(FrameWriter& writer, int fd, std::string_view message, absl::Duration timeout);
absl::Status FlushFor(FrameWriter& writer, int fd, absl::Duration timeout);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FRAME_WRITER_H_
