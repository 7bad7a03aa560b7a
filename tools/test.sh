#!/usr/bin/env bash
# Sets up the machine (tools/setup.sh) and runs the whole test suite: unit,
# live-nvim, TUI-conformance, replay, property, golden-image (offscreen on
# Mesa's software Vulkan) and window (Xvfb) tests, plus one pass of each
# benchmark as a smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# Test against the real nvim binary setup found, whatever PATH order says.
VIREO_NVIM=$(bash tools/setup.sh --print-nvim)
export VIREO_NVIM
if [ -d "$HOME/.cargo/bin" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi
# Mesa's Vulkan loader wants a runtime dir; CI shells often have none.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/vireo-runtime-$(id -u)"
    mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi
# nvim's own data and state folders made before the tests start nvims at
# once: on a fresh machine two creating them together can lose the race
# (E739 at start-up, a prompt in place of the screen).
mkdir -p "${XDG_DATA_HOME:-$HOME/.local/share}/nvim" "${XDG_STATE_HOME:-$HOME/.local/state}/nvim"
cargo test --all-targets --no-fail-fast
cargo test --doc
