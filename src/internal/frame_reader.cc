// The receiving half of contract 1: CPython Connection framing.
#include "tubo/internal/frame_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

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

// Payloads up to this size are assembled in the read-ahead buffer.
constexpr size_t kSmallMax = FrameReader::kBufferSize / 2;

absl::Status Truncated(int fd, size_t got, size_t of, const char* part) {
  return WithError(absl::DataLossError(absl::StrCat("recv on fd ", fd, ": truncated message (", got,
                                                    " of ", of, " ", part, " bytes)")),
                   Error::kTruncated);
}

absl::Status TooLarge(int fd, uint64_t size, uint64_t max) {
  return WithError(absl::ResourceExhaustedError(
                       absl::StrCat("recv on fd ", fd, ": message of ", size,
                                    " bytes exceeds the maximum message size of ", max, " bytes")),
                   Error::kTooLarge);
}

// Memory ran out for a message the end accepts. The header is consumed, so
// the stream cannot continue: the error is sticky like a framing error.
absl::Status OutOfMemory(int fd, size_t size) {
  // The allocation failed as malloc does, with ENOMEM.
  return WithErrno(
      WithError(absl::ResourceExhaustedError(absl::StrCat(
                    "recv on fd ", fd, ": out of memory for a message of ", size, " bytes")),
                Error::kSystem),
      ENOMEM);
}

bool IsTimeout(const absl::Status& status) { return ErrorOf(status) == Error::kTimeout; }

}  // namespace

FrameReader& FrameReader::operator=(FrameReader&& other) noexcept {
  if (this != &other) {
    buf_ = std::move(other.buf_);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    has_pending_ = std::exchange(other.has_pending_, false);
    size_reported_ = std::exchange(other.size_reported_, false);
    pending_ = std::exchange(other.pending_, 0);
    part_ = std::move(other.part_);
    part_got_ = std::exchange(other.part_got_, 0);
    max_ = std::exchange(other.max_, kDefaultMaxMessageSize);
    sticky_ = std::exchange(other.sticky_, absl::OkStatus());
  }
  return *this;
}

void FrameReader::ClearPending() {
  has_pending_ = false;
  size_reported_ = false;
  pending_ = 0;
  part_ = Bytes();
  part_got_ = 0;
}

absl::Status FrameReader::Fail(absl::Status status) {
  sticky_ = status;
  ClearPending();
  begin_ = end_ = 0;
  return status;
}

absl::Status FrameReader::PayloadError(absl::Status status) {
  return IsTimeout(status) ? status : Fail(std::move(status));
}

absl::Status FrameReader::Timeout(int fd) const {
  const size_t got = (end_ - begin_) + part_got_;
  std::string where;
  if (has_pending_) {
    where = absl::StrCat("inside a message of ", pending_, " bytes (", got,
                         " payload bytes received so far are kept");
  } else if (got > 0) {
    where = absl::StrCat("inside a frame header (", got, " bytes received so far are kept");
  } else {
    where = "before the next message began (nothing was consumed";
  }
  return WithError(
      absl::DeadlineExceededError(absl::StrCat("recv on fd ", fd, ": deadline passed ", where,
                                               "; the next receive continues from there)")),
      Error::kTimeout);
}

bool FrameReader::ReadyInUserSpace() const {
  if (!sticky_.ok()) return true;
  if (has_pending_) {
    return size_reported_ || (part_got_ == 0 && end_ - begin_ >= pending_);
  }
  const size_t avail = end_ - begin_;
  if (avail < 4) return false;
  const int32_t length = static_cast<int32_t>(absl::big_endian::Load32(buf_.get() + begin_));
  if (length >= 0) return avail - 4 >= static_cast<uint64_t>(length);
  if (length != -1) return true;  // a bad length: the receive fails at once
  if (avail < 12) return false;
  return avail - 12 >= absl::big_endian::Load64(buf_.get() + begin_ + 4);
}

