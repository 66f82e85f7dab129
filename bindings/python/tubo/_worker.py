"""The child side of ``Process(target=...)`` (the parent side is ``tubo/_spawn.py``).

Started as ``python -c <bootstrap> <dir of tubo>``, with channel ``tubo.boot``
carrying two pickles: the preparation data (``sys.path``, ``sys.argv``, the
parent's main module) and the Process object, whose Connections arrive as
channels ``tubo.c0``, ``tubo.c1``, ...
"""
import contextlib
import io
import multiprocessing
import os
import pickle
import runpy
import sys
import traceback
import types

from tubo import _spawn
from tubo.channel import take_connection


class _ArgUnpickler(pickle.Unpickler):
    """Rebuilds the Connections the parent pickled as channel references."""

    def __init__(self, file):
        super().__init__(file)
        self._taken = {}

    def persistent_load(self, pid):
        kind, name = pid
        if kind != "tubo.channel":
            raise pickle.UnpicklingError("unknown persistent id %r" % (pid,))
        if name not in self._taken:
            self._taken[name] = take_connection(name)
        return self._taken[name]


def _fixup_main(data):
    """Imports the parent's main module as ``__mp_main__`` and makes it
    ``__main__`` too, so targets pickled as ``__main__.f`` resolve (the
    ``if __name__ == "__main__":`` block does not run). While it runs,
    ``tubo._spawn.importing_main`` names the module: a ``Process.start()`` at
    its top level (no guard) raises ``RuntimeError`` instead of starting a
    grandchild, as ``multiprocessing`` does."""
    if "main_name" in data:
        name = data["main_name"]
        if name == "__main__":
            return
        with _importing_main(name):
            content = runpy.run_module(name, run_name="__mp_main__", alter_sys=True)
    elif "main_path" in data:
        path = data["main_path"]
        if not os.path.exists(path):
            return
        with _importing_main(path):
            content = runpy.run_path(path, run_name="__mp_main__")
    else:
        return
    module = types.ModuleType("__mp_main__")
    module.__dict__.update(content)
    sys.modules["__main__"] = sys.modules["__mp_main__"] = module


@contextlib.contextmanager
def _importing_main(what):
    _spawn.importing_main = what
    try:
        yield
    finally:
        _spawn.importing_main = None


def _run(process):
    """Calls ``process.run()``; returns the exit code as ``multiprocessing`` computes it."""
    try:
        process.run()
        return 0
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        sys.stderr.write(str(e.code) + "\n")
        return 1
    except BaseException:
        sys.stderr.write("Process %s:\n" % getattr(process, "name", "?"))
        traceback.print_exc()
        return 1


def main():
    try:
        boot = take_connection("tubo.boot", "r")
        with boot:
            data = pickle.loads(boot.recv_bytes())
            sys.path[:] = data["sys_path"]
            sys.argv[:] = data["sys_argv"]
            _fixup_main(data)
            process = _ArgUnpickler(io.BytesIO(boot.recv_bytes())).load()
    except BaseException:
        sys.stderr.write("tubo worker: cannot start the target:\n")
        traceback.print_exc()
        sys.exit(1)
    # This process is the one the parent named: current_process().name says so,
    # as in a multiprocessing child (logging's processName too).
    multiprocessing.current_process().name = process.name
    exit_flushed(_run(process))


def exit_flushed(code):
    """Flushes stdout and stderr (ignoring their errors), then exits with code."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    sys.exit(code)

