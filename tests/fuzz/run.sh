#!/usr/bin/env bash
# Runs every libFuzzer target of a MUSTER_FUZZ=ON build for a bounded time, two at a time,
# each on a copy of its seed corpus (tests/fuzz/corpus/<target>/), so that the repository is
# never written. Exits non-zero when any target finds a crash, a leak, undefined behaviour,
# a timeout or runs out of memory, and prints where the reproducer is.
#   tests/fuzz/run.sh [BUILD_DIR]        default build-fuzz
#   FUZZ_SECONDS=60 FUZZ_JOBS=2 tests/fuzz/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build-fuzz}" && pwd)
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/muster-fuzz.XXXXXX")

targets=()
for source in "$here"/*_fuzz.cpp; do
    name=$(basename "$source" .cpp)
    if [[ ! -x "$build/tests/fuzz/$name" ]]; then
        echo "fuzz: $build/tests/fuzz/$name is missing (build the target muster_fuzz_targets)" >&2
        exit 2
    fi
    targets+=("$name")
done

# One target: its corpus copy and its artifacts in $work/<name>/; the log in $work/<name>.log.
run_target() {
    local name=$1 target=${1%_fuzz}
    mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
    if [[ -d "$here/corpus/$target" ]]; then cp -R "$here/corpus/$target/." "$work/$name/corpus/"; fi
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/tests/fuzz/$name" "$work/$name/corpus" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$work/$name/artifacts/" \
        >"$work/$name.log" 2>&1
}

# Prints the outcome of one finished target; returns non-zero when it failed.
report() {
    local name=$1 status=$2
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$' || true)
    if [[ $status -eq 0 ]]; then
        echo "fuzz: $name ok, ${runs:-?} runs in ${seconds}s"
        return 0
    fi
    echo "fuzz: $name FAILED (exit $status); last lines of $work/$name.log:" >&2
    tail -n 40 "$work/$name.log" >&2
    for artifact in "$work/$name/artifacts/"*; do
        [[ -e $artifact ]] && echo "fuzz: reproducer: $artifact (run: $build/tests/fuzz/$name $artifact)" >&2
    done
    return 1
}

declare -A running=()
failed=0
finish_one() {
    local pid status=0
    wait -n -p pid "${!running[@]}" || status=$?
    report "${running[$pid]}" "$status" || failed=1
    unset "running[$pid]"
}
for name in "${targets[@]}"; do
    while ((${#running[@]} >= jobs)); do finish_one; done
    run_target "$name" &
    running[$!]=$name
done
while ((${#running[@]} > 0)); do finish_one; done

if ((failed)); then
    echo "fuzz: failures above; reproducers and logs kept in $work" >&2
    exit 1
fi
rm -rf "$work"
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a finding"
