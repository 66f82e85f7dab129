"""Cross-language pool matrix, worker "Python binding": a pool worker
(contract 4) over tubo.serve_pool_tasks, serving the task language of
tests/pool/workers.h that the matrix uses: "echo X" returns X, "fail MSG"
fails with MSG (serve_pool_tasks prefixes the exception's type), "kill X"
SIGKILLs the worker; anything else fails with "unknown task".

CLI:  pool_worker.py   (run by a pool with the exec start method)
"""
import os
import signal
import sys

import tubo


class TaskFailed(Exception):
    """A task the convention fails."""


def run(task):
    op, _, arg = task.partition(b" ")
    if op == b"echo":
        return arg
    if op == b"fail":
        raise TaskFailed(arg.decode("utf-8", "replace"))
    if op == b"kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise TaskFailed("unknown task %r" % task[:40])


if __name__ == "__main__":
    sys.exit(tubo.serve_pool_tasks(run))
