"""The receiving half of ``Connection`` (``tubo/connection.py``): ``recv_bytes``,
``recv_bytes_into``, ``poll`` and ``max_message_size``. Internal.

Blocking receives in the main thread are made of slices of the library's timed
receive (``tubo/_timeouts.py``), which keeps what arrived of a message, so
signal handlers run also while a message is half arrived.
"""
import ctypes
import threading
from multiprocessing.reduction import ForkingPickler  # what CPython's Connection.recv unpickles with

from tubo import _lib, _timeouts
from tubo._timeouts import SLICE_MS, interruptible
from tubo.errors import BufferTooShort, InvalidArgumentError, MessageTooLargeError, call, from_c

_c = _lib.lib

# The hot paths call these directly (no per-call wrapper objects); see
# Connection.__init__ for the per-connection out-parameters they reuse.
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


class Receiving:
    """The receive methods of ``Connection``, which holds the state they use
    (``_end``, ``_readable``, the out-parameters ``_rerr``/``_rlen``, the
    scratch buffer)."""

    __slots__ = ()

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
            rc = _recv_into_timeout(lenp, end, address, capacity, SLICE_MS, errp)
            while rc == _TIMEOUT:
                _error_free(self._rerr.value)
                rc = _recv_into_timeout(lenp, end, address, capacity, SLICE_MS, errp)
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
            self._check_closed()
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

    def recv(self):
        """Receives the next message and unpickles it, byte for byte as CPython's
        ``multiprocessing.connection.Connection.recv`` does
        (``ForkingPickler.loads``): the counterpart of ``send``, and of a
        ``multiprocessing`` Connection's ``send``.

        The message is received by ``recv_bytes()``, with its rules: at most
        ``max_message_size`` bytes (a larger one is a sticky
        ``MessageTooLargeError``), ``EOFError`` at end of stream,
        ``TruncatedMessageError`` if the writer died mid-message,
        ``ClosedError`` on a closed connection. Unpickling runs code chosen by
        the sender: receive objects only from a peer you trust. A message that
        is not a pickle raises what ``pickle.loads`` raises (it is consumed).
        """
        return ForkingPickler.loads(self.recv_bytes())

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
        timeout_ms = SLICE_MS if _current_thread() is _main_thread() else -1
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
            self._check_closed()
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
        return interruptible(self._poll_once, _timeouts.timeout_ms(timeout))

    def _poll_once(self, timeout_ms):
        ready = ctypes.c_int()
        call(_c.tubo_end_poll, ctypes.byref(ready), self._end, timeout_ms)
        return bool(ready.value)
