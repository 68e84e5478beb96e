#!/usr/bin/env bash
# Collector ingest benchmark (issue 5 and 9): builds a Release collector and muster-loadgen,
# makes a fresh installation in a temporary directory, starts `muster-collector serve` and
# runs the load generator against it: N new hosts enroll and send full reports (~900
# packages each), then unchanged deltas, then churn (a few packages upgraded per host).
# Prints the table and writes the figures as JSON.
#
#   tests/bench/run-ingest.sh [--agents N] [--deltas K] [--concurrency C] [--out FILE]
#                             [--build DIR] [-- more muster-loadgen options]
#
# Defaults: 10000 agents (or $MUSTER_BENCH_AGENTS), 3 deltas and 3 churn rounds per agent,
# 64 connections, tests/bench/results/ingest.json, a Release build in build-release
# (--build DIR: an existing, already configured build directory instead).
set -euo pipefail
cd "$(dirname "$0")/../.."

agents=${MUSTER_BENCH_AGENTS:-10000}
deltas=3
concurrency=64
out=tests/bench/results/ingest.json
build=
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --agents) agents=$2; shift 2 ;;
        --deltas) deltas=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "run-ingest.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
    esac
done

source tests/bench/lib.sh
bench_build "$build" muster-collector muster-loadgen
loadgen_bin=$bench_build_dir/tests/bench/loadgen/muster-loadgen
# Every agent stays under the default 60 reports a minute at 10,000 agents; a small N sends
# its rounds faster, so the limit is raised to measure the collector, not its rate limiter.
bench_start_collector "$bench_build_dir/collector/muster-collector" \
    's/^  agent_rate_per_minute: .*/  agent_rate_per_minute: 100000/; s/^  level: info/  level: warn/'
work=$bench_work
port=$bench_port
sed -n 's/^  enrollment_token: "\(.*\)"$/\1/p' "$work/c/agent.yaml" > "$work/token"

mkdir -p "$(dirname "$out")"
echo "$(date -u +%FT%TZ) $(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)" >&2
status=0
"$loadgen_bin" --url "https://127.0.0.1:$port" --ca "$work/c/ca.pem" \
    --token-file "$work/token" --agents "$agents" --concurrency "$concurrency" \
    --phases full,delta,churn --deltas-per-agent "$deltas" \
    --collector-pid "$collector_pid" --db "$work/c/cmdb.sqlite" --json "$out" \
    "${extra[@]}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "muster-loadgen exited with $status; collector log:" >&2
    tail -20 "$work/collector.log" >&2
fi
echo "figures written to $out" >&2
exit "$status"
