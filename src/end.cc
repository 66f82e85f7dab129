// Pipe ends: descriptor ownership around the frame reader and writer.
#include "tubo/end.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/io.h"
#include "tubo/internal/readiness.h"

namespace tubo {
namespace {

absl::Status ClosedError(const char* op) {
  return WithError(absl::FailedPreconditionError(absl::StrCat(op, ": the end is closed")),
                   Error::kClosed);
}

absl::Status ReadAheadError(int fd, size_t bytes) {
  return absl::FailedPreconditionError(
      absl::StrCat("release on fd ", fd, ": ", bytes,
                   " bytes already read ahead from it would be lost; receive them first"));
}

absl::Status ShutError(int fd) {
  return WithError(absl::FailedPreconditionError(
                       absl::StrCat("send on fd ", fd, ": the write side was shut down")),
                   Error::kClosed);
}

// The deadline of a call that may wait `timeout` (infinite: none).
absl::Time DeadlineAfter(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return absl::InfiniteFuture();
  return absl::Now() + std::max(timeout, absl::ZeroDuration());
}

}  // namespace

namespace internal {

// The timed send of both sending ends: an infinite timeout is the blocking
// Send (the same speed), anything else a deadline for SendUntil.
absl::Status SendFor(FrameWriter& writer, int fd, std::string_view message,
                     absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return writer.Send(fd, message);
  const absl::Time deadline = DeadlineAfter(timeout);
  absl::StatusOr<bool> accepted = writer.SendUntil(fd, &message, deadline);
  if (!accepted.ok()) return accepted.status();
  if (*accepted) return absl::OkStatus();
  return WithError(absl::DeadlineExceededError(absl::StrCat(
                       "send on fd ", fd, ": timed out after ", absl::FormatDuration(timeout),
                       " with nothing of the message written")),
                   Error::kTimeout);
}

absl::Status FlushFor(FrameWriter& writer, int fd, absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return writer.Flush(fd);
  const absl::Time deadline = DeadlineAfter(timeout);
  absl::StatusOr<bool> done = writer.SendUntil(fd, nullptr, deadline);
  if (!done.ok()) return done.status();
  if (*done) return absl::OkStatus();
  return WithError(absl::DeadlineExceededError(absl::StrCat(
                       "flush on fd ", fd, ": timed out after ", absl::FormatDuration(timeout),
                       " with ", writer.unsent(), " bytes still to write")),
                   Error::kTimeout);
}

}  // namespace internal

// ReadEnd

// Moving leaves `other` closed (so ready to a wait set watching it).
ReadEnd::ReadEnd(ReadEnd&& other) noexcept
    : fd_(std::move(other.fd_)), reader_(std::move(other.reader_)) {}

ReadEnd& ReadEnd::operator=(ReadEnd&& other) noexcept {
  if (this != &other) {
    fd_ = std::move(other.fd_);
    reader_ = std::move(other.reader_);
  }
  return *this;
}

absl::StatusOr<std::optional<Bytes>> ReadEnd::Recv() {
  if (!fd_) return ClosedError("recv");
  return reader_.Recv(fd_.get());
}

absl::StatusOr<RecvResult> ReadEnd::RecvInto(void* buffer, size_t capacity) {
  if (!fd_) return ClosedError("recv");
  return reader_.RecvInto(fd_.get(), buffer, capacity);
}

absl::StatusOr<std::optional<Bytes>> ReadEnd::RecvFor(absl::Duration timeout) {
  if (!fd_) return ClosedError("recv");
  return reader_.Recv(fd_.get(), DeadlineAfter(timeout));
}

absl::StatusOr<RecvResult> ReadEnd::RecvIntoFor(void* buffer, size_t capacity,
                                                absl::Duration timeout) {
  if (!fd_) return ClosedError("recv");
  return reader_.RecvInto(fd_.get(), buffer, capacity, DeadlineAfter(timeout));
}

absl::StatusOr<bool> ReadEnd::Poll(absl::Duration timeout) {
  if (!fd_) return ClosedError("poll");
  return reader_.Poll(fd_.get(), timeout);
}

absl::Status ReadEnd::Close() {
  fd_.Reset();
  reader_ = internal::FrameReader();
  return absl::OkStatus();
}

absl::StatusOr<OwnedFd> ReadEnd::Release() {
  if (!fd_) return ClosedError("release");
  if (reader_.buffered() > 0) return ReadAheadError(fd_.get(), reader_.buffered());
  reader_ = internal::FrameReader();
  return fd_.TakeOwned();
}

// WriteEnd

WriteEnd::~WriteEnd() { Close().IgnoreError(); }

WriteEnd& WriteEnd::operator=(WriteEnd&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    fd_ = std::move(other.fd_);
    writer_ = std::move(other.writer_);
  }
  return *this;
}

