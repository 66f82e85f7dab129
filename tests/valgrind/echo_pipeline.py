#!/usr/bin/env python3
"""Drives examples/cpp/echo_worker through a small pipeline, under a wrapper.

usage: echo_pipeline.py <echo_worker> [wrapper args...]
e.g.   echo_pipeline.py bazel-bin/examples/cpp/echo_worker valgrind --error-exitcode=1

The worker gets channels `in` (fd 3, read) and `out` (fd 4, write) by
contract 2, with nothing but the standard library on this side: messages of
0 bytes to 1 MiB + 1 go in with multiprocessing.connection.Connection, must
come back unchanged, then EOF; the exit status is the worker's (the
wrapper's). A reader thread drains `out` so that neither side can block the
other.
"""
import os
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

SIZES = [0, 1, 3, 4, 100, 65535, 65536, 65537, 300000, (1 << 20) + 1, 7]


def payload(n, seed):
    return bytes((i + seed) % 251 for i in range(n)) if n < 4096 else \
        (bytes(range(251)) * (n // 251 + 1))[seed % 251:][:n]


def main():
    worker, wrapper = sys.argv[1], sys.argv[2:]
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()

    def place_channels():
        # Above 4 first, so no dup2 clobbers a source; then onto 3 and 4.
        a, b = os.dup(in_r), os.dup(out_w)
        a, b = os.dup2(a, 100), os.dup2(b, 101)
        os.dup2(a, 3, inheritable=True)
        os.dup2(b, 4, inheritable=True)
        os.closerange(5, 1024)

    env = dict(os.environ, TUBO_CHANNELS="in:3:r,out:4:w")
    proc = subprocess.Popen(wrapper + [worker], env=env, preexec_fn=place_channels,
                            close_fds=False)
    os.close(in_r)
    os.close(out_w)
    received = []
    reader = Connection(out_r, readable=True, writable=False)

    def drain():
        while True:
            try:
                received.append(reader.recv_bytes())
            except EOFError:
                return

    t = threading.Thread(target=drain)
    t.start()
    with Connection(in_w, readable=False, writable=True) as writer:
        for seed, n in enumerate(SIZES):
            writer.send_bytes(payload(n, seed))
    t.join()
    reader.close()
    code = proc.wait()
    expected = [payload(n, seed) for seed, n in enumerate(SIZES)]
    if received != expected:
        print("echo_pipeline: echoed messages differ: got sizes %s, want %s"
              % ([len(m) for m in received], SIZES), file=sys.stderr)
        return 1
    print("echo_pipeline: %d messages echoed, worker exit %d" % (len(received), code))
    return code


if __name__ == "__main__":
    sys.exit(main())
