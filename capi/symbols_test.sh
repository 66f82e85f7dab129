#!/usr/bin/env bash
# libtubo.so.1 exports exactly the symbols in capi/abi/symbols.txt (nm -D
# --defined-only): tubo_* under the version nodes of tubo.map (TUBO_1.<minor>),
# nothing of the C++ core,
# abseil or libstdc++; and the public headers (the arguments after the golden
# file: tubo.h and its topic headers) declare exactly the exported functions,
# each in one header. After adding a function on purpose, regenerate with:
#   nm -D --defined-only bazel-bin/capi/libtubo.so.1 | awk '{print $3}' | sort > capi/abi/symbols.txt
set -euo pipefail
so="$1"
golden="$2"
shift 2
actual="$TEST_TMPDIR/symbols.txt"
nm -D --defined-only "$so" | awk '{print $3}' | sort >"$actual"
if ! diff -u "$golden" "$actual"; then
  echo "exported symbols differ from $golden (above)" >&2
  exit 1
fi
if grep -v -E -e '^tubo_[a-z0-9_]*@@TUBO_1\.[0-9]+$' -e '^TUBO_1\.[0-9]+$' "$actual"; then
  echo "symbols outside tubo_* are exported (above)" >&2
  exit 1
fi
# A declaration starts a line with its return type: `int tubo_x(`, `const char *tubo_x(`.
exported="$TEST_TMPDIR/exported.txt"
declared="$TEST_TMPDIR/declared.txt"
sed -n 's/^\(tubo_[a-z0-9_]*\)@@.*/\1/p' "$actual" | sort >"$exported"
cat "$@" | sed -n 's/^[a-z][a-z0-9_ ]*[ *]\(tubo_[a-z0-9_]*\)(.*/\1/p' | sort >"$declared"
if ! diff -u "$exported" "$declared"; then
  echo "the public headers ($*) do not declare exactly the exported functions, once each (above)" >&2
  exit 1
fi
soname="$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
if [ "$soname" != libtubo.so.1 ]; then
  echo "SONAME is '$soname', expected libtubo.so.1" >&2
  exit 1
fi
echo "symbols and SONAME match"
