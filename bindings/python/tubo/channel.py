"""The worker side of the channel hand-off (contract 2, ``docs/channels.md``):
``take_connection``. The spawner's side is ``Command.channel``
(``tubo/command.py``).
"""
import ctypes
import os

from tubo import _lib
from tubo.connection import Connection
from tubo.errors import call

_c = _lib.lib

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
