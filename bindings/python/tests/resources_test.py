"""Resource release: no descriptor or memory leak, closed or forgotten."""
import gc
import resource
import unittest

import testing
import tubo

CYCLES = 1000


def exit_zero():
    pass


class FdLeakTest(unittest.TestCase):
    def setUp(self):
        gc.collect()
        self.before = testing.open_fds()

    def assertNoLeak(self):
        gc.collect()
        self.assertEqual(testing.open_fds() - self.before, set())

    def test_open_close_cycles(self):
        for _ in range(CYCLES):
            for duplex in (False, True):
                a, b = tubo.Pipe(duplex=duplex)
                b.send_bytes(b"x") if not duplex else a.send_bytes(b"x")
                (a.recv_bytes() if not duplex else b.recv_bytes())
                a.close()
                b.close()
        self.assertNoLeak()

    def test_with_blocks(self):
        for _ in range(CYCLES):
            r, w = tubo.Pipe(duplex=False)
            with r, w:
                w.send_bytes(b"x")
        self.assertNoLeak()

    def test_forgotten_connections_are_freed(self):
        for _ in range(CYCLES):
            a, b = tubo.Pipe()
            a.send_bytes(b"never read")
            del a, b  # no close(): __del__ is the backstop
        self.assertNoLeak()

    def test_forgotten_connections_in_a_cycle(self):
        for _ in range(100):
            holder = {}
            holder["self"] = holder
            holder["ends"] = tubo.Pipe()
            del holder
        self.assertNoLeak()

    def test_wait_sets_are_freed(self):
        r, w = tubo.Pipe(duplex=False)
        for _ in range(CYCLES):
            tubo.wait([r], 0)
        r.close()
        w.close()
        self.assertNoLeak()

    def test_command_dropped_without_spawn_closes_its_ends(self):
        for _ in range(CYCLES // 10):
            r, w = tubo.Pipe(duplex=False)
            c = tubo.Command("/bin/true").channel("in", r)
            del c
            with self.assertRaises(tubo.PeerClosedError):
                w.send_bytes(b"x")  # the reader went with the command
            w.close()
        self.assertNoLeak()

    def test_processes(self):
        for _ in range(10):
            p = tubo.Process(target=exit_zero)
            p.start()
            p.join()
            p.close()
            q = tubo.Command("/bin/true").spawn()
            q.join()
            del q  # not closed: __del__ frees the handle (and its pidfd)
        self.assertNoLeak()

    def test_forgotten_running_child_is_stopped_and_reaped(self):
        import os
        p = tubo.Command("/bin/sleep", "60").spawn()
        p.set_stop_sequence(grace=0.01, timeout=1.0)
        pid = p.pid
        del p  # no join, no close: __del__ runs the stop sequence and reaps
        self.assertFalse(os.path.exists("/proc/%d" % pid))
        self.assertNoLeak()

    def test_failed_spawns(self):
        for _ in range(CYCLES // 10):
            r, w = tubo.Pipe(duplex=False)
            with self.assertRaises(tubo.SpawnError):
                tubo.Command("/nonexistent").channel("out", w).spawn()
            self.assertRaises(EOFError, r.recv_bytes)  # w was consumed and closed
            r.close()
        self.assertNoLeak()


class MemoryTest(unittest.TestCase):
    def test_received_buffers_are_freed(self):
        r, w = tubo.Pipe(duplex=False)
        payload = b"m" * 60000
        for _ in range(200):  # warm up the allocator
            w.send_bytes(payload)
            r.recv_bytes()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(5000):  # 300 MB through the C buffers
            w.send_bytes(payload)
            r.recv_bytes()
            w.send_bytes(payload)
            try:
                r.recv_bytes_into(bytearray(10))
            except tubo.BufferTooShort:
                pass
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        self.assertLess(grown_kib, 30 * 1024)
        r.close()
        w.close()

    def test_errors_are_freed(self):
        r, w = tubo.Pipe(duplex=False)
        r.close()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(20000):
            try:
                w.send_bytes(b"x")
            except tubo.PeerClosedError:
                pass
        self.assertLess(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, 10 * 1024)
        w.close()


if __name__ == "__main__":
    unittest.main()
