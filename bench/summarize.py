#!/usr/bin/env python3
"""summarize.py RESULTS_DIR [RESULTS_MD] -- tubo's benchmark tables from one run of tools/bench.

Reads "<impl>.runN.txt" files (impl: lib = tubo, c = raw syscalls, py = CPython;
lib also holds the "abi" section's rt_capi, rt_go and rt_py figures, from the C
ABI, Go and Python binding programs)
holding "name value unit" lines (lines starting with '#' are comments), and:
  - prints, and writes to RESULTS_MD, the goals (met / not met, with
    the ratio) and a table of every workload: tubo beside each baseline, with
    the ratio;
  - prints "lib.<workload>.<metric> value unit" lines with the medians.

Ratios are taken run by run (tubo and its baseline measured in the same run,
minutes apart at most) and the median of those ratios is reported; the values
shown are medians over runs. min..max over runs is shown as a noise indicator.
(The layout follows the reference harness's summarize.py, ../shared/anchor-bench.)
"""
import glob
import os
import re
import statistics
import sys
from collections import defaultdict

SIZES = ["8B", "64B", "1KiB", "64KiB", "1MiB", "16MiB"]
SMALL = ["8B", "64B", "1KiB"]
LARGE = ["1MiB", "16MiB"]


def load(d):
    vals, units = defaultdict(dict), {}
    for path in sorted(glob.glob(os.path.join(d, "*.run*.txt"))):
        run = int(re.search(r"\.run(\d+)\.txt$", path).group(1))
        for line in open(path):
            if line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3:
                continue
            name, value, unit = parts
            try:
                vals[name][run] = float(value)
            except ValueError:
                continue
            units[name] = unit
    return vals, units


# The raw-C transports a large message can take (bench/raw_bench.c): the
# best of them in each run is the baseline "c.tp_best.<S>.MBps".
RAW_TRANSPORTS = ["tp", "tp_pipe1M", "tp_sock", "tp_sock4M"]


class Data:
    def __init__(self, d):
        self.vals, self.units = load(d)
        for size in ("1MiB", "16MiB"):
            best = {}
            for t in RAW_TRANSPORTS:
                for run, v in self.vals.get(f"c.{t}.{size}.MBps", {}).items():
                    best[run] = max(best.get(run, 0.0), v)
            if best:
                self.vals[f"c.tp_best.{size}.MBps"] = best
                self.units[f"c.tp_best.{size}.MBps"] = "MB/s"

    def med(self, name):
        v = self.vals.get(name)
        return statistics.median(v.values()) if v else None

    def spread(self, name):
        v = self.vals.get(name)
        return (min(v.values()), max(v.values())) if v else None

    def ratio(self, a, b):
        """Median over runs of a/b, pairing the two figures of each run."""
        va, vb = self.vals.get(a), self.vals.get(b)
        if not va or not vb:
            return None
        rs = [va[r] / vb[r] for r in va if r in vb and vb[r]]
        return statistics.median(rs) if rs else None


def f_val(x, unit):
    if x is None:
        return "-"
    if unit == "tasks/s":
        return f_val(x, "msg/s") + " tasks/s"
    if unit == "msg/s":
        if x >= 1e6:
            return "%.2f M" % (x / 1e6)
        if x >= 1e3:
            return "%.1f k" % (x / 1e3)
        return "%.1f" % x
    if unit == "MB/s":
        return "%.0f MB/s" % x
    if unit == "us":
        return ("%.0f" if x >= 100 else "%.2f" if x < 10 else "%.1f") % x + " µs"
    if unit == "x":
        return "%.3f×" % x
    return "%.3g %s" % (x, unit)


def f_ratio(r):
    return "-" if r is None else "%.2f×" % r


