# Sourced by go_test.sh and go_build.sh: a Go toolchain that downloads
# nothing and writes only under $1, and a tubo install (tools/install) in
# $1/prefix that `#cgo pkg-config: tubo` finds.
#   go_env <scratch dir> <tools/install> <libtubo.so.1> <tubo.h>
# (tools/install takes the topic headers tubo.h includes from its directory:
# a Bazel rule calling this has //capi:headers among its inputs.)
go_env() {
  local scratch="$1" install_sh="$2" lib="$3" header="$4"
  mkdir -p "$scratch/home"
  export HOME="$scratch/home"
  export GOCACHE="$scratch/gocache"
  export GOPATH="$scratch/gopath"
  export GOMODCACHE="$scratch/gopath/pkg/mod"
  export GOPROXY=off GOSUMDB=off GOFLAGS=-mod=readonly GOWORK=off GO111MODULE=on
  export CGO_ENABLED=1
  export PATH="/usr/bin:/bin:$PATH"
  "$install_sh" --prefix "$scratch/prefix" --lib "$lib" --header "$header" >/dev/null
  export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig"
}
