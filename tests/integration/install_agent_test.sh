#!/usr/bin/env bash
# installers/install-agent.sh against a real collector on loopback, with the muster-agent
# package built by the packages_build test:
#   install_agent_test.sh BUILD_DIR [PACKAGE.deb]
# It installs the package on this machine, so it needs root, and it skips (77) where it could
# not put the machine back as it found it (an agent already installed or configured here).
# The token is given in each of its three forms (--token, --token-file, the environment).
# The service's pause is checked with a stand-in systemctl in a private mount namespace where
# systemd seems to run: however a run ends, a service it stopped runs again.
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
run_prefix=() # what install_agent runs the script under

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
printf '%s\n' "$token" >"$tmp/token"

# Runs the script; sets rc and out, and checks that no run ever prints the token.
install_agent() {
    rc=0
    out=$("${run_prefix[@]}" bash "$script" "$@" 2>&1) || rc=$?
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
install_agent --url "$url" --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "no token: exit $rc, expected 2"
install_agent --url "$url" --token "$token" --token-file "$tmp/token" --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "--token with --token-file: exit $rc, expected 2"
MUSTER_ENROLLMENT_TOKEN=$token install_agent --url "$url" --token "$token" --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "--token with MUSTER_ENROLLMENT_TOKEN: exit $rc, expected 2"
MUSTER_ENROLLMENT_TOKEN=$token install_agent --url "$url" --token-file "$tmp/token" --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "--token-file with MUSTER_ENROLLMENT_TOKEN: exit $rc, expected 2"
install_agent --url "$url" --token-file /dev/null --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "an empty --token-file: exit $rc, expected 2"
install_agent --url "$url" --token-file "$tmp/no-such-file" --ca "$collector_dir/ca.pem"
[[ $rc -eq 2 ]] || fail "a missing --token-file: exit $rc, expected 2"
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

echo "== again, the same token from --token-file: nothing changes, a report is still acknowledged"
config_mtime=$(stat -c %y /etc/muster/agent.yaml)
binary_inode=$(stat -c '%i %Z' /usr/bin/muster-agent)
acked=$(json_field /var/lib/muster-agent/state.json acked_seq)
install_agent --url "$url" --token-file "$tmp/token" --ca "$collector_dir/ca.pem" --tags ci,test \
    --package "$package"
[[ $rc -eq 0 ]] || fail "the second run exited $rc"
[[ "$(printed_agent_id)" == "$agent_id" ]] || fail "the second run printed another agent id"
[[ "$(stat -c %y /etc/muster/agent.yaml)" == "$config_mtime" ]] || fail "agent.yaml was rewritten"
[[ "$(stat -c '%i %Z' /usr/bin/muster-agent)" == "$binary_inode" ]] || fail "the package was reinstalled"
(($(json_field /var/lib/muster-agent/state.json acked_seq) > acked)) ||
    fail "the second run had no new report acknowledged"

echo "== a loosened mode is put back without rewriting the file (the token from the environment)"
chmod 0644 /etc/muster/agent.yaml
MUSTER_ENROLLMENT_TOKEN=$token install_agent --url "$url" --ca "$collector_dir/ca.pem" \
    --tags ci,test --package "$package"
[[ $rc -eq 0 ]] || fail "the run after chmod exited $rc"
[[ "$(stat -c '%a %u %g' /etc/muster/agent.yaml)" == "600 0 0" ]] || fail "agent.yaml mode not restored"
[[ "$(stat -c %y /etc/muster/agent.yaml)" == "$config_mtime" ]] || fail "agent.yaml was rewritten"

echo "== trust by the certificate's fingerprint instead of the CA"
fingerprint=$(openssl x509 -in "$collector_dir/server.pem" -outform DER | sha256sum | cut -d' ' -f1)
# Upper case with colons, as openssl x509 -fingerprint prints it.
colons=$(sed 's/../&:/g; s/:$//' <<<"${fingerprint^^}")
# The token from stdin, without a newline at its end.
install_agent --url "$url" --token-file - --ca-fingerprint "$colons" --tags ci,test \
    --package "$package" < <(printf '%s' "$token")
[[ $rc -eq 0 ]] || fail "the --ca-fingerprint run exited $rc"
grep -qxF "  enrollment_token: \"$token\"" /etc/muster/agent.yaml ||
    fail "agent.yaml does not hold the token read from stdin"
[[ "$(printed_agent_id)" == "$agent_id" ]] || fail "the --ca-fingerprint run changed the agent id"
grep -q "^  ca_fingerprint: $fingerprint\$" /etc/muster/agent.yaml || fail "no ca_fingerprint"
grep -q "ca_file" /etc/muster/agent.yaml && fail "ca_file left beside ca_fingerprint"
wrong_fingerprint=$(tr '0-9a-f' '1-9a-f0' <<<"$fingerprint")
install_agent --url "$url" --token "$token" --ca-fingerprint "$wrong_fingerprint" \
    --package "$package"
[[ $rc -eq 1 ]] || fail "a wrong fingerprint exited $rc, expected 1"

echo "== a running service paused for the report runs again however the run ends"
fake=$tmp/fake-systemd
mkdir -p "$fake/bin"
cat >"$fake/bin/systemctl" <<'EOF'
#!/bin/bash
# systemctl for muster-agent.service alone, its state in files of $FAKE_SYSTEMD; every call is
# logged, and a stop runs $FAKE_SYSTEMD/on-stop when there is one.
echo "$*" >>"$FAKE_SYSTEMD/calls"
case "$*" in
    "is-active --quiet muster-agent.service") [[ -e "$FAKE_SYSTEMD/active" ]] ;;
    "stop muster-agent.service")
        rm -f "$FAKE_SYSTEMD/active"
        if [[ -f "$FAKE_SYSTEMD/on-stop" ]]; then source "$FAKE_SYSTEMD/on-stop"; fi
        ;;
    "start muster-agent.service") touch "$FAKE_SYSTEMD/active" ;;
    "enable --now --quiet muster-agent.service") touch "$FAKE_SYSTEMD/active" "$FAKE_SYSTEMD/enabled" ;;
    *)
        echo "fake systemctl: unexpected arguments: $*" >&2
        exit 1
        ;;