def goals(D):
    """Rows: (workload, goal text, tubo metric, baseline metric, op, threshold, note)."""
    rows = []
    for s in SMALL:
        rows.append((f"tp {s}, one Send per message, SIGPIPE declared ignored",
                     "≥ 1.0× raw C one writev per message",
                     f"lib.tp_sigign.{s}.msgs", f"c.tp.{s}.msgs", ">=", 1.0))
        rows.append((f"tp {s}, one Send per message (default contract)",
                     "≥ 0.95× raw C doing the same SIGPIPE mask dance",
                     f"lib.tp.{s}.msgs", f"c.tp_sigmask.{s}.msgs", ">=", 0.95))
        rows.append((f"tp {s}, one Send per message", "≥ 2× CPython send_bytes/recv_bytes",
                     f"lib.tp.{s}.msgs", f"py.tp.{s}.msgs", ">=", 2.0))
    for s in SMALL:
        rows.append((f"tp {s}, buffered Send + flush", "≥ 0.7× raw C packing into 64 KiB",
                     f"lib.tp_batched.{s}.msgs", f"c.tp_batched.{s}.msgs", ">=", 0.7))
        rows.append((f"tp {s}, buffered Send + flush", "≥ 50× CPython send_bytes/recv_bytes",
                     f"lib.tp_batched.{s}.msgs", f"py.tp.{s}.msgs", ">=", 50.0))
    for s in LARGE:
        rows.append((f"tp {s}, Send + Recv",
                     "≥ 1.0× the best raw-C transport (pipe, 1 MiB pipe, socketpair, "
                     "socketpair with 4 MiB buffers)",
                     f"lib.tp.{s}.MBps", f"c.tp_best.{s}.MBps", ">=", 1.0))
        rows.append((f"tp {s}, Send + Recv", "≥ 3× CPython recv_bytes",
                     f"lib.tp.{s}.MBps", f"py.tp.{s}.MBps", ">=", 3.0))
    rows.append(("ping-pong 8B p50, one CPU, SIGPIPE declared ignored", "≤ 1.1× raw C",
                 "lib.pp_sigign_pipe_samecpu.8B.p50", "c.pp_pipe_samecpu.8B.p50", "<=", 1.1))
    for pin, label in (("samecpu", "one CPU"), ("xcpu", "two CPUs")):
        for s in ("8B", "4KiB"):
            rows.append((f"ping-pong {s} p50, {label}", "≤ 1.1× raw C",
                         f"lib.pp_pipe_{pin}.{s}.p50", f"c.pp_pipe_{pin}.{s}.p50", "<=", 1.1))
    rows.append(("fork function start + join p50", "≤ 1.3× raw fork + _exit + waitpid",
                 "lib.spawn.fork_fn.p50", "c.spawn.fork_exit.p50", "<=", 1.3))
    rows.append(("exec /bin/true start + wait p50", "≤ 1.1× raw posix_spawn",
                 "lib.spawn.exec_true.p50", "c.spawn.posix_spawn_true.p50", "<=", 1.1))
    rows.append(("exec /bin/true, 256 MiB parent", "flat: ≤ 1.1× tubo's small-parent figure",
                 "lib.spawn.exec_true_rss256M.p50", "lib.spawn.exec_true.p50", "<=", 1.1))
    rows.append(("self worker until its first message p50",
                 "≤ 1.2× raw posix_spawn of a small C program + 1-byte handshake",
                 "lib.spawn.self_ready.p50", "c.spawn.posix_spawn_ready.p50", "<=", 1.2))
    rows.append(("self worker until its first message p50",
                 "≥ 50× faster than CPython Process(spawn)",
                 "py.spawn.mp_spawn.p50", "lib.spawn.self_ready.p50", ">=", 50.0))
    rows.append(("fork-server worker until its first message p50",
                 "≤ 1.5× raw fork + _exit + waitpid",
                 "lib.spawn.forkserver_ready.p50", "c.spawn.fork_exit.p50", "<=", 1.5))
    rows.append(("fork-server worker until its first message p50",
                 "≥ 50× faster than CPython Process(spawn), start until first message",
                 "py.spawn.mp_spawn_ready.p50", "lib.spawn.forkserver_ready.p50", ">=", 50.0))
    rows.append(("fork-server worker until its first message p50",
                 "≥ 10× faster than CPython Process(forkserver), start until first message",
                 "py.spawn.mp_forkserver_ready.p50", "lib.spawn.forkserver_ready.p50", ">=", 10.0))
    rows.append(("fork-server worker, 256 MiB parent", "flat: ≤ 1.1× tubo's small-parent figure",
                 "lib.spawn.forkserver_ready_rss256M.p50", "lib.spawn.forkserver_ready.p50",
                 "<=", 1.1))
    rows.append(("fork-server worker, 16 more threads in the parent",
                 "flat: ≤ 1.1× tubo's small-parent figure",
                 "lib.spawn.forkserver_ready_threads16.p50", "lib.spawn.forkserver_ready.p50",
                 "<=", 1.1))
    rows.append(("one wait over 1024 ends, one ready p50", "≤ 1.5× the cost with 1 end",
                 "lib.wait.N1024.p50", "lib.wait.N1.p50", "<=", 1.5))
    for s in ("1MiB", "16MiB", "128MiB"):
        rows.append((f"memory receiving a {s} message", "peak RSS growth ≤ 1.1 × S",
                     f"lib.mem.{s}.ratio", None, "<=", 1.1))
    # The abi section: round trip (send + receive of the echo) p50, all
    # against bench/echo_peer on one CPU.
    for s in RT_SIZES:
        rows.append((f"round trip {s} p50 through the C ABI", "≤ 1.05× the C++ API",
                     f"lib.rt_capi.{s}.p50", f"lib.rt.{s}.p50", "<=", 1.05))
    for s in RT_SIZES:
        rows.append((f"round trip {s} p50 through the Go binding", "≤ 1.3× the C++ API",
                     f"lib.rt_go.{s}.p50", f"lib.rt.{s}.p50", "<=", 1.3))
    for s in RT_SIZES[1:]:
        rows.append((f"round trip {s} p50 through the Python binding",
                     "≥ 1× CPython's own Connection (latency ≤ 1.0×)",
                     f"lib.rt_py.{s}.p50", f"py.rt.{s}.p50", "<=", 1.0))
    # The pool section: 8-byte tasks on 2 workers (bench/pool_bench.cc, and
    # mp_bench.py pool for CPython's Pool and ProcessPoolExecutor, spawn).
    rows.append(("pool: 100 000 tiny tasks, 2 workers, C++ Pool::Map",
                 "≥ 20× multiprocessing.Pool.map at chunksize=1",
                 "lib.pool.map.8B.rate", "py.pool.map_chunk1.8B.rate", ">=", 20.0))
    rows.append(("pool: 100 000 tiny tasks, 2 workers, C++ Pool::Map",
                 "≥ 0.5× raw C, one pipe pair per worker, 16 tasks in flight per worker",
                 "lib.pool.map.8B.rate", "c.pool.8B.d16.rate", ">=", 0.5))
    # tubo's Python pool (lib.pool_py.*, measured by mp_bench.py pool beside
    # CPython's in the same program).
    for label, text, thr in (("chunk1", "chunksize=1", 3.0), ("chunk64", "chunksize=64", 1.0),
                             ("chunkdefault", "the default chunksize", 1.0)):
        rows.append((f"pool: 100 000 tiny tasks, 2 workers, Python tubo.Pool.map, {text}",
                     f"≥ {thr:g}× multiprocessing.Pool.map at {text}",
                     f"lib.pool_py.map_{label}.8B.rate", f"py.pool.map_{label}.8B.rate", ">=",
                     thr))
    rows.append(("pool: 100 000 tiny tasks, 2 workers, tubo.ProcessPoolExecutor.map, chunksize=1",
                 "≥ 3× concurrent.futures.ProcessPoolExecutor.map at chunksize=1",
                 "lib.pool_py.executor_chunk1.8B.rate", "py.pool.executor_chunk1.8B.rate", ">=",
                 3.0))
    rows.append(("pool: worker SIGKILLed mid-task, error + replacement serving p50",
                 "≤ 2× the start method's own start (a 1-worker pool's first result)",
                 "lib.pool.kill_recover.p50", "lib.pool.start.p50", "<=", 2.0))
    return rows


