"""Connections: the ends of tubo pipes, with the API of
``multiprocessing.connection.Connection``.

    reader, writer = tubo.Pipe(duplex=False)
    writer.send_bytes(b"hello")
    writer.send({"n": 1})             # pickled, as multiprocessing does
    writer.close()                    # the reader sees EOF next
    reader.recv_bytes()               # b'hello'
    reader.recv()                     # {'n': 1}
    reader.recv()                     # raises EOFError

``send(obj)``/``recv()`` pickle exactly as CPython's ``Connection`` does
(``multiprocessing.reduction.ForkingPickler``), so a tubo end and a
``multiprocessing`` Connection exchange objects both ways; ``recv`` unpickles,
so receive objects only from a peer you trust.

Differences from ``multiprocessing`` (all deliberate):

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
  Using it later raises ``ClosedError`` naming who consumed it. Several
  writers on one pipe each get their own end: ``writer.dup()``.
- Framing errors are sticky (``TruncatedMessageError``, ``BadLengthError``,
  ``MessageTooLargeError`` above ``max_message_size``): a byte stream cannot
  be resynchronised, and every later receive raises the same error.

Sending is in ``tubo/_send.py``, receiving in ``tubo/_recv.py`` (the two
halves of the class); ``take_connection`` in ``tubo/channel.py``; ``wait`` in
``tubo/_wait.py``.

Thread-safety: a Connection may be used from any thread, but not by two at
once. Calls release the GIL while they block; in the main thread, blocking
waits are sliced so that signal handlers (Ctrl-C) still run, also while a
message is half arrived: the part received is kept, and the next receive
continues the same message (nothing is lost if the handler raises).
"""
import ctypes
import os

from tubo import _lib
from tubo._recv import Receiving
from tubo._send import Sending
from tubo.errors import ClosedError, InvalidArgumentError, call

_c = _lib.lib


class Connection(Sending, Receiving):
    """One end of a tubo pipe. Create them with ``Pipe()``, ``take_connection()``
    or ``Connection.adopt_fd()``; the constructor is internal."""

    __slots__ = ("_end", "_readable", "_writable", "_serr", "_serrp", "_rerr", "_rerrp", "_rlen",
                 "_rlenp", "_scratch", "_scratch_cap", "_consumed_by", "__weakref__")

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
        self._consumed_by = None  # who took the end (see _consume), for ClosedError's message

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
            if self._consumed_by is None:
                raise ClosedError("handle is closed")
            raise ClosedError(
                "this Connection was consumed by %s: an end goes to one process, and this one "
                "keeps no copy. To let several processes write to one pipe, give each its own "
                "end, made before the first start(): conn.dup()" % self._consumed_by)

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

    def _consume(self, by):
        """Gives the C handle away (to a call that consumes it); the connection
        becomes closed, and a later use says it was consumed ``by`` (a
        description such as ``"Command('w').channel('out')"``)."""
        self._check_closed()
        end, self._end = self._end, None
        self._consumed_by = by
        return end

    def dup(self):
        """A new Connection on the same pipe as this write-only one, for another
        writer: the idiom for several processes sending to one reader, since
        handing an end to a process consumes it.

            reader, writer = tubo.Pipe(duplex=False)
            workers = [tubo.Process(target=work, args=(writer.dup(),)) for _ in range(3)]
            writer.close()           # the reader's EOF comes when every copy is closed
            for w in workers:
                w.start()            # each consumes its own end

        The reader sees EOF once every end (this one and all duplicates) is
        closed, here or in the processes they were handed to. Whatever a send
        buffer holds is flushed first, so nothing sent before ``dup`` arrives
        after what the duplicate sends. The new end has the default settings
        (no send buffer). Messages of up to 4092 bytes (a frame of at most
        ``PIPE_BUF``, 4096 bytes, written in one system call) from several
        writers arrive whole; larger ones may interleave on the wire and
        break the framing: give such writers a pipe each (and ``tubo.wait``
        over the readers). Readable ends cannot be duplicated
        (``InvalidArgumentError``): a reader reads ahead, so two readers
        would split each other's messages. ``os.dup`` then
        ``tubo_end_adopt_fd``: the descriptor is close-on-exec, as every end's.
        """
        self._check_closed()
        if self._readable or not self._writable:
            raise InvalidArgumentError(
                "dup() duplicates write-only ends (Pipe(duplex=False)'s second end), not a %s "
                "one: a reader reads ahead, so two readers of one pipe would split each other's "
                "messages" % ("duplex" if self._readable and self._writable else "read-only"))
        self.flush()
        return Connection.adopt_fd(os.dup(self.fileno()), readable=False)

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

