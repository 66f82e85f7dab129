"""How ``tubo.Pool`` and ``tubo.ProcessPoolExecutor`` start their workers and
what a worker runs. Internal.

The parent side (``boot_command``): a worker is ``sys.executable -c
<bootstrap> <dir of tubo>`` started by the C pool (the exec start method),
with ``TUBO_LIBRARY`` set to the library this process loaded and
``TUBO_POOL_BOOT`` carrying a pickle (base64): the parent's ``sys.path``,
``sys.argv`` and main module (as ``Process`` hands them over, see
``tubo/_spawn.py``), and the initializer with its arguments.

The child side (``main``): restores them, imports the parent's main module as
``__mp_main__`` (so functions of ``__main__`` unpickle, as with
``multiprocessing``'s spawn start method; a script must keep its top-level
work under ``if __name__ == "__main__":``), calls the initializer, then
serves tasks (``serve_pool_tasks``). A task is the pickle of ``(func, args,
kwargs)``; its result the pickle of ``(True, value)`` or ``(False,
exception)``, the exception wrapped as ``multiprocessing.pool`` does so that
the parent re-raises it with the remote traceback as its ``__cause__``.
"""
import base64
import multiprocessing
import os
import pickle
import sys
from multiprocessing.pool import ExceptionWithTraceback, MaybeEncodingError
from multiprocessing.reduction import ForkingPickler

from tubo import _lib, _spawn

BOOT_VARIABLE = "TUBO_POOL_BOOT"
# The kernel's limit on one environment string is 128 KiB (MAX_ARG_STRLEN).
_MAX_BOOT = 120 << 10

_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from tubo._pool_boot import main; main()")


def boot_command(initializer, initargs):
    """``(args, env)`` that start a worker for the current process's
    functions. Raises ``ValueError`` if the initializer and its arguments
    pickle to more than an environment variable can carry, and what
    pickling raises for an unpicklable one."""
    data = _spawn._preparation_data()
    # A pickle of its own, loaded once the main module is imported (the
    # initializer may be a function of __main__).
    data["init"] = bytes(ForkingPickler.dumps((initializer, tuple(initargs))))
    boot = base64.b64encode(ForkingPickler.dumps(data)).decode("ascii")
    if len(boot) > _MAX_BOOT:
        raise ValueError(
            "the pool's initializer, initargs and this process's sys.path pickle to %d bytes "
            "(base64), more than the %d a worker's environment can carry: pass smaller initargs "
            "(a file name rather than its contents)" % (len(boot), _MAX_BOOT))
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [sys.executable, *_spawn._interpreter_args(), "-c", _BOOTSTRAP, package_parent]
    env = {"TUBO_LIBRARY": _lib.library_path, BOOT_VARIABLE: boot}
    return args, env


def run_task(data):
    """Runs one pickled ``(func, args, kwargs)``; returns the pickled outcome
    (see the file comment). Never raises an ``Exception``."""
    try:
        func, args, kwargs = pickle.loads(data)
        result = (True, func(*args, **kwargs))
    except Exception as e:
        result = (False, ExceptionWithTraceback(e, e.__traceback__))
    try:
        return ForkingPickler.dumps(result)
    except Exception as e:
        wrapped = MaybeEncodingError(e, result[1])
        return ForkingPickler.dumps((False, wrapped))


def main():
    from tubo import _worker
    from tubo.pool_worker import serve_pool_tasks
    data = pickle.loads(base64.b64decode(os.environ.pop(BOOT_VARIABLE)))
    sys.path[:] = data["sys_path"]
    sys.argv[:] = data["sys_argv"]
    _worker._fixup_main(data)
    multiprocessing.current_process().name = "TuboPoolWorker-%d" % os.getpid()
    initializer, initargs = pickle.loads(data["init"])
    if initializer is not None:
        initializer(*initargs)
    _worker.exit_flushed(serve_pool_tasks(run_task))
