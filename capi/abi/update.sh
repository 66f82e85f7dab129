#!/usr/bin/env bash
# Regenerates capi/abi/symbols.txt and capi/abi/libtubo.abi from a fresh build.
# Run after an intended ABI change (a new function), and review the diff.
# abidw reads the public headers (capi/tubo.h and the topic headers
# capi/tubo_*.h it includes) to tell public types from private ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //capi:libtubo.so.1
so=bazel-bin/capi/libtubo.so.1
nm -D --defined-only "$so" | awk '{print $3}' | sort >capi/abi/symbols.txt
header_args=()
for h in capi/tubo.h capi/tubo_*.h; do header_args+=(--header-file "$h"); done
abidw --exported-interfaces-only "${header_args[@]}" --drop-private-types \
  --no-corpus-path --no-comp-dir-path "$so" >capi/abi/libtubo.abi
