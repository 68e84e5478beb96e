#!/usr/bin/env bash
# packages_deb_install_cycle: installs both debs on this machine for real, then runs the
# packaged flow of docs/packages.md (init as user muster, the config put in place, the
# collector serving as muster, this machine's agent reporting, musterctl seeing the host),
# reinstalls (an upgrade: edited conffiles and the CMDB are kept), removes (state, config
# and user kept) and purges (all gone). Only as root, and only on a machine where muster was
# never installed: it must end as it began. CI runs as root on a throwaway machine.
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip "needs root to install packages"
for path in /etc/muster /var/lib/muster /var/lib/muster-agent; do
    [[ -e $path ]] && skip "$path exists: muster is or was installed here; not touching it"
done
getent passwd muster >/dev/null && skip "a user muster exists already; not touching it"
for package in muster-agent muster-collector; do
    dpkg-query -W "$package" >/dev/null 2>&1 && skip "dpkg knows $package already; not touching it"
done

# One package test at a time on this machine (dpkg itself refuses to run twice at once).
lock=/run/lock/muster-packages.lock
[[ -d /run/lock ]] || lock=/tmp/muster-packages.lock
exec 9>"$lock"
flock -w 900 9 || fail "another package install test holds $lock"

agent_deb=$(deb_of muster-agent)
collector_deb=$(deb_of muster-collector)
collector_pid=""

stop_collector() {
    if [[ -n $collector_pid ]]; then
        kill "$collector_pid" 2>/dev/null || true
        wait "$collector_pid" 2>/dev/null || true
        collector_pid=""
    fi
}

cleanup() {
    stop_collector
    dpkg --purge muster-agent muster-collector >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
trap cleanup EXIT

dpkg_quiet() {
    local output
    output=$(dpkg "$@" </dev/null 2>&1) || { echo "$output" >&2; fail "dpkg $*"; }
}

status_of() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null || echo "unknown"; }

# "mode owner:group" of a path, as stat prints it.
owner_mode() { stat -c '%a %U:%G' "$1"; }

expect_path() { [[ -e $1 ]] || fail "$2: $1 is missing"; }
expect_no_path() { [[ ! -e $1 ]] || fail "$2: $1 is still there"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_collector() {
    # setpriv execs the collector itself, so that $! is the collector's own pid.
    setpriv --reuid=muster --regid=muster --init-groups \
        /usr/bin/muster-collector serve --config /etc/muster/collector.yaml \
        >>"$scratch/collector.log" 2>&1 &
    collector_pid=$!
    for _ in $(seq 1 240); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$collector_pid" 2>/dev/null || break
        sleep 0.25
    done
    cat "$scratch/collector.log" >&2
    fail "the packaged collector did not listen on 127.0.0.1:$port"
}

# musterctl, as installed, lists $hostname among the CMDB's hosts.
expect_host_in_cmdb() {
    musterctl --config /var/lib/muster/ctl.yaml --format json hosts >"$scratch/hosts.json" ||
        fail "$1: musterctl hosts"
    python3 - "$scratch/hosts.json" "$hostname" <<'PY' || { cat "$scratch/hosts.json" >&2; fail "$1: $hostname not in the CMDB"; }
import json, sys
hosts = json.load(open(sys.argv[1]))
hosts = hosts.get("items", hosts) if isinstance(hosts, dict) else hosts
assert any(h.get("hostname") == sys.argv[2] for h in hosts)
PY
}

echo "== first install"
dpkg_quiet --install "$agent_deb" "$collector_deb"
expect_same "status" "install ok installed" "$(status_of muster-agent)"
expect_same "status" "install ok installed" "$(status_of muster-collector)"
expect_same "agent.yaml" "600 root:root" "$(owner_mode /etc/muster/agent.yaml)"
expect_same "/var/lib/muster-agent" "700 root:root" "$(owner_mode /var/lib/muster-agent)"
expect_same "collector.yaml" "640 root:muster" "$(owner_mode /etc/muster/collector.yaml)"
expect_same "/var/lib/muster" "700 muster:muster" "$(owner_mode /var/lib/muster)"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd muster)
((uid < 1000)) || fail "muster is not a system user (uid $uid)"
expect_same "muster's home and shell" "/var/lib/muster /usr/sbin/nologin" "$home $shell"
getent group muster >/dev/null || fail "no group muster"
# The agent is enabled (deb-systemd-helper works without systemd running), the collector is
# not: it has no certificates yet.
wants=/etc/systemd/system/multi-user.target.wants
[[ -L $wants/muster-agent.service ]] || fail "muster-agent.service is not enabled"
expect_no_path "$wants/muster-collector.service" "the collector must not be enabled before init"

