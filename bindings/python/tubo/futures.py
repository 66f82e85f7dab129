"""``ProcessPoolExecutor``: a ``concurrent.futures.Executor`` on tubo's worker
pool, where a worker that dies fails its own future, not the executor.

    import concurrent.futures
    import tubo

    def square(x):
        return x * x

    if __name__ == "__main__":
        with tubo.ProcessPoolExecutor(max_workers=2) as ex:
            futures = [ex.submit(square, n) for n in range(10)]
            print([f.result() for f in concurrent.futures.as_completed(futures)])
            print(list(ex.map(square, range(10), chunksize=4)))

The API of ``concurrent.futures.ProcessPoolExecutor`` with its ``spawn``
start method (functions and arguments pickled; fresh interpreters that import
the main module as ``__mp_main__``). Where a worker dies, that task's
``Future`` raises ``tubo.WorkerDiedError`` (naming the task, the worker's pid
and its exit status or signal) and every other future completes normally;
the standard executor raises ``BrokenProcessPool`` for every pending future
and refuses new ones. ``map`` reads its input as the results are consumed (a
bounded window: 256 chunks ahead, or 8 per worker if more) instead of
submitting all of it first. As with
``tubo.Pool``, a busy worker is sent up to 8 tasks ahead of the one it runs.

Built like ``tubo.Pool`` (``tubo/pool.py``), on the same dispatcher thread
and worker start-up.
"""
import concurrent.futures
import multiprocessing
import os
import threading
import time
import weakref

from tubo import _pool_boot, _spawn
from tubo._dispatch import CORE_OPTIONS, Dispatcher
from tubo.bytes_pool import BytesPool
from tubo.pool import IMapIterator, _IMapState, _chunked, _first, _identity, decode_outcome
from tubo.pool import encode_call


class _FutureJob:
    """One ``submit``: its payload goes to the dispatcher once the future
    moves to running (never if it was cancelled first)."""

    __slots__ = ("_future", "_task", "_lock")
    cancellable = True

    def __init__(self, future, task):
        self._future = future
        self._task = task  # (fn, args, kwargs) until given out
        self._lock = threading.Lock()

    def next_tasks(self, force, limit):
        with self._lock:
            task, self._task = self._task, None
        if task is None or not self._future.set_running_or_notify_cancel():
            return None
        return [encode_call(*task)], [None]

    def deliver(self, outcomes):
        for _, ok, value in outcomes:
            self._deliver(ok, value)

    def cancel(self, exc):
        with self._lock:
            task, self._task = self._task, None
        if task is not None and not self._future.cancel():
            self._deliver(False, exc)

    def _deliver(self, ok, value):
        success, value = decode_outcome(ok, value)
        if success:
            self._future.set_result(value)
        else:
            self._future.set_exception(value)


class ProcessPoolExecutor(concurrent.futures.Executor):
    """An ``Executor`` that runs calls in worker processes, with the API of
    ``concurrent.futures.ProcessPoolExecutor``.

    ``max_workers``: how many (None: ``os.cpu_count()``);
    ``initializer(*initargs)`` runs in each worker before its first task;
    ``max_tasks_per_child``: a worker is replaced after that many tasks
    (None: never).
    """

    def __init__(self, max_workers=None, initializer=None, initargs=(),
                 max_tasks_per_child=None):
        _spawn.check_main_guard("a tubo.ProcessPoolExecutor was created")
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        elif max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if max_tasks_per_child is not None:
            if not isinstance(max_tasks_per_child, int):
                raise TypeError("max_tasks_per_child must be an integer")
            if max_tasks_per_child <= 0:
                raise ValueError("max_tasks_per_child must be >= 1")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        args, env = _pool_boot.boot_command(initializer, initargs)
        self._max_workers = max_workers
        self._core = BytesPool(args, env=env, workers=max_workers,
                               max_tasks_per_worker=max_tasks_per_child, **CORE_OPTIONS)
        # Futures given out at most 8 per worker at a time: the others stay
        # cancellable (shutdown(cancel_futures=True), Future.cancel).
        self._dispatcher = Dispatcher(self._core, "tubo.ProcessPoolExecutor dispatcher",
                                      cancellable=8 * max_workers)
        # map's window: 256 chunks, or 8 per worker if more (tiny tasks need a
        # deep window to be sent and collected in batches).
        self._lookahead = max(8 * max_workers, 256)
        self._shutdown_lock = threading.Lock()
        self._shutdown = False
        # Dropped without shutdown(): the workers finish what was submitted, then exit.
        self._finalizer = weakref.finalize(self, self._dispatcher.close)

    def submit(self, fn, /, *args, **kwargs):
        """Schedules ``fn(*args, **kwargs)``; returns its ``Future``, which
        raises ``tubo.WorkerDiedError`` if the worker died running it."""
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = concurrent.futures.Future()
            self._dispatcher.add(_FutureJob(future, (fn, args, kwargs)))
            return future

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """``map(fn, *iterables)`` computed by the workers, in chunks of
        ``chunksize``: an iterator of the results in order. Its ``__next__``
        raises a task's exception, or ``TimeoutError`` once ``timeout``
        seconds have passed since this call. The input is read as the
        results are consumed; closing the iterator stops reading it."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            state = _IMapState(self._dispatcher, True, fn,
                               _chunked(zip(*iterables), chunksize), self._lookahead, True)
            self._dispatcher.add(state)
        it = IMapIterator(state, _first if chunksize == 1 else _identity)
        return _results(it, state, deadline, chunksize)

    def shutdown(self, wait=True, *, cancel_futures=False):
        """No more submissions. ``cancel_futures`` cancels the futures that
        have not started; ``wait`` waits until the others are done and the
        workers have exited."""
        with self._shutdown_lock:
            self._shutdown = True
        if cancel_futures:
            self._dispatcher.cancel_jobs(lambda job: isinstance(job, _FutureJob))
        self._dispatcher.close()
        if wait:
            self._dispatcher.join()

    def terminate(self):
        """Stops the workers now (a tubo extra): futures not done raise
        ``tubo.CancelledError``."""
        with self._shutdown_lock:
            self._shutdown = True
        self._dispatcher.terminate()
        self._dispatcher.join()

    def worker_pids(self):
        """The pids of the workers running now (a tubo extra, for monitoring)."""
        return self._core.worker_pids()


def _results(it, state, deadline, chunksize):
    try:
        while True:
            timeout = None if deadline is None else max(0, deadline - time.monotonic())
            try:
                value = it.next(timeout)
            except StopIteration:
                return
            except multiprocessing.TimeoutError:
                raise concurrent.futures.TimeoutError from None
            if chunksize == 1:
                yield value
            else:
                yield from value
    finally:
        state.abandon()
