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
/// The set refers to what was added; each must stay where it is (not be moved
/// or destroyed) until it is removed or the set is destroyed.
/// Thread-safety: a set must not be used by two threads at once.
#ifndef TUBO_WAIT_H_
#define TUBO_WAIT_H_

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/end.h"
#include "tubo/fd.h"
#include "tubo/process.h"

namespace tubo {

/// @brief A set of ends and processes to wait on together.
class WaitSet {
 public:
  /// Creates an empty set (one epoll descriptor, close-on-exec).
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
  /// Watches `process` for its exit under `key`. A process already reaped is
  /// always ready. Errors as for the `ReadEnd` overload (`Error::kClosed` for
  /// an empty or detached handle).
  absl::Status Add(Process& process, uint64_t key);

  /// Stops watching what was added under `key`. Errors:
  /// `Error::kInvalidArgument` if nothing was.
  absl::Status Remove(uint64_t key);

  /// The number of things watched.
  size_t size() const;

  /// Waits until at least one watched thing is ready or `timeout` passes
  /// (`absl::InfiniteDuration()` waits forever, zero only looks), and returns
  /// the keys of everything ready (empty after a timeout). Nothing is
  /// consumed: the caller then receives from the ends or reaps the processes.
  /// Errors: `Error::kSystem` from `epoll_wait`.
  absl::StatusOr<std::vector<uint64_t>> Wait(absl::Duration timeout = absl::InfiniteDuration());

 private:
  // What one key refers to. Exactly one of the pointers is set.
  struct Entry {
    ReadEnd* read = nullptr;
    DuplexEnd* duplex = nullptr;
    Process* process = nullptr;
    // The descriptor registered with epoll (the end's fd or the pidfd), or -1
    // for a process already reaped when it was added.
    int fd = -1;
  };

  WaitSet() = default;
  absl::Status AddFd(int fd, uint64_t key, Entry entry);
  // True if `entry` is ready without asking the kernel (see wait.cc).
  static bool ReadyInUserSpace(const Entry& entry);

  OwnedFd epoll_;
  absl::flat_hash_map<uint64_t, Entry> entries_;
  // Keys found ready in user space by the last scan of every entry, and the
  // readiness epoch (internal/readiness.h) that scan saw; a wait rescans all
  // entries only when the epoch moved or entries were added.
  std::vector<uint64_t> user_ready_;
  uint64_t scanned_epoch_ = 0;
  bool rescan_ = true;
  // epoll_wait's result buffer, kept between waits: room for every entry.
  std::vector<struct epoll_event> events_;
};

}  // namespace tubo

#endif  // TUBO_WAIT_H_
