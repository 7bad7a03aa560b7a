#!/usr/bin/env bash
# How long a frame redrawn whole takes in a large window (issue 11): vireo
# at GRID (default 300x80) on a 4000-line C file (`syntax on`, `number`,
# `nowrap`, animations off) under Xvfb, sent 20 `<C-f>` and 10 `<C-b>`
# 300 ms apart through nvim's socket, with `--trace`. Each key's slowest
# frame, from draw-begun to presented, is a page drawn anew; its fastest
# is a small one (the cursor, the ruler). Prints the median and range of
# both per run. Runs are interleaved when two binaries are given.
#
#   tools/page-redraw.sh [RUNS] [BIN...]   (default 3 runs of this tree's release build)
#   GRID=200x60 tools/page-redraw.sh 3 /tmp/old /tmp/new
# The environment passes through: `LP_NUM_THREADS=2 tools/page-redraw.sh`
# measures lavapipe with two rasteriser threads.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bench-lib.sh
runs=${1:-3}
shift || true
bench_bins "$@"
bench_home
bench_xvfb 3840x2160x24

bench_c_file

# one BIN: one run; prints "slow MEDIAN MIN MAX fast MEDIAN MIN MAX" in ms.
one() {
    local socket=$work/page.sock trace=$work/trace.txt pid
    rm -f "$socket" "$trace"
    VIREO_TRACE=$trace VIREO_SCROLL_ANIMATION_LENGTH=0 VIREO_CURSOR_ANIMATION_LENGTH=0 \
        VIREO_POSITION_ANIMATION_LENGTH=0 "$1" --nvim "$nvim_bin" --grid "${GRID:-300x80}" -- \
        -u NONE -i NONE -n --listen "$socket" -c 'syntax on' -c 'set number nowrap' "$code" &
    pid=$!
    for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
    # Start-up's frames are over by then.
    sleep 2
    local start
    start=$(awk 'END { print $1 }' "$trace")
    for key in $(printf '<C-f> %.0s' $(seq 20)) $(printf '<C-b> %.0s' $(seq 10)); do
        "$nvim_bin" --server "$socket" --remote-send "$key"
        sleep 0.3
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    # Frames after start-up, grouped by key (a gap of 100 ms starts a new
    # key); per key the slowest and the fastest draw-begun -> presented.
    awk -v start="$start" '
        $1 <= start { next }
        $2 == "draw-begun" { begun = $1 }
        $2 == "presented" && begun {
            d = $1 - begun
            if (last && begun - last > 100) { slow[++n] = hi; fast[n] = lo; hi = 0; lo = 1e9 }
            if (!last) { hi = 0; lo = 1e9 }
            if (d > hi) hi = d
            if (d < lo) lo = d
            last = $1; begun = 0
        }
        END {
            if (last) { slow[++n] = hi; fast[n] = lo }
            printf "%s %s\n", stats(slow, n), stats(fast, n)
        }
        function stats(v, n,    i, j, t) {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            return sprintf("%.1f %.1f %.1f", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n])
        }' "$trace"
}

echo "page-redraw: ${GRID:-300x80}, $runs runs, LP_NUM_THREADS=${LP_NUM_THREADS-unset}; per key, draw-begun -> presented, ms"
echo
echo "| binary | run | keys' slowest frame: median (min-max) | keys' fastest frame: median (min-max) |"
echo "|---|---|---|---|"
for i in $(seq "$runs"); do
    for bin in "${bins[@]}"; do
        read -r sm smin smax fm fmin fmax <<<"$(one "$bin")"
        echo "| $bin | $i | $sm ($smin-$smax) | $fm ($fmin-$fmax) |"
    done
done
