"""tubo.Pool against multiprocessing.Pool (spawn): the same results for the
same functions from every method, chunksize, callbacks, exceptions with the
remote traceback; then what multiprocessing cannot do: a task that SIGKILLs
its worker fails alone with WorkerDiedError and the pool goes on. Also
recycling (maxtasksperchild), initializer, terminate/close/join, the context
manager, lazy imap, the __main__ guard, and no leaked fds or children."""
import fractions
import itertools
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
from multiprocessing.pool import RemoteTraceback

import testing
import tubo

TIMEOUT = 60


def square(x):
    return x * x


def add(a, b):
    return a + b


def fails_on_five(x):
    if x == 5:
        raise ValueError("five is not allowed")
    return -x


def kills_itself_on(x, victim):
    if x == victim:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


def kills_itself_at_99(x):
    return kills_itself_on(x, 99)


def getpid(_=None):
    return os.getpid()


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def keyword_args(a, b=0, *, c=0):
    return (a, b, c)


_initialized = None


def set_initialized(value):
    global _initialized
    _initialized = value


def get_initialized(_=None):
    return _initialized


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class MatchesMultiprocessingTest(unittest.TestCase):
    """Every method gives what multiprocessing.Pool gives."""

    @classmethod
    def setUpClass(cls):
        cls.mp = multiprocessing.get_context("spawn").Pool(2)
        cls.tp = tubo.Pool(2)

    @classmethod
    def tearDownClass(cls):
        cls.mp.terminate()
        cls.mp.join()
        cls.tp.terminate()
        cls.tp.join()

    def both(self, call):
        return call(self.mp), call(self.tp)

    def assertSame(self, call):
        expected, got = self.both(call)
        self.assertEqual(got, expected)
        return got

    def test_map_and_chunksize(self):
        for chunksize in (None, 1, 3, 7, 100):
            with self.subTest(chunksize=chunksize):
                self.assertSame(lambda p: p.map(square, range(50), chunksize))
        self.assertSame(lambda p: p.map(square, []))
        self.assertSame(lambda p: p.map(square, (x for x in range(9))))  # no __len__

    def test_starmap(self):
        pairs = [(i, i * 2) for i in range(30)]
        for chunksize in (None, 1, 4):
            self.assertSame(lambda p: p.starmap(add, pairs, chunksize))
        self.assertSame(lambda p: p.starmap_async(add, pairs).get(TIMEOUT))

    def test_imap_and_imap_unordered(self):
        for chunksize in (1, 2, 5):
            with self.subTest(chunksize=chunksize):
                self.assertSame(lambda p: list(p.imap(square, range(40), chunksize)))
                self.assertSame(
                    lambda p: sorted(p.imap_unordered(square, iter(range(40)), chunksize)))

    def test_apply_and_apply_async(self):
        self.assertSame(lambda p: p.apply(keyword_args, (1,), {"b": 2, "c": 3}))
        self.assertSame(lambda p: p.apply_async(add, (2, 3)).get(TIMEOUT))
        self.assertSame(lambda p: p.map_async(square, range(12), 5).get(TIMEOUT))

    def test_async_result_states(self):
        def states(p):
            r = p.apply_async(sleep_then, (0.3, "late"))
            before = r.ready()
            with self.assertRaises(ValueError):
                r.successful()
            with self.assertRaises(multiprocessing.TimeoutError):
                r.get(0.01)
            r.wait(TIMEOUT)
            return before, r.ready(), r.successful(), r.get()
        self.assertSame(states)

    def test_callbacks(self):
        def run(p):
            got = []
            done = threading.Event()

            def record(kind):
                def callback(value):
                    got.append((kind, value if kind.endswith("ok") else type(value).__name__))
                return callback
            p.apply_async(square, (4,), callback=record("apply ok")).wait(TIMEOUT)
            p.apply_async(fails_on_five, (5,), error_callback=record("apply err")).wait(TIMEOUT)
            p.map_async(square, range(5), callback=record("map ok")).wait(TIMEOUT)
            p.map_async(fails_on_five, range(8), 2,
                        error_callback=record("map err")).wait(TIMEOUT)
            p.starmap_async(add, [(1, 2)], callback=lambda v: done.set()).wait(TIMEOUT)
            return got, done.is_set()
        self.assertSame(run)

    def test_exceptions_carry_the_remote_traceback(self):
        for call in (lambda p: p.apply(fails_on_five, (5,)),
                     lambda p: p.map(fails_on_five, range(10), 3),
                     lambda p: p.apply_async(fails_on_five, (5,)).get(TIMEOUT),
                     lambda p: list(p.imap(fails_on_five, range(10), 4))):
            caught = []
            for p in (self.mp, self.tp):
                with self.assertRaises(ValueError) as cm:
                    call(p)
                caught.append(cm.exception)
            self.assertEqual([str(e) for e in caught[1:]], [str(caught[0])])
            self.assertIsInstance(caught[1].__cause__, RemoteTraceback)
            self.assertIn("in fails_on_five", str(caught[1].__cause__))
            self.assertIn('raise ValueError("five is not allowed")', str(caught[1].__cause__))

    def test_imap_goes_on_after_an_exception(self):
        def run(p):
            it = p.imap(fails_on_five, range(8))
            out = []
            for _ in range(8):
                try:
                    out.append(it.next(TIMEOUT))
                except ValueError as e:
                    out.append(str(e))
            with self.assertRaises(StopIteration):
                it.next(TIMEOUT)
            return out
        self.assertSame(run)

    def test_map_of_values_of_every_kind(self):
        # Plain values take a shorter way to the worker than the others.
        values = [1, "a", b"b", 2.5, None, True, (1, 2), fractions.Fraction(1, 3), [3], {"k": 4}]
        for chunksize in (1, 2, None):
            with self.subTest(chunksize=chunksize):
                self.assertSame(lambda p: p.map(repr, values, chunksize))
        self.assertSame(lambda p: list(p.imap(repr, values)))

    def test_unpicklable_item_of_a_map(self):
        expected, got = [], []
        for p, out in ((self.mp, expected), (self.tp, got)):
            for chunksize in (1, 2):
                with self.assertRaises(Exception) as cm:
                    p.map(square, [1, 2, lambda: 0, 4], chunksize)
                out.append(type(cm.exception))
        self.assertEqual(got, expected)

    def test_unpicklable_argument(self):
        expected, got = [], []
        for p, out in ((self.mp, expected), (self.tp, got)):
            with self.assertRaises(Exception) as cm:
                p.apply_async(square, (lambda: 0,)).get(TIMEOUT)
            out.append(type(cm.exception))
        self.assertEqual(got, expected)


