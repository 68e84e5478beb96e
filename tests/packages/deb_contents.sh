#!/usr/bin/env bash
# packages_deb_contents: each deb holds exactly the expected paths with the expected modes
# and owners, the expected control fields, the conffiles and the maintainer scripts; the
# configs and units are the ones in the source tree.
source "$(dirname "$0")/lib.sh"

# "mode owner/group path" for every entry of a deb, sorted.
listing() {
    dpkg-deb -c "$1" | awk '{ print $1, $2, $6 }' | sort -k3
}

# The directories both packages have, then each package's own entries.
common_dirs="drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/muster/
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/"

expected_agent="$common_dirs
-rw------- root/root ./etc/muster/agent.yaml
-rw-r--r-- root/root ./lib/systemd/system/muster-agent.service
-rwxr-xr-x root/root ./usr/bin/muster-agent
drwxr-xr-x root/root ./usr/share/doc/muster-agent/
-rw-r--r-- root/root ./usr/share/doc/muster-agent/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/muster-agent/copyright
-rw-r--r-- root/root ./usr/share/lintian/overrides/muster-agent"

expected_collector="$common_dirs
-rw-r----- root/root ./etc/muster/collector.yaml
-rw-r--r-- root/root ./lib/systemd/system/muster-collector.service
-rwxr-xr-x root/root ./usr/bin/muster-collector
-rwxr-xr-x root/root ./usr/bin/musterctl
drwxr-xr-x root/root ./usr/share/doc/muster-collector/
-rw-r--r-- root/root ./usr/share/doc/muster-collector/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/muster-collector/copyright
-rw-r--r-- root/root ./usr/share/lintian/overrides/muster-collector"

# Whether the Depends field names the package $2 (any version).
depends_on() {
    local entry
    while IFS= read -r entry; do
        [[ ${entry%% *} == "$2" ]] && return 0
    done < <(sed 's/, /\n/g' <<<"$1")
    return 1
}

check_package() {
    local package=$1 expected=$2 short=${1#muster-}
    local deb
    deb=$(deb_of "$package")
    expect_same "$package contents" "$(sort -k3 <<<"$expected")" "$(listing "$deb")"

    expect_same "$package Package" "$package" "$(dpkg-deb -f "$deb" Package)"
    expect_same "$package Version" "$version" "$(dpkg-deb -f "$deb" Version)"
    expect_same "$package Architecture" "$arch" "$(dpkg-deb -f "$deb" Architecture)"
    expect_same "$package Section" "admin" "$(dpkg-deb -f "$deb" Section)"
    [[ -n $(dpkg-deb -f "$deb" Maintainer) ]] || fail "$package has no Maintainer"
    [[ -n $(dpkg-deb -f "$deb" Description) ]] || fail "$package has no Description"
    # Computed by dpkg-shlibdeps from the binaries: runtime libraries, never -dev packages.
    local depends
    depends=$(dpkg-deb -f "$deb" Depends)
    for library in libc6 libssl3 libstdc++6 libyaml-cpp0.7; do
        depends_on "$depends" "$library" || fail "$package Depends lacks $library: $depends"
    done
    grep -q -- '-dev' <<<"$depends" && fail "$package depends on a -dev package: $depends"

    local control=$scratch/$package.control
    dpkg-deb -e "$deb" "$control"
    expect_same "$package conffiles" "/etc/muster/$short.yaml" "$(cat "$control/conffiles")"
    for script in postinst prerm postrm; do
        [[ $(stat -c %a "$control/$script") == 755 ]] || fail "$package $script is not 0755"
        dash -n "$control/$script" || fail "$package $script is not valid sh"
        cmp -s "$control/$script" "$source_dir/installers/debian/$package/$script" ||
            fail "$package $script differs from installers/debian/$package/$script"
    done

    local root=$scratch/$package.root
    dpkg-deb -x "$deb" "$root"
    cmp -s "$root/etc/muster/$short.yaml" "$source_dir/config/$short.yaml" ||
        fail "$package: /etc/muster/$short.yaml is not config/$short.yaml"
    cmp -s "$root/lib/systemd/system/$package.service" \
        "$source_dir/installers/systemd/$package.service" ||
        fail "$package: the unit is not installers/systemd/$package.service"
    gzip -dc "$root/usr/share/doc/$package/changelog.gz" | head -1 |
        grep -q "^muster ($version) " || fail "$package: changelog.gz is not for $version"
}

check_package muster-agent "$expected_agent"
check_package muster-collector "$expected_collector"
depends=$(dpkg-deb -f "$(deb_of muster-collector)" Depends)
for needed in adduser libsqlite3-0; do
    depends_on "$depends" "$needed" || fail "muster-collector Depends lacks $needed: $depends"
done
echo "ok: deb contents, fields, conffiles, scripts"
