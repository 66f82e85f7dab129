// A pool's supervisor thread (see internal/pool_supervisor.h).
//
// Everything about the workers happens on this one thread: starting them,
// sending tasks, reading results, reaping. The pool's mutex is taken only to
// move tasks between the shared queue and a worker and to give a task its
// outcome, never across a system call that can block.
#include "tubo/internal/pool_supervisor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/pool_frames.h"
#include "tubo/internal/pool_launch.h"
#include "tubo/pipe.h"

namespace tubo {
namespace internal {
namespace {

// WaitSet keys: the wake pipe, then four per worker (serial * 4 + what).
constexpr uint64_t kWakeKey = 1;
enum : uint64_t { kResults = 0, kExit = 1, kStderr = 2, kWritable = 3 };
uint64_t Key(uint64_t serial, uint64_t what) { return serial * 4 + what; }

constexpr size_t kStderrTail = 4096;

// True if `fd` has something to read (or is at end of stream) right now.
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

// The resident set size of `pid` in bytes (/proc/PID/statm), or 0 if unknown.
uint64_t ResidentBytes(pid_t pid) {
  std::ifstream statm(absl::StrCat("/proc/", pid, "/statm"));
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

absl::Status Cancelled(absl::string_view why) {
  return WithError(absl::CancelledError(why), Error::kCancelled);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PoolSupervisor>> PoolSupervisor::Start(
    WorkerStart start, const PoolOptions& options, std::shared_ptr<PoolCore> core) {
  absl::StatusOr<Pipe> wake = Pipe::Create();
  if (!wake.ok()) return wake.status();
  absl::StatusOr<WaitSet> waits = WaitSet::Create();
  if (!waits.ok()) return waits.status();
  absl::StatusOr<OwnedFd> wake_write = wake->writer.Release();
  if (!wake_write.ok()) return wake_write.status();
  core->wake_write = std::move(*wake_write);
  std::unique_ptr<PoolSupervisor> supervisor(new PoolSupervisor(
      std::move(start), options, std::move(core), std::move(wake->reader), std::move(*waits)));
  absl::Status added = supervisor->waits_.Add(supervisor->wake_read_, kWakeKey);
  if (!added.ok()) return added;
  try {
    supervisor->thread_ = std::thread([s = supervisor.get()] { s->Run(); });
  } catch (const std::system_error& e) {
    return SystemError(e.code().value(), "pool: starting the supervisor thread");
  }
  return supervisor;
}

PoolSupervisor::PoolSupervisor(WorkerStart start, const PoolOptions& options,
                               std::shared_ptr<PoolCore> core, ReadEnd wake_read, WaitSet waits)
    : start_(std::move(start)),
      options_(options),
      core_(std::move(core)),
      wake_read_(std::move(wake_read)),
      waits_(std::move(waits)),
      restart_delay_(options.restart_delay) {}

PoolSupervisor::~PoolSupervisor() { Join(); }

void PoolSupervisor::Join() {
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void PoolSupervisor::Run() {
  for (;;) {
    bool closing;
    bool terminating;
    bool work_left;
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->NotifyDone();
      closing = core_->closing;
      terminating = core_->terminating;
      work_left = core_->in_flight > 0;
    }
    if (terminating) {
      Terminate();
      return;
    }
    if (closing && !work_left) {
      // Everything submitted is done: let every worker go (end of stream on
      // its tasks channel), and stop once all are reaped.
      for (auto& w : workers_) Retire(*w);
      if (workers_.empty()) return;
    } else {
      StartWorkers(closing);
      Dispatch();
    }
    absl::Duration timeout = NextTimeout();
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->NotifyDone();
      core_->free_slots = FreeSlots();
      core_->supervisor_waiting = true;
      // A task submitted since Dispatch did not wake this thread: look again.
      if (core_->free_slots > 0 && !core_->pending.empty()) timeout = absl::ZeroDuration();
    }
    absl::StatusOr<std::vector<uint64_t>> ready = waits_.Wait(timeout);
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->supervisor_waiting = false;
    }
    round_time_ = absl::InfinitePast();  // read again on first use
    if (!ready.ok()) {
      // epoll_wait cannot fail on a valid set but for EINTR (retried below it);
      // should it, do not spin.
      absl::SleepFor(absl::Milliseconds(10));
      continue;
    }
    for (uint64_t key : *ready) {
      if (key == kWakeKey) {
        HandleWake();
        continue;
      }
      Worker* w = Find(key / 4);
      if (w == nullptr) continue;  // gone since (reaped earlier in this round)
      switch (key % 4) {
        case kResults:
          ReadResults(*w);
          break;
        case kExit:
          HandleExit(*w);
          break;
        case kStderr:
          ReadStderr(*w);
          break;
        case kWritable:
          Flush(*w);
          break;
      }
    }
    CheckTimeouts();
  }
}

void PoolSupervisor::HandleWake() {
  std::lock_guard<std::mutex> lock(core_->mu);
  char byte;
  if (core_->wake_pending && ::read(wake_read_.fd().get(), &byte, 1) == 1) {
    core_->wake_pending = false;
  }
}

PoolSupervisor::Worker* PoolSupervisor::Find(uint64_t serial) {
  for (auto& w : workers_) {
    if (w->serial == serial) return w.get();
  }
  return nullptr;
}

absl::Duration PoolSupervisor::NextTimeout() const {
  absl::Time deadline = absl::InfiniteFuture();
  // No timeout and no restart pending (the usual case): no clock read.
  if (options_.task_timeout == absl::InfiniteDuration() && next_start_ == absl::InfinitePast()) {
    return absl::InfiniteDuration();
  }
  const absl::Time now = absl::Now();
  if (options_.task_timeout != absl::InfiniteDuration()) {
    for (const auto& w : workers_) {
      if (w->ready && !w->killed && !w->sent.empty()) {
        deadline = std::min(deadline, w->front_since + options_.task_timeout);
      }
    }
  }
  if (next_start_ > now) deadline = std::min(deadline, next_start_);
  if (deadline == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return std::max(deadline - now, absl::ZeroDuration());
}

void PoolSupervisor::StartWorkers(bool closing) {
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (!core_->broken.ok()) return;
    if (closing && core_->pending.empty()) return;
  }
  int live = 0;
  for (const auto& w : workers_) live += (!w->retiring && !w->killed && !w->send_failed);
  while (live < options_.workers &&
         (next_start_ == absl::InfinitePast() || absl::Now() >= next_start_)) {
    absl::Status started = StartWorker();
    if (!started.ok()) {
      StartFailed(absl::StrCat("worker (", start_.Describe(),
                               ") could not be started: ", started.message()));
      return;
    }
    ++live;
  }
}

absl::Status PoolSupervisor::StartWorker() {
  absl::StatusOr<LaunchedWorker> launched = LaunchWorker(start_);
  if (!launched.ok()) return launched.status();
  auto w = std::make_unique<Worker>();
  w->serial = next_serial_++;
  w->process = std::move(launched->process);
  w->tasks = std::move(launched->tasks);
  w->results = std::move(launched->results);
  w->err = std::move(launched->err);
  // Task frames collect here during a round and leave in one write (Dispatch).
  absl::Status sized = w->tasks.SetSendBufferSize(kDefaultSendBufferSize);
  if (!sized.ok()) return sized;
  absl::Status added = waits_.Add(w->results, Key(w->serial, kResults));
  if (added.ok()) added = waits_.Add(w->process, Key(w->serial, kExit));
  if (added.ok() && w->err.is_open()) added = waits_.Add(w->err, Key(w->serial, kStderr));
  if (!added.ok()) {
    // Cannot watch it: stop it (the process destructor kills and reaps).
    for (uint64_t what : {kResults, kExit, kStderr}) {
      waits_.Remove(Key(w->serial, what)).IgnoreError();
    }
    return added;
  }
  workers_.push_back(std::move(w));
  round_time_ = absl::InfinitePast();  // a start takes a while: read the clock again
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    ++core_->workers_started;
  }
  PublishPids();
  return absl::OkStatus();
}

void PoolSupervisor::StartFailed(const std::string& why) {
  last_failure_ = why;
  ++start_failures_;
  if (start_failures_ >= options_.max_start_failures) {
    absl::Status broken = WithError(
        absl::UnavailableError(absl::StrCat("pool: gave up after ", start_failures_,
                                            " consecutive worker start failures; the last: ", why)),
        Error::kSpawn);
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->broken = broken;
    while (std::shared_ptr<PoolTask> task = core_->TakePending()) core_->Finish(*task, broken);
    core_->cv.notify_all();
    return;
  }
  next_start_ = absl::Now() + restart_delay_;
  restart_delay_ = std::min(restart_delay_ * 2, options_.max_restart_delay);
}

bool PoolSupervisor::Sendable(const Worker& w) const {
  if (!w.ready || w.retiring || w.killed || w.send_failed) return false;
  if (w.tasks.unsent_bytes() > w.batched) return false;  // a committed rest waits
  // Its socket was full (a task was refused, or a rest is held): nothing more
  // until the wait set says it is writable (else the round would spin).
  if (w.writable_watched) return false;
  return options_.max_tasks_per_worker == 0 || w.sent_total < options_.max_tasks_per_worker;
}

absl::Time PoolSupervisor::RoundTime() {
  if (round_time_ == absl::InfinitePast()) round_time_ = absl::Now();
  return round_time_;
}

size_t PoolSupervisor::Depth() const {
  if (options_.prefetch != PoolOptions::kAutoPrefetch) {
    return static_cast<size_t>(1 + options_.prefetch);
  }
  // About a millisecond of work queued behind the running task: a worker
  // that has its next tasks at hand never waits for the pool, while a slow
  // task holds back little. Until a result says otherwise, one.
  constexpr absl::Duration kQueued = absl::Milliseconds(1);
  if (mean_running_ == absl::ZeroDuration()) return 2;
  const int64_t fit = absl::ToInt64Nanoseconds(kQueued) /
                      std::max<int64_t>(1, absl::ToInt64Nanoseconds(mean_running_));
  return static_cast<size_t>(1 + std::clamp<int64_t>(fit, 1, PoolOptions::kMaxAutoPrefetch));
}

void PoolSupervisor::NoteRunningTime(absl::Duration took) {
  mean_running_ = mean_running_ == absl::ZeroDuration()
                      ? std::max(took, absl::Nanoseconds(1))
                      : (mean_running_ * 7 + std::max(took, absl::Nanoseconds(1))) / 8;
}

size_t PoolSupervisor::FreeSlots() const {
  const size_t depth = Depth();
  size_t free = 0;
  for (const auto& w : workers_) {
    if (Sendable(*w) && w->sent.size() < depth) free += depth - w->sent.size();
  }
  return free;
}

void PoolSupervisor::Dispatch() {
  // Round by round, so that N idle workers get one task each before any gets
  // a second one to read ahead. The frames for one worker collect in its
  // send buffer and leave together (SendBatch): one write per worker.
  const size_t max_depth = Depth();
  for (size_t depth = 1; depth <= max_depth; ++depth) {
    for (auto& w : workers_) {
      if (w->sent.size() < depth) SendTo(*w);
    }
    // Every depth while tasks wait: a worker already two deep still has
    // free slots (FreeSlots counts them; stopping early would make Run spin).
    std::lock_guard<std::mutex> lock(core_->mu);
    if (core_->pending.empty()) break;
  }
  for (auto& w : workers_) SendBatch(*w);
  for (auto& w : workers_) {
    if (options_.max_tasks_per_worker > 0 && w->sent_total >= options_.max_tasks_per_worker &&
        w->sent.empty()) {
      Retire(*w);
    }
  }
}

bool PoolSupervisor::SendTo(Worker& w) {
  if (!Sendable(w)) return false;
  std::shared_ptr<PoolTask> task;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    task = core_->TakePending();
  }
  if (task == nullptr) return false;
  std::string frame = EncodePoolTask(task->id, task->input);
  // A header and the frame: what the send buffer takes for it.
  const size_t size = frame.size() + 4;
  if (w.batched + size <= w.tasks.send_buffer_size()) {
    // Into the send buffer: it fits, so Send only copies it.
    absl::Status buffered = w.tasks.Send(frame);
    if (!buffered.ok()) {
      std::deque<std::shared_ptr<PoolTask>> back{std::move(task)};
      Requeue(back);
      w.send_failed = true;
      return false;
    }
    w.batched += size;
    if (w.sent.empty()) w.front_since = RoundTime();
    w.sent.push_back(std::move(task));
    ++w.sent_total;
    return true;
  }
  if (w.batched > 0) {
    // Too big to join this batch: it goes first in the next round.
    std::deque<std::shared_ptr<PoolTask>> back{std::move(task)};
    Requeue(back);
    return false;
  }
  absl::StatusOr<bool> accepted = w.tasks.TrySend(frame);
  if (!accepted.ok() || !*accepted) {
    std::deque<std::shared_ptr<PoolTask>> back{std::move(task)};
    Requeue(back);
    if (!accepted.ok()) {
      w.send_failed = true;  // its reader is gone: it is dying; its exit tells
    } else if (!w.writable_watched) {
      w.writable_watched = waits_.Add(w.tasks, Key(w.serial, kWritable)).ok();
    }
    return false;
  }
  if (w.sent.empty()) w.front_since = RoundTime();
  w.sent.push_back(std::move(task));
  ++w.sent_total;
  if (w.tasks.unsent_bytes() > 0 && !w.writable_watched) {
    w.writable_watched = waits_.Add(w.tasks, Key(w.serial, kWritable)).ok();
  }
  return true;
}

void PoolSupervisor::SendBatch(Worker& w) {
  if (w.batched == 0) return;
  w.batched = 0;
  absl::Status flushed = w.tasks.FlushFor(absl::ZeroDuration());
  if (!flushed.ok() && ErrorOf(flushed) != Error::kTimeout) {
    w.send_failed = true;  // its reader is gone: it is dying; its exit tells
    return;
  }
  if (w.tasks.unsent_bytes() > 0 && !w.writable_watched) {
    w.writable_watched = waits_.Add(w.tasks, Key(w.serial, kWritable)).ok();
  }
}

void PoolSupervisor::Flush(Worker& w) {
  absl::Status flushed = w.tasks.FlushFor(absl::ZeroDuration());
  if (flushed.ok() || ErrorOf(flushed) != Error::kTimeout) {
    if (!flushed.ok()) w.send_failed = true;
    waits_.Remove(Key(w.serial, kWritable)).IgnoreError();
    w.writable_watched = false;
    if (w.retiring && w.tasks.is_open() && w.tasks.unsent_bytes() == 0) {
      w.tasks.Close().IgnoreError();
    }
  }
}

void PoolSupervisor::Retire(Worker& w) {
  w.retiring = true;
  if (!w.tasks.is_open() || w.tasks.unsent_bytes() > 0) return;  // closed after the flush
  if (w.writable_watched) {
    waits_.Remove(Key(w.serial, kWritable)).IgnoreError();
    w.writable_watched = false;
  }
  w.tasks.Close().IgnoreError();  // nothing held: does not block
}

void PoolSupervisor::Requeue(std::deque<std::shared_ptr<PoolTask>>& tasks) {
  std::lock_guard<std::mutex> lock(core_->mu);
  // Older than anything pending: to the front, in their order.
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it) {
    if ((*it)->phase == PoolTask::Phase::kDone) continue;
    (*it)->phase = PoolTask::Phase::kPending;
    core_->pending.push_front(std::move(*it));
  }
  tasks.clear();
}

