#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian 12 packages), builds, runs every
# test with ctest, then rebuilds with AddressSanitizer + UndefinedBehaviorSanitizer and runs
# the unit tests again. Exits non-zero on any failure.
#   tests/run.sh            everything
#   tests/run.sh --quick    the normal build and its tests only (no sanitizer pass)
set -euo pipefail
cd "$(dirname "$0")/.."

bash installers/deps-debian.sh

werror=OFF
[[ "${CI:-}" == "true" ]] && werror=ON
jobs=$(nproc)

echo "== build (warnings as errors: $werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUSTER_WERROR=$werror >/dev/null
cmake --build build -j "$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [[ "${1:-}" != "--quick" ]]; then
  echo "== unit tests under ASan + UBSan"
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMUSTER_SANITIZE=ON \
        -DMUSTER_WERROR=$werror >/dev/null
  cmake --build build-sanitize -j "$jobs" --target muster_unit_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j "$jobs" -L unit
fi
