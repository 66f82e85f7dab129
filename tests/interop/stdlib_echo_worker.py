"""Cross-language matrix, worker "CPython standard library alone": the
contract of examples/cpp/echo_worker.cc with no tubo code.

CLI:  stdlib_echo_worker.py   (no arguments; started by a parent that passes
  channels `in` (mode r) and `out` (mode w) in TUBO_CHANNELS, contract 2)
  Echoes every message from `in` to `out` unchanged until end of stream,
  closes `out`, exits 0. A missing or malformed channel, or a framing error,
  is printed on stderr ("echo_worker: ...") with exit 1.
Limitation: it receives with CPython's multiprocessing.connection, which
detects a truncated message but reads a negative length other than -1 as an
empty message (tubo's workers reject it).
"""
import os
import sys
from multiprocessing.connection import Connection


def fail(why):
    print("echo_worker: %s" % why, file=sys.stderr)
    return 1


def channels():
    found = {}
    for entry in os.environ.get("TUBO_CHANNELS", "").split(","):
        name, fd, mode = entry.split(":")
        found[name] = (int(fd), mode)
    return found


def main():
    try:
        found = channels()
        (in_fd, in_mode), (out_fd, out_mode) = found["in"], found["out"]
    except (KeyError, ValueError) as e:
        return fail("TUBO_CHANNELS=%r: no channels in (r) and out (w): %s"
                    % (os.environ.get("TUBO_CHANNELS"), e))
    if (in_mode, out_mode) != ("r", "w"):
        return fail("channels in and out have modes %r and %r, not r and w" % (in_mode, out_mode))
    try:
        os.fstat(in_fd)
        os.fstat(out_fd)
    except OSError as e:
        return fail("channel fd not open: %s" % e)
    reader = Connection(in_fd, readable=True, writable=False)
    writer = Connection(out_fd, readable=False, writable=True)
    while True:
        try:
            message = reader.recv_bytes()
        except EOFError:
            break
        except OSError as e:  # "got end of file during message"
            return fail("recv on fd %d: truncated message: %s" % (in_fd, e))
        try:
            writer.send_bytes(message)
        except OSError as e:
            return fail("send on fd %d: %s" % (out_fd, e))
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
