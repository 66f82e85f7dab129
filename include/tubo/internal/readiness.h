// Internal: tells WaitSets that something may have become ready in user space.
// Not part of the public API.
//
// A WaitSet must report an end that holds read-ahead (or a sticky error, or
// was closed) and a process handle that no longer owns a child, although
// epoll shows neither. Rather than look at every watched entry on every wait,
// a set rescans only after this counter moved. It is bumped in two places
// only: by WatchedFd (internal/watched_fd.h), the descriptor of every end and
// process handle, whenever it is closed, moved, released or reset (a reap);
// and by FrameReader after a receive that leaves bytes read ahead or fails
// for good. Between bumps, a wait costs in proportion to what is ready.
#ifndef TUBO_INTERNAL_READINESS_H_
#define TUBO_INTERNAL_READINESS_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <atomic>
#include <cstdint>

namespace tubo {
namespace internal {

inline std::atomic<uint64_t> user_space_readiness_epoch{0};

// Records that some watched thing may have become ready in user space.
inline void NoteUserSpaceReadiness() {
  user_space_readiness_epoch.fetch_add(1, std::memory_order_relaxed);
}

inline uint64_t UserSpaceReadinessEpoch() {
  return user_space_readiness_epoch.load(std::memory_order_relaxed);
}

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_READINESS_H_
