#!/usr/bin/env python3
"""mp_bench.py -- the CPython baseline: tubo's workloads done with multiprocessing.

Adapted from the reference harness's py/mp_bench.py (../shared/anchor-bench/py/):
same workload names and method; run by tools/bench with /usr/bin/python3.

Output: "py.<workload>.<metric> value unit" lines.
  tp.<S>        Pipe(duplex=False); the parent send_bytes() N messages of S
                bytes (first 8 bytes = sequence number, last byte = its low
                byte); a fork-started child recv_bytes() until EOFError,
                checking length, sequence and last byte. Timed from "child
                ready" to "child reported its count". MB = 1e6 payload bytes.
  tp_into.<S>   the same, the child using recv_bytes_into (large sizes)
  pp_pipe_samecpu.<S>, pp_pipe_xcpu.<S>   two Pipe(duplex=False), the child
                echoes recv_bytes -> send_bytes; both on CPU 0 / parent on CPU 0
                and child on CPU 1. Round trip in microseconds.
  spawn.mp_<method>   ctx.Process(target=noop).start(); .join(), for fork,
                spawn and forkserver (warm-up runs excluded, so the forkserver's
                own start is not counted)
  spawn.mp_<method>_ready   for spawn and forkserver: start until the
                worker's first message (1 byte through a Pipe(duplex=False)),
                then join: tubo_bench's self_ready and forkserver_ready
  rt.<S>        the baseline of the "abi" section's Python goal: two os.pipe()s
                wrapped in multiprocessing.connection.Connection; the parent
                send_bytes() an S-byte message to bench/echo_peer (raw C,
                subprocess with TUBO_CHANNELS, as tubo's Command passes them)
                and recv_bytes() its echo. Same peer and counts as the
                tubo programs (tubo_bench.cc RoundTrip, abi_bench_py.py).
  mem.<S>       peak RSS growth of a fresh (spawn) process receiving one S-byte
                message with recv_bytes, as a ratio to S
  pool.*        100 000 tiny tasks on 2 workers: multiprocessing.Pool.map,
                ProcessPoolExecutor.map, joblib and loky (py.pool.*), and
                tubo's Python pool beside them (lib.pool_py.*: tubo's own
                figures, so named for bench/summarize.py; tools/bench puts
                tubo on PYTHONPATH for this section). See pool_bench().
                What is not installed prints a "# ...: skipped: ..." line.

Usage: python3 mp_bench.py <tp|pp|spawn|mem|rt|pool|all> [--scale F] [--peer PATH]
Keep top-level imports light: spawn/forkserver children re-import this module.
"""
import multiprocessing as mp
import os
import statistics
import struct
import sys
import time

SCALE = 1.0
SIZES = [(8, "8B"), (64, "64B"), (1024, "1KiB"), (64 << 10, "64KiB"),
         (1 << 20, "1MiB"), (16 << 20, "16MiB")]
# message counts per size at --scale 1 (~0.5-1 s each for CPython on a 2-vCPU VM)
COUNTS = [300_000, 300_000, 200_000, 10_000, 500, 32]


def out(name, value, unit):
    print(f"{name} {value} {unit}", flush=True)


def scaled(n, lo):
    return max(lo, int(n * SCALE))


def stamp(buf, size, seq):
    if size >= 8:
        struct.pack_into("<Q", buf, 0, seq)
    if size > 8:
        buf[size - 1] = seq & 0xff


def verify(m, size, seq):
    if len(m) < size:
        return False
    if size >= 8 and int.from_bytes(m[:8], "little") != seq:
        return False
    return size <= 8 or m[size - 1] == (seq & 0xff)


# ---------------------------------------------------------------- throughput

def _tp_child(r, w, status_w, size, into):
    w.close()                       # drop our copy of the write end -> EOF works
    status_w.send_bytes(b"R")
    count = 0
    ok = 1
    try:
        if into:
            buf = bytearray(size)
            while True:
                n = r.recv_bytes_into(buf)
                if n != size or not verify(buf, size, count):
                    ok = 0
                    break
                count += 1
        else:
            while True:
                m = r.recv_bytes()
                if len(m) != size or not verify(m, size, count):
                    ok = 0
                    break
                count += 1
    except EOFError:
        pass
    status_w.send_bytes(struct.pack("<Qi", count, ok))


