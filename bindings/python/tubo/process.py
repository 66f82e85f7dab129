"""``Process``: a child process, with the API of ``multiprocessing.Process``.

    def greet(name):
        print("hello", name)

    if __name__ == "__main__":
        p = tubo.Process(target=greet, args=("world",))
        p.start()
        p.join()

``Process(target=...)`` runs a Python function in a new ``sys.executable``
(CPython's ``spawn`` start method done over tubo, never ``fork``; how, in
``tubo/_spawn.py``), so keep the script's top-level work under
``if __name__ == "__main__":``. Connections anywhere in the args (or in a
subclass's attributes) are handed over as channels and rebuilt in the child;
they are **consumed** by ``start()``, success or failure: the parent's copy is
closed, so a forgotten write end can never keep a reader from EOF. The exit
code is 0 when ``run()`` returns, the code of a ``SystemExit``, or 1 (with the
traceback on stderr) for any other exception, as in ``multiprocessing``.
``Command.spawn()`` (``tubo/command.py``) returns a started Process for any
program.

Supervision: a ``daemon`` Process also dies when this process dies by any
cause, SIGKILL included (the kernel's parent-death signal), as
``multiprocessing`` can only promise for a clean exit; a non-daemon one, as in
``multiprocessing``, may outlive a parent that was killed.

Processes started with ``start()`` are kept (like ``multiprocessing``'s
children) until joined; at interpreter exit the daemonic ones are terminated
and all are joined. A ``Command``'s child lives as long as its Process object.
``close()`` or leaving a ``with`` block frees the handle: a child still
running then gets tubo's stop sequence (by default 1 s grace, SIGTERM, 1 s,
SIGKILL; see ``set_stop_sequence``) and is always reaped.
"""
import atexit
import ctypes
import itertools
import multiprocessing
import os
import signal as _signal
import threading
import weakref

from tubo import _lib, _timeouts
from tubo.errors import TuboError, call, from_c

_c = _lib.lib
_counter = itertools.count(1)
_children = set()
_children_lock = threading.Lock()
_by_sentinel = {}  # Process.sentinel -> weakref to its Process, for tubo.wait


def process_of_sentinel(fd):
    """The live Process whose ``sentinel`` is ``fd``, or None."""
    ref = _by_sentinel.get(fd)
    return None if ref is None else ref()


def current_process():
    """This process, as ``multiprocessing.current_process()`` (which it
    returns): in a child started by ``tubo.Process``, its ``name`` is the
    Process's name (set by the child before ``run()``), its ``pid`` this
    process's."""
    return multiprocessing.current_process()


