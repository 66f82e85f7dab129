"""``BytesPool``: the C worker pool (``capi/tubo_pool.h``) for byte tasks,
and ``PoolTask``, the handle of one submitted task.

    import sys
    import tubo

    with tubo.BytesPool([sys.executable, "upper_worker.py"], workers=2) as pool:
        tasks = [pool.submit(b"task %d" % i) for i in range(10)]
        print([t.result() for t in tasks])

The workers are any programs that follow the pool protocol (contract 4), for
example a Python script that calls ``tubo.serve_pool_tasks(fn)``. For
picklable Python functions use ``tubo.Pool`` or
``tubo.ProcessPoolExecutor``, which are built on this.

Failure semantics (those of the C++ ``tubo::Pool``): a task the worker
reports as failed raises ``TaskFailedError`` with the worker's message; a
worker that dies fails exactly the task it was running with
``WorkerDiedError`` (naming the task id, the worker's pid and its exit status
or signal), the tasks queued behind it run elsewhere, once, and the worker is
replaced; workers that keep dying before they are ready make the pool give
up with ``SpawnError``. Every worker dies with this process (any cause,
SIGKILL included) and leads its own process group.
"""
import ctypes
import os
import struct
import weakref

from tubo import _lib, _timeouts
from tubo.errors import InvalidArgumentError, TuboTimeoutError, call, from_c

_c = _lib.lib
_OK, _TIMEOUT = _lib.OK, _lib.E_TIMEOUT

# Option name -> (C option, converter of the Python value to the int64 the C side takes).


def _MS(seconds):
    return -1 if seconds is None else _timeouts.timeout_ms(seconds)


_OPTIONS = {
    "workers": (_lib.POOL_WORKERS, int),
    "max_in_flight": (_lib.POOL_MAX_IN_FLIGHT, int),
    "prefetch": (_lib.POOL_PREFETCH, int),
    "max_tasks_per_worker": (_lib.POOL_MAX_TASKS_PER_WORKER, int),
    "max_worker_rss_bytes": (_lib.POOL_MAX_WORKER_RSS_BYTES, int),
    "retries": (_lib.POOL_RETRIES, int),
    "task_timeout": (_lib.POOL_TASK_TIMEOUT_MS, _MS),
    "max_start_failures": (_lib.POOL_MAX_START_FAILURES, int),
    "restart_delay": (_lib.POOL_RESTART_DELAY_MS, _MS),
    "max_restart_delay": (_lib.POOL_MAX_RESTART_DELAY_MS, _MS),
}


# A record of tubo_pool_take_done: tag, outcome code, length (native order, packed).
RECORD = struct.Struct("=QiQ")


class PoolTask:
    """One submitted task: a future. It stays usable after its pool is gone.
    Thread-safe."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, handle):
        self._h = handle

    @property
    def id(self):
        """The task's id within its pool (never 0)."""
        return _c.tubo_task_id(self._h)

    def done(self):
        """True once the task has its outcome (a result or an error)."""
        return bool(_c.tubo_task_done(self._h))

    def wait(self, timeout=None):
        """Waits until the task is done, ``timeout`` seconds at most (None:
        forever); returns ``done()``."""
        return bool(_timeouts.interruptible(self._wait_once, _timeouts.timeout_ms(timeout)))

    def _wait_once(self, timeout_ms):
        return _c.tubo_task_wait(self._h, timeout_ms)

    def result(self, timeout=None):
        """The task's result bytes, waiting for them ``timeout`` seconds at
        most (None: forever; then the builtin ``TimeoutError``).

        Raises what the task ended with: ``TaskFailedError`` (the worker's
        message), ``WorkerDiedError`` (its worker died running it),
        ``TuboTimeoutError`` (the pool's ``task_timeout``), ``CancelledError``
        (``cancel``, ``terminate``), ``SpawnError`` (the pool could not keep
        workers running). Every call gives the same outcome."""
        if not self.wait(timeout):
            raise TimeoutError("task %d: not done within %g s" % (self.id, timeout))
        return _result(self._h)

    @property
    def sentinel(self):
        """A descriptor readable once the task is done, as ``Process.sentinel``:
        for ``select``, ``multiprocessing.connection.wait`` (or give ``tubo.wait``
        the task itself). An eventfd owned by the task, made at the first use:
        do not read or close it; it stays open while this handle lives."""
        fd = ctypes.c_int()
        call(_c.tubo_task_fd, ctypes.byref(fd), self._h)
        return fd.value

    def cancel(self):
        """Cancels the task if no worker was sent it yet (it then fails with
        ``CancelledError``) and returns True; False if it was sent or is done."""
        return bool(_c.tubo_task_cancel(self._h))

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            try:
                _c.tubo_task_free(h)
            except Exception:  # interpreter shutdown: the module may be half gone
                pass

    def __repr__(self):
        return "<tubo.PoolTask id=%d %s>" % (self.id, "done" if self.done() else "pending")


