#!/usr/bin/env bash
# packages_deb_units: the packaged systemd units pass `systemd-analyze verify`, offline (no
# systemd running): the debs are unpacked into a scratch root and verified against it
# (--root), so the ExecStart binaries it checks are the packaged ones; the root also gets
# this machine's system units, which the verifier needs (sysinit.target and the like). Also asserts the hardening settings
# docs/packages.md promises, so that none is dropped silently.
source "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"

root=$scratch/root
[[ -d /lib/systemd/system ]] || skip "no /lib/systemd/system to verify against"
mkdir -p "$root/lib/systemd/system"
cp -a /lib/systemd/system/. "$root/lib/systemd/system/"
rm -f "$root"/lib/systemd/system/muster-*.service
# ExecReload's /bin/kill comes from the base system (procps), not from our packages.
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/kill"
for package in muster-agent muster-collector; do
    dpkg-deb -x "$(deb_of "$package")" "$root"
done

for unit in muster-agent.service muster-collector.service; do
    file=$root/lib/systemd/system/$unit
    [[ -f $file ]] || fail "$unit is not in the packages"
    # --man=no: no man pages here to check Documentation= against.
    if ! output=$(systemd-analyze verify --man=no --root="$root" "$file" 2>&1); then
        echo "$output" >&2
        fail "systemd-analyze verify $unit"
    fi
    # verify exits 0 after warning about unknown keys and bad values: none allowed.
    if [[ -n $output ]]; then
        echo "$output" >&2
        fail "systemd-analyze verify printed warnings for $unit"
    fi
done

# The hardening both units must keep (issue 8).
for unit in muster-agent.service muster-collector.service; do
    for setting in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
        ProtectKernelTunables=yes ProtectControlGroups=yes RestrictSUIDSGID=yes \
        LockPersonality=yes SystemCallArchitectures=native Restart=on-failure; do
        grep -qx "$setting" "$root/lib/systemd/system/$unit" || fail "$unit lacks $setting"
    done
done
agent=$root/lib/systemd/system/muster-agent.service
collector=$root/lib/systemd/system/muster-collector.service
grep -qx 'ExecStart=/usr/bin/muster-agent run --config /etc/muster/agent.yaml' "$agent" ||
    fail "agent ExecStart"
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$agent" || fail "agent ExecReload"
grep -qx 'ReadWritePaths=/var/lib/muster-agent' "$agent" || fail "agent ReadWritePaths"
grep -qx 'ProtectHome=read-only' "$agent" || fail "agent ProtectHome"
grep -qx 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK' "$agent" ||
    fail "agent RestrictAddressFamilies"
grep -q '^User=' "$agent" && fail "the agent runs as root: no User="
grep -qx 'ExecStart=/usr/bin/muster-collector serve --config /etc/muster/collector.yaml' \
    "$collector" || fail "collector ExecStart"
grep -qx 'User=muster' "$collector" || fail "collector User"
grep -qx 'CapabilityBoundingSet=' "$collector" || fail "collector keeps capabilities"
grep -qx 'ProtectHome=yes' "$collector" || fail "collector ProtectHome"
grep -qx 'ReadWritePaths=/var/lib/muster' "$collector" || fail "collector ReadWritePaths"
grep -qx 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' "$collector" ||
    fail "collector RestrictAddressFamilies"
[[ $(grep -c '^ReadWritePaths=' "$agent") == 1 && $(grep -c '^ReadWritePaths=' "$collector") == 1 ]] ||
    fail "more than one ReadWritePaths= line"
echo "ok: both units verify and keep their hardening"
