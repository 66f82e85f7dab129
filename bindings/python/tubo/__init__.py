"""tubo for Python: pipes, processes and byte messages over libtubo.so.1
(ctypes, no extension module), with the names of ``multiprocessing``.

    import tubo

    def produce(out):
        for i in range(3):
            out.send_bytes(b"item %d" % i)

    if __name__ == "__main__":
        reader, writer = tubo.Pipe(duplex=False)
        p = tubo.Process(target=produce, args=(writer,))   # writer is consumed
        p.start()
        try:
            while True:
                print(reader.recv_bytes())
        except EOFError:                  # the child's end closed when it exited
            pass
        p.join()

- ``Pipe``, ``Connection`` (``send_bytes`` with an optional ``timeout``,
  ``try_send_bytes``, ``recv_bytes``, ``recv_bytes_into``, ``poll``, ``close``,
  ``fileno``, ``close_write``): ``tubo/connection.py`` (sending in
  ``tubo/_send.py``, receiving in ``tubo/_recv.py``).
- ``wait`` (also for writability): ``tubo/_wait.py``.
- ``Process`` (a Python function in a new interpreter; ``sentinel``,
  ``current_process()`` as in ``multiprocessing``): ``tubo/process.py``;
  how it starts: ``tubo/_spawn.py`` and, in the child, ``tubo/_worker.py``.
- ``Command`` (the exec start method), ``DEVNULL``, ``INHERIT``, ``PIPE``:
  ``tubo/command.py``.
- ``take_connection``, the worker side of contract 2: ``tubo/channel.py``.
- ``Pool`` (``multiprocessing.Pool``'s API; a worker that dies fails only
  its own task, ``WorkerDiedError``): ``tubo/pool.py``;
  ``ProcessPoolExecutor`` (``concurrent.futures``'): ``tubo/futures.py``;
  both over ``BytesPool`` (the C pool for byte tasks, ``PoolTask``):
  ``tubo/bytes_pool.py``. ``serve_pool_tasks``, the worker side of the pool
  protocol (contract 4): ``tubo/pool_worker.py``.
- Exceptions, one per C error code: ``tubo/errors.py``. End of stream is
  ``EOFError``.
- The C ABI's functions and codes, declared to ctypes: ``tubo/_lib.py``;
  shared timeouts and sliced waits: ``tubo/_timeouts.py``.

The library is found through ``$TUBO_LIBRARY``, then next to this package,
then the system loader; its major version is checked at import.
"""
from tubo import _lib
from tubo._sigpipe import declare_sigpipe_ignored
from tubo._wait import wait
from tubo.bytes_pool import BytesPool, PoolTask
from tubo.channel import take_connection
from tubo.command import DEVNULL, INHERIT, PIPE, Command
from tubo.connection import Connection, Pipe
from tubo.errors import (BadLengthError, BufferTooShort, BufferTooSmallError, CancelledError,
                         ChannelError, ClosedError, InvalidArgumentError, MessageTooLargeError,
                         NoMemoryError, PeerClosedError, SpawnError, SpawnFileNotFoundError,
                         SpawnNotADirectoryError, SpawnPermissionError, SystemCallError,
                         TaskFailedError, TruncatedMessageError, TuboError, TuboTimeoutError,
                         WorkerDiedError)
from tubo.futures import ProcessPoolExecutor
from tubo.pool import AsyncResult, Pool
from tubo.pool_worker import serve_pool_tasks
from tubo.process import Process, active_children, current_process

__version__ = "1.2.0"
library_version = _lib.version()
"""The loaded libtubo's version string."""
library_path = _lib.library_path
"""How libtubo.so.1 was found (a path, or the soname for the system loader)."""

__all__ = [
    "AsyncResult", "BadLengthError", "BufferTooShort", "BufferTooSmallError", "BytesPool",
    "CancelledError", "ChannelError", "ClosedError",
    "Command", "Connection", "DEVNULL", "INHERIT", "InvalidArgumentError",
    "MessageTooLargeError", "NoMemoryError", "PeerClosedError", "PIPE", "Pipe", "Pool",
    "PoolTask", "Process", "ProcessPoolExecutor",
    "SpawnError", "SpawnFileNotFoundError", "SpawnNotADirectoryError", "SpawnPermissionError",
    "SystemCallError", "TaskFailedError", "TruncatedMessageError", "TuboError", "TuboTimeoutError",
    "WorkerDiedError",
    "active_children", "current_process", "declare_sigpipe_ignored", "serve_pool_tasks",
    "take_connection", "wait",
]
