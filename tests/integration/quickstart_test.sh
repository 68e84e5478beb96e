#!/usr/bin/env bash
# installers/quickstart.sh end to end, with the binaries of this build tree:
#   quickstart_test.sh BUILD_DIR
# Run 1 initializes a collector, starts it, enrolls this machine and shows it from the CMDB.
# Run 2 reuses everything: same CA, same host, the running collector, a newer report.
# After --stop, run 3 restarts the collector from the same state. --stop never signals a
# process that merely holds a stale pid, nor SIGKILLs one that stopped being the collector
# while it waited, succeeds when there is nothing to stop, and leaves no collector behind;
# --reset deletes the state. Whatever happens, the trap stops every process this test started.
set -euo pipefail

build=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
quickstart=$src/installers/quickstart.sh
ctl=$build/collector/ctl/musterctl
tmp=$(mktemp -d)
state=$tmp/state
decoy_pid=""

cleanup() {
    MUSTER_STATE_DIR=$state bash "$quickstart" --stop >/dev/null 2>&1 || true
    # If the script's own stop failed, the collector must still not outlive the test.
    local pid
    pid=$(cat "$state/collector.pid" 2>/dev/null || true)
    if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$state/"; then
        kill -KILL "$pid"
    fi
    [[ -n "$decoy_pid" ]] && kill "$decoy_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

quickstart() {
    MUSTER_BUILD_DIR=$build MUSTER_STATE_DIR=$state MUSTER_PORT=$port bash "$quickstart" "$@"
}

# The value of one field of this machine's host in the CMDB, asked independently of the script.
cmdb_field() {
    "$ctl" --config "$state/ctl.yaml" --format json host "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

agent_state() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$state/agent-state/state.json" "$1"
}

# Running, not a zombie waiting to be reaped.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat%% *}" != Z ]]
}

port=$(free_port)
me=$(hostname)

echo "== run 1 (port $port)"
out1=$(quickstart 2>&1) || {
    echo "$out1"
    fail "first run failed"
}
echo "$out1"
[[ -f "$state/collector.yaml" && -f "$state/ca.pem" ]] || fail "no installation in $state"
grep -q "127.0.0.1:$port" "$state/collector.yaml" || fail "collector.yaml does not listen on $port"
agent1=$(agent_state agent_id)
[[ -n "$agent1" ]] || fail "the agent did not enroll"
acked1=$(agent_state acked_seq)
host1=$("$ctl" --config "$state/ctl.yaml" --format json agents |
    python3 -c 'import json, sys; a = [x for x in json.load(sys.stdin) if x["agent_id"] == sys.argv[1]]; print(a[0]["ci_id"])' "$agent1")
[[ "$(cmdb_field "$host1" hostname)" == "$me" ]] || fail "the CMDB's host $host1 is not $me"
# The script showed the CMDB's view: the host's id and hostname as musterctl host prints them.
grep -q "musterctl --config $state/ctl.yaml host $host1\$" <<<"$out1" ||
    fail "run 1 did not show host $host1"
grep -Eq "^hostname +$me\$" <<<"$out1" || fail "run 1 did not print the CMDB's hostname $me"
grep -q -- "--stop" <<<"$out1" || fail "run 1 did not say how to stop the collector"
grep -q "$(sed -n 's/^token: "\(.*\)"$/\1/p' "$state/ctl.yaml")" <<<"$out1" &&
    fail "run 1 printed the admin token"
ca_sum=$(sha256sum <"$state/ca.pem")
pid1=$(cat "$state/collector.pid")
alive "$pid1" || fail "the collector is not running after run 1"