absl::Status WriteEnd::Send(std::string_view message) {
  if (!fd_) return ClosedError("send");
  return writer_.Send(fd_.get(), message);
}

absl::StatusOr<bool> WriteEnd::TrySend(std::string_view message) {
  if (!fd_) return ClosedError("send");
  return writer_.SendUntil(fd_.get(), &message, absl::InfinitePast());
}

absl::Status WriteEnd::SendFor(std::string_view message, absl::Duration timeout) {
  if (!fd_) return ClosedError("send");
  return internal::SendFor(writer_, fd_.get(), message, timeout);
}

absl::Status WriteEnd::Flush() {
  if (!fd_) return ClosedError("flush");
  return writer_.Flush(fd_.get());
}

absl::Status WriteEnd::FlushFor(absl::Duration timeout) {
  if (!fd_) return ClosedError("flush");
  return internal::FlushFor(writer_, fd_.get(), timeout);
}

absl::Status WriteEnd::SetSendBufferSize(size_t capacity) {
  if (!fd_) return ClosedError("set send buffer size");
  return writer_.SetBufferSize(fd_.get(), capacity);
}

absl::Status WriteEnd::Close() {
  if (!fd_) return absl::OkStatus();
  absl::Status s = writer_.Flush(fd_.get());
  writer_.Detach(fd_.get());
  fd_.Reset();
  writer_ = internal::FrameWriter();
  return s;
}

absl::StatusOr<OwnedFd> WriteEnd::Release() {
  if (!fd_) return ClosedError("release");
  absl::Status s = writer_.Flush(fd_.get());
  if (!s.ok()) return s;
  writer_.Detach(fd_.get());
  writer_ = internal::FrameWriter();
  return fd_.TakeOwned();
}

// DuplexEnd

DuplexEnd::~DuplexEnd() { Close().IgnoreError(); }

// Moving leaves `other` closed (so ready to a wait set watching it).
DuplexEnd::DuplexEnd(DuplexEnd&& other) noexcept
    : fd_(std::move(other.fd_)),
      reader_(std::move(other.reader_)),
      writer_(std::move(other.writer_)),
      write_shut_(std::exchange(other.write_shut_, false)) {}

DuplexEnd& DuplexEnd::operator=(DuplexEnd&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    fd_ = std::move(other.fd_);
    reader_ = std::move(other.reader_);
    writer_ = std::move(other.writer_);
    write_shut_ = std::exchange(other.write_shut_, false);
  }
  return *this;
}

absl::Status DuplexEnd::Send(std::string_view message) {
  if (!fd_) return ClosedError("send");
  if (write_shut_) return ShutError(fd_.get());
  return writer_.Send(fd_.get(), message);
}

absl::StatusOr<bool> DuplexEnd::TrySend(std::string_view message) {
  if (!fd_) return ClosedError("send");
  if (write_shut_) return ShutError(fd_.get());
  return writer_.SendUntil(fd_.get(), &message, absl::InfinitePast());
}

