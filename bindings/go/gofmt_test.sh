#!/usr/bin/env bash
# Fails when gofmt would change a Go file (those of bindings/go and bench/go),
# and shows the change. The gofmt is that of the Go toolchain go_env.sh picks.
#   gofmt_test.sh <bindings/go/go.mod> <file>...   (files not ending in .go are skipped)
set -euo pipefail
. "$(dirname "$0")/go_env.sh"
export HOME="${TEST_TMPDIR:-$(mktemp -d)}"
go_toolchain "$1"
shift
files=()
for f in "$@"; do
  case "$f" in *.go) files+=("$f") ;; esac
done
[ ${#files[@]} -gt 0 ] || { echo "gofmt_test.sh: no Go files given" >&2; exit 2; }
unformatted="$(gofmt -l "${files[@]}")"
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files (gofmt -w them):"
  echo "$unformatted"
  # shellcheck disable=SC2086  # one path a line, no spaces in them
  gofmt -d $unformatted
  exit 1
fi
echo "gofmt: ${#files[@]} Go files formatted ($(command -v gofmt), $(go version))"
