"""Process(target=...) (a function in a new interpreter) and Command (exec)."""
import os
import signal
import sys
import tempfile
import time
import unittest

import tubo


# Targets live at module level: the child imports this file as __mp_main__.
def send_sum(conn, a, b=0):
    conn.send_bytes(str(a + b).encode())
    conn.close()


def exit_with(code):
    sys.exit(code)


def raise_error():
    raise RuntimeError("boom in the child")


def sleep_forever():
    time.sleep(3600)


def echo_until_eof(conn_in, conn_out):
    try:
        while True:
            conn_out.send_bytes(conn_in.recv_bytes())
    except EOFError:
        conn_out.close()


def same_connection_twice(a, b):
    a.send_bytes(b"same" if a is b else b"different")


def report_channels():
    print(os.environ.get("TUBO_CHANNELS"), flush=True)


class Doubler(tubo.Process):
    def __init__(self, conn, value):
        super().__init__()
        self.conn, self.value = conn, value

    def run(self):
        self.conn.send_bytes(str(self.value * 2).encode())


class ProcessTest(unittest.TestCase):
    def test_target_with_args_and_kwargs(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=send_sum, args=(w, 40), kwargs={"b": 2})
        self.assertIsNone(p.pid)
        self.assertIsNone(p.exitcode)
        self.assertFalse(p.is_alive())
        p.start()
        self.assertTrue(w.closed)  # consumed by start()
        self.assertIsInstance(p.pid, int)
        self.assertEqual(r.recv_bytes(), b"42")
        self.assertRaises(EOFError, r.recv_bytes)  # the parent holds no write end
        p.join()
        self.assertEqual(p.exitcode, 0)
        self.assertFalse(p.is_alive())
        r.close()
        p.close()

    def test_exit_codes_as_in_multiprocessing(self):
        for code, expected in [(0, 0), (3, 3), (None, 0), ("message", 1)]:
            p = tubo.Process(target=exit_with, args=(code,))
            p.start()
            p.join()
            self.assertEqual(p.exitcode, expected, code)
        p = tubo.Process(target=raise_error)
        p.start()
        p.join()
        self.assertEqual(p.exitcode, 1)

    def test_join_with_timeout_terminate_and_kill(self):
        p = tubo.Process(target=sleep_forever, daemon=True)
        p.start()
        start = time.monotonic()
        p.join(0.2)
        self.assertGreaterEqual(time.monotonic() - start, 0.19)
        self.assertTrue(p.is_alive())
        self.assertIsNone(p.exitcode)
        with self.assertRaisesRegex(ValueError, "still running"):
            p.close()
        p.terminate()
        p.join()
        self.assertEqual(p.exitcode, -signal.SIGTERM)
        p.terminate()  # already reaped: nothing happens
        p.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            p.exitcode
        q = tubo.Process(target=sleep_forever)
        q.start()
        q.kill()
        q.join()
        self.assertEqual(q.exitcode, -signal.SIGKILL)

    def test_join_is_interruptible(self):
        class Interrupted(Exception):
            pass

        def handler(signo, frame):
            raise Interrupted()
        old = signal.signal(signal.SIGALRM, handler)
        p = tubo.Process(target=sleep_forever, daemon=True)
        p.start()
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.1)
            self.assertRaises(Interrupted, p.join)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        self.assertTrue(p.is_alive())
        p.kill()
        p.join()

    def test_start_twice_and_join_before_start(self):
        p = tubo.Process(target=exit_with, args=(0,))
        self.assertRaises(AssertionError, p.join)
        p.start()
        self.assertRaises(RuntimeError, p.start)
        p.join()

    def test_with_block_stops_a_running_child(self):
        with tubo.Process(target=sleep_forever) as p:
            p.start()
            p.set_stop_sequence(grace=0.05, timeout=1.0)
            pid = p.pid
        # Reaped: the pid no longer names our child.
        self.assertRaises(ChildProcessError, os.waitpid, pid, os.WNOHANG)

    def test_connections_in_args_become_channels(self):
        to_r, to_w = tubo.Pipe(duplex=False)
        back_r, back_w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=echo_until_eof, args=(to_r, back_w))
        p.start()
        for m in [b"", b"a", os.urandom(200000)]:
            to_w.send_bytes(m)
            self.assertEqual(back_r.recv_bytes(), m)
        to_w.close()
        self.assertRaises(EOFError, back_r.recv_bytes)
        p.join()
        self.assertEqual(p.exitcode, 0)
        back_r.close()

    def test_duplex_connection_and_identity(self):
        a, b = tubo.Pipe()
        p = tubo.Process(target=same_connection_twice, args=(b, b))
        p.start()
        self.assertEqual(a.recv_bytes(), b"same")
        p.join()
        a.close()

    def test_subclass_overriding_run(self):
        r, w = tubo.Pipe(duplex=False)
        p = Doubler(w, 21)
        p.start()
        self.assertEqual(r.recv_bytes(), b"42")
        p.join()
        self.assertEqual(p.exitcode, 0)
        r.close()

    def test_unpicklable_argument_fails_before_start(self):
        r, w = tubo.Pipe(duplex=False)
        p = tubo.Process(target=send_sum, args=(w, lambda: 1))
        self.assertRaises(Exception, p.start)
        self.assertTrue(w.closed)  # consumed, as on success: nothing started
        self.assertIsNone(p.pid)
        r.close()

    def test_channels_are_not_passed_on(self):
        out = tempfile.NamedTemporaryFile(delete=False)
        out.close()
        try:
            p = (tubo.Command(sys.executable, "-c", "import os; print(os.environ.get('TUBO_CHANNELS'))")
                 .stdout(out.name).spawn())
            p.join()
            with open(out.name) as f:
                self.assertEqual(f.read(), "None\n")
        finally:
            os.unlink(out.name)

    def test_wait_on_processes_and_connections(self):
        r, w = tubo.Pipe(duplex=False)
        fast = tubo.Process(target=exit_with, args=(0,))
        slow = tubo.Process(target=sleep_forever, daemon=True)
        fast.start()
        slow.start()
        self.assertEqual(tubo.wait([slow, fast, r], 30), [fast])
        self.assertEqual(tubo.wait([slow, r], 0.05), [])
        slow.kill()
        self.assertEqual(tubo.wait([slow, r]), [slow])
        fast.join()
        slow.join()
        r.close()
        w.close()

    def test_active_children(self):
        p = tubo.Process(target=sleep_forever, daemon=True)
        p.start()
        self.assertIn(p, tubo.active_children())
        p.kill()
        p.join()
        self.assertNotIn(p, tubo.active_children())


