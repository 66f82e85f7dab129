"""The thread behind ``tubo.Pool`` and ``tubo.ProcessPoolExecutor``: it
submits the tasks of their jobs to a ``BytesPool`` as the window allows, and
hands each outcome back to its job, in this thread. Internal.

A job is an object with

- ``next_tasks(force, limit)``: a list of at most ``limit`` (at least one)
  ``(payload, deliver)`` to submit next, ``WAIT`` if it has none to give now
  (a lazy map whose consumer lags behind; with ``force`` it must not wait),
  or None once it has none left. ``payload`` is bytes, or an exception to
  deliver at once (arguments that did not pickle, an input iterator that
  raised);
- ``cancel(exc)``: fails whatever it has not given out;
- optionally ``cancellable = True``: its tasks can be cancelled until they
  are given out, so the dispatcher gives out no more than ``cancellable``
  (its constructor's argument) of the tasks of such jobs at a time (the
  executor's futures: ``shutdown(cancel_futures=True)`` finds the others
  still pending).

``deliver(ok, value)`` is called once per task with ``(True, result bytes)``
or ``(False, exception)`` (``WorkerDiedError``, ``CancelledError``, ...).

The library is crossed once per batch, not once per task: tasks go in by
``tubo_pool_submit_tagged`` (a tag each, an index into the deliveries
waiting) and come back by ``tubo_pool_take_done`` (every task done, in one
buffer). The thread sleeps in one ``poll`` on the pool's notification
descriptor (readable when a task is done) and a wake-up pipe (a new job, a
consumer that made room, close, terminate), so it costs nothing while it
waits and reacts at once.
"""
import array
import collections
import os
import select
import sys
import threading
import traceback
import weakref

from tubo.errors import CancelledError, TuboError, from_code

WAIT = object()
# The most tasks pulled from the jobs and submitted in one call.
_BATCH = 256
# The BytesPool options of the pools built on a Dispatcher: a window of
# _BATCH tasks, and 8 tasks sent to a busy worker ahead of the one it runs,
# so that a worker reads many tasks per system call and the pool's thread
# writes them with few wake-ups (tiny tasks cost 2 to 3 times less CPU than
# with the C pool's defaults, 16 and 1).
CORE_OPTIONS = {"max_in_flight": _BATCH, "prefetch": 8}


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

    def __init__(self, core, name, cancellable=None):
        self._core = core
        self._cancellable_room = cancellable  # None: no limit
        self._lock = threading.Lock()
        self._jobs = collections.deque()
        self._held = collections.deque()  # (payload, deliver) pulled, not submitted yet
        self._deliveries = {}  # tag -> deliver, for the tasks submitted and not done
        self._next_tag = 1
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
            if self._deliveries:
                self._clear(self._notify)  # before looking: a task done later re-arms it
                if self._collect():
                    continue
            else:
                with self._lock:
                    if self._closing and not self._jobs and not self._held:
                        return True
            self._poller.poll()

    @staticmethod
    def _clear(fd):
        try:
            os.read(fd, 4096)  # an eventfd gives its 8 bytes, the wake-up pipe what it holds
        except BlockingIOError:
            pass

    def _pull(self, limit):
        """Up to ``limit`` (payload, deliver) from the first job that has
        some, or an empty list."""
        with self._lock:
            jobs = list(self._jobs)
            force = self._closing
        for job in jobs:
            counted = self._cancellable_room is not None and getattr(job, "cancellable", False)
            if counted and self._cancellable_room <= 0:
                continue
            try:
                items = job.next_tasks(
                    force, min(limit, self._cancellable_room) if counted else limit)
            except BaseException as e:
                _report("a pool job")
                job.cancel(e)
                items = None
            if items is None:
                with self._lock:
                    try:
                        self._jobs.remove(job)
                    except ValueError:
                        pass
                continue
            if items is WAIT:
                continue
            if counted:
                self._cancellable_room -= len(items)
                items = [(payload, self._counted(deliver)) for payload, deliver in items]
            return items
        return []

    def _counted(self, deliver):
        def counted_deliver(ok, value):
            self._cancellable_room += 1  # in this thread, as every delivery
            deliver(ok, value)
        return counted_deliver

    def _feed(self):
        """Submits while the window has room and the jobs have tasks."""
        held = self._held
        while not self._terminating:
            if not held:
                items = self._pull(_BATCH)
                if not items:
                    return
                for item in items:
                    if isinstance(item[0], BaseException):
                        self._deliver(item[1], False, item[0])
                    else:
                        held.append(item)
                if not held:
                    continue
            if not self._submit(held):
                return  # the window is full: a task done makes room

    def _submit(self, held):
        """Submits what ``held`` holds, oldest first, as far as the window
        allows; True if all of it went in."""
        deliveries = self._deliveries
        tag = self._next_tag
        tags = array.array("Q", range(tag, tag + len(held)))
        lens = array.array("Q", [len(p) for p, _ in held])
        try:
            n = self._core._submit_tagged(b"".join([p for p, _ in held]), lens, tags)
        except TuboError as e:
            # The pool refuses tasks (closed, gave up starting workers): each
            # held task fails with that error.
            while held:
                self._deliver(held.popleft()[1], False, e)
            return True
        for _ in range(n):
            deliveries[tag] = held.popleft()[1]
            tag += 1
        self._next_tag = tag
        return not held

    def _collect(self):
        """Delivers every task done; True if there was one."""
        outcomes, _ = self._core._take_done()
        self._finish(outcomes)
        return bool(outcomes)

    def _finish(self, outcomes):
        pop, deliver = self._deliveries.pop, self._deliver
        for tag, code, body in outcomes:
            if code == 0:
                deliver(pop(tag), True, body)
            else:
                deliver(pop(tag), False, from_code(code, body.decode("utf-8", "replace")))

    @staticmethod
    def _deliver(deliver, ok, value):
        try:
            deliver(ok, value)
        except BaseException:
            _report("a pool result's callback")

    def _drain(self):
        """After a terminate: every task in flight ends (the C pool cancels
        them), every job is cancelled."""
        while self._deliveries:
            self._clear(self._notify)
            outcomes, pending = self._core._take_done()
            self._finish(outcomes)
            if pending and not outcomes:
                self._poller.poll(100)
        cancelled = CancelledError("the pool was terminated before the task was submitted")
        while self._held:
            self._deliver(self._held.popleft()[1], False, cancelled)
        with self._lock:
            jobs, self._jobs = list(self._jobs), collections.deque()
        for job in jobs:
            try:
                job.cancel(cancelled)
            except BaseException:
                _report("a pool job")
