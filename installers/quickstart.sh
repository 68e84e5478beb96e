#!/usr/bin/env bash
# The README's first command: installs what is missing, builds a Release build, and prints
# this machine's inventory as the agent sees it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installers/deps-debian.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUSTER_TESTS=OFF >/dev/null
cmake --build build-release -j "$(nproc)" >/dev/null
build-release/agent/muster-agent inventory --pretty
