// tubo_bench: tubo's side of the benchmarks (see bench/raw_bench.c and
// bench/mp_bench.py for the baselines, tools/bench to run them all).
//
// Output: "lib.<workload>.<metric> value unit" lines, with the workload names
// of the reference harness (../shared/anchor-bench):
//   tp.<S>            WriteEnd::Send per message (unbuffered); a forked child
//                     receives with ReadEnd::Recv, checks length, sequence
//                     number and last byte, and counts until end of stream.
//                     Timed from "child ready" to "child reported its count".
//   tp_into.<S>       the same, the child receiving with RecvInto into one buffer
//   tp_batched.<S>    SetSendBufferSize(64 KiB), Send per message, Close
//                     (flush) at the end; the child receives with Recv
//   tp_batched_into.<S>  the same, the child receiving with RecvInto
//   pp_pipe_samecpu.<S>, pp_pipe_xcpu.<S>   ping-pong over two tubo pipes
//                     (Send, Recv; the child echoes), both processes on CPU 0 /
//                     parent on CPU 0 and child on CPU 1
//   spawn.fork_fn     tubo::Fork of a function returning 0, then Wait
//   spawn.exec_true   tubo::Command("/bin/true").Spawn(), then Wait
//   spawn.raw_fork_exit  control: fork + _exit + waitpid from this process
//   spawn.self_ready  tubo::Command::Self("ready") with a channel; Recv of the
//                     worker's first message, then Wait
//   spawn.forkserver_ready  the same entry started by a tubo::ForkServer (the
//                     server started once, before the runs); Recv of the
//                     worker's first message, then Wait
//                     (each also _rss256M: 256 MiB of touched 4 KiB pages in the parent;
//                     forkserver_ready also _threads16: 16 more threads, idle)
//   wait.N<n>         WaitSet::Wait (zero timeout) over n read ends, one ready
//   rt.<S>            the round trip of the "abi" section, the C++ API's figure:
//                     Send of an S-byte message to bench/echo_peer (raw C,
//                     spawned with tubo::Command, channels "in"/"out", both
//                     pipes 1 MiB), Recv of its echo; the C ABI, Go, Python
//                     binding and CPython programs do the same (abi_bench.c,
//                     abi_bench.go, abi_bench_py.py, mp_bench.py rt). tools/bench
//                     pins the whole section to one CPU.
//   mem.<S>           peak RSS growth of a process receiving one S-byte
//                     message with Recv, as a ratio to S (goal <= 1.1)
//   tp_sigign.<S>, pp_sigign_pipe_samecpu.8B, pp_sigign_pipe_xcpu.8B   the
//                     "sigign" section: tp and pp after signal(SIGPIPE,
//                     SIG_IGN) and tubo::DeclareSigpipeIgnored (tubo/sigpipe.h)
//
// Usage: tubo_bench <tp|pp|spawn|wait|mem|abi|sigign|all> [--scale F] [--peer PATH]
// SIGPIPE keeps its default disposition here (but in the sigign section, run
// last): tubo must cope without help.
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tubo/tubo.h"

namespace {

double g_scale = 1.0;

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

long Scaled(long n, long min) { return std::max(min, static_cast<long>(n * g_scale)); }

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "tubo_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(2);
}

template <typename T>
T Check(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what, v.status());
  return std::move(*v);
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

std::string SizeName(size_t s) {
  if (s >= (1u << 20) && s % (1u << 20) == 0) return std::to_string(s >> 20) + "MiB";
  if (s >= 1024 && s % 1024 == 0) return std::to_string(s >> 10) + "KiB";
  return std::to_string(s) + "B";
}

// Appended to the tp and pp workload names: "_sigign" in the sigign section.
std::string g_variant;

void Print(const std::string& name, double value, const char* unit, int digits = 1) {
  std::printf("lib.%s %.*f %s\n", name.c_str(), digits, value, unit);
  std::fflush(stdout);
}

