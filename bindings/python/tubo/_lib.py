"""Loads libtubo.so.1, declares the C ABI to ctypes, and maps its errors.

Internal: the public names are in ``tubo/__init__.py``.

Where the library comes from, first match wins:

1. ``$TUBO_LIBRARY``: a path to ``libtubo.so.1`` (or to any build of the same
   major version). If it is set and cannot be loaded, import fails: a set
   variable is never silently ignored.
2. ``libtubo.so.1`` next to this file, inside the ``tubo`` package: where
   ``pip install`` puts the library it builds (with the abseil libraries it
   links, found through its ``$ORIGIN`` rpath), and where Bazel's
   ``//bindings/python:tubo`` copies its own build.
3. The system loader (``ld.so.cache``, ``LD_LIBRARY_PATH``), e.g. after
   ``tools/install --prefix /usr/local``.

The library's major version must be ``SUPPORTED_MAJOR``; anything else is an
``ImportError`` that names the file and both versions.

Every call goes through ``ctypes.CDLL``, which releases the GIL for the call,
so a blocking receive or wait never stops the other Python threads.
"""
import ctypes
import os

SUPPORTED_MAJOR = 1
_SONAME = "libtubo.so.1"

# tubo_code (capi/tubo_common.h).
OK = 0
EOF = 1
E_OTHER = -1
E_INVALID_ARGUMENT = -2
E_SYSTEM = -3
E_CLOSED = -4
E_TRUNCATED = -5
E_BAD_LENGTH = -6
E_TOO_LARGE = -7
E_PEER_CLOSED = -8
E_TIMEOUT = -9
E_SPAWN = -10
E_CHANNEL = -11
E_WORKER_DIED = -12
E_TASK_FAILED = -13
E_CANCELLED = -14
E_BUFFER_TOO_SMALL = -1000
E_NO_MEMORY = -1001

# tubo_end_kind.
END_READ = 1
END_WRITE = 2
END_DUPLEX = 3

# tubo_stdio_stream.
STDIN = 0
STDOUT = 1
STDERR = 2

c_int, c_size_t, c_uint, c_int64, c_uint64 = (ctypes.c_int, ctypes.c_size_t, ctypes.c_uint,
                                              ctypes.c_int64, ctypes.c_uint64)
c_char_p, c_void_p = ctypes.c_char_p, ctypes.c_void_p
P = ctypes.POINTER


def _declare(name, restype, *argtypes, into=None):
    """Gives the C function ``name`` its signature (of ``capi/tubo.h``; the
    test ``header_drift_test`` holds every call here to the header)."""
    f = getattr(lib if into is None else into, name)
    f.restype = restype
    f.argtypes = list(argtypes)


def _candidates():
    env = os.environ.get("TUBO_LIBRARY")
    if env:
        return [(env, "TUBO_LIBRARY")], True
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), _SONAME)
    found = []
    if os.path.exists(here):
        found.append((here, "next to the tubo package"))
    found.append((_SONAME, "the system loader"))
    return found, False


def _load():
    candidates, from_env = _candidates()
    failures = []
    for path, how in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            failures.append("%s (%s): %s" % (path, how, e))
            if from_env:
                break
            continue
        _declare("tubo_version", c_uint, into=lib)
        version = lib.tubo_version()
        if version // 10000 != SUPPORTED_MAJOR:
            raise ImportError(
                "tubo: %s (found through %s) is version %d.%d.%d; this binding needs major "
                "version %d" % (path, how, version // 10000, version // 100 % 100,
                                version % 100, SUPPORTED_MAJOR))
        return lib, path
    raise ImportError(
        "tubo: cannot load %s. Install the package with pip from a clone of the repository "
        "(`pip install ./bindings/python` builds the library into the package), or set "
        "TUBO_LIBRARY to the path of a %s (e.g. one tools/install installed). Tried: %s"
        % (_SONAME, _SONAME, "; ".join(failures)))


lib, library_path = _load()


class Bytes(ctypes.Structure):
    """tubo_bytes: library-owned; freed with tubo_bytes_free."""
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


# Opaque handles are plain void pointers; None is NULL.
ERR = P(c_void_p)  # tubo_error **
HANDLE_OUT = P(c_void_p)


_declare("tubo_version_string", c_char_p)
_declare("tubo_error_free", None, c_void_p)
_declare("tubo_error_code", c_int, c_void_p)
_declare("tubo_error_message", c_char_p, c_void_p)
_declare("tubo_error_errno", c_int, c_void_p)
_declare("tubo_code_name", c_char_p, c_int)
_declare("tubo_bytes_free", None, P(Bytes))

