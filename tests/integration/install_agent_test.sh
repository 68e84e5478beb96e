#!/usr/bin/env bash
# installers/install-agent.sh against a real collector on loopback, with the muster-agent
# package built by the packages_build test:
#   install_agent_test.sh BUILD_DIR [PACKAGE.deb]
# It installs the package on this machine, so it needs root, and it skips (77) where it could
# not put the machine back as it found it (an agent already installed or configured here).
# The trap purges the package and removes what the script wrote, and stops the collector.
set -euo pipefail

build=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
script=$src/installers/install-agent.sh
collector_bin=$build/collector/muster-collector
ctl=$build/collector/ctl/musterctl

skip() {
    echo "SKIP: $*"
    exit 77
}

[[ $(id -u) -eq 0 ]] || skip "install-agent.sh needs root"
package=${2:-$(compgen -G "$build/packages/muster-agent_*.deb" | head -n 1 || true)}
[[ -n "$package" && -f "$package" ]] ||
    skip "no $build/packages/muster-agent_*.deb (the packages_build test makes it)"
status=$(dpkg-query -W -f='${db:Status-Status}' muster-agent 2>/dev/null || true)
[[ -z "$status" || "$status" == not-installed ]] ||
    skip "muster-agent is already on this machine ($status); this test would remove it"
for path in /etc/muster/agent.yaml /etc/muster/ca.pem /var/lib/muster-agent; do
    [[ ! -e "$path" ]] || skip "$path exists; this test would remove it"
done
etc_existed=false
[[ -d /etc/muster ]] && etc_existed=true

tmp=$(mktemp -d)
collector_dir=$tmp/collector
collector_pid=""