void ReportLatency(const std::string& name, std::vector<uint64_t>& v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  double sum = 0;
  for (uint64_t x : v) sum += static_cast<double>(x);
  const size_t i99 = static_cast<size_t>(0.99 * static_cast<double>(n - 1) + 0.5);
  Print(name + ".p50", v[n / 2] / 1e3, "us", 3);
  Print(name + ".p99", v[i99] / 1e3, "us", 3);
  Print(name + ".mean", sum / n / 1e3, "us", 3);
  Print(name + ".n", static_cast<double>(n), "runs", 0);
}

// Payload layout (as in raw_bench.c): bytes [0,8) = sequence number (LE),
// last byte = low byte of the sequence number when S > 8.
void Stamp(char* p, size_t s, uint64_t seq) {
  if (s >= 8) std::memcpy(p, &seq, 8);
  if (s > 8) p[s - 1] = static_cast<char>(static_cast<uint8_t>(seq));
}

bool Verify(const char* p, size_t s, uint64_t seq) {
  if (s >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    if (v != seq) return false;
  }
  return s <= 8 || static_cast<uint8_t>(p[s - 1]) == static_cast<uint8_t>(seq);
}

// ------------------------------------------------------------- throughput

enum class Tp { kRecv, kInto, kBatched, kBatchedInto };

struct SinkReport {
  uint64_t count;
  uint64_t ok;
};

int Sink(size_t size, Tp mode, tubo::ReadEnd in, tubo::WriteEnd status) {
  if (!status.Send("R").ok()) return 3;
  SinkReport r = {0, 1};
  const bool into = mode == Tp::kInto || mode == Tp::kBatchedInto;
  std::vector<char> buf(into ? std::max<size_t>(size, 1) : 0);
  for (;;) {
    if (into) {
      absl::StatusOr<tubo::RecvResult> m = in.RecvInto(buf.data(), buf.size());
      if (!m.ok()) {
        r.ok = 0;
        break;
      }
      if (m->eof()) break;
      if (!m->message() || m->size != size || !Verify(buf.data(), size, r.count)) {
        r.ok = 0;
        break;
      }
    } else {
      absl::StatusOr<std::optional<tubo::Bytes>> m = in.Recv();
      if (!m.ok()) {
        r.ok = 0;
        break;
      }
      if (!*m) break;
      if ((*m)->size() != size || !Verify((*m)->data(), size, r.count)) {
        r.ok = 0;
        break;
      }
    }
    ++r.count;
  }
  if (!status.Send(std::string_view(reinterpret_cast<const char*>(&r), sizeof r)).ok()) return 3;
  return r.ok ? 0 : 1;
}

void Throughput(size_t size, long n, Tp mode) {
  tubo::Pipe data = Check(tubo::Pipe::Create(), "pipe");
  tubo::Pipe status = Check(tubo::Pipe::Create(), "pipe");
  tubo::Process child = Check(tubo::Fork(
                                  [size, mode](tubo::ReadEnd in, tubo::WriteEnd st) {
                                    return Sink(size, mode, std::move(in), std::move(st));
                                  },
                                  std::move(data.reader), std::move(status.writer)),
                              "fork");
  tubo::WriteEnd& out = data.writer;
  if (mode == Tp::kBatched || mode == Tp::kBatchedInto) {
    Check(out.SetSendBufferSize(tubo::kDefaultSendBufferSize), "buffer");
  }
  std::string payload(size, '\xab');
  auto ready = Check(status.reader.Recv(), "ready");
  if (!ready || ready->view() != "R") Die("ready", absl::InternalError("no ready message"));

  const uint64_t t0 = NowNs();
  for (long i = 0; i < n; ++i) {
    Stamp(payload.data(), size, static_cast<uint64_t>(i));
    Check(out.Send(payload), "send");
  }
  Check(out.Close(), "close");  // flushes; the child sees end of stream
  auto report = Check(status.reader.Recv(), "report");
  const uint64_t t1 = NowNs();
  tubo::ExitStatus st = Check(child.Wait(), "wait");

  const char* names[] = {"tp", "tp_into", "tp_batched", "tp_batched_into"};
  const std::string name =
      std::string(names[static_cast<int>(mode)]) + g_variant + "." + SizeName(size);
  SinkReport r = {0, 0};
  if (report && report->size() == sizeof r) std::memcpy(&r, report->data(), sizeof r);
  if (!r.ok || r.count != static_cast<uint64_t>(n) || !st.success()) {
    std::fprintf(stderr, "lib.%s VALIDATION FAILED count=%llu/%ld %s\n", name.c_str(),
                 static_cast<unsigned long long>(r.count), n, st.ToString().c_str());
    std::printf("lib.%s.msgs FAILED -\n", name.c_str());
    return;
  }
  const double secs = (t1 - t0) / 1e9;
  Print(name + ".msgs", n / secs, "msg/s", 0);
  Print(name + ".MBps", static_cast<double>(n) * size / secs / 1e6, "MB/s");
}

