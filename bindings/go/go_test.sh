#!/usr/bin/env bash
# Runs `go vet` and `go test` on the Go binding against the Bazel-built
# libtubo.so.1, offline (GOPROXY=off; the module has no dependencies). The Go
# programs of bench/go are vetted with it, each as a command of the module
# (as bench/go_bench_build.sh builds them).
#   go_test.sh <tools/install> <libtubo.so.1> <tubo.h> <bindings/go/go.mod> [bench/go/X.go...]
set -euo pipefail
here="$(dirname "$0")"
. "$here/go_env.sh"
go_env "$TEST_TMPDIR/go" "$1" "$2" "$3" "$4"
export CGO_LDFLAGS="-Wl,-rpath,$TEST_TMPDIR/go/prefix/lib"
# A private copy of the module: runfiles are symlinks, and go wants plain files.
cp -rL "$(dirname "$4")" "$TEST_TMPDIR/go/src"
for program in "${@:5}"; do
  mkdir -p "$TEST_TMPDIR/go/src/cmd/$(basename "$program" .go)"
  cp "$program" "$TEST_TMPDIR/go/src/cmd/$(basename "$program" .go)/main.go"
done
cd "$TEST_TMPDIR/go/src"
echo "$(go version) from $(command -v go)"
start=$(date +%s)
go vet ./...
go test -count=1 ./...
echo "go vet + go test (cold build cache): $(( $(date +%s) - start )) s"
