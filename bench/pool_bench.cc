// pool_bench: tubo's worker pool (C++ API), for tools/bench's "pool" section.
//
//   pool.map.8B.rate       100 000 tiny tasks (8 B in, 8 B out) through
//                          Pool::Map on 2 self workers, tasks/s
//   pool.unordered.8B.rate the same through Pool::MapUnordered
//   pool.kill_recover.p50  a 1-worker pool: from submitting a task whose
//                          worker SIGKILLs itself until the next task's result
//                          (the killer's error delivered, a replacement
//                          started and ready, a task served), µs
//   pool.start.p50         a 1-worker pool: from Create until the first task's
//                          result (the start method's own start, plus one task), µs
//
// CPython's figures for the same workloads are mp_bench.py's "pool" section.
// Output: "lib.<name> <value> <unit>" lines. Usage: pool_bench [--scale F]
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/tubo.h"

namespace {

double g_scale = 1.0;

long Scaled(long n, long min) { return std::max(min, static_cast<long>(n * g_scale)); }

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "pool_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(2);
}

void Print(const std::string& name, double value, const char* unit, int digits = 1) {
  std::printf("lib.%s %.*f %s\n", name.c_str(), digits, value, unit);
  std::fflush(stdout);
}

double Median(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : static_cast<double>(v[v.size() / 2]);
}

std::unique_ptr<tubo::Pool> NewPool(int workers) {
  tubo::PoolOptions options;
  options.workers = workers;
  absl::StatusOr<std::unique_ptr<tubo::Pool>> pool =
      tubo::Pool::Create(tubo::WorkerStart::Self("bench_echo"), options);
  if (!pool.ok()) Die("Pool::Create", pool.status());
  return std::move(*pool);
}

// n tasks of 8 bytes through Map (ordered) or MapUnordered on 2 workers;
// every result is checked.
void MapRate(bool ordered, long n) {
  std::unique_ptr<tubo::Pool> pool = NewPool(2);
  // Warm up: both workers ready.
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<tubo::Task> t = pool->Submit("warmup!!");
    if (!t.ok() || !t->Result().ok()) Die("warm-up", t.ok() ? t->Result().status() : t.status());
  }
  long next = 0, got = 0;
  char buf[9];
  const uint64_t t0 = NowNs();
  auto input = [&]() -> std::optional<std::string> {
    if (next == n) return std::nullopt;
    std::snprintf(buf, sizeof buf, "%08ld", next++ % 100000000);
    return std::string(buf, 8);
  };
  auto each = [&](size_t index, absl::StatusOr<tubo::Bytes> r) {
    if (!r.ok()) Die("task", r.status());
    char want[9];
    std::snprintf(want, sizeof want, "%08ld", static_cast<long>(index) % 100000000);
    if (r->size() != 8 || std::memcmp(r->data(), want, 8) != 0) {
      Die("task", absl::InternalError("wrong result"));
    }
    ++got;
    return true;
  };
  absl::Status s = ordered ? pool->Map(input, each) : pool->MapUnordered(input, each);
  if (!s.ok()) Die("Map", s);
  const double secs = (NowNs() - t0) / 1e9;
  if (got != n) Die("Map", absl::InternalError("results missing"));
  if (absl::Status c = pool->Close(); !c.ok()) Die("Close", c);
  Print(std::string(ordered ? "pool.map" : "pool.unordered") + ".8B.rate", n / secs, "tasks/s", 0);
}

void KillRecover(long runs) {
  std::vector<uint64_t> recover, start;
  for (long i = 0; i < runs; ++i) {
    const uint64_t t0 = NowNs();
    std::unique_ptr<tubo::Pool> pool = NewPool(1);
    absl::StatusOr<tubo::Task> first = pool->Submit("started!");
    if (!first.ok() || !first->Result().ok()) Die("first task", first.status());
    const uint64_t t1 = NowNs();
    absl::StatusOr<tubo::Task> killer = pool->Submit("kill");
    if (!killer.ok()) Die("submit", killer.status());
    absl::StatusOr<tubo::Task> after = pool->Submit("after!!!");
    if (!after.ok()) Die("submit", after.status());
    if (tubo::ErrorOf(killer->Result().status()) != tubo::Error::kWorkerDied) {
      Die("killer", absl::InternalError("not blamed with kWorkerDied"));
    }
    if (!after->Result().ok()) Die("after the kill", after->Result().status());
    const uint64_t t2 = NowNs();
    start.push_back(t1 - t0);
    recover.push_back(t2 - t1);
    pool->Terminate();
  }
  Print("pool.start.p50", Median(start) / 1e3, "us", 1);
  Print("pool.kill_recover.p50", Median(recover) / 1e3, "us", 1);
}

}  // namespace

// The worker: echoes each task; the task "kill" SIGKILLs the worker.
TUBO_ENTRY(bench_echo) {
  return tubo::ServePoolTasks([](std::string_view task) -> absl::StatusOr<std::string> {
    if (task == "kill") raise(SIGKILL);
    return std::string(task);
  });
}

int main(int argc, char** argv) {
  tubo::RunEntryIfRequested(argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      g_scale = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: pool_bench [--scale F]\n");
      return 2;
    }
  }
  const long n = Scaled(100000, 2000);
  MapRate(true, n);
  MapRate(false, n);
  KillRecover(Scaled(40, 5));
  return 0;
}
