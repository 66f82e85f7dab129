// capi/tubo_pool.h: the pool, its options, its start methods and its tasks,
// over tubo::Pool. The worker side is in tubo_pool_worker.cc.
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal.h"
#include "tubo/internal/io.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

struct tubo_worker_start {
  tubo::WorkerStart start;
};

struct tubo_pool_options {
  tubo::PoolOptions options;
};

struct tubo_pool {
  std::unique_ptr<tubo::Pool> pool;
  // The eventfd of tubo_pool_notify_fd, written by the pool's done hook.
  tubo::OwnedFd notify;
  // The tasks of tubo_pool_submit_tagged not yet taken by tubo_pool_take_done,
  // oldest first, with their tags.
  std::mutex tagged_mu;
  std::vector<std::pair<uint64_t, tubo::Task>> tagged;
};

struct tubo_task {
  tubo::Task task;
};

namespace {

// The C++ option a C option sets: its name for messages, its range, and how
// to store a value in range.
int SetOption(tubo::PoolOptions& o, int option, int64_t v, tubo_error** err) {
  constexpr const char* fn = "tubo_pool_options_set";
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  auto out_of_range = [&](const char* name, const char* range) {
    return Fail(err, TUBO_E_INVALID_ARGUMENT,
                std::string(fn) + ": " + name + " is " + std::to_string(v) + " (" + range + ")");
  };
  switch (option) {
    case TUBO_POOL_WORKERS:
      if (v < 0 || v > kIntMax) return out_of_range("TUBO_POOL_WORKERS", "0 or more");
      o.workers = static_cast<int>(v);
      return Ok(err);
    case TUBO_POOL_MAX_IN_FLIGHT:
      if (v < 0) return out_of_range("TUBO_POOL_MAX_IN_FLIGHT", "0 or more");
      o.max_in_flight = static_cast<size_t>(v);
      return Ok(err);
    case TUBO_POOL_PREFETCH:
      if (v < -1 || v > kIntMax) {
        return out_of_range("TUBO_POOL_PREFETCH", "0 or more, or -1 (automatic)");
      }
      o.prefetch = static_cast<int>(v);
      return Ok(err);
    case TUBO_POOL_MAX_TASKS_PER_WORKER:
      if (v < 0 || v > kIntMax) return out_of_range("TUBO_POOL_MAX_TASKS_PER_WORKER", "0 or more");
      o.max_tasks_per_worker = static_cast<int>(v);
      return Ok(err);
    case TUBO_POOL_MAX_WORKER_RSS_BYTES:
      if (v < 0) return out_of_range("TUBO_POOL_MAX_WORKER_RSS_BYTES", "0 or more");
      o.max_worker_rss_bytes = static_cast<uint64_t>(v);
      return Ok(err);
    case TUBO_POOL_RETRIES:
      if (v < 0 || v > kIntMax) return out_of_range("TUBO_POOL_RETRIES", "0 or more");
      o.retries = static_cast<int>(v);
      return Ok(err);
    case TUBO_POOL_TASK_TIMEOUT_MS:
      if (v == 0 || v < -1) {
        return out_of_range("TUBO_POOL_TASK_TIMEOUT_MS", "positive, or -1 for none");
      }
      o.task_timeout = v == -1 ? absl::InfiniteDuration() : absl::Milliseconds(v);
      return Ok(err);
    case TUBO_POOL_MAX_START_FAILURES:
      if (v < 1 || v > kIntMax) return out_of_range("TUBO_POOL_MAX_START_FAILURES", "1 or more");
      o.max_start_failures = static_cast<int>(v);
      return Ok(err);
    case TUBO_POOL_RESTART_DELAY_MS:
      if (v < 0) return out_of_range("TUBO_POOL_RESTART_DELAY_MS", "0 or more");
      o.restart_delay = absl::Milliseconds(v);
      return Ok(err);
    case TUBO_POOL_MAX_RESTART_DELAY_MS:
      if (v < 0) return out_of_range("TUBO_POOL_MAX_RESTART_DELAY_MS", "0 or more");
      o.max_restart_delay = absl::Milliseconds(v);
      return Ok(err);
    default:
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string(fn) + ": unknown option " + std::to_string(option) +
                      " (not a tubo_pool_option)");
  }
}

