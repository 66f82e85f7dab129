"""Connections: the ends of tubo pipes, with the API of
``multiprocessing.connection.Connection`` (bytes only).

    reader, writer = tubo.Pipe(duplex=False)
    writer.send_bytes(b"hello")
    writer.close()                    # the reader sees EOF next
    reader.recv_bytes()               # b'hello'
    reader.recv_bytes()               # raises EOFError

Differences from ``multiprocessing`` (all deliberate):

- Bytes only: no ``send``/``recv`` of pickled objects (pickle the object
  yourself if you trust the peer).
- ``recv_bytes(maxlength)``: a longer message raises ``MessageTooLargeError``
  (an ``OSError``, as in CPython) but the message is *kept*: the connection
  stays usable and the next ``recv_bytes()`` returns it. CPython has to make
  the connection unusable because it has already consumed the header.
- ``recv_bytes_into(buf)`` follows CPython exactly: a message that does not
  fit raises ``multiprocessing.BufferTooShort`` whose ``args[0]`` is the whole
  message (so it is consumed). ``e.size`` is its length.
- A connection is *consumed* when it is handed to a child (``Process`` args,
  ``Command.channel``, ``Command.stdin``...): it is closed in this process at
  that moment, so the parent cannot keep a copy of a write end by mistake.
- Framing errors are sticky (``TruncatedMessageError``, ``BadLengthError``,
  ``MessageTooLargeError`` above ``max_message_size``): a byte stream cannot
  be resynchronised, and every later receive raises the same error.

Thread-safety: a Connection may be used from any thread, but not by two at
once. Calls release the GIL while they block; in the main thread, blocking
waits are sliced so that signal handlers (Ctrl-C) still run, also while a
message is half arrived: the part received is kept, and the next receive
continues the same message (nothing is lost if the handler raises).
"""
import ctypes
import math
import os
import threading
import time

from tubo import _lib
from tubo.errors import (BufferTooShort, ClosedError, InvalidArgumentError, MessageTooLargeError,
                         TuboTimeoutError, call, from_c)

_c = _lib.lib


def _timeout_ms(timeout):
    """Seconds (float, None = forever) to the C ABI's milliseconds (negative = forever)."""
    if timeout is None:
        return -1
    if timeout <= 0:
        return 0
    return min(math.ceil(timeout * 1000), 2**62)


# The C library retries EINTR, so a call blocked in C never returns to run a
# Python signal handler. In the main thread (the only one that runs them) a
# wait longer than this is made of slices of it, so Ctrl-C (KeyboardInterrupt)
# or another handler's exception interrupts a blocked receive, join or wait.
# Receives use the library's timed receive for this, which keeps what arrived
# of a message when a slice ends, so a peer that stalls mid-message cannot
# hold off a signal handler either.
_SLICE_MS = 100

# The hot paths call these directly (no per-call wrapper objects); see
# Connection.__init__ for the per-connection out-parameters they reuse.
_send = _c.tubo_end_send
_send_timeout = _c.tubo_end_send_timeout
_recv_into = _c.tubo_end_recv_into
_recv_into_timeout = _c.tubo_end_recv_into_timeout
_recv_timeout = _c.tubo_end_recv_timeout
_error_free = _c.tubo_error_free
_string_at = ctypes.string_at
_OK, _EOF, _TOO_SMALL, _TIMEOUT = _lib.OK, _lib.EOF, _lib.E_BUFFER_TOO_SMALL, _lib.E_TIMEOUT
_current_thread, _main_thread = threading.current_thread, threading.main_thread

# recv_bytes receives a message of up to this size into a per-connection
# buffer (grown on demand from _SCRATCH_MIN) and copies it out once; a larger
# one goes through tubo_end_recv (a library buffer, copied out once).
_SCRATCH_MIN = 4096
_SCRATCH_MAX = 64 << 10


def _slice_ms(deadline):
    """The next slice of a sliced wait: _SLICE_MS, or what is left until
    ``deadline`` (time.monotonic(); None: no deadline) if that is less."""
    if deadline is None:
        return _SLICE_MS
    return max(0, min(_SLICE_MS, math.ceil((deadline - time.monotonic()) * 1000)))