cleanup() {
    if [[ -n "$collector_pid" ]]; then
        kill -TERM "$collector_pid" 2>/dev/null || true
        wait "$collector_pid" 2>/dev/null || true
    fi
    # dpkg refuses at once while another dpkg runs; wait for it rather than leave the package.
    local tries
    for tries in $(seq 1 60); do
        dpkg --purge muster-agent >/dev/null 2>&1 && break
        echo "dpkg --purge muster-agent failed (try $tries); retrying" >&2
        sleep 5
    done
    rm -f /etc/muster/ca.pem /etc/muster/agent.yaml
    rm -rf /var/lib/muster-agent
    $etc_existed || rmdir /etc/muster 2>/dev/null || true
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

json_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

echo "== a collector on loopback"
port=$(free_port)
"$collector_bin" init --dir "$collector_dir" --listen "127.0.0.1:$port" >/dev/null
"$collector_bin" serve --config "$collector_dir/collector.yaml" >"$tmp/collector.log" 2>&1 &
collector_pid=$!
for _ in $(seq 1 1200); do
    kill -0 "$collector_pid" || fail "the collector exited: $(cat "$tmp/collector.log")"
    rc=0
    "$ctl" --config "$collector_dir/ctl.yaml" agents >/dev/null 2>&1 || rc=$?
    [[ $rc -eq 0 ]] && break
    [[ $rc -eq 3 ]] || fail "musterctl agents exited $rc"
    sleep 0.1
done
[[ $rc -eq 0 ]] || fail "the collector did not answer within 120 s"
url=https://127.0.0.1:$port
token=$(sed -n 's/^  enrollment_token: "\(.*\)"$/\1/p' "$collector_dir/agent.yaml")
[[ -n "$token" ]] || fail "no enrollment token in $collector_dir/agent.yaml"

# Runs the script; sets rc and out, and checks that no run ever prints the token.
install_agent() {
    rc=0
    out=$(bash "$script" "$@" 2>&1) || rc=$?
    echo "$out"
    echo "(exit $rc)"
    if grep -qF -- "$token" <<<"$out"; then fail "install-agent.sh printed the enrollment token"; fi
}

printed_agent_id() {
    sed -n 's/.*agent id \([^ ]*\)$/\1/p' <<<"$out" | tail -n 1
}

# The CMDB's host item of agent $1, as JSON.
cmdb_host() {
    "$ctl" --config "$collector_dir/ctl.yaml" --format json hosts --all |
        python3 -c 'import json, sys; print(json.dumps([h for h in json.load(sys.stdin) if h["agent_id"] == sys.argv[1]][0]))' "$1"
}

echo "== usage errors exit 2 and change nothing"
install_agent --url "$url" --token "$token"
[[ $rc -eq 2 ]] || fail "no trust anchor: exit $rc, expected 2"
install_agent --url "$url" --token "$token" --ca "$collector_dir/ca.pem" --ca-fingerprint 00
[[ $rc -eq 2 ]] || fail "--ca with --ca-fingerprint: exit $rc, expected 2"
install_agent --url "$url" --token "$token" --ca "$collector_dir/ca.pem" --tags 'ok,not ok'
[[ $rc -eq 2 ]] || fail "a bad tag: exit $rc, expected 2"
install_agent --url "http://127.0.0.1:$port" --token "$token" --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "an http URL: exit $rc, expected 2"
[[ ! -e /etc/muster/agent.yaml ]] || fail "a usage error wrote /etc/muster/agent.yaml"

echo "== install, enroll, first report"
install_agent --url "$url" --token "$token" --ca "$collector_dir/ca.pem" --tags ci,test \
    --package "$package"
[[ $rc -eq 0 ]] || fail "install-agent.sh exited $rc"
agent_id=$(json_field /var/lib/muster-agent/state.json agent_id)
[[ -n "$agent_id" && "$(printed_agent_id)" == "$agent_id" ]] ||
    fail "printed agent id '$(printed_agent_id)' is not the enrolled '$agent_id'"
want_version=$(dpkg-deb -f "$package" Version)
[[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' muster-agent)" == "installed $want_version" ]] ||
    fail "muster-agent $want_version is not installed"
host=$(cmdb_host "$agent_id") || fail "the CMDB has no host for agent $agent_id"
python3 - "$host" "$(hostname)" <<'EOF' || fail "the CMDB's host is not this one with tags ci,test: $host"
import json, sys
host = json.loads(sys.argv[1])
assert host["hostname"] == sys.argv[2], host["hostname"]
assert sorted(host["tags"]) == ["ci", "test"], host["tags"]
EOF
[[ "$(stat -c '%a %u %g' /etc/muster/agent.yaml)" == "600 0 0" ]] || fail "agent.yaml is not 0600 root"
cmp -s /etc/muster/ca.pem "$collector_dir/ca.pem" || fail "/etc/muster/ca.pem is not the --ca file"
grep -q '^  ca_file: /etc/muster/ca.pem$' /etc/muster/agent.yaml || fail "agent.yaml has no ca_file"
grep -q '^state_dir: /var/lib/muster-agent$' /etc/muster/agent.yaml || fail "agent.yaml state_dir"
/usr/bin/muster-agent inventory --config /etc/muster/agent.yaml >/dev/null ||
    fail "the agent cannot read the written agent.yaml"
if [[ -d /run/systemd/system ]]; then
    systemctl is-active --quiet muster-agent.service || fail "muster-agent.service is not running"
    systemctl is-enabled --quiet muster-agent.service || fail "muster-agent.service is not enabled"
else
    grep -q "systemd is not running" <<<"$out" || fail "no word that the service was not started"
fi

echo "== again with the same flags: nothing changes, a report is still acknowledged"
config_mtime=$(stat -c %y /etc/muster/agent.yaml)
binary_inode=$(stat -c '%i %Z' /usr/bin/muster-agent)
acked=$(json_field /var/lib/muster-agent/state.json acked_seq)
install_agent --url "$url" --token "$token" --ca "$collector_dir/ca.pem" --tags ci,test \
    --package "$package"
[[ $rc -eq 0 ]] || fail "the second run exited $rc"
[[ "$(printed_agent_id)" == "$agent_id" ]] || fail "the second run printed another agent id"
[[ "$(stat -c %y /etc/muster/agent.yaml)" == "$config_mtime" ]] || fail "agent.yaml was rewritten"
[[ "$(stat -c '%i %Z' /usr/bin/muster-agent)" == "$binary_inode" ]] || fail "the package was reinstalled"
(($(json_field /var/lib/muster-agent/state.json acked_seq) > acked)) ||
    fail "the second run had no new report acknowledged"

echo "== a loosened mode is put back without rewriting the file"
chmod 0644 /etc/muster/agent.yaml
install_agent --url "$url" --token "$token" --ca "$collector_dir/ca.pem" --tags ci,test \
    --package "$package"
[[ $rc -eq 0 ]] || fail "the run after chmod exited $rc"
[[ "$(stat -c '%a %u %g' /etc/muster/agent.yaml)" == "600 0 0" ]] || fail "agent.yaml mode not restored"
[[ "$(stat -c %y /etc/muster/agent.yaml)" == "$config_mtime" ]] || fail "agent.yaml was rewritten"

echo "== trust by the certificate's fingerprint instead of the CA"
fingerprint=$(openssl x509 -in "$collector_dir/server.pem" -outform DER | sha256sum | cut -d' ' -f1)
# Upper case with colons, as openssl x509 -fingerprint prints it.
colons=$(sed 's/../&:/g; s/:$//' <<<"${fingerprint^^}")
install_agent --url "$url" --token "$token" --ca-fingerprint "$colons" --tags ci,test \
    --package "$package"
[[ $rc -eq 0 ]] || fail "the --ca-fingerprint run exited $rc"
[[ "$(printed_agent_id)" == "$agent_id" ]] || fail "the --ca-fingerprint run changed the agent id"
grep -q "^  ca_fingerprint: $fingerprint\$" /etc/muster/agent.yaml || fail "no ca_fingerprint"
grep -q "ca_file" /etc/muster/agent.yaml && fail "ca_file left beside ca_fingerprint"
wrong_fingerprint=$(tr '0-9a-f' '1-9a-f0' <<<"$fingerprint")
install_agent --url "$url" --token "$token" --ca-fingerprint "$wrong_fingerprint" \
    --package "$package"
[[ $rc -eq 1 ]] || fail "a wrong fingerprint exited $rc, expected 1"

echo "== a new agent with a wrong token is refused; the token is not printed"
rm -rf /var/lib/muster-agent
wrong_token=wrong-token-$RANDOM$RANDOM
install_agent --url "$url" --token "$wrong_token" --ca "$collector_dir/ca.pem" --package "$package"
[[ $rc -eq 1 ]] || fail "a wrong token exited $rc, expected 1"
grep -qF -- "$wrong_token" <<<"$out" && fail "the wrong token was printed"
echo "PASS"
