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
serves tasks (``serve``, contract 4 over the raw descriptors of its
channels). A task is either

- the pickle of ``(func, args, kwargs)`` (``encode_call``): one call;
- ``M`` or ``S``, the length of the function's pickle (4 bytes, little
  endian), that pickle, then the pickle of a chunk (``map_prefix`` and
  ``encode_chunks``): ``list(map(func, chunk))`` or
  ``list(itertools.starmap(func, chunk))``. A map pickles its function once,
  not once per task, and a worker unpickles each function once (a small
  cache keyed by its pickle).

Its result is the pickle of ``(True, value)`` or ``(False, exception)``, the
exception wrapped as ``multiprocessing.pool`` does so that the parent
re-raises it with the remote traceback as its ``__cause__``.
"""
import base64
import io
import itertools
import multiprocessing
import os
import pickle
import struct
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


class Encoder:
    """``ForkingPickler.dumps`` with one pickler kept for every call (a
    fresh one costs more than pickling a small object). For one thread."""

    def __init__(self):
        self._buf = io.BytesIO()
        self._pickler = ForkingPickler(self._buf)

    def dumps(self, obj):
        buf = self._buf
        buf.seek(0)
        buf.truncate()
        try:
            self._pickler.dump(obj)
        finally:
            self._pickler.clear_memo()
        return buf.getvalue()


def encode_call(func, args, kwargs):
    """The payload of one call, or the exception pickling raised."""
    try:
        return bytes(ForkingPickler.dumps((func, args, kwargs)))
    except Exception as e:
        return e


_MAP, _STARMAP = b"M", b"S"
_KINDS = {_MAP[0]: map, _STARMAP[0]: itertools.starmap}


def map_prefix(func, star):
    """What every task of a map of ``func`` starts with (``star``: starmap),
    or the exception pickling ``func`` raised."""
    try:
        fn = bytes(ForkingPickler.dumps(func))
    except Exception as e:
        return e
    return (_STARMAP if star else _MAP) + len(fn).to_bytes(4, "little") + fn


# Types whose pickle ForkingPickler makes as pickle.dumps does (no reducer of
# its own), so a chunk of one of them is pickled without the cost of a
# ForkingPickler call.
_PLAIN = frozenset((bytes, str, int, float, bool, type(None)))


def encode_chunks(encoder, prefix, chunks):
    """The payloads of map tasks, one per chunk (a tuple): ``prefix``
    (``map_prefix``) then the chunk's pickle; for a chunk that does not
    pickle (or a ``prefix`` that is an exception), the exception."""
    if isinstance(prefix, BaseException):
        return [prefix] * len(chunks)
    if set(map(type, itertools.chain.from_iterable(chunks))) <= _PLAIN:
        # Only plain values (the types looked at in C): pickle.dumps, in C too.
        return [prefix + p for p in map(pickle.dumps, chunks)]
    out = []
    for chunk in chunks:
        try:
            out.append(prefix + encoder.dumps(chunk))
        except Exception as e:
            out.append(e)
    return out


class _Runner:
    """Runs payloads (see the file comment) in a worker."""

    def __init__(self):
        self._functions = {}  # function pickle -> function
        self._encoder = Encoder()
        # The last map task's prefix (kind, length, function pickle), its
        # length, the mapper and the function: the next task of the same map
        # starts with it.
        self._last = None
        self._skip = 0
        self._mapper = self._func = None

    def _call(self, data):
        mapper = _KINDS.get(data[0]) if data else None
        if mapper is None:
            func, args, kwargs = pickle.loads(data)
            return func(*args, **kwargs)
        skip = 5 + int.from_bytes(data[1:5], "little")
        key = data[5:skip]
        func = self._functions.get(key)
        if func is None:
            func = pickle.loads(key)
            if len(self._functions) >= 64:
                self._functions.clear()
            self._functions[key] = func
        self._last, self._skip, self._mapper, self._func = data[:skip], skip, mapper, func
        return list(mapper(func, pickle.loads(data[skip:])))

    def run(self, data):
        """The pickled outcome of one payload. Never raises an ``Exception``."""
        try:
            if self._last is not None and data.startswith(self._last):
                value = list(self._mapper(self._func, pickle.loads(data[self._skip:])))
            else:
                value = self._call(data)
            if type(value) is list and len(value) == 1 and type(value[0]) in _PLAIN:
                return pickle.dumps((True, value))  # a map of one plain value: the common case
            result = (True, value)
        except Exception as e:
            result = (False, ExceptionWithTraceback(e, e.__traceback__))
        try:
            return self._encoder.dumps(result)
        except Exception as e:
            wrapped = MaybeEncodingError(e, result[1])
            return ForkingPickler.dumps((False, wrapped))


_LENGTH = struct.Struct(">i")
_RESULT = struct.Struct(">iQB")  # a result frame's length, the task id, the status
_LONG_RESULT = struct.Struct(">iQQB")  # the same for a frame above 0x7fffffff bytes


def serve(tasks, results, run):
    """Contract 4 on the descriptors ``tasks`` (read) and ``results``
    (write): the ready frame, then ``run(body)`` for each task, its result
    sent before the next task starts, until end of stream (returns 0).

    ``serve_pool_tasks`` does the same over Connections; this reads many
    frames per system call and sends each result with one, which is what a
    worker of tiny tasks spends its time on. Raises ``ValueError`` for a
    frame that is not a task, ``EOFError`` for a stream that ends inside a
    frame."""
    write, read = os.write, os.read
    _send(write, results, 0, 2, b"")
    buf = b""
    at = 0
    while True:
        end = len(buf)
        need = 0  # the bytes missing from the frame at `at`, when its length is known
        while end - at >= 4:
            (n,) = _LENGTH.unpack_from(buf, at)
            start = at + 4
            if n < 0:
                if n != -1:
                    raise ValueError("pool task frame with a bad length %d" % n)
                if end - at < 12:
                    break
                n = int.from_bytes(buf[start:start + 8], "big")
                start += 8
            if end - start < n:
                need = n - (end - start)
                break
            if n < 8:
                raise ValueError("pool task frame of %d bytes: shorter than its 8-byte id" % n)
            task_id = int.from_bytes(buf[start:start + 8], "big")
            if task_id == 0:
                raise ValueError("pool task frame with id 0 (contract 4: a task id is never 0)")
            at = start + n
            _send(write, results, task_id, 0, run(buf[start + 8:at]))
        more = _read(read, tasks, need)
        if not more:
            if at != end:
                raise EOFError("the pool's task stream ended inside a frame")
            return 0
        buf = buf[at:] + more
        at = 0


def _read(read, fd, need):
    """What ``fd`` has (b"" at end of stream), all of the ``need`` bytes a
    large frame lacks if it has more than a pipe's worth."""
    if need <= 1 << 16:
        return read(fd, 1 << 16)
    parts = []
    while need > 0:
        more = read(fd, need)
        if not more:
            break
        parts.append(more)
        need -= len(more)
    return b"".join(parts)


def _send(write, fd, task_id, status, body):
    n = 9 + len(body)
    if n <= 0x7fffffff:
        frame = _RESULT.pack(n, task_id, status) + body
    else:
        frame = _LONG_RESULT.pack(-1, n, task_id, status) + body
    written = write(fd, frame)
    if written < len(frame):  # a large frame in a pipe that filled: the rest
        view = memoryview(frame)[written:]
        while view:
            view = view[write(fd, view):]


def main():
    from tubo import _worker
    from tubo.channel import take_connection
    data = pickle.loads(base64.b64decode(os.environ.pop(BOOT_VARIABLE)))
    sys.path[:] = data["sys_path"]
    sys.argv[:] = data["sys_argv"]
    _worker._fixup_main(data)
    multiprocessing.current_process().name = "TuboPoolWorker-%d" % os.getpid()
    initializer, initargs = pickle.loads(data["init"])
    if initializer is not None:
        initializer(*initargs)
    tasks, results = take_connection("tasks", "r"), take_connection("results", "w")
    with tasks, results:  # they own the descriptors; nothing is read or written through them
        code = serve(tasks.fileno(), results.fileno(), _Runner().run)
    _worker.exit_flushed(code)
