"""Command's raw stdio pipes (tubo.PIPE): Process.stdin/stdout/stderr as
binary file objects, end of file, no descriptor leaked, large outputs."""
import fcntl
import os
import threading
import unittest

import tubo
from testing import open_fds

MIB = 1 << 20


def assert_cloexec_off_stdio(test, f):
    fd = f.fileno()
    test.assertGreaterEqual(fd, 3)
    test.assertTrue(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC, fd)


def fds_on_same_pipe(f):
    """The descriptors of this process open on the pipe ``f`` is an end of."""
    ino = os.fstat(f.fileno()).st_ino
    return {fd for fd in open_fds() if os.fstat(fd).st_ino == ino
            and os.readlink("/proc/self/fd/%d" % fd).startswith("pipe:")}


class RawPipesTest(unittest.TestCase):

    def test_cat_round_trip_ends_at_eof(self):
        before = open_fds()
        with tubo.Command("cat").stdin(tubo.PIPE).stdout(tubo.PIPE).spawn() as p:
            self.assertIsNone(p.stderr)
            # The child's ends of the two pipes are not open here.
            self.assertEqual(fds_on_same_pipe(p.stdin), {p.stdin.fileno()})
            self.assertEqual(fds_on_same_pipe(p.stdout), {p.stdout.fileno()})
            for f in (p.stdin, p.stdout):
                assert_cloexec_off_stdio(self, f)
            p.stdin.write(b"hello\nraw bytes, not a message header\n")
            p.stdin.close()  # cat sees end of file, exits, and stdout ends
            self.assertEqual(p.stdout.read(), b"hello\nraw bytes, not a message header\n")
            p.join(10)
            self.assertEqual(p.exitcode, 0)
        self.assertEqual(open_fds(), before)

    def test_stderr_capture(self):
        with tubo.Command("sh", "-c", "echo out; echo err >&2").stdout(tubo.DEVNULL).stderr(
                tubo.PIPE).spawn() as p:
            self.assertIsNone(p.stdin)
            self.assertIsNone(p.stdout)
            self.assertEqual(p.stderr.read(), b"err\n")
            p.join(10)
            self.assertEqual(p.exitcode, 0)

    def test_pipes_stay_off_closed_standard_streams(self):
        saved = [os.dup(fd) for fd in (0, 1, 2)]
        for fd in (0, 1, 2):
            os.close(fd)  # new pipes would otherwise take these numbers
        try:
            with tubo.Command("cat").stdin(tubo.PIPE).stdout(tubo.PIPE).spawn() as p:
                for f in (p.stdin, p.stdout):
                    assert_cloexec_off_stdio(self, f)
                p.stdin.write(b"x")
                p.stdin.close()
                self.assertEqual(p.stdout.read(), b"x")
                p.join(10)
        finally:
            for fd, copy in enumerate(saved):
                os.dup2(copy, fd)
                os.close(copy)

    def test_failed_start_leaks_nothing(self):
        before = open_fds()
        cmd = (tubo.Command("/nonexistent/tubo-no-such-program").stdin(tubo.PIPE)
               .stdout(tubo.PIPE).stderr(tubo.PIPE))
        self.assertGreater(len(open_fds() - before), 0)  # the pipes exist until spawn
        with self.assertRaises(tubo.SpawnFileNotFoundError):
            cmd.spawn()
        self.assertEqual(open_fds(), before)
        with self.assertRaises(FileNotFoundError):
            tubo.Command("tubo-no-such-program-in-path").output()
        self.assertEqual(open_fds(), before)

    def test_dropped_or_reset_command_leaks_nothing(self):
        before = open_fds()
        cmd = tubo.Command("cat").stdin(tubo.PIPE).stdout(tubo.PIPE)
        cmd.stdout(tubo.PIPE).stdout(tubo.DEVNULL).stdin(tubo.PIPE)  # replaced pipes are closed
        del cmd
        self.assertEqual(open_fds(), before)
        with tubo.Command("true").stdout(tubo.PIPE):
            pass  # leaving the block frees the command and its pipes
        self.assertEqual(open_fds(), before)

    def test_mebibyte_through_cat_without_deadlock(self):
        data = os.urandom(MIB)
        with tubo.Command("cat").stdin(tubo.PIPE).stdout(tubo.PIPE).spawn() as p:

            def feed():
                p.stdin.write(data)
                p.stdin.close()

            writer = threading.Thread(target=feed)
            writer.start()
            got = p.stdout.read()
            writer.join()
            p.join(10)
        self.assertEqual(len(got), MIB)
        self.assertEqual(got, data)

    def test_output(self):
        out, code = tubo.Command("head", "-c", str(MIB), "/dev/zero").output()
        self.assertEqual((len(out), out.count(0), code), (MIB, MIB, 0))
        self.assertEqual(tubo.Command("sh", "-c", "printf hi; exit 3").output(), (b"hi", 3))
        # A piped stdin is closed at once: cat reads end of file.
        self.assertEqual(tubo.Command("cat").stdin(tubo.PIPE).output(), (b"", 0))

    def test_output_refuses_piped_stderr(self):
        before = open_fds()
        cmd = tubo.Command("true").stderr(tubo.PIPE)
        with self.assertRaisesRegex(ValueError, "stderr is PIPE"):
            cmd.output()
        del cmd
        self.assertEqual(open_fds(), before)


if __name__ == "__main__":
    unittest.main()
