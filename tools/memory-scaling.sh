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
. tools/bench-lib.sh
runs=${1:-3}

bench_vireo
bench_probe
bench_home

# A screen that holds a 300x80 window.
bench_xvfb 3840x2160x24

grids=(100x30 200x60 300x80)
# One start of each first, not counted (warm disk caches).
timeout 90 "$probe" start vireo 0 -- "$vireo" --nvim "$nvim_bin" --grid 100x30 -- -u NONE -i NONE -n >/dev/null
for i in $(seq "$runs"); do
    for anim in on off; do
        for grid in "${grids[@]}"; do
            echo "memory-scaling: run $i/$runs, $grid, animations $anim" >&2
            bench_anim_env "$anim"
            timeout 90 "$probe" start vireo 0 -- env "${anim_env[@]}" "$vireo" --nvim "$nvim_bin" \
                --grid "$grid" -- -u NONE -i NONE -n >>"$work/$anim.$grid"
        done
    done
done

echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $("$vireo" --version), median of $runs runs"
echo
echo "| animations | grid | window, px | resident, MiB | anonymous, MiB | anonymous bytes per pixel added over 100x30 |"
echo "|---|---|---|---|---|---|"
for anim in on off; do
    base=$work/$anim.100x30
    base_px=$(( $(bench_med "$base" window_px 1) * $(bench_med "$base" window_px 2) ))
    base_anon=$(bench_med "$base" anon_kb)
    for grid in "${grids[@]}"; do
        f=$work/$anim.$grid
        w=$(bench_med "$f" window_px 1)
        h=$(bench_med "$f" window_px 2)
        anon=$(bench_med "$f" anon_kb)
        per=$(awk -v a="$anon" -v b="$base_anon" -v p=$((w * h)) -v q="$base_px" \
            'BEGIN { if (p > q) printf "%.1f", (a - b) * 1024 / (p - q); else print "-" }')
        printf '| %s | %s | %sx%s | %.0f | %.1f | %s |\n' "$anim" "$grid" "$w" "$h" \
            "$(awk -v k="$(bench_med "$f" rss_kb)" 'BEGIN { print k / 1024 }')" \
            "$(awk -v k="$anon" 'BEGIN { print k / 1024 }')" "$per"
    done
done
