#!/usr/bin/env bash
# Tests the Go binding against the Bazel-built libtubo.so.1, offline
# (GOPROXY=off; the module has no dependencies). The Go programs of bench/go
# are checked with it, each as a command of the module (as
# bench/go_bench_build.sh builds them).
#   go_test.sh [--race | --run REGEXP] <tools/install> <libtubo.so.1> <tubo.h> <bindings/go/go.mod> [bench/go/X.go...]
# Without an option: `go vet`, staticcheck (installed by tools/setup; any
# finding fails) and `go test`. With --race: `go test -race` only (the race
# detector, which fails the test on a data race). With --run REGEXP: only the
# package's tests REGEXP matches, verbose (their output shown; the stress
# suite's Go figures).
set -euo pipefail
usage="usage: go_test.sh [--race | --run REGEXP] <tools/install> <libtubo.so.1> <tubo.h> <bindings/go/go.mod> [bench/go/X.go...]"
race=false
run=""
if [ "${1:-}" = "--race" ]; then
  race=true
  shift
elif [ "${1:-}" = "--run" ]; then
  if [ -z "${2:-}" ]; then
    echo "go_test.sh: --run needs a test name pattern; $usage" >&2
    exit 2
  fi
  run="$2"
  shift 2
fi
if [ $# -lt 4 ]; then
  echo "$usage" >&2
  exit 2
fi
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
# The pool tests' workers, from the runfiles: the C++ and C exec workers and
# the standard-library Python one (a test skips without its variable).
export TUBO_TEST_CPP_POOL_WORKER="$PWD/tests/pool/pool_test_worker"
export TUBO_TEST_C_POOL_WORKER="$PWD/tests/capi/capi_pool_worker"
export TUBO_TEST_STDLIB_POOL_WORKER="$PWD/tests/pool/stdlib_worker.py"
cd "$TEST_TMPDIR/go/src"
echo "$(go version) from $(command -v go)"
start=$(date +%s)
if [ -n "$run" ]; then
  go test -count=1 -v -run "$run" .
  exit 0
fi
if $race; then
  go test -race -count=1 ./...
  echo "go test -race (cold build cache): $(( $(date +%s) - start )) s"
  exit 0
fi
go vet ./...
staticcheck="$(staticcheck_tool)"
echo "$("$staticcheck" -version) from $staticcheck"
"$staticcheck" ./...
go test -count=1 ./...
echo "go vet + staticcheck + go test (cold build cache): $(( $(date +%s) - start )) s"
