"""Reads the code blocks of a page of the API site (docs/*.md) and holds them
to the rules that let //docs:all test every one of them.

The rules for a page:

- Code is written in fenced blocks (``` or ~~~) only. An indented code block,
  or Doxygen's \\code, \\verbatim, \\include or \\snippet at the start of a
  line, is an error: the test could not see that code.
- Every fence names its language, one of LANGUAGES. A block in a source
  language (cpp, c, go, python) is a whole file and names it after the
  language: ```cpp hello.cc (the name, with the extension of SOURCES, is
  where a reader saves it; Doxygen and GitHub ignore the word). Names are
  unique within a page.
- A console block holds commands, each on a line starting with "$ " (a line
  ending in a backslash continues it), and below a command the exact
  standard output it prints. A command that runs a program of the page
  ("./hello" for hello.cc, hello.c or hello.go; "python3 hello.py") is run by
  the test, and its output compared; any other command (compiling,
  installing) is shown for the reader, not run, and must show no output.
- sh blocks are commands for the reader; starlark and cmake blocks are build
  files of the reader's project; text blocks are anything else (a diagram).
  None of them is run. The test checks that the repository paths that sh and
  console blocks name (tools/install, ./bindings/python) exist.
"""
import re
import shlex
from dataclasses import dataclass, field

# The languages of source blocks and the extension their file name must have.
SOURCES = {"cpp": ".cc", "c": ".c", "go": ".go", "python": ".py"}
# Every language a fence may name.
LANGUAGES = sorted(list(SOURCES) + ["cmake", "console", "sh", "starlark", "text"])

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DOXYGEN_CODE = re.compile(r"^\s*[\\@](code|verbatim|include|includelineno|snippet)\b")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+\.)\s")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# The repository's top-level folders: a word of a command that starts with one
# of them names a file of tubo, which must exist.
REPOSITORY_FOLDERS = ("bench", "bindings", "capi", "docs", "examples", "include", "src", "tests",
                      "third_party", "tools")


class PageError(Exception):
    """A page breaks the rules above; the message lists every place."""


@dataclass
class Block:
    """One fenced code block of a page."""
    page: str
    line: int  # of the opening fence, from 1
    language: str
    name: str  # the file name of a source block, else ""
    text: str  # the content, the fence's indentation removed

    def where(self):
        return "%s:%d" % (self.page, self.line)


@dataclass
class Command:
    """One command of a console block and the output shown below it."""
    block: Block
    line: int
    text: str
    output: list = field(default_factory=list)


def read_blocks(page, text):
    """Returns the fenced blocks of `text` (the page `page`), in order.
    Raises PageError if the page breaks a rule of this module's docstring."""
    errors = []
    blocks = []
    lines = text.splitlines()
    list_indent = None  # where the text of the list item being read starts
    previous_blank = True
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if not fence:
            if _DOXYGEN_CODE.match(line):
                errors.append("%s:%d: code through a Doxygen command; write a fenced block "
                              "instead, so that the test sees it" % (page, i + 1))
            elif line.strip():
                expanded = line.expandtabs(4)
                indent = len(expanded) - len(expanded.lstrip())
                item = _LIST_ITEM.match(expanded)
                if not item and not indent:
                    list_indent = None
                # Markdown: after a blank line, 4 spaces more than the text
                # around it make an indented code block.
                if previous_blank and indent >= (list_indent or 0) + 4:
                    errors.append("%s:%d: an indented code block; write a fenced block "
                                  "instead, so that the test sees it" % (page, i + 1))
                if item:
                    list_indent = len(item.group(0))
            previous_blank = not line.strip()
            i += 1
            continue
        indent = len(fence["indent"])
        marker = fence["fence"]
        info = fence["info"].split()
        closing = re.compile(r"^ *%s{%d,}\s*$" % (re.escape(marker[0]), len(marker)))
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if end == len(lines):
            errors.append("%s:%d: a code block that is never closed" % (page, i + 1))
            break
        body = [l[indent:] if l[:indent].strip() == "" else l.lstrip() for l in lines[i + 1:end]]
        block = Block(page, i + 1, info[0] if info else "", "", "\n".join(body) + "\n")
        errors.extend(_check(block, info))
        if block.language in SOURCES and len(info) > 1:
            block.name = info[1]
        blocks.append(block)
        i = end + 1
        previous_blank = True
    names = {}
    for block in blocks:
        if block.name in names:
            errors.append("%s: the name %s is taken by the block at line %d" %
                          (block.where(), block.name, names[block.name].line))
        elif block.name:
            names[block.name] = block
    if errors:
        raise PageError("\n".join(errors))
    return blocks


def _check(block, info):
    where = block.where()
    if not info:
        return ["%s: a code block without a language (one of %s)" %
                (where, ", ".join(LANGUAGES))]
    if info[0] not in LANGUAGES:
        return ["%s: unknown language %r (one of %s)" % (where, info[0], ", ".join(LANGUAGES))]
    extension = SOURCES.get(info[0])
    if extension is None:
        if len(info) > 1:
            return ["%s: a %s block takes no name (%r)" % (where, info[0], " ".join(info[1:]))]
        return []
    if len(info) != 2:
        return ["%s: a %s block names its file after the language, as ```%s example%s" %
                (where, info[0], info[0], extension)]
    name = info[1]
    if not _NAME.match(name) or not name.endswith(extension) or name == extension:
        return ["%s: %r is not a file name ending in %s" % (where, name, extension)]
    return []


def sources(blocks):
    """The source blocks (cpp, c, go, python) among `blocks`."""
    return [b for b in blocks if b.language in SOURCES]


def console_commands(block):
    """The commands of a console block, each with the output shown under it."""
    commands = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            number = block.line + 1 + i
            text = line[2:]
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + " " + lines[i].strip()
            commands.append(Command(block, number, text.strip()))
        elif commands:
            commands[-1].output.append(line)
        else:
            raise PageError("%s: a console block starts with a command (\"$ ...\"), not %r" %
                            (block.where(), line))
        i += 1
    return commands


def shell_words(block):
    """The words of the commands of a sh or console block (comments and
    output left out), for the path check."""
    if block.language == "console":
        texts = [c.text for c in console_commands(block)]
    else:
        texts = block.text.replace("\\\n", " ").splitlines()
    words = []
    for text in texts:
        try:
            words.extend(shlex.split(text, comments=True))
        except ValueError as e:
            raise PageError("%s: cannot split %r into words: %s" % (block.where(), text, e))
    return words


def repository_paths(block):
    """The words of a sh or console block that name a path in the repository
    (its first component is one of REPOSITORY_FOLDERS, after an optional
    "./"); a VAR=value word is judged by its value."""
    paths = []
    for word in shell_words(block):
        assignment = re.match(r"^[A-Za-z_][A-Za-z0-9_]*=(.*)$", word)
        if assignment:
            word = assignment.group(1)
        if word.startswith("./"):
            word = word[2:]
        if word.partition("/")[0] in REPOSITORY_FOLDERS:
            paths.append(word.rstrip("/"))
    return paths
