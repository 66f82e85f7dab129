"""BytesPool tasks in waits: ``tubo.wait`` over a pipe end, a process and
tasks (one running until the test SIGKILLs its worker, one queued behind
it) reports each only once it is ready; a task done before the wait is ready
at once; ``PoolTask.sentinel`` works with ``multiprocessing.connection.wait``
and ``select``; no descriptor or child is left behind."""
import gc
import multiprocessing.connection
import os
import select
import signal
import sys
import tempfile
import textwrap
import time
import unittest

import testing
import tubo

TIMEOUT = 60

# "hang PATH" creates PATH, then sleeps (until the test kills the worker);
# anything else is returned upper-cased.
WORKER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import tubo

    def serve(task):
        if task.startswith(b"hang "):
            open(task[5:], "w").close()
            time.sleep(600)
        return task.upper()

    if __name__ == "__main__":
        sys.exit(tubo.serve_pool_tasks(serve))
""")


class TaskWaitTest(unittest.TestCase):
    def setUp(self):
        self.fds = testing.open_fds()
        self.children = testing.children()
        self.dir = tempfile.TemporaryDirectory()
        script = os.path.join(self.dir.name, "worker.py")
        with open(script, "w") as f:
            f.write(WORKER)
        package = os.path.dirname(os.path.dirname(os.path.abspath(tubo.__file__)))
        self.pool = tubo.BytesPool([sys.executable, script, package],
                                   env={"TUBO_LIBRARY": tubo.library_path}, workers=1)

    def tearDown(self):
        self.pool.terminate()
        self.pool = None
        self.dir.cleanup()
        gc.collect()
        self.assertEqual(testing.open_fds(), self.fds)
        self.assertEqual(testing.children(), self.children)

    def hang(self):
        """A task that runs until its worker is killed (once it runs)."""
        marker = os.path.join(self.dir.name, "running")
        task = self.pool.submit(b"hang " + marker.encode())
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(marker):
            self.assertLess(time.monotonic(), deadline, "the worker did not start the task")
            time.sleep(0.005)
        return task

    def test_wait_over_an_end_a_process_and_tasks(self):
        running = self.hang()
        queued = self.pool.submit(b"after")
        r, w = tubo.Pipe(duplex=False)
        proc = tubo.Command("sleep", "60").spawn()
        objects = [r, proc, running, queued]
        self.assertEqual(tubo.wait(objects, 0.1), [])
        w.send_bytes(b"x")
        self.assertEqual(tubo.wait(objects, TIMEOUT), [r])
        r.recv_bytes()
        proc.kill()
        self.assertEqual(tubo.wait(objects, TIMEOUT), [proc])
        proc.join()
        objects.remove(proc)
        self.assertFalse(running.done() or queued.done())
        [pid] = self.pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        ready = tubo.wait(objects, TIMEOUT)
        self.assertEqual(ready[0], running)
        self.assertTrue(running.done())
        with self.assertRaisesRegex(tubo.WorkerDiedError, "task %d" % running.id):
            running.result(0)
        objects.remove(running)
        self.assertEqual(tubo.wait(objects, TIMEOUT), [queued])
        self.assertEqual(queued.result(0), b"AFTER")
        # Done before the wait: ready at once, and for good.
        for _ in range(2):
            self.assertEqual(tubo.wait([r, queued, running], 0), [queued, running])
        for c in (r, w, proc):
            c.close()

    def test_sentinel(self):
        running = self.hang()
        s = running.sentinel
        self.assertEqual(running.sentinel, s)  # the same descriptor each time
        self.assertEqual(multiprocessing.connection.wait([s], 0.1), [])
        self.assertEqual(select.select([s], [], [], 0)[0], [])
        os.kill(self.pool.worker_pids()[0], signal.SIGKILL)
        self.assertEqual(multiprocessing.connection.wait([s], TIMEOUT), [s])
        self.assertEqual(select.select([s], [], [], 0)[0], [s])  # readable for good
        self.assertRaises(tubo.WorkerDiedError, running.result, 0)
        done = self.pool.submit(b"x")
        self.assertEqual(done.result(TIMEOUT), b"X")
        self.assertEqual(multiprocessing.connection.wait([done.sentinel], 0), [done.sentinel])

    def test_a_terminated_pool_reports_its_tasks(self):
        running = self.hang()
        self.assertEqual(tubo.wait([running], 0), [])
        self.pool.terminate()
        self.assertEqual(tubo.wait([running], TIMEOUT), [running])
        self.assertRaises(tubo.CancelledError, running.result, 0)

    def test_bad_objects(self):
        self.assertRaisesRegex(TypeError, "BytesPool tasks", tubo.wait, ["task"], 0)
        done = self.pool.submit(b"x")
        done.result(TIMEOUT)
        self.assertRaises(tubo.InvalidArgumentError, tubo.wait, [done, done], 0)


if __name__ == "__main__":
    unittest.main()
