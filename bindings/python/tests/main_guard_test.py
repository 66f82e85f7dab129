"""The __main__ guard: a script that starts a Process at its top level, without
``if __name__ == '__main__':``, must not start a grandchild from the child's
import of it; the child fails with a RuntimeError that says to add the guard."""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import tubo

# Every run of the top level appends a line to the file named by argv[1]; the
# target appends "target"; the parent prints the exit code.
UNGUARDED = textwrap.dedent("""
    import sys
    import tubo

    def work(log):
        with open(log, "a") as f:
            f.write("target\\n")

    with open(sys.argv[1], "a") as f:
        f.write("top level\\n")
    p = tubo.Process(target=work, args=(sys.argv[1],))
    p.start()
    p.join()
    print("exitcode", p.exitcode)
""")

GUARDED = textwrap.dedent("""
    import sys
    import tubo

    def work(log):
        with open(log, "a") as f:
            f.write("target\\n")

    if __name__ == "__main__":
        with open(sys.argv[1], "a") as f:
            f.write("top level\\n")
        p = tubo.Process(target=work, args=(sys.argv[1],))
        p.start()
        p.join()
        print("exitcode", p.exitcode)
""")


class MainGuardTest(unittest.TestCase):
    def run_script(self, source):
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "script.py")
            log = os.path.join(d, "log")
            with open(script, "w") as f:
                f.write(source)
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
                       TUBO_LIBRARY=tubo.library_path)
            out = subprocess.run([sys.executable, script, log], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
            with open(log) as f:
                return out, f.read().splitlines()

    def test_a_script_without_the_guard(self):
        out, log = self.run_script(UNGUARDED)
        # The parent ran the top level; the child ran it up to start(), which
        # raised; no grandchild, no target.
        self.assertEqual(log, ["top level", "top level"], out.stderr)
        self.assertEqual(out.stdout, "exitcode 1\n")
        self.assertIn("RuntimeError", out.stderr)
        self.assertIn("if __name__ == '__main__':", out.stderr)
        self.assertIn("script.py", out.stderr)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_the_same_script_with_the_guard(self):
        out, log = self.run_script(GUARDED)
        self.assertEqual(log, ["top level", "target"], out.stderr)
        self.assertEqual(out.stdout, "exitcode 0\n")


if __name__ == "__main__":
    unittest.main()
