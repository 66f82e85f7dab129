"""``wait``: one wait over connections (readable or writable), processes and
``BytesPool`` tasks, like ``multiprocessing.connection.wait``, on the C wait
set (epoll, pidfds and the tasks' eventfds).
"""
import ctypes

from tubo import _lib
from tubo.bytes_pool import PoolTask
from tubo._timeouts import interruptible, timeout_ms
from tubo.connection import Connection
from tubo.errors import call
from tubo.process import Process, process_of_sentinel

_c = _lib.lib


def wait(object_list, timeout=None, *, writable=()):
    """Waits until one or more of ``object_list`` is ready, like
    ``multiprocessing.connection.wait``; returns the ready ones (a list, empty
    after a timeout). ``timeout`` is in seconds, None waits forever.

    A Connection is ready when a receive would not block (a message or end of
    stream); a Process (or a Command's child), or its ``sentinel`` (an int,
    returned as given), when it has exited; a ``BytesPool`` task (``PoolTask``)
    when it is done (``result()`` returns at once). Built on the C wait set
    (epoll, pidfds, eventfds). Other objects are a TypeError.

    ``writable`` (keyword-only) lists sending Connections to watch for room:
    one is ready (and in the result) when a send can make progress without
    blocking, or when its readers are gone (a send then raises
    ``PeerClosedError``). Use it with ``try_send_bytes`` to feed several
    readers from one thread. A writable connection stays ready while it has
    room, so list only those with something to send. A Connection may not be
    listed both ways.
    """
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
            elif isinstance(obj, PoolTask):
                call(_c.tubo_wait_set_add_task, ws, obj._h, key)
            elif isinstance(obj, int) and process_of_sentinel(obj) is not None:
                call(_c.tubo_wait_set_add_process, ws, process_of_sentinel(obj)._c_handle(), key)
            else:
                raise TypeError("tubo.wait() takes Connections, Processes, Process.sentinel "
                                "values and BytesPool tasks, not %r" % (obj,))
        keys = (ctypes.c_uint64 * max(1, len(objects)))()
        count = ctypes.c_size_t()

        def wait_once(ms):
            call(_c.tubo_wait_set_wait, ctypes.byref(count), ws, keys, len(objects), ms)
            return count.value

        interruptible(wait_once, timeout_ms(timeout))
        ready = sorted(keys[i] for i in range(count.value))
        return [objects[k] for k in ready]
    finally:
        _c.tubo_wait_set_free(ws)
