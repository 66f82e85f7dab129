#!/usr/bin/env bash
# Checks how the system abseil stand-in (system_libraries.bzl) links: a program
# takes abseil's static archives (no libabsl_* among its DT_NEEDED entries, so
# no dynamic loading at start), libtubo.so.1 its shared libraries (DT_NEEDED
# libabsl_status.so.*, with no RUNPATH into Bazel's output tree).
#
# Usage: system_abseil_test.sh PROGRAM LIBTUBO_SO_1
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PROGRAM LIBTUBO_SO_1" >&2; exit 2; }
program=$1 lib=$2
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
fail=0

if needed "$program" | grep -q '^libabsl_'; then
  echo "FAIL: $program links abseil's shared libraries:" $(needed "$program" | grep '^libabsl_')
  fail=1
else
  echo "ok: $program needs no libabsl_*:" $(needed "$program")
fi

if ! needed "$lib" | grep -q '^libabsl_status\.so\.'; then
  echo "FAIL: $lib does not need libabsl_status.so.*; it needs:" $(needed "$lib")
  fail=1
else
  echo "ok: $lib needs $(needed "$lib" | grep -c '^libabsl_') libabsl_* shared libraries"
fi
if readelf -d "$lib" | grep -q 'R\(UN\)\?PATH'; then
  echo "FAIL: $lib has a search path:" $(readelf -d "$lib" | grep 'R\(UN\)\?PATH')
  fail=1
fi
exit $fail
