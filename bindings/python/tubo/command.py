"""The exec start method: ``Command``, a builder for a program, its argv (no
shell), environment, working directory, stdio and channels (contract 2), as
``subprocess`` and the other languages of tubo have it.

    worker = (tubo.Command("./echo_worker")
              .channel("in", to_worker_r)       # consumed
              .channel("out", from_worker_w)    # consumed
              .spawn())                         # a started tubo.Process
    worker.join()

``Command`` has ``die_with_parent`` (off by default, as ``subprocess``) and
``new_process_group``, with ``Process.signal_group`` to stop a whole tree. A
``Command``'s child lives as long as its Process object (see ``spawn``).

Which to use when: a *channel* (``channel``) carries tubo's length-delimited
messages to a program that speaks them (``take_connection`` on its side);
``PIPE`` on a standard stream gives raw bytes, as ``subprocess`` does, for any
program that reads stdin and writes stdout and stderr as plain text or data
(``cat``, ``sh``, ...). A Connection given to a stdio setter is also raw
bytes for the child, but reading it with ``recv_bytes`` parses the child's
text as message headers: for plain output use ``PIPE``.

    p = tubo.Command("cat").stdin(tubo.PIPE).stdout(tubo.PIPE).spawn()
    p.stdin.write(b"hello")
    p.stdin.close()                   # the child sees end of file
    assert p.stdout.read() == b"hello"
    p.join()

C's ``tubo_command_new_self`` (re-exec into a registered C entry point) is not
exposed: for a Python program ``/proc/self/exe`` is the interpreter; see
``Process(target=...)`` (``tubo/process.py``) instead.
"""
import ctypes
import fcntl
import os
import subprocess
import sys

from tubo import _lib
from tubo.connection import Connection
from tubo.errors import SpawnError, call, refine_spawn_error
from tubo.process import Process

_c = _lib.lib

INHERIT = None
"""A child's stream is the parent's own (the default)."""
DEVNULL = subprocess.DEVNULL
"""A child's stream is /dev/null."""
PIPE = subprocess.PIPE
"""A child's stream is a new pipe whose other end the started Process exposes
as ``stdin``, ``stdout`` or ``stderr``: an ordinary binary file object, as with
``subprocess.Popen`` (raw bytes, no message framing)."""

_STREAM_NAMES = ("stdin", "stdout", "stderr")


