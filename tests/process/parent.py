"""A plain CPython parent driving tubo's echo_worker (argv[1]) by contract 2:
os.posix_spawn with the pipe ends dup2'ed onto fds 3 and 4 and
TUBO_CHANNELS=in:3:r,out:4:w. Checks that every message echoes, that closing
its end gives EOFError, and that the worker exits 0. Prints OK on success.
"""
import fcntl
import os
import sys
from multiprocessing.connection import Connection

SIZES = [0, 1, 2, 255, 65535, 65536, 65537, 1 << 20]


def high(fd):
    """A close-on-exec copy above the target fds, so dup2 never gets src == dst."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


def main(worker):
    to_worker_r, to_worker_w = (high(fd) for fd in os.pipe())
    from_worker_r, from_worker_w = (high(fd) for fd in os.pipe())
    env = dict(os.environ, TUBO_CHANNELS="in:3:r,out:4:w")
    pid = os.posix_spawn(
        worker,
        [worker],
        env,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, to_worker_r, 3),
            (os.POSIX_SPAWN_DUP2, from_worker_w, 4),
        ],
    )
    # The parent's copies of the worker's ends must go, or EOF never comes.
    os.close(to_worker_r)
    os.close(from_worker_w)
    out = Connection(to_worker_w, readable=False, writable=True)
    back = Connection(from_worker_r, readable=True, writable=False)
    for size in SIZES:
        message = bytes((i * 7 + size) & 0xFF for i in range(size))
        out.send_bytes(message)
        got = back.recv_bytes()
        if got != message:
            print("size %d: got %d bytes back, not the same" % (size, len(got)))
            return 1
    out.close()
    try:
        extra = back.recv_bytes()
        print("expected EOFError, got %d bytes" % len(extra))
        return 1
    except EOFError:
        pass
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        print("echo_worker ended with %d" % os.waitstatus_to_exitcode(status))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
