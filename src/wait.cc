// One wait over many ends and processes: epoll over their descriptors and
// pidfds, plus the readiness that only user space knows about.
//
// Why not epoll alone: an end reads ahead. One read(2) may pull several
// frames into the end's buffer, so after the caller receives one of them the
// descriptor can be empty (epoll reports nothing) while the next receive
// would return at once. The same holds for an end with a sticky framing error
// and for an end closed after it was added (its receive fails at once), and
// for a process handle that no longer owns a child (reaped, detached, moved
// from: its wait returns at once).
//
// The set is not told which end a caller receives from, so it cannot keep an
// exact list of ends holding read-ahead. Instead every call that can make an
// entry ready in user space (a receive leaving read-ahead or failing for
// good; closing, releasing or moving an end; reaping, detaching or moving a
// process handle) bumps a process-wide counter (internal/readiness.h). A wait
// looks at every entry's user-space state only when that counter moved since
// its last scan (or entries were added); otherwise it re-checks only the
// entries that scan found ready. Apart from such a scan, a wait costs in
// proportion to what is ready: one `epoll_wait`, whose result is exactly the
// ready descriptors. Measured (-c opt, 2-core VM, zero timeout, one end
// ready; bench/tubo_bench wait): the same per wait with 1 and with 1024 ends
// (about 0.5 us); a scan costs about 3.5 ns per watched end, paid only after
// a receive left read-ahead somewhere (and then the wait returns at once).
#include "tubo/wait.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tubo/error.h"
#include "tubo/internal/io.h"
#include "tubo/internal/readiness.h"
#include "tubo/pool.h"

