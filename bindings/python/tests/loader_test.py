"""Finding libtubo.so.1 and checking its major version at import."""
import os
import subprocess
import sys
import unittest

import testing
import tubo

PRINT_PATH = "import tubo; print(tubo.library_path, tubo.library_version)"


def import_tubo(library=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("TUBO_LIBRARY", None)
    if library is not None:
        env["TUBO_LIBRARY"] = library
    return subprocess.run([sys.executable, "-c", PRINT_PATH], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


class LoaderTest(unittest.TestCase):
    def test_version(self):
        self.assertEqual(tubo.library_version.split(".")[0], "1")
        self.assertEqual(tubo._lib.lib.tubo_version() // 10000, 1)

    @unittest.skipUnless(os.environ.get("TEST_SRCDIR"), "only under bazel test")
    def test_bazel_runs_the_system_python(self):
        # third_party/python registers /usr/bin/python3 as the toolchain.
        self.assertEqual(sys.executable, "/usr/bin/python3")

    def test_next_to_the_package(self):
        here = os.path.join(os.path.dirname(tubo.__file__), "libtubo.so.1")
        if not os.path.exists(here):
            self.skipTest("no copy of the library next to the package (not a Bazel run)")
        out = import_tubo()
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split()[0], here)

    def test_tubo_library_wins(self):
        out = import_tubo(tubo.library_path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split()[0], tubo.library_path)

    def test_missing_library_named_by_the_variable(self):
        out = import_tubo("/nonexistent/libtubo.so.1")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("ImportError", out.stderr)
        self.assertIn("/nonexistent/libtubo.so.1 (TUBO_LIBRARY)", out.stderr)

    def test_other_major_version_is_refused(self):
        fake = testing.runfile("bindings/python/tests/libtubo_v2.so")
        out = import_tubo(fake)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("ImportError", out.stderr)
        self.assertIn("is version 2.0.0; this binding needs major version 1", out.stderr)


if __name__ == "__main__":
    unittest.main()