def _result(handle):
    """The outcome of the done task ``handle``: its bytes, or the mapped exception raised."""
    out = ctypes.POINTER(_lib.Bytes)()
    err = ctypes.c_void_p()
    rc = _c.tubo_task_result(ctypes.byref(out), handle, ctypes.byref(err))
    if rc < 0:
        raise from_c(rc, err.value)
    try:
        b = out.contents
        return ctypes.string_at(b.data, b.len) if b.len else b""
    finally:
        _c.tubo_bytes_free(out)


def _worker_start(args, env, cwd, capture_stderr):
    if isinstance(args, (str, bytes, os.PathLike)):
        args = [args]
    args = list(args)
    if not args:
        raise ValueError("BytesPool needs a worker program: args is empty")
    start = ctypes.c_void_p()
    call(_c.tubo_worker_start_new_exec, ctypes.byref(start), _lib.encode(args[0], "program"))
    try:
        for a in args[1:]:
            call(_c.tubo_worker_start_arg, start, _lib.encode(a, "argument"))
        for name, value in (env or {}).items():
            call(_c.tubo_worker_start_env_set, start, _lib.encode(name, "environment name"),
                 _lib.encode(value, "environment value"))
        if cwd is not None:
            call(_c.tubo_worker_start_working_directory, start,
                 _lib.encode(cwd, "working directory"))
        if capture_stderr:
            call(_c.tubo_worker_start_capture_stderr, start, 1)
    except BaseException:
        _c.tubo_worker_start_free(start)
        raise
    return start


def _pool_options(options):
    handle = ctypes.c_void_p()
    call(_c.tubo_pool_options_new, ctypes.byref(handle))
    try:
        for name, value in options.items():
            if value is None:
                continue
            if name not in _OPTIONS:
                raise TypeError("BytesPool() got an unexpected keyword argument %r" % name)
            option, convert = _OPTIONS[name]
            try:
                call(_c.tubo_pool_options_set, handle, option, convert(value))
            except InvalidArgumentError as e:
                raise InvalidArgumentError("%s=%r: %s" % (name, value, e)) from None
    except BaseException:
        _c.tubo_pool_options_free(handle)
        raise
    return handle


