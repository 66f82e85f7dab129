"""tubo.ProcessPoolExecutor against concurrent.futures.ProcessPoolExecutor
(spawn): submit, map (timeout, chunksize), shutdown (wait, cancel_futures),
max_tasks_per_child, initializer; and a worker killed mid-task fails only
its own future with WorkerDiedError where the standard executor breaks."""
import concurrent.futures
import multiprocessing
import os
import signal
import time
import unittest
from concurrent.futures.process import BrokenProcessPool

import testing
import tubo

TIMEOUT = 60


def square(x):
    return x * x


def add(a, b=0):
    return a + b


def fails(x):
    raise KeyError(x)


def kills_itself_on(x, victim=3):
    if x == victim:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def getpid(_=None):
    return os.getpid()


_state = None


def init(value):
    global _state
    _state = value


def state(_=None):
    return _state


class MatchesConcurrentFuturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.std = concurrent.futures.ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("spawn"))
        cls.ex = tubo.ProcessPoolExecutor(2)

    @classmethod
    def tearDownClass(cls):
        cls.std.shutdown()
        cls.ex.shutdown()

    def assertSame(self, call):
        expected = call(self.std)
        self.assertEqual(call(self.ex), expected)

    def test_submit(self):
        self.assertSame(lambda ex: ex.submit(add, 2, b=3).result(TIMEOUT))
        self.assertSame(lambda ex: sorted(
            f.result() for f in concurrent.futures.as_completed(
                [ex.submit(square, i) for i in range(30)], TIMEOUT)))

    def test_map_and_chunksize(self):
        for chunksize in (1, 3, 50):
            self.assertSame(lambda ex: list(ex.map(square, range(40), chunksize=chunksize)))
        self.assertSame(lambda ex: list(ex.map(add, range(5), range(5, 10))))
        self.assertSame(lambda ex: list(ex.map(square, [])))

    def test_exceptions(self):
        for ex in (self.std, self.ex):
            f = ex.submit(fails, "k")
            self.assertIsInstance(f.exception(TIMEOUT), KeyError)
            self.assertIn("in fails", str(f.exception().__cause__))
            it = ex.map(fails, [1, 2])
            self.assertRaises(KeyError, next, it)

    def test_map_timeout(self):
        for ex in (self.std, self.ex):
            it = ex.map(sleep_then, [3], [0], timeout=0.2)
            with self.assertRaises(concurrent.futures.TimeoutError):
                next(it)
        time.sleep(3)  # let the slow tasks finish before the next test

    def test_the_standard_executor_breaks_instead(self):
        # What tubo improves on, shown so that this test fails if that changes.
        with concurrent.futures.ProcessPoolExecutor(
                2, mp_context=multiprocessing.get_context("spawn")) as ex:
            f = ex.submit(kills_itself_on, 3)
            with self.assertRaises(BrokenProcessPool):
                f.result(TIMEOUT)
            with self.assertRaises(BrokenProcessPool):
                ex.submit(square, 1)


class ExecutorTest(testing.LeakCheck, unittest.TestCase):
    def test_a_killed_worker_fails_only_its_future(self):
        with tubo.ProcessPoolExecutor(2) as ex:
            futures = [ex.submit(kills_itself_on, i) for i in range(8)]
            for i, f in enumerate(futures):
                if i == 3:
                    with self.assertRaises(tubo.WorkerDiedError) as cm:
                        f.result(TIMEOUT)
                    self.assertRegex(str(cm.exception), r"worker pid \d+ died running it")
                else:
                    self.assertEqual(f.result(TIMEOUT), i * 10)
            self.assertEqual(ex.submit(square, 7).result(TIMEOUT), 49)  # not broken
            self.assertEqual(list(ex.map(square, range(5))), [0, 1, 4, 9, 16])

    def test_shutdown_cancel_futures(self):
        ex = tubo.ProcessPoolExecutor(1)
        futures = [ex.submit(sleep_then, 0.5, i) for i in range(20)]
        time.sleep(0.2)
        ex.shutdown(wait=True, cancel_futures=True)
        cancelled = [f for f in futures if f.cancelled()]
        done = [f for f in futures if not f.cancelled()]
        self.assertGreater(len(cancelled), 10)
        self.assertEqual([f.result(0) for f in done], list(range(len(done))))
        with self.assertRaises(RuntimeError):
            ex.submit(square, 1)
        with self.assertRaises(RuntimeError):
            ex.map(square, [1])

    def test_shutdown_waits_for_the_work(self):
        ex = tubo.ProcessPoolExecutor(2)
        futures = [ex.submit(sleep_then, 0.05, i) for i in range(10)]
        pids = ex.worker_pids()
        ex.shutdown(wait=True)
        self.assertEqual([f.result(0) for f in futures], list(range(10)))
        for pid in pids:
            with self.assertRaises(ProcessLookupError):
                os.kill(pid, 0)

    def test_shutdown_without_waiting(self):
        ex = tubo.ProcessPoolExecutor(2)
        futures = [ex.submit(sleep_then, 0.05, i) for i in range(10)]
        ex.shutdown(wait=False)
        self.assertEqual([f.result(TIMEOUT) for f in futures], list(range(10)))
        ex._dispatcher.join(TIMEOUT)

    def test_max_tasks_per_child_and_initializer(self):
        with tubo.ProcessPoolExecutor(2, initializer=init, initargs=("set",),
                                      max_tasks_per_child=1) as ex:
            pids = [ex.submit(getpid).result(TIMEOUT) for _ in range(6)]
            self.assertEqual(len(set(pids)), 6)
            self.assertEqual(set(ex.map(state, range(4))), {"set"})

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            tubo.ProcessPoolExecutor(0)
        with self.assertRaises(ValueError):
            tubo.ProcessPoolExecutor(1, max_tasks_per_child=0)
        with self.assertRaises(TypeError):
            tubo.ProcessPoolExecutor(1, max_tasks_per_child="1")


if __name__ == "__main__":
    unittest.main()