echo "== the packaged flow: init as muster, config in place, serve, report"
port=$(free_port)
runuser -u muster -- muster-collector init --dir /var/lib/muster --listen "127.0.0.1:$port" \
    >"$scratch/init.txt" || fail "muster-collector init as muster"
install -m 0640 -o root -g muster /var/lib/muster/collector.yaml /etc/muster/collector.yaml
start_collector
muster-agent once --config /var/lib/muster/agent.yaml >"$scratch/agent.log" 2>&1 ||
    { cat "$scratch/agent.log" "$scratch/collector.log" >&2; fail "muster-agent once against the packaged collector"; }
hostname=$(muster-agent inventory | python3 -c 'import json, sys; print(json.load(sys.stdin)["system"]["hostname"])')
expect_host_in_cmdb "after the first report"
stop_collector
expect_path /var/lib/muster/cmdb.sqlite "after the first report"

echo "== reinstall over the installed version, with an edited config"
echo "# edited by packages_deb_install_cycle" >>/etc/muster/agent.yaml
cp /etc/muster/agent.yaml "$scratch/agent.yaml.edited"
dpkg_quiet --install "$agent_deb" "$collector_deb"
cmp -s /etc/muster/agent.yaml "$scratch/agent.yaml.edited" || fail "upgrade replaced agent.yaml"
cmp -s /etc/muster/collector.yaml /var/lib/muster/collector.yaml ||
    fail "upgrade replaced collector.yaml"
expect_same "collector.yaml after upgrade" "640 root:muster" \
    "$(owner_mode /etc/muster/collector.yaml)"
start_collector
expect_host_in_cmdb "after the upgrade"
stop_collector

echo "== remove: data, config and user stay"
dpkg_quiet --remove muster-agent muster-collector
expect_same "status" "deinstall ok config-files" "$(status_of muster-agent)"
expect_same "status" "deinstall ok config-files" "$(status_of muster-collector)"
expect_no_path /usr/bin/muster-agent "remove"
expect_no_path /usr/bin/muster-collector "remove"
expect_no_path /usr/bin/musterctl "remove"
expect_no_path /lib/systemd/system/muster-agent.service "remove"
cmp -s /etc/muster/agent.yaml "$scratch/agent.yaml.edited" || fail "remove changed agent.yaml"
expect_path /etc/muster/collector.yaml "remove"
expect_path /var/lib/muster/cmdb.sqlite "remove"
expect_path /var/lib/muster-agent "remove"
getent passwd muster >/dev/null || fail "remove deleted the user muster"

echo "== purge: everything goes"
dpkg_quiet --purge muster-agent muster-collector
for path in /etc/muster /var/lib/muster /var/lib/muster-agent; do
    expect_no_path "$path" "purge"
done
# Neither the enable link nor deb-systemd-helper's record of it may outlive the package.
leftovers=$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
    -name 'muster-*' 2>/dev/null || true)
[[ -z $leftovers ]] || fail "purge left $leftovers"
getent passwd muster >/dev/null && fail "purge kept the user muster"
getent group muster >/dev/null && fail "purge kept the group muster"
for package in muster-agent muster-collector; do
    case $(status_of $package) in
    unknown | *not-installed) ;;
    *) fail "$package after purge: $(status_of $package)" ;;
    esac
done
echo "ok: install, packaged flow, upgrade, remove, purge"
