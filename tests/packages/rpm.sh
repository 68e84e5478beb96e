#!/usr/bin/env bash
# packages_rpm: the rpms hold the same files as the debs, mark the yamls
# %config(noreplace), carry the scriptlets, and declare the libraries they need.
source "$(dirname "$0")/lib.sh"

command -v rpm >/dev/null || skip "rpm is not installed"

query() { rpm -qp --nosignature "$@" 2>/dev/null; }

# "mode path" of the files (not directories) of a deb, sorted.
deb_files() {
    dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $1, $6 }' | sort -k2
}

for package in muster-agent muster-collector; do
    rpm_file=$(rpm_of "$package")
    deb=$(deb_of "$package")
    short=${package#muster-}

    expect_same "$package name and version" "$package $version" \
        "$(query --qf '%{NAME} %{VERSION}' "$rpm_file")"
    # Same files with the same modes as the deb (directories aside: rpm lists only the ones
    # it owns).
    expect_same "$package files (- deb, + rpm)" "$(deb_files "$deb")" \
        "$(query --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm_file" |
            awk '$1 !~ /^d/' | sort -k2)"
    expect_same "$package config files" "/etc/muster/$short.yaml" \
        "$(query --configfiles "$rpm_file")"
    # noreplace: an edited config survives an upgrade.
    query --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_file" |
        grep -qx "cn /etc/muster/$short.yaml" || fail "$package: $short.yaml not %config(noreplace)"
    # No directory the base system owns.
    for system_dir in / /etc /usr /usr/bin /lib /lib/systemd /lib/systemd/system /usr/share \
        /usr/share/doc; do
        query -l "$rpm_file" | grep -qx "$system_dir" && fail "$package owns $system_dir"
    done

    scripts=$(query --scripts "$rpm_file")
    for scriptlet in postinstall preuninstall postuninstall; do
        grep -q "^$scriptlet scriptlet" <<<"$scripts" || fail "$package: no $scriptlet scriptlet"
    done
    requires=$(query --requires "$rpm_file")
    grep -q '^libssl.so.3' <<<"$requires" || fail "$package does not require libssl.so.3"
done

scripts=$(query --scripts "$(rpm_of muster-collector)")
grep -q 'useradd --system' <<<"$scripts" || fail "the collector's %post makes no system user"
grep -q 'install -d -m 0700 -o muster -g muster /var/lib/muster' <<<"$scripts" ||
    fail "the collector's %post makes no state directory"
grep -q 'libsqlite3.so.0' <<<"$(query --requires "$(rpm_of muster-collector)")" ||
    fail "muster-collector does not require libsqlite3"
echo "ok: rpms"
