"""Contract 1 against CPython's own multiprocessing.connection, both ways, and
the binding driving the C++ and C echo workers by contract 2."""
import os
import threading
import unittest
from multiprocessing.connection import Connection as StdConnection

import testing
import tubo

SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 << 20]


def message(size):
    return bytes((i * 31 + size) & 0xFF for i in range(size)) if size < 70000 else os.urandom(size)


def send_then_close(w, messages):
    for m in messages:
        w.send_bytes(m)
    w.close()


def receive_until_eof(r):
    got = []
    try:
        while True:
            got.append(r.recv_bytes())
    except EOFError:
        pass
    return got


class CPythonWireTest(unittest.TestCase):
    def transfer(self, w, r):
        """Messages of every size in SIZES from ``w`` (in a thread) to ``r``, then EOF."""
        sent = [message(s) for s in SIZES]
        t = threading.Thread(target=send_then_close, args=(w, sent))
        t.start()
        got = receive_until_eof(r)
        t.join()
        r.close()
        self.assertEqual(got, sent)

    def test_tubo_sends_cpython_receives(self):
        rfd, wfd = os.pipe()
        self.transfer(tubo.Connection.adopt_fd(wfd, readable=False),
                      StdConnection(rfd, writable=False))

    def test_cpython_sends_tubo_receives(self):
        rfd, wfd = os.pipe()
        self.transfer(StdConnection(wfd, readable=False),
                      tubo.Connection.adopt_fd(rfd, writable=False))

    def test_duplex_with_a_cpython_socket_connection(self):
        a, b = tubo.Pipe()
        peer = StdConnection(os.dup(b.fileno()))
        b.close()
        a.send_bytes(b"to cpython")
        self.assertEqual(peer.recv_bytes(), b"to cpython")
        peer.send_bytes(b"to tubo")
        self.assertEqual(a.recv_bytes(), b"to tubo")
        peer.close()
        self.assertRaises(EOFError, a.recv_bytes)
        a.close()


class EchoWorkerTest(unittest.TestCase):
    def drive(self, worker):
        to_r, to_w = tubo.Pipe(duplex=False)
        back_r, back_w = tubo.Pipe(duplex=False)
        p = tubo.Command(worker).channel("in", to_r).channel("out", back_w).spawn()
        for size in SIZES:
            m = message(size)
            to_w.send_bytes(m)
            self.assertEqual(back_r.recv_bytes(), m, size)
        to_w.close()
        self.assertRaises(EOFError, back_r.recv_bytes)
        p.join()
        self.assertEqual(p.exitcode, 0)
        back_r.close()

    def test_cpp_echo_worker(self):
        self.drive(testing.runfile("examples/cpp/echo_worker"))

    def test_c_echo_worker(self):
        self.drive(testing.runfile("examples/c/echo_worker"))


if __name__ == "__main__":
    unittest.main()
