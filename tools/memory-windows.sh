#!/usr/bin/env bash
# What nvim's windows cost vireo in memory (issue 11: "windows and floats
# cost no more than their visible area"): vireo at 100x30 under Xvfb, with
# the default animations and with them off. Through nvim's socket, in one
# start of vireo it makes 12 splits (6 `:split`, 6 `:vsplit`), then
# `:only`; in another it opens one float, then 29 more (30x8 cells each,
# scratch buffers full of text, spread over the screen, overlapping),
# closes them all, opens the 30 again and closes them. After each step and 3 s of rest, the anonymous memory of
# /proc/PID/smaps_rollup. Prints the memory after each step and what a
# float beyond the first costs, in bytes per pixel of its area (a float's
# own texture is 4).
#
#   tools/memory-windows.sh [RUNS]    (default 3: the median of RUNS)
#   FLOAT=COLSxROWS sizes the floats otherwise (a float must fit in 100x30).
#   VIREO_BIN=PATH measures that vireo binary instead of this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bench-lib.sh
runs=${1:-3}
# Float size in cells.
float=${FLOAT:-30x8}
fw=${float%x*}
fh=${float#*x}

bench_vireo
bench_home
bench_xvfb 1920x1080x24
steps=(start splits only start_floats one thirty closed again closed_again)

# lua CODE: runs CODE in the nvim at $sock, then waits for vireo to draw.
lua() {
    "$nvim_bin" --server "$sock" --remote-expr "luaeval('(function() $1 return 0 end)()')" >/dev/null
    sleep 3
}

# floats FIRST LAST: opens floats FIRST..LAST (numbers place them).
floats() {
    lua "_G.wins = _G.wins or {}
        for i = $1, $2 do
            local b = vim.api.nvim_create_buf(false, true)
            local lines = {}
            for k = 1, $fh do lines[k] = string.rep(string.char(97 + (i + k) % 26), $fw) end
            vim.api.nvim_buf_set_lines(b, 0, -1, false, lines)
            table.insert(_G.wins, vim.api.nvim_open_win(b, false, {relative = \"editor\",
                row = (i * 3) % 20, col = (i * 7) % 70, width = $fw, height = $fh}))
        end"
}

close_floats() {
    lua "for _, w in ipairs(_G.wins) do vim.api.nvim_win_close(w, true) end _G.wins = {}"
}

# start_vireo ANIM NAME: vireo with animations ANIM (on or off) and its
# nvim listening at $sock; `pid`, its process; `geometry`, its window's
# size in pixels; returns after its first screen and 5 s of rest.
start_vireo() {
    bench_anim_env "$1"
    sock=$work/nvim-$2.sock
    env "${anim_env[@]}" "$vireo" --nvim "$nvim_bin" --grid 100x30 -- -u NONE -i NONE -n \
        --listen "$sock" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        "$nvim_bin" --server "$sock" --remote-expr 1 >/dev/null 2>&1 && break
        sleep 0.1
    done
    sleep 5
    # The largest of vireo's X windows.
    geometry=$(for w in $(xdotool search --class vireo); do
        xdotool getwindowgeometry "$w" | awk '/Geometry/ { split($2, s, "x"); print s[1] * s[2], $2 }'
    done | sort -n | tail -1 | cut -d' ' -f2)
}

stop_vireo() {
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

# anon FILE STEP: records vireo's anonymous memory after STEP.
anon() { echo "$2 $(awk '/^Anonymous:/ { print $2 }' "/proc/$pid/smaps_rollup")" >>"$1"; }

# Splits and floats each from a fresh start: memory freed by one is kept
# for reuse (see README) and would hide what the other costs.
for i in $(seq "$runs"); do
    for anim in on off; do
        echo "memory-windows: run $i/$runs, animations $anim" >&2
        f=$work/$anim
        start_vireo "$anim" "splits-$anim-$i"
        anon "$f" start
        lua 'for _ = 1, 6 do vim.cmd("split") end for _ = 1, 6 do vim.cmd("vsplit") end'
        anon "$f" splits
        lua 'vim.cmd("only")'
        anon "$f" only
        stop_vireo
        start_vireo "$anim" "floats-$anim-$i"
        anon "$f" start_floats
        floats 0 0
        anon "$f" one
        floats 1 29
        anon "$f" thirty
        close_floats
        anon "$f" closed
        floats 0 29
        anon "$f" again
        close_floats
        anon "$f" closed_again
        stop_vireo
    done
done

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

cell_w=$(( ${geometry%x*} / 100 ))
cell_h=$(( ${geometry#*x} / 30 ))
float_px=$(( fw * cell_w * fh * cell_h ))
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $("$vireo" --version), median of $runs runs;"
echo "window ${geometry} px, a float ${fw}x${fh} cells = $float_px px"
echo
echo "| animations | start | 12 splits | \`:only\` | start | 1 float | 30 floats | closed | 30 again | closed | each float after the first, KiB | bytes per float pixel |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for anim in on off; do
    f=$work/$anim
    row="| $anim"
    for step in "${steps[@]}"; do row="$row | $(mib "$(bench_med "$f" "$step")")"; done
    per=$(awk -v a="$(bench_med "$f" thirty)" -v b="$(bench_med "$f" one)" 'BEGIN { printf "%.0f", (a - b) / 29 }')
    per_px=$(awk -v k="$per" -v p="$float_px" 'BEGIN { printf "%.1f", k * 1024 / p }')
    echo "$row | $per | $per_px |"
done
echo
echo "(anonymous MiB after each step)"
