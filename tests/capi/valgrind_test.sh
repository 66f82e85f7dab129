#!/usr/bin/env bash
# No leaks through the C ABI, consumed-on-failure paths included: the in-process
# suites of capi_test under valgrind (definite leaks and memory errors fail).
set -euo pipefail
if ! command -v valgrind >/dev/null; then
  echo "valgrind is not installed (tools/setup installs it)" >&2
  exit 1
fi
exec valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 -q \
  "$1" --gtest_filter='Consumed.*:Pipe.*:End.*:Null.*:Error.*:Duplex.*:WaitSet.*:Version.*'
