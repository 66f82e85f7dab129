// Internal: the descriptor of something a WaitSet can watch (an end, a
// process handle's pidfd). Every operation that changes what the holder is
// (closing, moving, releasing, reaping) tells wait sets through the
// readiness epoch (internal/readiness.h) here, in one place, so that a new
// operation cannot forget to. Not part of the public API.
#ifndef TUBO_INTERNAL_WATCHED_FD_H_
#define TUBO_INTERNAL_WATCHED_FD_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <utility>

#include "tubo/fd.h"
#include "tubo/internal/readiness.h"

namespace tubo {
namespace internal {

class WatchedFd {
 public:
  WatchedFd() = default;
  explicit WatchedFd(OwnedFd fd) : fd_(std::move(fd)) {}
  // The source becomes empty: to a wait set watching it, ready.
  WatchedFd(WatchedFd&& other) noexcept : fd_(std::move(other.fd_)) { NoteUserSpaceReadiness(); }
  WatchedFd& operator=(WatchedFd&& other) noexcept {
    if (this != &other) {
      fd_ = std::move(other.fd_);
      NoteUserSpaceReadiness();
    }
    return *this;
  }
  WatchedFd(const WatchedFd&) = delete;
  WatchedFd& operator=(const WatchedFd&) = delete;

  int get() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  explicit operator bool() const { return fd_.valid(); }
  BorrowedFd Borrow() const { return fd_.Borrow(); }

  // Closes the descriptor (if any).
  void Reset() {
    fd_.Reset();
    NoteUserSpaceReadiness();
  }
  // Gives the descriptor up to the caller, who owns it from now on.
  OwnedFd TakeOwned() {
    NoteUserSpaceReadiness();
    return std::move(fd_);
  }
  // Gives the raw descriptor up (the caller closes it).
  int Release() {
    NoteUserSpaceReadiness();
    return fd_.Release();
  }

 private:
  OwnedFd fd_;
};

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_WATCHED_FD_H_
