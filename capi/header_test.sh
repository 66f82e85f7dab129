#!/usr/bin/env bash
# The public headers (capi/tubo.h and the topic headers it includes) compile
# as C99 (-pedantic -Werror), as C11 and as C++17: tubo.h, and each topic
# header on its own (it includes what it needs); each can be included twice
# in one unit. Arguments: every public header, tubo.h among them.
set -euo pipefail
dir="$TEST_TMPDIR/hdr"
mkdir -p "$dir"
cp "$@" "$dir/"
chmod u+w "$dir"/*.h
test -f "$dir/tubo.h"
# tubo.h includes every topic header given (none is left out of the whole).
for h in "$@"; do
  name="$(basename "$h")"
  [ "$name" = tubo.h ] && continue
  if ! grep -qxF "#include \"$name\"" "$dir/tubo.h"; then
    echo "tubo.h does not include $name" >&2
    exit 1
  fi
done
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
compile() {  # compile <unit.c> <name>: as C99, C11 and C++17; C linkage only
  local src="$1" name="$2"
  cp "$src" "$dir/$name.cc"
  gcc -std=c99 -pedantic -Wall -Wextra -Werror -c "$src" -o "$dir/$name.c99.o"
  gcc -std=c11 -pedantic -Wall -Wextra -Werror -c "$src" -o "$dir/$name.c11.o"
  g++ -std=c++17 -Wall -Wextra -Werror -c "$dir/$name.cc" -o "$dir/$name.cxx.o"
  # Every declaration has C linkage when compiled as C++.
  if grep -q '_Z' <<<"$(nm "$dir/$name.cxx.o")"; then  # no pipe: grep -q would SIGPIPE nm
    echo "C++ mangled names in the C++ unit of $name" >&2
    exit 1
  fi
}
set -x
compile "$dir/use.c" use
for h in "$dir"/tubo_*.h; do
  name="$(basename "$h" .h)"
  printf '#include "%s.h"\n#include "%s.h"\nint main(void) { return 0; }\n' \
    "$name" "$name" >"$dir/alone_$name.c"
  compile "$dir/alone_$name.c" "alone_$name"
done
set +x
echo "tubo.h and each topic header compile as C99, C11 and C++17"