class CommandTest(unittest.TestCase):
    def run_to_file(self, cmd):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "out")
            p = cmd.stdout(path).spawn()
            p.join()
            with open(path) as f:
                return p.exitcode, f.read()

    def test_argv_without_a_shell(self):
        code, out = self.run_to_file(
            tubo.Command(sys.executable, "-c", "import sys; print(sys.argv[1:])", "a b", "$HOME"))
        self.assertEqual((code, out), (0, "['a b', '$HOME']\n"))

    def test_path_lookup(self):
        self.assertRaises(tubo.SpawnError, tubo.Command("true", search_path=False).spawn)
        code, _ = self.run_to_file(tubo.Command("true"))  # PATH lookup by default
        self.assertEqual(code, 0)
        code, _ = self.run_to_file(tubo.Command("false", search_path=True))
        self.assertEqual(code, 1)

    def test_environment_and_cwd(self):
        script = "import os; print(os.getcwd(), os.environ.get('A'), os.environ.get('B'), len(os.environ))"
        os.environ["B"] = "inherited"
        try:
            code, out = self.run_to_file(
                tubo.Command(sys.executable, "-c", script).env_set("A", "1").cwd("/"))
            self.assertTrue(out.startswith("/ 1 inherited "), out)
            code, out = self.run_to_file(
                tubo.Command(sys.executable, "-c", script).env_unset("B"))
            self.assertIn(" None None ", out)
            code, out = self.run_to_file(
                tubo.Command(sys.executable, "-c", script).env_clear().env(A="x"))
            self.assertRegex(out, r" x None [12]\n$")  # A (and LC_CTYPE, set by Python itself)
        finally:
            del os.environ["B"]

    def test_stdio(self):
        with tempfile.TemporaryDirectory() as d, tempfile.TemporaryFile() as out:
            src = os.path.join(d, "in")
            with open(src, "w") as f:
                f.write("shout")
            p = (tubo.Command(sys.executable, "-c",
                              "import sys; sys.stdout.write(sys.stdin.read().upper()); "
                              "sys.stderr.write('hidden')")
                 .stdin(src).stdout(out).stderr(tubo.DEVNULL).spawn())
            p.join()
            out.seek(0)
            self.assertEqual(out.read(), b"SHOUT")
            p = (tubo.Command(sys.executable, "-c", "import sys; print(len(sys.stdin.read()))")
                 .stdin(tubo.DEVNULL).stdout(os.path.join(d, "n")).spawn())
            p.join()
            with open(os.path.join(d, "n")) as f:
                self.assertEqual(f.read(), "0\n")

    def test_channels_by_contract_2(self):
        r, w = tubo.Pipe(duplex=False)
        a, b = tubo.Pipe()
        code, out = self.run_to_file(
            tubo.Command(sys.executable, "-c", "import os; print(os.environ['TUBO_CHANNELS'])")
            .channel("jobs", r).channel("results", w).channel("io", b))
        self.assertEqual(out, "jobs:3:r,results:4:w,io:5:rw\n")
        self.assertTrue(r.closed and w.closed and b.closed)
        a.close()

    def test_spawn_once(self):
        c = tubo.Command("/bin/true")
        c.spawn().join()
        self.assertRaises(ValueError, c.spawn)
        self.assertRaises(ValueError, c.arg, "x")


if __name__ == "__main__":
    unittest.main()