// -------------------------------------------------------------- ping-pong

void PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    Die("sched_setaffinity", absl::ErrnoToStatus(errno, "pin"));
  }
}

int Echo(int pin, tubo::ReadEnd in, tubo::WriteEnd out) {
  if (pin == 2) PinTo(1);
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = in.Recv();
    if (!m.ok()) return 1;
    if (!*m) return 0;
    if (!out.Send((*m)->view()).ok()) return 1;
  }
}

// pin 1: both processes on CPU 0; pin 2: parent on CPU 0, child on CPU 1.
void PingPong(size_t size, long iters, long warm, int pin) {
  if (pin == 2 && sysconf(_SC_NPROCESSORS_ONLN) < 2) return;
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  PinTo(0);
  tubo::Pipe p2c = Check(tubo::Pipe::Create(), "pipe");
  tubo::Pipe c2p = Check(tubo::Pipe::Create(), "pipe");
  tubo::Process child = Check(
      tubo::Fork([pin](tubo::ReadEnd in,
                       tubo::WriteEnd out) { return Echo(pin, std::move(in), std::move(out)); },
                 std::move(p2c.reader), std::move(c2p.writer)),
      "fork");
  std::string msg(size, '\xcd');
  std::vector<uint64_t> lat;
  lat.reserve(static_cast<size_t>(iters));
  for (long i = 0; i < warm + iters; ++i) {
    Stamp(msg.data(), size, static_cast<uint64_t>(i));
    const uint64_t t0 = NowNs();
    Check(p2c.writer.Send(msg), "pp send");
    auto echo = Check(c2p.reader.Recv(), "pp recv");
    const uint64_t t1 = NowNs();
    if (!echo || echo->size() != size || !Verify(echo->data(), size, static_cast<uint64_t>(i))) {
      Die("pp", absl::DataLossError("bad echo"));
    }
    if (i >= warm) lat.push_back(t1 - t0);
  }
  Check(p2c.writer.Close(), "close");
  Check(child.Wait(), "wait");
  sched_setaffinity(0, sizeof saved, &saved);
  ReportLatency(std::string("pp") + g_variant + (pin == 1 ? "_pipe_samecpu." : "_pipe_xcpu.") +
                    SizeName(size),
                lat);
}

// ------------------------------------------------------------------- abi

// The round trip that the C ABI and binding programs repeat (bench/abi_*):
// the same peer, sizes and iteration counts.
void RoundTrip(const std::string& peer, size_t size, long iters, long warm) {
  tubo::Pipe p2c = Check(tubo::Pipe::Create(), "pipe");
  tubo::Pipe c2p = Check(tubo::Pipe::Create(), "pipe");
  tubo::Process child = Check(tubo::Command(peer)
                                  .Channel("in", std::move(p2c.reader))
                                  .Channel("out", std::move(c2p.writer))
                                  .Spawn(),
                              "spawn " + peer);
  std::string msg(size, '\xcd');
  std::vector<uint64_t> lat;
  lat.reserve(static_cast<size_t>(iters));
  for (long i = 0; i < warm + iters; ++i) {
    Stamp(msg.data(), size, static_cast<uint64_t>(i));
    const uint64_t t0 = NowNs();
    Check(p2c.writer.Send(msg), "rt send");
    auto echo = Check(c2p.reader.Recv(), "rt recv");
    const uint64_t t1 = NowNs();
    if (!echo || echo->size() != size || !Verify(echo->data(), size, static_cast<uint64_t>(i))) {
      Die("rt", absl::DataLossError("bad echo"));
    }
    if (i >= warm) lat.push_back(t1 - t0);
  }
  Check(p2c.writer.Close(), "close");
  tubo::ExitStatus st = Check(child.Wait(), "wait");
  if (!st.success()) Die("rt", absl::InternalError("echo_peer: " + st.ToString()));
  ReportLatency("rt." + SizeName(size), lat);
}