def _dup_off_stdio(fd):
    """A close-on-exec duplicate of ``fd`` numbered 3 or above (never taking
    the place of a closed standard stream)."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _moved_off_stdio(fd):
    """``fd`` itself if it is 3 or above, else a close-on-exec duplicate
    numbered 3 or above (``fd`` is closed either way on success, left open on
    failure)."""
    if fd >= 3:
        return fd
    new = _dup_off_stdio(fd)
    os.close(fd)
    return new


def _stdio_pipe(stream):
    """A close-on-exec pipe off 0-2 for ``stream``: (the child's end, this
    process's end). Nothing is left open on failure."""
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        r = _moved_off_stdio(r)
        w = _moved_off_stdio(w)
    except BaseException:
        for fd in {r, w}:
            os.close(fd)
        raise
    return (r, w) if stream == _lib.STDIN else (w, r)


def _close_fds(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


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
        self._pipes = {}  # stream -> this process's end of a PIPE
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
        # A stream set again drops the pipe an earlier PIPE made for it.
        _close_fds([self._pipes.pop(stream)] if stream in self._pipes else [])
        if spec is INHERIT:
            call(_c.tubo_command_stdio_inherit, h, stream)
        elif isinstance(spec, Connection):
            by = "Command(%r).%s()" % (self._program, ("stdin", "stdout", "stderr")[stream])
            call(_c.tubo_command_stdio_end, h, stream, spec._consume(by))
        elif isinstance(spec, int):
            if spec == PIPE:
                child, mine = _stdio_pipe(stream)
                try:
                    call(_c.tubo_command_stdio_fd, h, stream, child)  # consumes child
                except BaseException:
                    os.close(mine)
                    raise
                self._pipes[stream] = mine
            elif spec == DEVNULL:
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
        """The child's stdin: ``INHERIT`` (None), ``DEVNULL``, ``PIPE`` (the
        started Process's ``stdin`` is a binary file object writing to it), a
        path (opened for reading), a descriptor or file object (duplicated),
        or a Connection (consumed; raw bytes: for plain data use ``PIPE``)."""
        return self._stdio(_lib.STDIN, spec)

    def stdout(self, spec):
        """The child's stdout; as ``stdin`` (a path is created or truncated;
        with ``PIPE`` the Process's ``stdout`` is a binary file object reading
        it)."""
        return self._stdio(_lib.STDOUT, spec)

    def stderr(self, spec):
        """The child's stderr; as ``stdout``."""
        return self._stdio(_lib.STDERR, spec)

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
        end = connection._consume("Command(%r).channel(%r)" % (self._program, name))
        call(_c.tubo_command_channel, h, _lib.encode(name, "channel name"), end)
        return self

    def spawn(self):
        """Starts the child and returns its (started) ``Process``, whose
        ``stdin``, ``stdout`` and ``stderr`` are binary file objects for the
        streams set to ``PIPE`` (None for the others), as with
        ``subprocess.Popen``; the child's ends of those pipes are closed here,
        so that closing ``stdin`` gives the child end of file and ``stdout``
        ends when the child (and whatever inherited it) has exited. Leaving a
        ``with`` block on the Process closes them too.

        Raises ``SpawnError`` naming the stage (chdir, dup2, exec, ...), the
        program and errno; for the errnos Python has a class for, it is also
        that class, with ``errno``, ``strerror`` and ``filename`` (the
        program, the directory, the stdio path): a missing program is a
        ``SpawnFileNotFoundError`` (a ``FileNotFoundError``), one that cannot
        be executed a ``SpawnPermissionError`` (a ``PermissionError``). The
        command's channels are closed here either way.

        Unlike ``Process(target=...).start()``, the child's lifetime is that
        of the returned object, as with tubo's C and C++ handles: once it is
        closed or garbage-collected, a child still running gets the stop
        sequence (see ``Process.set_stop_sequence``) and is reaped. Keep the
        object (and ``join()`` it) for as long as the child should run.
        """
        p = Process(name=self._program)
        pipes, self._pipes = self._pipes, {}
        try:
            handle = self._spawn_handle()
        except BaseException:
            _close_fds(pipes.values())
            raise
        p._adopt(handle, owned_by_module=False)
        for stream, fd in pipes.items():
            setattr(p, _STREAM_NAMES[stream], open(fd, "wb" if stream == _lib.STDIN else "rb"))
        return p

    def output(self):
        """Starts the child with stdout set to ``PIPE``, reads it to its end,
        waits for the child and returns ``(stdout bytes, exitcode)``: the
        simple case of ``subprocess.run(..., capture_output=True)``. A stdin
        set to ``PIPE`` is closed at once (the child reads end of file); a
        stderr set to ``PIPE`` is refused (``ValueError``), since reading one
        pipe to its end while the child fills the other would deadlock: give
        stderr a path, ``DEVNULL`` or ``INHERIT``. Raises what ``spawn``
        raises."""
        self._handle()
        if _lib.STDERR in self._pipes:
            raise ValueError("Command(%r).output(): stderr is PIPE; only stdout is read"
                             % self._program)
        self.stdout(PIPE)
        with self.spawn() as p:
            if p.stdin is not None:
                p.stdin.close()
            data = p.stdout.read()
            p.join()
            return data, p.exitcode

    def _spawn_handle(self):
        """Starts the child; returns its C process handle. The command is
        freed (and its channels closed) here either way."""
        h = self._handle()
        _flush_std_streams()
        out = ctypes.c_void_p()
        try:
            call(_c.tubo_command_spawn, ctypes.byref(out), h)
        except SpawnError as e:
            raise refine_spawn_error(e, self._program) from None
        finally:
            self._cmd = None
            _c.tubo_command_free(h)
        return out.value

    def __del__(self):
        pipes = getattr(self, "_pipes", None)
        if pipes:
            self._pipes = {}
            _close_fds(pipes.values())
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
