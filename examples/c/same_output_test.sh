#!/usr/bin/env bash
# The C program ($1) prints exactly what the C++ one ($2) prints, and both succeed.
set -euo pipefail
"$1" >"$TEST_TMPDIR/c.out"
"$2" >"$TEST_TMPDIR/cpp.out"
# square_even's two workers print concurrently: compare sorted lines then.
if ! diff -u "$TEST_TMPDIR/cpp.out" "$TEST_TMPDIR/c.out"; then
  sort "$TEST_TMPDIR/c.out" >"$TEST_TMPDIR/c.sorted"
  sort "$TEST_TMPDIR/cpp.out" >"$TEST_TMPDIR/cpp.sorted"
  diff -u "$TEST_TMPDIR/cpp.sorted" "$TEST_TMPDIR/c.sorted"
  [ "$(tail -n1 "$TEST_TMPDIR/c.out")" = Done ]
fi
echo "same output"
