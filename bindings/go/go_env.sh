# Sourced by go_test.sh, gofmt_test.sh, go_build.sh, bench/go_bench_build.sh
# and tools/setup. Defines functions and the staticcheck version, nothing else.

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

# The staticcheck release the Go tests lint with (honnef.co/go/tools): 2026.1,
# the release that supports Go 1.26 (2026.2 needs Go 1.27). tools/setup
# installs it into /usr/local/bin through the Go module proxy.
STATICCHECK_VERSION=v0.7.0
STATICCHECK_BIN=/usr/local/bin/staticcheck

# staticcheck_tool: prints the path of staticcheck $STATICCHECK_VERSION,
# built by the Go toolchain in use (same major.minor: staticcheck refuses
# code of a newer Go than its own); fails, saying to run tools/setup, when
# there is none. Call after go_toolchain (or go_env).
staticcheck_tool() {
  local bin="$STATICCHECK_BIN" built_with have
  if [ ! -x "$bin" ]; then
    echo "go_env.sh: no staticcheck at $bin (run tools/setup)" >&2
    return 1
  fi
  if ! "$bin" -version 2>/dev/null | grep -qF "($STATICCHECK_VERSION)"; then
    echo "go_env.sh: $bin is $("$bin" -version 2>&1), not $STATICCHECK_VERSION (run tools/setup)" >&2
    return 1
  fi
  built_with="$(go version "$bin" | awk '{ print $2 }')"
  have="$(go env GOVERSION)"
  if [ "$(go_minor "$built_with")" != "$(go_minor "$have")" ]; then
    echo "go_env.sh: $bin was built with $built_with, the Go in use is $have (run tools/setup)" >&2
    return 1
  fi
  echo "$bin"
}

# go_minor <goX.Y.Z>: X.Y
go_minor() {
  local major minor
  IFS=. read -r major minor _ <<<"${1#go}"
  echo "$major.${minor%%[!0-9]*}"
}