absl::Status DuplexEnd::SendFor(std::string_view message, absl::Duration timeout) {
  if (!fd_) return ClosedError("send");
  if (write_shut_) return ShutError(fd_.get());
  return internal::SendFor(writer_, fd_.get(), message, timeout);
}

absl::Status DuplexEnd::FlushFor(absl::Duration timeout) {
  if (!fd_) return ClosedError("flush");
  return internal::FlushFor(writer_, fd_.get(), timeout);
}

absl::Status DuplexEnd::Flush() {
  if (!fd_) return ClosedError("flush");
  return writer_.Flush(fd_.get());
}

absl::Status DuplexEnd::SetSendBufferSize(size_t capacity) {
  if (!fd_) return ClosedError("set send buffer size");
  return writer_.SetBufferSize(fd_.get(), capacity);
}

absl::StatusOr<std::optional<Bytes>> DuplexEnd::Recv() {
  if (!fd_) return ClosedError("recv");
  return reader_.Recv(fd_.get());
}

absl::StatusOr<RecvResult> DuplexEnd::RecvInto(void* buffer, size_t capacity) {
  if (!fd_) return ClosedError("recv");
  return reader_.RecvInto(fd_.get(), buffer, capacity);
}

absl::StatusOr<std::optional<Bytes>> DuplexEnd::RecvFor(absl::Duration timeout) {
  if (!fd_) return ClosedError("recv");
  return reader_.Recv(fd_.get(), DeadlineAfter(timeout));
}

absl::StatusOr<RecvResult> DuplexEnd::RecvIntoFor(void* buffer, size_t capacity,
                                                  absl::Duration timeout) {
  if (!fd_) return ClosedError("recv");
  return reader_.RecvInto(fd_.get(), buffer, capacity, DeadlineAfter(timeout));
}

absl::StatusOr<bool> DuplexEnd::Poll(absl::Duration timeout) {
  if (!fd_) return ClosedError("poll");
  return reader_.Poll(fd_.get(), timeout);
}

absl::Status DuplexEnd::CloseWrite() {
  if (!fd_) return ClosedError("shutdown");
  if (write_shut_) return absl::OkStatus();
  absl::Status s = writer_.Flush(fd_.get());
  if (!s.ok()) return s;
  if (::shutdown(fd_.get(), SHUT_WR) < 0) {
    return internal::ErrnoError(errno, "shutdown", fd_.get());
  }
  write_shut_ = true;
  return absl::OkStatus();
}

absl::Status DuplexEnd::Close() {
  if (!fd_) return absl::OkStatus();
  absl::Status s = writer_.Flush(fd_.get());
  writer_.Detach(fd_.get());
  fd_.Reset();
  reader_ = internal::FrameReader();
  writer_ = internal::FrameWriter();
  write_shut_ = false;
  return s;
}

absl::StatusOr<OwnedFd> DuplexEnd::Release() {
  if (!fd_) return ClosedError("release");
  if (reader_.buffered() > 0) return ReadAheadError(fd_.get(), reader_.buffered());
  absl::Status s = writer_.Flush(fd_.get());
  if (!s.ok()) return s;
  writer_.Detach(fd_.get());
  reader_ = internal::FrameReader();
  writer_ = internal::FrameWriter();
  write_shut_ = false;
  return fd_.TakeOwned();
}

namespace internal {

bool EndReadiness::RecvReady(const ReadEnd& end) {
  return !end.is_open() || end.reader_.ReadyInUserSpace();
}

bool EndReadiness::RecvReady(const DuplexEnd& end) {
  return !end.is_open() || end.reader_.ReadyInUserSpace();
}

bool EndReadiness::SendReady(const WriteEnd& end) { return !end.is_open() || end.writer_.failed(); }

bool EndReadiness::SendReady(const DuplexEnd& end) {
  return !end.is_open() || end.writer_.failed() || end.write_shut_;
}

bool EndReadiness::WriteShut(const DuplexEnd& end) { return end.write_shut_; }

}  // namespace internal

}  // namespace tubo
