#!/usr/bin/env bash
# Agent daemon footprint (issue 9): resident memory and CPU of `muster-agent run` left alone
# for a while (default 10 minutes) with the default schedule (inventory every hour, 5 minutes
# of splay) and the example checks of config/agent.yaml, reporting to a real collector on
# loopback. Samples /proc/PID every 5 s once the first report is acknowledged; prints RSS
# (median and peak), CPU seconds and percent of one core over the window, and writes JSON.
#
#   tests/bench/run-daemon-idle.sh [--minutes N] [--build DIR] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."

minutes=10
out=tests/bench/results/daemon-idle.json
build=
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "run-daemon-idle.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
    esac
done
source tests/bench/lib.sh
bench_build "$build" muster-agent muster-collector
agent=$(realpath "$bench_build_dir/agent/muster-agent")
bench_start_collector "$(realpath "$bench_build_dir/collector/muster-collector")"
work=$bench_work

# The agent.yaml init wrote (collector, token, state) plus the example checks; no splay, so
# the first report comes at once and the idle window starts after it.
{
    cat "$work/c/agent.yaml"
    printf 'inventory:\n  interval: 1h\n  splay: 0s\n'
    sed -n '/^checks:/,$p' config/agent.yaml
} > "$work/agent.yaml"
chmod 600 "$work/agent.yaml"

"$agent" run --config "$work/agent.yaml" 2> "$work/agent.log" &
agent_pid=$!
bench_extra_pids+=("$agent_pid")
for _ in $(seq 600); do
    grep -q "acknowledged" "$work/agent.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "acknowledged" "$work/agent.log" || { echo "no acknowledged report; agent log:" >&2; tail "$work/agent.log" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$agent_pid/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status"; }
start_ticks=$(cpu_ticks)
samples=()
end=$((SECONDS + minutes * 60))
while [ "$SECONDS" -lt "$end" ]; do
    samples+=("$(rss_kib)")
    sleep 5
done
cpu_seconds=$(awk -v a="$start_ticks" -v b="$(cpu_ticks)" -v t="$ticks" 'BEGIN { printf "%.2f", (b - a) / t }')
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$agent_pid/status")
read -r median_kib max_kib < <(printf '%s\n' "${samples[@]}" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }')
percent=$(awk -v c="$cpu_seconds" -v m="$minutes" 'BEGIN { printf "%.3f", 100 * c / (m * 60) }')
reports=$(grep -c "acknowledged" "$work/agent.log" || true)
checks=$(sed -n '/^checks:/,$p' config/agent.yaml | grep -c '^  - id:')

printf '%-40s %s\n' "window" "$minutes min after the first report ($checks checks configured)"
printf '%-40s %.1f MiB\n' "RSS, median of samples" "$(awk -v k="$median_kib" 'BEGIN { print k / 1024 }')"
printf '%-40s %.1f MiB\n' "RSS, highest sample" "$(awk -v k="$max_kib" 'BEGIN { print k / 1024 }')"
printf '%-40s %.1f MiB\n' "peak RSS since start (VmHWM)" "$(awk -v k="$hwm_kib" 'BEGIN { print k / 1024 }')"
printf '%-40s %s s (%s %% of one core)\n' "CPU in the window" "$cpu_seconds" "$percent"
printf '%-40s %s\n' "reports acknowledged (whole run)" "$reports"
mkdir -p "$(dirname "$out")"
cat > "$out" <<JSON
{"date": "$(date -u +%FT%TZ)", "machine": "$(uname -n), $(nproc) cores", "minutes": $minutes,
 "checks": $checks, "rss_median_kib": $median_kib, "rss_max_kib": $max_kib, "vm_hwm_kib": $hwm_kib,
 "cpu_seconds": $cpu_seconds, "cpu_percent_of_one_core": $percent, "reports_acknowledged": $reports}
JSON
echo "figures written to $out" >&2
