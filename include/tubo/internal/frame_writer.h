// Internal: the sending half of contract 1 (CPython Connection framing).
// Not part of the public API; the ends in tubo/end.h are its only users.
#ifndef TUBO_INTERNAL_FRAME_WRITER_H_
#define TUBO_INTERNAL_FRAME_WRITER_H_

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <utility>
#include <string_view>

#include "absl/status/status.h"
#include "tubo/internal/io.h"

namespace tubo {
namespace internal {

// Encodes frames onto a blocking descriptor. Unbuffered, each message leaves
// in one writev (header and payload together). Buffered, frames collect in
// user space and leave when the buffer would overflow (together with the
// frame that did not fit, still one writev) or on Flush. A write that fails
// after some bytes left is sticky: the peer would see a torn frame.
class FrameWriter {
 public:
  // A message this large (bigger than a default 64 KiB pipe) enlarges the
  // pipe it goes to, once per end, to kLargePipeSize: measured, a 1 MiB pipe
  // carries 1 MiB and 16 MiB messages about twice as fast as a 64 KiB one,
  // which needs a wakeup of each side every 64 KiB (bench/NOTES.md).
  static constexpr size_t kGrowPipeAt = 64 * 1024;
  static constexpr size_t kLargePipeSize = 1024 * 1024;

  FrameWriter() = default;
  // Moving takes all state; the source is left as if newly constructed.
  FrameWriter(FrameWriter&& other) noexcept { *this = std::move(other); }
  FrameWriter& operator=(FrameWriter&& other) noexcept;

  absl::Status Send(int fd, std::string_view message);
  absl::Status Flush(int fd);
  // Sets the user-space buffer to `capacity` bytes (0: unbuffered), flushing
  // first if the frames held would not fit.
  absl::Status SetBufferSize(int fd, size_t capacity);

  size_t buffer_size() const { return capacity_; }
  size_t buffered() const { return used_; }

 private:
  absl::Status Write(int fd, struct iovec* iov, int count, const char* op);

  WriteKind kind_ = WriteKind::kUnknown;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  bool pipe_grown_ = false;  // TryGrowPipe was called for this end
  absl::Status sticky_;
};

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FRAME_WRITER_H_