class Process:
    """A child process, with the API of ``multiprocessing.Process``.

    ``Process(target=f, args=(...))`` runs ``f(*args, **kwargs)`` in a new
    Python interpreter when ``start()`` is called (see the file comment);
    subclasses may override ``run()``. ``Command.spawn()`` returns a started
    Process for any program.
    """

    _INTERNAL = ("_handle", "_started", "_closed", "_exitcode", "_sentinel", "stdin", "stdout",
                 "stderr")

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *,
                 daemon=None):
        if group is not None:
            raise ValueError("group must be None")
        self._target = target
        self._args = tuple(args)
        self._kwargs = dict(kwargs or {})
        self._name = name or "TuboProcess-%d" % next(_counter)
        self.daemon = bool(daemon)
        self._handle = None
        self._started = False
        self._closed = False
        self._exitcode = None
        self._sentinel = None
        #: Binary file objects on the child's standard streams that
        #: ``Command.stdin``/``stdout``/``stderr`` set to ``PIPE``, else None
        #: (as ``subprocess.Popen``'s).
        self.stdin = self.stdout = self.stderr = None

    # Only what the child needs crosses over: not the handle.
    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._INTERNAL}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._handle, self._started, self._closed, self._exitcode = None, False, False, None
        self._sentinel = None
        self.stdin = self.stdout = self.stderr = None

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = str(value)

    def run(self):
        """What the child runs: ``target(*args, **kwargs)``. Override in a subclass if you like."""
        if self._target is not None:
            self._target(*self._args, **self._kwargs)

    # -- starting ------------------------------------------------------------

    def start(self):
        """Starts ``run()`` in a new interpreter.

        Connections in the args (and in a subclass's attributes) are consumed,
        success or failure: on any error (an unpicklable target or argument,
        a failed spawn) every Connection reachable from the Process through
        tuples, lists, dicts, sets and instance attributes is closed before the
        exception propagates, exactly as after a successful start.

        A ``daemon`` process also dies with this process, by any cause
        (SIGKILL included): the kernel's parent-death signal.
        """
        self._check_closed()
        if self._started:
            raise RuntimeError("cannot start a process twice")
        # Here, not at the top: _spawn needs Command, whose spawn() makes a Process.
        from tubo import _spawn
        _spawn.start(self)

    def _adopt(self, handle, owned_by_module=True):
        self._handle = handle
        self._started = True
        if owned_by_module:  # like multiprocessing's children: kept until joined
            with _children_lock:
                _children.add(self)

    # -- state ---------------------------------------------------------------

    def _check_closed(self):
        if self._closed:
            raise ValueError("process object is closed")

    def _c_handle(self):
        self._check_closed()
        if self._handle is None:
            raise ValueError("process not started")
        return self._handle

    def _reaped(self, code):
        self._exitcode = code
        with _children_lock:
            _children.discard(self)

    def _wait(self, timeout_ms):
        """Reaps the child if it exits within ``timeout_ms`` (negative: forever)."""
        if self._exitcode is not None:
            return True
        return _timeouts.interruptible(self._wait_once, timeout_ms)

    def _wait_once(self, timeout_ms):
        code = ctypes.c_int()
        err = ctypes.c_void_p()
        rc = _c.tubo_process_wait_timeout(ctypes.byref(code), self._c_handle(), timeout_ms,
                                          ctypes.byref(err))
        if rc == _lib.E_TIMEOUT:
            _c.tubo_error_free(err.value)
            return False
        if rc < 0:
            raise from_c(rc, err.value)
        self._reaped(code.value)
        return True

    @property
    def pid(self):
        """The child's pid; None before ``start()``."""
        self._check_closed()
        return None if self._handle is None else _c.tubo_process_pid(self._handle)

    ident = pid

    @property
    def exitcode(self):
        """None while the child runs (or before start); then its exit code, or
        ``-N`` if signal N killed it (contract 3)."""
        self._check_closed()
        if self._handle is None:
            return None
        self._wait(0)
        return self._exitcode

    @property
    def sentinel(self):
        """A descriptor that becomes readable when the child exits, as
        ``multiprocessing.Process.sentinel``: for ``select``/``poll``,
        ``multiprocessing.connection.wait`` or ``tubo.wait``. It is a pidfd
        (``os.pidfd_open``, Linux 5.3 and Python 3.9 or later), made at the
        first use and owned by the Process: closed by ``close()``; do not close
        it yourself. Reading it says nothing; ``exitcode``/``join`` reap."""
        self._check_closed()
        if self._handle is None:
            raise ValueError("process not started")
        if self._sentinel is None:
            if self._exitcode is None:
                # Not reaped: the pid still names this child (a zombie at worst).
                fd = os.pidfd_open(_c.tubo_process_pid(self._handle))
            else:
                # Already reaped: a descriptor that is readable at once (EOF).
                fd, w = os.pipe()
                os.close(w)
            self._sentinel = fd
            _by_sentinel[fd] = weakref.ref(self)
        return self._sentinel

    def _close_sentinel(self):
        fd, self._sentinel = getattr(self, "_sentinel", None), None
        if fd is not None:
            _by_sentinel.pop(fd, None)
            os.close(fd)

    def is_alive(self):
        """True from ``start()`` until the child has exited."""
        self._check_closed()
        if self._handle is None:
            return False
        return not self._wait(0)

    def join(self, timeout=None):
        """Waits for the child to exit (``timeout`` seconds at most; None: forever)
        and reaps it. Returns None either way; check ``exitcode``."""
        self._check_closed()
        if self._handle is None:
            raise AssertionError("can only join a started process")
        self._wait(_timeouts.timeout_ms(timeout))

    def send_signal(self, signo):
        """Sends ``signo`` through the pidfd; nothing once the child was reaped."""
        h = self._c_handle()
        if self._exitcode is not None:
            return
        try:
            call(_c.tubo_process_signal, h, signo)
        except TuboError:
            if not self._wait(0):
                raise

    def signal_group(self, signo):
        """Sends ``signo`` to the child's whole process group (a child started
        with ``new_process_group``), until it is reaped: after that its group
        id could name another group, and ``ClosedError`` is raised. Raises
        ``InvalidArgumentError`` if the child does not lead its own group."""
        call(_c.tubo_process_signal_group, self._c_handle(), signo)

    @property
    def leads_group(self):
        """True if the child leads its own process group."""
        return self._handle is not None and bool(_c.tubo_process_leads_group(self._handle))

    def terminate(self):
        """Sends SIGTERM (nothing if the child has already exited)."""
        self.send_signal(_signal.SIGTERM)

    def kill(self):
        """Sends SIGKILL (nothing if the child has already exited)."""
        self.send_signal(_signal.SIGKILL)

    def set_stop_sequence(self, grace=1.0, signal=_signal.SIGTERM, timeout=1.0):
        """What ``close()`` (or leaving ``with``) does to a child still running:
        wait ``grace`` seconds (None: forever), send ``signal`` (0: none), wait
        ``timeout`` seconds, then SIGKILL; always reap."""
        h = self._c_handle()
        call(_c.tubo_process_set_stop_grace, h, _timeouts.timeout_ms(grace))
        call(_c.tubo_process_set_stop_signal, h, signal)
        call(_c.tubo_process_set_stop_timeout, h, _timeouts.timeout_ms(timeout))

    def close(self, _stop=False):
        """Frees the handle. Like ``multiprocessing``, refuses (ValueError) while
        the child runs; leaving a ``with`` block runs the stop sequence instead."""
        if self._closed:
            return
        h = self._handle
        if h is not None and not _stop and not self._wait(0):
            raise ValueError("Cannot close a process while it is still running. "
                             "You should first call join() or terminate().")
        self._closed = True
        self._handle = None
        self._close_sentinel()
        with _children_lock:
            _children.discard(self)
        _c.tubo_process_free(h)  # a child still running gets the stop sequence

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # As subprocess.Popen: the pipes first (stdin's end of file may be what
        # lets the child finish), then the stop sequence.
        for stream in (self.stdout, self.stderr, self.stdin):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:  # stdin's unflushed bytes: the child is gone
                    pass
        self.close(_stop=True)

    def __del__(self):
        try:
            self._close_sentinel()
        except Exception:
            pass
        h = getattr(self, "_handle", None)
        if h is not None:
            self._handle = None
            try:
                _c.tubo_process_free(h)
            except Exception:
                pass

    def __repr__(self):
        if self._closed:
            state = "closed"
        elif self._handle is None:
            state = "initial"
        elif self._exitcode is not None:
            state = "stopped exitcode=%d" % self._exitcode
        else:
            state = "started pid=%d" % _c.tubo_process_pid(self._handle)
        return "<tubo.Process name=%r %s%s>" % (self._name, state,
                                                 " daemon" if self.daemon else "")


def active_children():
    """The started processes not yet joined (reaping those that have exited)."""
    with _children_lock:
        children = list(_children)
    return [p for p in children if p.is_alive()]


@atexit.register
def _exit_function():
    # As multiprocessing does: terminate the daemonic children, join all.
    with _children_lock:
        children = list(_children)
    for p in children:
        try:
            if p.daemon and p.is_alive():
                p.terminate()
        except Exception:
            pass
    for p in children:
        try:
            p.join()
        except Exception:
            pass