def interruptible(wait_once, timeout_ms):
    """Calls ``wait_once(ms)`` until it returns a true value or ``timeout_ms``
    (negative: forever) has passed; in the main thread, in slices of at most
    ``_SLICE_MS``. Returns the last result."""
    if (0 <= timeout_ms <= _SLICE_MS
            or threading.current_thread() is not threading.main_thread()):
        return wait_once(timeout_ms)
    deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
    while True:
        if deadline is None:
            slice_ms = _SLICE_MS
        else:
            slice_ms = max(0, min(_SLICE_MS, math.ceil((deadline - time.monotonic()) * 1000)))
        result = wait_once(slice_ms)
        if result or (deadline is not None and time.monotonic() >= deadline):
            return result


class Connection:
    """One end of a tubo pipe. Create them with ``Pipe()``, ``take_connection()``
    or ``Connection.adopt_fd()``; the constructor is internal."""

    __slots__ = ("_end", "_readable", "_writable", "_serr", "_serrp", "_rerr", "_rerrp", "_rlen",
                 "_rlenp", "_scratch", "_scratch_cap", "__weakref__")

    def __init__(self, _handle, _kind):
        self._end = _handle
        self._readable = _kind in (_lib.END_READ, _lib.END_DUPLEX)
        self._writable = _kind in (_lib.END_WRITE, _lib.END_DUPLEX)
        # Out-parameters of the hot calls, made once: building ctypes objects
        # and byref()s on every send and receive cost more than the system
        # calls. Sending and receiving have their own (a duplex connection
        # may send in one thread while another receives).
        self._serr = ctypes.c_void_p()
        self._serrp = ctypes.byref(self._serr)
        self._rerr = ctypes.c_void_p()
        self._rerrp = ctypes.byref(self._rerr)
        self._rlen = ctypes.c_size_t()
        self._rlenp = ctypes.byref(self._rlen)
        self._scratch = None  # created by the first recv_bytes
        self._scratch_cap = 0

    @classmethod
    def _adopt(cls, handle):
        if not handle:
            raise InvalidArgumentError("no end")
        return cls(handle, _c.tubo_end_kind_of(handle))

    @classmethod
    def adopt_fd(cls, fd, readable=True, writable=True):
        """A Connection that owns ``fd`` (a blocking pipe or socket descriptor
        carrying contract-1 frames), like ``multiprocessing.connection.Connection(fd, ...)``.

        ``fd`` is consumed: closed by the Connection, or at once if this fails.
        Readable and writable makes a duplex end (a socket).
        """
        fd = fd.__index__()
        if not readable and not writable:
            raise ValueError("at least one of `readable` and `writable` must be True")
        kind = (_lib.END_DUPLEX if readable and writable else
                _lib.END_READ if readable else _lib.END_WRITE)
        out = ctypes.c_void_p()
        call(_c.tubo_end_adopt_fd, ctypes.byref(out), fd, kind)
        return cls(out.value, kind)

    # -- state ---------------------------------------------------------------

    def _check_closed(self):
        if self._end is None:
            raise ClosedError("handle is closed")

    def _check_readable(self):
        if not self._readable:
            raise InvalidArgumentError("connection is write-only")

    def _check_writable(self):
        if not self._writable:
            raise InvalidArgumentError("connection is read-only")

    @property
    def closed(self):
        """True if the connection is closed (or was handed to a child)."""
        return self._end is None

    @property
    def readable(self):
        """True if the connection can receive."""
        return self._readable

    @property
    def writable(self):
        """True if the connection can send (False after ``close_write``)."""
        return self._writable

    def fileno(self):
        """The descriptor, borrowed: for ``select``/``poll`` only, never to read
        or write behind the connection's back (it may hold read-ahead bytes)."""
        self._check_closed()
        return _c.tubo_end_fd(self._end)

    @property
    def max_message_size(self):
        """The largest message this connection accepts (default 1 GiB); a larger
        header is a sticky ``MessageTooLargeError`` before anything is allocated."""
        self._check_closed()
        self._check_readable()
        return _c.tubo_end_max_message_size(self._end)

    @max_message_size.setter
    def max_message_size(self, value):
        self._check_closed()
        self._check_readable()
        call(_c.tubo_end_set_max_message_size, self._end, value)

    # -- sending -------------------------------------------------------------

    def send_bytes(self, buf, offset=0, size=None, *, timeout=None):
        """Sends ``buf[offset:offset + size]`` (any bytes-like object) as one message.

        Blocks until the message is written; the bytes are copied or written
        before it returns. Raises ``PeerClosedError`` (a ``BrokenPipeError``)
        if the readers are gone.

        ``timeout`` (keyword-only, seconds; None waits as long as it takes)
        bounds the wait for room: ``TimeoutError`` (``TuboTimeoutError``) is
        raised only when nothing of the message was written, so the same
        message may be sent again. Once part of it is written the message is
        committed: the connection keeps the rest and writes it before anything
        else (the next send, ``flush`` or ``close``); ``send_bytes`` returns
        when it is all written or, with a timeout, when the time is up
        (``unsent_bytes`` then says how much is still held).

        In the main thread the wait is made of slices of 0.1 s, so signal
        handlers (Ctrl-C's ``KeyboardInterrupt``) run even when the reader
        stalls. An exception raised by a handler leaves the message either not
        sent at all or committed, never torn or sent twice.
        """
        end = self._end
        if end is None:
            raise ClosedError("handle is closed")
        if not self._writable:
            raise InvalidArgumentError("connection is read-only")
        kind = type(buf)
        if offset == 0 and size is None and (kind is bytes or kind is bytearray) and buf:
            # The common case, without a memoryview: a bytes object is passed
            # as is (ctypes hands out its storage), a bytearray through a
            # c_char over its first byte (which pins it for the call).
            data = buf if kind is bytes else ctypes.byref(ctypes.c_char.from_buffer(buf))
            if timeout is None and _current_thread() is not _main_thread():
                rc = _send(end, data, len(buf), self._serrp)
                if rc < 0:
                    raise from_c(rc, self._serr.value)
                return
            self._send_sliced(data, len(buf), timeout)
            return
        self._with_window(buf, offset, size, lambda data, n: self._send_any(data, n, timeout))

    def try_send_bytes(self, buf, offset=0, size=None):
        """Sends ``buf[offset:offset + size]`` as one message without blocking.

        Returns True when the message was accepted: written whole, or
        committed (part of it was written; the connection keeps the rest and
        writes it before anything else, see ``send_bytes`` and
        ``unsent_bytes``). Returns False, with nothing of it written, when
        there is no room now: offer the same message again later, for example
        once ``tubo.wait(..., writable=[conn])`` reports it. A committed rest
        still held is finished first; if it cannot be, the message is not
        accepted. Raises ``PeerClosedError`` if the readers are gone.
        """
        self._check_closed()
        self._check_writable()
        return self._with_window(buf, offset, size, self._try_send_raw)

    def _try_send_raw(self, data, n):
        rc = _c.tubo_end_try_send(self._end, data, n, self._serrp)
        if rc == _TIMEOUT:
            _c.tubo_error_free(self._serr.value)
            return False
        if rc < 0:
            raise from_c(rc, self._serr.value)
        return True

    @property
    def unsent_bytes(self):
        """Bytes accepted but not yet written: the committed rest of a message
        (see ``send_bytes``) plus what the send buffer holds."""
        self._check_closed()
        return _c.tubo_end_unsent_bytes(self._end)

    def _with_window(self, buf, offset, size, send):
        """Calls ``send(data, n)`` with a C view of ``buf[offset:offset + size]``
        (checked like ``multiprocessing``'s ``send_bytes``); returns its result."""
        m = memoryview(buf)
        if m.itemsize > 1 or m.format != "B":
            m = m.cast("B") if m.c_contiguous else memoryview(m.tobytes())
        n = m.nbytes
        if offset < 0:
            raise ValueError("offset is negative")
        if n < offset:
            raise ValueError("buffer length < offset")
        if size is None:
            size = n - offset
        elif size < 0:
            raise ValueError("size is negative")
        elif offset + size > n:
            raise ValueError("buffer length < offset + size")
        if size == 0:
            return send(None, 0)
        obj = m.obj
        if type(obj) is bytes and m.nbytes == len(obj):
            # Borrow the bytes object's own storage: no copy.
            address = ctypes.cast(ctypes.c_char_p(obj), ctypes.c_void_p).value + offset
            return send(address, size)
        if not m.readonly and m.c_contiguous:
            window = (ctypes.c_char * size).from_buffer(m, offset)
            try:
                return send(ctypes.addressof(window), size)
            finally:
                del window
        data = m[offset:offset + size].tobytes()
        return send(data, size)

    def _send_any(self, data, n, timeout):
        if timeout is None and _current_thread() is not _main_thread():
            call(_c.tubo_end_send, self._end, data, n)
        else:
            self._send_sliced(data, n, timeout)

    def _send_sliced(self, data, n, timeout):
        """send_bytes in slices of at most _SLICE_MS (see its docstring)."""
        end = self._end
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        if timeout is None:
            capacity = _c.tubo_end_send_buffer_size(end)
            if capacity and n + 12 + _c.tubo_end_unsent_bytes(end) <= capacity:
                # Fits the send buffer: stored, which never blocks.
                rc = _send(end, data, n, self._serrp)
                if rc < 0:
                    raise from_c(rc, self._serr.value)
                return
        while True:
            rc = _send_timeout(end, data, n, _slice_ms(deadline), self._serrp)
            if rc == _TIMEOUT:
                _c.tubo_error_free(self._serr.value)
                if deadline is not None and time.monotonic() >= deadline:
                    raise TuboTimeoutError(
                        "send_bytes: timed out after %g s with nothing of the message written"
                        % timeout)
                continue  # signal handlers run between the slices
            if rc < 0:
                raise from_c(rc, self._serr.value)
            break
        # Accepted; a committed rest is written in slices too (interrupted,
        # it stays committed and goes out before anything else).
        while _c.tubo_end_unsent_bytes(end):
            ms = _slice_ms(deadline)
            if ms == 0:
                return  # out of time: committed
            rc = _c.tubo_end_flush_timeout(end, ms, self._serrp)
            if rc == _TIMEOUT:
                _c.tubo_error_free(self._serr.value)
            elif rc < 0:
                raise from_c(rc, self._serr.value)

    def flush(self, *, timeout=None):
        """Writes out what a send buffer holds (see ``send_buffer_size``) and
        the committed rest of a message (see ``send_bytes``).

        ``timeout`` (keyword-only, seconds; None waits as long as it takes, 0
        only tries) bounds the wait: ``TimeoutError`` if some is still held
        then (what was written stays written; ``unsent_bytes`` says the rest).
        """
        self._check_closed()
        self._check_writable()
        if timeout is None:
            call(_c.tubo_end_flush, self._end)
        else:
            call(_c.tubo_end_flush_timeout, self._end, _timeout_ms(timeout))

    @property
    def send_buffer_size(self):
        """Send buffer capacity in bytes; 0 (the default) sends every message at once.
        With a buffer, messages leave when it would overflow, on ``flush`` or ``close``."""
        self._check_closed()
        return _c.tubo_end_send_buffer_size(self._end)

    @send_buffer_size.setter
    def send_buffer_size(self, capacity):
        self._check_closed()
        self._check_writable()
        call(_c.tubo_end_set_send_buffer_size, self._end, capacity)

    def close_write(self):
        """Half-closes a duplex connection: the peer sees EOF, while its replies
        still arrive here. Afterwards ``writable`` is False."""
        self._check_closed()
        call(_c.tubo_end_close_write, self._end)
        self._writable = False

    # -- receiving -----------------------------------------------------------

    def _recv_into_raw(self, end, address, capacity):
        """``tubo_end_recv_into`` into ``capacity`` bytes at ``address``; the size
        stored or needed is left in ``self._rlen``. Returns the code: OK, EOF or
        BUFFER_TOO_SMALL (its error freed); raises for the others.

        In the main thread it waits in slices of the timed receive, so signal
        handlers run between them even in the middle of a message; the library
        keeps what arrived (also what a slice stored at ``address``), and the
        next receive continues the message."""
        lenp, errp = self._rlenp, self._rerrp
        if _current_thread() is not _main_thread():
            rc = _recv_into(lenp, end, address, capacity, errp)
        else:
            # The first try is also the fast path: one call when the message is there.
            rc = _recv_into_timeout(lenp, end, address, capacity, _SLICE_MS, errp)
            while rc == _TIMEOUT:
                _error_free(self._rerr.value)
                rc = _recv_into_timeout(lenp, end, address, capacity, _SLICE_MS, errp)
        if rc < 0:
            if rc == _TOO_SMALL:
                _error_free(self._rerr.value)
                return rc
            raise from_c(rc, self._rerr.value)
        return rc

    def recv_bytes(self, maxlength=None):
        """Receives the next message as ``bytes``; blocks until it has arrived.

        Raises ``EOFError`` at end of stream (again on every later call),
        ``TruncatedMessageError`` if the writer died mid-message. With
        ``maxlength``, a longer message raises ``MessageTooLargeError`` and
        stays unread. In the main thread a signal handler's exception
        (``KeyboardInterrupt``) interrupts the wait, also mid-message; what
        arrived is kept, and the next call returns the whole message.
        """
        end = self._end
        if end is None:
            raise ClosedError("handle is closed")
        if not self._readable:
            raise InvalidArgumentError("connection is write-only")
        if maxlength is None:
            return self._recv_fast(end)
        if maxlength < 0:
            raise ValueError("negative maxlength")
        rc = self._recv_into_raw(end, None, 0)
        if rc == _EOF:
            raise EOFError
        if rc == _OK:
            return b""  # an empty message, received
        needed = self._rlen.value
        if needed > maxlength:
            raise MessageTooLargeError(
                "bad message length: %d bytes, maxlength %d (the message is kept)"
                % (needed, maxlength))
        return self._recv_new()

    def _recv_fast(self, end):
        """recv_bytes() without maxlength: one receive into the connection's
        buffer and one copy out for messages up to _SCRATCH_MAX; larger ones
        (whose header that receive has read) through tubo_end_recv."""
        scratch = self._scratch
        if scratch is None:
            self._scratch_cap = _SCRATCH_MIN
            scratch = self._scratch = ctypes.create_string_buffer(_SCRATCH_MIN)
        rc = self._recv_into_raw(end, scratch, self._scratch_cap)
        if rc == _OK:
            n = self._rlen.value
            return _string_at(scratch, n) if n else b""
        if rc == _EOF:
            raise EOFError
        needed = self._rlen.value  # too small: the header is read, the message is next
        if needed > _SCRATCH_MAX:
            return self._recv_new()
        cap = self._scratch_cap
        while cap < needed:
            cap *= 2
        self._scratch, self._scratch_cap = None, 0
        scratch = self._scratch = ctypes.create_string_buffer(cap)
        self._scratch_cap = cap
        rc = self._recv_into_raw(end, scratch, cap)
        if rc == _OK:
            return _string_at(scratch, self._rlen.value)
        if rc == _EOF:
            raise EOFError
        raise AssertionError("a pending message of %d bytes did not fit %d" % (needed, cap))

    def _recv_new(self):
        """The next message through tubo_end_recv (a library buffer that grows
        with the bytes that arrive), in slices in the main thread as
        ``_recv_into_raw`` does."""
        end = self._end
        out = ctypes.POINTER(_lib.Bytes)()
        outp = ctypes.byref(out)
        err = ctypes.c_void_p()
        errp = ctypes.byref(err)
        timeout_ms = _SLICE_MS if _current_thread() is _main_thread() else -1
        rc = _recv_timeout(outp, end, timeout_ms, errp)
        while rc == _TIMEOUT:
            _error_free(err.value)
            rc = _recv_timeout(outp, end, timeout_ms, errp)
        if rc < 0:
            raise from_c(rc, err.value)
        if rc == _EOF:
            raise EOFError
        try:
            b = out.contents
            return ctypes.string_at(b.data, b.len) if b.len else b""
        finally:
            _c.tubo_bytes_free(out)

    def recv_bytes_into(self, buf, offset=0):
        """Receives the next message into the writable buffer ``buf`` at byte
        ``offset``; returns its size in bytes.

        Like CPython: a message that does not fit raises
        ``multiprocessing.BufferTooShort`` with the whole message as
        ``args[0]`` (and ``size``, its length); it is consumed. ``EOFError`` at
        end of stream. Interrupted by a signal handler's exception, it keeps
        what arrived as ``recv_bytes`` does (``buf`` may then hold part of it).
        """
        end = self._end
        if end is None:
            raise ClosedError("handle is closed")
        self._check_readable()
        with memoryview(buf) as view:
            if view.readonly:
                raise TypeError("recv_bytes_into needs a writable buffer")
            bytesize = view.nbytes
            if offset < 0:
                raise ValueError("negative offset")
            if offset > bytesize:
                raise ValueError("offset too large")
            if not view.c_contiguous:
                raise ValueError("recv_bytes_into needs a contiguous buffer")
            m = view.cast("B") if view.format != "B" or view.ndim != 1 else view
            try:
                capacity = bytesize - offset
                window = (ctypes.c_char * capacity).from_buffer(m, offset) if capacity else None
                try:
                    rc = self._recv_into_raw(
                        end, ctypes.addressof(window) if window is not None else None, capacity)
                finally:
                    del window
            finally:
                if m is not view:
                    m.release()
        if rc == _EOF:
            raise EOFError
        if rc == _TOO_SMALL:
            message = self._recv_new()
            e = BufferTooShort(message)
            e.size = len(message)
            raise e
        return self._rlen.value

    def poll(self, timeout=0.0):
        """True if a receive can make progress without waiting (a message, or
        end of stream; part of a message kept after an interrupted receive
        counts only once more of it arrives). Waits up to ``timeout``
        seconds; None waits forever."""
        self._check_closed()
        self._check_readable()
        return interruptible(self._poll_once, _timeout_ms(timeout))

    def _poll_once(self, timeout_ms):
        ready = ctypes.c_int()
        call(_c.tubo_end_poll, ctypes.byref(ready), self._end, timeout_ms)
        return bool(ready.value)

    # -- closing -------------------------------------------------------------

    def close(self):
        """Flushes and closes the connection; closing a closed one does nothing.
        Closing the last write end makes the readers see EOF."""
        end, self._end = self._end, None
        if end is None:
            return
        try:
            call(_c.tubo_end_close, end)
        finally:
            _c.tubo_end_free(end)

    def _consume(self):
        """Gives the C handle away (to a call that consumes it); the connection becomes closed."""
        self._check_closed()
        end, self._end = self._end, None
        return end

    def __del__(self):
        # A backstop for a connection nobody closed: free it (flush errors ignored).
        end = getattr(self, "_end", None)
        if end is not None:
            self._end = None
            try:
                _c.tubo_end_free(end)
            except Exception:  # interpreter shutdown: the module may be half gone
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        raise TypeError(
            "a tubo Connection can only be handed to a child: pass it in Process(args=...) or "
            "Command.channel(), which consume it")

    def __repr__(self):
        if self._end is None:
            return "<tubo.Connection closed>"
        mode = ("r" if self._readable else "") + ("w" if self._writable else "")
        return "<tubo.Connection fd=%d mode=%s>" % (_c.tubo_end_fd(self._end), mode)


