"""Processes: the exec start method (``Command``) and ``Process(target=...)``,
with the API of ``multiprocessing.Process``.

    def greet(name):
        print("hello", name)

    if __name__ == "__main__":
        p = tubo.Process(target=greet, args=("world",))
        p.start()
        p.join()

**How ``Process(target=...)`` runs a Python function (the self start method).**
A Python program's "self" is the interpreter, so tubo re-executes
``sys.executable`` (never ``fork``: a Python process may run threads, and the
C ABI's fork would copy their locks in whatever state they are in). This is
CPython's ``spawn`` start method, done over tubo:

1. ``start()`` pickles the Process object (its target, args and kwargs; a
   target is pickled by reference, ``module.qualname``) and the parent's
   ``sys.path``, ``sys.argv`` and main module, *before* anything is started,
   so an unpicklable argument fails in the parent.
2. It spawns ``sys.executable -c <bootstrap> <dir of the tubo package>`` with a
   channel ``tubo.boot`` (contract 2) and ``TUBO_LIBRARY`` set to the library
   this process loaded, then sends the two pickles through ``tubo.boot``.
3. The child (``tubo._worker``) restores ``sys.path``/``sys.argv``, imports the
   parent's main script as ``__mp_main__`` (so, as with ``spawn``, the script
   must keep its top-level work under ``if __name__ == "__main__":``),
   unpickles the Process and calls its ``run()``. The exit code is 0 when it
   returns, the code of a ``SystemExit``, or 1 (with the traceback on stderr)
   for any other exception, as in ``multiprocessing``.

Connections anywhere in the args (or in a subclass's attributes) are handed
over as channels ``tubo.c0``, ``tubo.c1``, ... and rebuilt in the child; they
are **consumed** by ``start()``, success or failure (an unpicklable target, a
failed spawn: every failure the same way): the parent's copy is closed, so a
forgotten write end can never keep a reader from EOF.

Supervision: a ``daemon`` Process also dies when this process dies by any
cause, SIGKILL included (the kernel's parent-death signal), as
``multiprocessing`` can only promise for a clean exit; a non-daemon one, as in
``multiprocessing``, may outlive a parent that was killed. ``Command`` has
``die_with_parent`` (off by default, as ``subprocess``) and
``new_process_group``, with ``Process.signal_group`` to stop a whole tree.

Processes started with ``start()`` are kept (like ``multiprocessing``'s
children) until joined; at interpreter exit the daemonic ones are terminated
and all are joined. A ``Command``'s child lives as long as its Process object.
``close()`` or leaving a ``with`` block frees the handle: a child still
running then gets tubo's stop sequence (by default 1 s grace, SIGTERM, 1 s,
SIGKILL; see ``set_stop_sequence``) and is always reaped.

C's ``tubo_command_new_self`` (re-exec into a registered C entry point) is not
exposed: for a Python program ``/proc/self/exe`` is the interpreter.
"""
import atexit
import ctypes
import io
import itertools
import os
import pickle
import signal as _signal
import subprocess
import sys
import threading

from tubo import _lib
from tubo.connection import Connection, Pipe, _timeout_ms, interruptible
from tubo.errors import PeerClosedError, TuboError, call, from_c

_c = _lib.lib
_counter = itertools.count(1)
_children = set()
_children_lock = threading.Lock()

INHERIT = None
"""A child's stream is the parent's own (the default)."""
DEVNULL = subprocess.DEVNULL
"""A child's stream is /dev/null."""

_STREAMS = {"stdin": 0, "stdout": 1, "stderr": 2}


def _dup_off_stdio(fd):
    """A close-on-exec duplicate of ``fd`` numbered 3 or above (never taking
    the place of a closed standard stream)."""
    import fcntl
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _flush_std_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (AttributeError, ValueError):
            pass


