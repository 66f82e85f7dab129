"""Supervision in the Python binding: start() consumes Connections on every
failure, daemon processes die with a SIGKILLed parent, process-group trees."""
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import unittest

import tubo


def sleep_forever():
    time.sleep(3600)


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def gone_within(pid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.01)
    return gone(pid)


class StartConsumes(unittest.TestCase):
    def assert_consumed(self, conn, peer):
        self.assertTrue(conn.closed)
        self.assertTrue(peer.poll(10))
        with self.assertRaises(EOFError):
            peer.recv_bytes()

    def test_unpicklable_target(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=lambda c: None, args=(w,))
        with self.assertRaises((pickle.PicklingError, AttributeError, TypeError)):
            p.start()
        self.assert_consumed(w, r)

    def test_unpicklable_argument_after_the_connection(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=sleep_forever, args=([w], {"f": lambda: 0}))
        with self.assertRaises((pickle.PicklingError, AttributeError, TypeError)):
            p.start()
        self.assert_consumed(w, r)

    def test_connection_after_the_unpicklable_argument(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=sleep_forever, kwargs={"a": lambda: 0, "z": (w,)})
        with self.assertRaises((pickle.PicklingError, AttributeError, TypeError)):
            p.start()
        self.assert_consumed(w, r)

    def test_failed_spawn(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=sleep_forever, args=(w,))
        saved = sys.executable
        sys.executable = "/nonexistent/python3"
        try:
            with self.assertRaises(tubo.SpawnError):
                p.start()
        finally:
            sys.executable = saved
        self.assert_consumed(w, r)


MIDDLE = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import supervision_test, tubo
    if __name__ == "__main__":
        d = tubo.Process(target=supervision_test.sleep_forever, daemon=True)
        n = tubo.Process(target=supervision_test.sleep_forever)
        c = tubo.Command("/bin/sleep", "100", die_with_parent=True).spawn()
        d.start(); n.start()
        print(d.pid, n.pid, c.pid, flush=True)
        time.sleep(3600)
""")


class DieWithParent(unittest.TestCase):
    def test_daemon_and_command_die_with_a_sigkilled_parent(self):
        here = os.path.dirname(os.path.abspath(__file__))
        middle = subprocess.Popen([sys.executable, "-c", MIDDLE, here],
                                  stdout=subprocess.PIPE, env=dict(os.environ))
        try:
            daemon, plain, command = map(int, middle.stdout.readline().split())
        finally:
            middle.kill()
            middle.wait()
        self.assertTrue(gone_within(daemon, 10), "the daemon outlived its parent")
        self.assertTrue(gone_within(command, 10), "the die_with_parent command outlived its parent")
        # As in multiprocessing, a non-daemon process may outlive a killed parent.
        self.assertFalse(gone_within(plain, 0.3))
        os.kill(plain, signal.SIGKILL)


class ProcessGroup(unittest.TestCase):
    def test_signal_group_stops_the_tree(self):
        r, w = os.pipe()
        p = (tubo.Command("/bin/sh", "-c", "sleep 100 & sleep 100 & echo started; wait")
             .new_process_group().stdout(w).spawn())
        os.close(w)
        with p:
            self.assertTrue(p.leads_group)
            self.assertTrue(os.read(r, 16))
            p.signal_group(signal.SIGKILL)
            p.join(10)
            self.assertEqual(p.exitcode, -signal.SIGKILL)
            self.assertEqual(os.read(r, 16), b"")  # EOF: the grandchildren are gone
            with self.assertRaises(tubo.ClosedError):
                p.signal_group(signal.SIGKILL)
        os.close(r)

    def test_signal_group_of_a_non_leader(self):
        with tubo.Command("/bin/sleep", "100").spawn() as p:
            self.assertFalse(p.leads_group)
            with self.assertRaises(tubo.InvalidArgumentError):
                p.signal_group(signal.SIGTERM)
            p.kill()


if __name__ == "__main__":
    unittest.main()
