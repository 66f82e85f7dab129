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
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <ctime>
#include <optional>

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

std::atomic<bool> sigpipe_declared_ignored{false};

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

absl::Status WriteLoop(int fd, bool socket, struct iovec* iov, int count, const char* op,
                       size_t* written, SigpipeBlock* block) {
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

// Asked once per end: sockets can refuse SIGPIPE per call (MSG_NOSIGNAL),
// anything else needs the thread's mask changed around the write.
static absl::Status DetectKind(int fd, WriteKind& kind, const char* op) {
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
    kind = WriteKind::kSocket;
  } else if (errno == ENOTSOCK) {
    kind = WriteKind::kOther;
  } else {
    return ErrnoError(errno, op, fd);
  }
  return absl::OkStatus();
}

void SetSigpipeDeclaredIgnored() {
  sigpipe_declared_ignored.store(true, std::memory_order_relaxed);
}

void ClearSigpipeDeclaredIgnored() {
  sigpipe_declared_ignored.store(false, std::memory_order_relaxed);
}

bool SigpipeIsDeclaredIgnored() { return sigpipe_declared_ignored.load(std::memory_order_relaxed); }

absl::Status ErrnoError(int err, const char* op, int fd) {
  const bool peer_gone = err == EPIPE || err == ECONNRESET;
  return SystemError(err, absl::StrCat(op, " on fd ", fd),
                     peer_gone ? Error::kPeerClosed : Error::kSystem);
}

absl::Status WriteAll(int fd, WriteKind& kind, struct iovec* iov, int count, const char* op,
                      size_t* written) {
  if (kind == WriteKind::kUnknown) {
    absl::Status s = DetectKind(fd, kind, op);
    if (!s.ok()) return s;
  }
  if (kind == WriteKind::kSocket) {
    return WriteLoop(fd, /*socket=*/true, iov, count, op, written, nullptr);
  }
  if (SigpipeIsDeclaredIgnored()) {
    return WriteLoop(fd, /*socket=*/false, iov, count, op, written, nullptr);
  }
  SigpipeBlock block;
  return WriteLoop(fd, /*socket=*/false, iov, count, op, written, &block);
}

absl::Status WriteSomeNonBlocking(int fd, WriteKind& kind, struct iovec* iov, int count,
                                  const char* op, size_t* written) {
  *written = 0;
  if (kind == WriteKind::kUnknown) {
    absl::Status s = DetectKind(fd, kind, op);
    if (!s.ok()) return s;
  }
  std::optional<SigpipeBlock> block;
  if (kind != WriteKind::kSocket && !SigpipeIsDeclaredIgnored()) block.emplace();
  int first = 0;
  SkipEmpty(iov, count, &first);
  // Where RWF_NOWAIT is refused: one write of at most PIPE_BUF bytes after
  // POLLOUT; a pipe with a free slot takes it without blocking.
  bool bounded = false;
  while (first < count) {
    ssize_t n;
    if (kind == WriteKind::kSocket) {
      struct msghdr msg = {};
      msg.msg_iov = iov + first;
      msg.msg_iovlen = static_cast<size_t>(count - first);
      n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else if (!bounded) {
      n = ::pwritev2(fd, iov + first, count - first, -1, RWF_NOWAIT);
      if (n < 0 && errno == EOPNOTSUPP) {
        bounded = true;
        continue;
      }
    } else {
      struct pollfd pfd = {fd, POLLOUT, 0};
      int r = ::poll(&pfd, 1, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return absl::OkStatus();  // would block
      // One iovec entry, cut to PIPE_BUF: a write that size never blocks
      // once POLLOUT says a slot is free (or fails at once with EPIPE).
      struct iovec one = iov[first];
      if (one.iov_len > PIPE_BUF) one.iov_len = PIPE_BUF;
      n = ::writev(fd, &one, 1);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
      const int err = errno;
      if (err == EPIPE && block) block->NoteRaised();
      return ErrnoError(err, op, fd);
    }
    *written += static_cast<size_t>(n);
    Advance(iov, count, &first, static_cast<size_t>(n));
    SkipEmpty(iov, count, &first);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> WaitWritable(int fd, absl::Time deadline) {
  const bool forever = deadline == absl::InfiniteFuture();
  for (;;) {
    struct pollfd pfd = {fd, POLLOUT, 0};
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (!forever) {
      ts = absl::ToTimespec(std::max(deadline - absl::Now(), absl::ZeroDuration()));
      tsp = &ts;
    }
    int n = ::ppoll(&pfd, 1, tsp, nullptr);
    if (n > 0) {
      if (pfd.revents & POLLNVAL) return ErrnoError(EBADF, "send", fd);
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR) return ErrnoError(errno, "poll", fd);
  }
}

namespace {

constexpr size_t kPageSize = 4096;

std::atomic<size_t> growth_pages{0};

size_t ReadGrowthBudget() {
  // The kernel's default soft limit when the file cannot be read or says 0
  // (no limit): the bound must stay small either way.
  size_t soft = 16384;
  if (FILE* f = std::fopen("/proc/sys/fs/pipe-user-pages-soft", "re")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1 && v > 0) soft = v;
    std::fclose(f);
  }
  return soft / 8;
}

}  // namespace

size_t PipeGrowthBudgetPages() {
  static const size_t budget = ReadGrowthBudget();
  return budget;
}

size_t PipeGrowthPages() { return growth_pages.load(std::memory_order_relaxed); }

void GrowPipe(int fd, size_t size, PipeGrowth* growth) {
  if (growth->old_size != 0) return;
  const int current = ::fcntl(fd, F_GETPIPE_SZ);
  if (current < 0 || static_cast<size_t>(current) >= size) return;
  const size_t pages = (size - static_cast<size_t>(current)) / kPageSize;
  const size_t budget = PipeGrowthBudgetPages();
  size_t held = growth_pages.load(std::memory_order_relaxed);
  do {
    if (held + pages > budget) return;  // the process holds its share already
  } while (!growth_pages.compare_exchange_weak(held, held + pages, std::memory_order_relaxed));
  if (::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(size)) < 0) {
    growth_pages.fetch_sub(pages, std::memory_order_relaxed);
    return;
  }
  growth->old_size = static_cast<size_t>(current);
  growth->pages = pages;
}

bool ShrinkPipe(int fd, PipeGrowth* growth) {
  if (growth->old_size == 0) return true;
  if (::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(growth->old_size)) < 0 && errno == EBUSY) {
    return false;
  }
  DropPipeGrowth(growth);
  return true;
}

void DropPipeGrowth(PipeGrowth* growth) {
  if (growth->old_size == 0) return;
  growth_pages.fetch_sub(growth->pages, std::memory_order_relaxed);
  *growth = PipeGrowth();
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