// ------------------------------------------------------------------ spawn

// kRawFork is a control, not tubo: fork + _exit + waitpid from this (bigger,
// C++) process, to tell tubo's own cost from the cost of forking this process.
enum class How { kForkFn, kExecTrue, kSelfReady, kRawFork, kForkServerReady };

// The fork server of kForkServerReady, started once (its start is not what
// is measured: like CPython's forkserver, it serves every later start).
tubo::ForkServer& BenchForkServer() {
  static tubo::ForkServer* server =
      new tubo::ForkServer(Check(tubo::ForkServer::Start(), "fork server"));
  return *server;
}

void SpawnOnce(How how) {
  tubo::ExitStatus st = tubo::ExitStatus::Exited(0);
  switch (how) {
    case How::kForkFn: {
      tubo::Process p = Check(tubo::Fork([] { return 0; }), "fork");
      st = Check(p.Wait(), "wait");
      break;
    }
    case How::kExecTrue: {
      tubo::Process p = Check(tubo::Command("/bin/true").Spawn(), "spawn /bin/true");
      st = Check(p.Wait(), "wait");
      break;
    }
    case How::kRawFork: {
      const pid_t pid = ::fork();
      if (pid == 0) ::_exit(0);
      int status = 0;
      if (pid < 0 || ::waitpid(pid, &status, 0) != pid || status != 0) {
        Die("raw fork", absl::InternalError("failed"));
      }
      break;
    }
    case How::kSelfReady: {
      tubo::Pipe pipe = Check(tubo::Pipe::Create(), "pipe");
      tubo::Process p =
          Check(tubo::Command::Self("ready").Channel("out", std::move(pipe.writer)).Spawn(),
                "spawn self");
      auto m = Check(pipe.reader.Recv(), "recv ready");
      if (!m || m->view() != "!") Die("self", absl::InternalError("no ready message"));
      st = Check(p.Wait(), "wait");
      break;
    }
    case How::kForkServerReady: {
      tubo::Pipe pipe = Check(tubo::Pipe::Create(), "pipe");
      tubo::Process p = Check(BenchForkServer().Spawn(tubo::Command::Self("ready").Channel(
                                  "out", std::move(pipe.writer))),
                              "fork server spawn");
      auto m = Check(pipe.reader.Recv(), "recv ready");
      if (!m || m->view() != "!") Die("fork server", absl::InternalError("no ready message"));
      st = Check(p.Wait(), "wait");
      break;
    }
  }
  if (!st.success()) Die("spawn", absl::InternalError(st.ToString()));
}

void SpawnBench(How how, long runs, double cap_s, const std::string& suffix) {
  for (int i = 0; i < 5; ++i) SpawnOnce(how);
  std::vector<uint64_t> lat;
  const uint64_t start = NowNs();
  for (long i = 0; i < runs; ++i) {
    const uint64_t t0 = NowNs();
    SpawnOnce(how);
    const uint64_t t1 = NowNs();
    lat.push_back(t1 - t0);
    if ((t1 - start) / 1e9 > cap_s && i >= 20) break;
  }
  const char* names[] = {"fork_fn", "exec_true", "self_ready", "raw_fork_exit", "forkserver_ready"};
  ReportLatency(std::string("spawn.") + names[static_cast<int>(how)] + suffix, lat);
}

// ------------------------------------------------------------------- wait

