"""tubo.declare_sigpipe_ignored: accepted under CPython's ignored SIGPIPE (and
then a send to a pipe without readers still raises PeerClosedError, the
process lives); refused with InvalidArgumentError under the default
disposition. Each case runs in a fresh interpreter: the declaration is for the
whole process and cannot be taken back."""
import subprocess
import sys
import textwrap
import unittest

IGNORED = textwrap.dedent("""
    import errno, tubo
    tubo.declare_sigpipe_ignored()
    tubo.declare_sigpipe_ignored()   # again: harmless
    r, w = tubo.Pipe(duplex=False)
    r.close()
    try:
        w.send_bytes(b"nobody reads this")
    except tubo.PeerClosedError as e:
        assert e.errno == errno.EPIPE, e.errno
        print("peer closed")
""")

DEFAULT = textwrap.dedent("""
    import signal, tubo
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        tubo.declare_sigpipe_ignored()
    except tubo.InvalidArgumentError as e:
        assert "signal(SIGPIPE, SIG_IGN)" in str(e), str(e)
        print("refused")
    r, w = tubo.Pipe(duplex=False)
    r.close()
    try:
        w.send_bytes(b"nobody reads this")   # undeclared: still no SIGPIPE
    except tubo.PeerClosedError:
        print("peer closed")
""")


class SigpipeTest(unittest.TestCase):
    def run_script(self, script):
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60)

    def test_declared_under_ignored_sigpipe(self):
        done = self.run_script(IGNORED)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split(), ["peer", "closed"])

    def test_refused_under_the_default_disposition(self):
        done = self.run_script(DEFAULT)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split(), ["refused", "peer", "closed"])


if __name__ == "__main__":
    unittest.main()