class PoolTest(testing.LeakCheck, unittest.TestCase):
    def test_a_task_that_kills_its_worker_fails_alone(self):
        with tubo.Pool(2) as p:
            results = [p.apply_async(kills_itself_on, (i, 3)) for i in range(8)]
            for i, r in enumerate(results):
                if i == 3:
                    with self.assertRaises(tubo.WorkerDiedError) as cm:
                        r.get(TIMEOUT)
                    message = str(cm.exception)
                    self.assertRegex(message, r"task \d+: worker pid \d+ died running it")
                    self.assertIn("9", message)  # the signal
                    self.assertFalse(r.successful())
                else:
                    self.assertEqual(r.get(TIMEOUT), i * 10)
            # The pool goes on, with two workers.
            self.assertEqual(p.map(square, range(20)), [x * x for x in range(20)])
            self.assertEqual(len(p.worker_pids()), 2)
            # In a map the chunk's task fails, and with it the map.
            with self.assertRaises(tubo.WorkerDiedError):
                p.starmap(kills_itself_on, [(i, 7) for i in range(10)], 2)
            it = p.imap(kills_itself_at_99, [1, 2, 99, 4])  # one item per task: only 99 fails
            self.assertEqual(it.next(TIMEOUT), 10)
            self.assertEqual(it.next(TIMEOUT), 20)
            self.assertRaises(tubo.WorkerDiedError, it.next, TIMEOUT)
            self.assertEqual(list(it), [40])

    def test_maxtasksperchild_recycles_workers(self):
        with tubo.Pool(2, maxtasksperchild=2) as p:
            pids = [p.apply(getpid) for _ in range(12)]
        counts = {pid: pids.count(pid) for pid in pids}
        self.assertGreaterEqual(len(counts), 6)
        self.assertLessEqual(max(counts.values()), 2)

    def test_initializer(self):
        with tubo.Pool(2, initializer=set_initialized, initargs=("ready",)) as p:
            self.assertEqual(set(p.map(get_initialized, range(10), 1)), {"ready"})

    def test_close_then_join_finishes_the_work(self):
        p = tubo.Pool(2)
        results = [p.apply_async(sleep_then, (0.05, i)) for i in range(10)]
        lazy = p.map_async(square, range(200), 1)
        pids = p.worker_pids()
        with self.assertRaises(ValueError):
            p.join()  # still running
        p.close()
        with self.assertRaises(ValueError):
            p.apply_async(square, (1,))
        p.join()
        self.assertEqual([r.get(0) for r in results], list(range(10)))
        self.assertEqual(lazy.get(0), [x * x for x in range(200)])
        self.assertFalse(any(alive(pid) for pid in pids))

    def test_terminate_cancels_what_is_not_done(self):
        p = tubo.Pool(2)
        slow = [p.apply_async(sleep_then, (30, i)) for i in range(6)]
        pids = p.worker_pids()
        time.sleep(0.3)
        started = time.monotonic()
        p.terminate()
        p.join()
        self.assertLess(time.monotonic() - started, 10)
        for r in slow:
            self.assertTrue(r.ready())
            with self.assertRaises(tubo.CancelledError):
                r.get(0)
        self.assertFalse(any(alive(pid) for pid in pids))
        with self.assertRaises(ValueError):
            p.map(square, [1])

    def test_context_manager_terminates(self):
        with tubo.Pool(1) as p:
            r = p.apply_async(sleep_then, (30, 0))
            pids = p.worker_pids()
        with self.assertRaises(tubo.CancelledError):
            r.get(TIMEOUT)
        self.assertFalse(any(alive(pid) for pid in pids))

    def test_imap_reads_its_input_lazily(self):
        pulled = itertools.count()
        taken = []

        def source():
            for i in range(10**9):
                next(pulled)
                taken.append(i)
                yield i
        with tubo.Pool(2) as p:
            it = p.imap(square, source())
            self.assertEqual([it.next(TIMEOUT) for _ in range(5)], [0, 1, 4, 9, 16])
            time.sleep(0.2)
            self.assertLessEqual(len(taken), 5 + 8 * 2)
            un = p.imap_unordered(square, itertools.count(), 3)
            self.assertEqual(len(list(itertools.islice(un, 30))), 30)
            del it, un
            self.assertEqual(p.apply(square, (3,)), 9)  # the pool is not stuck

    def test_imap_next_timeout(self):
        with tubo.Pool(1) as p:
            self.assertEqual(list(p.imap(square, [])), [])
            self.assertEqual(list(p.imap_unordered(square, [], 3)), [])
            blocked = p.imap(time.sleep, [2])
            with self.assertRaises(multiprocessing.TimeoutError):
                blocked.next(0.1)
            self.assertIsNone(blocked.next(TIMEOUT))

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            tubo.Pool(0)
        with self.assertRaises(ValueError):
            tubo.Pool(1, maxtasksperchild=0)
        with self.assertRaises(TypeError):
            tubo.Pool(1, initializer=3)
        with tubo.Pool(1) as p:
            with self.assertRaises(ValueError):
                p.map(square, range(3), 0)
            with self.assertRaises(ValueError):
                p.imap(square, range(3), 0)
            with self.assertRaises(NotImplementedError):
                pickle.dumps(p)


UNGUARDED = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import tubo

    def square(x):
        return x * x

    pool = tubo.Pool(1)
    try:
        print(pool.map(square, [1, 2]))
    except tubo.SpawnError as e:
        print("SpawnError")
    pool.terminate()
""")


class MainGuardTest(unittest.TestCase):
    def test_a_pool_at_the_top_level_of_the_main_module(self):
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "unguarded.py")
            with open(script, "w") as f:
                f.write(UNGUARDED)
            package = os.path.dirname(os.path.dirname(os.path.abspath(tubo.__file__)))
            out = subprocess.run([sys.executable, script, package], capture_output=True,
                                 text=True, timeout=TIMEOUT,
                                 env=dict(os.environ, TUBO_LIBRARY=tubo.library_path))
        self.assertEqual(out.stdout, "SpawnError\n")
        self.assertIn("a tubo.Pool was created while this child process was importing",
                      out.stderr)
        self.assertIn("if __name__ == '__main__':", out.stderr)


if __name__ == "__main__":
    unittest.main()
