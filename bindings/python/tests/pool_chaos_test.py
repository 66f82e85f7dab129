"""The chaos run of tubo.Pool: N tiny tasks (TUBO_CHAOS_TASKS, default
2 000, times TUBO_STRESS_SCALE), 1 % SIGKILL their worker, 1 % raise. Every
other result is right; exactly the killers fail with WorkerDiedError and the
raisers with their own exception; every task ran exactly once (a log every
task appends to before it does anything else, and each worker when it
starts); nothing hangs; no fd or child is left. Prints its figures as one
"STRESS pool chaos [python]: ..." line."""
import collections
import gc
import os
import signal
import tempfile
import time
import unittest

import testing
import tubo

WORKERS = 2
TIMEOUT = 120


def task_count():
    """TUBO_CHAOS_TASKS (default 2 000) scaled by TUBO_STRESS_SCALE, at least 1."""
    tasks = os.environ.get("TUBO_CHAOS_TASKS", "2000")
    scale = os.environ.get("TUBO_STRESS_SCALE", "1")
    if not tasks.isdigit() or int(tasks) < 1:
        raise ValueError("TUBO_CHAOS_TASKS=%r: want a positive whole number of tasks" % tasks)
    try:
        factor = float(scale)
    except ValueError:
        factor = 0
    if not factor > 0:
        raise ValueError("TUBO_STRESS_SCALE=%r: want a positive number" % scale)
    return max(1, int(int(tasks) * factor))


def is_killer(i):
    return i % 100 == 17


def is_raiser(i):
    return i % 100 == 61


def append(log, line):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, line)  # one write of a few bytes with O_APPEND: lines never mix
    os.close(fd)


def started(log):
    """The workers' initializer: logs the worker's start."""
    append(log, b"start %d\n" % os.getpid())


def chaos(i, log):
    append(log, b"%d\n" % i)
    if is_killer(i):
        os.kill(os.getpid(), signal.SIGKILL)
    if is_raiser(i):
        raise ValueError("task %d raises" % i)
    return i * i


class ChaosTest(unittest.TestCase):
    def test_chaos(self):
        tasks = task_count()
        fds, children = testing.open_fds(), testing.children()
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "ran")
            open(log, "w").close()
            begin = time.monotonic()
            outcomes = []
            with tubo.Pool(WORKERS, initializer=started, initargs=(log,)) as pool:
                it = pool.imap(_chaos_star, ((i, log) for i in range(tasks)))
                for i in range(tasks):
                    try:
                        outcomes.append(("ok", it.next(TIMEOUT)))
                    except tubo.WorkerDiedError as e:
                        outcomes.append(("died", str(e)))
                    except ValueError as e:
                        outcomes.append(("raised", str(e)))
                with self.assertRaises(StopIteration):
                    it.next(TIMEOUT)
                pool.close()
                pool.join()
            elapsed = time.monotonic() - begin
            with open(log) as f:
                lines = f.read().splitlines()
        starts = sum(1 for line in lines if line.startswith("start "))
        ran = [int(line) for line in lines if not line.startswith("start ")]
        runs = collections.Counter(ran)
        duplicates = sum(1 for times in runs.values() if times > 1)
        del pool, it  # a Pool's descriptors are released with the object
        gc.collect()
        leaked_fds = len(testing.open_fds() - fds)
        leaked_children = len(set(testing.children()) - set(children))
        killers = sum(1 for i in range(tasks) if is_killer(i))
        raisers = sum(1 for i in range(tasks) if is_raiser(i))
        print("STRESS pool chaos [python]: %d tasks (%d killers, %d raisers) on %d workers in "
              "%.2f s: %.0f tasks/s, %d workers started, %d duplicates, %d leaked fds, "
              "%d leaked children"
              % (tasks, killers, raisers, WORKERS, elapsed, tasks / elapsed, starts, duplicates,
                 leaked_fds, leaked_children), flush=True)
        for i, (kind, value) in enumerate(outcomes):
            if is_killer(i):
                self.assertEqual(kind, "died", i)
                self.assertRegex(value, r"worker pid \d+ died running it")
            elif is_raiser(i):
                self.assertEqual((kind, value), ("raised", "task %d raises" % i))
            else:
                self.assertEqual((kind, value), ("ok", i * i))
        self.assertEqual(sorted(ran), list(range(tasks)))  # each once: no duplicate, none lost
        self.assertEqual(duplicates, 0)
        self.assertGreaterEqual(starts, WORKERS + killers)
        self.assertEqual(leaked_fds, 0)
        self.assertEqual(leaked_children, 0)


def _chaos_star(args):
    return chaos(*args)


if __name__ == "__main__":
    unittest.main()
