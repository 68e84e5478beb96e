#!/usr/bin/env bash
# Installs, from Debian 12 packages only, whatever muster needs to build and test that
# this machine does not have yet. Safe to run again: it asks apt only for what is missing.
#   deps-debian.sh            build and test dependencies
#   deps-debian.sh --bench    also the peers the benchmarks compare against
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev catch2 zlib1g-dev
  # test oracles: the real package tools and system tools the tests compare against
  dpkg rpm iproute2 util-linux procps python3 openssl dbus gzip
  # the package checks (tests/packages): lintian on the debs
  lintian
  # the collector's clock moved in tests (libfaketime)
  faketime
  # the agent killed at each state write, exactly (strace's fault injection)
  strace
  # a real Nagios plugin (check_disk) for the agent's command check
  monitoring-plugins-basic
  # the TLS scanner the security test runs against the collector
  sslscan
  # sanitizer and fuzzing toolchain
  clang libclang-rt-14-dev
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(fusioninventory-agent ocsinventory-agent time valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps-debian: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
