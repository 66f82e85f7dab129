// The receiving half of contract 1: CPython Connection framing.
#include "tubo/internal/frame_reader.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/io.h"

namespace tubo {
namespace internal {
namespace {

static_assert(sizeof(size_t) == sizeof(uint64_t), "tubo needs a 64-bit size_t");

// A payload read straight into its final buffer starts with this much room
// (or the whole payload, if smaller) and at most doubles per step, so memory
// follows the bytes that arrive.
constexpr size_t kDirectStart = 256 * 1024;

absl::Status Truncated(int fd, size_t got, size_t of, const char* part) {
  return WithError(absl::DataLossError(absl::StrCat(
                       "recv on fd ", fd, ": truncated message (", got, " of ",
                       of, " ", part, " bytes)")),
                   Error::kTruncated);
}

// Memory ran out for a message the end accepts. The header is consumed, so
// the stream cannot continue: the error is sticky like a framing error.
absl::Status OutOfMemory(int fd, size_t size) {
  return WithError(absl::ResourceExhaustedError(absl::StrCat(
                       "recv on fd ", fd, ": out of memory for a message of ", size, " bytes")),
                   Error::kSystem);
}

}  // namespace

FrameReader& FrameReader::operator=(FrameReader&& other) noexcept {
  if (this != &other) {
    buf_ = std::move(other.buf_);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    has_pending_ = std::exchange(other.has_pending_, false);
    pending_ = std::exchange(other.pending_, 0);
    max_ = std::exchange(other.max_, kDefaultMaxMessageSize);
    sticky_ = std::exchange(other.sticky_, absl::OkStatus());
  }
  return *this;
}

absl::Status FrameReader::Fail(absl::Status status) {
  sticky_ = status;
  has_pending_ = false;
  begin_ = end_ = 0;
  return status;
}

absl::StatusOr<bool> FrameReader::Fill(int fd, size_t want) {
  if (end_ - begin_ >= want) return true;
  if (!buf_) buf_.reset(new char[kBufferSize]);
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ + want > kBufferSize) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ - begin_ < want) {
    absl::StatusOr<size_t> n = ReadSome(fd, buf_.get() + end_, kBufferSize - end_);
    if (!n.ok()) return n.status();
    if (*n == 0) return false;
    end_ += *n;
  }
  return true;
}

absl::StatusOr<bool> FrameReader::ReadHeader(int fd) {
  if (has_pending_) return true;
  absl::StatusOr<bool> full = Fill(fd, 4);
  if (!full.ok()) return full.status();
  if (!*full) {
    if (end_ == begin_) return false;  // clean end of stream
    return Fail(Truncated(fd, end_ - begin_, 4, "header"));
  }
  const int32_t length =
      static_cast<int32_t>(absl::big_endian::Load32(buf_.get() + begin_));
  size_t header = 4;
  uint64_t size;
  if (length == -1) {
    full = Fill(fd, 12);
    if (!full.ok()) return full.status();
    if (!*full) return Fail(Truncated(fd, end_ - begin_, 12, "header"));
    size = absl::big_endian::Load64(buf_.get() + begin_ + 4);
    header = 12;
  } else if (length < 0) {
    return Fail(WithError(
        absl::DataLossError(absl::StrCat("recv on fd ", fd, ": bad message length ",
                                         length, " in frame header")),
        Error::kBadLength));
  } else {
    size = static_cast<uint64_t>(length);
  }
  if (size > max_) {
    return Fail(WithError(
        absl::ResourceExhaustedError(absl::StrCat(
            "recv on fd ", fd, ": message of ", size,
            " bytes exceeds the maximum message size of ", max_, " bytes")),
        Error::kTooLarge));
  }
  begin_ += header;
  pending_ = size;
  has_pending_ = true;
  return true;
}

