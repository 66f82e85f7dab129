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

// Fills `out` with what is left of `orig[0..count)` after its first `done`
// bytes; returns the number of entries.
int Rest(const struct iovec* orig, int count, size_t done, struct iovec* out) {
  int n = 0;
  for (int i = 0; i < count; ++i) {
    size_t len = orig[i].iov_len;
    if (done >= len) {
      done -= len;
      continue;
    }
    out[n].iov_base = static_cast<char*>(orig[i].iov_base) + done;
    out[n].iov_len = len - done;
    done = 0;
    ++n;
  }
  return n;
}

}  // namespace

FrameWriter& FrameWriter::operator=(FrameWriter&& other) noexcept {
  if (this != &other) {
    DropPipeGrowth(&growth_);
    kind_ = std::exchange(other.kind_, WriteKind::kUnknown);
    buf_ = std::move(other.buf_);
    capacity_ = std::exchange(other.capacity_, 0);
    used_ = std::exchange(other.used_, 0);
    pending_ = std::exchange(other.pending_, std::string());
    pending_off_ = std::exchange(other.pending_off_, 0);
    growth_ = std::exchange(other.growth_, PipeGrowth());
    sticky_ = std::exchange(other.sticky_, absl::OkStatus());
  }
  return *this;
}

absl::Status FrameWriter::Write(int fd, struct iovec* iov, int count, const char* op) {
  // A committed remainder not yet written means a frame is already torn on
  // the wire: failing to finish it is as final as tearing one now.
  const bool torn = pending_off_ < pending_.size();
  size_t written = 0;
  absl::Status s = WriteAll(fd, kind_, iov, count, op, &written);
  if (!s.ok() && (written > 0 || torn)) sticky_ = s;
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
  if (message.size() >= kGrowPipeAt && kind_ != WriteKind::kSocket) {
    GrowPipe(fd, kLargePipeSize, &growth_);
  }
  // Does not fit (or unbuffered): a committed remainder, what is held, the
  // header and the payload leave together in one writev.
  struct iovec iov[4] = {
      {pending_.data() + pending_off_, pending_.size() - pending_off_},
      {buf_.get(), used_},
      {header, header_size},
      {const_cast<char*>(message.data()), message.size()},
  };
  absl::Status s = Write(fd, iov, 4, "send");
  if (s.ok()) {
    used_ = 0;
    if (!pending_.empty()) {
      pending_ = std::string();
      pending_off_ = 0;
    }
    MaybeShrink(fd);
  }
  return s;
}

absl::StatusOr<bool> FrameWriter::SendUntil(int fd, const std::string_view* message,
                                            absl::Time deadline) {
  if (!sticky_.ok()) return sticky_;
  char header[kMaxHeader];
  size_t header_size = 0;
  std::string_view payload;
  if (message != nullptr) {
    payload = *message;
    header_size = EncodeHeader(payload.size(), header);
    if (payload.size() >= kGrowPipeAt && kind_ != WriteKind::kSocket) {
      GrowPipe(fd, kLargePipeSize, &growth_);
    }
  }
  const size_t owed = unsent();
  const size_t total = owed + header_size + payload.size();
  const bool torn = pending_off_ < pending_.size();
  const struct iovec orig[4] = {
      {pending_.data() + pending_off_, pending_.size() - pending_off_},
      {buf_.get(), used_},
      {header, header_size},
      {const_cast<char*>(payload.data()), payload.size()},
  };
  const char* op = message != nullptr ? "send" : "flush";
  size_t done = 0;
  bool finished = total == 0 && message == nullptr;
  while (!finished) {
    struct iovec iov[4];
    const int count = Rest(orig, 4, done, iov);
    if (count == 0) {  // an empty frame is still 4 header bytes: never here with a message
      finished = true;
      break;
    }
    size_t n = 0;
    absl::Status s = WriteSomeNonBlocking(fd, kind_, iov, count, op, &n);
    done += n;
    if (!s.ok()) {
      if (done > 0 || torn) sticky_ = s;
      return s;
    }
    if (done == total) {
      finished = true;
      break;
    }
    if (absl::Now() >= deadline) break;
    absl::StatusOr<bool> writable = WaitWritable(fd, deadline);
    if (!writable.ok()) {
      if (done > 0 || torn) sticky_ = writable.status();
      return writable.status();
    }
    if (!*writable) break;
  }
  if (finished) {
    used_ = 0;
    if (!pending_.empty()) {
      pending_ = std::string();
      pending_off_ = 0;
    }
    MaybeShrink(fd);
    return true;
  }
  if (done == 0) return false;  // nothing moved: state unchanged
  // Out of time after some progress. The new frame is committed if any byte
  // of it left; what is left of everything that must still go out is copied.
  const bool accepted = message != nullptr && done > owed;
  const size_t keep_from = accepted ? total : owed;
  std::string rest;
  rest.reserve(keep_from - done);
  struct iovec iov[4];
  const int count = Rest(orig, accepted ? 4 : 2, done, iov);
  for (int i = 0; i < count; ++i) {
    rest.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  pending_ = std::move(rest);
  pending_off_ = 0;
  used_ = 0;
  return accepted;
}

absl::Status FrameWriter::Flush(int fd) {
  if (!sticky_.ok()) return sticky_;
  if (unsent() == 0) return absl::OkStatus();
  struct iovec iov[2] = {
      {pending_.data() + pending_off_, pending_.size() - pending_off_},
      {buf_.get(), used_},
  };
  absl::Status s = Write(fd, iov, 2, "flush");
  if (s.ok()) {
    used_ = 0;
    pending_ = std::string();
    pending_off_ = 0;
    MaybeShrink(fd);
  }
  return s;
}

void FrameWriter::Detach(int fd) {
  if (growth_.old_size != 0) ShrinkPipe(fd, &growth_);
  DropPipeGrowth(&growth_);
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
