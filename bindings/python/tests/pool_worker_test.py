"""The worker side of the pool protocol (contract 4) driven by hand: this
test plays the pool with two tubo pipes and checks every frame that
``serve_pool_tasks`` and the workers of ``tubo.Pool`` (tubo/_pool_boot.py)
send, in real worker processes."""
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import unittest
from multiprocessing.pool import RemoteTraceback, mapstar

import testing
import tubo
from tubo import _pool_boot

HERE = os.path.dirname(os.path.abspath(__file__))

# A worker script: upper-cases each task; "fail ..." raises ValueError,
# "exit" raises SystemExit (the worker ends without answering).
UPPER_WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import tubo

    def upper(task):
        if task.startswith(b"fail "):
            raise ValueError(task[5:].decode())
        if task == b"exit":
            raise SystemExit(7)
        return task.upper()

    sys.exit(tubo.serve_pool_tasks(upper))
""")


def square(x):
    return x * x


def fails(x):
    raise KeyError("no %s" % x)


def pid_and_initialized(_):
    return os.getpid(), os.environ.get("POOL_WORKER_TEST_INIT")


def initialize(value):
    os.environ["POOL_WORKER_TEST_INIT"] = value


class Unpicklable:
    def __reduce__(self):
        raise TypeError("this result does not pickle")


def unpicklable_result(_):
    return Unpicklable()


class Driver:
    """Plays the pool for one worker: its ``tasks`` and ``results`` pipes."""

    def __init__(self, args, env=None):
        tasks_r, self.tasks = tubo.Pipe(duplex=False)
        self.results, results_w = tubo.Pipe(duplex=False)
        cmd = tubo.Command(*args)
        for name, value in (env or {}).items():
            cmd.env_set(name, value)
        cmd.channel("tasks", tasks_r)
        cmd.channel("results", results_w)
        self.process = cmd.spawn()

    def recv(self, timeout=60):
        if not self.results.poll(timeout):
            raise AssertionError("no result frame within %d s" % timeout)
        frame = self.results.recv_bytes()
        task_id, status = struct.unpack(">QB", frame[:9])
        return task_id, status, frame[9:]

    def send(self, task_id, body):
        self.tasks.send_bytes(struct.pack(">Q", task_id) + body)

    def finish(self):
        self.tasks.close()
        self.process.join(60)
        code = self.process.exitcode
        with self.assertRaises(EOFError):
            self.results.recv_bytes()
        self.results.close()
        self.process.close()
        return code

    @staticmethod
    def assertRaises(exc):
        return unittest.TestCase().assertRaises(exc)


def package_parent():
    return os.path.dirname(os.path.dirname(os.path.abspath(tubo.__file__)))


class ServePoolTasksTest(unittest.TestCase):
    def setUp(self):
        self.fds = testing.open_fds()
        self.dir = tempfile.TemporaryDirectory()
        self.script = os.path.join(self.dir.name, "upper_worker.py")
        with open(self.script, "w") as f:
            f.write(UPPER_WORKER)
        self.env = {"TUBO_LIBRARY": tubo.library_path}

    def tearDown(self):
        self.dir.cleanup()
        self.assertEqual(testing.open_fds(), self.fds)

    def driver(self):
        return Driver([sys.executable, self.script, package_parent()], self.env)

    def test_ready_first_then_results_in_order(self):
        d = self.driver()
        self.assertEqual(d.recv(), (0, 2, b""))
        for i in range(1, 6):  # read ahead by the worker: answered one at a time, in order
            d.send(i, b"task %d" % i)
        self.assertEqual([d.recv() for _ in range(5)],
                         [(i, 0, b"TASK %d" % i) for i in range(1, 6)])
        self.assertEqual(d.finish(), 0)

    def test_an_exception_fails_the_task_and_the_worker_goes_on(self):
        d = self.driver()
        d.recv()
        d.send(7, b"fail broken input")
        d.send(2**64 - 1, b"next")
        self.assertEqual(d.recv(), (7, 1, b"ValueError: broken input"))
        self.assertEqual(d.recv(), (2**64 - 1, 0, b"NEXT"))
        self.assertEqual(d.finish(), 0)

    def test_empty_task_and_large_task(self):
        d = self.driver()
        d.recv()
        d.send(1, b"")
        big = b"x" * (3 << 20)
        d.send(2, big)
        self.assertEqual(d.recv(), (1, 0, b""))
        self.assertEqual(d.recv(), (2, 0, big.upper()))
        self.assertEqual(d.finish(), 0)

    def test_system_exit_ends_the_worker_without_an_answer(self):
        d = self.driver()
        d.recv()
        d.send(3, b"exit")
        self.assertEqual(d.finish(), 7)  # finish() also checks that no frame came

    def test_task_id_zero_is_refused(self):
        d = self.driver()
        d.recv()
        d.send(0, b"bad")
        d.process.join(60)
        self.assertEqual(d.process.exitcode, 1)
        with self.assertRaises(EOFError):
            d.results.recv_bytes()
        d.tasks.close()
        d.results.close()
        d.process.close()

    def test_missing_channels_raise_channel_error(self):
        out = subprocess.run(
            [sys.executable, self.script, package_parent()], env=dict(os.environ, **self.env),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("ChannelError", out.stderr)
        self.assertIn("tasks", out.stderr)


class PoolBootTest(unittest.TestCase):
    """The workers of tubo.Pool: pickled (func, args, kwargs) in, pickled
    (success, value) out, functions of __main__ found, the initializer run."""

    def setUp(self):
        self.fds = testing.open_fds()

    def tearDown(self):
        self.assertEqual(testing.open_fds(), self.fds)

    def driver(self, initializer=None, initargs=()):
        args, env = _pool_boot.boot_command(initializer, initargs)
        return Driver(args, env)

    def run_tasks(self, d, *tasks):
        for i, task in enumerate(tasks, 1):
            d.send(i, pickle.dumps(task))
        outcomes = []
        for i in range(1, len(tasks) + 1):
            task_id, status, body = d.recv()
            self.assertEqual((task_id, status), (i, 0))
            outcomes.append(pickle.loads(body))
        return outcomes

    def test_results_exceptions_and_chunks(self):
        d = self.driver()
        self.assertEqual(d.recv(), (0, 2, b""))
        ok, chunk, failed = self.run_tasks(
            d, (square, (7,), {}), (mapstar, ((square, (1, 2, 3)),), {}), (fails, ("x",), {}))
        self.assertEqual(ok, (True, 49))
        self.assertEqual(chunk, (True, [1, 4, 9]))
        self.assertFalse(failed[0])
        self.assertIsInstance(failed[1], KeyError)
        cause = failed[1].__cause__
        self.assertIsInstance(cause, RemoteTraceback)
        self.assertIn("in fails", str(cause))
        self.assertIn("KeyError: 'no x'", str(cause))
        self.assertEqual(d.finish(), 0)

    def test_a_result_that_does_not_pickle(self):
        d = self.driver()
        d.recv()
        [(ok, err)] = self.run_tasks(d, (unpicklable_result, (1,), {}))
        self.assertFalse(ok)
        self.assertIn("this result does not pickle", str(err))
        self.assertEqual(type(err).__name__, "MaybeEncodingError")
        self.assertEqual(d.finish(), 0)

    def test_a_task_that_does_not_unpickle(self):
        d = self.driver()
        d.recv()
        d.send(1, b"not a pickle")
        task_id, status, body = d.recv()
        self.assertEqual((task_id, status), (1, 0))
        ok, err = pickle.loads(body)
        self.assertFalse(ok)
        self.assertIsInstance(err, pickle.UnpicklingError)
        self.assertEqual(d.finish(), 0)

    def test_initializer_runs_before_ready(self):
        d = self.driver(initialize, ("initialized",))
        d.recv()
        [(ok, (pid, value))] = self.run_tasks(d, (pid_and_initialized, (0,), {}))
        self.assertTrue(ok)
        self.assertEqual(pid, d.process.pid)
        self.assertEqual(value, "initialized")
        self.assertEqual(d.finish(), 0)

    def test_a_failing_initializer_dies_before_ready(self):
        d = self.driver(initialize, (1,))  # os.environ refuses an int: TypeError
        d.process.join(60)
        self.assertEqual(d.process.exitcode, 1)
        with self.assertRaises(EOFError):
            d.results.recv_bytes()
        d.tasks.close()
        d.results.close()
        d.process.close()

    def test_a_killed_worker_answers_nothing(self):
        d = self.driver()
        d.recv()
        d.send(1, pickle.dumps((os.kill, (0, 0), {})))  # pid 0: its own group, signal 0
        self.assertEqual(d.recv()[:2], (1, 0))
        d.process.kill()
        d.process.join(60)
        self.assertEqual(d.process.exitcode, -signal.SIGKILL)
        with self.assertRaises(EOFError):
            d.results.recv_bytes()
        d.tasks.close()
        d.results.close()
        d.process.close()

    def test_map_tasks_with_the_function_pickled_once(self):
        d = self.driver()
        d.recv()
        enc = _pool_boot.Encoder()
        sq, fl = _pool_boot.map_prefix(square, False), _pool_boot.map_prefix(fails, False)
        star = _pool_boot.map_prefix(divmod, True)
        payloads = (_pool_boot.encode_chunks(enc, sq, [(1,), (2, 3)])
                    + _pool_boot.encode_chunks(enc, fl, [("y",)])
                    + _pool_boot.encode_chunks(enc, sq, [(4,)])  # back to the first function
                    + _pool_boot.encode_chunks(enc, star, [((7, 2), (9, 4))]))
        for i, payload in enumerate(payloads, 1):
            d.send(i, payload)
        outcomes = []
        for i in range(1, len(payloads) + 1):
            task_id, status, body = d.recv()
            self.assertEqual((task_id, status), (i, 0))
            outcomes.append(pickle.loads(body))
        self.assertEqual(outcomes[0], (True, [1]))
        self.assertEqual(outcomes[1], (True, [4, 9]))
        self.assertFalse(outcomes[2][0])
        self.assertIsInstance(outcomes[2][1], KeyError)
        self.assertEqual(outcomes[3], (True, [16]))
        self.assertEqual(outcomes[4], (True, [(3, 1), (2, 1)]))
        self.assertEqual(d.finish(), 0)

    def test_large_tasks_and_many_frames_per_read(self):
        d = self.driver()
        d.recv()
        enc = _pool_boot.Encoder()
        prefix = _pool_boot.map_prefix(len, False)
        sizes = [3 << 20, 5, 70000, 1, 1 << 20] + [8] * 300
        payloads = _pool_boot.encode_chunks(enc, prefix, [(b"x" * n,) for n in sizes])
        # Everything written before the worker reads: frames split across reads.
        for i, payload in enumerate(payloads, 1):
            d.send(i, payload)
        for i, n in enumerate(sizes, 1):
            task_id, status, body = d.recv()
            self.assertEqual((task_id, status), (i, 0))
            self.assertEqual(pickle.loads(body), (True, [n]))
        self.assertEqual(d.finish(), 0)

    def test_a_stream_that_ends_inside_a_frame(self):
        d = self.driver()
        d.recv()
        # A header for 100 bytes, then 12 of them and end of stream (the
        # Connection holds nothing unsent, so writing under it is safe here).
        os.write(d.tasks.fileno(), struct.pack(">iQ", 100, 1) + b"abcd")
        d.tasks.close()
        d.process.join(60)
        self.assertEqual(d.process.exitcode, 1)  # EOFError, on the worker's stderr
        with self.assertRaises(EOFError):
            d.results.recv_bytes()
        d.results.close()
        d.process.close()

    def test_initargs_too_large_for_the_environment(self):
        with self.assertRaisesRegex(ValueError, "initargs"):
            _pool_boot.boot_command(initialize, ("x" * (200 << 10),))


if __name__ == "__main__":
    unittest.main()
