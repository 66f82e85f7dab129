"""Exceptions: one class per C error code (``tubo_code`` in capi/tubo_common.h).

Every class derives from ``TuboError``, itself an ``OSError`` (what
``multiprocessing.connection`` raises for I/O trouble), and carries ``code``
(the negative ``TUBO_E_*`` value) and ``code_name`` (``"truncated"``, ...).
An error caused by a failed system call also has ``errno`` and ``strerror``
(``tubo_error_errno``): ``errno.EPIPE`` for a send whose readers are gone.
Where a builtin says the same thing, the class derives from it too, so
``except BrokenPipeError`` or ``except TimeoutError`` work as expected.

End of stream is not an error: receiving raises the builtin ``EOFError``, as
``multiprocessing`` does.
"""
import builtins
import ctypes
import errno
import os
import re
from multiprocessing import BufferTooShort  # the very class, so `except` clauses match

from tubo import _lib


class TuboError(OSError):
    """A failed tubo call: ``code`` is the C code, ``str()`` the library's message."""

    code = _lib.E_OTHER

    def __init__(self, message, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def code_name(self):
        return _lib.lib.tubo_code_name(self.code).decode()

    def __str__(self):
        return self.args[0] if self.args else ""

    def __reduce__(self):
        return (type(self), (self.args[0] if self.args else "", self.code))


class InvalidArgumentError(TuboError, ValueError):
    """TUBO_E_INVALID_ARGUMENT: a bad argument, or the wrong kind of end."""
    code = _lib.E_INVALID_ARGUMENT


class SystemCallError(TuboError):
    """TUBO_E_SYSTEM: a system call failed; ``errno`` is its errno (the message has its text)."""
    code = _lib.E_SYSTEM


class ClosedError(TuboError):
    """TUBO_E_CLOSED: the connection or process handle is closed (or detached)."""
    code = _lib.E_CLOSED


class TruncatedMessageError(TuboError):
    """TUBO_E_TRUNCATED: end of stream inside a message (the writer died mid-message). Sticky."""
    code = _lib.E_TRUNCATED


class BadLengthError(TuboError):
    """TUBO_E_BAD_LENGTH: a frame header with a negative length other than -1. Sticky."""
    code = _lib.E_BAD_LENGTH


class MessageTooLargeError(TuboError):
    """TUBO_E_TOO_LARGE: a message above the connection's ``max_message_size``
    (sticky), or above ``recv_bytes(maxlength)`` (not sticky: the message is kept)."""
    code = _lib.E_TOO_LARGE


class PeerClosedError(TuboError, BrokenPipeError):
    """TUBO_E_PEER_CLOSED: a send to a connection whose readers are all gone."""
    code = _lib.E_PEER_CLOSED


class TuboTimeoutError(TuboError, builtins.TimeoutError):
    """TUBO_E_TIMEOUT: a deadline passed."""
    code = _lib.E_TIMEOUT


class SpawnError(TuboError):
    """TUBO_E_SPAWN: starting a process failed; the message names stage, program and errno."""
    code = _lib.E_SPAWN


class SpawnFileNotFoundError(SpawnError, FileNotFoundError):
    """A ``SpawnError`` for ENOENT (a missing program, or working directory, or
    stdio path): also a ``FileNotFoundError``, with ``errno`` and ``filename``."""


class SpawnPermissionError(SpawnError, PermissionError):
    """A ``SpawnError`` for EACCES or EPERM (a program that is not executable,
    a directory): also a ``PermissionError``, with ``errno`` and ``filename``."""


class SpawnNotADirectoryError(SpawnError, NotADirectoryError):
    """A ``SpawnError`` for ENOTDIR: also a ``NotADirectoryError``, with ``errno`` and ``filename``."""


_SPAWN_BY_ERRNO = {errno.ENOENT: SpawnFileNotFoundError, errno.EACCES: SpawnPermissionError,
                   errno.EPERM: SpawnPermissionError, errno.ENOTDIR: SpawnNotADirectoryError}
# The C message is `spawn "PROGRAM": STAGE: STRERROR` (capi/tubo_command.h):
# the stage names the file the errno is about.
_SPAWN_STAGE = re.compile(r': (?:(?P<exec>exec)|chdir "(?P<dir>.*)"|open \w+ "(?P<path>.*)"|[^:]*)'
                          r': [^:]*$', re.S)


def refine_spawn_error(e, program):
    """The ``SpawnError`` ``e`` as the class Python users expect for its
    ``errno`` (``SpawnFileNotFoundError``, ...: still a ``SpawnError``), with
    ``errno``, ``strerror`` and ``filename`` (the program for exec, the
    directory for chdir, the path for a stdio file; None for another stage).
    ``e`` itself when no system call's errno caused it."""
    if not e.errno:
        return e
    refined = _SPAWN_BY_ERRNO.get(e.errno, SpawnError)(str(e))
    refined.errno, refined.strerror = e.errno, e.strerror
    m = _SPAWN_STAGE.search(str(e))
    if m:
        refined.filename = program if m.group("exec") else m.group("dir") or m.group("path")
    return refined


class ChannelError(TuboError):
    """TUBO_E_CHANNEL: a worker channel is malformed, missing, taken, of the wrong mode, or not open."""
    code = _lib.E_CHANNEL


class WorkerDiedError(TuboError):
    """TUBO_E_WORKER_DIED: the pool worker running the task died (the message names the task,
    the worker's pid and its exit status or signal)."""
    code = _lib.E_WORKER_DIED


class TaskFailedError(TuboError):
    """TUBO_E_TASK_FAILED: the pool worker reported the task as failed (its message)."""
    code = _lib.E_TASK_FAILED


class CancelledError(TuboError):
    """TUBO_E_CANCELLED: the task was cancelled before it started, or its pool terminated."""
    code = _lib.E_CANCELLED


class BufferTooSmallError(TuboError):
    """TUBO_E_BUFFER_TOO_SMALL (not raised by this binding: ``recv_bytes_into`` raises
    ``BufferTooShort`` like ``multiprocessing``)."""
    code = _lib.E_BUFFER_TOO_SMALL


class NoMemoryError(TuboError, MemoryError):
    """TUBO_E_NO_MEMORY: memory ran out."""
    code = _lib.E_NO_MEMORY


_BY_CODE = {cls.code: cls for cls in (
    TuboError, InvalidArgumentError, SystemCallError, ClosedError, TruncatedMessageError,
    BadLengthError, MessageTooLargeError, PeerClosedError, TuboTimeoutError, SpawnError,
    ChannelError, WorkerDiedError, TaskFailedError, CancelledError, BufferTooSmallError,
    NoMemoryError)}


def error_class(code):
    """The exception class for a ``TUBO_E_*`` code (``TuboError`` for an unknown one)."""
    return _BY_CODE.get(code, TuboError)


def from_c(code, err):
    """The exception for a failed call's return code and its ``tubo_error *`` (freed here)."""
    try:
        message = _lib.lib.tubo_error_message(err).decode(errors="replace") if err else ""
        number = _lib.lib.tubo_error_errno(err) if err else 0
        if err:
            code = _lib.lib.tubo_error_code(err) or code
    finally:
        _lib.lib.tubo_error_free(err)
    e = from_code(code, message)
    if number:
        e.errno, e.strerror = number, os.strerror(number)
    return e


def from_code(code, message):
    """The exception for a ``TUBO_E_*`` code and its message (the code's
    name if the message is empty)."""
    if not message:
        message = _lib.lib.tubo_code_name(code).decode()
    cls = error_class(code)
    return cls(message, code) if cls is TuboError else cls(message)


def call(fn, *args):
    """Calls a fallible C function whose last parameter is ``tubo_error **``.

    Returns the non-negative code (``OK`` or ``EOF``); raises the mapped
    exception for a negative one.
    """
    err = ctypes.c_void_p()
    rc = fn(*args, ctypes.byref(err))
    if rc < 0:
        raise from_c(rc, err.value)
    if err.value:  # not expected on success; never leak it
        _lib.lib.tubo_error_free(err.value)
    return rc


__all__ = [c.__name__ for c in _BY_CODE.values()] + [
    "BufferTooShort", "SpawnFileNotFoundError", "SpawnNotADirectoryError", "SpawnPermissionError"]
