"""Cross-language pool matrix, worker "CPython stdlib": a pool worker
(contract 4) with nothing but Python's standard library, serving the task
language of tests/pool/workers.h that the matrix uses: "echo X" returns X,
"fail MSG" fails with MSG, "kill X" SIGKILLs the worker; anything else fails
with "unknown task". (tests/pool/stdlib_worker.py is the same protocol with
the upper-casing task language of the pool tests.)

CLI:  stdlib_pool_worker.py   (run by a pool with the exec start method)
"""
import os
import signal
import struct
from multiprocessing.connection import Connection

DONE, FAILED, READY = 0, 1, 2


def run(body):
    """(status, bytes) for one task."""
    op, _, arg = body.partition(b" ")
    if op == b"echo":
        return DONE, arg
    if op == b"fail":
        return FAILED, arg
    if op == b"kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return FAILED, b"unknown task %r" % body[:40]


def main():
    # TUBO_CHANNELS (contract 2): "name:fd:mode,..."
    chans = {name: int(fd) for name, fd, _ in
             (c.split(":") for c in os.environ["TUBO_CHANNELS"].split(","))}
    tasks = Connection(chans["tasks"], writable=False)
    results = Connection(chans["results"], readable=False)
    results.send_bytes(struct.pack(">QB", 0, READY))
    while True:
        try:
            frame = tasks.recv_bytes()
        except EOFError:
            return 0
        (task_id,) = struct.unpack(">Q", frame[:8])
        status, body = run(frame[8:])
        results.send_bytes(struct.pack(">QB", task_id, status) + body)


if __name__ == "__main__":
    raise SystemExit(main())