def throughput(size, label, n, into=False):
    ctx = mp.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    sr, sw = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_tp_child, args=(r, w, sw, size, into))
    p.start()
    r.close()
    sw.close()
    payload = bytearray(b"\xab" * size)
    send = w.send_bytes
    assert sr.recv_bytes() == b"R"
    t0 = time.perf_counter()
    for i in range(n):
        stamp(payload, size, i)
        send(payload)
    w.close()                       # EOF
    count, ok = struct.unpack("<Qi", sr.recv_bytes())
    t1 = time.perf_counter()
    p.join()
    name = "py.%s.%s" % ("tp_into" if into else "tp", label)
    if not ok or count != n or p.exitcode != 0:
        print(f"{name} VALIDATION FAILED count={count}/{n}", file=sys.stderr)
        out(name + ".msgs", "FAILED", "-")
        return
    secs = t1 - t0
    out(name + ".msgs", "%.0f" % (n / secs), "msg/s")
    out(name + ".MBps", "%.1f" % (n * size / secs / 1e6), "MB/s")


# ----------------------------------------------------------------- ping-pong

def _pp_child(r, w, to_close, cpu):
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    for c in to_close:
        c.close()
    recv, send = r.recv_bytes, w.send_bytes
    try:
        while True:
            send(recv())
    except EOFError:
        pass


