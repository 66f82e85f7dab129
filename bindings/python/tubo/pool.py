"""``Pool``: ``multiprocessing.Pool`` on tubo's worker pool, where a worker
that dies fails exactly its own task.

    import os
    import signal
    import tubo

    def square(x):
        return x * x

    def crash():
        os.kill(os.getpid(), signal.SIGKILL)

    if __name__ == "__main__":
        with tubo.Pool(2) as pool:
            print(pool.map(square, range(10)))        # [0, 1, 4, ..., 81]
            doomed = pool.apply_async(crash)
            print(sum(pool.imap_unordered(square, range(100), chunksize=10)))
            doomed.get()      # raises tubo.WorkerDiedError; the pool went on

Same API and results as ``multiprocessing.Pool`` with its ``spawn`` start
method: functions and arguments are pickled, each worker is a fresh
``sys.executable`` that imports the parent's main module as ``__mp_main__``
(keep a script's top-level work under ``if __name__ == "__main__":``), an
exception raised by a task is re-raised by ``get()`` with the remote
traceback as its ``__cause__``, callbacks run in a thread of the pool.

Where it differs, on purpose:

- A worker that dies (killed by a signal, ``os._exit``, a crash in C code)
  fails the task it was running (the chunk, for a map) with
  ``tubo.WorkerDiedError``, which names the task, the worker's pid and its
  exit status or signal; the worker is replaced, every other task runs once
  and normally. ``multiprocessing.Pool`` waits forever for such a task.
- ``terminate()`` (and leaving a ``with`` block) fails the tasks not done
  with ``tubo.CancelledError`` instead of leaving their ``get()`` waiting.
- ``imap`` and ``imap_unordered`` read their input as the results are
  consumed (at most ``8 * processes`` chunks ahead), never the whole of it.
- Tasks are sent to the workers ahead of time, so that tiny tasks cost
  little: a busy worker has a few tasks (chunks) queued behind the one it
  runs, as many as fit in about a millisecond of the recent tasks' running
  time (1 for tasks of a millisecond or more, at most 15), and these wait for
  it even if another worker becomes idle (an idle worker is always sent a
  task first). ``multiprocessing.Pool`` workers
  take one task at a time from a shared queue.
- Workers die with this process, whatever kills it.

How tasks reach the workers: ``tubo/_dispatch.py`` (one thread per pool)
over ``tubo.BytesPool``; how a worker starts and runs them:
``tubo/_pool_boot.py``.
"""
import collections
import itertools
import multiprocessing
import os
import threading
import weakref
from multiprocessing.reduction import ForkingPickler

from tubo import _pool_boot, _spawn
from tubo._dispatch import CORE_OPTIONS, WAIT, Dispatcher
from tubo._pool_boot import encode_call, encode_chunks, map_prefix
from tubo.bytes_pool import BytesPool

_pickle_loads = ForkingPickler.loads
_local = threading.local()


def _encoder():
    """This thread's ``_pool_boot.Encoder`` (the dispatcher's: the jobs'
    ``next_tasks`` run in it)."""
    try:
        return _local.encoder
    except AttributeError:
        _local.encoder = _pool_boot.Encoder()
        return _local.encoder


def decode_outcome(ok, value):
    """``(success, value)`` from what the dispatcher delivers."""
    if not ok:
        return False, value
    try:
        return _pickle_loads(value)
    except Exception as e:
        return False, e


def _call(callback, value):
    if callback is not None:
        callback(value)


