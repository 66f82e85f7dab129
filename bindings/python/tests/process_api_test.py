"""multiprocessing's Process API on tubo.Process: sentinel (also in tubo.wait
and multiprocessing.connection.wait), the name in the child through
current_process(), pid, is_alive, join(timeout), exitcode."""
import multiprocessing
import multiprocessing.connection
import select
import time
import unittest

import testing
import tubo


def report_name(out):
    out.send((multiprocessing.current_process().name, tubo.current_process().name,
              tubo.current_process().pid))


def wait_for_word(inp, code):
    inp.recv_bytes()  # runs until the parent says so
    raise SystemExit(code)


def readable(fd, timeout):
    return bool(select.select([fd], [], [], timeout)[0])


class ProcessApiTest(unittest.TestCase):
    def start_waiting(self, code=0):
        go_r, go_w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=wait_for_word, args=(go_r, code))
        p.start()
        return p, go_w

    def test_name_in_the_child(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=report_name, args=(w,), name="worker-7")
        self.assertEqual(p.name, "worker-7")
        p.start()
        self.assertEqual(r.recv(), ("worker-7", "worker-7", p.pid))
        p.join()
        self.assertEqual(p.exitcode, 0)
        r.close()

    def test_default_names_differ(self):
        self.assertNotEqual(tubo.Process().name, tubo.Process().name)

    def test_pid_is_alive_join_timeout_exitcode(self):
        p, go = self.start_waiting(code=3)
        self.assertGreater(p.pid, 0)
        self.assertTrue(p.is_alive())
        started = time.monotonic()
        self.assertIsNone(p.join(0.2))
        self.assertGreaterEqual(time.monotonic() - started, 0.15)
        self.assertIsNone(p.exitcode)
        self.assertTrue(p.is_alive())
        go.send_bytes(b"go")
        p.join(30)
        self.assertFalse(p.is_alive())
        self.assertEqual(p.exitcode, 3)
        go.close()

    def test_sentinel_is_readable_when_the_child_exits(self):
        p, go = self.start_waiting()
        s = p.sentinel
        self.assertEqual(p.sentinel, s)  # the same descriptor every time
        self.assertFalse(readable(s, 0.1))
        self.assertEqual(multiprocessing.connection.wait([s], 0.05), [])
        go.send_bytes(b"go")
        self.assertTrue(readable(s, 30))
        self.assertEqual(multiprocessing.connection.wait([s], 5), [s])
        p.join()
        self.assertTrue(readable(s, 0))  # still readable once reaped
        p.close()
        self.assertNotIn(s, testing.open_fds())  # the Process owned it
        go.close()

    def test_tubo_wait_takes_sentinels(self):
        p, go = self.start_waiting()
        r, w = tubo.Pipe(duplex=False)
        s = p.sentinel
        self.assertEqual(tubo.wait([r, s], 0.1), [])
        go.send_bytes(b"go")
        self.assertEqual(tubo.wait([r, s], 30), [s])
        p.join()
        self.assertEqual(p.exitcode, 0)
        self.assertRaisesRegex(TypeError, "sentinel", tubo.wait, [12345], 0)
        for c in (r, w, go):
            c.close()

    def test_sentinel_of_a_reaped_child(self):
        p, go = self.start_waiting()
        go.send_bytes(b"go")
        p.join()
        self.assertTrue(readable(p.sentinel, 0))
        self.assertEqual(tubo.wait([p.sentinel], 0), [p.sentinel])
        go.close()

    def test_sentinel_before_start(self):
        self.assertRaises(ValueError, lambda: tubo.Process().sentinel)


if __name__ == "__main__":
    unittest.main()
