"""A CPython exec worker for tubo (contract 2), with nothing but the standard
library: it finds its channels in TUBO_CHANNELS and speaks contract 1 through
multiprocessing.connection.Connection.

Channels "in" (r) and "out" (w): echoes every message from "in" to "out"
until end of stream. Or channel "io" (rw): echoes on it. Exits 0, or 3 with a
message on stderr if the channels are not as expected.
"""
import os
import sys
from multiprocessing.connection import Connection


def channels():
    spec = os.environ.get("TUBO_CHANNELS", "")
    found = {}
    for entry in spec.split(","):
        name, fd, mode = entry.split(":")
        found[name] = (int(fd), mode)
    return found


def echo(reader, writer):
    while True:
        try:
            message = reader.recv_bytes()
        except EOFError:
            return
        writer.send_bytes(message)


def main():
    found = channels()
    if "io" in found:
        fd, mode = found["io"]
        if mode != "rw":
            sys.exit("worker.py: io has mode %r" % mode)
        conn = Connection(fd)
        echo(conn, conn)
        conn.close()
        return 0
    (in_fd, in_mode), (out_fd, out_mode) = found["in"], found["out"]
    if (in_mode, out_mode) != ("r", "w"):
        print("worker.py: modes %r %r" % (in_mode, out_mode), file=sys.stderr)
        return 3
    reader = Connection(in_fd, readable=True, writable=False)
    writer = Connection(out_fd, readable=False, writable=True)
    echo(reader, writer)
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
