// The system-call layer under the ends: full writes without SIGPIPE, reads
// and readiness waits that survive EINTR.
#include "tubo/internal/io.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"

namespace tubo {
namespace internal {
namespace {

// Blocks SIGPIPE in the calling thread for its lifetime, so a write to a pipe
// without readers fails with EPIPE instead of killing the process. Only the
// thread's mask is touched, never the process-wide disposition. If the write
// raised SIGPIPE, it is consumed before the mask is restored.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old);
    was_blocked_ = sigismember(&old, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    if (was_blocked_) return;  // the caller's own mask; leave it as it was
    if (raised_) {
      const struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_set_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_UNBLOCK, &pipe_set_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  // Records that a write failed with EPIPE (and so raised SIGPIPE).
  void NoteRaised() { raised_ = true; }

 private:
  sigset_t pipe_set_;
  bool was_blocked_ = false;
  bool raised_ = false;
};

// Drops `n` written bytes from the front of `iov[*first..count)`.
void Advance(struct iovec* iov, int count, int* first, size_t n) {
  while (*first < count && n >= iov[*first].iov_len) {
    n -= iov[*first].iov_len;
    ++*first;
  }
  if (*first < count) {
    iov[*first].iov_base = static_cast<char*>(iov[*first].iov_base) + n;
    iov[*first].iov_len -= n;
  }
}

// Skips leading empty entries so that a finished write is first == count.
void SkipEmpty(struct iovec* iov, int count, int* first) {
  while (*first < count && iov[*first].iov_len == 0) ++*first;
}

absl::Status WriteLoop(int fd, bool socket, struct iovec* iov, int count,
                       const char* op, size_t* written, SigpipeBlock* block) {
  int first = 0;
  size_t total = 0;
  SkipEmpty(iov, count, &first);
  while (first < count) {
    ssize_t n;
    if (socket) {
      struct msghdr msg = {};
      msg.msg_iov = iov + first;
      msg.msg_iovlen = static_cast<size_t>(count - first);
      n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    } else {
      n = ::writev(fd, iov + first, count - first);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (err == EPIPE && block != nullptr) block->NoteRaised();
      if (written != nullptr) *written = total;
      return ErrnoError(err, op, fd);
    }
    total += static_cast<size_t>(n);
    Advance(iov, count, &first, static_cast<size_t>(n));
    SkipEmpty(iov, count, &first);
  }
  if (written != nullptr) *written = total;
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoError(int err, const char* op, int fd) {
  absl::Status status = absl::ErrnoToStatus(err, absl::StrCat(op, " on fd ", fd));
  bool peer_gone = err == EPIPE || err == ECONNRESET;
  return WithError(std::move(status), peer_gone ? Error::kPeerClosed : Error::kSystem);
}

absl::Status WriteAll(int fd, WriteKind& kind, struct iovec* iov, int count,
                      const char* op, size_t* written) {
  if (kind == WriteKind::kUnknown) {
    // Asked once per end: sockets can refuse SIGPIPE per call (MSG_NOSIGNAL),
    // anything else needs the thread's mask changed around the write.
    int type = 0;
    socklen_t len = sizeof(type);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
      kind = WriteKind::kSocket;
    } else if (errno == ENOTSOCK) {
      kind = WriteKind::kOther;
    } else {
      return ErrnoError(errno, op, fd);
    }
  }
  if (kind == WriteKind::kSocket) {
    return WriteLoop(fd, /*socket=*/true, iov, count, op, written, nullptr);
  }
  SigpipeBlock block;
  return WriteLoop(fd, /*socket=*/false, iov, count, op, written, &block);
}

void TryGrowPipe(int fd, size_t size) {
  const int current = ::fcntl(fd, F_GETPIPE_SZ);
  if (current < 0 || static_cast<size_t>(current) >= size) return;
  ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(size));
}

int OffStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const int err = errno;
  ::close(fd);
  errno = err;
  return moved;
}

absl::StatusOr<size_t> ReadSome(int fd, char* buf, size_t size) {
  for (;;) {
    ssize_t n = ::read(fd, buf, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == ECONNRESET) return 0;  // the peer is gone: see io.h
    if (errno != EINTR) return ErrnoError(errno, "recv", fd);
  }
}

absl::StatusOr<bool> WaitReadable(int fd, absl::Duration timeout) {
  const bool forever = timeout == absl::InfiniteDuration();
  const absl::Time deadline = forever ? absl::InfiniteFuture() : absl::Now() + timeout;
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (!forever) {
      absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
      ts = absl::ToTimespec(left);
      tsp = &ts;
    }
    int n = ::ppoll(&pfd, 1, tsp, nullptr);
    if (n > 0) {
      if (pfd.revents & POLLNVAL) return ErrnoError(EBADF, "poll", fd);
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR) return ErrnoError(errno, "poll", fd);
  }
}

}  // namespace internal
}  // namespace tubo