class Command:
    """A builder for the exec start method: a program, its argv (no shell),
    environment, working directory, stdio and channels (contract 2).

        worker = (tubo.Command("./echo_worker")
                  .channel("in", to_worker_r)       # consumed
                  .channel("out", from_worker_w)    # consumed
                  .spawn())

    Every setter returns the command. Ends given to ``channel`` and the stdio
    setters are consumed at once (closed in this process when the command is
    spawned or dropped). A command spawns once.
    """

    def __init__(self, program, *args, search_path=True, die_with_parent=False,
                 new_process_group=False):
        self._program = os.fspath(program)
        out = ctypes.c_void_p()
        call(_c.tubo_command_new, ctypes.byref(out), _lib.encode(program, "program"))
        self._cmd = out.value
        self.search_path(search_path)
        # As subprocess: the child may outlive this process unless asked.
        self.die_with_parent(die_with_parent)
        self.new_process_group(new_process_group)
        self.args(*args)

    def _handle(self):
        if self._cmd is None:
            raise ValueError("the command was already spawned")
        return self._cmd

    def arg(self, arg):
        """Appends one argument."""
        call(_c.tubo_command_arg, self._handle(), _lib.encode(arg, "argument"))
        return self

    def args(self, *args):
        """Appends arguments."""
        for a in args:
            self.arg(a)
        return self

    def argv0(self, argv0):
        """Sets ``argv[0]`` (the program by default)."""
        call(_c.tubo_command_argv0, self._handle(), _lib.encode(argv0, "argv0"))
        return self

    def search_path(self, search=True):
        """Whether a program name without ``/`` is looked up in ``PATH`` (on by
        default, as ``subprocess`` and the other languages of tubo)."""
        call(_c.tubo_command_search_path, self._handle(), 1 if search else 0)
        return self

    def env_clear(self):
        """Starts the child with an empty environment (plus what ``env_set`` adds)."""
        call(_c.tubo_command_env_clear, self._handle())
        return self

    def env_set(self, name, value):
        """Sets ``name=value`` in the child's environment."""
        call(_c.tubo_command_env_set, self._handle(), _lib.encode(name, "name"),
             _lib.encode(value, "value"))
        return self

    def env_unset(self, name):
        """Removes ``name`` from the child's environment."""
        call(_c.tubo_command_env_unset, self._handle(), _lib.encode(name, "name"))
        return self

    def env(self, mapping=None, **more):
        """Sets several variables (a mapping and/or keywords)."""
        for name, value in dict(mapping or {}, **more).items():
            self.env_set(name, value)
        return self

    def cwd(self, directory):
        """Runs the child in ``directory``."""
        call(_c.tubo_command_working_directory, self._handle(), _lib.encode(directory, "directory"))
        return self

    def _stdio(self, stream, spec):
        h = self._handle()
        if spec is INHERIT:
            call(_c.tubo_command_stdio_inherit, h, stream)
        elif isinstance(spec, Connection):
            call(_c.tubo_command_stdio_end, h, stream, spec._consume())
        elif isinstance(spec, int):
            if spec == DEVNULL:
                call(_c.tubo_command_stdio_null, h, stream)
            else:
                # The C call consumes the fd: give it a copy, the caller keeps theirs.
                call(_c.tubo_command_stdio_fd, h, stream, _dup_off_stdio(spec))
        elif hasattr(spec, "fileno"):
            call(_c.tubo_command_stdio_fd, h, stream, _dup_off_stdio(spec.fileno()))
        else:
            call(_c.tubo_command_stdio_path, h, stream, _lib.encode(spec, "path"))
        return self

    def stdin(self, spec):
        """The child's stdin: ``INHERIT`` (None), ``DEVNULL``, a path (opened for
        reading), a descriptor or file object (duplicated), or a Connection
        (consumed; raw bytes)."""
        return self._stdio(0, spec)

    def stdout(self, spec):
        """The child's stdout; as ``stdin`` (a path is created or truncated)."""
        return self._stdio(1, spec)

    def stderr(self, spec):
        """The child's stderr; as ``stdout``."""
        return self._stdio(2, spec)

    def die_with_parent(self, die=True):
        """Whether the child gets SIGKILL when this process dies, by any cause
        (SIGKILL included). Off by default, as with ``subprocess``. The kernel's
        parent-death signal; tubo starts such a child from a thread that lives
        as long as the process, so it does not matter which thread calls
        ``spawn``. The kernel clears it when the child execs a set-user-ID or
        set-group-ID program."""
        call(_c.tubo_command_die_with_parent, self._handle(), 1 if die else 0)
        return self

    def new_process_group(self, lead=True):
        """Whether the child leads a new process group (``subprocess``'s
        ``process_group=0``), so that ``Process.signal_group`` and the stop
        sequence reach whatever it starts in its group."""
        call(_c.tubo_command_new_process_group, self._handle(), 1 if lead else 0)
        return self

    def channel(self, name, connection):
        """Passes ``connection`` (consumed) to the child as channel ``name``
        (``[A-Za-z0-9_.-]{1,64}``), mode ``r``, ``w`` or ``rw`` from its kind."""
        h = self._handle()
        end = connection._consume()
        call(_c.tubo_command_channel, h, _lib.encode(name, "channel name"), end)
        return self

    def spawn(self):
        """Starts the child and returns its (started) ``Process``.

        Raises ``SpawnError`` naming the stage (chdir, dup2, exec, ...), the
        program and errno. The command's channels are closed here either way.

        Unlike ``Process(target=...).start()``, the child's lifetime is that
        of the returned object, as with tubo's C and C++ handles: once it is
        closed or garbage-collected, a child still running gets the stop
        sequence (see ``Process.set_stop_sequence``) and is reaped. Keep the
        object (and ``join()`` it) for as long as the child should run.
        """
        h = self._handle()
        _flush_std_streams()
        out = ctypes.c_void_p()
        try:
            call(_c.tubo_command_spawn, ctypes.byref(out), h)
        finally:
            self._cmd = None
            _c.tubo_command_free(h)
        p = Process(name=self._program)
        p._adopt(out.value, owned_by_module=False)
        return p

    def __del__(self):
        cmd = getattr(self, "_cmd", None)
        if cmd is not None:
            self._cmd = None
            try:
                _c.tubo_command_free(cmd)
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.__del__()


