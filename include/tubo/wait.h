/// @file
/// @brief One wait over many ends and processes, like
/// `multiprocessing.connection.wait`.
///
/// A `WaitSet` watches ends (ready when a receive call would not block for its
/// first byte: data buffered or readable, or end of stream) and processes
/// (ready once the child has exited). It is built on epoll and pidfds, so a
/// wait costs in proportion to what is ready, not to what is watched.
///
/// @code
///   absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
///   set->Add(results, 1).IgnoreError();
///   set->Add(worker, 2).IgnoreError();
///   absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Seconds(5));
///   // ready holds the keys of what is ready; empty after the timeout.
/// @endcode
///
/// It also watches sending ends for writability (`Add(WriteEnd&, key)`,
/// `AddWritable(DuplexEnd&, key)`): ready when a send can make progress without
/// blocking (epoll's EPOLLOUT: the pipe has a free page, the socket room),
/// when the readers are gone (a send then fails at once with
/// `Error::kPeerClosed`), or when the end is closed or failed for good. A
/// writable end stays ready while it has room, so watch it only while there is
/// something to send (or a committed rest to finish, `unsent_bytes() > 0`):
///
/// @code
///   set->Add(to_worker, 7).IgnoreError();
///   for (ready : *set->Wait()) {            // key 7 writable
///     absl::StatusOr<bool> accepted = to_worker.TrySend(next);
///     if (accepted.ok() && *accepted) Advance();   // else: offer it again
///   }
/// @endcode
///
/// The set registers the descriptor each end had when it was added, and keeps
/// to that registration whatever happens to the end afterwards: `Remove`
/// deletes it even if the end was released, closed or moved meanwhile, unless
/// another entry of the set now watches that descriptor number. A descriptor
/// watched under one key cannot be added under another (so a duplex end is
/// watched for receiving or for writability, not both in one set).
///
/// For an event loop (asyncio, Go's netpoller, libuv) the set has one
/// descriptor, `fd()`, readable whenever a descriptor the set watches is
/// ready. It is not the whole truth: an end can hold a whole message in its
/// read-ahead buffer while its descriptor has nothing to read, and a reaped
/// process is ready without a descriptor. So call `Wait(absl::ZeroDuration())`
/// first, and hand `fd()` to the event loop only when that found nothing:
///
/// @code
///   for (;;) {
///     absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::ZeroDuration());
///     if (!ready.ok() || !ready->empty()) return ready;
///     loop.WaitReadable(set->fd().get());   // then look again
///   }
/// @endcode
///
/// The set refers to what was added; each must stay where it is (not be moved
/// or destroyed) until it is removed or the set is destroyed.
/// Thread-safety: a set must not be used by two threads at once.
#ifndef TUBO_WAIT_H_
#define TUBO_WAIT_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/end.h"
#include "tubo/fd.h"
#include "tubo/process.h"

namespace tubo {

class Task;

/// @brief A set of ends and processes to wait on together.
class WaitSet {
 public:
  /// Creates an empty set (two epoll descriptors, close-on-exec: the one the
  /// set waits on and the one `fd()` gives).
  /// Errors: `Error::kSystem` from `epoll_create1`.
  static absl::StatusOr<WaitSet> Create();

  /// Moves the set.
  WaitSet(WaitSet&&) noexcept = default;
  /// Moves the set.
  WaitSet& operator=(WaitSet&&) noexcept = default;

  /// Watches `end` under `key`. Errors: `Error::kInvalidArgument` if `key` is
  /// in use, `Error::kClosed` if the end is closed, `Error::kSystem` from epoll.
  absl::Status Add(ReadEnd& end, uint64_t key);
  /// Watches `end` for something to receive, under `key`. See the overload for `ReadEnd`.
  absl::Status Add(DuplexEnd& end, uint64_t key);
  /// Watches the write end `end` for writability under `key` (see the file
  /// comment). Errors as for the `ReadEnd` overload.
  absl::Status Add(WriteEnd& end, uint64_t key);
  /// Watches the duplex end `end` for writability (not for something to
  /// receive) under `key`. Errors as for the `ReadEnd` overload, and
  /// `Error::kClosed` after `CloseWrite`.
  absl::Status AddWritable(DuplexEnd& end, uint64_t key);
  /// Watches `process` for its exit under `key`. A process already reaped is
  /// always ready. Errors as for the `ReadEnd` overload (`Error::kClosed` for
  /// an empty or detached handle).
  absl::Status Add(Process& process, uint64_t key);
  /// Watches the pool task `task` under `key`: ready once it is done (a
  /// result or an error; `Task::Result` then returns at once), and ready for
  /// good after that. The set keeps the task alive (not its pool), and uses
  /// its descriptor (`Task::fd`, created now if needed). Errors as for the
  /// `ReadEnd` overload (`Error::kClosed` for an empty handle), and those of
  /// `Task::fd`.
  absl::Status Add(const Task& task, uint64_t key);

