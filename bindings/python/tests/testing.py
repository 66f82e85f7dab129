"""Helpers shared by the binding's tests: runfiles paths and fd counting."""
import gc
import os
import sys
import time


def runfile(path):
    """The absolute path of a data dependency, given as a workspace path
    (``examples/cpp/echo_worker``)."""
    for root in (os.environ.get("TEST_SRCDIR"), os.environ.get("RUNFILES_DIR")):
        if root:
            candidate = os.path.join(root, "tubo", path)
            if os.path.exists(candidate):
                return candidate
    here = os.path.dirname(os.path.abspath(__file__))
    candidate = os.path.join(here, "..", "..", "..", path)
    if os.path.exists(candidate):
        return os.path.abspath(candidate)
    raise FileNotFoundError(path)


def open_fds():
    """The descriptors open in this process (the listing's own one excluded)."""
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            os.fstat(fd)
        except OSError:
            continue  # the directory listing's own descriptor, already closed
        fds.add(fd)
    return fds


def python():
    return sys.executable


def children():
    """The pids of this process's children (from /proc), sorted."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.append(int(entry))
    return sorted(found)


class LeakCheck:
    """A unittest.TestCase mixin: each test must leave the descriptors and the
    children of this process as it found them (children get 10 s to be reaped)."""

    def setUp(self):
        self.fds = open_fds()
        self.children = children()

    def tearDown(self):
        gc.collect()
        self.assertEqual(open_fds(), self.fds)
        deadline = time.monotonic() + 10
        while children() != self.children and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(children(), self.children)
