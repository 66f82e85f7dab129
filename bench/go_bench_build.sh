#!/usr/bin/env bash
# Builds bench/go/abi_bench.go against the Go binding, as bindings/go's
# go_build.sh builds the examples (a genrule runs it): offline (GOPROXY=off),
# caches in a scratch directory, RUNPATH $ORIGIN/../capi (bazel-bin/bench ->
# bazel-bin/capi/libtubo.so.1).
#   go_bench_build.sh <out> <go_env.sh> <tools/install> <libtubo.so.1> <tubo.h> <go.mod> <main.go>
set -euo pipefail
out="$(pwd)/$1"
go_env_sh="$(pwd)/$2" install_sh="$(pwd)/$3" lib="$(pwd)/$4" header="$(pwd)/$5" mod="$6" main="$(pwd)/$7"
scratch="$(mktemp -d)"
trap 'chmod -R u+w "$scratch"; rm -rf "$scratch"' EXIT
. "$go_env_sh"
go_env "$scratch" "$install_sh" "$lib" "$header" "$mod"
export CGO_LDFLAGS='-Wl,-rpath,$ORIGIN/../capi'
cp -rL "$(dirname "$mod")" "$scratch/src"
mkdir -p "$scratch/src/cmd/abi_bench"
cp "$main" "$scratch/src/cmd/abi_bench/main.go"
cd "$scratch/src"
go build -trimpath -o "$out" ./cmd/abi_bench
