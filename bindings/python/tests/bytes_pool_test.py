"""tubo.BytesPool: the C pool for byte tasks from Python, with workers that
are a Python script calling tubo.serve_pool_tasks and the standard-library
worker of tests/pool (contract 4 with no tubo code): results, a task the
worker fails, a worker SIGKILLed mid-task, the window, cancel, options,
close/terminate, no leaked fds or children."""
import gc
import os
import select
import sys
import tempfile
import textwrap
import time
import unittest

import testing
import tubo

TIMEOUT = 60

# Upper-cases each task; "fail X" raises; "kill" SIGKILLs the worker;
# "sleep S" sleeps S seconds; "pid" answers the worker's pid.
WORKER = textwrap.dedent("""
    import os, signal, sys, time
    sys.path.insert(0, sys.argv[1])
    import tubo

    def serve(task):
        if task.startswith(b"fail "):
            raise RuntimeError(task[5:].decode())
        if task == b"kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if task.startswith(b"sleep "):
            time.sleep(float(task[6:]))
        if task == b"pid":
            return str(os.getpid()).encode()
        return task.upper()

    if __name__ == "__main__":
        sys.exit(tubo.serve_pool_tasks(serve))
""")


class BytesPoolTest(unittest.TestCase):
    def setUp(self):
        self.fds = testing.open_fds()
        self.children = testing.children()
        self.dir = tempfile.TemporaryDirectory()
        self.script = os.path.join(self.dir.name, "worker.py")
        with open(self.script, "w") as f:
            f.write(WORKER)
        package = os.path.dirname(os.path.dirname(os.path.abspath(tubo.__file__)))
        self.args = [sys.executable, self.script, package]
        self.env = {"TUBO_LIBRARY": tubo.library_path}

    def tearDown(self):
        self.dir.cleanup()
        gc.collect()
        self.assertEqual(testing.open_fds(), self.fds)
        self.assertEqual(testing.children(), self.children)

    def pool(self, **options):
        return tubo.BytesPool(self.args, env=self.env, **options)

    def test_results_failures_and_a_killed_worker(self):
        with self.pool(workers=2) as pool:
            self.assertEqual(pool.workers, 2)
            tasks = [pool.submit(b"task %d" % i) for i in range(10)]
            failing = pool.submit(b"fail on purpose")
            killer = pool.submit(b"kill")
            after = [pool.submit(b"after %d" % i) for i in range(10)]
            self.assertEqual([t.result(TIMEOUT) for t in tasks],
                             [b"TASK %d" % i for i in range(10)])
            with self.assertRaises(tubo.TaskFailedError) as cm:
                failing.result(TIMEOUT)
            self.assertIn("RuntimeError: on purpose", str(cm.exception))
            with self.assertRaises(tubo.WorkerDiedError) as cm:
                killer.result(TIMEOUT)
            self.assertRegex(str(cm.exception),
                             r"task %d: worker pid \d+ died running it" % killer.id)
            self.assertEqual([t.result(TIMEOUT) for t in after],
                             [b"AFTER %d" % i for i in range(10)])
            self.assertTrue(all(t.done() for t in tasks + after))
            self.assertEqual(len(set(t.id for t in tasks + after)), 20)
            self.assertEqual(len(pool.worker_pids()), 2)

    def test_the_standard_library_worker(self):
        stdlib_worker = testing.runfile("tests/pool/stdlib_worker.py")
        with tubo.BytesPool([sys.executable, stdlib_worker], workers=2) as pool:
            ok, failed = pool.submit(b"hello"), pool.submit(b"fail nope")
            self.assertEqual(ok.result(TIMEOUT), b"HELLO")
            with self.assertRaisesRegex(tubo.TaskFailedError, "nope"):
                failed.result(TIMEOUT)

    def test_window_wait_and_cancel(self):
        pool = self.pool(workers=1, max_in_flight=2, prefetch=0)
        running = pool.submit(b"sleep 0.5")
        queued = pool.submit(b"never")
        with self.assertRaises(tubo.TuboTimeoutError):
            pool.submit(b"no room", timeout=0.05)
        self.assertFalse(running.wait(0.01))
        self.assertTrue(queued.cancel())
        with self.assertRaises(tubo.CancelledError):
            queued.result(TIMEOUT)
        with self.assertRaises(TimeoutError):
            running.result(0.01)
        self.assertEqual(running.result(TIMEOUT), b"SLEEP 0.5")
        pool.close()
        with self.assertRaises(tubo.ClosedError):
            pool.submit(b"late")

    def test_task_timeout_and_retries(self):
        with self.pool(workers=1, task_timeout=0.3) as pool:
            slow = pool.submit(b"sleep 30")
            with self.assertRaises(tubo.TuboTimeoutError):
                slow.result(TIMEOUT)
            self.assertEqual(pool.submit(b"next").result(TIMEOUT), b"NEXT")
        with self.pool(workers=1, retries=1) as pool:
            with self.assertRaisesRegex(tubo.WorkerDiedError, "after 1 retries"):
                pool.submit(b"kill").result(TIMEOUT)

    def test_recycling(self):
        with self.pool(workers=1, max_tasks_per_worker=2) as pool:
            pids = [pool.submit(b"pid").result(TIMEOUT) for _ in range(6)]
        self.assertEqual(len(set(pids)), 3)

    def test_terminate(self):
        pool = self.pool(workers=1)
        slow = [pool.submit(b"sleep 30") for _ in range(3)]
        started = time.monotonic()
        pool.terminate()
        for t in slow:
            with self.assertRaises(tubo.CancelledError):
                t.result(TIMEOUT)
        self.assertLess(time.monotonic() - started, 10)

    def test_workers_that_cannot_start(self):
        with tubo.BytesPool([sys.executable, "-c", "import sys; sys.exit(3)"], workers=1,
                            max_start_failures=2, capture_stderr=True) as pool:
            with self.assertRaisesRegex(tubo.SpawnError, "before it was ready"):
                pool.submit(b"x").result(TIMEOUT)

    def test_bad_options(self):
        with self.assertRaisesRegex(tubo.InvalidArgumentError, "workers"):
            self.pool(workers=-1)
        with self.assertRaises(TypeError):
            self.pool(no_such_option=1)
        with self.assertRaises(ValueError):
            tubo.BytesPool([])

    def test_notify_fd_becomes_readable_when_a_task_is_done(self):
        with self.pool(workers=1) as pool:
            fd = pool.notify_fd
            task = pool.submit(b"sleep 0.2")
            self.assertTrue(select.select([fd], [], [], TIMEOUT)[0])
            task.wait(TIMEOUT)
            self.assertTrue(task.done())
            os.read(fd, 8)
            self.assertFalse(select.select([fd], [], [], 0)[0])


if __name__ == "__main__":
    unittest.main()
