#!/usr/bin/env python3
"""abi_bench_py.py -- the round trip of tubo_bench's "abi" section (rt.<S>)
through the Python binding (bindings/python/tubo, ctypes over libtubo.so.1).

The parent send_bytes() an S-byte message to bench/echo_peer (spawned with
tubo.Command, channels "in"/"out"), then recv_bytes() its echo. Same peer,
sizes, counts and payload layout as tubo_bench.cc's RoundTrip; the CPython
baseline is mp_bench.py's "rt" (multiprocessing.connection.Connection over
the same two pipes and the same peer).

Output: "lib.rt_py.<S>.{p50,p99,mean,n}" lines (microseconds).
Usage: PYTHONPATH=bindings/python TUBO_LIBRARY=.../libtubo.so.1 \
       python3 abi_bench_py.py [--scale F] [--peer PATH]
"""
import os
import struct
import sys
import time

import tubo

# Shared with tubo_bench.cc, abi_bench.c, go/abi_bench.go and mp_bench.py (rt).
RT = [(8, "8B", 20000), (1024, "1KiB", 20000), (64 << 10, "64KiB", 4000),
      (1 << 20, "1MiB", 400)]


def stamp(buf, size, seq):
    if size >= 8:
        struct.pack_into("<Q", buf, 0, seq)
    if size > 8:
        buf[size - 1] = seq & 0xff


def verify(m, size, seq):
    if len(m) != size:
        return False
    if size >= 8 and int.from_bytes(m[:8], "little") != seq:
        return False
    return size <= 8 or m[size - 1] == (seq & 0xff)


def report(name, v):
    v.sort()
    n = len(v)
    print("%s.p50 %.3f us" % (name, v[n // 2] / 1e3))
    print("%s.p99 %.3f us" % (name, v[int(0.99 * (n - 1) + 0.5)] / 1e3))
    print("%s.mean %.3f us" % (name, sum(v) / n / 1e3))
    print("%s.n %d runs" % (name, n), flush=True)


def round_trip(peer, size, label, iters, warm):
    p2c_r, p2c_w = tubo.Pipe(duplex=False)
    c2p_r, c2p_w = tubo.Pipe(duplex=False)
    child = tubo.Command(peer).channel("in", p2c_r).channel("out", c2p_w).spawn()
    msg = bytearray(b"\xcd" * size)
    send, recv = p2c_w.send_bytes, c2p_r.recv_bytes
    clock = time.perf_counter_ns
    lat = []
    for i in range(warm + iters):
        stamp(msg, size, i)
        t0 = clock()
        send(msg)
        m = recv()
        t1 = clock()
        if not verify(m, size, i):
            raise SystemExit("abi_bench_py: bad echo")
        if i >= warm:
            lat.append(t1 - t0)
    p2c_w.close()
    child.join()
    if child.exitcode != 0:
        raise SystemExit("abi_bench_py: echo_peer exited %s" % child.exitcode)
    c2p_r.close()
    report("lib.rt_py." + label, lat)


def main():
    scale = 1.0
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_peer")
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        if args[i] == "--scale":
            scale = float(args[i + 1])
            i += 1
        elif args[i] == "--peer":
            peer = args[i + 1]
            i += 1
        i += 1
    for size, label, n in RT:
        it = max(50, int(n * scale))
        round_trip(peer, size, label, it, max(5, it // 20))


if __name__ == "__main__":
    main()
