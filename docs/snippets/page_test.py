"""Tests the code of one page of the API site (the rules are in blocks.py).

    page_test.py PAGE [--file NAME=PATH]... [--program NAME=PATH]...

--file gives each source block of PAGE as extracted (extract.py), --program
each program Bazel built from one (hello for hello.cc, hello.c or hello.go).
The test fails unless:
- the page keeps the rules of blocks.py and its source blocks are exactly
  the --file names;
- every Python block passes pyflakes (C, C++ and Go blocks were compiled,
  with -Werror and go vet, when Bazel built them);
- every command of a console block that runs a program of the page prints
  exactly the output shown under it, and exits with 0. The commands run in
  order, in one scratch folder holding the page's files and programs, so a
  program can start another (Command("./worker"), "python3 worker.py");
- every program of the page is run by a console block, or named in a string
  of another source block of the page (a worker its parent starts:
  Command("./worker"), .Arg("upper.py"));
- the text or a command of the page names every source block's file (the
  name in the fence is not shown);
- every repository path that a sh or console block names exists.
"""
import argparse
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

from docs.snippets import blocks

RUN_TIMEOUT_SECONDS = 60


def pairs(values):
    result = {}
    for value in values:
        name, _, path = value.partition("=")
        result[name] = os.path.abspath(path)
    return result


class PageTest(unittest.TestCase):
    page = None
    files = {}
    programs = {}

    @classmethod
    def setUpClass(cls):
        with open(cls.page, encoding="utf-8") as f:
            cls.blocks = blocks.read_blocks(cls.page, f.read())
        cls.workdir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for name, path in list(cls.files.items()) + list(cls.programs.items()):
            os.symlink(path, os.path.join(cls.workdir, name))

    def test_sources_are_the_extracted_files(self):
        self.assertEqual(sorted(b.name for b in blocks.sources(self.blocks)), sorted(self.files))

    def test_python_blocks_pass_pyflakes(self):
        python = [self.files[b.name] for b in blocks.sources(self.blocks) if b.language == "python"]
        if not python:
            self.skipTest("no Python block")
        pyflakes = shutil.which("pyflakes3")
        command = [pyflakes] if pyflakes else [sys.executable, "-m", "pyflakes"]
        if not pyflakes and importlib.util.find_spec("pyflakes") is None:
            self.fail("pyflakes3 is missing; run tools/setup (apt package pyflakes3)")
        result = subprocess.run(command + python, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_console_commands_print_what_the_page_shows(self):
        ran = 0
        for block in self.blocks:
            if block.language != "console":
                continue
            for command in blocks.console_commands(block):
                argv = self.program_argv(command)
                where = "%s:%d: $ %s" % (self.page, command.line, command.text)
                if argv is None:
                    self.assertEqual(command.output, [],
                                     "%s\nshows output, but the test does not run it (only "
                                     "the page's programs run)" % where)
                    continue
                ran += 1
                with self.subTest(command=command.text):
                    result = subprocess.run(argv, cwd=self.workdir, env=self.environment(),
                                            stdin=subprocess.DEVNULL, capture_output=True,
                                            text=True, timeout=RUN_TIMEOUT_SECONDS)
                    message = "%s\n(- printed, + shown on the page) exit status %d; stderr:\n%s" % (
                        where, result.returncode, result.stderr)
                    self.assertEqual(result.stdout.splitlines(), command.output, message)
                    self.assertEqual(result.returncode, 0, message)
                    print("%s: printed the %d lines shown" % (where, len(command.output)),
                          file=sys.stderr)
        if not ran and (self.programs or self.files):
            self.fail("%s: the page has programs, but no console block runs one" % self.page)

    def test_every_program_is_run_or_started_by_another(self):
        run = set()
        for block in self.blocks:
            if block.language == "console":
                for command in blocks.console_commands(block):
                    argv = self.program_argv(command)
                    if argv:
                        run.add(os.path.basename(argv[1] if argv[0] == sys.executable else argv[0]))
        sources = blocks.sources(self.blocks)
        for block in sources:
            program = block.name if block.language == "python" else os.path.splitext(block.name)[0]
            # Named as a string: Command("./worker"), .Arg("upper.py").
            named = re.compile(r"[\"'](\./)?%s[\"']" % re.escape(program))
            started = any(named.search(other.text) for other in sources if other is not block)
            self.assertTrue(program in run or started,
                            "%s: %s is neither run by a console block nor started by another "
                            "block of the page" % (block.where(), block.name))

    def test_every_source_block_is_named_in_the_page(self):
        # The info string (```cpp hello.cc) is not shown: the reader learns
        # the file name from the text or a command.
        with open(self.page, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for block in blocks.sources(self.blocks):
            others = lines[:block.line - 1] + lines[block.line:]
            named = re.compile(r"(?<![\w.-])%s(?!\w)" % re.escape(block.name))
            self.assertTrue(any(named.search(line) for line in others),
                            "%s: the page never names %s (say \"`%s`:\" above the block)" %
                            (block.where(), block.name, block.name))

    def test_repository_paths_exist(self):
        root = os.path.join(os.environ["TEST_SRCDIR"], os.environ["TEST_WORKSPACE"])
        for block in self.blocks:
            if block.language not in ("sh", "console"):
                continue
            for path in blocks.repository_paths(block):
                if path in self.programs or path in self.files:
                    continue
                self.assertTrue(os.path.exists(os.path.join(root, path)),
                                "%s: %s is not in the repository (or not in this test's data "
                                "in docs/BUILD.bazel)" % (block.where(), path))

    def program_argv(self, command):
        """The command line that runs `command`, or None if it runs no
        program of the page."""
        words = shlex.split(command.text)
        if words and words[0].startswith("./") and words[0][2:] in self.programs:
            return [os.path.join(self.workdir, words[0][2:])] + words[1:]
        if len(words) > 1 and words[0] == "python3" and words[1] in self.files:
            return [sys.executable, words[1]] + words[2:]
        return None

    @staticmethod
    def environment():
        env = dict(os.environ)
        env.pop("TUBO_CHANNELS", None)
        # The Python binding (//bindings/python:tubo, with libtubo.so.1 next
        # to the package), for `python3 hello.py` and the interpreters it starts.
        spec = importlib.util.find_spec("tubo")
        if spec is not None:
            package_root = os.path.dirname(os.path.dirname(spec.origin))
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in [package_root, env.get("PYTHONPATH", "")] if p)
        return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page")
    parser.add_argument("--file", action="append", default=[])
    parser.add_argument("--program", action="append", default=[])
    args, rest = parser.parse_known_args()
    PageTest.page = args.page
    PageTest.files = pairs(args.file)
    PageTest.programs = pairs(args.program)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
