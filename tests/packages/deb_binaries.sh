#!/usr/bin/env bash
# packages_deb_binaries: the binaries unpacked from the debs run: versions, help, an inventory
# of this machine as JSON, and the packaged configs load. They must be stripped (lintian,
# size) although the tree is built RelWithDebInfo.
source "$(dirname "$0")/lib.sh"

root=$scratch/root
for package in muster-agent muster-collector; do
    dpkg-deb -x "$(deb_of "$package")" "$root"
done
bin=$root/usr/bin

for program in muster-agent muster-collector musterctl; do
    [[ -x $bin/$program ]] || fail "$program is not in the packages"
    if readelf -S "$bin/$program" | grep -q -e '\.debug_info' -e '\.symtab'; then
        fail "$program is not stripped"
    fi
    actual=$("$bin/$program" version)
    expect_same "$program version" "$program $version" "$actual"
done

"$bin/muster-agent" --help | grep -q 'usage: muster-agent' || fail "muster-agent --help"
"$bin/muster-collector" --help | grep -q 'usage: muster-collector' || fail "muster-collector --help"

"$bin/muster-agent" inventory >"$scratch/inventory.json" || fail "muster-agent inventory"
python3 - "$scratch/inventory.json" <<'PY' || fail "the inventory is not the expected JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
sections = ("schema_version system hardware os cpu memory disks filesystems network software "
            "services listening_ports users errors").split()
missing = [key for key in sections if key not in doc]
assert not missing, "missing sections: %s" % missing
assert doc["software"], "no software found"
PY

# The packaged collector makes a working installation (the packaged flow's first step).
"$bin/muster-collector" init --dir "$scratch/init" >/dev/null || fail "muster-collector init"
[[ -f $scratch/init/collector.yaml ]] || fail "init wrote no collector.yaml"

# The packaged agent.yaml is accepted as it ships (placeholders, but valid).
"$bin/muster-agent" inventory --config "$root/etc/muster/agent.yaml" >/dev/null ||
    fail "the packaged agent.yaml does not load"
echo "ok: packaged binaries run"