absl::Status FrameReader::ReadPayload(int fd, char* dst) {
  const size_t size = pending_;
  size_t got = std::min(end_ - begin_, size);
  if (got > 0) std::memcpy(dst, buf_.get() + begin_, got);
  begin_ += got;
  const size_t rest = size - got;
  if (rest == 0) return absl::OkStatus();
  if (rest <= kBufferSize / 2) {
    // Small remainder: read ahead into the buffer, picking up later frames too.
    absl::StatusOr<bool> full = Fill(fd, rest);
    if (!full.ok()) return Fail(full.status());
    if (!*full) return Fail(Truncated(fd, got + (end_ - begin_), size, "payload"));
    std::memcpy(dst + got, buf_.get() + begin_, rest);
    begin_ += rest;
    return absl::OkStatus();
  }
  while (got < size) {
    absl::StatusOr<size_t> n = ReadSome(fd, dst + got, size - got);
    if (!n.ok()) return Fail(n.status());
    if (*n == 0) return Fail(Truncated(fd, got, size, "payload"));
    got += *n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Bytes>> FrameReader::Recv(int fd) {
  if (!sticky_.ok()) return sticky_;
  absl::StatusOr<bool> more = ReadHeader(fd);
  if (!more.ok()) return more.status();
  if (!*more) return std::optional<Bytes>();
  const size_t size = pending_;
  if (size == 0) {
    has_pending_ = false;
    return std::optional<Bytes>(Bytes());
  }
  const size_t avail = end_ - begin_;
  if (size <= avail || size <= kBufferSize) {
    // Small enough to allocate outright: no more than the read-ahead buffer.
    char* p = static_cast<char*>(std::malloc(size));
    if (p == nullptr) return Fail(OutOfMemory(fd, size));
    Bytes bytes = Bytes::Adopt(p, size);
    absl::Status s = ReadPayload(fd, bytes.data());
    if (!s.ok()) return s;
    has_pending_ = false;
    return std::optional<Bytes>(std::move(bytes));
  }
  // Large: read straight into the final buffer, growing it as bytes arrive.
  size_t capacity = std::min(size, std::max(avail, kDirectStart));
  char* p = static_cast<char*>(std::malloc(capacity));
  if (p == nullptr) return Fail(OutOfMemory(fd, size));
  Bytes owner = Bytes::Adopt(p, capacity);  // frees p on every return below
  std::memcpy(p, buf_.get() + begin_, avail);
  begin_ = end_ = 0;
  size_t got = avail;
  while (got < size) {
    if (got == capacity) {
      capacity = std::min(size, capacity * 2);
      char* grown = static_cast<char*>(std::realloc(owner.data(), capacity));
      if (grown == nullptr) return Fail(OutOfMemory(fd, size));
      owner.Release();
      owner = Bytes::Adopt(grown, capacity);
    }
    absl::StatusOr<size_t> n = ReadSome(fd, owner.data() + got, capacity - got);
    if (!n.ok()) return Fail(n.status());
    if (*n == 0) return Fail(Truncated(fd, got, size, "payload"));
    got += *n;
  }
  has_pending_ = false;
  return std::optional<Bytes>(std::move(owner));
}

absl::StatusOr<RecvResult> FrameReader::RecvInto(int fd, void* buf, size_t capacity) {
  if (!sticky_.ok()) return sticky_;
  absl::StatusOr<bool> more = ReadHeader(fd);
  if (!more.ok()) return more.status();
  if (!*more) return RecvResult{RecvResult::Kind::kEof, 0};
  const size_t size = pending_;
  if (size > capacity) return RecvResult{RecvResult::Kind::kTooSmall, size};
  absl::Status s = ReadPayload(fd, static_cast<char*>(buf));
  if (!s.ok()) return s;
  has_pending_ = false;
  return RecvResult{RecvResult::Kind::kMessage, size};
}

absl::StatusOr<bool> FrameReader::Poll(int fd, absl::Duration timeout) {
  if (!sticky_.ok()) return sticky_;
  // A header already read (left by a too-small RecvInto) counts as buffered:
  // RecvInto answers at once, and the message has begun to arrive.
  if (end_ > begin_ || has_pending_) return true;
  return WaitReadable(fd, timeout);
}

}  // namespace internal
}  // namespace tubo
