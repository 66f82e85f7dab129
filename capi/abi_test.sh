#!/usr/bin/env bash
# The ABI of libtubo.so.1 (functions, their types, the layout of public
# structs) matches the committed baseline capi/abi/libtubo.abi (abidw output).
# Any difference fails, compatible additions included: regenerate with
# capi/abi/update.sh after an intended change and review the diff.
# Arguments: the library, the baseline, then every public header (tubo.h and
# the topic headers it includes): abidw keeps the types they declare.
set -euo pipefail
so="$1"
baseline="$2"
shift 2
if ! command -v abidiff >/dev/null; then
  echo "abidiff is not installed (tools/setup installs abigail-tools)" >&2
  exit 1
fi
header_args=()
for h in "$@"; do header_args+=(--header-file "$h"); done
current="$TEST_TMPDIR/current.abi"
abidw --exported-interfaces-only "${header_args[@]}" --drop-private-types \
  --no-corpus-path --no-comp-dir-path "$so" >"$current"
status=0
abidiff "$baseline" "$current" 2>"$TEST_TMPDIR/abidiff.err" || status=$?
# abidiff exits 0 on a baseline it cannot parse: treat any diagnostic as failure.
if [ -s "$TEST_TMPDIR/abidiff.err" ]; then
  cat "$TEST_TMPDIR/abidiff.err" >&2
  echo "abidiff could not read the baseline or the library" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "abidiff exit status $status: the ABI differs from $baseline (above)" >&2
  exit 1
fi
echo "ABI matches the baseline"
