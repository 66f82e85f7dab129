"""Connection and Pipe: the multiprocessing.connection.Connection API over tubo ends."""
import array
import os
import pickle
import threading
import time
import unittest
from multiprocessing import BufferTooShort as StdBufferTooShort

import tubo


class PipeTest(unittest.TestCase):
    def test_simplex_pipe_has_a_reader_and_a_writer(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertTrue(r.readable)
            self.assertFalse(r.writable)
            self.assertFalse(w.readable)
            self.assertTrue(w.writable)

    def test_duplex_pipe_sends_both_ways(self):
        a, b = tubo.Pipe()
        with a, b:
            a.send_bytes(b"ping")
            self.assertEqual(b.recv_bytes(), b"ping")
            b.send_bytes(b"pong")
            self.assertEqual(a.recv_bytes(), b"pong")

    def test_eof_after_last_writer_closes_and_again_after(self):
        r, w = tubo.Pipe(duplex=False)
        w.send_bytes(b"last")
        w.close()
        self.assertEqual(r.recv_bytes(), b"last")
        self.assertRaises(EOFError, r.recv_bytes)
        self.assertRaises(EOFError, r.recv_bytes)
        self.assertRaises(EOFError, r.recv_bytes_into, bytearray(4))
        r.close()

    def test_send_on_reader_and_recv_on_writer_are_refused(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            with self.assertRaisesRegex(OSError, "read-only"):
                r.send_bytes(b"x")
            with self.assertRaisesRegex(OSError, "write-only"):
                w.recv_bytes()
            with self.assertRaises(OSError):
                w.poll()


class SendBytesTest(unittest.TestCase):
    def setUp(self):
        self.r, self.w = tubo.Pipe(duplex=False)

    def tearDown(self):
        self.r.close()
        self.w.close()

    def roundtrip(self, *args, **kwargs):
        self.w.send_bytes(*args, **kwargs)
        return self.r.recv_bytes()

    def test_any_buffer(self):
        self.assertEqual(self.roundtrip(b"bytes"), b"bytes")
        self.assertEqual(self.roundtrip(bytearray(b"bytearray")), b"bytearray")
        self.assertEqual(self.roundtrip(memoryview(b"view")), b"view")
        self.assertEqual(self.roundtrip(memoryview(b"0123456789")[2:5]), b"234")
        ints = array.array("i", [1, 2, 3])
        self.assertEqual(self.roundtrip(ints), ints.tobytes())
        self.assertEqual(self.roundtrip(memoryview(b"abcdef")[::2]), b"ace")  # not contiguous

    def test_offset_and_size_as_in_cpython(self):
        self.assertEqual(self.roundtrip(b"0123456789", 3), b"3456789")
        self.assertEqual(self.roundtrip(b"0123456789", 3, 2), b"34")
        self.assertEqual(self.roundtrip(bytearray(b"0123456789"), 9, 1), b"9")
        self.assertEqual(self.roundtrip(b"0123456789", 10), b"")
        self.assertEqual(self.roundtrip(array.array("i", [1, 2]), 4), array.array("i", [2]).tobytes())
        for args, message in [((-1,), "offset is negative"), ((11,), "buffer length < offset"),
                              ((0, -1), "size is negative"), ((5, 6), "offset \\+ size")]:
            with self.assertRaisesRegex(ValueError, message):
                self.w.send_bytes(b"0123456789", *args)

    def test_empty_message(self):
        self.assertEqual(self.roundtrip(b""), b"")
        self.assertEqual(self.roundtrip(bytearray()), b"")

    def test_bytes_are_written_before_send_returns(self):
        data = bytearray(b"before")
        self.w.send_bytes(data)
        data[:] = b"after!"
        self.assertEqual(self.r.recv_bytes(), b"before")

    def test_large_message_with_a_reader_thread(self):
        payload = os.urandom(3 << 20)
        got = []
        t = threading.Thread(target=lambda: got.append(self.r.recv_bytes()))
        t.start()
        self.w.send_bytes(payload)  # blocks until the thread drains the pipe: GIL released
        t.join()
        self.assertEqual(got, [payload])


class RecvBytesTest(unittest.TestCase):
    def setUp(self):
        self.r, self.w = tubo.Pipe(duplex=False)

    def tearDown(self):
        self.r.close()
        self.w.close()

    def test_maxlength_refuses_a_longer_message_and_keeps_it(self):
        self.w.send_bytes(b"x" * 100)
        with self.assertRaises(tubo.MessageTooLargeError) as cm:
            self.r.recv_bytes(maxlength=99)
        self.assertIsInstance(cm.exception, OSError)
        self.assertIn("bad message length", str(cm.exception))
        self.assertEqual(self.r.recv_bytes(maxlength=100), b"x" * 100)

    def test_maxlength_edge_cases(self):
        self.w.send_bytes(b"")
        self.assertEqual(self.r.recv_bytes(maxlength=0), b"")
        self.assertRaisesRegex(ValueError, "negative maxlength", self.r.recv_bytes, -1)
        self.w.close()
        self.assertRaises(EOFError, self.r.recv_bytes, 10)

    def test_recv_bytes_into_at_offset(self):
        buf = bytearray(b"..........")
        self.w.send_bytes(b"abc")
        self.assertEqual(self.r.recv_bytes_into(buf, 4), 3)
        self.assertEqual(buf, b"....abc...")
        self.w.send_bytes(b"")
        self.assertEqual(self.r.recv_bytes_into(buf, 10), 0)

    def test_recv_bytes_into_other_buffers(self):
        ints = array.array("i", [0, 0, 0])
        self.w.send_bytes(array.array("i", [7, 8]))
        self.assertEqual(self.r.recv_bytes_into(ints, 4), 8)
        self.assertEqual(ints.tolist(), [0, 7, 8])
        view = memoryview(bytearray(6))[1:4]
        self.w.send_bytes(b"xyz")
        self.assertEqual(self.r.recv_bytes_into(view), 3)
        self.assertEqual(view.obj, bytearray(b"\0xyz\0\0"))

    def test_recv_bytes_into_too_short_is_bufferTooShort_with_the_message(self):
        self.w.send_bytes(b"0123456789")
        self.w.send_bytes(b"next")
        buf = bytearray(4)
        with self.assertRaises(tubo.BufferTooShort) as cm:
            self.r.recv_bytes_into(buf, 1)
        self.assertIs(tubo.BufferTooShort, StdBufferTooShort)
        self.assertEqual(cm.exception.args[0], b"0123456789")
        self.assertEqual(cm.exception.size, 10)
        self.assertEqual(buf, bytearray(4))
        self.assertEqual(self.r.recv_bytes(), b"next")  # consumed, as in CPython

    def test_recv_bytes_into_argument_checks(self):
        self.assertRaisesRegex(ValueError, "negative offset", self.r.recv_bytes_into, bytearray(2), -1)
        self.assertRaisesRegex(ValueError, "offset too large", self.r.recv_bytes_into, bytearray(2), 3)
        self.assertRaises(TypeError, self.r.recv_bytes_into, b"readonly")


class PollTest(unittest.TestCase):
    def test_poll(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertFalse(r.poll())
            self.assertFalse(r.poll(0.05))
            w.send_bytes(b"x")
            self.assertTrue(r.poll())
            self.assertTrue(r.poll(None))
            r.recv_bytes()
            threading.Timer(0.1, w.close).start()
            start = time.monotonic()
            self.assertTrue(r.poll(None))  # EOF counts as ready
            self.assertGreater(time.monotonic() - start, 0.05)
            self.assertRaises(EOFError, r.recv_bytes)

    def test_poll_sees_a_message_left_by_a_too_small_peek(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            w.send_bytes(b"0123456789")
            self.assertRaises(tubo.MessageTooLargeError, r.recv_bytes, 1)
            self.assertTrue(r.poll())
            self.assertEqual(r.recv_bytes(), b"0123456789")


class CloseTest(unittest.TestCase):
    def test_closed_connection(self):
        r, w = tubo.Pipe(duplex=False)
        r.close()
        r.close()  # twice is fine
        self.assertTrue(r.closed)
        for call in (r.recv_bytes, r.poll, r.fileno, lambda: r.recv_bytes_into(bytearray(1))):
            with self.assertRaises(tubo.ClosedError) as cm:
                call()
            self.assertIsInstance(cm.exception, OSError)
            self.assertEqual(str(cm.exception), "handle is closed")
        with self.assertRaises(tubo.PeerClosedError) as cm:
            w.send_bytes(b"nobody reads")
        self.assertIsInstance(cm.exception, BrokenPipeError)
        w.close()

    def test_context_manager_closes(self):
        with tubo.Pipe(duplex=False)[1] as w:
            fd = w.fileno()
            self.assertGreaterEqual(fd, 0)
        self.assertTrue(w.closed)
        self.assertRaises(OSError, os.fstat, fd)

    def test_fileno_is_close_on_exec(self):
        import fcntl
        a, b = tubo.Pipe()
        with a, b:
            self.assertTrue(fcntl.fcntl(a.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC)

    def test_half_close(self):
        a, b = tubo.Pipe()
        with a, b:
            a.send_bytes(b"request")
            a.close_write()
            self.assertFalse(a.writable)
            self.assertEqual(b.recv_bytes(), b"request")
            self.assertRaises(EOFError, b.recv_bytes)
            b.send_bytes(b"reply")  # replies still flow back
            self.assertEqual(a.recv_bytes(), b"reply")
            self.assertRaises(OSError, a.send_bytes, b"more")

    def test_close_write_needs_a_duplex_end(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertRaises(tubo.InvalidArgumentError, w.close_write)

    def test_connections_do_not_pickle(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertRaisesRegex(TypeError, "handed to a child", pickle.dumps, r)

    def test_send_buffer(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertEqual(w.send_buffer_size, 0)
            w.send_buffer_size = 1 << 16
            w.send_bytes(b"buffered")
            self.assertFalse(r.poll(0.01))
            w.flush()
            self.assertEqual(r.recv_bytes(), b"buffered")
            w.send_bytes(b"at close")
            w.close()
            self.assertEqual(r.recv_bytes(), b"at close")

    def test_max_message_size(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertEqual(r.max_message_size, 1 << 30)
            r.max_message_size = 4
            w.send_bytes(b"12345")
            self.assertRaises(tubo.MessageTooLargeError, r.recv_bytes)
            self.assertRaises(tubo.MessageTooLargeError, r.recv_bytes)  # sticky


class WaitTest(unittest.TestCase):
    def test_wait_returns_the_ready_connections(self):
        pairs = [tubo.Pipe(duplex=False) for _ in range(4)]
        readers = [r for r, _ in pairs]
        self.assertEqual(tubo.wait(readers, 0), [])
        self.assertEqual(tubo.wait(readers, 0.02), [])
        pairs[2][1].send_bytes(b"x")
        pairs[0][1].close()
        self.assertEqual(tubo.wait(readers, None), [readers[0], readers[2]])
        for r, w in pairs:
            r.close()
            w.close()

    def test_wait_blocks_until_ready(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            threading.Timer(0.05, w.send_bytes, (b"late",)).start()
            self.assertEqual(tubo.wait([r]), [r])

    def test_wait_refuses_other_objects(self):
        self.assertRaises(TypeError, tubo.wait, [object()], 0)
        r, w = tubo.Pipe(duplex=False)
        r.close()
        self.assertRaises(tubo.ClosedError, tubo.wait, [r], 0)
        self.assertRaises(tubo.InvalidArgumentError, tubo.wait, [w], 0)
        w.close()


class Interrupted(Exception):
    pass


class SignalTest(unittest.TestCase):
    """The C library retries EINTR; in the main thread blocking calls still let
    Python signal handlers (Ctrl-C) run."""

    def interrupt_after(self, seconds):
        import signal

        def handler(signo, frame):
            raise Interrupted()
        old = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, old)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)

    def test_blocked_calls_are_interruptible(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            for call in (r.recv_bytes, lambda: r.recv_bytes(10),
                         lambda: r.recv_bytes_into(bytearray(4)), lambda: r.poll(None),
                         lambda: r.poll(30), lambda: tubo.wait([r])):
                self.interrupt_after(0.1)
                start = time.monotonic()
                self.assertRaises(Interrupted, call)
                self.assertLess(time.monotonic() - start, 5)
            w.send_bytes(b"still usable")
            self.assertEqual(r.recv_bytes(), b"still usable")


class AdoptFdTest(unittest.TestCase):
    def test_adopt_a_raw_pipe(self):
        rfd, wfd = os.pipe()
        r = tubo.Connection.adopt_fd(rfd, readable=True, writable=False)
        w = tubo.Connection.adopt_fd(wfd, readable=False, writable=True)
        with r, w:
            w.send_bytes(b"adopted")
            self.assertEqual(r.recv_bytes(), b"adopted")
        self.assertRaises(OSError, os.fstat, rfd)
        self.assertRaises(ValueError, tubo.Connection.adopt_fd, 0, False, False)


if __name__ == "__main__":
    unittest.main()