def report_lat(name, v):
    v.sort()
    n = len(v)
    out(name + ".p50", "%.3f" % (v[n // 2] / 1e3), "us")
    out(name + ".p99", "%.3f" % (v[int(0.99 * (n - 1) + 0.5)] / 1e3), "us")
    out(name + ".mean", "%.3f" % (sum(v) / n / 1e3), "us")
    out(name + ".n", n, "runs")


def pingpong(size, label, iters, warm, pin):
    """pin 1: both on CPU 0; pin 2: parent CPU 0, child CPU 1."""
    if pin == 2 and os.cpu_count() < 2:
        return
    ctx = mp.get_context("fork")
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    c_r, p_w = ctx.Pipe(duplex=False)   # parent -> child
    p_r, c_w = ctx.Pipe(duplex=False)   # child -> parent
    p = ctx.Process(target=_pp_child, args=(c_r, c_w, (p_w, p_r), 1 if pin == 2 else None))
    p.start()
    c_r.close()
    c_w.close()
    msg = bytearray(b"\xcd" * size)
    send, recv = p_w.send_bytes, p_r.recv_bytes
    clock = time.perf_counter_ns
    lat = []
    for i in range(warm + iters):
        stamp(msg, size, i)
        t0 = clock()
        send(msg)
        m = recv()
        t1 = clock()
        if len(m) != size or not verify(m, size, i):
            raise SystemExit("pp validation failed")
        if i >= warm:
            lat.append(t1 - t0)
    p_w.close()
    p_r.close()
    p.join()
    os.sched_setaffinity(0, saved)
    report_lat("py.pp_pipe_%s.%s" % ("samecpu" if pin == 1 else "xcpu", label), lat)


# ------------------------------------------------------------ rt (abi section)

# Shared with tubo_bench.cc, abi_bench.c, go/abi_bench.go and abi_bench_py.py.
RT = [(8, "8B", 20000), (1024, "1KiB", 20000), (64 << 10, "64KiB", 4000),
      (1 << 20, "1MiB", 400)]


def round_trip(peer, size, label, iters, warm):
    import subprocess
    from multiprocessing.connection import Connection
    c_r, p_w = os.pipe()    # parent -> peer
    p_r, c_w = os.pipe()    # peer -> parent
    env = dict(os.environ, TUBO_CHANNELS="in:%d:r,out:%d:w" % (c_r, c_w))
    child = subprocess.Popen([peer], pass_fds=(c_r, c_w), env=env)
    os.close(c_r)
    os.close(c_w)
    w = Connection(p_w, readable=False)
    r = Connection(p_r, writable=False)
    msg = bytearray(b"\xcd" * size)
    send, recv = w.send_bytes, r.recv_bytes
    clock = time.perf_counter_ns
    lat = []
    for i in range(warm + iters):
        stamp(msg, size, i)
        t0 = clock()
        send(msg)
        m = recv()
        t1 = clock()
        if len(m) != size or not verify(m, size, i):
            raise SystemExit("rt validation failed")
        if i >= warm:
            lat.append(t1 - t0)
    w.close()
    if child.wait() != 0:
        raise SystemExit("echo_peer exited %d" % child.returncode)
    r.close()
    report_lat("py.rt." + label, lat)


# --------------------------------------------------------------------- spawn

def noop():
    pass


def ready(w):
    w.send_bytes(b"!")


def timed_runs(name, fn, runs, cap_s, warm=3):
    for _ in range(warm):
        fn()
    lat = []
    clock = time.perf_counter_ns
    start = clock()
    for i in range(runs):
        t0 = clock()
        fn()
        t1 = clock()
        lat.append(t1 - t0)
        if (t1 - start) / 1e9 > cap_s and i >= 19:
            break
    report_lat(name, lat)


def spawn_bench(runs, cap_s):
    for method in ("fork", "spawn", "forkserver"):
        ctx = mp.get_context(method)

        def one(ctx=ctx):
            p = ctx.Process(target=noop)
            p.start()
            p.join()
            if p.exitcode != 0:
                raise SystemExit(f"child failed ({ctx.get_start_method()})")
        timed_runs(f"py.spawn.mp_{method}", one, runs, cap_s)
    for method in ("spawn", "forkserver"):
        ctx = mp.get_context(method)

        def one_ready(ctx=ctx):
            r, w = ctx.Pipe(duplex=False)
            p = ctx.Process(target=ready, args=(w,))
            p.start()
            w.close()
            if r.recv_bytes() != b"!":
                raise SystemExit(f"no ready message ({ctx.get_start_method()})")
            r.close()
            p.join()
            if p.exitcode != 0:
                raise SystemExit(f"child failed ({ctx.get_start_method()})")
        timed_runs(f"py.spawn.mp_{method}_ready", one_ready, runs, cap_s)


# ----------------------------------------------------------------------- mem

def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _mem_child(r, report_w, size):
    r.recv_bytes()                  # a first small message, as tubo_bench does
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                # reset the peak RSS to the current RSS
    m = r.recv_bytes()
    peak = _status_kib("VmHWM")
    ok = len(m) == size and verify(m, size, 7)
    report_w.send_bytes(struct.pack("<qi", (peak - before) * 1024, ok))


def mem_bench(size, label):
    ctx = mp.get_context("spawn")   # a fresh interpreter, not a copy of this heap
    r, w = ctx.Pipe(duplex=False)
    rr, rw = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_mem_child, args=(r, rw, size))
    p.start()
    r.close()
    rw.close()
    w.send_bytes(b"hello")
    payload = bytearray(b"\x11" * size)
    stamp(payload, size, 7)
    w.send_bytes(payload)
    w.close()
    growth, ok = struct.unpack("<qi", rr.recv_bytes())
    p.join()
    if not ok or p.exitcode != 0:
        raise SystemExit("mem validation failed")
    out(f"py.mem.{label}.ratio", "%.3f" % (growth / size), "x")
    out(f"py.mem.{label}.growth", "%.2f" % (growth / 1048576), "MiB")


# ---------------------------------------------------------------------- pool

def _echo(b):
    return b


def _rate(name, n, run, expected):
    """Times run() (which returns the results of the n tasks), checks them,
    returns the rate."""
    t0 = time.perf_counter()
    got = run()
    secs = time.perf_counter() - t0
    if got != expected:
        raise SystemExit(f"{name}: validation failed")
    return n / secs


def _timed_rate(name, n, run, expected):
    out(name, "%.0f" % _rate(name, n, run, expected), "tasks/s")


def _timed_rates(n, expected, runs, reps):
    """The median rate of each of runs, (name, run), over reps rounds that
    take them in turn (a map taking 0.1 s is at the mercy of one
    preemption), printed in order."""
    rates = {name: [] for name, _ in runs}
    for _ in range(reps):
        for name, run in runs:
            rates[name].append(_rate(name, n, run, expected))
    for name, _ in runs:
        out(name, "%.0f" % statistics.median(rates[name]), "tasks/s")


def _skipped(name, why):
    print(f"# {name}: skipped: {why}", flush=True)


def _import_tubo():
    try:
        import tubo
    except ImportError as e:
        _skipped("lib.pool_py", f"tubo not importable ({e}; tools/bench sets PYTHONPATH)")
        return None
    return tubo


def _import_loky():
    """loky on its own, or the copy joblib carries (joblib.externals.loky)."""
    try:
        import loky
        return loky
    except ImportError:
        pass
    try:
        from joblib.externals import loky
        return loky
    except ImportError:
        return None


POOL_CHUNKS = (("chunk1", 1), ("chunk64", 64), ("chunkdefault", None))


def pool_bench(n):
    """100 000 tiny tasks (8 B in, 8 B out) on 2 workers, tasks/s. CPython:
    multiprocessing.Pool.map at chunksize 1, 64 and its default, and
    ProcessPoolExecutor.map at chunksize 1 (spawn start method, as tubo's
    workers are fresh processes). tubo's Python binding, same workload, each
    measured right after its CPython twin (both pools up at once, idle
    workers cost nothing): tubo.Pool.map and tubo.ProcessPoolExecutor.map
    (lib.pool_py.*). joblib.Parallel (loky backend) with batch_size 1 and
    'auto', and loky's reusable executor .map at chunksize 1 (py.pool.joblib_*,
    py.pool.loky_*), when installed (tools/setup: python3-joblib); their
    one-task-at-a-time runs (about 0.4 ms a task) take a tenth of the tasks.
    The maps at chunksize 64 and the default (0.03-0.2 s each) are the
    median of 5 rounds, CPython's and tubo's in turn."""
    import concurrent.futures
    ctx = mp.get_context("spawn")
    tasks = [b"%08d" % (i % 100000000) for i in range(n)]
    tubo = _import_tubo()
    with ctx.Pool(2) as pool:
        pool.map(_echo, tasks[:8])  # both workers up
        tpool = None
        if tubo is not None:
            tpool = tubo.Pool(2)
            tpool.map(_echo, tasks[:8])
        try:
            for label, chunksize in POOL_CHUNKS:
                runs = [(f"py.pool.map_{label}.8B.rate",
                         lambda: pool.map(_echo, tasks, chunksize=chunksize))]
                if tpool is not None:
                    runs.append((f"lib.pool_py.map_{label}.8B.rate",
                                 lambda: tpool.map(_echo, tasks, chunksize=chunksize)))
                _timed_rates(n, tasks, runs, 1 if chunksize == 1 else 5)
        finally:
            if tpool is not None:
                tpool.terminate()
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        list(ex.map(_echo, tasks[:8]))
        _timed_rate("py.pool.executor_chunk1.8B.rate", n,
                    lambda: list(ex.map(_echo, tasks, chunksize=1)), tasks)
    if tubo is not None:
        with tubo.ProcessPoolExecutor(2) as ex:
            list(ex.map(_echo, tasks[:8]))
            _timed_rate("lib.pool_py.executor_chunk1.8B.rate", n,
                        lambda: list(ex.map(_echo, tasks, chunksize=1)), tasks)
    try:
        import joblib
    except ImportError:
        _skipped("py.pool.joblib", "joblib not installed (tools/setup: apt python3-joblib)")
    else:
        with joblib.parallel_backend("loky", n_jobs=2):
            joblib.Parallel()(joblib.delayed(_echo)(t) for t in tasks[:8])
            for label, batch, part in (("batch1", 1, tasks[:max(n // 10, 8)]),
                                       ("batchauto", "auto", tasks)):
                _timed_rate(f"py.pool.joblib_{label}.8B.rate", len(part),
                            lambda: joblib.Parallel(batch_size=batch)(
                                joblib.delayed(_echo)(t) for t in part), part)
    loky = _import_loky()
    if loky is None:
        _skipped("py.pool.loky", "loky not installed (tools/setup: apt python3-joblib)")
    else:
        ex = loky.get_reusable_executor(max_workers=2)
        list(ex.map(_echo, tasks[:8]))
        part = tasks[:max(n // 10, 8)]
        _timed_rate("py.pool.loky_executor_chunk1.8B.rate", len(part),
                    lambda: list(ex.map(_echo, part, chunksize=1)), part)
        ex.shutdown(wait=True)


# ---------------------------------------------------------------------- main

def main():
    global SCALE
    what = "all"
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_peer")
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        if args[i] == "--scale":
            SCALE = float(args[i + 1])
            i += 2
            continue
        if args[i] == "--peer":
            peer = args[i + 1]
            i += 2
            continue
        what = args[i]
        i += 1
    out("py.info.nproc", os.cpu_count(), "cpus")
    out("py.info.version", sys.version.split()[0], "cpython")
    if what in ("all", "tp"):
        for (size, label), n in zip(SIZES, COUNTS):
            throughput(size, label, scaled(n, 16))
        for (size, label), n in list(zip(SIZES, COUNTS))[3:]:
            throughput(size, label, scaled(n, 16), into=True)
    if what in ("all", "pp"):
        it = scaled(20000, 200)
        for pin in (1, 2):
            for size, label in ((8, "8B"), (4096, "4KiB")):
                pingpong(size, label, it, it // 20, pin)
    if what in ("all", "spawn"):
        spawn_bench(scaled(300, 20), 4.0 * min(1.0, max(SCALE, 0.25)))
    if what in ("all", "rt"):
        for size, label, n in RT:
            it = scaled(n, 50)
            round_trip(peer, size, label, it, max(5, it // 20))
    if what in ("all", "pool"):
        pool_bench(scaled(100000, 2000))
    if what in ("all", "mem"):
        for size, label in ((1 << 20, "1MiB"), (16 << 20, "16MiB"), (128 << 20, "128MiB")):
            mem_bench(size, label)


if __name__ == "__main__":
    main()
