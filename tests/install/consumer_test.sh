#!/usr/bin/env bash
# A consumer outside Bazel: install into a temporary prefix with tools/install,
# compile the C pipeline with plain cc and pkg-config, run it.
set -euo pipefail
install_sh="$1"
lib="$2"
header="$3"
program="$(pwd)/$4"
prefix="$TEST_TMPDIR/prefix"
"$install_sh" --prefix "$prefix" --lib "$lib" --header "$header"
test -f "$prefix/include/tubo.h"
# Every header an installed header includes is installed too.
for h in "$prefix"/include/tubo*.h; do
  for inc in $(sed -n 's/^#include "\(.*\)"$/\1/p' "$h"); do
    test -f "$prefix/include/$inc" || { echo "$h includes $inc, not installed" >&2; exit 1; }
  done
done
[ "$(find "$prefix/include" -name 'tubo_*.h' | wc -l)" -gt 0 ]
test -f "$prefix/lib/libtubo.so.1"
[ "$(readlink "$prefix/lib/libtubo.so")" = libtubo.so.1 ]
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion tubo)" = 1.1.0 ]
cd "$TEST_TMPDIR"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o pipeline "$program" $(pkg-config --cflags --libs tubo) \
  -Wl,-rpath,"$prefix/lib"
./pipeline >out.txt
printf '%s\n' 0 1 4 9 16 25 36 49 64 81 "End of communication" >expected.txt
diff -u expected.txt out.txt
# Not `ldd | grep -q`: grep quitting early gives ldd SIGPIPE, which pipefail reports.
grep -qF "libtubo.so.1 => $prefix/lib/libtubo.so.1" <<<"$(ldd ./pipeline)"
echo "consumer built and ran against the installed library"
