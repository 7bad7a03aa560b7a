#!/usr/bin/env bash
# The long soak: a real vireo window under Xvfb driven through a real nvim
# with a random mix of edits, splits, floats, resizes, scrolling, terminal
# floods, colour scheme changes and pastes (tests/soak.rs), in strict mode:
# after the warm-up (the first third) resident memory may grow by at most
# 2 MB, and no frame may stall for more than 250 ms. vireo is an optimised
# build; the driver is the ordinary test build.
#
# Usage: tools/soak.sh [SECONDS]   (default 600; VIREO_SOAK_SEED=N replays a run)
# CI runs the same test for 60 s without the strict checks (cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
if [ -d "$HOME/.cargo/bin" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi
VIREO_NVIM=${VIREO_NVIM:-$(bash tools/setup.sh --print-nvim)}
export VIREO_NVIM
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/vireo-runtime-$(id -u)"
    mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi
cargo build --release --bin vireo
VIREO_SOAK_BIN="$PWD/target/release/vireo" VIREO_SOAK_STRICT=1 VIREO_SOAK_SECONDS="$seconds" \
    cargo test --test soak -- --nocapture
