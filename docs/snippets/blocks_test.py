"""The rules of blocks.py refuse every way a code block could escape the test
of its page, and extract.py refuses a page whose source blocks differ from
what docs/BUILD.bazel declares."""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from docs.snippets import blocks


def page(text):
    return textwrap.dedent(text).lstrip("\n")


class ReadBlocksTest(unittest.TestCase):

    def read(self, text):
        return blocks.read_blocks("p.md", page(text))

    def refused(self, text):
        with self.assertRaises(blocks.PageError) as raised:
            self.read(text)
        return str(raised.exception)

    def test_source_blocks_carry_language_name_and_text(self):
        found = self.read("""
            Intro.

            ```cpp hello.cc
            int main() {}
            ```

            ~~~console
            $ ./hello
            ~~~
            """)
        self.assertEqual([(b.language, b.name, b.line) for b in found],
                         [("cpp", "hello.cc", 3), ("console", "", 7)])
        self.assertEqual(found[0].text, "int main() {}\n")
        self.assertEqual([b.name for b in blocks.sources(found)], ["hello.cc"])

    def test_a_block_in_a_list_loses_the_list_indentation(self):
        found = self.read("""
            - item

              ```python a.py
              if True:
                  print(1)
              ```
            """)
        self.assertEqual(found[0].text, "if True:\n    print(1)\n")

    def test_a_block_without_a_language_is_refused(self):
        self.assertIn("p.md:1: a code block without a language", self.refused("""
            ```
            x
            ```
            """))

    def test_an_unknown_language_is_refused(self):
        self.assertIn("unknown language 'rust'", self.refused("""
            ```rust
            fn main() {}
            ```
            """))

    def test_a_source_block_without_a_file_name_is_refused(self):
        self.assertIn("names its file", self.refused("""
            ```go
            package main
            ```
            """))

    def test_a_file_name_of_another_language_is_refused(self):
        self.assertIn("not a file name ending in .cc", self.refused("""
            ```cpp hello.c
            int main() {}
            ```
            """))

    def test_two_blocks_of_one_name_are_refused(self):
        self.assertIn("p.md:5: the name a.py is taken by the block at line 1", self.refused("""
            ```python a.py
            pass
            ```

            ```python a.py
            pass
            ```
            """))

    def test_an_unclosed_block_is_refused(self):
        self.assertIn("never closed", self.refused("""
            ```python a.py
            pass
            """))

    def test_an_indented_code_block_is_refused(self):
        self.assertIn("p.md:3: an indented code block", self.refused("""
            Text.

                int main() {}
            """))

    def test_indented_lines_in_a_list_are_not_code(self):
        self.read("""
            - item
              - nested item that goes on
                over a second line

                and a second paragraph
            """)

    def test_an_indented_code_block_in_a_list_is_refused(self):
        self.assertIn("p.md:3: an indented code block", self.refused("""
            - item

                  int main() {}
            """))

    def test_doxygen_code_commands_are_refused(self):
        for command in ["\\code", "@code", "\\verbatim", "\\include hello.cc", "\\snippet a.cc x"]:
            with self.subTest(command=command):
                self.assertIn("through a Doxygen command", self.refused(command + "\n"))

    def test_console_commands_and_their_output(self):
        found = self.read("""
            ```console
            $ g++ hello.cc \\
                -o hello
            $ ./hello
            hello

            world
            ```
            """)
        commands = blocks.console_commands(found[0])
        self.assertEqual([(c.line, c.text, c.output) for c in commands],
                         [(2, "g++ hello.cc  -o hello", []),
                          (4, "./hello", ["hello", "", "world"])])

    def test_a_console_block_starts_with_a_command(self):
        found = self.read("""
            ```console
            output first
            ```
            """)
        with self.assertRaises(blocks.PageError):
            blocks.console_commands(found[0])

    def test_repository_paths(self):
        found = self.read("""
            ```sh
            tools/install --prefix "$HOME/.local"   # and a comment with docs/x.md
            pip install ./bindings/python/
            PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig" cc a.c -I/usr/include
            go mod init example.com/hello && go build -o hello . && cmake --build build/x
            bazel build //docs:all @tubo//:tubo
            TUBO_LIBRARY=capi/libtubo.so.1 ./hello
            ```
            """)
        self.assertEqual(blocks.repository_paths(found[0]),
                         ["tools/install", "bindings/python", "capi/libtubo.so.1"])


class ExtractTest(unittest.TestCase):

    def extract(self, text, *names):
        folder = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        path = os.path.join(folder, "p.md")
        with open(path, "w") as f:
            f.write(page(text))
        extract = os.path.join(os.path.dirname(os.path.abspath(__file__)), "extract")
        result = subprocess.run([extract, path, os.path.join(folder, "out")] + list(names),
                                capture_output=True, text=True)
        return result, os.path.join(folder, "out")

    PAGE = """
        ```cpp a.cc
        int main() {}
        ```

        ```python b.py
        print(1)
        ```
        """

    def test_writes_the_declared_blocks(self):
        result, out = self.extract(self.PAGE, "a.cc", "b.py")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "b.py")) as f:
            self.assertEqual(f.read(), "print(1)\n")

    def test_refuses_an_undeclared_block(self):
        result, out = self.extract(self.PAGE, "a.cc")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("b.py (line 5) is not declared", result.stderr)
        self.assertFalse(os.path.exists(out))

    def test_refuses_a_declared_name_the_page_lacks(self):
        result, _ = self.extract(self.PAGE, "a.cc", "b.py", "c.go")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("c.go is declared, but the page has no block of that name", result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
