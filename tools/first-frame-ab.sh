#!/usr/bin/env bash
set -euo pipefail
# First frame of two vireo builds, interleaved under one Xvfb, both with a
# config.toml and an init.lua that sets g:vireo_* variables (so the settings
# layers are exercised). Usage: tools/first-frame-ab.sh OLD NEW [RUNS]
# Then the median of each start-up stage of their traces (`--trace`; a
# build without it shows n/a), in ms after main().
# Both are given --grid 100x30, or --grid $GRID (vireo before --grid took --size COLSxROWS:
# OLD_GRID_FLAG=--size measures such a build). VIREO_NVIM=PATH names the
# nvim (for a user that tools/setup.sh has not set up). As root, Xlib keeps
# no compose cache: run it as another user to measure what users get.
old=$1; new=$2; runs=${3:-10}
cd "$(dirname "$0")/.."
nvim_bin=${VIREO_NVIM:-$(bash tools/setup.sh --print-nvim)}
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/vireo-runtime-$(id -u)}"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
display=":$(( 600 + $$ % 300 ))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 & xvfb=$!
home=$(mktemp -d)
trap 'kill $xvfb; rm -rf "$home"' EXIT; sleep 1; export DISPLAY=$display
 mkdir -p $home/cfg/vireo $home/cfg/nvim $home/state
printf 'padding_left = 4\nligatures = true\nremember_window_size = false\n[font]\nsize = 11\nfallback = ["DejaVu Sans Mono"]\n' > $home/cfg/vireo/config.toml
printf 'vim.g.vireo_padding_top = 2\nvim.g.neovide_scale_factor = 1.0\n' > $home/cfg/nvim/init.lua
# one NAME BIN ARGS...: one start; its first-frame time on stdout, the
# first mark of each stage of its trace appended to $home/NAME.stages.
one() {
    local name=$1 out; shift
    out=$(mktemp); rm -f "$home/trace"
    XDG_CONFIG_HOME=$home/cfg XDG_STATE_HOME=$home/state VIREO_REPORT_FIRST_FRAME=1 VIREO_TRACE=$home/trace "$@" --nvim "$nvim_bin" -- -i NONE -n -c 'call timer_start(1200, {-> execute("qa!")})' > $out 2>/dev/null
    awk '/first-frame-ms/ {print $2}' $out; rm -f $out
    [ -f "$home/trace" ] && awk '!seen[$2]++ { print $2, $1 }' "$home/trace" >> "$home/$name.stages"
    return 0
}
a=(); b=()
for i in $(seq $runs); do a+=($(one old "$old" "${OLD_GRID_FLAG:---grid}" ${GRID:-100x30})); b+=($(one new "$new" --grid ${GRID:-100x30})); done
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
echo "old: median $(med "${a[@]}") ms  (${a[*]})"
echo "new: median $(med "${b[@]}") ms  (${b[*]})"
stage() { awk -v s="$1" '$1 == s { print $2 }' "$home/$2.stages" 2>/dev/null | sort -g |
    awk '{ v[NR] = $1 } END { print NR == 0 ? "n/a" : (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "stage: old new (median ms after main)"
for s in instance-ready adapter-ready device-ready nvim-attached pipelines-ready frame-built previewed frame-submitted gpu-done presented; do
    echo "$s: $(stage $s old) $(stage $s new)"
done
