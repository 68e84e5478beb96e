#!/usr/bin/env bash
# The README's first command: from a fresh Debian 12 machine to this host shown from the CMDB.
#
#   installers/quickstart.sh           install what is missing, build, start a collector on
#                                      this machine, enroll this machine's agent, show the host
#   installers/quickstart.sh --stop    stop the collector it started
#   installers/quickstart.sh --reset   stop it and delete the state directory
#
# Environment:
#   MUSTER_BUILD_DIR  use this existing build tree (skips the dependency install and the build)
#   MUSTER_STATE_DIR  the state directory (default: .muster in the repository)
#   MUSTER_PORT       the collector's port when the state directory is new (default 8443, or
#                     the first free port after it)
#
# Run again, it reuses the state directory (no second init) and a collector still running,
# and sends a fresh report. Nothing here needs root: the agent's inventory works unprivileged,
# with fewer fields (no serial numbers). Errors name the step that failed and its log.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state=$(realpath -m "${MUSTER_STATE_DIR:-$repo/.muster}")
pid_file=$state/collector.pid
collector_log=$state/collector.log
agent_log=$state/agent.log

say() { printf '\n==> %s\n' "$*"; }
die() {
    printf 'quickstart: %s\n' "$*" >&2
    exit 1
}

# Prints the last lines of a log after a failure, so the reason is on the screen.
show_log_tail() {
    [[ -s "$1" ]] || return 0
    printf -- '--- last lines of %s ---\n' "$1" >&2
    tail -n 15 "$1" >&2
}

# ---------------------------------------------------------------------------------------
# The collector process

# The pid in the pid file when it is our collector: a stale pid reused by another process
# must never be signalled.
running_collector_pid() {
    [[ -r "$pid_file" ]] || return 1
    local pid
    pid=$(<"$pid_file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    local cmdline
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ "$cmdline" == *"muster-collector serve --config $state/collector.yaml " ]] || return 1
    echo "$pid"
}

# A zombie counts as gone: the collector outlives this script, and whoever inherits it may
# be slow to reap it.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat%% *}" != Z ]]
}

stop_collector() {
    local pid
    if ! pid=$(running_collector_pid); then
        rm -f "$pid_file"
        echo "quickstart: no collector of $state is running"
        return 0
    fi
    # It may end on its own between the check and the signal: then there is nothing to stop.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        # Checked again: after 30 s the pid may belong to another process.
        if [[ "$(running_collector_pid)" != "$pid" ]]; then
            rm -f "$pid_file"
            echo "quickstart: pid $pid is no longer our collector; not killing it"
            return 0
        fi
        echo "quickstart: collector $pid ignored SIGTERM for 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
    echo "quickstart: stopped the collector (pid $pid)"
}

reset_state() {
    stop_collector
    [[ -e "$state" ]] || return 0
    # Only what looks like ours: a typo in MUSTER_STATE_DIR must not delete a random tree.
    if [[ ! -f "$state/collector.yaml" ]] && [[ -n "$(ls -A "$state")" ]]; then
        die "$state holds no collector.yaml: not a quickstart state directory, not deleting it"
    fi
    rm -rf "$state"
    echo "quickstart: deleted $state"
}

# ---------------------------------------------------------------------------------------
# Build

find_binaries() {
    agent=$build/agent/muster-agent
    collector=$build/collector/muster-collector
    ctl=$build/collector/ctl/musterctl
    local bin
    for bin in "$agent" "$collector" "$ctl"; do
        [[ -x "$bin" ]] || die "$bin is missing: build the targets muster-agent, muster-collector and musterctl in $build"
    done
}

build_release() {
    if [[ -n "${MUSTER_BUILD_DIR:-}" ]]; then
        build=$(realpath -m "$MUSTER_BUILD_DIR")
        say "Using the build tree $build (MUSTER_BUILD_DIR; no build)"
        return
    fi
    say "Installing what is missing (installers/deps-debian.sh)"
    bash "$repo/installers/deps-debian.sh" || die "installers/deps-debian.sh failed (its output is above)"
    build=$repo/build-release
    local log=$build/quickstart-build.log
    say "Building a Release tree in $build (a few minutes the first time; log: $log)"
    mkdir -p "$build"
    if ! { cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUSTER_TESTS=OFF &&
        cmake --build "$build" -j "$(nproc)" --target muster-agent muster-collector musterctl; } \
        >"$log" 2>&1; then
        show_log_tail "$log"
        die "the build failed; the full log is $log"
    fi
}

# ---------------------------------------------------------------------------------------
# Collector

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

choose_port() {
    if [[ -n "${MUSTER_PORT:-}" ]]; then
        [[ "$MUSTER_PORT" =~ ^[0-9]+$ ]] && ((MUSTER_PORT >= 1 && MUSTER_PORT <= 65535)) ||
            die "MUSTER_PORT must be a port number from 1 to 65535, got '$MUSTER_PORT'"
        port_in_use "$MUSTER_PORT" && die "port $MUSTER_PORT (MUSTER_PORT) is already in use"
        echo "$MUSTER_PORT"
        return
    fi
    local p
    for p in $(seq 8443 8543); do
        port_in_use "$p" || {
            echo "$p"
            return
        }
    done
    die "no free port from 8443 to 8543; set MUSTER_PORT"
}

