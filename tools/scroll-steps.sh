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
runs=${1:-3}
shift || true
bins=("$@")
cargo build --release --quiet --example peer_probe
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release --quiet
    bins=("$target/release/vireo")
fi
probe=$target/release/examples/peer_probe
nvim_bin=$(bash tools/setup.sh --print-nvim)

work=$(mktemp -d)
xvfb=""
cleanup() {
    if [ -n "$xvfb" ]; then kill "$xvfb" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state \
    XDG_CACHE_HOME=$work/cache XDG_DATA_HOME=$work/data XDG_RUNTIME_DIR=$work/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset VIREO_TRACE VIREO_GRID VIREO_SIZE VIREO_PRESENT

display=":$(( 500 + $$ % 400 ))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$display
for _ in $(seq 50); do
    xdpyinfo -display "$display" >/dev/null 2>&1 && break
    sleep 0.1
done

code=$work/scroll.c
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
