"""The Python parents (binding, stdlib) x the echo workers built so far, as a table."""
import os
import subprocess
import sys

PARENTS = {
    "python": "tests/interop/parent",
    "stdlib": "tests/interop/stdlib_parent",
}
WORKERS = {
    "c++": "examples/cpp/echo_worker",
    "c": "examples/c/echo_worker",
    "python": "examples/python/echo_worker",
    "stdlib": "tests/interop/stdlib_echo_worker",
}


def runfile(path):
    return os.path.join(os.environ["TEST_SRCDIR"], "tubo", path)


def main():
    failures = 0
    print("%-8s %-8s %s" % ("parent", "worker", "result"))
    for pname, parent in PARENTS.items():
        for wname, worker in WORKERS.items():
            p = subprocess.run([runfile(parent), "--", runfile(worker)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
            ok = p.returncode == 0 and ": OK " in p.stdout
            failures += not ok
            print("%-8s %-8s %s" % (pname, wname, "ok" if ok else "FAIL"))
            if not ok:
                print(p.stdout)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
