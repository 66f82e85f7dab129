"""The cross-language pool matrix: every pool x every pool worker, as a table.

Pools in C++ (tubo::Pool), C (tubo_pool_*), Go (tubo.Pool) and Python
(tubo.BytesPool); workers (contract 4) in C++ (tubo::ServePoolTasks), C
(tubo_pool_serve), Go (tubo.ServePoolTasks), Python (tubo.serve_pool_tasks)
and CPython's standard library alone. Each pool driver takes the worker's
argv and prints one line; its CLI is in its file comment.

The task convention, the one of tests/pool/workers.h (every worker serves
it): a task "echo X" returns X; "fail MSG" fails the task with the message
MSG (a worker may decorate it, e.g. with an exception's type); "kill X" makes
the worker SIGKILL itself (X only makes tasks distinct).

Each cell: a pool of 2 workers, the exec start method of the worker program,
runs 50 tasks, submitted in order, i = 0..49:
  - i = 25: "kill 25"; it must fail with the language's worker-died error
    (C++ Error::kWorkerDied, C TUBO_E_WORKER_DIED, Go ErrWorkerDied, Python
    WorkerDiedError) whose message starts "task <its id>:" and says "died".
    Task 26 is a 100 KiB one, more than a pipe holds, so the one the pool
    may have prefetched to the dying worker is cut off mid-frame and must
    run elsewhere;
  - i = 33: "fail task 33 fails on purpose"; it must fail with the
    task-failed error whose message contains "task 33 fails on purpose";
  - every other i: "echo " + payload(i), where payload(i) has
    SIZES[i % 9] bytes, SIZES = 0, 1, 7, 100, 4096, 65535, 65536, 65537,
    102400, and byte j is (j * 31 + i * 7) & 0xff; its result must be
    payload(i) exactly.
Outcomes are checked in submission order (so the tasks after the crash, and
those queued behind it on the dead worker, must succeed); then the pool is
closed and the driver must have no child process left.
"""
import os
import subprocess
import sys
import time

POOLS = {
    "c++": "tests/interop/cpp_pool_parent",
    "c": "tests/interop/c_pool_parent",
    "go": "bindings/go/go_pool_parent",
    "python": "tests/interop/pool_parent",
}
WORKERS = {
    "c++": "tests/pool/pool_test_worker",
    "c": "tests/capi/capi_pool_worker",
    "go": "bindings/go/go_pool_worker",
    "python": "tests/interop/pool_worker",
    "stdlib": "tests/interop/stdlib_pool_worker",
}
# Seconds. A cell takes 0.05-2 s on 2 cores; each driver gives up after 30 s
# itself. Past the budget (inside Bazel's 300 s for a medium test) the cells
# left are reported as not run, so that the table is always printed.
CELL_TIMEOUT = 40
BUDGET = 240


def runfile(path):
    return os.path.join(os.environ["TEST_SRCDIR"], os.environ.get("TEST_WORKSPACE", "tubo"), path)


def run_cell(pool, worker):
    """(ok, output) of one cell."""
    try:
        p = subprocess.run([runfile(pool), "--", runfile(worker)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=CELL_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return False, "timed out after %d s\n%s" % (CELL_TIMEOUT, e.output or "")
    ok = p.returncode == 0 and ": OK " in p.stdout and "FAIL" not in p.stdout
    if not ok:
        return False, "exit status %d\n%s" % (p.returncode, p.stdout)
    return True, p.stdout


def main():
    failures = []
    cells = {}
    deadline = time.monotonic() + BUDGET
    for pname, pool in POOLS.items():
        for wname, worker in WORKERS.items():
            start = time.monotonic()
            if start < deadline:
                ok, output = run_cell(pool, worker)
            else:
                ok, output = False, "not run: the matrix's %d s budget was spent" % BUDGET
            cells[pname, wname] = ("ok %4.2fs" % (time.monotonic() - start)) if ok else "FAIL"
            if not ok:
                failures.append((pname, wname, output))
    width = 10
    print("pool \\ worker".ljust(16) + "".join(w.ljust(width) for w in WORKERS))
    for pname in POOLS:
        print(pname.ljust(16) + "".join(cells[pname, w].ljust(width) for w in WORKERS))
    print("%d of %d cells pass" % (len(cells) - len(failures), len(cells)))
    for pname, wname, output in failures:
        print("\n--- FAIL: pool %s, worker %s ---\n%s" % (pname, wname, output))
    if failures:
        print("failing cells (pool x worker): %s" %
              ", ".join("%s x %s" % (p, w) for p, w, _ in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
