"""Checks that every link of the generated site leads somewhere: each relative
href of docs/html/*.html names a file of the site and, after a '#', an id or
name in that file. Doxygen resolves \\ref and its own links, but a Markdown
link it cannot resolve ([text](page.md#section)) is written out as it is.

    check_links.py HTML_DIR

Exits 1 and lists the broken links. Skipped: links with a scheme (http:,
https:, mailto:, javascript:) and the summary bar of a class page, whose
"Classes" entry Doxygen links to a section it leaves out when the nested
classes are private.
"""
import glob
import html
import os
import re
import sys

_SUMMARY_BAR = re.compile(r'<div class="summary">.*?</div>', re.S)
_HREF = re.compile(r'href="([^"]*)"')
_ID = re.compile(r'\b(?:id|name)="([^"]+)"')


def broken_links(html_dir):
    pages = {}
    for path in glob.glob(os.path.join(html_dir, "*.html")):
        with open(path, encoding="utf-8") as f:
            pages[os.path.basename(path)] = f.read()
    ids = {name: set(_ID.findall(text)) for name, text in pages.items()}
    broken = []
    for name, text in sorted(pages.items()):
        for href in _HREF.findall(_SUMMARY_BAR.sub("", text)):
            href = html.unescape(href)
            if re.match(r"^[a-z]+:", href):
                continue
            target, _, anchor = href.partition("#")
            target = target or name
            if not os.path.exists(os.path.join(html_dir, target)):
                broken.append("%s: %s (no such file)" % (name, href))
            elif anchor and target in ids and anchor not in ids[target]:
                broken.append("%s: %s (no such anchor)" % (name, href))
    return broken


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    if not glob.glob(os.path.join(argv[1], "index.html")):
        sys.exit("check_links.py: no index.html in %s" % argv[1])
    broken = broken_links(argv[1])
    for line in broken:
        print(line, file=sys.stderr)
    if broken:
        sys.exit("check_links.py: %d broken links in %s" % (len(broken), argv[1]))


if __name__ == "__main__":
    main(sys.argv)
