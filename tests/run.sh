#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian 12 packages), builds, runs every
# test with ctest, then rebuilds with clang, AddressSanitizer + UndefinedBehaviorSanitizer,
# runs the unit tests again and every fuzz target for FUZZ_SECONDS (default 20) each.
# Exits non-zero on any failure.
#   tests/run.sh            everything
#   tests/run.sh --quick    the normal build and its tests only (no sanitizer pass)
set -euo pipefail
cd "$(dirname "$0")/.."

bash installers/deps-debian.sh

werror=OFF
[[ "${CI:-}" == "true" ]] && werror=ON
jobs=$(nproc)
# ccache hits whatever directory the tree was built in before: the sanitizer tree carries
# line tables, and without these ccache would key its objects by the directory too.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
# Free disk at each step: CI once ran out of it while linking.
free_disk() { df -h --output=avail . | tail -1 | tr -d ' '; }

# Optimised as the packages are, without debug information: it is most of the build time
# and a test run does not need it (rebuild with RelWithDebInfo to debug a failure).
echo "== build (warnings as errors: $werror) at ${SECONDS}s, $(free_disk) free"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
      -DMUSTER_WERROR=$werror >/dev/null
cmake --build build -j "$jobs"

echo "== tests at ${SECONDS}s"
ctest --test-dir build --output-on-failure -j "$jobs" | tee build/ctest.log
# A test that cannot run here (no root, no tmpfs, a tool missing) reports itself skipped.
# CI's machine has all it needs, so there a skipped test means an acceptance went unchecked.
if [[ "${CI:-}" == "true" ]] && grep -q "(Skipped)" build/ctest.log; then
  echo "CI: these tests were skipped, which CI does not allow:" >&2
  grep "(Skipped)" build/ctest.log >&2
  exit 1
fi

if [[ "${1:-}" != "--quick" ]]; then
  # ONE sanitizer tree, built by clang, serves both passes: the libraries carry libFuzzer's
  # coverage instrumentation (MUSTER_FUZZ), which the unit tests ignore. Its own directory,
  # since CMake cannot switch the compiler of an existing tree.
  echo "== unit tests under ASan + UBSan (clang) at ${SECONDS}s, $(free_disk) free"
  # Line tables are all the sanitizers' reports need, at a fraction of full -g's build time.
  # Shared libraries: linked statically, every instrumented test binary carried its own copy
  # of the libraries and of Catch's main, 3.8 GB in all; shared, the tree is 1.4 GB.
  CC=clang CXX=clang++ cmake -S . -B build-sanitize-clang -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -gline-tables-only" -DBUILD_SHARED_LIBS=ON \
        -DMUSTER_SANITIZE=ON -DMUSTER_FUZZ=ON -DMUSTER_WERROR=$werror >/dev/null
  cmake --build build-sanitize-clang -j "$jobs" --target muster_unit_tests muster_fuzz_targets
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize-clang --output-on-failure -j "$jobs" -L unit

  echo "== fuzz targets, ${FUZZ_SECONDS:-20} s each, at ${SECONDS}s, $(free_disk) free"
  tests/fuzz/run.sh build-sanitize-clang
fi
echo "== all passed in ${SECONDS}s, $(free_disk) free"
