#!/usr/bin/env bash
# How each step of a scroll reaches the screen (issue 11): the scroll run
# of tools/compare-peers.sh (a 4000-line C file, `syntax on`, `number`,
# `nowrap`, a 900x600 window, 300 `<C-e>` through nvim's socket at 50 Hz,
# examples/peer_probe.rs) on vireo with animations off and `--trace`.
# Per run: CPU per line (as compare-peers), nvim's flushes and vireo's
# frames per line, and the time from each line's last flush to the frame
# that shows it (median, p90, max). Runs are interleaved when two binaries
# are given.
#
#   tools/scroll-steps.sh [RUNS] [BIN...]   (default 3 runs of this tree's release build)
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bench-lib.sh
runs=${1:-3}
shift || true
bench_probe
bench_bins "$@"
bench_home
bench_xvfb 1280x800x24

bench_c_file

# one BIN: one run; prints "CPU_MS_PER_LINE LINES FLUSHES FRAMES P50 P90 MAX".
one() {
    local socket=$work/scroll.sock trace=$work/trace.txt cpu
    rm -f "$socket" "$trace"
    cpu=$(timeout 90 "$probe" scroll vireo "$socket" 300 50 -- env VIREO_TRACE="$trace" \
        VIREO_SCROLL_ANIMATION_LENGTH=0 VIREO_CURSOR_ANIMATION_LENGTH=0 VIREO_POSITION_ANIMATION_LENGTH=0 \
        "$1" --nvim "$nvim_bin" --size 900x600 -- -u NONE -i NONE -n --listen "$socket" \
        -c 'syntax on' -c 'set number nowrap' "$code" | awk '$1 == "cpu_ms_per_line" { print $2 }')
    # The probe waits 1.5 s with nothing drawn before the first key: the
    # scroll is what comes after the first quiet second. A line's flushes
    # come within 5 ms of each other; the keys 20 ms apart.
    awk -v cpu="$cpu" '
        started && $2 == "flush" {
            if (n == 0 || $1 - last > 5) { if (n) end[n] = last; n++ }
            last = $1; flushes++
        }
        started && $2 == "presented" { shown[++frames] = $1 }
        !started && prev && $1 - prev > 1000 { started = 1; if ($2 == "flush") { n = 1; last = $1; flushes = 1 } }
        { prev = $1 }
        END {
            end[n] = last
            j = 1
            for (i = 1; i <= n; i++) {
                while (j <= frames && shown[j] < end[i]) j++
                if (j <= frames) lag[++m] = shown[j] - end[i]
            }
            for (i = 1; i <= m; i++) for (k = i + 1; k <= m; k++) if (lag[k] < lag[i]) { t = lag[i]; lag[i] = lag[k]; lag[k] = t }
            printf "%s %d %.2f %.2f %.1f %.1f %.1f\n", cpu, n, flushes / n, frames / n,
                lag[int((m + 1) / 2)], lag[int(m * 0.9)], lag[m]
        }' "$trace"
}

echo "scroll-steps: 300 <C-e> at 50 Hz, animations off, $runs runs; from a line's last flush to its frame, ms"
echo
echo "| binary | run | CPU per line, ms | lines | nvim's flushes per line | frames per line | flush to frame: median | p90 | max |"
echo "|---|---|---|---|---|---|---|---|---|"
for i in $(seq "$runs"); do
    for bin in "${bins[@]}"; do
        read -r cpu lines flushes frames p50 p90 max <<<"$(one "$bin")"
        echo "| $bin | $i | $cpu | $lines | $flushes | $frames | $p50 | $p90 | $max |"
    done
done
