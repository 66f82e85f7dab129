# Sourced by go_test.sh, gofmt_test.sh, go_build.sh, bench/go_bench_build.sh
# and tools/setup. Defines functions only.

# go_toolchain <go.mod>: puts first in PATH the directory of the Go toolchain
# to use, the first of these whose version is at least go.mod's `go` line:
# the `go` on the caller's PATH, /usr/local/go/bin/go (an upstream install),
# /usr/bin/go (Debian's golang-go, last even when the PATH finds it first, as
# a PATH without /usr/local/go/bin does: the machine's own Go comes first).
# Fails, saying so, when there is none.
go_toolchain() {
  local need path_go candidate version
  need="$(awk '$1 == "go" { print $2; exit }' "$1")"
  path_go="$(command -v go || true)"
  if [ -n "$path_go" ] && [ "$(readlink -f "$path_go")" = "$(readlink -f /usr/bin/go 2>/dev/null)" ]; then
    path_go=""
  fi
  for candidate in "$path_go" /usr/local/go/bin/go /usr/bin/go; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    version="$(GOTOOLCHAIN=local "$candidate" env GOVERSION 2>/dev/null)" || continue
    if go_version_at_least "${version#go}" "$need"; then
      export PATH="$(dirname "$candidate"):$PATH"
      return 0
    fi
  done
  echo "go_env.sh: no Go toolchain of version $need or later (on PATH, in /usr/local/go/bin or /usr/bin)" >&2
  return 1
}

# go_version_at_least <have> <need>: 1.26.8 >= 1.19 (major and minor; a
# prerelease suffix such as rc1 is ignored).
go_version_at_least() {
  local have_major have_minor need_major need_minor
  IFS=. read -r have_major have_minor _ <<<"$1"
  IFS=. read -r need_major need_minor _ <<<"$2"
  have_minor="${have_minor%%[!0-9]*}"
  need_minor="${need_minor%%[!0-9]*}"
  [ "${have_major:-0}" -gt "${need_major:-0}" ] ||
    { [ "${have_major:-0}" -eq "${need_major:-0}" ] && [ "${have_minor:-0}" -ge "${need_minor:-0}" ]; }
}

# go_env <scratch dir> <tools/install> <libtubo.so.1> <tubo.h> <go.mod>: that
# Go toolchain, downloading nothing (no modules, no other toolchain) and
# writing only under the scratch dir, and a tubo install (tools/install) in
# <scratch dir>/prefix that `#cgo pkg-config: tubo` finds.
# (tools/install takes the topic headers tubo.h includes from its directory:
# a Bazel rule calling this has //capi:headers among its inputs.)
go_env() {
  local scratch="$1" install_sh="$2" lib="$3" header="$4" mod="$5"
  mkdir -p "$scratch/home"
  export HOME="$scratch/home"
  export GOCACHE="$scratch/gocache"
  export GOPATH="$scratch/gopath"
  export GOMODCACHE="$scratch/gopath/pkg/mod"
  export GOPROXY=off GOSUMDB=off GOFLAGS=-mod=readonly GOWORK=off GO111MODULE=on
  export GOTOOLCHAIN=local
  export CGO_ENABLED=1
  go_toolchain "$mod"
  "$install_sh" --prefix "$scratch/prefix" --lib "$lib" --header "$header" >/dev/null
  export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig"
}
