"""Timeouts: seconds to the C ABI's milliseconds, and waits that let signal
handlers run. Internal; shared by connections, processes and ``wait``.

The C library retries EINTR, so a call blocked in C never returns to run a
Python signal handler. In the main thread (the only one that runs them) a
wait longer than ``SLICE_MS`` is made of slices of it, so Ctrl-C
(KeyboardInterrupt) or another handler's exception interrupts a blocked
receive, join or wait. Receives use the library's timed receive for this,
which keeps what arrived of a message when a slice ends, so a peer that stalls
mid-message cannot hold off a signal handler either.
"""
import math
import threading
import time

SLICE_MS = 100


def timeout_ms(timeout):
    """Seconds (float, None = forever) to the C ABI's milliseconds (negative = forever)."""
    if timeout is None:
        return -1
    if timeout <= 0:
        return 0
    return min(math.ceil(timeout * 1000), 2**62)


def slice_ms(deadline):
    """The next slice of a sliced wait: ``SLICE_MS``, or what is left until
    ``deadline`` (time.monotonic(); None: no deadline) if that is less."""
    if deadline is None:
        return SLICE_MS
    return max(0, min(SLICE_MS, math.ceil((deadline - time.monotonic()) * 1000)))


def interruptible(wait_once, total_ms):
    """Calls ``wait_once(ms)`` until it returns a true value or ``total_ms``
    (negative: forever) has passed; in the main thread, in slices of at most
    ``SLICE_MS``. Returns the last result."""
    if (0 <= total_ms <= SLICE_MS
            or threading.current_thread() is not threading.main_thread()):
        return wait_once(total_ms)
    deadline = None if total_ms < 0 else time.monotonic() + total_ms / 1000
    while True:
        result = wait_once(slice_ms(deadline))
        if result or (deadline is not None and time.monotonic() >= deadline):
            return result
