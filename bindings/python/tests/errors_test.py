"""Every C error code maps to its exception class; EOF is EOFError, not an error."""
import errno
import os
import subprocess
import sys
import tempfile
import unittest

import tubo
from tubo import _lib, errors


def raw_reader(data):
    """A tubo reader over a pipe that carries exactly `data`, then EOF."""
    rfd, wfd = os.pipe()
    os.write(wfd, data)
    os.close(wfd)
    return tubo.Connection.adopt_fd(rfd, readable=True, writable=False)


class MappingTest(unittest.TestCase):
    def test_each_code_has_its_class(self):
        expected = {
            -1: tubo.TuboError, -2: tubo.InvalidArgumentError, -3: tubo.SystemCallError,
            -4: tubo.ClosedError, -5: tubo.TruncatedMessageError, -6: tubo.BadLengthError,
            -7: tubo.MessageTooLargeError, -8: tubo.PeerClosedError, -9: tubo.TuboTimeoutError,
            -10: tubo.SpawnError, -11: tubo.ChannelError, -12: tubo.WorkerDiedError,
            -13: tubo.TaskFailedError, -14: tubo.CancelledError, -1000: tubo.BufferTooSmallError,
            -1001: tubo.NoMemoryError,
        }
        for code, cls in expected.items():
            self.assertIs(errors.error_class(code), cls)
            self.assertEqual(cls.code, code)
            self.assertTrue(issubclass(cls, tubo.TuboError))
            self.assertTrue(issubclass(cls, OSError))
            self.assertEqual(cls("m").code_name, _lib.lib.tubo_code_name(code).decode())
        self.assertIs(errors.error_class(-99), tubo.TuboError)

    def test_builtin_bases(self):
        self.assertTrue(issubclass(tubo.PeerClosedError, BrokenPipeError))
        self.assertTrue(issubclass(tubo.TuboTimeoutError, TimeoutError))
        self.assertTrue(issubclass(tubo.InvalidArgumentError, ValueError))
        self.assertTrue(issubclass(tubo.NoMemoryError, MemoryError))
        self.assertFalse(issubclass(EOFError, tubo.TuboError))

    def test_an_error_object_keeps_code_and_message(self):
        e = tubo.TuboError("odd", -42)
        self.assertEqual((e.code, str(e)), (-42, "odd"))
        import pickle
        again = pickle.loads(pickle.dumps(tubo.TruncatedMessageError("cut")))
        self.assertEqual((type(again), again.code, str(again)),
                         (tubo.TruncatedMessageError, -5, "cut"))


class FramingErrorTest(unittest.TestCase):
    def test_truncated_header_is_sticky(self):
        with raw_reader(b"\x00\x00") as r:
            with self.assertRaises(tubo.TruncatedMessageError) as cm:
                r.recv_bytes()
            self.assertEqual(cm.exception.code, -5)
            self.assertEqual(cm.exception.code_name, "truncated")
            self.assertIn("truncated", str(cm.exception))
            self.assertRaises(tubo.TruncatedMessageError, r.recv_bytes)
            self.assertRaises(tubo.TruncatedMessageError, r.poll)

    def test_truncated_payload(self):
        with raw_reader(b"\x00\x00\x00\x05abc") as r:
            self.assertRaises(tubo.TruncatedMessageError, r.recv_bytes_into, bytearray(10))

    def test_eof_at_a_boundary_is_eoferror(self):
        with raw_reader(b"\x00\x00\x00\x01x") as r:
            self.assertEqual(r.recv_bytes(), b"x")
            self.assertRaises(EOFError, r.recv_bytes)

    def test_bad_length(self):
        with raw_reader(b"\xff\xff\xff\xfe") as r:
            with self.assertRaises(tubo.BadLengthError) as cm:
                r.recv_bytes()
            self.assertEqual(cm.exception.code, -6)

    def test_hostile_length_is_too_large_before_any_allocation(self):
        with raw_reader(b"\xff\xff\xff\xff" + b"\x7f" + b"\xff" * 7) as r:
            self.assertRaises(tubo.MessageTooLargeError, r.recv_bytes)
            self.assertRaises(tubo.MessageTooLargeError, r.recv_bytes)

    def test_peer_closed(self):
        r, w = tubo.Pipe(duplex=False)
        r.close()
        with w:
            with self.assertRaises(tubo.PeerClosedError) as cm:
                w.send_bytes(b"x")
            self.assertEqual(cm.exception.code, -8)
            # The errno is the library's (tubo_error_errno), as BrokenPipeError's.
            self.assertEqual(cm.exception.errno, errno.EPIPE)
            self.assertEqual(cm.exception.strerror, os.strerror(errno.EPIPE))

    def test_failures_without_a_system_call_have_no_errno(self):
        with raw_reader(b"\x00\x00") as r:
            with self.assertRaises(tubo.TruncatedMessageError) as cm:
                r.recv_bytes()
            self.assertIsNone(cm.exception.errno)