def Pipe(duplex=True):
    """Returns a pair ``(conn1, conn2)`` of connected Connections, like
    ``multiprocessing.Pipe``.

    ``duplex=True``: both ends send and receive (a socket pair).
    ``duplex=False``: ``conn1`` only receives and ``conn2`` only sends (a pipe).
    """
    first, second = ctypes.c_void_p(), ctypes.c_void_p()
    if duplex:
        call(_c.tubo_duplex_pipe_new, ctypes.byref(first), ctypes.byref(second))
        return (Connection(first.value, _lib.END_DUPLEX), Connection(second.value, _lib.END_DUPLEX))
    call(_c.tubo_pipe_new, ctypes.byref(first), ctypes.byref(second))
    return Connection(first.value, _lib.END_READ), Connection(second.value, _lib.END_WRITE)


_TAKE = {"r": "tubo_channel_take_read_end", "w": "tubo_channel_take_write_end",
         "rw": "tubo_channel_take_duplex_end"}


def _mode_from_environment(name):
    for entry in os.environ.get("TUBO_CHANNELS", "").split(","):
        parts = entry.split(":")
        if len(parts) == 3 and parts[0] == name:
            return parts[2]
    return "r"  # let the library report a missing or malformed channel


def take_connection(name, mode=None):
    """Worker side of contract 2: takes the channel ``name`` that the spawner
    passed (``TUBO_CHANNELS``), as a Connection.

    ``mode`` is ``"r"``, ``"w"`` or ``"rw"``; it must match what the spawner
    passed. None takes the mode from ``TUBO_CHANNELS``. Each name can be taken
    once per process. Raises ``ChannelError`` if the variable is malformed, the
    name is missing or taken, the mode does not match, or the fd is not open.
    """
    if mode is None:
        mode = _mode_from_environment(name)
    if mode not in _TAKE:
        raise ValueError("mode must be 'r', 'w' or 'rw', not %r" % (mode,))
    out = ctypes.c_void_p()
    call(getattr(_c, _TAKE[mode]), ctypes.byref(out), _lib.encode(name, "channel name"))
    return Connection._adopt(out.value)


