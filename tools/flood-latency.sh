#!/usr/bin/env bash
# The terminal-flood target of issue 11 in a release build: keys typed
# while a `:terminal` floods output (`yes | head -n 200000`) reach the
# screen within BOUND ms of nvim's flush (vireo's share; nvim's own wait
# is printed beside it), with memory bounded. Runs tests/flood_window.rs
# RUNS times; every run must keep to the bound.
#
#   tools/flood-latency.sh [RUNS] [BOUND]   (defaults 5 and 50)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bound=${2:-50}
VIREO_NVIM=$(bash tools/setup.sh --print-nvim)
export VIREO_NVIM
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/vireo-runtime-$(id -u)"
    mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi
cargo test --release --quiet --test flood_window --no-run
failed=0
for i in $(seq "$runs"); do
    echo "flood-latency: run $i/$runs" >&2
    if ! VIREO_FLOOD_BOUND_MS=$bound cargo test --release --quiet --test flood_window -- --nocapture 2>&1 |
        grep -E '^flood:|panicked|^test result'; then
        failed=1
    fi
done
exit $failed
