# Shared by the benchmark scripts (sourced, not run): the build tree and a collector made by
# `init` in a temporary directory, started on a free loopback port and stopped on exit.

# bench_build DIR TARGET...: DIR empty means a Release tree in build-release, configured here.
# Sets bench_build_dir.
bench_build() {
    bench_build_dir=$1
    shift
    if [ -z "$bench_build_dir" ]; then
        bench_build_dir=build-release
        cmake -S . -B "$bench_build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUSTER_TESTS=ON >/dev/null
    fi
    echo "building $* in $bench_build_dir..." >&2
    cmake --build "$bench_build_dir" -j "$(nproc)" --target "$@" >/dev/null
}

# bench_start_collector COLLECTOR_BIN [SED_EXPRESSION]: init into $bench_work/c, optionally
# edit collector.yaml, serve in the background. Sets bench_work, bench_port, collector_pid;
# removes it all on exit (or call bench_cleanup).
bench_start_collector() {
    local collector=$1 edit=${2:-}
    bench_work=$(mktemp -d)
    trap bench_cleanup EXIT
    bench_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$collector" init --dir "$bench_work/c" --listen "127.0.0.1:$bench_port" >/dev/null
    [ -z "$edit" ] || sed -i "$edit" "$bench_work/c/collector.yaml"
    "$collector" serve --config "$bench_work/c/collector.yaml" 2> "$bench_work/collector.log" &
    collector_pid=$!
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$bench_port") 2>/dev/null; then break; fi
        sleep 0.1
    done
    if ! kill -0 "$collector_pid" 2>/dev/null; then
        echo "the collector did not start:" >&2
        tail "$bench_work/collector.log" >&2
        exit 1
    fi
}

bench_extra_pids=()
bench_cleanup() {
    for pid in "${bench_extra_pids[@]}" ${collector_pid:-}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -z "${bench_work:-}" ] || rm -rf "$bench_work"
}
