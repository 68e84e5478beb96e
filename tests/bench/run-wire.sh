#!/usr/bin/env bash
# Wire bytes (issue 9): what this machine's agent sends for its first full report, for a
# steady-state report with nothing changed, and for a report after one package upgrade.
# A real collector on loopback, the real agent (`muster-agent once`). The upgrade is made
# without touching the machine: in a private mount namespace (root only; skipped otherwise)
# a copy of /var/lib/dpkg/status with one package's version changed is bind-mounted over the
# real one for the agent's run. Prints a table and writes the figures as JSON.
#
#   tests/bench/run-wire.sh [--build DIR] [--out FILE]
#
# Sizes are the gzip-compressed, signed request body as the agent logs it ("report N (kind,
# B bytes gzip)"); the signature travels in a header of about 88 bytes, added in "with header".
set -euo pipefail
cd "$(dirname "$0")/../.."

out=tests/bench/results/wire.json
build=
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "run-wire.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
    esac
done
source tests/bench/lib.sh
bench_build "$build" muster-agent muster-collector
agent=$(realpath "$bench_build_dir/agent/muster-agent")
bench_start_collector "$(realpath "$bench_build_dir/collector/muster-collector")"
work=$bench_work

# Runs the agent once; prints "kind bytes" of the report it delivered.
report_once() {
    local log=$work/agent.log
    "$@" once --config "$work/c/agent.yaml" 2> "$log" || { cat "$log" >&2; exit 1; }
    sed -n 's/.*report [0-9]* (\([a-z]*\), \([0-9]*\) bytes gzip.*/\1 \2/p' "$log" | tail -1
}

read -r full_kind full_bytes < <(report_once "$agent")
read -r steady_kind steady_bytes < <(report_once "$agent")

upgrade_kind=skipped
upgrade_bytes=0
if [ "$(id -u)" -eq 0 ] && [ -r /var/lib/dpkg/status ]; then
    # One installed package gets a higher version: what an apt upgrade of it leaves behind.
    awk 'BEGIN { done = 0 }
         /^Version: / && !done && seen_installed { print $0 "+bench1"; done = 1; next }
         /^Status: install ok installed/ { seen_installed = 1 }
         /^$/ { seen_installed = 0 }
         { print }' /var/lib/dpkg/status > "$work/status"
    read -r upgrade_kind upgrade_bytes < <(report_once unshare -m sh -c \
        'mount --bind "$0" /var/lib/dpkg/status && exec "$@"' "$work/status" "$agent")
else
    echo "not root: the one-upgrade report is skipped (it needs a private mount namespace)" >&2
fi

header=88
printf '%-34s %-6s %12s %12s\n' "report" "kind" "body bytes" "with header"
printf '%-34s %-6s %12d %12d\n' "first report (full)" "$full_kind" "$full_bytes" $((full_bytes + header))
printf '%-34s %-6s %12d %12d\n' "steady state, nothing changed" "$steady_kind" "$steady_bytes" $((steady_bytes + header))
printf '%-34s %-6s %12d %12d\n' "after one package upgrade" "$upgrade_kind" "$upgrade_bytes" $((upgrade_bytes + header))
packages=$(dpkg-query -W 2>/dev/null | wc -l)
mkdir -p "$(dirname "$out")"
cat > "$out" <<JSON
{"date": "$(date -u +%FT%TZ)", "machine": "$(uname -n), $(nproc) cores", "dpkg_packages": $packages,
 "signature_header_bytes": $header,
 "full": {"kind": "$full_kind", "gzip_body_bytes": $full_bytes},
 "unchanged": {"kind": "$steady_kind", "gzip_body_bytes": $steady_bytes},
 "one_upgrade": {"kind": "$upgrade_kind", "gzip_body_bytes": $upgrade_bytes}}
JSON
echo "figures written to $out" >&2
