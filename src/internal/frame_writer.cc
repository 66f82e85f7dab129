// The sending half of contract 1: CPython Connection framing.
#include "tubo/internal/frame_writer.h"

#include <cstdint>
#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace tubo {
namespace internal {
namespace {

constexpr size_t kMaxHeader = 12;

// Writes the header for a `size`-byte payload into `out`; returns its length:
// 4 bytes big-endian for sizes up to 0x7fffffff, else -1 and 8 bytes.
size_t EncodeHeader(uint64_t size, char* out) {
  if (size <= 0x7fffffff) {
    absl::big_endian::Store32(out, static_cast<uint32_t>(size));
    return 4;
  }
  absl::big_endian::Store32(out, 0xffffffffu);
  absl::big_endian::Store64(out + 4, size);
  return 12;
}

}  // namespace

FrameWriter& FrameWriter::operator=(FrameWriter&& other) noexcept {
  if (this != &other) {
    kind_ = std::exchange(other.kind_, WriteKind::kUnknown);
    buf_ = std::move(other.buf_);
    capacity_ = std::exchange(other.capacity_, 0);
    used_ = std::exchange(other.used_, 0);
    pipe_grown_ = std::exchange(other.pipe_grown_, false);
    sticky_ = std::exchange(other.sticky_, absl::OkStatus());
  }
  return *this;
}

absl::Status FrameWriter::Write(int fd, struct iovec* iov, int count, const char* op) {
  size_t written = 0;
  absl::Status s = WriteAll(fd, kind_, iov, count, op, &written);
  if (!s.ok() && written > 0) sticky_ = s;
  return s;
}

absl::Status FrameWriter::Send(int fd, std::string_view message) {
  if (!sticky_.ok()) return sticky_;
  char header[kMaxHeader];
  const size_t header_size = EncodeHeader(message.size(), header);
  const size_t frame = header_size + message.size();
  if (capacity_ > 0 && frame <= capacity_ - used_) {
    std::memcpy(buf_.get() + used_, header, header_size);
    if (!message.empty()) {
      std::memcpy(buf_.get() + used_ + header_size, message.data(), message.size());
    }
    used_ += frame;
    return absl::OkStatus();
  }
  if (message.size() >= kGrowPipeAt && !pipe_grown_ && kind_ != WriteKind::kSocket) {
    pipe_grown_ = true;
    TryGrowPipe(fd, kLargePipeSize);
  }
  // Does not fit (or unbuffered): what is held, the header and the payload
  // leave together in one writev.
  struct iovec iov[3] = {
      {buf_.get(), used_},
      {header, header_size},
      {const_cast<char*>(message.data()), message.size()},
  };
  absl::Status s = Write(fd, iov, 3, "send");
  if (s.ok()) used_ = 0;
  return s;
}

absl::Status FrameWriter::Flush(int fd) {
  if (!sticky_.ok()) return sticky_;
  if (used_ == 0) return absl::OkStatus();
  struct iovec iov[1] = {{buf_.get(), used_}};
  absl::Status s = Write(fd, iov, 1, "flush");
  if (s.ok()) used_ = 0;
  return s;
}

absl::Status FrameWriter::SetBufferSize(int fd, size_t capacity) {
  if (capacity < used_) {
    absl::Status s = Flush(fd);
    if (!s.ok()) return s;
  }
  std::unique_ptr<char[]> buf;
  if (capacity > 0) {
    buf.reset(new char[capacity]);
    if (used_ > 0) std::memcpy(buf.get(), buf_.get(), used_);
  }
  buf_ = std::move(buf);
  capacity_ = capacity;
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace tubo
