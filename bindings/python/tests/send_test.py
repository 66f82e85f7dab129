"""send_bytes(timeout=...), try_send_bytes, tubo.wait(writable=...), and a
send_bytes that Ctrl-C interrupts without losing or duplicating a byte."""
import signal
import struct
import sys
import threading
import time
import unittest

import tubo

MESSAGE = 256 << 10
MESSAGES = 32  # 8 MiB per worker


def block(index, i, size):
    return struct.pack(">II", index, i) * (size // 8)


# Targets live at module level: the child imports this file as __mp_main__.
def sink(conn, index):
    for i in range(MESSAGES):
        if conn.recv_bytes() != block(index, i, MESSAGE):
            sys.exit(3)
    try:
        conn.recv_bytes()
    except EOFError:
        return
    sys.exit(4)


def drain(conn, out):
    try:
        while True:
            out.append(conn.recv_bytes())
    except (EOFError, OSError):
        pass


class SendTest(unittest.TestCase):
    def test_one_thread_feeds_three_workers(self):
        writers, procs = [], []
        for index in range(3):
            r, w = tubo.Pipe(duplex=False)
            p = tubo.Process(target=sink, args=(r, index))
            p.start()
            procs.append(p)
            writers.append(w)
        sent = {w: 0 for w in writers}
        index = {w: i for i, w in enumerate(writers)}
        active = list(writers)
        while active:
            ready = tubo.wait([], timeout=30, writable=active)
            self.assertTrue(ready, "nothing became writable in 30 s")
            for w in ready:
                if sent[w] == MESSAGES:
                    try:
                        w.flush(timeout=0)  # the committed rest, if any
                    except TimeoutError:
                        continue
                    self.assertEqual(w.unsent_bytes, 0)
                    w.close()
                    active.remove(w)
                    continue
                if w.try_send_bytes(block(index[w], sent[w], MESSAGE)):
                    sent[w] += 1
        for p in procs:
            p.join(30)
            self.assertEqual(p.exitcode, 0)

    def test_timeout_with_nothing_written(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            n = 0
            for size in (1000, 1):  # fill: then no frame of 5 bytes or more fits
                while w.try_send_bytes(b"f" * size):
                    n += 1
                    self.assertEqual(w.unsent_bytes, 0)
            start = time.monotonic()
            with self.assertRaises(TimeoutError):
                w.send_bytes(b"x" * 5000, timeout=0.2)
            self.assertGreaterEqual(time.monotonic() - start, 0.2)
            self.assertEqual(w.unsent_bytes, 0)
            self.assertFalse(w.try_send_bytes(b"x"))
            w.close()
            got = []
            drain(r, got)
            self.assertEqual(len(got), n)
            self.assertTrue(all(m in (b"f" * 1000, b"f") for m in got))

    def test_partial_progress_commits_and_arrives_whole(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            big = bytes(range(256)) * (12 << 12)  # 3 MiB
            w.send_bytes(big, timeout=0.1)  # part of it fits: committed
            rest = w.unsent_bytes
            self.assertTrue(0 < rest < len(big))
            with self.assertRaises(TimeoutError):
                w.send_bytes(b"after", timeout=0.05)
            self.assertFalse(w.try_send_bytes(b"after"))
            got = []
            t = threading.Thread(target=drain, args=(r, got))
            t.start()
            w.send_bytes(memoryview(b"xafter")[1:])
            w.close()
            t.join()
            self.assertEqual(len(got), 2)
            self.assertTrue(got[0] == big)
            self.assertEqual(got[1], b"after")

    def test_ctrl_c_interrupts_a_stalled_send(self):
        r, w = tubo.Pipe(duplex=False)
        big = b"\x07" * (4 << 20)
        got = []
        # A watchdog: if the interrupt never comes, drain so the test fails
        # rather than hangs.
        rescue = threading.Timer(10, drain, args=(r, got))
        rescue.start()

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        old = signal.signal(signal.SIGALRM, interrupt)
        try:
            start = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with self.assertRaises(KeyboardInterrupt):
                w.send_bytes(big)
            self.assertLess(time.monotonic() - start, 5)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            rescue.cancel()
        # The message was committed (part of it is in the pipe): it arrives
        # whole, once, before the next one.
        self.assertGreater(w.unsent_bytes, 0)
        t = threading.Thread(target=drain, args=(r, got))
        t.start()
        w.send_bytes(b"next")
        w.close()
        t.join()
        r.close()
        self.assertEqual(len(got), 2)
        self.assertTrue(got[0] == big)
        self.assertEqual(got[1], b"next")

    def test_writable_wait_and_errors(self):
        r, w = tubo.Pipe(duplex=False)
        with r, w:
            self.assertEqual(tubo.wait([], timeout=0, writable=[w]), [w])
            with self.assertRaises(TypeError):
                tubo.wait([], writable=[object()])
            with self.assertRaises(tubo.InvalidArgumentError):
                tubo.wait([], timeout=0, writable=[r])
            with self.assertRaises(tubo.InvalidArgumentError):
                r.try_send_bytes(b"x")
            r.close()
            with self.assertRaises(BrokenPipeError):
                w.try_send_bytes(b"x")
            with self.assertRaises(BrokenPipeError):
                w.send_bytes(b"x", timeout=1)


if __name__ == "__main__":
    unittest.main()
