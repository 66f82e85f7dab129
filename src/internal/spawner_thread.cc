// The spawner thread (tubo/internal/spawner_thread.h).
#include "tubo/internal/spawner_thread.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tubo {
namespace internal {
namespace {

// The thread that creates children for Spawn calls made on any thread other
// than the main one, when the child must die with its parent: the kernel's
// parent-death signal follows the *thread* that created the child, and this
// one lives as long as the process. All signals stay blocked in it, as the
// clone below needs. Created on first use; never exits.
class SpawnerThread {
 public:
  // Runs `job` on the thread and returns once it ran; false (with errno-like
  // `*err`) if the thread cannot be created.
  static bool Run(const std::function<void()>& job, int* err) {
    return Current()->Submit(job, err);
  }

  // True if this process (not a forked parent of it) has its spawner thread.
  static bool Running() {
    SpawnerThread* s = instance.load(std::memory_order_acquire);
    return s != nullptr && s->owner_ == ::getpid() && s->started();
  }

 private:
  explicit SpawnerThread(pid_t owner) : owner_(owner) {}

  // This process's spawner. A forked child inherits the parent's object but
  // not its thread (and maybe a locked mutex): it gets a new one, and the
  // inherited one is left alone.
  static SpawnerThread* Current() {
    static std::mutex create_mu;
    std::lock_guard<std::mutex> lock(create_mu);
    SpawnerThread* s = instance.load(std::memory_order_acquire);
    if (s == nullptr || s->owner_ != ::getpid()) {
      s = new SpawnerThread(::getpid());
      instance.store(s, std::memory_order_release);
    }
    return s;
  }

  bool started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

  static inline std::atomic<SpawnerThread*> instance{nullptr};
  const pid_t owner_;

  bool Submit(const std::function<void()>& job, int* err) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!started_) {
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);  // inherited by the new thread
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_t thread;
      const int e = ::pthread_create(&thread, &attr, &SpawnerThread::Loop, this);
      pthread_attr_destroy(&attr);
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      if (e != 0) {
        *err = e;
        return false;
      }
      started_ = true;
    }
    // One job at a time: the next caller waits for the slot.
    idle_.wait(lock, [this] { return job_ == nullptr; });
    job_ = &job;
    const uint64_t ticket = ++submitted_;
    work_.notify_all();
    done_.wait(lock, [this, ticket] { return finished_ >= ticket; });
    return true;
  }

  static void* Loop(void* self) {
    static_cast<SpawnerThread*>(self)->Serve();
    return nullptr;
  }

  void Serve() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_.wait(lock, [this] { return job_ != nullptr; });
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      job_ = nullptr;
      ++finished_;
      done_.notify_all();
      idle_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable work_, done_, idle_;
  const std::function<void()>* job_ = nullptr;
  uint64_t submitted_ = 0;
  uint64_t finished_ = 0;
  bool started_ = false;
};

}  // namespace

bool RunOnSpawnerThread(const std::function<void()>& job, int* err) {
  return SpawnerThread::Run(job, err);
}

bool SpawnerThreadRunning() { return SpawnerThread::Running(); }

}  // namespace internal
}  // namespace tubo
