#!/usr/bin/env bash
# Generates the API docs from the public headers; any Doxygen warning fails.
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
echo "docs built with zero warnings"
