"""Signal handlers (Ctrl-C) interrupt a receive also in the middle of a
message, and nothing is lost: the next receive returns the whole message.

A real child sends half a frame and stalls until told to go on; the parent's
receive is interrupted by SIGALRM (or SIGINT: KeyboardInterrupt) raising in
the main thread."""
import os
import signal
import struct
import threading
import time
import unittest

import tubo

STALL_LIMIT = 20  # seconds a child waits for "go" before sending the rest anyway


def pattern(size):
    return bytes(i % 251 for i in range(min(size, 251))) * (size // 251) + \
        bytes(i % 251 for i in range(size % 251))


def frame(payload):
    return struct.pack("!i", len(payload)) + payload


# Targets live at module level: the child imports this file as __mp_main__.
def send_in_two_parts(out, control, status, first_len, payload_len):
    """Writes the first `first_len` bytes of frame(payload) + frame(b"after"),
    reports "stalled", waits for "go" (or STALL_LIMIT), then writes the rest."""
    data = frame(pattern(payload_len)) + frame(b"after")
    fd = out.fileno()
    view = memoryview(data)
    pos = 0
    while pos < first_len:
        pos += os.write(fd, view[pos:first_len])
    status.send_bytes(b"stalled")
    control.poll(STALL_LIMIT)
    while pos < len(data):
        pos += os.write(fd, view[pos:])
    out.close()


class Interrupted(Exception):
    pass


class MidFrameInterruptTest(unittest.TestCase):
    def setUp(self):
        def handler(signo, frame):
            raise Interrupted()
        old = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, old)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)

    def start_child(self, first_len, payload_len):
        r, w = tubo.Pipe(duplex=False)
        control_r, control_w = tubo.Pipe(duplex=False)
        status_r, status_w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=send_in_two_parts,
                         args=(w, control_r, status_w, first_len, payload_len))
        p.start()
        self.addCleanup(p.join)
        self.addCleanup(control_w.close)
        self.addCleanup(status_r.close)
        self.addCleanup(r.close)
        return r, control_w, status_r

    def interrupt_until_stalled(self, receive, status, interrupt):
        """Calls `receive` until it has been interrupted at least once after the
        child reported that half the frame is out (so the receive holds part
        of the frame); each call must be interrupted, none may return."""
        stalled = False
        deadline = time.monotonic() + STALL_LIMIT / 2
        while True:
            seen = stalled
            interrupt(0.05 if not seen else 0.3)
            start = time.monotonic()
            with self.assertRaises((Interrupted, KeyboardInterrupt)):
                receive()
            self.assertLess(time.monotonic() - start, 5, "the interrupt came late")
            if seen:
                return
            stalled = status.poll(0)
            self.assertLess(time.monotonic(), deadline, "the child never stalled")

    def alarm(self, seconds):
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def sigint(self, seconds):
        # KeyboardInterrupt, as Ctrl-C raises it: SIGINT from another thread.
        t = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
        t.start()
        self.addCleanup(t.cancel)

    def check(self, first_len, payload_len, receive, finish, interrupt=None):
        r, control, status = self.start_child(first_len, payload_len)
        self.interrupt_until_stalled(lambda: receive(r), status,
                                     interrupt or self.alarm)
        control.send_bytes(b"go")
        self.assertEqual(finish(r, payload_len), pattern(payload_len))
        self.assertEqual(r.recv_bytes(), b"after")
        self.assertRaises(EOFError, r.recv_bytes)

    @staticmethod
    def recv_into(r, payload_len):
        buf = bytearray(payload_len + 10)
        n = r.recv_bytes_into(buf, 3)
        return bytes(buf[3:3 + n])

    def test_recv_bytes_half_a_header(self):
        self.check(2, 1000, lambda r: r.recv_bytes(), lambda r, n: r.recv_bytes())

    def test_recv_bytes_half_a_small_payload(self):
        self.check(4 + 500, 1000, lambda r: r.recv_bytes(), lambda r, n: r.recv_bytes())

    def test_recv_bytes_half_a_large_payload(self):
        self.check(4 + (2 << 20), 4 << 20, lambda r: r.recv_bytes(),
                   lambda r, n: r.recv_bytes())

    def test_recv_bytes_with_maxlength_half_a_large_payload(self):
        self.check(4 + (2 << 20), 4 << 20, lambda r: r.recv_bytes(8 << 20),
                   lambda r, n: r.recv_bytes(8 << 20))

    def test_recv_bytes_into_half_a_small_payload(self):
        self.check(4 + 500, 1000, lambda r: r.recv_bytes_into(bytearray(2000)), self.recv_into)

    def test_recv_bytes_into_half_a_large_payload(self):
        # Each interrupted call passes a new buffer: the part received is kept
        # by the connection, not in the caller's buffer.
        self.check(4 + (2 << 20), 4 << 20,
                   lambda r: r.recv_bytes_into(bytearray(5 << 20)), self.recv_into)

    def test_recv_bytes_into_too_small_half_a_large_payload(self):
        # BufferTooShort receives the message whole: interrupted mid-payload too.
        def finish(r, n):
            with self.assertRaises(tubo.BufferTooShort) as cm:
                r.recv_bytes_into(bytearray(10))
            return cm.exception.args[0]
        self.check(4 + (2 << 20), 4 << 20, lambda r: r.recv_bytes_into(bytearray(10)), finish)

    def test_keyboard_interrupt_half_a_large_payload(self):
        self.check(4 + (2 << 20), 4 << 20, lambda r: r.recv_bytes(),
                   lambda r, n: r.recv_bytes(), interrupt=self.sigint)

    def test_keyboard_interrupt_half_a_header(self):
        self.check(3, 10, lambda r: r.recv_bytes(), lambda r, n: r.recv_bytes(),
                   interrupt=self.sigint)


class FastPathTest(unittest.TestCase):
    def test_many_small_messages_from_the_main_thread(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            for i in range(1000):
                w.send_bytes(b"%d" % i)
            for i in range(1000):
                self.assertEqual(r.recv_bytes(), b"%d" % i)

    def test_other_threads_receive_without_slices(self):
        r, w = tubo.Pipe(duplex=False)
        got = []
        t = threading.Thread(target=lambda: got.append(r.recv_bytes()))
        t.start()
        time.sleep(0.05)
        w.send_bytes(b"from the main thread")
        t.join(10)
        self.assertEqual(got, [b"from the main thread"])
        r.close()
        w.close()


if __name__ == "__main__":
    unittest.main()