RT_SIZES = ["8B", "1KiB", "64KiB", "1MiB"]


def goals_table(D, p):
    p("| workload | goal | tubo | baseline | ratio | verdict |")
    p("|---|---|---|---|---|---|")
    met = unmet = 0
    for work, goal, a, b, op, thr in goals(D):
        va = D.med(a)
        if b is None:
            r = va
            vb_s = "S"
        else:
            r = D.ratio(a, b)
            vb_s = f"{f_val(D.med(b), D.units.get(b))} (`{b}`)"
        if r is None:
            verdict = "not measured"
        elif (r >= thr) if op == ">=" else (r <= thr):
            verdict = "**met**"
            met += 1
        else:
            verdict = "**not met**"
            unmet += 1
        p(f"| {work} | {goal} | {f_val(va, D.units.get(a))} (`{a}`) | {vb_s} | "
          f"{f_ratio(r)} | {verdict} |")
    return met, unmet


def workloads_table(D, p):
    p("| workload | metric | tubo | raw C | tubo / C | CPython | tubo / CPython | tubo min..max |")
    p("|---|---|---|---|---|---|---|---|")

    def row(label, metric, lib, c, py):
        u = D.units.get(lib) or D.units.get(c or "") or D.units.get(py or "")
        sp = D.spread(lib)
        sp_s = f"{f_val(sp[0], u)}..{f_val(sp[1], u)}" if sp else "-"
        p(f"| {label} | {metric} | {f_val(D.med(lib), u)} | {f_val(D.med(c), u) if c else '-'} | "
          f"{f_ratio(D.ratio(lib, c)) if c else '-'} | {f_val(D.med(py), u) if py else '-'} | "
          f"{f_ratio(D.ratio(lib, py)) if py else '-'} | {sp_s} |")

    for s in SIZES:
        row(f"tp {s}, Send per message (Recv)", "msg/s", f"lib.tp.{s}.msgs", f"c.tp.{s}.msgs",
            f"py.tp.{s}.msgs")
        row(f"tp {s}, Send per message (Recv)", "MB/s", f"lib.tp.{s}.MBps", f"c.tp.{s}.MBps",
            f"py.tp.{s}.MBps")
    for s in SIZES[3:]:
        row(f"tp {s} vs C with 1 MiB pipe", "MB/s", f"lib.tp.{s}.MBps", f"c.tp_pipe1M.{s}.MBps",
            f"py.tp_into.{s}.MBps")
        row(f"tp {s}, RecvInto (py: recv_bytes_into)", "MB/s", f"lib.tp_into.{s}.MBps",
            f"c.tp_pipe1M.{s}.MBps", f"py.tp_into.{s}.MBps")
    for s in SIZES:
        row(f"tp {s}, buffered Send + flush (C: packed 64 KiB)", "msg/s",
            f"lib.tp_batched.{s}.msgs", f"c.tp_batched.{s}.msgs", f"py.tp.{s}.msgs")
    for s in SIZES[:3]:
        row(f"tp {s}, Send per message, RecvInto", "msg/s",
            f"lib.tp_into.{s}.msgs", f"c.tp.{s}.msgs", f"py.tp.{s}.msgs")
        row(f"tp {s}, buffered Send + flush, RecvInto (C: packed 64 KiB)", "msg/s",
            f"lib.tp_batched_into.{s}.msgs", f"c.tp_batched.{s}.msgs", f"py.tp.{s}.msgs")
    for s in SIZES[:3]:
        row(f"tp {s}, SIGPIPE declared ignored (C: plain writev)", "msg/s",
            f"lib.tp_sigign.{s}.msgs", f"c.tp.{s}.msgs", None)
        row(f"tp {s}, default contract (C: writev with the SIGPIPE mask dance)", "msg/s",
            f"lib.tp.{s}.msgs", f"c.tp_sigmask.{s}.msgs", None)
    for s in SIZES:
        row(f"tp {s} (C: socketpair, MSG_NOSIGNAL)", "MB/s", f"lib.tp.{s}.MBps",
            f"c.tp_sock.{s}.MBps", None)
    for s in SIZES[3:]:
        row(f"tp {s} (C: socketpair, 4 MiB buffers)", "MB/s", f"lib.tp.{s}.MBps",
            f"c.tp_sock4M.{s}.MBps", None)
    for pin, label in (("samecpu", "one CPU"), ("xcpu", "two CPUs")):
        row(f"ping-pong 8B, {label}, SIGPIPE declared ignored", "p50",
            f"lib.pp_sigign_pipe_{pin}.8B.p50", f"c.pp_pipe_{pin}.8B.p50", None)
    for pin, label in (("samecpu", "one CPU"), ("xcpu", "two CPUs")):
        for s in ("8B", "4KiB"):
            for m in ("p50", "p99"):
                row(f"ping-pong {s}, {label}", m, f"lib.pp_pipe_{pin}.{s}.{m}",
                    f"c.pp_pipe_{pin}.{s}.{m}", f"py.pp_pipe_{pin}.{s}.{m}")
    for sfx, lab in (("", ""), ("_rss256M", ", 256 MiB parent")):
        row(f"fork function + join{lab} (C: fork+_exit+waitpid; py: Process(fork))", "p50",
            f"lib.spawn.fork_fn{sfx}.p50", f"c.spawn.fork_exit{sfx}.p50",
            "py.spawn.mp_fork.p50" if not sfx else None)
        row(f"exec /bin/true + wait{lab} (C: posix_spawn)", "p50",
            f"lib.spawn.exec_true{sfx}.p50", f"c.spawn.posix_spawn_true{sfx}.p50", None)
        row(f"self worker to first message{lab} (C: posix_spawn ready.c + 1 byte; py: Process(spawn))",
            "p50", f"lib.spawn.self_ready{sfx}.p50", f"c.spawn.posix_spawn_ready{sfx}.p50",
            "py.spawn.mp_spawn.p50" if not sfx else None)
    row("control: fork + _exit + waitpid from tubo_bench itself (C: from raw_bench)", "p50",
        "lib.spawn.raw_fork_exit.p50", "c.spawn.fork_exit.p50", None)
    row("self worker to first message (py: Process(forkserver))", "p50",
        "lib.spawn.self_ready.p50", None, "py.spawn.mp_forkserver.p50")
    for sfx, lab in (("", ""), ("_rss256M", ", 256 MiB parent"), ("_threads16", ", 16 more threads")):
        row(f"fork-server worker to first message{lab} (C: fork+_exit+waitpid; "
            "py: Process(forkserver) to first message)", "p50",
            f"lib.spawn.forkserver_ready{sfx}.p50", "c.spawn.fork_exit.p50",
            "py.spawn.mp_forkserver_ready.p50" if not sfx else None)
    for n in (1, 64, 1024):
        row(f"one wait over {n} ends, one ready (C: epoll_wait)", "p50", f"lib.wait.N{n}.p50",
            f"c.wait.N{n}.p50", None)
    for s in ("1MiB", "16MiB", "128MiB"):
        row(f"peak RSS growth / S receiving {s} (py: recv_bytes)", "ratio", f"lib.mem.{s}.ratio",
            None, f"py.mem.{s}.ratio")


