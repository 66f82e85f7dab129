/// @file
/// @brief Owned and borrowed file descriptors.
///
/// `OwnedFd` is the one owner of a descriptor: it closes it exactly once, on
/// destruction or `Reset()`, and gives it up only through the explicit
/// `Release()`. `BorrowedFd` is a cheap view for code that only looks.
///
/// @code
///   tubo::OwnedFd fd = tubo::OwnedFd::Adopt(::open(path, O_RDONLY | O_CLOEXEC));
///   Inspect(fd.Borrow());   // the callee cannot close it
///   int raw = fd.Release(); // now the caller closes `raw`
/// @endcode
#ifndef TUBO_FD_H_
#define TUBO_FD_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include "absl/status/statusor.h"

namespace tubo {

/// @brief A non-owning view of a file descriptor.
///
/// Holds a descriptor number without any right to close it. It is valid only
/// while the owner keeps the descriptor open. `get()` is -1 for an empty view.
class BorrowedFd {
 public:
  /// An empty view (`get() == -1`).
  constexpr BorrowedFd() = default;
  /// A view of `fd`, which the caller keeps open for as long as the view is used.
  constexpr explicit BorrowedFd(int fd) : fd_(fd) {}

  /// The descriptor number, or -1 for an empty view.
  constexpr int get() const { return fd_; }
  /// True if the view refers to a descriptor (`get() >= 0`).
  constexpr bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// @brief A move-only owner of one file descriptor.
///
/// Invariant: a non-empty `OwnedFd` holds an open descriptor that nothing else
/// closes; it is closed exactly once. A default-constructed or moved-from
/// `OwnedFd` is empty (`get() == -1`) and closes nothing.
///
/// Errors from `close(2)` are ignored, for the reason Rust's `OwnedFd` gives:
/// on Linux the descriptor is released even when `close` reports an error, so
/// retrying is wrong and there is nothing useful a destructor could do. Code
/// that must see write errors (for example on NFS) should call `fsync` first.
///
/// Thread-safety: an `OwnedFd` may move between threads; it must not be used
/// by two threads at once.
class OwnedFd {
 public:
  /// An empty owner.
  OwnedFd() = default;
  /// Takes ownership of `fd` (which must be open and owned by nobody else), or
  /// stays empty if `fd` is negative. Prefer `Adopt`, which says what it does.
  explicit OwnedFd(int fd) : fd_(fd < 0 ? -1 : fd) {}
  /// Closes the descriptor, if any.
  ~OwnedFd() { Reset(); }

  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  /// Moves ownership; `other` becomes empty.
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  /// Closes the descriptor held, then takes `other`'s; `other` becomes empty.
  OwnedFd& operator=(OwnedFd&& other) noexcept;

  /// Takes ownership of the raw descriptor `fd`: from now on this object closes
  /// it. `fd` must be open and owned by nobody else; a negative `fd` gives an
  /// empty owner.
  static OwnedFd Adopt(int fd) { return OwnedFd(fd); }

  /// Gives up ownership: returns the descriptor (or -1 if empty), which the
  /// caller must now close, and leaves this object empty.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  /// Closes the descriptor now (ignoring errors, see the class comment) and
  /// leaves this object empty. Does nothing if it is already empty.
  void Reset();

  /// Returns a new owner of a duplicate of this descriptor, close-on-exec from
  /// the moment it exists (`F_DUPFD_CLOEXEC`) and numbered 3 or above, so it
  /// never takes the place of a closed standard stream. Errors:
  /// `Error::kClosed` (canonical code FailedPrecondition) if this object is
  /// empty; `Error::kSystem` with the `fcntl` errno (for example `EMFILE`).
  absl::StatusOr<OwnedFd> Duplicate() const;

  /// The descriptor number, or -1 if empty. Ownership stays here.
  int get() const { return fd_; }
  /// A borrowed view of the descriptor.
  BorrowedFd Borrow() const { return BorrowedFd(fd_); }
  /// True if this object owns a descriptor.
  bool valid() const { return fd_ >= 0; }
  /// Same as `valid()`.
  explicit operator bool() const { return valid(); }

 private:
  int fd_ = -1;
};

}  // namespace tubo

#endif  // TUBO_FD_H_
