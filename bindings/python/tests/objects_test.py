"""Connection.send(obj)/recv(): the very bytes of CPython's Connection.send/recv,
objects both ways with a child that has only the standard library, the classic
pipeline of the multiprocessing docs, and recv_bytes's size and error rules."""
import os
import sys
import unittest
from multiprocessing.connection import Connection as StdConnection
from multiprocessing.reduction import ForkingPickler

import tubo

# A child with the standard library alone: it takes channels "in" (r) and "out"
# (w) from TUBO_CHANNELS and, for every object it receives with
# multiprocessing's Connection.recv, sends back ("echo", obj) with its send.
STDLIB_PEER = r"""
import os
from multiprocessing.connection import Connection
fds = {e.split(":")[0]: int(e.split(":")[1]) for e in os.environ["TUBO_CHANNELS"].split(",")}
inp = Connection(fds["in"], writable=False)
out = Connection(fds["out"], readable=False)
try:
    while True:
        out.send(("echo", inp.recv()))
except EOFError:
    pass
out.close()
"""

OBJECTS = [None, 0, -1, 2 ** 70, 3.5, "text é", b"\x00bytes", [1, [2, [3]]], {"k": (1, 2)},
           set(range(10)), bytearray(b"x" * 70000), list(range(50000)), ValueError("boom")]


def classic_f(conn):
    """The function of the multiprocessing docs' Pipe example."""
    conn.send([42, None, "hello"])
    conn.close()


def echo_objects(conn):
    """Receives objects until EOF and sends each back, doubled in a tuple."""
    try:
        while True:
            obj = conn.recv()
            conn.send((obj, obj))
    except EOFError:
        pass


def same(a, b):
    if isinstance(a, BaseException):
        return type(a) is type(b) and a.args == b.args
    return a == b


class ByteCompatibilityTest(unittest.TestCase):
    def test_send_writes_forkingpicklers_bytes(self):
        r, w = tubo.Pipe(duplex=False)
        for obj in OBJECTS[:6]:
            w.send(obj)
            self.assertEqual(r.recv_bytes(), bytes(ForkingPickler.dumps(obj)))
        r.close()
        w.close()

    def test_stdlib_and_tubo_in_one_process_both_ways(self):
        a, b = tubo.Pipe()
        peer = StdConnection(os.dup(b.fileno()))
        b.close()
        a.send({"to": "cpython"})
        self.assertEqual(peer.recv(), {"to": "cpython"})
        peer.send(["to", "tubo"])
        self.assertEqual(a.recv(), ["to", "tubo"])
        peer.close()
        self.assertRaises(EOFError, a.recv)
        a.close()


class StdlibChildTest(unittest.TestCase):
    def test_objects_both_ways_with_a_stdlib_child(self):
        to_r, to_w = tubo.Pipe(duplex=False)
        back_r, back_w = tubo.Pipe(duplex=False)
        p = (tubo.Command(sys.executable, "-c", STDLIB_PEER)
             .channel("in", to_r).channel("out", back_w).spawn())
        for obj in OBJECTS:
            to_w.send(obj)
            tag, got = back_r.recv()
            self.assertEqual(tag, "echo")
            self.assertTrue(same(got, obj), (got, obj))
        to_w.close()
        self.assertRaises(EOFError, back_r.recv)
        p.join()
        self.assertEqual(p.exitcode, 0)
        back_r.close()


class ProcessTest(unittest.TestCase):
    def test_the_classic_pipeline_of_the_multiprocessing_docs(self):
        parent_conn, child_conn = tubo.Pipe()
        p = tubo.Process(target=classic_f, args=(child_conn,))
        p.start()
        self.assertEqual(parent_conn.recv(), [42, None, "hello"])
        p.join()
        self.assertEqual(p.exitcode, 0)
        self.assertRaises(EOFError, parent_conn.recv)
        parent_conn.close()

    def test_objects_both_ways_with_a_tubo_child(self):
        here, there = tubo.Pipe()
        p = tubo.Process(target=echo_objects, args=(there,))
        p.start()
        for obj in OBJECTS:
            here.send(obj)
            got = here.recv()
            self.assertTrue(same(got[0], obj) and same(got[1], obj), (got, obj))
        here.close_write()
        self.assertRaises(EOFError, here.recv)
        p.join()
        self.assertEqual(p.exitcode, 0)
        here.close()


class ErrorRulesTest(unittest.TestCase):
    def test_eof_again_and_again(self):
        r, w = tubo.Pipe(duplex=False)
        w.send(1)
        w.close()
        self.assertEqual(r.recv(), 1)
        self.assertRaises(EOFError, r.recv)
        self.assertRaises(EOFError, r.recv)
        r.close()

    def test_a_message_over_max_message_size_is_sticky(self):
        r, w = tubo.Pipe(duplex=False)
        r.max_message_size = 100
        w.send("x" * 1000)
        w.send("small")
        self.assertRaises(tubo.MessageTooLargeError, r.recv)
        self.assertRaises(tubo.MessageTooLargeError, r.recv)
        r.close()
        w.close()

    def test_a_truncated_message(self):
        rfd, wfd = os.pipe()
        r = tubo.Connection.adopt_fd(rfd, writable=False)
        whole = bytes(ForkingPickler.dumps(list(range(100))))
        os.write(wfd, len(whole).to_bytes(4, "big") + whole[:10])
        os.close(wfd)
        self.assertRaises(tubo.TruncatedMessageError, r.recv)
        r.close()

    def test_closed_and_wrong_direction(self):
        r, w = tubo.Pipe(duplex=False)
        self.assertRaises(tubo.InvalidArgumentError, r.send, 1)
        self.assertRaises(tubo.InvalidArgumentError, w.recv)
        r.close()
        self.assertRaises(BrokenPipeError, w.send, 1)
        w.close()
        self.assertRaises(tubo.ClosedError, w.send, 1)
        self.assertRaises(tubo.ClosedError, r.recv)

    def test_a_connection_cannot_be_sent(self):
        a, b = tubo.Pipe()
        self.assertRaisesRegex(TypeError, "handed to a child", a.send, b)
        a.close()
        b.close()

    def test_not_a_pickle(self):
        r, w = tubo.Pipe(duplex=False)
        w.send_bytes(b"not a pickle")
        w.send(2)
        self.assertRaises(Exception, r.recv)
        self.assertEqual(r.recv(), 2)  # the bad message was consumed, the stream is fine
        r.close()
        w.close()


if __name__ == "__main__":
    unittest.main()
