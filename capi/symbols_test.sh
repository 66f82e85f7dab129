#!/usr/bin/env bash
# libtubo.so.1 exports exactly the symbols in capi/abi/symbols.txt (nm -D
# --defined-only): tubo_* under the version nodes of tubo.map (TUBO_1.<minor>),
# nothing of the C++ core,
# abseil or libstdc++. After adding a function on purpose, regenerate with:
#   nm -D --defined-only bazel-bin/capi/libtubo.so.1 | awk '{print $3}' | sort > capi/abi/symbols.txt
set -euo pipefail
so="$1"
golden="$2"
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
soname="$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
if [ "$soname" != libtubo.so.1 ]; then
  echo "SONAME is '$soname', expected libtubo.so.1" >&2
  exit 1
fi
echo "symbols and SONAME match"