# The pool section's Python rows: (label, tubo's metric, CPython's, joblib/loky's).
POOL_ROWS = [
    ("Pool.map, chunksize=1 (joblib: Parallel batch_size=1)", "lib.pool_py.map_chunk1.8B.rate",
     "py.pool.map_chunk1.8B.rate", "py.pool.joblib_batch1.8B.rate"),
    ("Pool.map, chunksize=64", "lib.pool_py.map_chunk64.8B.rate",
     "py.pool.map_chunk64.8B.rate", None),
    ("Pool.map, default chunksize (joblib: batch_size='auto')",
     "lib.pool_py.map_chunkdefault.8B.rate", "py.pool.map_chunkdefault.8B.rate",
     "py.pool.joblib_batchauto.8B.rate"),
    ("ProcessPoolExecutor.map, chunksize=1 (loky: reusable executor)",
     "lib.pool_py.executor_chunk1.8B.rate", "py.pool.executor_chunk1.8B.rate",
     "py.pool.loky_executor_chunk1.8B.rate"),
]


def pool_table(D, p):
    """The pool section from Python: tubo's pool beside CPython's and joblib/loky's."""
    p("| workload | tubo (Python) | CPython | tubo / CPython | joblib / loky | tubo / joblib, loky |")
    p("|---|---|---|---|---|---|")
    for label, tubo, cpython, other in POOL_ROWS:
        other_s = f_val(D.med(other), "tasks/s") if other and D.med(other) else (
            "not measured" if other else "-")
        other_r = f_ratio(D.ratio(tubo, other)) if other else "-"
        p(f"| {label} | {f_val(D.med(tubo), 'tasks/s')} | {f_val(D.med(cpython), 'tasks/s')} | "
          f"{f_ratio(D.ratio(tubo, cpython))} | {other_s} | {other_r} |")


