#!/usr/bin/env bash
# Builds the Go examples and the interop parent as binaries (a genrule runs
# it). Each finds libtubo.so.1 through RUNPATH $ORIGIN/../../capi, which holds
# both in bazel-bin and in a runfiles tree that has //capi:libtubo.so.1.
#   go_build.sh <out dir> <tools/install> <libtubo.so.1> <tubo.h> <go.mod> <name=package>...
set -euo pipefail
out="$(pwd)/$1"
install_sh="$(pwd)/$2" lib="$(pwd)/$3" header="$(pwd)/$4" mod="$5"
shift 5
scratch="$(mktemp -d)"
trap 'chmod -R u+w "$scratch"; rm -rf "$scratch"' EXIT
. "$(dirname "$0")/go_env.sh"
go_env "$scratch" "$install_sh" "$lib" "$header" "$mod"
export CGO_LDFLAGS='-Wl,-rpath,$ORIGIN/../../capi'
cp -rL "$(dirname "$mod")" "$scratch/src"
cd "$scratch/src"
for spec in "$@"; do
  go build -trimpath -o "$out/${spec%%=*}" "./${spec#*=}"
done