namespace tubo {
namespace {

absl::Status KeyError(const char* op, uint64_t key, absl::string_view what) {
  return WithError(
      absl::InvalidArgumentError(absl::StrCat("wait set ", op, " key ", key, ": ", what)),
      Error::kInvalidArgument);
}

absl::Status ClosedError(uint64_t key, const char* what) {
  return WithError(
      absl::FailedPreconditionError(absl::StrCat("wait set add key ", key, ": ", what)),
      Error::kClosed);
}

absl::Status SetClosedError(const char* op) {
  return WithError(absl::FailedPreconditionError(
                       absl::StrCat("wait set ", op, ": the set is closed (moved from)")),
                   Error::kClosed);
}

// The epoll_wait timeout for the time left until `deadline`: rounded up to
// whole milliseconds, so a wait never returns early and spins; -1 for ever.
int TimeoutMillis(bool forever, absl::Time deadline) {
  if (forever) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

}  // namespace

namespace {

// A new epoll descriptor (close-on-exec, off 0-2), or an error naming `op`.
absl::StatusOr<OwnedFd> NewEpoll(const char* op) {
  const int fd = internal::OffStdio(::epoll_create1(EPOLL_CLOEXEC));
  if (fd < 0) return SystemError(errno, absl::StrCat(op, ": epoll_create1"));
  return OwnedFd::Adopt(fd);
}

// Watches the epoll instance `inner` from `notify` (level-triggered): `notify`
// is readable while `inner` has events.
absl::Status Nest(const OwnedFd& notify, const OwnedFd& inner, const char* op) {
  struct epoll_event event = {};
  event.events = EPOLLIN;
  if (::epoll_ctl(notify.get(), EPOLL_CTL_ADD, inner.get(), &event) < 0) {
    return SystemError(errno, absl::StrCat(op, ": epoll_ctl on fd ", notify.get()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WaitSet> WaitSet::Create() {
  absl::StatusOr<OwnedFd> epoll = NewEpoll("create wait set");
  if (!epoll.ok()) return epoll.status();
  absl::StatusOr<OwnedFd> notify = NewEpoll("create wait set");
  if (!notify.ok()) return notify.status();
  if (absl::Status s = Nest(*notify, *epoll, "create wait set"); !s.ok()) return s;
  WaitSet set;
  set.epoll_ = std::move(*epoll);
  set.notify_ = std::move(*notify);
  return set;
}

bool WaitSet::ReadyInUserSpace(const Entry& entry) {
  if (entry.read != nullptr) {
    const ReadEnd& end = *entry.read;
    return internal::EndReadiness::RecvReady(end);
  }
  if (entry.write != nullptr) {
    const WriteEnd& end = *entry.write;
    return internal::EndReadiness::SendReady(end);
  }
  if (entry.duplex != nullptr) {
    const DuplexEnd& end = *entry.duplex;
    if (entry.out) return internal::EndReadiness::SendReady(end);
    return internal::EndReadiness::RecvReady(end);
  }
  // A task: its eventfd is readable exactly when it is done.
  if (entry.task != nullptr) return false;
  // Reaped (so always ready), detached or emptied: its wait returns at once.
  return !entry.process->owns_child();
}

int WaitSet::CurrentFd(const Entry& entry) {
  if (entry.read != nullptr) return entry.read->fd().get();
  if (entry.write != nullptr) return entry.write->fd().get();
  if (entry.duplex != nullptr) return entry.duplex->fd().get();
  if (entry.task != nullptr) return entry.fd;  // the set keeps it open
  return entry.process->pidfd().get();
}

namespace {

// Registers `fd` with `epoll` for `entry`'s direction. Level-triggered:
// nothing is consumed, so what stays ready is reported by every wait.
// EPOLLHUP and EPOLLERR are always reported (EOF, errors, readers gone).
int Register(int epoll, int fd, bool out, uint64_t serial) {
  struct epoll_event event = {};
  event.events = out ? EPOLLOUT : EPOLLIN;
  event.data.u64 = serial;
  return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

}  // namespace

absl::Status WaitSet::AddFd(int fd, uint64_t key, Entry entry) {
  if (!epoll_) return SetClosedError("add");
  if (entries_.contains(key)) return KeyError("add", key, "the key is in use");
  entry.fd = fd;
  if (fd >= 0) {
    entry.serial = next_serial_++;
    if (Register(epoll_.get(), fd, entry.out, entry.serial) < 0) {
      const int err = errno;
      if (err == EEXIST) {
        return KeyError("add", key,
                        absl::StrCat("fd ", fd, " is already watched under another key"));
      }
      return SystemError(err, absl::StrCat("wait set add key ", key, ": epoll_ctl on fd ", fd));
    }
    serials_.emplace(entry.serial, key);
  }
  entries_.emplace(key, entry);
  rescan_ = true;
  return absl::OkStatus();
}

absl::Status WaitSet::Add(ReadEnd& end, uint64_t key) {
  if (!end.is_open()) return ClosedError(key, "the end is closed");
  Entry entry;
  entry.read = &end;
  return AddFd(end.fd().get(), key, entry);
}

absl::Status WaitSet::Add(DuplexEnd& end, uint64_t key) {
  if (!end.is_open()) return ClosedError(key, "the end is closed");
  Entry entry;
  entry.duplex = &end;
  return AddFd(end.fd().get(), key, entry);
}

absl::Status WaitSet::Add(WriteEnd& end, uint64_t key) {
  if (!end.is_open()) return ClosedError(key, "the end is closed");
  Entry entry;
  entry.write = &end;
  entry.out = true;
  return AddFd(end.fd().get(), key, entry);
}

absl::Status WaitSet::AddWritable(DuplexEnd& end, uint64_t key) {
  if (!end.is_open()) return ClosedError(key, "the end is closed");
  if (internal::EndReadiness::WriteShut(end))
    return ClosedError(key, "the end's write side was shut down");
  Entry entry;
  entry.duplex = &end;
  entry.out = true;
  return AddFd(end.fd().get(), key, entry);
}

absl::Status WaitSet::Add(const Task& task, uint64_t key) {
  if (!task.valid()) return ClosedError(key, "the task handle is empty");
  absl::StatusOr<BorrowedFd> fd = task.fd();
  if (!fd.ok()) return fd.status();
  Entry entry;
  entry.task = task.task_;
  return AddFd(fd->get(), key, entry);
}

absl::Status WaitSet::Add(Process& process, uint64_t key) {
  Entry entry;
  entry.process = &process;
  if (process.owns_child()) return AddFd(process.pidfd().get(), key, entry);
  // Already reaped: nothing for epoll to watch, and always ready.
  if (process.exit_status().has_value()) return AddFd(-1, key, entry);
  return ClosedError(key, "the process handle is empty or detached");
}

absl::Status WaitSet::Remove(uint64_t key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return KeyError("remove", key, "nothing is watched under it");
  const Entry entry = it->second;
  entries_.erase(it);
  if (entry.fd >= 0) {
    serials_.erase(entry.serial);
    // Delete the registration of the number the set registered, whatever the
    // handle did since (released, closed, moved): a released descriptor is
    // still open in the caller's hands and would stay registered otherwise.
    // Not if another live entry now owns that number: the registration under
    // it is that entry's. If the number now refers to another file while a
    // duplicate keeps the registered one open, the kernel cannot find the
    // registration (ENOENT/EBADF, ignored); Wait rebuilds past it.
    const bool owned = std::any_of(entries_.begin(), entries_.end(),
                                   [&](const auto& kv) { return kv.second.fd == entry.fd; });
    if (!owned) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, entry.fd, nullptr);
  }
  user_ready_.erase(std::remove(user_ready_.begin(), user_ready_.end(), key), user_ready_.end());
  return absl::OkStatus();
}

absl::Status WaitSet::Rebuild() {
  absl::StatusOr<OwnedFd> created = NewEpoll("wait set wait: rebuild");
  if (!created.ok()) return created.status();
  OwnedFd epoll = std::move(*created);
  for (auto& [key, entry] : entries_) {
    if (entry.fd < 0) continue;
    // An object that no longer holds the descriptor it was added with is
    // ready in user space (closed) or no longer watchable; its number may
    // belong to anything now, so it is not registered again.
    if (CurrentFd(entry) != entry.fd) continue;
    Register(epoll.get(), entry.fd, entry.out, entry.serial);
  }
  // fd() keeps its number: the new instance replaces the old one under it
  // (closing the old one ends its registration there).
  if (absl::Status s = Nest(notify_, epoll, "wait set wait: rebuild"); !s.ok()) return s;
  epoll_ = std::move(epoll);
  return absl::OkStatus();
}

size_t WaitSet::size() const { return entries_.size(); }

absl::StatusOr<std::vector<uint64_t>> WaitSet::Wait(absl::Duration timeout) {
  if (!epoll_) return SetClosedError("wait");
  const bool forever = timeout == absl::InfiniteDuration();
  const absl::Time deadline =
      forever ? absl::InfiniteFuture() : absl::Now() + std::max(timeout, absl::ZeroDuration());

  // What is ready in user space: a full scan only if something may have
  // changed since the last one (see the file comment).
  const uint64_t epoch = internal::UserSpaceReadinessEpoch();
  if (rescan_ || epoch != scanned_epoch_) {
    user_ready_.clear();
    for (const auto& [key, entry] : entries_) {
      if (ReadyInUserSpace(entry)) user_ready_.push_back(key);
    }
    scanned_epoch_ = epoch;
    rescan_ = false;
  } else if (!user_ready_.empty()) {
    // Still ready unless consumed (consuming never bumps the epoch).
    user_ready_.erase(std::remove_if(user_ready_.begin(), user_ready_.end(),
                                     [this](uint64_t key) {
                                       auto it = entries_.find(key);
                                       return it == entries_.end() || !ReadyInUserSpace(it->second);
                                     }),
                      user_ready_.end());
  }
  std::vector<uint64_t> ready = user_ready_;

  // Room for every watched descriptor, so one call reports all that are ready
  // (with level-triggered entries, a second call would cycle through the
  // ready list again rather than continue it). Kept between waits.
  const size_t capacity = std::min<size_t>(std::max<size_t>(entries_.size(), 1), INT_MAX);
  if (events_.size() < capacity * sizeof(struct epoll_event)) {
    events_.resize(capacity * sizeof(struct epoll_event));
  }
  // operator new's alignment suits epoll_event on every architecture.
  struct epoll_event* events = reinterpret_cast<struct epoll_event*>(events_.data());
  for (;;) {
    // Something already ready: only look, to add what the kernel knows.
    const int millis = ready.empty() ? TimeoutMillis(forever, deadline) : 0;
    const int n = ::epoll_wait(epoll_.get(), events, static_cast<int>(capacity), millis);
    if (n < 0) {
      if (errno == EINTR) continue;  // the deadline is kept
      return SystemError(errno, absl::StrCat("wait set wait: epoll_wait on fd ", epoll_.get()));
    }
    bool stale = false;
    for (int i = 0; i < n; ++i) {
      // A copy: epoll_event is packed, so its data is not 8-byte aligned.
      const uint64_t id = events[i].data.u64;
      auto serial = serials_.find(id);
      if (serial == serials_.end()) {
        // A registration the set no longer knows: removed while a duplicate
        // of its descriptor kept it alive in epoll, where it would be
        // reported (level-triggered) by every wait from now on.
        stale = true;
        continue;
      }
      auto it = entries_.find(serial->second);
      // Already listed from user-space state.
      if (it == entries_.end() || ReadyInUserSpace(it->second)) continue;
      ready.push_back(it->first);
    }
    if (stale) {
      absl::Status s = Rebuild();
      if (!s.ok()) return s;
    }
    // epoll_wait may wake a little before the deadline (its clock, rounding);
    // waiting again keeps the promise of waiting the whole timeout.
    if (!ready.empty() || (!forever && absl::Now() >= deadline)) return ready;
  }
}

}  // namespace tubo
