"""``declare_sigpipe_ignored``: the SIGPIPE declaration of the C library
(``tubo_declare_sigpipe_ignored``; tubo/sigpipe.h says more)."""
from tubo import _lib
from tubo.errors import call


def declare_sigpipe_ignored():
    """Declares that this process ignores SIGPIPE, so that sends to pipes skip
    the per-send signal-mask calls (a send to a pipe without readers still
    raises ``PeerClosedError``).

    CPython ignores SIGPIPE before running any Python code, so this succeeds
    unless the program set ``signal.signal(signal.SIGPIPE, signal.SIG_DFL)``;
    then it raises ``InvalidArgumentError`` and declares nothing. Not done at
    import: a program that restores the default disposition *after* declaring
    would be killed by its next send to a pipe without readers, so only the
    program can promise it keeps SIGPIPE ignored.
    """
    call(_lib.lib.tubo_declare_sigpipe_ignored)
