#!/usr/bin/env bash
# Where a key's time goes in vireo (issue 11): the keypress run of
# tools/compare-peers.sh (insert mode, 100x30, keys injected with XTEST
# and timed to the first X damage report whose pixels differ, see
# examples/peer_probe.rs) on vireo with animations off and `--trace`. Per
# binary: keypress to pixel (p50, p90) and, from the trace, the median
# time after winit's key event at which each stage of the key's frame
# came. Runs are interleaved when two binaries are given.
#
#   tools/key-stages.sh [RUNS] [BIN...]   (default 3 runs of this tree's release build)
#   KEYS=N   keys typed per run (default 40)
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bench-lib.sh
runs=${1:-3}
shift || true
keys=${KEYS:-40}
bench_probe
bench_bins "$@"
bench_home
bench_xvfb 1280x800x24

stages=(input-written flush frame-received draw-begun frame-built previewed frame-submitted gpu-done presented)

# one BIN N: run N of BIN; its key times go to $work/N.keys, its stages
# (`STAGE MS-AFTER-THE-KEY`, the first of each stage after a key) to
# $work/N.stages.
one() {
    local trace=$work/trace.txt
    rm -f "$trace"
    timeout 90 "$probe" start vireo "$keys" -- env VIREO_TRACE="$trace" \
        VIREO_SCROLL_ANIMATION_LENGTH=0 VIREO_CURSOR_ANIMATION_LENGTH=0 VIREO_POSITION_ANIMATION_LENGTH=0 \
        "$1" --nvim "$nvim_bin" --grid 100x30 -- -u NONE -i NONE -n |
        awk '$1 == "key_ms" { for (i = 2; i <= NF; i++) print $i }' >>"$work/$2.keys"
    awk '
        $2 == "key" { key = $1; delete seen; next }
        key && !($2 in seen) { print $2, $1 - key; seen[$2] = 1 }
        $2 == "presented" { key = 0 }' "$trace" >>"$work/$2.stages"
}

# quantile Q: of the numbers on stdin.
quantile() {
    sort -g | awk -v q="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        i = (NR - 1) * q + 1; lo = int(i); f = i - lo
        printf "%.3g\n", (lo < NR) ? v[lo] + f * (v[lo + 1] - v[lo]) : v[lo] }'
}

for i in $(seq "$runs"); do
    for n in "${!bins[@]}"; do
        echo "key-stages: run $i/$runs, ${bins[$n]}" >&2
        one "${bins[$n]}" "$n"
    done
done

echo "key-stages: $runs runs of $keys keys each, insert mode, 100x30, animations off; ms after the key event (medians)"
echo
printf '| binary | keys | to pixel p50 | p90 |'
printf ' %s |' "${stages[@]}"
echo
printf '|---|---|---|---|'
printf -- '---|%.0s' "${stages[@]}"
echo
for n in "${!bins[@]}"; do
    printf '| %s | %s | %s | %s |' "${bins[$n]}" "$(wc -l <"$work/$n.keys")" \
        "$(quantile 0.5 <"$work/$n.keys")" "$(quantile 0.9 <"$work/$n.keys")"
    for s in "${stages[@]}"; do
        printf ' %s |' "$(awk -v s="$s" '$1 == s { print $2 }' "$work/$n.stages" | quantile 0.5)"
    done
    echo
done
