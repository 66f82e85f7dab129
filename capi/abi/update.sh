#!/usr/bin/env bash
# Regenerates capi/abi/symbols.txt and capi/abi/libtubo.abi from a fresh build.
# Run after an intended ABI change (a new function), and review the diff.
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //capi:libtubo.so.1
so=bazel-bin/capi/libtubo.so.1
nm -D --defined-only "$so" | awk '{print $3}' | sort >capi/abi/symbols.txt
abidw --exported-interfaces-only --header-file capi/tubo.h --drop-private-types \
  --no-corpus-path --no-comp-dir-path "$so" >capi/abi/libtubo.abi
