#!/usr/bin/env bash
# A consumer outside Bazel: install into a temporary prefix with tools/install
# (from Bazel's outputs), check what was installed, then compile and run the C
# pipeline with plain cc and pkg-config, and the Makefile project of
# examples/install/make (a C program on libtubo.so.1, a C++ one on
# libtubo-cpp.a), and link the whole archive into a shared object with
# pkg-config's flags alone.
# Usage: consumer_test.sh INSTALL LIBTUBO_SO_1 TUBO_H PIPELINE_C EXPECTED_OUTPUT TUBO_OUTPUTS...
set -euo pipefail
install_sh="$1"
lib="$2"
header="$3"
program="$(pwd)/$4"
expected_output="$(pwd)/$5"
shift 5
# The position-independent archive of //:tubo: libtubo.pic.a when the mode
# builds two (-c opt), else libtubo.a, whose objects are then -fPIC.
archive=""
for f in "$@"; do
  case "$f" in
    *.pic.a) archive="$f" ;;
    *.a) [ -n "$archive" ] || archive="$f" ;;
  esac
done
[ -n "$archive" ] || { echo "no archive among the outputs of //:tubo: $*" >&2; exit 1; }
# The runfiles tree mirrors the workspace: include/ holds //:all_headers.
cpp_include="$(pwd)/include"
make_project="$(pwd)/examples/install/make"
prefix="$TEST_TMPDIR/prefix"

# Bad arguments: exit 2 and a message naming what was wrong.
expect_refusal() {
  local want="$1" out
  shift
  if out="$("$install_sh" "$@" 2>&1)"; then
    echo "tools/install $* succeeded" >&2
    exit 1
  fi
  grep -qF -- "$want" <<<"$out" || { echo "tools/install $*: said '$out', not '$want'" >&2; exit 1; }
}
expect_refusal "--prefix DIR is required"
expect_refusal "--prefix needs a value" --prefix
expect_refusal "unknown argument '--frobnicate'" --prefix "$prefix" --frobnicate
expect_refusal "--lib and --header go together" --prefix "$prefix" --lib "$lib"
expect_refusal "--cpp-lib and --cpp-include need --lib and --header" --prefix "$prefix" \
  --cpp-lib "$archive" --cpp-include "$cpp_include"
# The C pair alone: the C ABI only (what the Go binding's tests install).
c_only="$TEST_TMPDIR/c_only"
"$install_sh" --prefix "$c_only" --lib "$lib" --header "$header" | grep -q "the C ABI only"
test -f "$c_only/lib/libtubo.so.1" && test -f "$c_only/lib/pkgconfig/tubo.pc"
test ! -e "$c_only/lib/libtubo-cpp.a" && test ! -e "$c_only/include/tubo/tubo.h"
expect_refusal "no-such.a: no such file" --prefix "$prefix" --lib "$lib" --header "$header" \
  --cpp-lib no-such.a --cpp-include "$cpp_include"
"$install_sh" --help | grep -q '^Usage: tools/install --prefix DIR'

"$install_sh" --prefix "$prefix" --lib "$lib" --header "$header" \
  --cpp-lib "$archive" --cpp-include "$cpp_include"
test -f "$prefix/include/tubo.h"
test -f "$prefix/include/tubo/tubo.h"
# Every header an installed header includes is installed too: the C ABI's
# topic headers, the C++ API's internal headers.
for h in "$prefix"/include/tubo*.h; do
  for inc in $(sed -n 's/^#include "\([^"]*\)".*$/\1/p' "$h"); do
    test -f "$prefix/include/$inc" || { echo "$h includes $inc, not installed" >&2; exit 1; }
  done
done
while read -r h; do
  for inc in $(sed -n 's/^#include "\(tubo\/[^"]*\)".*$/\1/p' "$h"); do
    test -f "$prefix/include/$inc" || { echo "$h includes $inc, not installed" >&2; exit 1; }
  done
done < <(find "$prefix/include/tubo" -name '*.h')
[ "$(find "$prefix/include" -name 'tubo_*.h' | wc -l)" -gt 0 ]
test -f "$prefix/lib/libtubo.so.1"
[ "$(readlink "$prefix/lib/libtubo.so")" = libtubo.so.1 ]
test -f "$prefix/lib/libtubo-cpp.a"
for f in tuboConfig.cmake tuboConfigVersion.cmake tuboTargets.cmake; do
  test -f "$prefix/lib/cmake/tubo/$f"
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
version="$(awk '/#define TUBO_VERSION_(MAJOR|MINOR|PATCH) /{v = v (v == "" ? "" : ".") $3} END {print v}' "$header")"
[ "$(pkg-config --modversion tubo)" = "$version" ]
[ "$(pkg-config --modversion tubo-cpp)" = "$version" ]
# No -std flag: a consumer picks C++17 or later.
if pkg-config --cflags tubo-cpp | grep -q -- '-std='; then
  echo "tubo-cpp.pc sets a -std flag: $(pkg-config --cflags tubo-cpp)" >&2
  exit 1
fi

cd "$TEST_TMPDIR"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o pipeline "$program" $(pkg-config --cflags --libs tubo) \
  -Wl,-rpath,"$prefix/lib"
./pipeline >out.txt
printf '%s\n' 0 1 4 9 16 25 36 49 64 81 "End of communication" >expected.txt
diff -u expected.txt out.txt
# Not `ldd | grep -q`: grep quitting early gives ldd SIGPIPE, which pipefail reports.
grep -qF "libtubo.so.1 => $prefix/lib/libtubo.so.1" <<<"$(ldd ./pipeline)"

cp -rL "$make_project" make
make -C make
(./make/fork_squares && ./make/exec_cat) >make_out.txt
diff -u "$expected_output" make_out.txt

# The whole archive links into a shared object with nothing but the flags of
# tubo-cpp.pc: it is position-independent, and its Requires cover abseil.
# shellcheck disable=SC2046
c++ -shared -o whole.so -Wl,--no-undefined \
  -Wl,--whole-archive "$prefix/lib/libtubo-cpp.a" -Wl,--no-whole-archive \
  $(pkg-config --libs tubo-cpp)
echo "consumers built and ran against the installed libraries"
