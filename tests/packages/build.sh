#!/usr/bin/env bash
# packages_build: cpack for DEB and RPM into BUILD_DIR/packages/, emptied first. The fixture
# the other package tests (and install-agent.sh's test) depend on.
set -euo pipefail
build_dir=${1:?usage: $0 BUILD_DIR}
out=$build_dir/packages

rm -rf "$out"
mkdir -p "$out"
cd "$build_dir"
for generator in DEB RPM; do
    cpack --config CPackConfig.cmake -G "$generator" -B "$out" ||
        { echo "FAIL: cpack -G $generator" >&2; exit 1; }
done
# The scratch trees cpack leaves are no package.
rm -rf "$out/_CPack_Packages"
ls -l "$out"
for package in muster-agent muster-collector; do
    ls "$out/${package}"_*.deb "$out/${package}"-*.rpm >/dev/null ||
        { echo "FAIL: $package: missing .deb or .rpm" >&2; exit 1; }
done