def wait(object_list, timeout=None, *, writable=()):
    """Waits until one or more of ``object_list`` is ready, like
    ``multiprocessing.connection.wait``; returns the ready ones (a list, empty
    after a timeout). ``timeout`` is in seconds, None waits forever.

    A Connection is ready when a receive would not block (a message or end of
    stream); a Process (or a Command's child) when it has exited. Built on the
    C wait set (epoll and pidfds). Other objects are a TypeError.

    ``writable`` (keyword-only) lists sending Connections to watch for room:
    one is ready (and in the result) when a send can make progress without
    blocking, or when its readers are gone (a send then raises
    ``PeerClosedError``). Use it with ``try_send_bytes`` to feed several
    readers from one thread. A writable connection stays ready while it has
    room, so list only those with something to send. A Connection may not be
    listed both ways.
    """
    from tubo.process import Process  # circular at import time
    objects = list(object_list)
    readable_count = len(objects)
    for obj in writable:
        if not isinstance(obj, Connection):
            raise TypeError("tubo.wait(writable=...) takes Connections, not %s"
                            % type(obj).__name__)
        objects.append(obj)
    ws = ctypes.c_void_p()
    call(_c.tubo_wait_set_new, ctypes.byref(ws))
    try:
        for key, obj in enumerate(objects):
            if key >= readable_count:
                obj._check_closed()
                call(_c.tubo_wait_set_add_end_writable, ws, obj._end, key)
            elif isinstance(obj, Connection):
                obj._check_closed()
                call(_c.tubo_wait_set_add_end, ws, obj._end, key)
            elif isinstance(obj, Process):
                call(_c.tubo_wait_set_add_process, ws, obj._c_handle(), key)
            else:
                raise TypeError("tubo.wait() takes Connections and Processes, not %s"
                                % type(obj).__name__)
        keys = (ctypes.c_uint64 * max(1, len(objects)))()
        count = ctypes.c_size_t()

        def wait_once(timeout_ms):
            call(_c.tubo_wait_set_wait, ctypes.byref(count), ws, keys, len(objects), timeout_ms)
            return count.value

        interruptible(wait_once, _timeout_ms(timeout))
        ready = sorted(keys[i] for i in range(count.value))
        return [objects[k] for k in ready]
    finally:
        _c.tubo_wait_set_free(ws)
