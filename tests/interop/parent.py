"""Cross-language matrix, parent "Python binding": drives an echo worker
through tubo's Python binding.

CLI:  parent.py [--] <worker argv...>
  Spawns the worker (argv[0] looked up in PATH when it has no '/') with
  channels `in` (the worker reads) and `out` (the worker writes), by contract 2.
  Sends one message of each size 0, 1, 16383, 16384, 16385, 65535, 65536,
  65537 and 1 MiB, checking that each comes back unchanged; closes `in`;
  expects EOF on `out` and the worker to exit 0.
  Prints one summary line ("parent.py: OK ..." or "parent.py: FAIL ...");
  exits 0 on success, 1 on failure. Gives up after 120 s.
Needs the `tubo` package importable (PYTHONPATH, or the py_binary target).
"""
import signal
import sys

import tubo

SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 << 20]


def message(size):
    return bytes((i * 7 + size) & 0xFF for i in range(size))


def fail(why):
    print("parent.py: FAIL %s" % why)
    return 1


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

    to_worker_r, to_worker_w = tubo.Pipe(duplex=False)
    from_worker_r, from_worker_w = tubo.Pipe(duplex=False)
    try:
        worker = (tubo.Command(argv[0], *argv[1:], search_path=True)
                  .channel("in", to_worker_r)       # consumed: no copy stays here
                  .channel("out", from_worker_w)
                  .spawn())
    except tubo.SpawnError as e:
        return fail(str(e))
    with worker, to_worker_w, from_worker_r:
        size = None
        try:
            for size in SIZES:
                sent = message(size)
                to_worker_w.send_bytes(sent)
                got = from_worker_r.recv_bytes()
                if got != sent:
                    return fail("size %d: %d bytes came back, not the same" % (size, len(got)))
            to_worker_w.close()
            try:
                extra = from_worker_r.recv_bytes()
                return fail("expected EOF, got %d more bytes" % len(extra))
            except EOFError:
                pass
        except EOFError:
            return fail("EOF before the echo of size %d" % size)
        except (OSError, TimeoutError) as e:
            return fail("size %d: %s: %s" % (size, type(e).__name__, e))
        worker.join()
        if worker.exitcode != 0:
            return fail("worker exited with %d" % worker.exitcode)
    print("parent.py: OK %d sizes echoed by %s, EOF, exit 0" % (len(SIZES), argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
