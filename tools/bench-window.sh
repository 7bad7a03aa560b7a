#!/usr/bin/env bash
# Time from process start to the first presented frame showing nvim's
# content, and the vireo process's resident memory, for the real window
# under Xvfb at 100x30. Usage: tools/bench-window.sh [RUNS]  (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --quiet
vireo=target/release/vireo
nvim_bin=$(bash tools/setup.sh --print-nvim)
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/vireo-runtime-$(id -u)}"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"

display=":$(( 500 + $$ % 400 ))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
export DISPLAY=$display

times=()
rss=()
for _ in $(seq "$runs"); do
    out=$(mktemp)
    # nvim quits by itself after 1.5 s; the first frame comes long before.
    VIREO_REPORT_FIRST_FRAME=1 "$vireo" --nvim "$nvim_bin" --grid 100x30 \
        -- --clean -n -c 'call timer_start(1500, {-> execute("qa!")})' >"$out" 2>/dev/null &
    pid=$!
    sleep 1.2
    rss+=("$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)")
    wait $pid || true
    times+=("$(awk '/first-frame-ms/ {print $2}' "$out")")
    rm -f "$out"
done

stats() {
    sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        p90 = v[int(NR * 0.9 + 0.999)]
        printf "median %.1f  p90 %.1f  min %.1f  max %.1f  (n=%d)\n", m, p90, v[1], v[NR], NR }'
}
echo "first frame, ms:   $(printf '%s\n' "${times[@]}" | stats)"
echo "resident memory, MiB: $(printf '%s\n' "${rss[@]}" | awk '{ printf "%.1f\n", $1 / 1024 }' | stats)"
