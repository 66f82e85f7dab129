"""The chaos run of tubo.Pool: 2 000 tiny tasks, 1 % SIGKILL their worker,
1 % raise. Every other result is right; exactly the killers fail with
WorkerDiedError and the raisers with their own exception; every task ran
exactly once (a log every task appends to before it does anything else);
nothing hangs; no fd or child is left. Prints its figures."""
import gc
import os
import signal
import sys
import tempfile
import time
import unittest

import testing
import tubo

TASKS = 2000
TIMEOUT = 120


def is_killer(i):
    return i % 100 == 17


def is_raiser(i):
    return i % 100 == 61


def chaos(i, log):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"%d\n" % i)  # one write of a few bytes with O_APPEND: lines never mix
    os.close(fd)
    if is_killer(i):
        os.kill(os.getpid(), signal.SIGKILL)
    if is_raiser(i):
        raise ValueError("task %d raises" % i)
    return i * i


class ChaosTest(unittest.TestCase):
    def test_chaos(self):
        fds, children = testing.open_fds(), testing.children()
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "ran")
            open(log, "w").close()
            started = time.monotonic()
            outcomes = []
            with tubo.Pool(2) as pool:
                it = pool.imap(_chaos_star, ((i, log) for i in range(TASKS)))
                for i in range(TASKS):
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
            elapsed = time.monotonic() - started
            with open(log) as f:
                ran = [int(line) for line in f]
        for i, (kind, value) in enumerate(outcomes):
            if is_killer(i):
                self.assertEqual(kind, "died", i)
                self.assertRegex(value, r"worker pid \d+ died running it")
            elif is_raiser(i):
                self.assertEqual((kind, value), ("raised", "task %d raises" % i))
            else:
                self.assertEqual((kind, value), ("ok", i * i))
        self.assertEqual(sorted(ran), list(range(TASKS)))  # each once: no duplicate, none lost
        del pool, it  # a Pool's descriptors are released with the object
        gc.collect()
        self.assertEqual(testing.open_fds(), fds)
        self.assertEqual(testing.children(), children)
        kinds = [k for k, _ in outcomes]
        sys.stderr.write(
            "chaos: %d tasks on 2 workers in %.2f s (%.0f tasks/s): %d ok, %d WorkerDiedError, "
            "%d raised; 0 hangs, 0 duplicates\n"
            % (TASKS, elapsed, TASKS / elapsed, kinds.count("ok"), kinds.count("died"),
               kinds.count("raised")))


def _chaos_star(args):
    return chaos(*args)


if __name__ == "__main__":
    unittest.main()
