#!/usr/bin/env bash
# Installs the peers, builds a Release agent and runs the inventory benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash installers/deps-debian.sh --bench
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUSTER_TESTS=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target muster-agent >/dev/null
python3 tests/bench/inventory.py --agent build-release/agent/muster-agent "$@"