init_collector() {
    if [[ -f "$state/collector.yaml" ]]; then
        say "Reusing the collector installation in $state (no new init)"
        return
    fi
    local port
    port=$(choose_port)
    say "Creating a collector installation in $state (CA, certificates, tokens; port $port)"
    mkdir -p "$(dirname "$state")"
    # The init's summary shows the tokens; they are in agent.yaml and ctl.yaml already.
    local out
    if ! out=$("$collector" init --dir "$state" --listen "127.0.0.1:$port" 2>&1 >/dev/null); then
        die "muster-collector init --dir $state failed: $out"
    fi
}

start_collector() {
    local pid
    if pid=$(running_collector_pid); then
        say "The collector is already running (pid $pid); reusing it"
        return
    fi
    say "Starting the collector (log: $collector_log)"
    # Input from /dev/null and output to the log: the collector outlives this script and
    # must hold none of its terminal or pipes.
    nohup "$collector" serve --config "$state/collector.yaml" </dev/null >>"$collector_log" 2>&1 &
    echo $! >"$pid_file"
}

wait_for_collector() {
    local pid rc
    pid=$(<"$pid_file")
    for _ in $(seq 1 600); do
        alive "$pid" || {
            show_log_tail "$collector_log"
            rm -f "$pid_file"
            die "the collector exited at start; see $collector_log"
        }
        rc=0
        "$ctl" --config "$state/ctl.yaml" agents >/dev/null 2>&1 || rc=$?
        [[ $rc -eq 0 ]] && {
            echo "The collector answers at $(collector_url) (pid $pid)"
            return
        }
        # 3: not listening yet; anything else will not get better by waiting.
        [[ $rc -eq 3 ]] || die "musterctl cannot talk to the collector (exit $rc); see $collector_log"
        sleep 0.1
    done
    die "the collector did not answer within 60 s; see $collector_log"
}

collector_url() {
    sed -n 's/^url: "\(.*\)"$/\1/p' "$state/ctl.yaml"
}

# ---------------------------------------------------------------------------------------
# Agent and CMDB

agent_id() {
    local file=$state/agent-state/state.json
    [[ -f "$file" ]] || return 0
    sed -n 's/.*"agent_id":"\([^"]*\)".*/\1/p' "$file"
}

report_inventory() {
    local enrolled
    enrolled=$(agent_id)
    if [[ -n "$enrolled" ]]; then
        say "Sending a fresh report of this machine (agent $enrolled; only what changed)"
    else
        say "Enrolling this machine's agent and sending its first report"
    fi
    echo "(log: $agent_log)"
    local rc=0
    "$agent" once --config "$state/agent.yaml" >>"$agent_log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        show_log_tail "$agent_log"
        die "muster-agent once failed (exit $rc; 1 not delivered, 2 config error, 3 awaiting approval); see $agent_log and $collector_log"
    fi
    echo "Report acknowledged by the collector (agent $(agent_id))"
}

# The CI id of this machine, from the collector's list of agents (no field before ci_id can
# hold a comma, so plain CSV splitting is exact).
host_id() {
    "$ctl" --config "$state/ctl.yaml" --format csv agents --all | tr -d '\r' |
        awk -F, -v agent="$1" '
            NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "agent_id") a = i; if ($i == "ci_id") c = i }; next }
            $a == agent { print $c; exit }'
}

show_host() {
    local id
    id=$(host_id "$(agent_id)")
    [[ -n "$id" ]] || die "the CMDB has no host for agent $(agent_id); see $collector_log"
    say "This host as the CMDB sees it: musterctl --config $state/ctl.yaml host $id"
    "$ctl" --config "$state/ctl.yaml" host "$id" ||
        die "musterctl host $id failed; see $collector_log"
    host_ci=$id
}

next_steps() {
    cat <<EOF

==> Next commands to try (paste the two alias lines first)
  alias musterctl='$ctl --config $state/ctl.yaml'
  alias muster-agent='$agent'
  musterctl hosts
  musterctl hosts --software 'openssl<3.0.2'
  musterctl history $host_ci
  musterctl sql "SELECT name, version FROM v_software LIMIT 10"
  muster-agent run --config $state/agent.yaml    # the agent as a daemon; Ctrl-C stops it

Logs: $collector_log (collector), $agent_log (agent)
Run installers/quickstart.sh again for a fresh report (it reuses $state).
Stop the collector: installers/quickstart.sh --stop
Stop it and delete $state: installers/quickstart.sh --reset
EOF
    [[ -z "${MUSTER_STATE_DIR:-}" ]] || echo "(each with MUSTER_STATE_DIR=$MUSTER_STATE_DIR, as now)"
}

main() {
    case "${1:-}" in
        --stop)
            stop_collector
            return
            ;;
        --reset)
            reset_state
            return
            ;;
        "") ;;
        -h | --help)
            sed -n '2,17s/^# \{0,1\}//p' "$0"
            return
            ;;
        *)
            echo "quickstart: unknown option '$1' (use --stop, --reset or nothing)" >&2
            exit 2
            ;;
    esac
    build_release
    find_binaries
    umask 077 # the state directory holds keys and tokens
    init_collector
    start_collector
    wait_for_collector
    report_inventory
    show_host
    next_steps
}

main "$@"
