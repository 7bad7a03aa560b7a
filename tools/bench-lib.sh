# What the benchmark scripts share (compare-peers, memory-scaling,
# memory-windows, page-redraw, scroll-steps): sourced by them from the repository's root,
# not run.

# bench_target: `target`, cargo's target directory, wherever
# CARGO_TARGET_DIR or a wrapper puts it; `nvim_bin`, the nvim to run.
bench_target() {
    target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    nvim_bin=${VIREO_NVIM:-$(bash tools/setup.sh --print-nvim)}
}

# bench_vireo: `vireo`, the binary VIREO_BIN names, or else this tree's
# release build (built now).
bench_vireo() {
    if [ -z "${VIREO_BIN:-}" ]; then cargo build --release --quiet; fi
    bench_target
    vireo=$(realpath "${VIREO_BIN:-$target/release/vireo}")
}

# bench_bins [BIN...]: `bins`, the binaries named, or else this tree's
# release build (built now).
bench_bins() {
    bins=("$@")
    bench_target
    if [ ${#bins[@]} -eq 0 ]; then
        cargo build --release --quiet
        bins=("$target/release/vireo")
    fi
}

# bench_probe: `probe`, examples/peer_probe.rs built in release.
bench_probe() {
    cargo build --release --quiet --example peer_probe
    bench_target
    probe=$target/release/examples/peer_probe
}

# bench_home: `work`, a folder removed on exit, and a home in it with
# nothing remembered (empty config, state and cache); vireo's own
# variables that would change what is measured are unset.
bench_home() {
    work=$(mktemp -d)
    xvfb=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state \
        XDG_CACHE_HOME=$work/cache XDG_DATA_HOME=$work/data XDG_RUNTIME_DIR=$work/run
    mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
    mkdir -m 700 "$XDG_RUNTIME_DIR"
    unset VIREO_TRACE VIREO_LOG VIREO_GRID VIREO_SIZE VIREO_PRESENT VIREO_SCROLL_ANIMATION_LENGTH \
        VIREO_CURSOR_ANIMATION_LENGTH VIREO_POSITION_ANIMATION_LENGTH
}

bench_cleanup() {
    if [ -n "$xvfb" ]; then kill "$xvfb" 2>/dev/null || true; fi
    rm -rf "$work"
}

# bench_xvfb WIDTHxHEIGHTxDEPTH: an Xvfb screen of that size in DISPLAY,
# stopped on exit.
bench_xvfb() {
    local display=":$(( 500 + $$ % 400 ))"
    Xvfb "$display" -screen 0 "$1" -nolisten tcp -noreset >/dev/null 2>&1 &
    xvfb=$!
    export DISPLAY=$display
    for _ in $(seq 50); do
        xdpyinfo -display "$display" >/dev/null 2>&1 && break
        sleep 0.1
    done
}

# bench_c_file: `code`, the 4000-line C file of the scroll and page runs
# (every line coloured by `syntax on`), written in `work`.
bench_c_file() {
    code=$work/code.c
    awk 'BEGIN {
        for (i = 0; i < 400; i++) {
            printf "/* function %d: sums a table */\n", i
            printf "static int sum_%d(const int *table, size_t n) {\n", i
            printf "    int total = %d; /* start */\n", i
            printf "    for (size_t k = 0; k < n; k++) {\n"
            printf "        if (table[k] > 0x%x) total += table[k] * 3;\n", i
            printf "        else total -= 1;\n"
            printf "    }\n"
            printf "    printf(\"sum %%d = %%d\\n\", %d, total);\n", i
            printf "    return total;\n"
            printf "}\n"
        } }' >"$code"
}

# bench_anim_env on|off: `anim_env`, the environment that starts vireo
# with its default animations (on) or with them off.
bench_anim_env() {
    anim_env=()
    if [ "$1" = off ]; then
        anim_env=(VIREO_SCROLL_ANIMATION_LENGTH=0 VIREO_CURSOR_ANIMATION_LENGTH=0
            VIREO_POSITION_ANIMATION_LENGTH=0)
    fi
}

# bench_med FILE KEY [FIELD]: the median of the FIELDth value (default 1)
# of FILE's lines that begin with KEY.
bench_med() {
    awk -v k="$2" -v f="${3:-1}" '$1 == k { print $(f + 1) }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