  /// Stops watching what was added under `key`, and deletes the epoll
  /// registration of the descriptor it added (see the file comment). Errors:
  /// `Error::kInvalidArgument` if nothing was.
  absl::Status Remove(uint64_t key);

  /// The number of things watched.
  size_t size() const;

  /// The set's descriptor for event loops, borrowed (it belongs to the set and
  /// is closed with it; never close it or read from it): an epoll descriptor,
  /// readable whenever a descriptor the set watches is ready, the same one for
  /// the set's whole life. `Wait(absl::ZeroDuration())` first and this
  /// descriptor only when that found nothing (see the file comment): an end
  /// with a message in its read-ahead buffer, a closed end or a reaped
  /// process is ready while no descriptor is. Readable means "call `Wait`",
  /// which may still find nothing (a registration that went stale). -1 for a
  /// moved-from set. C: `tubo_wait_set_fd`.
  BorrowedFd fd() const { return notify_.Borrow(); }

  /// Waits until at least one watched thing is ready or `timeout` passes
  /// (`absl::InfiniteDuration()` waits forever, zero only looks), and returns
  /// the keys of everything ready (empty after a timeout). Nothing is
  /// consumed: the caller then receives from the ends or reaps the processes.
  /// A registration the set could not delete (a removed descriptor whose
  /// number was reused while a duplicate kept its file open) never wakes it:
  /// the set then rebuilds its epoll instance from the entries it has.
  /// Errors: `Error::kSystem` from `epoll_wait` (or `epoll_create1` on a rebuild).
  absl::StatusOr<std::vector<uint64_t>> Wait(absl::Duration timeout = absl::InfiniteDuration());

 private:
  // What one key refers to. Exactly one of the pointers (or `task`) is set.
  struct Entry {
    ReadEnd* read = nullptr;
    WriteEnd* write = nullptr;
    DuplexEnd* duplex = nullptr;  // watched for receiving, or writability if `out`
    Process* process = nullptr;
    // A pool task (an internal::PoolTask), kept alive so that its done
    // descriptor, `fd`, stays open.
    std::shared_ptr<const void> task;
    bool out = false;  // watched for writability (EPOLLOUT)
    // The descriptor registered with epoll (the end's fd or the pidfd), or -1
    // for a process already reaped when it was added.
    int fd = -1;
    // The epoll_event data of its registration: unique in the set's life, so
    // an event of a registration the set no longer knows is recognised.
    uint64_t serial = 0;
  };

  WaitSet() = default;
  absl::Status AddFd(int fd, uint64_t key, Entry entry);
  // The descriptor `entry`'s object holds now (-1 if closed).
  static int CurrentFd(const Entry& entry);
  // A new epoll instance with the live registrations only (see Wait).
  absl::Status Rebuild();
  // True if `entry` is ready without asking the kernel (see wait.cc).
  static bool ReadyInUserSpace(const Entry& entry);

  // The epoll instance the set registers its descriptors with and waits on.
  OwnedFd epoll_;
  // The descriptor of fd(): an epoll instance watching `epoll_` alone. Not
  // `epoll_` itself because Rebuild replaces `epoll_`, and an event loop
  // keeps the descriptor it was given.
  OwnedFd notify_;
  absl::flat_hash_map<uint64_t, Entry> entries_;
  // Registration serial -> key, for the entries with a registration.
  absl::flat_hash_map<uint64_t, uint64_t> serials_;
  uint64_t next_serial_ = 1;
  // Keys found ready in user space by the last scan of every entry, and the
  // readiness epoch (internal/readiness.h) that scan saw; a wait rescans all
  // entries only when the epoch moved or entries were added.
  std::vector<uint64_t> user_ready_;
  uint64_t scanned_epoch_ = 0;
  bool rescan_ = true;
  // epoll_wait's result buffer, kept between waits: room for every entry.
  // Room for epoll_wait's results (struct epoll_event, kept out of this
  // header so that users' builds need not include <sys/epoll.h>).
  std::vector<char> events_;
};

}  // namespace tubo

#endif  // TUBO_WAIT_H_