void RaiseNofile() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void WaitBench(int n, long iters) {
  std::vector<tubo::Pipe> pipes;
  pipes.reserve(static_cast<size_t>(n));  // the set keeps pointers to the ends
  tubo::WaitSet set = Check(tubo::WaitSet::Create(), "wait set");
  for (int i = 0; i < n; ++i) {
    pipes.push_back(Check(tubo::Pipe::Create(), "pipe (raise the fd limit)"));
    Check(set.Add(pipes.back().reader, static_cast<uint64_t>(i)), "add");
  }
  const int ready = n / 2;
  Check(pipes[static_cast<size_t>(ready)].writer.Send("ping"), "send");
  std::vector<uint64_t> lat;
  lat.reserve(static_cast<size_t>(iters));
  for (long i = -1000; i < iters; ++i) {
    const uint64_t t0 = NowNs();
    std::vector<uint64_t> keys = Check(set.Wait(absl::ZeroDuration()), "wait");
    const uint64_t t1 = NowNs();
    if (keys.size() != 1 || keys[0] != static_cast<uint64_t>(ready)) {
      Die("wait", absl::InternalError(std::to_string(keys.size()) + " ready, expected 1"));
    }
    if (i >= 0) lat.push_back(t1 - t0);
  }
  ReportLatency("wait.N" + std::to_string(n), lat);
}

// -------------------------------------------------------------------- mem

// A field of /proc/self/status ("VmRSS", "VmHWM"), in KiB.
long StatusKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

// The receiving side, run as a fresh self worker ("mem" entry): a forked
// child would inherit the parent's heap, whose free, resident pages would
// hide the growth.
int MemWorker(size_t size) {
  absl::StatusOr<tubo::ReadEnd> in = tubo::TakeReadEnd("in");
  absl::StatusOr<tubo::WriteEnd> report = tubo::TakeWriteEnd("report");
  if (!in.ok() || !report.ok()) return 2;
  // A first small message, so the end's read-ahead buffer already exists (it
  // belongs to every receiving end, not to this message).
  auto hello = in->Recv();
  if (!hello.ok() || !*hello) return 3;
  const long before = StatusKiB("VmRSS");
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";  // resets the peak RSS (VmHWM) to the current RSS
  }
  auto m = in->Recv();
  const long peak = StatusKiB("VmHWM");
  if (!m.ok() || !*m || (*m)->size() != size || !Verify((*m)->data(), size, 7)) return 4;
  const int64_t growth = (peak - before) * 1024;
  return report->Send(std::string_view(reinterpret_cast<const char*>(&growth), sizeof growth)).ok()
             ? 0
             : 5;
}

void MemBench(size_t size) {
  tubo::Pipe data = Check(tubo::Pipe::Create(), "pipe");
  tubo::Pipe report = Check(tubo::Pipe::Create(), "pipe");
  tubo::Process child = Check(tubo::Command::Self("mem")
                                  .Arg(std::to_string(size))
                                  .Channel("in", std::move(data.reader))
                                  .Channel("report", std::move(report.writer))
                                  .Spawn(),
                              "spawn mem worker");
  Check(data.writer.Send("hello"), "send");
  std::string payload(size, '\x11');
  Stamp(payload.data(), size, 7);
  Check(data.writer.Send(payload), "send");
  Check(data.writer.Close(), "close");
  auto r = Check(report.reader.Recv(), "report");
  tubo::ExitStatus st = Check(child.Wait(), "wait");
  int64_t growth = 0;
  if (!st.success() || !r || r->size() != sizeof growth) {
    Die("mem", absl::InternalError("worker failed: " + st.ToString()));
  }
  std::memcpy(&growth, r->data(), sizeof growth);
  const std::string name = "mem." + SizeName(size);
  Print(name + ".ratio", static_cast<double>(growth) / size, "x", 3);
  Print(name + ".growth", growth / 1048576.0, "MiB", 2);
}

}  // namespace

// The self worker: sends one message on its channel "out" and exits.
TUBO_ENTRY(ready) {
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok()) return 2;
  return out->Send("!").ok() ? 0 : 1;
}

TUBO_ENTRY(mem) { return args.size() == 1 ? MemWorker(std::stoull(args[0])) : 2; }