void PoolSupervisor::ReadResults(Worker& w, bool drain) {
  for (;;) {
    absl::StatusOr<std::optional<Bytes>> frame = w.results.RecvFor(absl::ZeroDuration());
    if (!frame.ok()) {
      if (ErrorOf(frame.status()) == Error::kTimeout) return;  // nothing more for now
      // A torn frame (the worker died writing it) or a broken stream: stop
      // reading; its exit decides.
      waits_.Remove(Key(w.serial, kResults)).IgnoreError();
      if (ErrorOf(frame.status()) != Error::kTruncated) {
        Kill(w, absl::StrCat("its results channel broke: ", frame.status().message()));
      }
      return;
    }
    if (!frame->has_value()) {  // end of stream: its exit follows
      waits_.Remove(Key(w.serial, kResults)).IgnoreError();
      return;
    }
    HandleResult(w, (*frame)->view());
    if (w.killed) return;
    // What one read gave is parsed; asking the kernel again would find
    // nothing most of the time (the wait set reports what comes later).
    if (!drain && !EndReadiness::RecvReady(w.results)) return;
  }
}

void PoolSupervisor::HandleResult(Worker& w, std::string_view bytes) {
  absl::StatusOr<PoolResultFrame> frame = DecodePoolResult(bytes);
  if (!frame.ok()) {
    Kill(w, std::string(frame.status().message()));
    return;
  }
  if (frame->status == PoolStatus::kReady) {
    if (w.ready) {
      Kill(w, "it sent a second ready frame");
      return;
    }
    w.ready = true;
    start_failures_ = 0;
    restart_delay_ = options_.restart_delay;
    return;
  }
  if (!w.ready) {
    Kill(w, absl::StrCat("it sent a result for task ", frame->id, " before its ready frame"));
    return;
  }
  if (w.sent.empty() || w.sent.front()->id != frame->id) {
    Kill(w, absl::StrCat(
                "it sent a result for task ", frame->id, ", expected ",
                w.sent.empty() ? std::string("none") : absl::StrCat("task ", w.sent.front()->id)));
    return;
  }
  std::shared_ptr<PoolTask> task = std::move(w.sent.front());
  w.sent.pop_front();
  const absl::Time now = RoundTime();
  NoteRunningTime(now - w.front_since);
  w.front_since = now;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (frame->status == PoolStatus::kDone) {
      core_->Finish(*task, Bytes::Copy(frame->body), /*notify=*/false);
    } else {
      core_->Finish(*task,
                    WithError(absl::AbortedError(std::string(frame->body)), Error::kTaskFailed),
                    /*notify=*/false);
    }
  }
  if (options_.max_worker_rss_bytes > 0 &&
      ResidentBytes(w.process.pid()) > options_.max_worker_rss_bytes) {
    Retire(w);
  }
  if (options_.max_tasks_per_worker > 0 && w.sent_total >= options_.max_tasks_per_worker &&
      w.sent.empty()) {
    Retire(w);
  }
}