class ApplyResult:
    """The result of ``apply_async``: ``get``, ``wait``, ``ready``,
    ``successful`` as ``multiprocessing.pool.AsyncResult``."""

    def __init__(self, payload, callback, error_callback):
        self._lock = threading.Lock()
        self._payload = payload
        self._event = threading.Event()
        self._callback = callback
        self._error_callback = error_callback
        self._success = None
        self._value = None

    # -- the dispatcher's side ------------------------------------------------

    def next_tasks(self, force, limit):
        with self._lock:
            payload, self._payload = self._payload, None
        return None if payload is None else ([payload], [None])

    def deliver(self, outcomes):
        for _, ok, value in outcomes:
            self._deliver(ok, value)

    def cancel(self, exc):
        with self._lock:
            payload, self._payload = self._payload, None
        if payload is not None:
            self._deliver(False, exc)

    def _deliver(self, ok, value):
        self._success, self._value = decode_outcome(ok, value)
        try:
            _call(self._callback if self._success else self._error_callback, self._value)
        finally:
            self._event.set()

    # -- the user's side ------------------------------------------------------

    def ready(self):
        """True once the task is done (its callback has run)."""
        return self._event.is_set()

    def successful(self):
        """True if the task returned; ``ValueError`` if it is not done yet."""
        if not self.ready():
            raise ValueError("{0!r} not ready".format(self))
        return self._success

    def wait(self, timeout=None):
        """Waits until the task is done, ``timeout`` seconds at most."""
        self._event.wait(timeout)

    def get(self, timeout=None):
        """The task's return value, or raises its exception
        (``multiprocessing.TimeoutError`` if not done within ``timeout``)."""
        self.wait(timeout)
        if not self.ready():
            raise multiprocessing.TimeoutError
        if self._success:
            return self._value
        raise self._value


AsyncResult = ApplyResult