int main(int argc, char** argv) {
  tubo::RunEntryIfRequested(argc, argv);
  std::string what = "all";
  std::string peer = std::string(argv[0]);
  peer = peer.substr(0, peer.rfind('/') + 1) + "echo_peer";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      g_scale = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--peer") == 0 && i + 1 < argc) {
      peer = argv[++i];
    } else {
      what = argv[i];
    }
  }
  const bool all = what == "all";
  Print("info.nproc", static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)), "cpus", 0);

  const size_t sizes[] = {8, 64, 1024, 64 << 10, 1 << 20, 16 << 20};
  // Message counts at --scale 1, as in raw_bench.c.
  const long counts[] = {1000000, 1000000, 500000, 20000, 1000, 64};
  const long batched_counts[] = {20000000, 10000000, 1000000, 20000, 1000, 64};
  if (all || what == "tp") {
    for (int i = 0; i < 6; ++i) Throughput(sizes[i], Scaled(counts[i], 16), Tp::kRecv);
    for (int i = 0; i < 6; ++i) Throughput(sizes[i], Scaled(batched_counts[i], 16), Tp::kBatched);
    for (int i = 0; i < 6; ++i) Throughput(sizes[i], Scaled(counts[i], 16), Tp::kInto);
    for (int i = 0; i < 3; ++i) {
      Throughput(sizes[i], Scaled(batched_counts[i], 16), Tp::kBatchedInto);
    }
  }
  if (all || what == "pp") {
    const long it = Scaled(20000, 200);
    for (int pin = 1; pin <= 2; ++pin) {
      PingPong(8, it, it / 20, pin);
      PingPong(4096, it, it / 20, pin);
    }
  }
  if (all || what == "spawn") {
    const long runs = Scaled(400, 20);
    for (How h :
         {How::kForkFn, How::kRawFork, How::kExecTrue, How::kSelfReady, How::kForkServerReady}) {
      SpawnBench(h, runs, 5.0, "");
    }
    {
      std::atomic<bool> stop{false};
      std::vector<std::thread> idle;
      for (int i = 0; i < 16; ++i) {
        idle.emplace_back([&stop] {
          while (!stop.load()) ::usleep(20000);
        });
      }
      SpawnBench(How::kForkServerReady, runs, 5.0, "_threads16");
      stop = true;
      for (std::thread& t : idle) t.join();
    }
    const size_t big = 256u << 20;
    void* mem = mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) Die("mmap", absl::ErrnoToStatus(errno, "256 MiB"));
    madvise(mem, big, MADV_NOHUGEPAGE);  // 4 KiB pages, like a fragmented heap
    std::memset(mem, 1, big);
    const long big_runs = Scaled(100, 20);
    for (How h : {How::kForkFn, How::kExecTrue, How::kSelfReady, How::kForkServerReady}) {
      SpawnBench(h, big_runs, 5.0, "_rss256M");
    }
    munmap(mem, big);
  }
  if (all || what == "wait") {
    RaiseNofile();
    const long it = Scaled(100000, 1000);
    for (int n : {1, 64, 1024}) WaitBench(n, it);
  }
  if (all || what == "abi") {
    // Sizes and counts shared with abi_bench.c, abi_bench.go, abi_bench_py.py
    // and mp_bench.py (rt).
    const size_t rt_sizes[] = {8, 1024, 64 << 10, 1 << 20};
    const long rt_iters[] = {20000, 20000, 4000, 400};
    for (int i = 0; i < 4; ++i) {
      const long it = Scaled(rt_iters[i], 50);
      RoundTrip(peer, rt_sizes[i], it, std::max(5L, it / 20));
    }
  }
  if (all || what == "mem") {
    for (size_t s : {size_t{1} << 20, size_t{16} << 20, size_t{128} << 20}) MemBench(s);
  }
  if (all || what == "sigign") {
    // Last: the declaration is for the whole process and cannot be undone.
    signal(SIGPIPE, SIG_IGN);
    if (absl::Status s = tubo::DeclareSigpipeIgnored(); !s.ok()) Die("declare", s);
    g_variant = "_sigign";
    for (int i = 0; i < 3; ++i) Throughput(sizes[i], Scaled(counts[i], 16), Tp::kRecv);
    const long it = Scaled(20000, 200);
    for (int pin = 1; pin <= 2; ++pin) PingPong(8, it, it / 20, pin);
  }
  return 0;
}