absl::StatusOr<size_t> FrameReader::ReadBefore(int fd, char* dst, size_t size,
                                               absl::Time deadline) {
  if (deadline != absl::InfiniteFuture()) {
    absl::StatusOr<bool> ready =
        WaitReadable(fd, std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (!ready.ok()) return ready.status();
    if (!*ready) return Timeout(fd);
  }
  return ReadSome(fd, dst, size);
}

absl::StatusOr<bool> FrameReader::Fill(int fd, size_t want, absl::Time deadline) {
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
    absl::StatusOr<size_t> n = ReadBefore(fd, buf_.get() + end_, kBufferSize - end_, deadline);
    if (!n.ok()) return n.status();
    if (*n == 0) return false;
    end_ += *n;
  }
  return true;
}

absl::StatusOr<bool> FrameReader::ReadHeader(int fd, absl::Time deadline) {
  if (has_pending_) {
    // The maximum may have been lowered since this header was read.
    if (pending_ > max_) return Fail(TooLarge(fd, pending_, max_));
    return true;
  }
  if (end_ - begin_ < 4) {
    absl::StatusOr<bool> full = Fill(fd, 4, deadline);
    if (!full.ok()) return full.status();
    if (!*full) {
      if (end_ == begin_) return false;  // clean end of stream
      return Fail(Truncated(fd, end_ - begin_, 4, "header"));
    }
  }
  const int32_t length = static_cast<int32_t>(absl::big_endian::Load32(buf_.get() + begin_));
  size_t header = 4;
  uint64_t size;
  if (length == -1) {
    absl::StatusOr<bool> full = Fill(fd, 12, deadline);
    if (!full.ok()) return full.status();
    if (!*full) return Fail(Truncated(fd, end_ - begin_, 12, "header"));
    size = absl::big_endian::Load64(buf_.get() + begin_ + 4);
    header = 12;
  } else if (length < 0) {
    return Fail(
        WithError(absl::DataLossError(absl::StrCat("recv on fd ", fd, ": bad message length ",
                                                   length, " in frame header")),
                  Error::kBadLength));
  } else {
    size = static_cast<uint64_t>(length);
  }
  if (size > max_) return Fail(TooLarge(fd, size, max_));
  begin_ += header;
  pending_ = size;
  has_pending_ = true;
  return true;
}

bool FrameReader::SmallPending() const {
  return part_got_ == 0 && part_.empty() && (pending_ <= kSmallMax || pending_ <= end_ - begin_);
}

absl::Status FrameReader::ReadLarge(int fd, absl::Time deadline) {
  const size_t size = pending_;
  if (part_.empty()) {
    const size_t avail = end_ - begin_;
    const size_t capacity = std::min(size, std::max(avail, kDirectStart));
    char* p = static_cast<char*>(std::malloc(capacity));
    if (p == nullptr) return Fail(OutOfMemory(fd, size));
    part_ = Bytes::Adopt(p, capacity);
    std::memcpy(p, buf_.get() + begin_, avail);
    begin_ = end_ = 0;
    part_got_ = avail;
  }
  while (part_got_ < size) {
    if (part_got_ == part_.size()) {
      const size_t capacity = std::min(size, std::max(part_.size() * 2, kDirectStart));
      char* grown = static_cast<char*>(std::realloc(part_.data(), capacity));
      if (grown == nullptr) return Fail(OutOfMemory(fd, size));
      part_.Release();
      part_ = Bytes::Adopt(grown, capacity);
    }
    absl::StatusOr<size_t> n =
        ReadBefore(fd, part_.data() + part_got_, part_.size() - part_got_, deadline);
    if (!n.ok()) return PayloadError(n.status());
    if (*n == 0) return Fail(Truncated(fd, part_got_, size, "payload"));
    part_got_ += *n;
  }
  return absl::OkStatus();
}