class MapResult(ApplyResult):
    """The result of ``map_async``/``starmap_async``: a list in input order,
    or the first exception of a chunk (once every chunk is done)."""

    def __init__(self, star, func, chunks, length, chunksize, callback, error_callback):
        super().__init__(None, callback, error_callback)
        self._prefix = map_prefix(func, star)  # the function pickled once for every chunk
        self._chunks = enumerate(chunks)
        self._chunksize = chunksize
        self._success = True
        self._value = [None] * length
        self._left = -(-length // chunksize) if length else 0
        if not self._left:
            self._chunks = None
            self._event.set()

    def next_tasks(self, force, limit):
        with self._lock:
            if self._chunks is None:
                return None
            taken = list(itertools.islice(self._chunks, limit))
            if len(taken) < limit:
                self._chunks = None
        if not taken:
            return None
        return (encode_chunks(_encoder(), self._prefix, [chunk for _, chunk in taken]),
                [i for i, _ in taken])

    def cancel(self, exc):
        with self._lock:
            chunks, self._chunks = self._chunks, None
        if chunks is not None:
            for i, _ in chunks:
                self._set(i, False, exc)

    def _set(self, i, ok, value):
        self.deliver([(i, ok, value)])

    def deliver(self, outcomes):
        size, loads = self._chunksize, _pickle_loads
        with self._lock:
            self._left -= len(outcomes)
            for i, ok, value in outcomes:
                success, result = False, value
                if ok:
                    try:
                        success, result = loads(value)
                    except Exception as e:
                        result = e
                if success and self._success:
                    if size == 1:
                        self._value[i] = result[0]
                    else:
                        self._value[i * size:(i + 1) * size] = result
                elif not success and self._success:
                    self._success, self._value = False, result  # only the first exception
            if self._left:
                return
        try:
            _call(self._callback if self._success else self._error_callback, self._value)
        finally:
            self._event.set()


class _IMapState:
    """What ``imap``/``imap_unordered`` share with the dispatcher: the lazy
    input (chunks) and the results not yet consumed."""

    def __init__(self, dispatcher, star, func, chunks, lookahead, ordered):
        self._dispatcher = dispatcher
        self._prefix = map_prefix(func, star)
        self._chunks = chunks
        self._lookahead = lookahead
        self._ordered = ordered
        self._cond = threading.Condition(threading.Lock())
        # index -> outcome / outcomes in completion order
        self._results = {} if ordered else collections.deque()
        self._pulled = 0  # chunks given to the dispatcher
        self._consumed = 0  # chunks the user has taken
        self._length = None  # the number of chunks, once the input is exhausted

    def next_tasks(self, force, limit):
        with self._cond:
            if self._chunks is None:
                return None
            if not force:
                limit = min(limit, self._lookahead - (self._pulled - self._consumed))
                if limit <= 0:
                    return WAIT
            first = self._pulled
            chunks = []
            error = None
            ended = False
            next_chunk = self._chunks.__next__
            try:
                for _ in range(limit):
                    chunks.append(next_chunk())
            except StopIteration:
                ended = True
            except Exception as e:
                # As multiprocessing: the input's exception is that position's outcome.
                error = e
            self._pulled += len(chunks) + (error is not None)
            if ended or error is not None:
                self._end_input_locked()
        payloads = encode_chunks(_encoder(), self._prefix, chunks)
        if error is not None:
            payloads.append(error)
        if not payloads:
            return None
        return payloads, list(range(first, first + len(payloads)))

    def _end_input_locked(self):
        self._chunks = None
        self._length = self._pulled
        self._cond.notify_all()

    def cancel(self, exc):
        with self._cond:
            if self._chunks is None:
                return
            i = self._pulled  # where the input stops: the iterator raises exc there, then ends
            self._pulled += 1
            self._end_input_locked()
        self._set(i, False, exc)

    def abandon(self):
        """The user dropped the iterator: take nothing more from the input."""
        with self._cond:
            if self._chunks is not None:
                self._end_input_locked()

    def _set(self, i, ok, value):
        self.deliver([(i, ok, value)])

    def deliver(self, outcomes):
        decoded = [(i, decode_outcome(ok, value)) for i, ok, value in outcomes]
        with self._cond:
            if self._ordered:
                self._results.update(decoded)
            else:
                self._results.extend(outcome for _, outcome in decoded)
            self._cond.notify_all()

    def next(self, timeout):
        with self._cond:
            while True:
                if self._ordered and self._consumed in self._results:
                    outcome = self._results.pop(self._consumed)
                    break
                if not self._ordered and self._results:
                    outcome = self._results.popleft()
                    break
                if self._length is not None and self._consumed >= self._length:
                    raise StopIteration
                if not self._cond.wait(timeout):
                    raise multiprocessing.TimeoutError
            self._consumed += 1
            # The dispatcher refills the window as tasks end; it needs a wake-up
            # only if it went idle with the window full: once half of it is free.
            wake = self._pulled - self._consumed == self._lookahead // 2
        if wake:
            self._dispatcher.wake()
        return outcome


class IMapIterator:
    """The iterator of ``imap``/``imap_unordered`` (chunks of one item):
    ``next(timeout)`` as ``multiprocessing.pool.IMapIterator``; a task's
    exception is raised at its place, and iterating can go on after it."""

    def __init__(self, state, unpack):
        self._state = state
        self._unpack = unpack  # the chunk's result list -> what is yielded
        self._finalizer = weakref.finalize(self, state.abandon)

    def __iter__(self):
        return self

    def next(self, timeout=None):
        success, value = self._state.next(timeout)
        if success:
            return self._unpack(value)
        raise value

    __next__ = next


def _chunked(iterable, chunksize):
    if chunksize == 1:
        return _ones(iterable)
    return _chunks_of(iter(iterable), chunksize)


def _ones(iterable):
    yield from zip(iterable)  # 1-tuples, made in C


def _chunks_of(it, chunksize):
    while True:
        chunk = tuple(itertools.islice(it, chunksize))
        if not chunk:
            return
        yield chunk


def _flatten(iterator):
    for chunk in iterator:
        yield from chunk


class Pool:
    """A pool of worker processes with the API of ``multiprocessing.Pool``
    (see the file comment for what it does better).

    ``processes``: how many workers (None: ``os.cpu_count()``);
    ``initializer(*initargs)`` runs in each worker before its first task;
    ``maxtasksperchild``: a worker is replaced after that many tasks (chunks)
    (None: never). ``Pool()`` raises ``ValueError`` for bad values, and what
    pickling raises for an initializer or initargs that do not pickle.
    """

    def __init__(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        _spawn.check_main_guard("a tubo.Pool was created")
        if processes is None:
            processes = os.cpu_count() or 1
        if processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None:
            if not isinstance(maxtasksperchild, int) or maxtasksperchild <= 0:
                raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        args, env = _pool_boot.boot_command(initializer, initargs)
        self._processes = processes
        self._core = BytesPool(args, env=env, workers=processes,
                               max_tasks_per_worker=maxtasksperchild, **CORE_OPTIONS)
        self._dispatcher = Dispatcher(self._core, "tubo.Pool dispatcher")
        self._lookahead = 8 * processes
        self._finalizer = weakref.finalize(self, _stop, self._dispatcher)

    # -- state ----------------------------------------------------------------

    def _check_running(self):
        if not self._dispatcher.running:
            raise ValueError("Pool not running")

    def close(self):
        """No more tasks; the workers exit once every task is done."""
        self._dispatcher.close()

    def terminate(self):
        """Stops the workers now; tasks not done fail with ``tubo.CancelledError``."""
        self._finalizer()

    def join(self):
        """Waits for the workers to exit; call ``close`` or ``terminate`` first."""
        if self._dispatcher.running:
            raise ValueError("Pool is still running")
        self._dispatcher.join()

    def worker_pids(self):
        """The pids of the workers running now (a tubo extra, for monitoring)."""
        return self._core.worker_pids()

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, *exc):
        self.terminate()

    def __reduce__(self):
        raise NotImplementedError(
            "pool objects cannot be passed between processes or pickled")

    def __repr__(self):
        state = "RUN" if self._dispatcher.running else "CLOSE"
        return "<tubo.Pool state=%s pool_size=%d>" % (state, self._processes)

    # -- single calls ---------------------------------------------------------

    def apply(self, func, args=(), kwds={}):
        """``func(*args, **kwds)`` in a worker; returns its result."""
        return self.apply_async(func, args, kwds).get()

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        """Runs ``func(*args, **kwds)`` in a worker; returns an ``AsyncResult``.
        ``callback(result)`` or ``error_callback(exception)`` runs in the
        pool's thread when it is done."""
        self._check_running()
        result = ApplyResult(encode_call(func, tuple(args), dict(kwds)), callback, error_callback)
        self._dispatcher.add(result)
        return result

    # -- maps -----------------------------------------------------------------

    def map(self, func, iterable, chunksize=None):
        """``list(map(func, iterable))`` computed by the workers, in chunks."""
        return self._map_async(func, iterable, False, chunksize).get()

    def starmap(self, func, iterable, chunksize=None):
        """``[func(*args) for args in iterable]`` computed by the workers."""
        return self._map_async(func, iterable, True, chunksize).get()

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        """``map`` returning a ``MapResult``; ``callback(list)`` or
        ``error_callback(first exception)`` once every chunk is done."""
        return self._map_async(func, iterable, False, chunksize, callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        """``starmap`` returning a ``MapResult``."""
        return self._map_async(func, iterable, True, chunksize, callback, error_callback)

    def _map_async(self, func, iterable, star, chunksize=None, callback=None,
                   error_callback=None):
        self._check_running()
        if not hasattr(iterable, "__len__"):
            iterable = list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(iterable), self._processes * 4)
            if extra:
                chunksize += 1
        if len(iterable) == 0:
            chunksize = 1
        elif chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(chunksize))
        # The input is a sequence: its chunks can be made as they are taken.
        chunks = zip(iterable) if chunksize == 1 else _chunked(iterable, chunksize)
        result = MapResult(star, func, chunks, len(iterable), chunksize,
                           callback, error_callback)
        if not result.ready():
            self._dispatcher.add(result)
        return result

    def imap(self, func, iterable, chunksize=1):
        """Like ``map``, lazily: an iterator of the results in input order,
        reading ``iterable`` as the results are consumed."""
        return self._imap(func, iterable, chunksize, ordered=True)

    def imap_unordered(self, func, iterable, chunksize=1):
        """Like ``imap``, with the results in the order they are done."""
        return self._imap(func, iterable, chunksize, ordered=False)

    def _imap(self, func, iterable, chunksize, ordered):
        self._check_running()
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(chunksize))
        state = _IMapState(self._dispatcher, False, func, _chunked(iterable, chunksize),
                           self._lookahead, ordered)
        self._dispatcher.add(state)
        if chunksize == 1:
            return IMapIterator(state, _first)
        return _flatten(IMapIterator(state, _identity))


def _first(chunk_result):
    return chunk_result[0]


def _identity(chunk_result):
    return chunk_result


def _stop(dispatcher):
    dispatcher.terminate()
    dispatcher.join()
