"""Cross-language matrix, parent "CPython standard library alone": drives an
echo worker with no tubo code, by contract 2 (os.posix_spawn, the pipe ends
dup2'ed onto fds 3 and 4, TUBO_CHANNELS=in:3:r,out:4:w) and contract 1
(multiprocessing.connection.Connection).

CLI:  stdlib_parent.py [--] <worker argv...>
  Same protocol and output as parent.py: sizes 0, 1, 16383, 16384, 16385,
  65535, 65536, 65537 and 1 MiB echoed unchanged, EOF after closing `in`, exit
  0. Prints one summary line ("stdlib_parent.py: OK ..." or "... FAIL ...");
  exits 0 on success, 1 on failure. Gives up after 120 s.
"""
import fcntl
import os
import signal
import sys
from multiprocessing.connection import Connection

SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 << 20]


def message(size):
    return bytes((i * 7 + size) & 0xFF for i in range(size))


def fail(why):
    print("stdlib_parent.py: FAIL %s" % why)
    return 1


def high(fd):
    """A close-on-exec copy above the target fds, so dup2 never gets src == dst."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


def main(argv):
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2

    def timed_out(*_):
        raise TimeoutError("no progress in 120 s")
    signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(120)

    to_worker_r, to_worker_w = (high(fd) for fd in os.pipe())
    from_worker_r, from_worker_w = (high(fd) for fd in os.pipe())
    env = dict(os.environ, TUBO_CHANNELS="in:3:r,out:4:w")
    try:
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, to_worker_r, 3),
            (os.POSIX_SPAWN_DUP2, from_worker_w, 4),
        ])
    except OSError as e:
        return fail("spawn %s: %s" % (argv[0], e))
    finally:
        # The parent's copies of the worker's ends must go, or EOF never comes.
        os.close(to_worker_r)
        os.close(from_worker_w)
    out = Connection(to_worker_w, readable=False, writable=True)
    back = Connection(from_worker_r, readable=True, writable=False)
    size = None
    try:
        for size in SIZES:
            sent = message(size)
            out.send_bytes(sent)
            got = back.recv_bytes()
            if got != sent:
                return fail("size %d: %d bytes came back, not the same" % (size, len(got)))
        out.close()
        try:
            extra = back.recv_bytes()
            return fail("expected EOF, got %d more bytes" % len(extra))
        except EOFError:
            pass
    except EOFError:
        return fail("EOF before the echo of size %d" % size)
    except (OSError, TimeoutError) as e:
        return fail("size %d: %s: %s" % (size, type(e).__name__, e))
    finally:
        out.close()
        back.close()
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return fail("worker exited with %d" % code)
    print("stdlib_parent.py: OK %d sizes echoed by %s, EOF, exit 0" % (len(SIZES), argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