echo "== run 2: reuses the state and the running collector, sends a newer report"
out2=$(quickstart 2>&1) || {
    echo "$out2"
    fail "second run failed"
}
echo "$out2"
grep -q "Reusing the collector installation" <<<"$out2" || fail "run 2 did not say it reused $state"
grep -q "already running (pid $pid1)" <<<"$out2" || fail "run 2 did not reuse collector $pid1"
[[ "$(sha256sum <"$state/ca.pem")" == "$ca_sum" ]] || fail "run 2 made a new CA (init ran again)"
[[ "$(agent_state agent_id)" == "$agent1" ]] || fail "run 2 enrolled a new agent"
(($(agent_state acked_seq) > acked1)) || fail "run 2 sent no newer acknowledged report"
grep -q "musterctl --config $state/ctl.yaml host $host1\$" <<<"$out2" ||
    fail "run 2 did not show the same host $host1"
grep -Eq "^hostname +$me\$" <<<"$out2" || fail "run 2 did not print the CMDB's hostname"

echo "== --stop, then a stale pid file must not make --stop signal another process"
quickstart --stop
! alive "$pid1" || fail "--stop left collector $pid1 running"
[[ ! -e "$state/collector.pid" ]] || fail "--stop left the pid file"
rc=0
out=$(quickstart --stop) || rc=$?
[[ $rc -eq 0 ]] || fail "a second --stop in a row exited $rc: $out"
grep -q "no collector of $state is running" <<<"$out" || fail "a second --stop said: $out"
sleep 300 &
decoy_pid=$!
echo "$decoy_pid" >"$state/collector.pid"
quickstart --stop
alive "$decoy_pid" || fail "--stop killed process $decoy_pid, which is not our collector"
kill "$decoy_pid"
decoy_pid=""

echo "== --stop: a pid that ends being our collector during the 30 s after SIGTERM is not killed"
# Looks like this state's collector; SIGTERM turns it into another program with the same pid,
# as if the collector had exited and its pid been reused.
mkdir "$tmp/bin"
cat >"$tmp/bin/muster-collector" <<'EOF'
#!/bin/bash
trap 'exec sleep 300' TERM
while :; do sleep 0.1; done
EOF
chmod +x "$tmp/bin/muster-collector"
"$tmp/bin/muster-collector" serve --config "$state/collector.yaml" &
decoy_pid=$!
echo "$decoy_pid" >"$state/collector.pid"
for _ in $(seq 1 100); do
    [[ "$(tr '\0' ' ' <"/proc/$decoy_pid/cmdline")" == *" serve --config $state/collector.yaml " ]] && break
    sleep 0.1
done
rc=0
out=$(quickstart --stop) || rc=$?
echo "$out"
[[ $rc -eq 0 ]] || fail "--stop exited $rc"
alive "$decoy_pid" || fail "--stop killed $decoy_pid after it had become another program"
[[ "$(tr '\0' ' ' <"/proc/$decoy_pid/cmdline")" == "sleep 300 " ]] ||
    fail "--stop did not send SIGTERM to $decoy_pid, which looked like our collector"
grep -q "no longer our collector" <<<"$out" || fail "--stop did not say why it did not kill $decoy_pid"
kill "$decoy_pid"
decoy_pid=""

echo "== run 3: the collector is down; it is restarted from the same state"
out3=$(quickstart 2>&1) || {
    echo "$out3"
    fail "third run failed"
}
pid3=$(cat "$state/collector.pid")
[[ "$pid3" != "$pid1" ]] && alive "$pid3" || fail "run 3 did not start a collector"
[[ "$(sha256sum <"$state/ca.pem")" == "$ca_sum" ]] || fail "run 3 made a new CA"
grep -q "musterctl --config $state/ctl.yaml host $host1\$" <<<"$out3" ||
    fail "run 3 did not show the same host $host1"

echo "== --reset stops the collector and deletes the state"
quickstart --reset
! alive "$pid3" || fail "--reset left collector $pid3 running"
[[ ! -e "$state" ]] || fail "--reset left $state"
pgrep -f -- "--config $state/collector.yaml" >/dev/null && fail "a collector of $state still runs"
echo "PASS"