esac
EOF
cat >"$fake/in-namespace" <<'EOF'
#!/bin/bash
# Runs "$@" with a /run of its own in which systemd seems to run (in a private mount namespace).
set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/system
exec "$@"
EOF
chmod +x "$fake/bin/systemctl" "$fake/in-namespace"
if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "NOT TESTED: no private mount namespace here (unshare --mount), so no pause of the service"
else
    run_prefix=(env "FAKE_SYSTEMD=$fake" "PATH=$fake/bin:$PATH"
        unshare --mount --propagation private "$fake/in-namespace")
    # Runs the script with the service active and checks it is active after; $1 is what the
    # stop does besides (sourced by the stand-in), then the expected exit code.
    paused_run() {
        local on_stop=$1 want_rc=$2
        if [[ -n "$on_stop" ]]; then echo "$on_stop" >"$fake/on-stop"; else rm -f "$fake/on-stop"; fi
        : >"$fake/calls"
        touch "$fake/active"
        install_agent --url "$url" --token-file "$tmp/token" --ca-fingerprint "$fingerprint" \
            --tags ci,test --package "$package"
        echo "systemctl calls: $(paste -sd '|' "$fake/calls")"
        [[ $rc -eq $want_rc ]] || fail "exit $rc, expected $want_rc"
        grep -qx "stop muster-agent.service" "$fake/calls" || fail "the service was not stopped"
        [[ -e "$fake/active" ]] || fail "the service the run stopped is not running again"
    }
    paused_run "" 0
    [[ "$(tail -n 1 "$fake/calls")" == "enable --now --quiet muster-agent.service" ]] ||
        fail "a successful run did not end with systemctl enable --now"
    # The disk is full while the config is written: a redirect fails under set -e.
    paused_run 'mount -t tmpfs -o size=4k tmpfs /etc/muster; cat /dev/zero >/etc/muster/fill 2>/dev/null || true' 1
    grep -q "No space left on device" <<<"$out" || fail "the run did not hit the full disk"
    # Killed while paused, as a configuration management tool's timeout does.
    # shellcheck disable=SC2016 # $PPID is the stand-in's parent: the script
    paused_run 'kill -TERM "$PPID"' 143
    run_prefix=()
fi

echo "== a new agent with a wrong token is refused; the token is not printed"
rm -rf /var/lib/muster-agent
wrong_token=wrong-token-$RANDOM$RANDOM
install_agent --url "$url" --token "$wrong_token" --ca "$collector_dir/ca.pem" --package "$package"
[[ $rc -eq 1 ]] || fail "a wrong token exited $rc, expected 1"
grep -qF -- "$wrong_token" <<<"$out" && fail "the wrong token was printed"
echo "PASS"
