#!/usr/bin/env bash
# Generates the API site from the public headers and the pages docs/*.md; any
# Doxygen warning fails, and so does a link of the site that leads nowhere.
set -euo pipefail
if ! command -v doxygen >/dev/null; then
  echo "doxygen is not installed (tools/test installs it)" >&2
  exit 1
fi
src="${TEST_SRCDIR}/${TEST_WORKSPACE}"
work="${TEST_TMPDIR}/docs"
mkdir -p "$work"
cp -rL "$src/include" "$src/docs" "$work/"
mkdir -p "$work/capi"
# The C ABI: tubo.h and its topic headers (not capi/src, the implementation).
cp -L "$src"/capi/tubo*.h "$work/capi/"
cd "$work"
log="$work/doxygen.log"
if ! doxygen docs/Doxyfile >"$log" 2>&1 || [ -s "$log" ]; then
  cat "$log" >&2
  echo "doxygen reported warnings (above)" >&2
  exit 1
fi
test -f docs/html/index.html
/usr/bin/python3 docs/check_links.py docs/html
echo "docs built with zero warnings, every link leads somewhere"
