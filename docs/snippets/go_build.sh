#!/usr/bin/env bash
# Builds the Go blocks of a page of the API site (extracted by extract.py) as
# programs, offline, against the Bazel-built libtubo.so.1 (a genrule of
# docs/snippets/page.bzl runs it). Each block is a command of a private copy of
# the module github.com/tubo/tubo/bindings/go, which is what a reader's own
# module gets through a `replace`. A block that gofmt would change or that
# go vet reports on fails the build. The programs find libtubo.so.1 through
# RUNPATH <rpath> (relative to $ORIGIN).
#   go_build.sh <out dir> <rpath> <go_env.sh> <tools/install> <libtubo.so.1> <tubo.h> <go.mod> <X.go>...
set -euo pipefail
if [ $# -lt 8 ]; then
  echo "usage: go_build.sh <out dir> <rpath> <go_env.sh> <tools/install> <libtubo.so.1> <tubo.h> <go.mod> <X.go>..." >&2
  exit 2
fi
out="$(pwd)/$1" rpath="$2" go_env_sh="$3"
install_sh="$(pwd)/$4" lib="$(pwd)/$5" header="$(pwd)/$6" mod="$7"
shift 7
scratch="$(mktemp -d)"
trap 'chmod -R u+w "$scratch"; rm -rf "$scratch"' EXIT
. "$go_env_sh"
go_env "$scratch" "$install_sh" "$lib" "$header" "$mod"
export CGO_LDFLAGS="-Wl,-rpath,\$ORIGIN/$rpath"
unformatted="$(gofmt -l "$@")"
if [ -n "$unformatted" ]; then
  echo "go_build.sh: gofmt would change these Go blocks (the diff below):" >&2
  # shellcheck disable=SC2086  # one path a line, no spaces in them
  gofmt -d $unformatted >&2
  exit 1
fi
cp -rL "$(dirname "$mod")" "$scratch/src"
packages=()
for file in "$@"; do
  name="$(basename "$file" .go)"
  mkdir -p "$scratch/src/docs_snippets/$name"
  cp "$file" "$scratch/src/docs_snippets/$name/main.go"
  packages+=("./docs_snippets/$name")
done
cd "$scratch/src"
go vet "${packages[@]}"
for package in "${packages[@]}"; do
  go build -trimpath -o "$out/$(basename "$package")" "$package"
done