def abi_table(D, p):
    """The abi section: one round trip through each API, same peer, same pipes."""
    p("| size | metric | C++ API | C ABI | C ABI / C++ | Go | Go / C++ | Python binding | "
      "CPython Connection | binding / CPython |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for s in RT_SIZES:
        for m in ("p50", "p99"):
            cpp, capi, go = f"lib.rt.{s}.{m}", f"lib.rt_capi.{s}.{m}", f"lib.rt_go.{s}.{m}"
            pyb, mp = f"lib.rt_py.{s}.{m}", f"py.rt.{s}.{m}"
            p(f"| {s} | {m} | {f_val(D.med(cpp), 'us')} | {f_val(D.med(capi), 'us')} | "
              f"{f_ratio(D.ratio(capi, cpp))} | {f_val(D.med(go), 'us')} | "
              f"{f_ratio(D.ratio(go, cpp))} | {f_val(D.med(pyb), 'us')} | "
              f"{f_val(D.med(mp), 'us')} | {f_ratio(D.ratio(pyb, mp))} |")


def main():
    d = sys.argv[1]
    md_path = sys.argv[2] if len(sys.argv) > 2 else None
    D = Data(d)
    runs = {i: len(glob.glob(os.path.join(d, f"{i}.run*.txt"))) for i in ("lib", "c", "py")}
    machine = open(os.path.join(d, "machine.txt")).read().strip() if os.path.exists(
        os.path.join(d, "machine.txt")) else ""
    o = []
    p = o.append
    p("# tubo benchmarks: results\n")
    p("Written by `tools/bench` (bench/summarize.py); do not edit by hand. What the numbers")
    p("mean, and what was changed in `src/` because of them: `bench/NOTES.md`.\n")
    p("```")
    p(machine)
    p("```\n")
    p("Runs per program: " + ", ".join(f"{k}={v}" for k, v in runs.items()) +
      ". Values are medians over runs; ratios are medians of the per-run ratios "
      "(tubo and baseline measured in the same run). Throughput: higher is better, "
      "ratio = tubo / baseline. Latency (µs): lower is better, ratio = tubo / baseline.\n")
    p("## Goals\n")
    met, unmet = goals_table(D, p)
    p(f"\n{met} met, {unmet} not met.\n")
    p("## Every workload\n")
    workloads_table(D, p)
    p("\n## Round trip through the C ABI and the bindings (section abi)\n")
    p("Send of an S-byte message and receive of its echo, timed per round trip, from the "
      "C++ API (tubo_bench), the C ABI (abi_bench.c), the Go binding (go/abi_bench.go), the "
      "Python binding (abi_bench_py.py) and CPython's multiprocessing.connection.Connection "
      "(mp_bench.py rt), all against the same raw-C echo peer (echo_peer.c) over two 1 MiB "
      "pipes, both processes on one CPU. Latency: lower is better.\n")
    abi_table(D, p)
    p("\n## The pool from Python (section pool)\n")
    p("100 000 tasks of 8 bytes in and out on 2 workers, tasks/s (joblib with batch_size=1 "
      "and loky at chunksize=1: 10 000), all from one run of bench/mp_bench.py pool, each "
      "tubo figure right after its CPython twin (chunksize 64 and the default: the median of 5 "
      "rounds, the two in turn). Throughput: higher is better.\n")
    pool_table(D, p)
    text = "\n".join(o) + "\n"
    print(text)
    if md_path:
        with open(md_path, "w") as f:
            f.write(text)
    for name in sorted(k for k in D.vals if k.startswith("lib.") and ".info." not in k):
        print(f"{name} {D.med(name):.6g} {D.units[name]}")


if __name__ == "__main__":
    main()
