"""Writes the source blocks of a page into files, for Bazel to build.

    extract.py PAGE OUT_DIR NAME...

NAME... are the file names docs/BUILD.bazel declares for PAGE (Bazel needs
the outputs before it reads the page). Fails, writing nothing, if the page
breaks a rule of blocks.py or if its source blocks are not exactly NAME...,
saying which to add to or remove from the declaration.
"""
import os
import sys

from docs.snippets import blocks


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    page, out_dir, declared = argv[1], argv[2], argv[3:]
    with open(page, encoding="utf-8") as f:
        try:
            found = blocks.sources(blocks.read_blocks(page, f.read()))
        except blocks.PageError as e:
            sys.exit(str(e))
    names = {b.name: b for b in found}
    missing = sorted(set(names) - set(declared))
    extra = sorted(set(declared) - set(names))
    if missing or extra:
        lines = ["%s: its source blocks differ from the names docs/BUILD.bazel declares:" % page]
        lines += ["  %s (line %d) is not declared" % (n, names[n].line) for n in missing]
        lines += ["  %s is declared, but the page has no block of that name" % n for n in extra]
        sys.exit("\n".join(lines))
    os.makedirs(out_dir, exist_ok=True)
    for name, block in names.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(block.text)


if __name__ == "__main__":
    main(sys.argv)
