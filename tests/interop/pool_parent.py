"""Cross-language pool matrix, pool "Python binding": drives a pool worker
through tubo.BytesPool (the C pool for byte tasks).

CLI:  pool_parent.py [--] <worker argv...>
  Starts a BytesPool of 2 workers with the exec start method of the worker
  program, submits the matrix's 50 tasks (the task convention and the expected
  outcomes are in pool_matrix_test.py's file comment), checks every outcome in
  submission order, closes the pool and checks that this process has no child
  left. Prints one summary line ("pool_parent.py: OK ..." or
  "pool_parent.py: FAIL ..."); exits 0 on success, 1 on failure. Gives up
  after 30 s.
Needs the `tubo` package importable (PYTHONPATH, or the py_binary target).
"""
import glob
import signal
import sys

import tubo

TASKS, KILL, FAIL = 50, 25, 33
SIZES = [0, 1, 7, 100, 4096, 65535, 65536, 65537, 102400]


def payload(i):
    """What task ``i`` asks the worker to echo (and its expected result)."""
    return bytes((j * 31 + i * 7) & 0xFF for j in range(SIZES[i % len(SIZES)]))


def task_bytes(i):
    if i == KILL:
        return b"kill %d" % i
    if i == FAIL:
        return b"fail task %d fails on purpose" % i
    return b"echo " + payload(i)


def children():
    """The pids of this process's children (every thread's /proc children file)."""
    pids = []
    for path in glob.glob("/proc/self/task/*/children"):
        try:
            with open(path) as f:
                pids += f.read().split()
        except FileNotFoundError:  # the thread ended
            pass
    return pids


def check(i, task):
    """None if task ``i`` ended as the convention says, else why not."""
    try:
        result = task.result()
    except tubo.WorkerDiedError as e:
        if i == KILL and str(e).startswith("task %d:" % task.id) and "died" in str(e):
            return None
        return "WorkerDiedError: %s" % e
    except tubo.TaskFailedError as e:
        if i == FAIL and ("task %d fails on purpose" % i) in str(e):
            return None
        return "TaskFailedError: %s" % e
    except tubo.TuboError as e:
        return "%s: %s" % (type(e).__name__, e)
    if i in (KILL, FAIL):
        return "a result of %d bytes instead of %s" % (
            len(result), "WorkerDiedError" if i == KILL else "TaskFailedError")
    if result != payload(i):
        return "wrong result of %d bytes (want %d)" % (len(result), len(payload(i)))
    return None


def main(argv):
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: pool_parent.py [--] <worker argv...>", file=sys.stderr)
        return 2
    signal.alarm(30)  # a hang is a failure: SIGALRM ends the driver
    pool = tubo.BytesPool(argv, workers=2)
    try:
        tasks = [pool.submit(task_bytes(i)) for i in range(TASKS)]
        for i, task in enumerate(tasks):
            why = check(i, task)
            if why is not None:
                print("pool_parent.py: FAIL task %d (id %d): %s" % (i, task.id, why))
                return 1
        pool.close()
    finally:
        pool.terminate()
    left = children()
    if left:
        print("pool_parent.py: FAIL children left after close: %s" % " ".join(left))
        return 1
    print("pool_parent.py: OK %d tasks: %d results, task %d worker_died, task %d task_failed; "
          "closed, no child left" % (TASKS, TASKS - 2, KILL, FAIL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