// A constructor of a start method: checks `out`, then runs `make`.
template <typename Make>
int NewStart(tubo_worker_start** out, const char* fn, tubo_error** err, Make make) {
  return Guard(err, fn, [&] {
    if (out == nullptr) return Null(err, fn, "out");
    return make();
  });
}

// A call on a start method with one string argument.
template <typename F>
int OnStart(tubo_worker_start* s, const char* value, const char* fn, const char* value_name,
            tubo_error** err, F f) {
  return WithHandle(s, err, fn, "s", [&](tubo_worker_start& h) {
    if (value == nullptr) return Null(err, fn, value_name);
    f(h.start, value);
    return Ok(err);
  });
}

}  // namespace

// ------------------------------------------------------------ worker start

TUBO_EXPORT int tubo_worker_start_new_self(tubo_worker_start** out, const char* entry,
                                           tubo_error** err) {
  return NewStart(out, "tubo_worker_start_new_self", err, [&] {
    TUBO_REQUIRE(entry, "tubo_worker_start_new_self");
    *out = new tubo_worker_start{tubo::WorkerStart::Self(entry)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_worker_start_new_exec(tubo_worker_start** out, const char* program,
                                           tubo_error** err) {
  return NewStart(out, "tubo_worker_start_new_exec", err, [&] {
    TUBO_REQUIRE(program, "tubo_worker_start_new_exec");
    *out = new tubo_worker_start{tubo::WorkerStart::Exec(program)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_worker_start_new_fork(tubo_worker_start** out, tubo_pool_fork_fn fn, void* arg,
                                           tubo_error** err) {
  return NewStart(out, "tubo_worker_start_new_fork", err, [&] {
    TUBO_REQUIRE(fn, "tubo_worker_start_new_fork");
    *out = new tubo_worker_start{
        tubo::WorkerStart::Fork([fn, arg](tubo::ReadEnd tasks, tubo::WriteEnd results) {
          tubo_end t{std::move(tasks)};
          tubo_end r{std::move(results)};
          const int code = fn(&t, &r, arg);
          // Flush what the function left buffered, as the C++ ends' destructors do.
          std::visit([](auto& e) { e.Close().IgnoreError(); }, r.v);
          return code;
        })};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_worker_start_new_fork_server(tubo_worker_start** out, const char* entry,
                                                  tubo_fork_server* server, tubo_error** err) {
  return NewStart(out, "tubo_worker_start_new_fork_server", err, [&] {
    TUBO_REQUIRE(entry, "tubo_worker_start_new_fork_server");
    *out = new tubo_worker_start{
        tubo::WorkerStart::ForkServer(entry, server != nullptr ? server->server : nullptr)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_worker_start_arg(tubo_worker_start* s, const char* arg, tubo_error** err) {
  return OnStart(s, arg, "tubo_worker_start_arg", "arg", err,
                 [](tubo::WorkerStart& w, const char* v) { w.Arg(v); });
}

TUBO_EXPORT int tubo_worker_start_env_set(tubo_worker_start* s, const char* name, const char* value,
                                          tubo_error** err) {
  return WithHandle(s, err, "tubo_worker_start_env_set", "s", [&](tubo_worker_start& h) {
    TUBO_REQUIRE(name, "tubo_worker_start_env_set");
    TUBO_REQUIRE(value, "tubo_worker_start_env_set");
    h.start.SetEnv(name, value);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_worker_start_working_directory(tubo_worker_start* s, const char* dir,
                                                    tubo_error** err) {
  return OnStart(s, dir, "tubo_worker_start_working_directory", "dir", err,
                 [](tubo::WorkerStart& w, const char* v) { w.WorkingDirectory(v); });
}

TUBO_EXPORT int tubo_worker_start_capture_stderr(tubo_worker_start* s, int capture,
                                                 tubo_error** err) {
  return WithHandle(s, err, "tubo_worker_start_capture_stderr", "s", [&](tubo_worker_start& h) {
    h.start.CaptureStderr(capture != 0);
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_worker_start_free(tubo_worker_start* s) { DeleteQuietly(s); }

// ----------------------------------------------------------------- options

TUBO_EXPORT int tubo_pool_options_new(tubo_pool_options** out, tubo_error** err) {
  return Guard(err, "tubo_pool_options_new", [&] {
    TUBO_REQUIRE(out, "tubo_pool_options_new");
    *out = new tubo_pool_options{};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_pool_options_set(tubo_pool_options* o, int option, int64_t value,
                                      tubo_error** err) {
  return WithHandle(o, err, "tubo_pool_options_set", "o",
                    [&](tubo_pool_options& h) { return SetOption(h.options, option, value, err); });
}

TUBO_EXPORT void tubo_pool_options_free(tubo_pool_options* o) { DeleteQuietly(o); }

// -------------------------------------------------------------------- pool

TUBO_EXPORT int tubo_pool_new(tubo_pool** out, const tubo_worker_start* start,
                              const tubo_pool_options* options, tubo_error** err) {
  return Guard(err, "tubo_pool_new", [&] {
    TUBO_REQUIRE(out, "tubo_pool_new");
    TUBO_REQUIRE(start, "tubo_pool_new");
    const int efd = tubo::internal::OffStdio(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (efd < 0) {
      const int e = errno;
      return Fail(err, TUBO_E_SYSTEM, std::string("tubo_pool_new: eventfd: ") + strerror(e), e);
    }
    auto handle = std::make_unique<tubo_pool>();
    handle->notify = tubo::OwnedFd(efd);
    absl::StatusOr<std::unique_ptr<tubo::Pool>> pool = tubo::Pool::Create(
        start->start, options != nullptr ? options->options : tubo::PoolOptions());
    if (!pool.ok()) return FromStatus(err, pool.status());
    handle->pool = std::move(*pool);
    // Under the pool's lock, so it never runs after tubo_pool_free cleared it.
    tubo::internal::SetPoolDoneHook(*handle->pool, [efd] {
      const uint64_t one = 1;
      // Only EAGAIN can fail (the counter at its maximum): it is readable then.
      [[maybe_unused]] ssize_t n = ::write(efd, &one, sizeof one);
    });
    *out = handle.release();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_pool_submit(tubo_task** out, tubo_pool* pool, const void* data, size_t len,
                                 int64_t timeout_ms, tubo_error** err) {
  constexpr const char* fn = "tubo_pool_submit";
  return WithHandle(pool, err, fn, "pool", [&](tubo_pool& p) {
    TUBO_REQUIRE(out, fn);
    if (data == nullptr && len != 0) return Null(err, fn, "data");
    if (timeout_ms < -1) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string(fn) + ": timeout_ms is " + std::to_string(timeout_ms) +
                      " (-1 for forever, 0 or more milliseconds)");
    }
    absl::StatusOr<tubo::Task> task =
        p.pool->Submit(std::string_view(static_cast<const char*>(data), len), Ms(timeout_ms));
    if (!task.ok()) return FromStatus(err, task.status());
    *out = new tubo_task{std::move(*task)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_pool_submit_tagged(tubo_pool* pool, const void* data, const size_t* lens,
                                        const uint64_t* tags, size_t n, int64_t timeout_ms,
                                        size_t* submitted, tubo_error** err) {
  constexpr const char* fn = "tubo_pool_submit_tagged";
  if (submitted != nullptr) *submitted = 0;
  return WithHandle(pool, err, fn, "pool", [&](tubo_pool& p) {
    TUBO_REQUIRE(submitted, fn);
    if (n != 0 && lens == nullptr) return Null(err, fn, "lens");
    if (n != 0 && tags == nullptr) return Null(err, fn, "tags");
    if (timeout_ms < -1) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string(fn) + ": timeout_ms is " + std::to_string(timeout_ms) +
                      " (-1 for forever, 0 or more milliseconds)");
    }
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) total += lens[i];
    if (data == nullptr && total != 0) return Null(err, fn, "data");
    const char* at = static_cast<const char*>(data);
    std::vector<std::pair<uint64_t, tubo::Task>> made;
    made.reserve(n);
    int rc = TUBO_OK;
    for (size_t i = 0; i < n; ++i) {
      absl::StatusOr<tubo::Task> task =
          p.pool->Submit(std::string_view(at, lens[i]), Ms(i == 0 ? timeout_ms : 0));
      if (!task.ok()) {
        // A later task that finds the window full, or any error after the
        // first task went in, ends the batch: the next call reports it.
        if (i == 0) rc = FromStatus(err, task.status());
        break;
      }
      made.emplace_back(tags[i], std::move(*task));
      at += lens[i];
    }
    {
      std::lock_guard<std::mutex> lock(p.tagged_mu);
      for (auto& t : made) p.tagged.push_back(std::move(t));
    }
    *submitted = made.size();
    return rc == TUBO_OK ? Ok(err) : rc;
  });
}

namespace {

// Appends `n` bytes at `data` to `out`.
void Append(std::string& out, const void* data, size_t n) {
  out.append(static_cast<const char*>(data), n);
}

// Appends the record of tubo_pool_take_done for one done task.
void AppendOutcome(std::string& out, uint64_t tag, const tubo::Task& task) {
  absl::StatusOr<tubo::Bytes> result = task.Result();
  int32_t code = TUBO_OK;
  std::string message;
  std::string_view body;
  if (result.ok()) {
    body = std::string_view(result->data(), result->size());
  } else {
    tubo_error* e = nullptr;
    code = FromStatus(&e, result.status());
    message = e != nullptr ? e->message : std::string();
    tubo_error_free(e);
    body = message;
  }
  const uint64_t len = body.size();
  Append(out, &tag, sizeof tag);
  Append(out, &code, sizeof code);
  Append(out, &len, sizeof len);
  out.append(body);
}

}  // namespace

TUBO_EXPORT int tubo_pool_take_done(tubo_pool* pool, tubo_bytes** out, size_t* count,
                                    size_t* pending, tubo_error** err) {
  constexpr const char* fn = "tubo_pool_take_done";
  if (out != nullptr) *out = nullptr;
  if (count != nullptr) *count = 0;
  return WithHandle(pool, err, fn, "pool", [&](tubo_pool& p) {
    TUBO_REQUIRE(out, fn);
    TUBO_REQUIRE(count, fn);
    std::vector<std::pair<uint64_t, tubo::Task>> done;
    {
      std::lock_guard<std::mutex> lock(p.tagged_mu);
      auto keep = p.tagged.begin();
      for (auto it = p.tagged.begin(); it != p.tagged.end(); ++it) {
        if (it->second.done()) {
          done.push_back(std::move(*it));
        } else {
          if (keep != it) *keep = std::move(*it);
          ++keep;
        }
      }
      p.tagged.erase(keep, p.tagged.end());
      if (pending != nullptr) *pending = p.tagged.size();
    }
    if (done.empty()) return Ok(err);
    std::string records;
    for (const auto& [tag, task] : done) AppendOutcome(records, tag, task);
    auto* b = static_cast<tubo_bytes*>(std::malloc(sizeof(tubo_bytes)));
    if (b == nullptr) throw std::bad_alloc();
    auto* copy = static_cast<uint8_t*>(std::malloc(records.size()));
    if (copy == nullptr) {
      std::free(b);
      throw std::bad_alloc();
    }
    std::memcpy(copy, records.data(), records.size());
    b->data = copy;
    b->len = records.size();
    *out = b;
    *count = done.size();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_pool_close(tubo_pool* pool, tubo_error** err) {
  return WithHandle(pool, err, "tubo_pool_close", "pool",
                    [&](tubo_pool& p) { return FromStatus(err, p.pool->Close()); });
}

TUBO_EXPORT void tubo_pool_terminate(tubo_pool* pool) {
  if (pool == nullptr) return;
  try {
    pool->pool->Terminate();
  } catch (...) {
  }
}

TUBO_EXPORT void tubo_pool_free(tubo_pool* pool) {
  if (pool == nullptr) return;
  try {
    pool->pool->Terminate();
    tubo::internal::SetPoolDoneHook(*pool->pool, nullptr);
  } catch (...) {
  }
  DeleteQuietly(pool);
}

TUBO_EXPORT int tubo_pool_workers(const tubo_pool* pool) {
  return pool == nullptr ? 0 : pool->pool->options().workers;
}

TUBO_EXPORT size_t tubo_pool_worker_pids(const tubo_pool* pool, int* pids, size_t capacity) {
  if (pool == nullptr) return 0;
  try {
    const std::vector<pid_t> live = pool->pool->worker_pids();
    if (pids != nullptr) {
      for (size_t i = 0; i < live.size() && i < capacity; ++i) pids[i] = live[i];
    }
    return live.size();
  } catch (...) {
    return 0;
  }
}

TUBO_EXPORT int tubo_pool_notify_fd(const tubo_pool* pool) {
  return pool == nullptr ? -1 : pool->notify.get();
}

// ------------------------------------------------------------------- tasks

TUBO_EXPORT uint64_t tubo_task_id(const tubo_task* task) {
  return task == nullptr ? 0 : task->task.id();
}

TUBO_EXPORT int tubo_task_done(const tubo_task* task) {
  return task != nullptr && task->task.done() ? 1 : 0;
}

TUBO_EXPORT int tubo_task_wait(const tubo_task* task, int64_t timeout_ms) {
  if (task == nullptr) return 0;
  try {
    return task->task.Wait(Ms(timeout_ms)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

TUBO_EXPORT int tubo_task_result(tubo_bytes** out, const tubo_task* task, tubo_error** err) {
  constexpr const char* fn = "tubo_task_result";
  return Guard(err, fn, [&] {
    TUBO_REQUIRE(out, fn);
    TUBO_REQUIRE(task, fn);
    absl::StatusOr<tubo::Bytes> result = task->task.Result();
    if (!result.ok()) return FromStatus(err, result.status());
    auto* b = static_cast<tubo_bytes*>(std::malloc(sizeof(tubo_bytes)));
    if (b == nullptr) throw std::bad_alloc();
    b->len = result->size();
    b->data = reinterpret_cast<const uint8_t*>(result->Release());
    *out = b;
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_task_fd(int* out, const tubo_task* task, tubo_error** err) {
  constexpr const char* fn = "tubo_task_fd";
  return Guard(err, fn, [&] {
    TUBO_REQUIRE(out, fn);
    TUBO_REQUIRE(task, fn);
    absl::StatusOr<tubo::BorrowedFd> fd = task->task.fd();
    if (!fd.ok()) return FromStatus(err, fd.status());
    *out = fd->get();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_wait_set_add_task(tubo_wait_set* set, const tubo_task* task, uint64_t key,
                                       tubo_error** err) {
  constexpr const char* fn = "tubo_wait_set_add_task";
  return Guard(err, fn, [&] {
    TUBO_REQUIRE(set, fn);
    TUBO_REQUIRE(task, fn);
    return FromStatus(err, set->set.Add(task->task, key));
  });
}

TUBO_EXPORT int tubo_task_cancel(tubo_task* task) {
  if (task == nullptr) return 0;
  try {
    return task->task.Cancel() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

TUBO_EXPORT void tubo_task_free(tubo_task* task) { DeleteQuietly(task); }
