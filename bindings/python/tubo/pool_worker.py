"""The worker side of the pool protocol (contract 4, ``docs/contracts.md``):
``serve_pool_tasks``. The pool's side is ``tubo.BytesPool`` and ``tubo.Pool``.

    import tubo

    def upper(task):
        return task.upper()

    if __name__ == "__main__":
        tubo.serve_pool_tasks(upper)   # a worker for tubo.BytesPool([sys.executable, __file__])

Pure Python over two Connections: ``tasks`` (read) and ``results`` (write),
taken by contract 2. Every frame is one message: a task is an 8-byte
big-endian id then the task's bytes; a result is the id, a status byte (0
done, 1 failed with a UTF-8 message, 2 ready) and the body.
"""
import struct

from tubo.channel import take_connection

_HEADER = struct.Struct(">QB")
_ID = struct.Struct(">Q")
_DONE, _FAILED, _READY = 0, 1, 2


def _message_of(exc):
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def serve_pool_tasks(fn, *, tasks=None, results=None):
    """Serves pool tasks with ``fn`` until the pool closes this worker's
    ``tasks`` channel; returns 0, the worker's exit code for that case.

    ``fn(task)`` takes a task's bytes and returns its result (bytes or any
    bytes-like object). An ``Exception`` it raises fails that task with the
    message ``"TypeName: text"`` (the pool raises ``TaskFailedError`` with
    it) and the worker goes on; a ``BaseException`` that is not an
    ``Exception`` (``SystemExit``, ``KeyboardInterrupt``) propagates, so the
    worker ends and the pool blames that task (``WorkerDiedError``).

    The channels ``tasks`` and ``results`` are taken (``take_connection``)
    unless Connections are given. The ready frame is sent first, so do any
    slow set-up before calling this: a worker that dies before it is ready
    is a start failure, not a task's. Tasks are run one at a time, in the
    order they arrive, and each result is sent before the next task starts.

    Raises ``ChannelError`` if the channels are missing, a framing error
    (``TruncatedMessageError``, ...) if the pool's stream is corrupt, and
    ``ValueError`` for a task frame shorter than its 8-byte id or with id 0.
    """
    if tasks is None:
        tasks = take_connection("tasks", "r")
    if results is None:
        results = take_connection("results", "w")
    with tasks, results:
        results.send_bytes(_HEADER.pack(0, _READY))
        pack = _HEADER.pack
        while True:
            try:
                frame = tasks.recv_bytes()
            except EOFError:
                return 0
            if len(frame) < 8:
                raise ValueError("pool task frame of %d bytes: shorter than its 8-byte id"
                                 % len(frame))
            (task_id,) = _ID.unpack_from(frame)
            if task_id == 0:
                raise ValueError("pool task frame with id 0 (contract 4: a task id is never 0)")
            try:
                body = fn(frame[8:])
                out = pack(task_id, _DONE) + bytes(body)
            except Exception as e:
                out = pack(task_id, _FAILED) + _message_of(e).encode("utf-8", "replace")
            results.send_bytes(out)
