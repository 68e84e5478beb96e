#!/usr/bin/env bash
# The admin API at fleet scale (issue 7): builds muster-cmdb-bench (RelWithDebInfo), makes a
# synthetic CMDB of 10,000 hosts with about 900 packages each through the store's ingest, and
# times the API's questions (median and p99). Arguments go to the program:
#   tests/bench/cmdb-scale.sh [--hosts N] [--packages N] [--runs N] [--db FILE] [--reuse]
# Building the CMDB takes a few minutes and about 2 GB of disk (default file in $TMPDIR);
# --reuse --db FILE times an existing one again.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${MUSTER_BENCH_BUILD:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target muster-cmdb-bench >/dev/null
exec "$build/tests/muster-cmdb-bench" "$@"
