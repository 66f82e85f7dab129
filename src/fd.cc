// Owned file descriptors.
#include "tubo/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tubo/error.h"

namespace tubo {

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

void OwnedFd::Reset() {
  if (fd_ >= 0) {
    // Not retried on EINTR: Linux has released the descriptor either way, and
    // a retry could close a descriptor another thread just opened.
    ::close(fd_);
    fd_ = -1;
  }
}

absl::StatusOr<OwnedFd> OwnedFd::Duplicate() const {
  if (fd_ < 0) {
    return WithError(absl::FailedPreconditionError("duplicate: empty OwnedFd"), Error::kClosed);
  }
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    return SystemError(errno, absl::StrCat("duplicate fd ", fd_));
  }
  return OwnedFd(fd);
}

}  // namespace tubo
