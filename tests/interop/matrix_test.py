"""The cross-language matrix: every parent x every echo worker, as a table.

Parents and workers in C++, C, Go, Python (the tubo binding) and CPython's
standard library alone. Each cell: the parent spawns the worker with channels
`in`/`out` (contract 2), exchanges messages of 0, 1, 16383-16385,
65535-65537 bytes and 1 MiB (contract 1), closes `in`, and expects EOF and
exit 0. Every driver's CLI is in its file comment.
"""
import os
import subprocess
import sys
import time

PARENTS = {
    "c++": "tests/interop/cpp_parent",
    "c": "tests/interop/c_parent",
    "go": "bindings/go/go_parent",
    "python": "tests/interop/parent",
    "stdlib": "tests/interop/stdlib_parent",
}
WORKERS = {
    "c++": "examples/cpp/echo_worker",
    "c": "examples/c/echo_worker",
    "go": "bindings/go/go_echo_worker",
    "python": "examples/python/echo_worker",
    "stdlib": "tests/interop/stdlib_echo_worker",
}


def runfile(path):
    return os.path.join(os.environ["TEST_SRCDIR"], os.environ.get("TEST_WORKSPACE", "tubo"), path)


def main():
    failures = []
    cells = {}
    for pname, parent in PARENTS.items():
        for wname, worker in WORKERS.items():
            start = time.monotonic()
            try:
                p = subprocess.run([runfile(parent), "--", runfile(worker)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True, timeout=300)
                ok = p.returncode == 0 and "FAIL" not in p.stdout
                output = p.stdout
            except subprocess.TimeoutExpired as e:
                ok, output = False, "timed out after 300 s\n%s" % (e.output or "")
            cells[pname, wname] = ("ok %4.2fs" % (time.monotonic() - start)) if ok else "FAIL"
            if not ok:
                failures.append((pname, wname, output))
    width = 10
    print("parent \\ worker".ljust(16) + "".join(w.ljust(width) for w in WORKERS))
    for pname in PARENTS:
        print(pname.ljust(16) + "".join(cells[pname, w].ljust(width) for w in WORKERS))
    print("%d of %d cells pass" % (len(cells) - len(failures), len(cells)))
    for pname, wname, output in failures:
        print("\n--- parent %s, worker %s ---\n%s" % (pname, wname, output))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
