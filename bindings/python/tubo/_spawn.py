"""How ``Process(target=...).start()`` runs a Python function in a new
interpreter (the parent side; the child side is ``tubo/_worker.py``). Internal.

A Python program's "self" is the interpreter, so tubo re-executes
``sys.executable`` (never ``fork``: a Python process may run threads, and the
C ABI's fork would copy their locks in whatever state they are in). This is
CPython's ``spawn`` start method, done over tubo:

1. ``start()`` pickles the Process object (its target, args and kwargs; a
   target is pickled by reference, ``module.qualname``) and the parent's
   ``sys.path``, ``sys.argv`` and main module, *before* anything is started,
   so an unpicklable argument fails in the parent.
2. It spawns ``sys.executable -c <bootstrap> <dir of the tubo package>`` with a
   channel ``tubo.boot`` (contract 2) and ``TUBO_LIBRARY`` set to the library
   this process loaded, then sends the two pickles through ``tubo.boot``.
3. The child (``tubo._worker``) restores ``sys.path``/``sys.argv``, imports the
   parent's main script as ``__mp_main__`` (so, as with ``spawn``, the script
   must keep its top-level work under ``if __name__ == "__main__":``),
   unpickles the Process and calls its ``run()``. A ``Process.start()``
   during that import (a script without the guard) raises ``RuntimeError`` in
   the child, as ``multiprocessing`` does, so nothing is started twice: the
   child exits 1 with that message on stderr. The exit code is 0 when it
   returns, the code of a ``SystemExit``, or 1 (with the traceback on stderr)
   for any other exception, as in ``multiprocessing``.

Connections anywhere in the args (or in a subclass's attributes) are handed
over as channels ``tubo.c0``, ``tubo.c1``, ... and rebuilt in the child; they
are **consumed** by ``start()``, success or failure (an unpicklable target, a
failed spawn: every failure the same way).
"""
import io
import os
import pickle
import subprocess
import sys

from tubo import _lib
from tubo.command import Command
from tubo.connection import Connection, Pipe
from tubo.errors import PeerClosedError


class _ArgPickler(pickle.Pickler):
    """Pickles Connections as references to the channels that will carry them."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.connections = []  # (channel name, Connection), in pickling order
        self.handed = []  # the Connections given to the Command so far
        self._names = {}

    def persistent_id(self, obj):
        if isinstance(obj, Connection):
            obj._check_closed()
            name = self._names.get(id(obj))
            if name is None:
                name = "tubo.c%d" % len(self.connections)
                self._names[id(obj)] = name
                self.connections.append((name, obj))
            return ("tubo.channel", name)
        return None


def _reachable_connections(root, found):
    """Every Connection reachable from ``root`` through tuples, lists, dicts,
    sets and instance attributes (``__dict__``), plus ``found``; each once."""
    out = {id(c): c for c in found}
    seen = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Connection):
            out[id(obj)] = obj
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type) and \
                type(obj).__module__ not in ("builtins", "types"):
            stack.extend(vars(obj).values())
    return list(out.values())


def _preparation_data():
    """What the child needs before it can unpickle the target (see the file comment)."""
    main = sys.modules.get("__main__")
    data = {"sys_path": list(sys.path), "sys_argv": list(sys.argv)}
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if name:
        if name.endswith(".__main__"):
            name = name[: -len(".__main__")]
        data["main_name"] = name
    else:
        path = getattr(main, "__file__", None)
        if path:
            data["main_path"] = os.path.abspath(path)
    return data


# In a child, while tubo._worker imports the parent's main module: its path
# (or module name). A Process started then comes from a script without the
# __main__ guard.
importing_main = None

_MAIN_GUARD_MESSAGE = (
    "%s while this child process was importing the parent's main "
    "module %s to find its target: that module starts processes at its top level, which "
    "would run again in every child and start a process from each. Put the code that starts "
    "processes under `if __name__ == '__main__':` in %s, so that it runs only in the parent "
    "(multiprocessing's spawn start method needs the same guard).")

_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from tubo._worker import main; main()")


def _interpreter_args():
    try:
        return subprocess._args_from_interpreter_flags()
    except Exception:
        return []


def start(process):
    """``Process.start()`` once its state is checked: pickles, spawns, sends
    the pickles. On any error every Connection reachable from ``process``
    (see ``_reachable_connections``) is closed before the exception
    propagates, exactly as after a successful start."""
    pickler_box = []
    try:
        _start(process, pickler_box)
    except BaseException:
        seen = pickler_box[0].connections if pickler_box else []
        handed = pickler_box[0].handed if pickler_box else []
        by = "Process(name=%r).start(), which failed" % (process.name,)
        for conn in _reachable_connections(process, [c for _, c in seen]):
            if not conn.closed:
                try:
                    conn.close()
                except Exception:
                    pass
                conn._consumed_by = by
        for conn in handed:
            conn._consumed_by = by
        raise


def check_main_guard(what):
    """Raises ``RuntimeError`` (naming ``what``, e.g. "a tubo.Pool was
    created") if this is a child importing its parent's main module, which
    then starts processes at its top level (see ``importing_main``)."""
    if importing_main:
        raise RuntimeError(_MAIN_GUARD_MESSAGE % (what, importing_main, importing_main))


def _start(process, pickler_box):
    check_main_guard("a tubo.Process was started")
    prep = pickle.dumps(_preparation_data(), protocol=pickle.HIGHEST_PROTOCOL)
    buf = io.BytesIO()
    pickler = _ArgPickler(buf)
    pickler_box.append(pickler)
    pickler.dump(process)  # before anything starts: an unpicklable argument fails here
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    boot_r, boot_w = Pipe(duplex=False)
    with boot_w:
        cmd = Command(sys.executable, *_interpreter_args(), "-c", _BOOTSTRAP, package_parent,
                      die_with_parent=bool(process.daemon))
        cmd.env_set("TUBO_LIBRARY", _lib.library_path)
        cmd.channel("tubo.boot", boot_r)
        for name, conn in pickler.connections:
            cmd.channel(name, conn)
            pickler.handed.append(conn)
        process._adopt(cmd._spawn_handle())
        by = "Process(name=%r).start() of pid %d" % (process.name, process.pid)
        for conn in pickler.handed:
            conn._consumed_by = by
        try:
            boot_w.send_bytes(prep)
            boot_w.send_bytes(buf.getbuffer())
        except PeerClosedError:
            pass  # the child died at once; its exit code tells why