CHANNEL_SNIPPET = r"""
import sys, tubo
try:
    tubo.take_connection(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    tubo.take_connection(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
except tubo.ChannelError as e:
    print(type(e).__name__, e.code, e)
"""


class ChannelErrorTest(unittest.TestCase):
    def take(self, channels, *args):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
                   TUBO_LIBRARY=_lib.library_path)
        env.pop("TUBO_CHANNELS", None)
        if channels is not None:
            env["TUBO_CHANNELS"] = channels
        r, w = os.pipe()
        try:
            # fd 3 is open in the child (a pipe's read end) for the channels that name it.
            out = subprocess.run([sys.executable, "-c", CHANNEL_SNIPPET, *args], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 pass_fds=(r,), preexec_fn=lambda: os.dup2(r, 3))
        finally:
            os.close(r)
            os.close(w)
        return out.stdout.decode()

    def test_missing_variable(self):
        self.assertIn("ChannelError -11", self.take(None, "in"))

    def test_missing_name(self):
        self.assertIn("ChannelError -11", self.take("out:3:w", "in"))

    def test_malformed(self):
        self.assertIn("ChannelError -11", self.take("in:three:r", "in", "r"))

    def test_wrong_mode(self):
        self.assertIn("ChannelError -11", self.take("in:3:r", "in", "w"))

    def test_taken_twice(self):
        out = self.take("in:3:r", "in")
        self.assertIn("ChannelError -11", out)

    def test_fd_not_open(self):
        self.assertIn("ChannelError -11", self.take("in:9:r", "in"))

    def test_bad_mode_argument(self):
        self.assertRaises(ValueError, tubo.take_connection, "in", "x")


class SpawnErrorTest(unittest.TestCase):
    def test_exec_failure_names_stage_and_program(self):
        with self.assertRaises(tubo.SpawnError) as cm:
            tubo.Command("/nonexistent/program").spawn()
        self.assertEqual(cm.exception.code, -10)
        self.assertIn("/nonexistent/program", str(cm.exception))
        self.assertIn("No such file", str(cm.exception))

    def test_bad_channel_name(self):
        r, w = tubo.Pipe(duplex=False)
        with self.assertRaisesRegex(tubo.InvalidArgumentError, "not a valid channel name"):
            tubo.Command("/bin/true").channel("no spaces", r)
        self.assertTrue(r.closed)  # consumed even on failure
        w.close()

    def test_nul_in_argument(self):
        self.assertRaises(ValueError, tubo.Command, "/bin/true", "a\0b")


class SpawnOSErrorTest(unittest.TestCase):
    """Spawn failures as the OSError subclasses Python users catch, still tubo errors."""

    def assert_spawn_oserror(self, command, cls, number, filename):
        with self.assertRaises(cls) as cm:
            command.spawn()
        e = cm.exception
        self.assertIsInstance(e, tubo.SpawnError)
        self.assertIsInstance(e, tubo.TuboError)
        self.assertEqual((e.errno, e.filename, e.code), (number, filename, _lib.E_SPAWN))
        self.assertEqual(e.strerror, os.strerror(number))
        self.assertIn(os.strerror(number), str(e))
        return e

    def test_a_missing_program_is_file_not_found(self):
        self.assert_spawn_oserror(tubo.Command("/nonexistent/program"), FileNotFoundError,
                                  errno.ENOENT, "/nonexistent/program")
        self.assert_spawn_oserror(tubo.Command("no-such-program-on-path"),
                                  tubo.SpawnFileNotFoundError, errno.ENOENT,
                                  "no-such-program-on-path")

    def test_a_file_that_cannot_be_executed_is_a_permission_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "not-executable")
            with open(path, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(path, 0o644)
            self.assert_spawn_oserror(tubo.Command(path), PermissionError, errno.EACCES, path)
            self.assert_spawn_oserror(tubo.Command(d), tubo.SpawnPermissionError, errno.EACCES, d)

    def test_the_working_directory_is_the_filename(self):
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "missing")
            self.assert_spawn_oserror(tubo.Command("/bin/true").cwd(missing), FileNotFoundError,
                                      errno.ENOENT, missing)
            a_file = os.path.join(d, "file")
            open(a_file, "w").close()
            self.assert_spawn_oserror(tubo.Command("/bin/true").cwd(a_file), NotADirectoryError,
                                      errno.ENOTDIR, a_file)

    def test_a_stdio_path_is_the_filename(self):
        self.assert_spawn_oserror(tubo.Command("/bin/true").stdin("/nonexistent/in"),
                                  FileNotFoundError, errno.ENOENT, "/nonexistent/in")

    def test_except_oserror_by_errno(self):
        try:
            tubo.Command("/nonexistent/program").spawn()
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOENT)
        else:
            self.fail("no error")


if __name__ == "__main__":
    unittest.main()
