#!/usr/bin/env bash
# capi/tubo.h compiles as C99 (-pedantic -Werror), as C11 and as C++17, and
# can be included twice in one unit.
set -euo pipefail
header="$1"
dir="$TEST_TMPDIR/hdr"
mkdir -p "$dir"
cp "$header" "$dir/tubo.h"
cat >"$dir/use.c" <<'SRC'
#include "tubo.h"
#include "tubo.h"
int main(void) {
  tubo_error *err = NULL;
  tubo_end *r = NULL, *w = NULL;
  (void)r;
  (void)w;
  (void)err;
  return TUBO_VERSION_MAJOR == 1 && TUBO_OK == 0 && TUBO_EOF > 0 ? 0 : 1;
}
SRC
cp "$dir/use.c" "$dir/use.cc"
set -x
gcc -std=c99 -pedantic -Wall -Wextra -Werror -c "$dir/use.c" -o "$dir/c99.o"
gcc -std=c11 -pedantic -Wall -Wextra -Werror -c "$dir/use.c" -o "$dir/c11.o"
g++ -std=c++17 -Wall -Wextra -Werror -c "$dir/use.cc" -o "$dir/cxx.o"
# Every declaration has C linkage when compiled as C++.
if grep -q '_Z' <<<"$(nm "$dir/cxx.o")"; then  # no pipe: grep -q would SIGPIPE nm
  echo "C++ mangled names in the C++ unit" >&2
  exit 1
fi
echo "header compiles as C99, C11 and C++17"
