"""The sending half of ``Connection`` (``tubo/connection.py``): ``send_bytes``,
``try_send_bytes``, ``flush``, the send buffer and ``close_write``. Internal.

Blocking sends in the main thread are made of slices (``tubo/_timeouts.py``),
so signal handlers run while a reader stalls.
"""
import ctypes
import threading
import time
from multiprocessing.reduction import ForkingPickler  # what CPython's Connection.send pickles with

from tubo import _lib, _timeouts
from tubo._timeouts import slice_ms
from tubo.errors import InvalidArgumentError, TuboTimeoutError, call, from_c

_c = _lib.lib

# The hot paths call these directly (no per-call wrapper objects); see
# Connection.__init__ for the per-connection out-parameters they reuse.
_send = _c.tubo_end_send
_send_timeout = _c.tubo_end_send_timeout
_TIMEOUT = _lib.E_TIMEOUT
_current_thread, _main_thread = threading.current_thread, threading.main_thread


class Sending:
    """The send methods of ``Connection``, which holds the state they use
    (``_end``, ``_writable``, the out-parameters ``_serr``/``_serrp``)."""

    __slots__ = ()

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
            self._check_closed()
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

    def send(self, obj, *, timeout=None):
        """Sends a picklable object as one message, byte for byte as CPython's
        ``multiprocessing.connection.Connection.send`` does: the message is
        ``multiprocessing.reduction.ForkingPickler.dumps(obj)``, so a
        ``multiprocessing`` Connection's ``recv()`` (or this class's) rebuilds it.

        Only send objects to a peer you trust: ``recv`` unpickles, and
        unpickling can run arbitrary code. A tubo Connection cannot itself be
        sent (``TypeError``): hand it to a child through ``Process`` args.
        The rest is ``send_bytes``: the same errors (``PeerClosedError``, a
        ``BrokenPipeError``, when the readers are gone; ``ClosedError``), and
        ``timeout`` as there.
        """
        self._check_closed()
        self._check_writable()
        self.send_bytes(ForkingPickler.dumps(obj), timeout=timeout)

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
        """send_bytes in slices of at most SLICE_MS (see its docstring)."""
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
            rc = _send_timeout(end, data, n, slice_ms(deadline), self._serrp)
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
            ms = slice_ms(deadline)
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
            call(_c.tubo_end_flush_timeout, self._end, _timeouts.timeout_ms(timeout))

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
