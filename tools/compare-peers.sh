#!/usr/bin/env bash
# vireo against nvim-qt on the same machine, in the same run, under one
# Xvfb, with the same nvim (`-u NONE -i NONE`), measured from the outside
# in the same way for both (examples/peer_probe.rs: X DAMAGE reports,
# XTEST keys, /proc). Prints the table of issue 11.
#
#   tools/compare-peers.sh [RUNS]    (default 5: the median of RUNS
#                                     interleaved runs of each GUI)
#   KEYS=N (keys typed per run, default 20), VIREO_BIN=PATH (a vireo
#   binary to measure instead of building this tree's)
#
# vireo is measured twice: with its default animations (smooth scroll,
# cursor and window moves) and with them off (`*_animation_length` 0,
# "vireo, still" in the table), as issue 11 sets a target for each.
#
# Per run and GUI: a start at 100x30 (first frame showing nvim's text,
# memory after start-up, idle CPU over 5 s, KEYS keypresses in insert
# mode) and two scroll runs (a 4000-line C file, `syntax on`, `number`,
# `nowrap`, a 900x600 px window): 300 <C-e> through nvim_input at 50 Hz,
# and <C-e> held for 300 of the X server's key repeats at 50 Hz.
# A few minutes in all. Installs nvim-qt (Debian's neovim-qt) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bench-lib.sh
runs=${1:-5}
keys=${KEYS:-20}
lines=300

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if ! command -v nvim-qt >/dev/null; then
    echo "compare-peers: installing neovim-qt" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim-qt >/dev/null
fi
# VIREO_BIN=PATH measures another vireo binary (a build to compare).
bench_vireo
bench_probe
# Both GUIs start from nothing remembered: empty config, state and cache.
bench_home
# "vireo-still": vireo with every animation off.
still=(env VIREO_SCROLL_ANIMATION_LENGTH=0 VIREO_CURSOR_ANIMATION_LENGTH=0 VIREO_POSITION_ANIMATION_LENGTH=0)

bench_xvfb 1280x800x24

# The C file: 4000 lines, every line coloured by `syntax on`.
bench_c_file

nvim_args=(-u NONE -i NONE -n)
scroll_args=(-c 'syntax on' -c 'set number nowrap')
# gui NAME MODE -> the command line of that GUI.
gui() {
    local name=$1 mode=$2 socket=$work/$1.sock
    case $name/$mode in
        vireo/start) echo "$vireo" --nvim "$nvim_bin" --grid 100x30 -- "${nvim_args[@]}" ;;
        vireo/scroll | vireo/repeat) echo "$vireo" --nvim "$nvim_bin" --size 900x600 -- "${nvim_args[@]}" --listen "$socket" ;;
        # env execs vireo: the probe's child is vireo itself.
        vireo-still/*) echo "${still[@]}" "$(gui vireo "$mode" | sed "s|$work/vireo.sock|$socket|")" ;;
        # 9x22 px cells with Qt's default monospace font: 900x660 is 100x30.
        nvim-qt/start) echo nvim-qt --nofork --geometry 900x660 --nvim "$nvim_bin" -- "${nvim_args[@]}" ;;
        nvim-qt/scroll | nvim-qt/repeat) echo nvim-qt --nofork --geometry 900x600 --nvim "$nvim_bin" -- "${nvim_args[@]}" --listen "$socket" ;;
    esac
}
class() { [ "$1" = nvim-qt ] && echo nvim-qt || echo vireo; }

# run NAME MODE: one probe run; its `key value` lines go to $work/NAME.MODE.
run() {
    local name=$1 mode=$2 out=$work/$1.$2 cmd
    read -r -a cmd <<<"$(gui "$name" "$mode")"
    if [ "$mode" = start ]; then
        timeout 90 "$probe" start "$(class "$name")" "$keys" -- "${cmd[@]}" >>"$out"
    else
        rm -f "$work/$name.sock"
        timeout 90 "$probe" "$mode" "$(class "$name")" "$work/$name.sock" "$lines" 50 -- \
            "${cmd[@]}" "${scroll_args[@]}" "$code" >>"$out"
    fi
}

# One start of each first, not counted: the disk caches (Mesa's shaders,
# fontconfig, nvim's runtime files) are then as warm as on a desktop.
for name in nvim-qt vireo; do
    echo "compare-peers: warm-up, $name" >&2
    run "$name" start
    rm "$work/$name.start"
done
for i in $(seq "$runs"); do
    # Alternate which goes first, so neither always gets the warmer caches.
    if [ $((i % 2)) -eq 1 ]; then order=(nvim-qt vireo vireo-still); else order=(vireo-still vireo nvim-qt); fi
    for name in "${order[@]}"; do
        echo "compare-peers: run $i/$runs, $name" >&2
        run "$name" start
        run "$name" scroll
        run "$name" repeat
    done
done

# values NAME MODE KEY: every value of KEY, one a line.
values() { awk -v k="$3" '$1 == k { for (i = 2; i <= NF; i++) print $i }' "$work/$1.$2"; }
# quantile Q: of the numbers on stdin.
quantile() {
    sort -g | awk -v q="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        i = (NR - 1) * q + 1; lo = int(i); f = i - lo
        printf "%.3g\n", (lo < NR) ? v[lo] + f * (v[lo + 1] - v[lo]) : v[lo] }'
}
med() { values "$@" | quantile 0.5; }
mib() { awk '{ printf "%.0f\n", $1 / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0) printf "%.2f", b / a; else print "-" }'; }
# row FIGURE NVIM-QT VIREO VIREO-STILL
row() {
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4" "$(ratio "$2" "$4")"
}
# both FIGURE MODE KEY [FILTER]: the median of KEY for each GUI.
both() {
    local f=${4:-cat}
    row "$1" "$(values nvim-qt "$2" "$3" | $f | quantile 0.5)" "$(values vireo "$2" "$3" | $f | quantile 0.5)" \
        "$(values vireo-still "$2" "$3" | $f | quantile 0.5)"
}

echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(nvim-qt --version 2>/dev/null | head -n1), $("$vireo" --version), $("$nvim_bin" --version | head -n1); median of $runs interleaved runs"
echo
echo "| figure | nvim-qt | vireo | vireo / nvim-qt | vireo, still | still / nvim-qt |"
echo "|---|---|---|---|---|---|"
both "process start to first frame showing nvim's text, ms" start first_frame_ms
for q in 0.5 0.9; do
    row "keypress to pixel, insert mode, p$(awk -v q=$q 'BEGIN { print q * 100 }'), ms ($((runs * keys)) keys)" \
        "$(values nvim-qt start key_ms | quantile $q)" "$(values vireo start key_ms | quantile $q)" \
        "$(values vireo-still start key_ms | quantile $q)"
done
both "resident memory after start-up, MiB" start rss_kb mib
both "anonymous memory after start-up, MiB" start anon_kb mib
both "idle CPU over 5 s, clock ticks" start idle_ticks
both "CPU time per scrolled line, ms" scroll cpu_ms_per_line
both "last scroll frame after the last key, ms" scroll last_frame_after_last_key_ms
both "first frame of the scroll file (900x600), ms" scroll first_frame_ms
both "lines scrolled by <C-e> held, X key repeat at 50 Hz" repeat lines_scrolled
both "CPU time per line scrolled by key repeat, ms" repeat cpu_ms_per_line
both "last scroll frame after the key's release, ms" repeat last_frame_after_last_key_ms
