#!/usr/bin/env bash
# How vireo's memory grows with its window (issue 11): vireo started at
# 100x30, 200x60 and 300x80 cells under Xvfb, with the default animations
# and with them off (`*_animation_length` 0); after its first frame shows
# nvim's text and 6 s of rest (examples/peer_probe.rs `start`), the
# resident and anonymous memory of /proc/PID/smaps_rollup. Prints a table
# and the bytes each added pixel costs over 100x30 (targets: at most 8
# with animations off, 16 with them on).
#
#   tools/memory-scaling.sh [RUNS]    (default 3: the median of RUNS)
#   VIREO_BIN=PATH measures that vireo binary instead of this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}

if [ -z "${VIREO_BIN:-}" ]; then cargo build --release --quiet; fi
cargo build --release --quiet --example peer_probe
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
vireo=$(realpath "${VIREO_BIN:-$target/release/vireo}")
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
unset VIREO_TRACE VIREO_LOG VIREO_GRID VIREO_SIZE VIREO_PRESENT VIREO_SCROLL_ANIMATION_LENGTH \
    VIREO_CURSOR_ANIMATION_LENGTH VIREO_POSITION_ANIMATION_LENGTH

# A screen that holds a 300x80 window.
display=":$(( 500 + $$ % 400 ))"
Xvfb "$display" -screen 0 3840x2160x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$display
for _ in $(seq 50); do
    xdpyinfo -display "$display" >/dev/null 2>&1 && break
    sleep 0.1
done

grids=(100x30 200x60 300x80)
# One start of each first, not counted (warm disk caches).
timeout 90 "$probe" start vireo 0 -- "$vireo" --nvim "$nvim_bin" --grid 100x30 -- -u NONE -i NONE -n >/dev/null
for i in $(seq "$runs"); do
    for anim in on off; do
        for grid in "${grids[@]}"; do
            echo "memory-scaling: run $i/$runs, $grid, animations $anim" >&2
            env=()
            if [ "$anim" = off ]; then
                env=(VIREO_SCROLL_ANIMATION_LENGTH=0 VIREO_CURSOR_ANIMATION_LENGTH=0
                    VIREO_POSITION_ANIMATION_LENGTH=0)
            fi
            timeout 90 "$probe" start vireo 0 -- env "${env[@]}" "$vireo" --nvim "$nvim_bin" \
                --grid "$grid" -- -u NONE -i NONE -n >>"$work/$anim.$grid"
        done
    done
done

# med FILE KEY [FIELD]: the median of KEY's FIELDth value (default 1).
med() {
    awk -v k="$2" -v f="${3:-1}" '$1 == k { print $(f + 1) }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $("$vireo" --version), median of $runs runs"
echo
echo "| animations | grid | window, px | resident, MiB | anonymous, MiB | anonymous bytes per pixel added over 100x30 |"
echo "|---|---|---|---|---|---|"
for anim in on off; do
    base=$work/$anim.100x30
    base_px=$(( $(med "$base" window_px 1) * $(med "$base" window_px 2) ))
    base_anon=$(med "$base" anon_kb)
    for grid in "${grids[@]}"; do
        f=$work/$anim.$grid
        w=$(med "$f" window_px 1)
        h=$(med "$f" window_px 2)
        anon=$(med "$f" anon_kb)
        per=$(awk -v a="$anon" -v b="$base_anon" -v p=$((w * h)) -v q="$base_px" \
            'BEGIN { if (p > q) printf "%.1f", (a - b) * 1024 / (p - q); else print "-" }')
        printf '| %s | %s | %sx%s | %.0f | %.1f | %s |\n' "$anim" "$grid" "$w" "$h" \
            "$(awk -v k="$(med "$f" rss_kb)" 'BEGIN { print k / 1024 }')" \
            "$(awk -v k="$anon" 'BEGIN { print k / 1024 }')" "$per"
    done
done