absl::Status FrameReader::ReadLargeInto(int fd, char* dst, absl::Time deadline) {
  const size_t size = pending_;
  size_t got;
  if (!part_.empty()) {
    got = part_got_;
    std::memcpy(dst, part_.data(), got);
    part_ = Bytes();
    part_got_ = 0;
  } else {
    got = end_ - begin_;
    if (got > 0) std::memcpy(dst, buf_.get() + begin_, got);
    begin_ = end_ = 0;
  }
  while (got < size) {
    absl::StatusOr<size_t> n = ReadBefore(fd, dst + got, size - got, deadline);
    if (!n.ok()) {
      if (!IsTimeout(n.status()) || got == 0) return PayloadError(n.status());
      // Keep what arrived for the next receive, which may not pass `dst`.
      char* p = static_cast<char*>(std::malloc(got));
      if (p == nullptr) return Fail(OutOfMemory(fd, size));
      std::memcpy(p, dst, got);
      part_ = Bytes::Adopt(p, got);
      part_got_ = got;
      return Timeout(fd);
    }
    if (*n == 0) return Fail(Truncated(fd, got, size, "payload"));
    got += *n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Bytes>> FrameReader::RecvFrame(int fd, absl::Time deadline) {
  if (!sticky_.ok()) return sticky_;
  size_reported_ = false;
  absl::StatusOr<bool> more = ReadHeader(fd, deadline);
  if (!more.ok()) return more.status();
  if (!*more) return std::optional<Bytes>();
  const size_t size = pending_;
  if (SmallPending()) {
    // The hot path: usually the whole frame is already in the buffer.
    if (end_ - begin_ < size) {
      absl::StatusOr<bool> full = Fill(fd, size, deadline);
      if (!full.ok()) return PayloadError(full.status());
      if (!*full) return Fail(Truncated(fd, end_ - begin_, size, "payload"));
    }
    has_pending_ = false;
    if (size == 0) return std::optional<Bytes>(Bytes());
    char* p = static_cast<char*>(std::malloc(size));
    if (p == nullptr) return Fail(OutOfMemory(fd, size));
    std::memcpy(p, buf_.get() + begin_, size);
    begin_ += size;
    return std::optional<Bytes>(Bytes::Adopt(p, size));
  }
  absl::Status s = ReadLarge(fd, deadline);
  if (!s.ok()) return s;
  Bytes bytes = std::move(part_);
  ClearPending();
  return std::optional<Bytes>(std::move(bytes));
}

absl::StatusOr<RecvResult> FrameReader::RecvFrameInto(int fd, void* buf, size_t capacity,
                                                      absl::Time deadline) {
  if (!sticky_.ok()) return sticky_;
  absl::StatusOr<bool> more = ReadHeader(fd, deadline);
  if (!more.ok()) return more.status();
  if (!*more) return RecvResult{RecvResult::Kind::kEof, 0};
  const size_t size = pending_;
  if (size > capacity) {
    size_reported_ = true;
    return RecvResult{RecvResult::Kind::kTooSmall, size};
  }
  size_reported_ = false;
  char* dst = static_cast<char*>(buf);
  if (SmallPending()) {
    // The hot path: usually the whole frame is already in the buffer.
    if (end_ - begin_ < size) {
      absl::StatusOr<bool> full = Fill(fd, size, deadline);
      if (!full.ok()) return PayloadError(full.status());
      if (!*full) return Fail(Truncated(fd, end_ - begin_, size, "payload"));
    }
    if (size > 0) std::memcpy(dst, buf_.get() + begin_, size);
    begin_ += size;
    has_pending_ = false;
  } else {
    absl::Status s = ReadLargeInto(fd, dst, deadline);
    if (!s.ok()) return s;
    ClearPending();
  }
  return RecvResult{RecvResult::Kind::kMessage, size};
}

absl::StatusOr<bool> FrameReader::Poll(int fd, absl::Duration timeout) {
  if (!sticky_.ok()) return sticky_;
  // A whole frame in the read-ahead buffer, or the header of a message whose
  // size a too-small RecvInto reported, is ready although the fd may be idle.
  if (ReadyInUserSpace()) return true;
  return WaitReadable(fd, timeout);
}

}  // namespace internal
}  // namespace tubo
