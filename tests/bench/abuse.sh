#!/usr/bin/env bash
# Abuse benchmark (issue 10): tests/integration/abuse_test.cpp with bigger numbers. Enrolled
# agents (muster-loadgen) report while the collector is flooded (unauthenticated requests,
# 1 GiB and endless bodies, gzip bombs, slowloris, idle sockets, malformed TLS). Prints the
# agents' success rate, the collector's peak RSS and the attacks made, and writes them as JSON.
#
#   tests/bench/abuse.sh [--seconds S] [--idle N] [--agents A] [--out FILE] [--build DIR]
#
# Defaults: 120 s, 5000 idle sockets, 200 agents, tests/bench/results/abuse.json, a Release
# build in build-release (--build DIR: an existing, already configured build directory).
# The hard RLIMIT_NOFILE must allow about N + 1100 descriptors.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=120
idle=5000
agents=200
out=tests/bench/results/abuse.json
build=
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        --agents) agents=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        *) echo "abuse.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
    esac
done

if [ -z "$build" ]; then
    build=build-release
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUSTER_TESTS=ON >/dev/null
fi
echo "building test_abuse_test in $build..." >&2
cmake --build "$build" -j "$(nproc)" --target test_abuse_test >/dev/null

mkdir -p "$(dirname "$out")"
status=0
MUSTER_ABUSE_SECONDS=$seconds MUSTER_ABUSE_IDLE=$idle MUSTER_ABUSE_AGENTS=$agents \
    MUSTER_ABUSE_JSON=$out "$build/tests/test_abuse_test" >"$out.log" 2>&1 || status=$?

python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{'agents':<28}{r['agents']}")
print(f"{'seconds':<28}{r['seconds']}")
print(f"{'idle sockets held':<28}{r['idle_connections']}")
print(f"{'reports acknowledged':<28}{r['acknowledged']}")
print(f"{'reports failed':<28}{r['failed']}")
print(f"{'answered 429/503, retried':<28}{r['retried']}")
print(f"{'success rate':<28}{r['success_rate'] * 100:.2f}%")
print(f"{'collector peak RSS':<28}{r['peak_rss_bytes'] / 2**20:.0f} MiB")
print(f"{'collector RSS at the end':<28}{r['end_rss_bytes'] / 2**20:.0f} MiB")
print("\nattack                      outcome                      count")
for kind, outcomes in sorted(r["attacks"].items()):
    for outcome, n in sorted(outcomes.items()):
        print(f"{kind:<28}{outcome:<29}{n}")
PY
echo "figures in $out; the test's output in $out.log" >&2
exit $status