_declare("tubo_declare_sigpipe_ignored", c_int, ERR)
_declare("tubo_pipe_new", c_int, HANDLE_OUT, HANDLE_OUT, ERR)
_declare("tubo_duplex_pipe_new", c_int, HANDLE_OUT, HANDLE_OUT, ERR)
_declare("tubo_end_adopt_fd", c_int, HANDLE_OUT, c_int, c_int, ERR)
_declare("tubo_end_free", None, c_void_p)
_declare("tubo_end_kind_of", c_int, c_void_p)
_declare("tubo_end_fd", c_int, c_void_p)
_declare("tubo_end_release_fd", c_int, P(c_int), c_void_p, ERR)
_declare("tubo_end_send", c_int, c_void_p, c_void_p, c_size_t, ERR)
_declare("tubo_end_recv", c_int, P(P(Bytes)), c_void_p, ERR)
_declare("tubo_end_recv_into", c_int, P(c_size_t), c_void_p, c_void_p, c_size_t, ERR)
_declare("tubo_end_recv_timeout", c_int, P(P(Bytes)), c_void_p, c_int64, ERR)
_declare("tubo_end_recv_into_timeout", c_int, P(c_size_t), c_void_p, c_void_p, c_size_t, c_int64,
         ERR)
_declare("tubo_end_poll", c_int, P(c_int), c_void_p, c_int64, ERR)
_declare("tubo_end_close", c_int, c_void_p, ERR)
_declare("tubo_end_close_write", c_int, c_void_p, ERR)
_declare("tubo_end_set_max_message_size", c_int, c_void_p, c_uint64, ERR)
_declare("tubo_end_max_message_size", c_uint64, c_void_p)
_declare("tubo_end_set_send_buffer_size", c_int, c_void_p, c_size_t, ERR)
_declare("tubo_end_send_buffer_size", c_size_t, c_void_p)
_declare("tubo_end_flush", c_int, c_void_p, ERR)
_declare("tubo_end_try_send", c_int, c_void_p, c_void_p, c_size_t, ERR)
_declare("tubo_end_send_timeout", c_int, c_void_p, c_void_p, c_size_t, c_int64, ERR)
_declare("tubo_end_flush_timeout", c_int, c_void_p, c_int64, ERR)
_declare("tubo_end_unsent_bytes", c_size_t, c_void_p)

_declare("tubo_channel_take_read_end", c_int, HANDLE_OUT, c_char_p, ERR)
_declare("tubo_channel_take_write_end", c_int, HANDLE_OUT, c_char_p, ERR)
_declare("tubo_channel_take_duplex_end", c_int, HANDLE_OUT, c_char_p, ERR)

_declare("tubo_command_new", c_int, HANDLE_OUT, c_char_p, ERR)
_declare("tubo_command_free", None, c_void_p)
_declare("tubo_command_arg", c_int, c_void_p, c_char_p, ERR)
_declare("tubo_command_argv0", c_int, c_void_p, c_char_p, ERR)
_declare("tubo_command_search_path", c_int, c_void_p, c_int, ERR)
_declare("tubo_command_env_clear", c_int, c_void_p, ERR)
_declare("tubo_command_env_set", c_int, c_void_p, c_char_p, c_char_p, ERR)
_declare("tubo_command_env_unset", c_int, c_void_p, c_char_p, ERR)
_declare("tubo_command_working_directory", c_int, c_void_p, c_char_p, ERR)
_declare("tubo_command_die_with_parent", c_int, c_void_p, c_int, ERR)
_declare("tubo_command_new_process_group", c_int, c_void_p, c_int, ERR)
_declare("tubo_command_stdio_inherit", c_int, c_void_p, c_int, ERR)
_declare("tubo_command_stdio_null", c_int, c_void_p, c_int, ERR)
_declare("tubo_command_stdio_path", c_int, c_void_p, c_int, c_char_p, ERR)
_declare("tubo_command_stdio_fd", c_int, c_void_p, c_int, c_int, ERR)
_declare("tubo_command_stdio_end", c_int, c_void_p, c_int, c_void_p, ERR)
_declare("tubo_command_channel", c_int, c_void_p, c_char_p, c_void_p, ERR)
_declare("tubo_command_spawn", c_int, HANDLE_OUT, c_void_p, ERR)

_declare("tubo_process_free", None, c_void_p)
_declare("tubo_process_pid", c_int, c_void_p)
_declare("tubo_process_wait", c_int, P(c_int), c_void_p, ERR)
_declare("tubo_process_wait_timeout", c_int, P(c_int), c_void_p, c_int64, ERR)
_declare("tubo_process_try_wait", c_int, P(c_int), c_void_p, ERR)
_declare("tubo_process_signal", c_int, c_void_p, c_int, ERR)
_declare("tubo_process_terminate", c_int, c_void_p, ERR)
_declare("tubo_process_kill", c_int, c_void_p, ERR)
_declare("tubo_process_detach", c_int, c_void_p, ERR)
_declare("tubo_process_signal_group", c_int, c_void_p, c_int, ERR)
_declare("tubo_process_leads_group", c_int, c_void_p)
_declare("tubo_process_set_stop_grace", c_int, c_void_p, c_int64, ERR)
_declare("tubo_process_set_stop_signal", c_int, c_void_p, c_int, ERR)
_declare("tubo_process_set_stop_timeout", c_int, c_void_p, c_int64, ERR)
_declare("tubo_process_reaped", c_int, c_void_p)
_declare("tubo_process_returncode", c_int, c_void_p)

