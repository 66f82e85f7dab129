"""Runs a page's first program the way the page tells a reader to build it
against an installed tubo (tools/install --prefix), rather than under Bazel.

For a page (docs/index.md): writes its C++ source block to a scratch
directory, then
  1. runs the page's console block commands in order ("$HOME/.local" replaced
     by the prefix): the compile commands as written, the program's lines
     compared with the output the page shows;
  2. writes the page's cmake block as CMakeLists.txt beside the source and runs
     the sh block that follows it (configure, build, run), whose program must
     print the same output.
It fails if the page has no such blocks, so a page that drops them is noticed.

Usage: python3 docs/snippets/run_installed.py PAGE PREFIX
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocks as page_blocks  # noqa: E402


def fail(message):
    sys.exit("run_installed: " + message)


def run(command, cwd, prefix):
    """Runs one shell command of the page, with $HOME/.local meaning prefix."""
    command = command.replace("$HOME/.local", prefix)
    print("   $ " + command, flush=True)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        fail("%s failed (exit %d):\n%s" % (command, result.returncode, result.stdout))
    return result.stdout


def main():
    if len(sys.argv) != 3:
        fail("usage: run_installed.py PAGE PREFIX")
    page, prefix = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(page) as f:
        blocks = page_blocks.read_blocks(page, f.read())
    cpp = [b for b in blocks if b.language == "cpp"]
    consoles = [b for b in blocks if b.language == "console"]
    cmakes = [b for b in blocks if b.language == "cmake"]
    if len(cpp) != 1 or not consoles or not cmakes:
        fail("%s: expected one cpp block, a console block and a cmake block" % page)
    source = cpp[0]
    program = "./" + os.path.splitext(source.name)[0]

    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, source.name), "w") as f:
            f.write(source.text)
        # 1. The console block: the exports are kept for the later commands.
        expected = None
        exports = []
        for command in page_blocks.console_commands(consoles[0]):
            if command.text.startswith("export "):
                exports.append(command.text)
                continue
            output = run("; ".join(exports + [command.text]), work, prefix)
            if command.text == program:
                expected = "\n".join(command.output) + "\n"
                if output != expected:
                    fail("%s printed\n%s\nbut %s shows\n%s" % (program, output, page, expected))
            elif output.strip() and command.output:
                fail("%s printed %r; the page shows %r" % (command.text, output, command.output))
        if expected is None:
            fail("%s: its console block never runs %s" % (page, program))
        # 2. The cmake block and the sh block right after it.
        cmake = cmakes[0]
        after = [b for b in blocks if b.line > cmake.line and b.language == "sh"]
        if not after:
            fail("%s: no sh block follows the cmake block at line %d" % (page, cmake.line))
        with open(os.path.join(work, "CMakeLists.txt"), "w") as f:
            f.write(cmake.text)
        output = run(after[0].text.strip(), work, prefix)
        if not output.endswith(expected):
            fail("the cmake build's program printed\n%s\nbut %s shows\n%s" % (output, page, expected))
    print("   %s: %s built with pkg-config and with CMake; both print what the page shows" %
          (page, source.name))


if __name__ == "__main__":
    main()
