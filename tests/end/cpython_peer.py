"""A peer that speaks contract 1 through CPython's own implementation.

Uses nothing but multiprocessing.connection.Connection on inherited fds, so the
C++ tests prove byte compatibility with CPython in both directions.

Commands (IN and OUT are fd numbers; the same number means one duplex
connection):
  echo IN OUT             receive each message, check it is pattern(len, len),
                          send it back; at EOF send b"done <count>" and exit
  generate OUT SIZE...    send pattern(SIZE, SIZE) for each SIZE
  large IN OUT SIZE       receive one message, check it is pattern(SIZE, SIZE)
                          and send b"ok <crc32>"; then send pattern(SIZE, 7)
                          followed by b"<crc32>" of what was sent

pattern(size, seed): byte i is (i + seed) % 251, as in tests/test_util.h.
Any failure prints to stderr and exits 1.
"""
import sys
import zlib
from multiprocessing.connection import Connection

PERIOD = 251


def pattern_source(size):
    """bytes holding pattern(size, seed) at offset seed % 251, for any seed."""
    return bytes(range(PERIOD)) * (size // PERIOD + 2)


def connections(in_fd, out_fd):
    if in_fd == out_fd:
        conn = Connection(in_fd)
        return conn, conn
    return (Connection(in_fd, readable=True, writable=False),
            Connection(out_fd, readable=False, writable=True))


def check_pattern(data, seed):
    """Compares in 1 MiB chunks so that a 2 GiB message needs no 2 GiB copy."""
    size = len(data)
    source = memoryview(pattern_source(min(size, 1 << 20)))
    view = memoryview(data)
    chunk = 1 << 20
    for off in range(0, size, chunk):
        n = min(chunk, size - off)
        start = (off + seed) % PERIOD
        if view[off:off + n] != source[start:start + n]:
            for i in range(off, off + n):
                if data[i] != (i + seed) % PERIOD:
                    fail("byte %d of %d is %d, want %d"
                         % (i, size, data[i], (i + seed) % PERIOD))
    return True


def fail(message):
    sys.stderr.write("cpython_peer: %s\n" % message)
    sys.exit(1)


def echo(in_fd, out_fd):
    reader, writer = connections(in_fd, out_fd)
    count = 0
    while True:
        try:
            data = reader.recv_bytes()
        except EOFError:
            break
        check_pattern(data, len(data))
        writer.send_bytes(data)
        count += 1
    writer.send_bytes(b"done %d" % count)


def generate(out_fd, sizes):
    _, writer = connections(out_fd, out_fd)
    for size in sizes:
        source = pattern_source(size)
        writer.send_bytes(source, size % PERIOD, size)


def large(in_fd, out_fd, size):
    reader, writer = connections(in_fd, out_fd)
    data = reader.recv_bytes()
    if len(data) != size:
        fail("received %d bytes, want %d" % (len(data), size))
    check_pattern(data, size)
    writer.send_bytes(b"ok %d" % zlib.crc32(data))
    del data
    source = pattern_source(size)
    view = memoryview(source)[7:7 + size]
    writer.send_bytes(view)
    writer.send_bytes(b"%d" % zlib.crc32(view))


def main(argv):
    command = argv[1]
    if command == "echo":
        echo(int(argv[2]), int(argv[3]))
    elif command == "generate":
        generate(int(argv[2]), [int(s) for s in argv[3:]])
    elif command == "large":
        large(int(argv[2]), int(argv[3]), int(argv[4]))
    else:
        fail("unknown command %r" % command)


if __name__ == "__main__":
    main(sys.argv)