class BytesPool:
    """A pool of worker processes that run byte tasks (contract 4).

    ``args`` is the worker's command line, ``[program, *arguments]`` (the exec
    start method; ``program`` is not looked up in ``PATH``); ``env`` adds
    variables to the inherited environment, ``cwd`` sets the working
    directory, ``capture_stderr`` keeps the tail of a worker's stderr for the
    error that says why workers could not start (otherwise it is inherited).

    Options (None: the C pool's default):

    - ``workers``: how many (default one per CPU this process may use);
    - ``max_in_flight``: the window of tasks submitted and not finished
      (default ``4 * workers * (1 + prefetch)``, with 15 for the automatic
      prefetch); ``submit`` waits for room;
    - ``prefetch``: tasks sent to a worker beyond the one it runs (default
      -1, automatic: as many as fit in about a millisecond of the recent
      tasks' running time, 1 to 15);
    - ``max_tasks_per_worker``: recycle a worker after that many tasks;
    - ``max_worker_rss_bytes``: recycle a worker whose memory is above it;
    - ``retries``: run a task whose worker died again on another worker, up
      to that many times, before it fails (for idempotent tasks; default 0);
    - ``task_timeout``: seconds a task may run; then its worker (and its
      process group) is killed and the task fails with ``TuboTimeoutError``;
    - ``max_start_failures``, ``restart_delay``, ``max_restart_delay``: how
      long the pool keeps starting workers that die before they are ready.

    Raises ``InvalidArgumentError`` for a bad option (naming it).
    ``with BytesPool(...) as pool:`` closes the pool at the end of the block
    (waits for the tasks submitted), or terminates it if the block raised.
    Thread-safe.
    """

    def __init__(self, args, *, env=None, cwd=None, capture_stderr=False, **options):
        options_handle = _pool_options(options)
        try:
            start = _worker_start(args, env, cwd, capture_stderr)
            try:
                handle = ctypes.c_void_p()
                call(_c.tubo_pool_new, ctypes.byref(handle), start, options_handle)
            finally:
                _c.tubo_worker_start_free(start)
        finally:
            _c.tubo_pool_options_free(options_handle)
        self._h = handle.value
        # Freed when the BytesPool is collected or at interpreter exit (after
        # a terminate, if it was not closed): never while a call may use it.
        self._finalizer = weakref.finalize(self, _c.tubo_pool_free, self._h)

    @property
    def workers(self):
        """The number of workers (the default resolved)."""
        return _c.tubo_pool_workers(self._h)

    @property
    def notify_fd(self):
        """A descriptor that becomes readable each time a task of this pool is
        done, for event loops (an eventfd owned by the pool: do not close
        it). Read its 8 bytes to make it unreadable again, then check the
        tasks waited for (``PoolTask.done``): the tasks done before the read
        are not told apart; one done after it makes it readable again."""
        return _c.tubo_pool_notify_fd(self._h)

    def worker_pids(self):
        """The pids of the workers running now (ready or starting)."""
        capacity = max(self.workers, 1) * 2
        while True:
            pids = (ctypes.c_int * capacity)()
            n = _c.tubo_pool_worker_pids(self._h, pids, capacity)
            if n <= capacity:
                return list(pids[:n])
            capacity = n

    def submit(self, data, timeout=None):
        """Submits ``data`` (bytes-like; copied) as a task; returns its
        ``PoolTask``. Waits up to ``timeout`` seconds (None: forever) for room
        in the window; ``TuboTimeoutError`` if it stayed full (nothing was
        submitted). ``ClosedError`` after ``close`` or ``terminate``,
        ``SpawnError`` once the pool gave up starting workers."""
        data = bytes(data) if not isinstance(data, bytes) else data
        total = _timeouts.timeout_ms(timeout)
        task = _timeouts.interruptible(lambda ms: self._submit_once(data, ms), total)
        if task is None:
            raise TuboTimeoutError("submit: the pool's window stayed full for %g s" % timeout)
        return task

    def _submit_once(self, data, timeout_ms):
        """A PoolTask, or None if the window stayed full for ``timeout_ms``."""
        out, err = ctypes.c_void_p(), ctypes.c_void_p()
        rc = _c.tubo_pool_submit(ctypes.byref(out), self._h, data, len(data), timeout_ms,
                                 ctypes.byref(err))
        if rc == _TIMEOUT:
            _c.tubo_error_free(err.value)
            return None
        if rc < 0:
            raise from_c(rc, err.value)
        return PoolTask(out.value)

    def _submit_tagged(self, data, lens, tags, timeout_ms=0):
        """Submits tasks without handles (``tubo_pool_submit_tagged``): task
        ``i`` is the next ``lens[i]`` bytes of ``data``, its outcome tagged
        ``tags[i]`` (``lens`` and ``tags``: ``array.array("Q")``). Returns
        how many went in (a prefix; 0 if the window was full); raises what
        the first one failed with."""
        n = len(lens)
        if not n:
            return 0
        submitted, err = ctypes.c_size_t(), ctypes.c_void_p()
        rc = _c.tubo_pool_submit_tagged(self._h, data, (ctypes.c_size_t * n).from_buffer(lens),
                                        (ctypes.c_uint64 * n).from_buffer(tags), n, timeout_ms,
                                        ctypes.byref(submitted), ctypes.byref(err))
        if rc == _TIMEOUT:
            _c.tubo_error_free(err.value)
            return 0
        if rc < 0:
            raise from_c(rc, err.value)
        return submitted.value

    def _take_done(self):
        """``(records, count)``: the tagged tasks done (``tubo_pool_take_done``),
        as bytes holding ``count`` records, each ``RECORD`` (tag, outcome
        code, length) then that many bytes (the result if the code is 0,
        else the error's message); ``(b"", 0)`` if none is done."""
        out = ctypes.POINTER(_lib.Bytes)()
        count, err = ctypes.c_size_t(), ctypes.c_void_p()
        rc = _c.tubo_pool_take_done(self._h, ctypes.byref(out), ctypes.byref(count), None,
                                    ctypes.byref(err))
        if rc < 0:
            raise from_c(rc, err.value)
        if not out:
            return b"", 0
        try:
            b = out.contents
            return ctypes.string_at(b.data, b.len), count.value
        finally:
            _c.tubo_bytes_free(out)

    def close(self):
        """No more tasks: waits until every task submitted is done, then lets
        the workers exit and reaps them. Idempotent."""
        call(_c.tubo_pool_close, self._h)

    def terminate(self):
        """Stops now: tasks not done fail with ``CancelledError``, every worker
        (and its process group) is killed and reaped. Idempotent."""
        _c.tubo_pool_terminate(self._h)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.terminate()