_declare("tubo_wait_set_new", c_int, HANDLE_OUT, ERR)
_declare("tubo_wait_set_free", None, c_void_p)
_declare("tubo_wait_set_add_end", c_int, c_void_p, c_void_p, c_uint64, ERR)
_declare("tubo_wait_set_add_end_writable", c_int, c_void_p, c_void_p, c_uint64, ERR)
_declare("tubo_wait_set_add_process", c_int, c_void_p, c_void_p, c_uint64, ERR)
_declare("tubo_wait_set_remove", c_int, c_void_p, c_uint64, ERR)
_declare("tubo_wait_set_wait", c_int, P(c_size_t), c_void_p, P(c_uint64), c_size_t, c_int64,
         ERR)


# The worker pool (capi/tubo_pool.h).
POOL_WORKERS = 1
POOL_MAX_IN_FLIGHT = 2
POOL_PREFETCH = 3
POOL_MAX_TASKS_PER_WORKER = 4
POOL_MAX_WORKER_RSS_BYTES = 5
POOL_RETRIES = 6
POOL_TASK_TIMEOUT_MS = 7
POOL_MAX_START_FAILURES = 8
POOL_RESTART_DELAY_MS = 9
POOL_MAX_RESTART_DELAY_MS = 10


_declare("tubo_worker_start_new_exec", c_int, HANDLE_OUT, c_char_p, ERR)
_declare("tubo_worker_start_arg", c_int, c_void_p, c_char_p, ERR)
_declare("tubo_worker_start_env_set", c_int, c_void_p, c_char_p, c_char_p, ERR)
_declare("tubo_worker_start_working_directory", c_int, c_void_p, c_char_p, ERR)
_declare("tubo_worker_start_capture_stderr", c_int, c_void_p, c_int, ERR)
_declare("tubo_worker_start_free", None, c_void_p)
_declare("tubo_pool_options_new", c_int, HANDLE_OUT, ERR)
_declare("tubo_pool_options_set", c_int, c_void_p, c_int, c_int64, ERR)
_declare("tubo_pool_options_free", None, c_void_p)
_declare("tubo_pool_new", c_int, HANDLE_OUT, c_void_p, c_void_p, ERR)
_declare("tubo_pool_submit", c_int, HANDLE_OUT, c_void_p, c_void_p, c_size_t, c_int64, ERR)
_declare("tubo_pool_close", c_int, c_void_p, ERR)
_declare("tubo_pool_terminate", None, c_void_p)
_declare("tubo_pool_free", None, c_void_p)
_declare("tubo_pool_workers", c_int, c_void_p)
_declare("tubo_pool_worker_pids", c_size_t, c_void_p, P(c_int), c_size_t)
_declare("tubo_pool_notify_fd", c_int, c_void_p)
_declare("tubo_pool_submit_tagged", c_int, c_void_p, c_void_p, P(c_size_t), P(c_uint64), c_size_t,
         c_int64, P(c_size_t), ERR)
_declare("tubo_pool_take_done", c_int, c_void_p, P(P(Bytes)), P(c_size_t), P(c_size_t), ERR)
_declare("tubo_task_id", c_uint64, c_void_p)
_declare("tubo_task_done", c_int, c_void_p)
_declare("tubo_task_wait", c_int, c_void_p, c_int64)
_declare("tubo_task_result", c_int, P(P(Bytes)), c_void_p, ERR)
_declare("tubo_task_cancel", c_int, c_void_p)
_declare("tubo_task_free", None, c_void_p)
_declare("tubo_task_fd", c_int, P(c_int), c_void_p, ERR)
_declare("tubo_wait_set_add_task", c_int, c_void_p, c_void_p, c_uint64, ERR)


def version():
    """The loaded library's version as a string, e.g. ``"1.0.0"``."""
    return lib.tubo_version_string().decode()


def encode(s, what):
    """A str or bytes argument for the C side (file system encoding, like os)."""
    if isinstance(s, bytes):
        b = s
    elif isinstance(s, str):
        b = os.fsencode(s)
    elif isinstance(s, os.PathLike):
        b = os.fsencode(s)
    else:
        raise TypeError("%s must be str, bytes or os.PathLike, not %s" % (what, type(s).__name__))
    if b"\0" in b:
        raise ValueError("%s contains a NUL byte" % what)
    return b
