# Shared by the package tests (sourced). Each test is run by ctest as
#   bash tests/packages/<test>.sh BUILD_DIR
# after packages_build has written BUILD_DIR/packages/. Exit 77 means skipped.
set -euo pipefail

build_dir=${1:?usage: $0 BUILD_DIR}
packages_dir=$build_dir/packages
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
source_dir=$(sed -n 's/^muster_SOURCE_DIR:STATIC=//p' "$build_dir/CMakeCache.txt")
[[ -n $version && -d $source_dir ]] || { echo "FAIL: $build_dir is not a configured muster tree" >&2; exit 1; }

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*" >&2
    exit 77
}

# The one .deb (or .rpm) of a package, by its exact expected name.
deb_of() {
    local deb=$packages_dir/${1}_${version}_${arch}.deb
    [[ -f $deb ]] || fail "no $deb (did packages_build run?)"
    echo "$deb"
}

rpm_of() {
    local found=("$packages_dir/$1-$version"-*.rpm)
    [[ -f ${found[0]} ]] || fail "no $packages_dir/$1-$version-*.rpm"
    echo "${found[0]}"
}

# A temporary directory removed when the test exits, whatever happens.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/muster-packages.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Compares two texts; on a difference, prints it and fails with the message.
expect_same() {
    local what=$1 expected=$2 actual=$3
    if [[ "$expected" != "$actual" ]]; then
        diff -u <(echo "$expected") <(echo "$actual") >&2 || true
        fail "$what differs (- expected, + actual)"
    fi
}
