"""The thread behind ``tubo.Pool`` and ``tubo.ProcessPoolExecutor``: it
submits the tasks of their jobs to a ``BytesPool`` as the window allows, and
hands each outcome back to its job, in this thread. Internal.

A job is an object with

- ``next_task(force)``: the next ``(payload, deliver)`` to submit, ``WAIT``
  if it has none to give now (a lazy map whose consumer lags behind; with
  ``force`` it must not wait), or None once it has none left. ``payload`` is
  bytes, or an exception to deliver at once (arguments that did not pickle,
  an input iterator that raised);
- ``cancel(exc)``: fails whatever it has not given out.

``deliver(ok, value)`` is called once per task with ``(True, result bytes)``
or ``(False, exception)`` (``WorkerDiedError``, ``CancelledError``, ...).

The thread sleeps in one ``poll`` on the pool's notification descriptor
(readable when a task is done) and a wake-up pipe (a new job, a consumer that
made room, close, terminate), so it costs nothing while it waits and reacts
at once.
"""
import collections
import os
import select
import sys
import threading
import traceback
import weakref

from tubo import _lib
from tubo.bytes_pool import _result
from tubo.errors import CancelledError, TuboError

_c = _lib.lib
_task_done = _c.tubo_task_done

WAIT = object()


def _report(what):
    sys.stderr.write("tubo pool: exception in %s:\n" % what)
    traceback.print_exc()


def _close_fds(*fds):
    for fd in fds:
        os.close(fd)


class Dispatcher:
    """Feeds the jobs' tasks to ``core`` (a ``BytesPool``) in one thread.
    ``close()`` lets it finish every job, then it closes ``core`` (the
    workers exit); ``terminate()`` stops it at once, what is not done failing
    with ``CancelledError``."""

    def __init__(self, core, name):
        self._core = core
        self._lock = threading.Lock()
        self._jobs = collections.deque()
        self._held = None  # a (payload, deliver) pulled while the window was full
        self._pending = collections.deque()  # (PoolTask, deliver), oldest first
        self._closing = False
        self._terminating = False
        self._wake_r, self._wake_w = os.pipe()  # close-on-exec, as every fd Python makes
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        # Closed once nobody can write to them any more.
        weakref.finalize(self, _close_fds, self._wake_r, self._wake_w)
        self._notify = core.notify_fd
        self._poller = select.poll()
        self._poller.register(self._notify, select.POLLIN)
        self._poller.register(self._wake_r, select.POLLIN)
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    # -- called by any thread ------------------------------------------------

    def add(self, job):
        with self._lock:
            if self._closing or self._terminating:
                raise ValueError("Pool not running")
            self._jobs.append(job)
        self.wake()

    def wake(self):
        """Makes the thread look at the jobs again (one that answered WAIT
        may have a task now)."""
        try:
            os.write(self._wake_w, b"\0")
        except BlockingIOError:
            pass  # the pipe is full: the thread has wake-ups enough to read

    @property
    def running(self):
        return not (self._closing or self._terminating)

    def close(self):
        with self._lock:
            self._closing = True
        self.wake()

    def terminate(self):
        with self._lock:
            if self._terminating:
                return
            self._terminating = True
        self._core.terminate()  # the tasks in flight end now (CancelledError)
        self.wake()

    def join(self, timeout=None):
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def cancel_jobs(self, predicate):
        """Cancels the jobs ``predicate`` picks (their tasks not given out yet)."""
        with self._lock:
            jobs = [j for j in self._jobs if predicate(j)]
        for job in jobs:
            job.cancel(CancelledError("cancelled before it was submitted"))

    # -- the thread -----------------------------------------------------------

    def _main(self):
        try:
            if self._loop():
                self._core.close()
        except BaseException:
            _report("the pool's dispatcher thread")
            self._terminating = True
            self._core.terminate()
        finally:
            self._drain()

    def _loop(self):
        """Returns True after a close (every job done), False on terminate."""
        while True:
            self._clear(self._wake_r)
            if self._terminating:
                return False
            self._feed()
            if self._pending:
                self._clear(self._notify)  # before looking: a task done later re-arms it
                if self._collect():
                    continue
            else:
                with self._lock:
                    if self._closing and not self._jobs and self._held is None:
                        return True
            self._poller.poll()

    @staticmethod
    def _clear(fd):
        try:
            while os.read(fd, 4096):  # an eventfd gives its 8 bytes, a pipe what it holds
                pass
        except BlockingIOError:
            pass

    def _pull(self):
        """The next (payload, deliver) of the first job that has one, or None."""
        with self._lock:
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
                with self._lock:
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
        """Submits while the window has room and the jobs have tasks."""
        submit = self._core._submit_once
        while not self._terminating:
            item = self._held
            if item is None:
                item = self._pull()
                if item is None:
                    return
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
            if task is None:  # the window is full: a task done makes room
                self._held = item
                return
            self._held = None
            self._pending.append((task, deliver))

    def _collect(self):
        """Delivers every task done; True if there was one. Tasks mostly end
        in the order they were submitted: the front is looked at first, the
        rest only when the front is not done."""
        pending = self._pending
        found = False
        while pending and _task_done(pending[0][0]._h):
            task, deliver = pending.popleft()
            self._finish(task, deliver)
            found = True
        if found or not pending:
            return found
        keep = collections.deque()
        for task, deliver in pending:
            if _task_done(task._h):
                self._finish(task, deliver)
                found = True
            else:
                keep.append((task, deliver))
        self._pending = keep
        return found

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
        """After a terminate: every task in flight ends (the C pool cancels
        them), every job is cancelled."""
        for task, deliver in self._pending:
            task.wait()
            self._finish(task, deliver)
        self._pending.clear()
        cancelled = CancelledError("the pool was terminated before the task was submitted")
        if self._held is not None:
            self._deliver(self._held[1], False, cancelled)
            self._held = None
        with self._lock:
            jobs, self._jobs = list(self._jobs), collections.deque()
        for job in jobs:
            try:
                job.cancel(cancelled)
            except BaseException:
                _report("a pool job")
