"""The thread behind ``tubo.Pool`` and ``tubo.ProcessPoolExecutor``: it
submits the tasks of their jobs to a ``BytesPool`` as the window allows, and
hands each outcome back to the job, in this thread. Internal.

A job is an object with

- ``next_task(force)``: the next ``(payload, deliver)`` to submit, ``WAIT``
  if it has none to give now (a lazy map whose consumer lags behind; with
  ``force`` it must not wait), or None once it has none left. ``payload`` is
  bytes, or an exception to deliver at once (an argument that did not
  pickle, an input iterator that raised);
- ``cancel(exc)``: fails whatever it has not given out (the pool terminates).

``deliver(ok, value)`` is called once per task with ``(True, result bytes)``
or ``(False, exception)`` (``WorkerDiedError``, ``CancelledError``, ...).

The C ABI has no "wait for any task", so the thread waits on the oldest task
in flight and, when that one is slow, looks over all of them every few
milliseconds (backing off from 1 to 10 ms): tasks finishing in order cost one
wait each, out of order at most 10 ms of latency.
"""
import collections
import sys
import threading
import traceback

from tubo import _lib
from tubo.bytes_pool import _result
from tubo.errors import CancelledError, TuboError

_c = _lib.lib
_task_wait, _task_done = _c.tubo_task_wait, _c.tubo_task_done

WAIT = object()
_MAX_POLL_MS = 10


def _report(what):
    sys.stderr.write("tubo pool: exception in %s:\n" % what)
    traceback.print_exc()


class Dispatcher:
    """Feeds the jobs' tasks to ``core`` (a ``BytesPool``) in one thread.
    ``close()`` lets it finish every job, then it closes ``core`` (the
    workers exit); ``terminate()`` stops it at once, jobs failing with
    ``CancelledError``."""

    def __init__(self, core, name):
        self._core = core
        self._cv = threading.Condition(threading.Lock())
        self._jobs = collections.deque()
        self._held = None  # a (payload, deliver) pulled while the window was full
        self._pending = collections.deque()  # (PoolTask, deliver), oldest first
        self._closing = False
        self._terminating = False
        self._poll_ms = 1
        self._wakes = 0  # bumped by every call that may give the thread work
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    # -- called by any thread ------------------------------------------------

    def add(self, job):
        with self._cv:
            if self._closing or self._terminating:
                raise ValueError("Pool not running")
            self._jobs.append(job)
            self._wakes += 1
            self._cv.notify()

    def wake(self):
        """A job that answered WAIT may have a task now."""
        with self._cv:
            self._wakes += 1
            self._cv.notify()

    @property
    def running(self):
        return not (self._closing or self._terminating)

    def close(self):
        with self._cv:
            self._closing = True
            self._wakes += 1
            self._cv.notify()

    def terminate(self):
        with self._cv:
            if self._terminating:
                return
            self._terminating = True
            self._wakes += 1
            self._cv.notify()
        self._core.terminate()  # pending tasks end now (CancelledError)

    def join(self, timeout=None):
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def cancel_jobs(self, predicate):
        """Cancels the jobs ``predicate`` picks (their tasks not yet given out)."""
        with self._cv:
            jobs = [j for j in self._jobs if predicate(j)]
        for job in jobs:
            job.cancel(CancelledError("cancelled before it was submitted"))

    # -- the thread -----------------------------------------------------------

    def _main(self):
        try:
            self._loop()
        except BaseException:
            _report("the pool's dispatcher thread")
            self._terminating = True
            self._core.terminate()
        finally:
            self._drain()

    def _loop(self):
        while True:
            with self._cv:
                seen = self._wakes
            if self._terminating:
                return
            window_full = self._feed()
            if self._pending:
                self._collect()
                continue
            if window_full:
                continue  # the window has room again (nothing is pending)
            with self._cv:
                if self._terminating:
                    return
                if self._closing and not self._jobs and self._held is None:
                    break
                if self._wakes == seen:  # else something changed since _feed looked
                    self._cv.wait()
        self._core.close()

    def _pull(self):
        """The next (payload, deliver) of the first job that has one, or None."""
        with self._cv:
            jobs = list(self._jobs)
            force = self._closing
        for job in jobs:
            try:
                item = job.next_task(force)
            except BaseException as e:
                _report("a pool job")
                job.cancel(e)
                item = None
            if item is None:
                with self._cv:
                    try:
                        self._jobs.remove(job)
                    except ValueError:
                        pass
                continue
            if item is WAIT:
                continue
            return item
        return None

    def _feed(self):
        """Submits while the window has room; True if it stopped on a full window."""
        submit = self._core._submit_once
        while not self._terminating:
            item = self._held
            if item is None:
                item = self._pull()
                if item is None:
                    return False
            payload, deliver = item
            if isinstance(payload, BaseException):
                self._held = None
                self._deliver(deliver, False, payload)
                continue
            try:
                task = submit(payload, 0)
            except TuboError as e:
                self._held = None
                self._deliver(deliver, False, e)
                continue
            if task is None:
                self._held = item
                return True
            self._held = None
            self._pending.append((task, deliver))
        return False

    def _collect(self):
        """Delivers what finished: waits on the oldest task for a while, then
        takes every finished one from the front, or sweeps them all."""
        pending = self._pending
        head = pending[0][0]._h
        if _task_wait(head, self._poll_ms):
            self._poll_ms = 1
            while pending and _task_done(pending[0][0]._h):
                task, deliver = pending.popleft()
                self._finish(task, deliver)
            return
        self._poll_ms = min(self._poll_ms * 2, _MAX_POLL_MS)
        keep = collections.deque()
        for task, deliver in pending:
            if _task_done(task._h):
                self._finish(task, deliver)
            else:
                keep.append((task, deliver))
        self._pending = keep

    def _finish(self, task, deliver):
        try:
            value = _result(task._h)
        except TuboError as e:
            self._deliver(deliver, False, e)
        else:
            self._deliver(deliver, True, value)

    @staticmethod
    def _deliver(deliver, ok, value):
        try:
            deliver(ok, value)
        except BaseException:
            _report("a pool result's callback")

    def _drain(self):
        """After a terminate: every task still in flight ends (cancelled by
        the C pool), every job is cancelled."""
        for task, deliver in self._pending:
            task.wait()
            self._finish(task, deliver)
        self._pending.clear()
        cancelled = CancelledError("the pool was terminated before the task was submitted")
        if self._held is not None:
            self._deliver(self._held[1], False, cancelled)
            self._held = None
        with self._cv:
            jobs, self._jobs = list(self._jobs), collections.deque()
        for job in jobs:
            try:
                job.cancel(cancelled)
            except BaseException:
                _report("a pool job")
