// Internal: the thread that creates exec and self children for Spawn calls
// made on any thread other than the main one, when the child must die with
// its parent (see tubo/internal/spawner_thread.cc for why).
#ifndef TUBO_INTERNAL_SPAWNER_THREAD_H_
#define TUBO_INTERNAL_SPAWNER_THREAD_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <functional>

namespace tubo {
namespace internal {

// Runs `job` on the spawner thread (started on first use, all signals
// blocked, never exits) and returns once it ran. False, with the
// pthread_create errno in `*err`, if the thread cannot be created.
bool RunOnSpawnerThread(const std::function<void()>& job, int* err);

// True if this process runs its spawner thread. Fork does not count it among
// the threads that make forking unsafe: it holds no lock a forked callable
// could need (only its own, and a forked child gets a spawner of its own).
bool SpawnerThreadRunning();

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_SPAWNER_THREAD_H_
