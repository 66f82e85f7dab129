"""The thread behind ``tubo.Pool`` and ``tubo.ProcessPoolExecutor``: it
submits the tasks of their jobs to a ``BytesPool`` as the window allows, and
hands each outcome back to its job, in this thread. Internal.

A job is an object with

- ``next_tasks(force, limit)``: the next tasks to submit, at least one and
  at most ``limit``, as two lists ``(payloads, keys)``; ``WAIT`` if it has
  none to give now (a lazy map whose consumer lags behind; with ``force``
  it must not wait), or None once it has none left. A payload is bytes, or
  an exception to deliver at once (arguments that did not pickle, an input
  iterator that raised); a key is what the job wants back with the
  task's outcome (an index);
- ``deliver(outcomes)``: takes a list of ``(key, ok, value)``, one per task
  done, ``(key, True, result bytes)`` or ``(key, False, exception)``
  (``WorkerDiedError``, ``CancelledError``, ...), each task's once, in
  this thread; the outcomes of a batch come in one call;
- ``cancel(exc)``: fails whatever it has not given out;
- optionally ``cancellable = True``: its tasks can be cancelled until they
  are given out, so the dispatcher gives out no more than ``cancellable``
  (its constructor's argument) of the tasks of such jobs at a time (the
  executor's futures: ``shutdown(cancel_futures=True)`` finds the others
  still pending).

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
import itertools
import os
import select
import sys
import threading
import traceback
import weakref

from tubo.bytes_pool import RECORD
from tubo.errors import CancelledError, TuboError, from_code

WAIT = object()
# The most tasks pulled from the jobs and submitted in one call.
_BATCH = 256
# The BytesPool options of the pools built on a Dispatcher: a window of
# _BATCH tasks, and the C pool's automatic read-ahead (tiny tasks: up to 15
# sent to a busy worker ahead of the one it runs, so that a worker reads many
# tasks per system call and the pool's thread writes them with few wake-ups;
# tasks of a millisecond or more: 1).
CORE_OPTIONS = {"max_in_flight": _BATCH, "prefetch": -1}
# The most tasks submitted and not yet taken back (done or not).
_MAX_UNTAKEN = 4 * _BATCH


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
        # Pulled from the jobs, not submitted yet: payloads and their delivers.
        self._held_payloads = []
        self._held_keys = []  # (job, key)
        self._deliveries = {}  # tag -> (job, key), for the tasks submitted and not taken
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
                    if self._closing and not self._jobs and not self._held_payloads:
                        return True
            self._poller.poll()

    @staticmethod
    def _clear(fd):
        try:
            os.read(fd, 4096)  # an eventfd gives its 8 bytes, the wake-up pipe what it holds
        except BlockingIOError:
            pass

    def _pull(self, limit):
        """``(payloads, delivers)`` of at most ``limit`` tasks from the first
        job that has some, or None."""
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
                self._cancellable_room -= len(items[0])
            return job, items
        return None

    def _feed(self):
        """Submits while the window has room and the jobs have tasks."""
        payloads, keys = self._held_payloads, self._held_keys
        # Tasks done count no more against the pool's window, only once they are
        # taken: a bound on those submitted and not taken keeps the outcomes
        # waiting in the library few.
        while not self._terminating and len(self._deliveries) < _MAX_UNTAKEN:
            if not payloads:
                pulled = self._pull(_BATCH)
                if pulled is None:
                    return
                job, (new_payloads, new_keys) = pulled
                try:
                    b"".join(new_payloads)  # a TypeError if one is an exception: checked in C
                except TypeError:
                    failed = []
                    for payload, key in zip(new_payloads, new_keys):
                        if isinstance(payload, BaseException):
                            failed.append((key, False, payload))
                        else:
                            payloads.append(payload)
                            keys.append((job, key))
                    if failed:
                        self._deliver(job, failed)
                    if not payloads:
                        continue
                else:
                    payloads.extend(new_payloads)
                    keys.extend(zip(itertools.repeat(job), new_keys))
            if not self._submit(payloads, keys):
                return  # the window is full: a task done makes room

    def _submit(self, payloads, keys):
        """Submits the held tasks, oldest first, as far as the window
        allows; True if all of them went in."""
        tag = self._next_tag
        held = len(payloads)
        try:
            n = self._core._submit_tagged(b"".join(payloads), array.array("Q", map(len, payloads)),
                                          array.array("Q", range(tag, tag + held)))
        except TuboError as e:
            # The pool refuses tasks (closed, gave up starting workers): each
            # held task fails with that error.
            self._deliver_each([(job, key, False, e) for job, key in keys])
            payloads.clear()
            keys.clear()
            return True
        self._deliveries.update(zip(range(tag, tag + n), keys))
        self._next_tag = tag + n
        del payloads[:n]
        del keys[:n]
        return n == held

    def _collect(self):
        """Delivers every task done, each run of one job's in one call;
        returns how many."""
        records, count = self._core._take_done()
        if not count:
            return 0
        pop, unpack, size = self._deliveries.pop, RECORD.unpack_from, RECORD.size
        job, run = None, []
        at = 0
        for _ in range(count):
            tag, code, n = unpack(records, at)
            at += size
            body = records[at:at + n]
            at += n
            owner, key = pop(tag)
            if owner is not job:
                if run:
                    self._deliver(job, run)
                job, run = owner, []
            if code == 0:
                run.append((key, True, body))
            else:
                run.append((key, False, from_code(code, body.decode("utf-8", "replace"))))
        if run:
            self._deliver(job, run)
        return count

    def _deliver_each(self, each):
        """Delivers ``(job, key, ok, value)``, each run of one job's in one call."""
        i, n = 0, len(each)
        while i < n:
            job = each[i][0]
            j = i + 1
            while j < n and each[j][0] is job:
                j += 1
            self._deliver(job, [(key, ok, value) for _, key, ok, value in each[i:j]])
            i = j

    def _deliver(self, job, outcomes):
        if self._cancellable_room is not None and getattr(job, "cancellable", False):
            self._cancellable_room += len(outcomes)
        try:
            job.deliver(outcomes)
        except BaseException:
            _report("a pool result's callback")

    def _drain(self):
        """After a terminate: every task in flight ends (the C pool cancels
        them), every job is cancelled."""
        while self._deliveries:
            self._clear(self._notify)
            self._clear(self._wake_r)
            if not self._collect():
                self._poller.poll(100)
        cancelled = CancelledError("the pool was terminated before the task was submitted")
        self._deliver_each([(job, key, False, cancelled) for job, key in self._held_keys])
        self._held_payloads.clear()
        self._held_keys.clear()
        with self._lock:
            jobs, self._jobs = list(self._jobs), collections.deque()
        for job in jobs:
            try:
                job.cancel(cancelled)
            except BaseException:
                _report("a pool job")
