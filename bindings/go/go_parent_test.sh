#!/usr/bin/env bash
# go_parent (the Go parent of the matrix) against each echo worker given after
# it; a CPython worker (*.py) runs under python3. Also: a worker that breaks
# the contract makes go_parent fail.
#   go_parent_test.sh <go_parent> <worker>...
set -euo pipefail
parent="$1"
shift
for worker in "$@"; do
  case "$worker" in
    *.py) "$parent" -- python3 "$worker" ;;
    *) "$parent" -- "$worker" ;;
  esac
done
if "$parent" -timeout 10s -- sh -c 'exit 0' 2>"$TEST_TMPDIR/err"; then
  echo "go_parent passed a worker that echoes nothing" >&2
  exit 1
fi
grep -q FAIL "$TEST_TMPDIR/err"
echo "go_parent drives every echo worker"