class _ArgPickler(pickle.Pickler):
    """Pickles Connections as references to the channels that will carry them."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.connections = []
        self._names = {}

    def persistent_id(self, obj):
        if isinstance(obj, Connection):
            obj._check_closed()
            name = self._names.get(id(obj))
            if name is None:
                name = "tubo.c%d" % len(self.connections)
                self._names[id(obj)] = name
                self.connections.append((name, obj))
            return ("tubo.channel", name)
        return None


def _reachable_connections(root, found):
    """Every Connection reachable from ``root`` through tuples, lists, dicts,
    sets and instance attributes (``__dict__``), plus ``found``; each once."""
    out = {id(c): c for c in found}
    seen = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Connection):
            out[id(obj)] = obj
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type) and \
                type(obj).__module__ not in ("builtins", "types"):
            stack.extend(vars(obj).values())
    return list(out.values())


def _preparation_data():
    """What the child needs before it can unpickle the target (see the file comment)."""
    main = sys.modules.get("__main__")
    data = {"sys_path": list(sys.path), "sys_argv": list(sys.argv)}
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if name:
        if name.endswith(".__main__"):
            name = name[: -len(".__main__")]
        data["main_name"] = name
    else:
        path = getattr(main, "__file__", None)
        if path:
            data["main_path"] = os.path.abspath(path)
    return data


_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from tubo._worker import main; main()")


def _interpreter_args():
    try:
        return subprocess._args_from_interpreter_flags()
    except Exception:
        return []


class Process:
    """A child process, with the API of ``multiprocessing.Process``.

    ``Process(target=f, args=(...))`` runs ``f(*args, **kwargs)`` in a new
    Python interpreter when ``start()`` is called (see the file comment);
    subclasses may override ``run()``. ``Command.spawn()`` returns a started
    Process for any program.
    """

    _INTERNAL = ("_handle", "_started", "_closed", "_exitcode")

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

    # Only what the child needs crosses over: not the handle.
    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._INTERNAL}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._handle, self._started, self._closed, self._exitcode = None, False, False, None

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
        pickler_box = []
        try:
            self._start(pickler_box)
        except BaseException:
            seen = pickler_box[0].connections if pickler_box else []
            for conn in _reachable_connections(self, [c for _, c in seen]):
                try:
                    conn.close()
                except Exception:
                    pass
            raise

    def _start(self, pickler_box):
        prep = pickle.dumps(_preparation_data(), protocol=pickle.HIGHEST_PROTOCOL)
        buf = io.BytesIO()
        pickler = _ArgPickler(buf)
        pickler_box.append(pickler)
        pickler.dump(self)  # before anything starts: an unpicklable argument fails here
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        boot_r, boot_w = Pipe(duplex=False)
        with boot_w:
            cmd = Command(sys.executable, *_interpreter_args(), "-c", _BOOTSTRAP, package_parent,
                          die_with_parent=bool(self.daemon))
            cmd.env_set("TUBO_LIBRARY", _lib.library_path)
            cmd.channel("tubo.boot", boot_r)
            for name, conn in pickler.connections:
                cmd.channel(name, conn)
            out = ctypes.c_void_p()
            _flush_std_streams()
            h = cmd._handle()
            try:
                call(_c.tubo_command_spawn, ctypes.byref(out), h)
            finally:
                cmd._cmd = None
                _c.tubo_command_free(h)
            self._adopt(out.value)
            try:
                boot_w.send_bytes(prep)
                boot_w.send_bytes(buf.getbuffer())
            except PeerClosedError:
                pass  # the child died at once; its exit code tells why

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
        return interruptible(self._wait_once, timeout_ms)

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
        self._wait(_timeout_ms(timeout))

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
        call(_c.tubo_process_set_stop_grace, h, _timeout_ms(grace))
        call(_c.tubo_process_set_stop_signal, h, signal)
        call(_c.tubo_process_set_stop_timeout, h, _timeout_ms(timeout))

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
        with _children_lock:
            _children.discard(self)
        _c.tubo_process_free(h)  # a child still running gets the stop sequence

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(_stop=True)

    def __del__(self):
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