void PoolSupervisor::ReadStderr(Worker& w) {
  char buf[4096];
  while (w.err.is_open() && Readable(w.err.fd().get())) {
    ssize_t n = ::read(w.err.fd().get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      waits_.Remove(Key(w.serial, kStderr)).IgnoreError();
      w.err.Close().IgnoreError();
      return;
    }
    // Passed on to this process's standard error, best effort.
    for (ssize_t done = 0; done < n;) {
      ssize_t m = ::write(STDERR_FILENO, buf + done, n - done);
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) break;
      done += m;
    }
    w.err_tail.append(buf, n);
    if (w.err_tail.size() > kStderrTail) w.err_tail.erase(0, w.err_tail.size() - kStderrTail);
  }
}

void PoolSupervisor::Kill(Worker& w, std::string violation) {
  if (w.violation.empty()) w.violation = std::move(violation);
  absl::Status killed = w.process.leads_group() ? w.process.KillGroup() : w.process.Kill();
  if (!killed.ok()) w.process.Kill().IgnoreError();
  waits_.Remove(Key(w.serial, kResults)).IgnoreError();
}

void PoolSupervisor::CheckTimeouts() {
  if (options_.task_timeout == absl::InfiniteDuration()) return;
  const absl::Time now = absl::Now();
  for (auto& w : workers_) {
    if (!w->ready || w->killed || w->sent.empty()) continue;
    if (now < w->front_since + options_.task_timeout) continue;
    std::shared_ptr<PoolTask> task = std::move(w->sent.front());
    w->sent.pop_front();
    absl::Status timeout = WithError(
        absl::DeadlineExceededError(absl::StrCat(
            "task ", task->id, " timed out after ", absl::FormatDuration(options_.task_timeout),
            " on worker pid ", w->process.pid(), "; the worker and its process group were killed")),
        Error::kTimeout);
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->Finish(*task, timeout);
    }
    Kill(*w, "");
    w->killed = true;
  }
}

