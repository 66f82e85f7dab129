"""Helpers shared by the binding's tests: runfiles paths and fd counting."""
import os
import sys


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
