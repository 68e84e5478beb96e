#!/usr/bin/env bash
# packages_deb_lintian: lintian finds no error in either deb. Warnings and infos are printed
# for whoever reads the log, but only errors fail (issue 8). Overrides, each with its reason,
# are in installers/debian/*.lintian-overrides.
source "$(dirname "$0")/lib.sh"

command -v lintian >/dev/null || skip "lintian is not installed (installers/deps-debian.sh)"

status=0
for package in muster-agent muster-collector; do
    deb=$(deb_of "$package")
    # lintian refuses to run as root unless told; it only reads the deb.
    output=$(lintian --allow-root --fail-on error --display-info "$deb" 2>&1) || status=1
    echo "== lintian $package"
    echo "$output"
    # Belt and braces: an E: line fails even if an option above stopped meaning it.
    if grep -q '^E: ' <<<"$output"; then status=1; fi
done
[[ $status == 0 ]] || fail "lintian reports errors"
echo "ok: lintian reports no errors"