void PoolSupervisor::HandleExit(Worker& w) {
  // Results it wrote before it died count: read every one that is there.
  if (!w.killed && w.violation.empty()) ReadResults(w, /*drain=*/true);
  if (w.err.is_open()) ReadStderr(w);
  absl::StatusOr<ExitStatus> status = w.process.Wait();  // ready: does not block
  const std::string how = status.ok() ? status->ToString() : std::string(status.status().message());
  const pid_t pid = w.process.pid();
  for (uint64_t what : {kResults, kExit, kStderr, kWritable}) {
    waits_.Remove(Key(w.serial, what)).IgnoreError();
  }
  if (!w.ready) {
    std::string why = absl::StrCat("worker pid ", pid, " (", start_.Describe(), ") ", how,
                                   " before it was ready");
    if (!w.violation.empty()) absl::StrAppend(&why, " (killed: ", w.violation, ")");
    if (!w.err_tail.empty()) absl::StrAppend(&why, "; its stderr ended with: ", w.err_tail);
    Requeue(w.sent);
    StartFailed(why);
  } else if (!w.killed && !w.sent.empty()) {
    // The oldest task it had not answered is the one it was running.
    std::shared_ptr<PoolTask> task = std::move(w.sent.front());
    w.sent.pop_front();
    if (w.violation.empty() && task->deaths < options_.retries) {
      ++task->deaths;
      w.sent.push_front(std::move(task));  // runs again, first, on another worker
    } else {
      std::string message =
          w.violation.empty()
              ? absl::StrCat("task ", task->id, ": worker pid ", pid, " died running it: ", how)
              : absl::StrCat("task ", task->id, ": worker pid ", pid,
                             " was killed for breaking the pool protocol (", w.violation,
                             "): ", how);
      if (task->deaths > 0) absl::StrAppend(&message, " (after ", task->deaths, " retries)");
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->Finish(*task, WithError(absl::AbortedError(std::move(message)), Error::kWorkerDied));
    }
    Requeue(w.sent);  // they never started: they run elsewhere, once
  } else {
    Requeue(w.sent);
  }
  workers_.erase(
      std::find_if(workers_.begin(), workers_.end(), [&](const auto& p) { return p.get() == &w; }));
  PublishPids();
}

void PoolSupervisor::Terminate() {
  for (auto& w : workers_) {
    if (w->process.leads_group()) w->process.KillGroup().IgnoreError();
    w->process.Kill().IgnoreError();
  }
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    const absl::Status cancelled = Cancelled("pool terminated before the task finished");
    for (auto& w : workers_) {
      for (auto& task : w->sent) core_->Finish(*task, cancelled);
    }
    while (std::shared_ptr<PoolTask> task = core_->TakePending()) {
      core_->Finish(*task, cancelled);
    }
  }
  for (auto& w : workers_) {
    for (uint64_t what : {kResults, kExit, kStderr, kWritable}) {
      waits_.Remove(Key(w->serial, what)).IgnoreError();
    }
    w->process.Wait().IgnoreError();  // killed: reaped at once
  }
  workers_.clear();
  PublishPids();
}

void PoolSupervisor::PublishPids() {
  std::vector<pid_t> pids;
  for (const auto& w : workers_) pids.push_back(w->process.pid());
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->pids = std::move(pids);
}

}  // namespace internal
}  // namespace tubo
