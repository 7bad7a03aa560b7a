#!/usr/bin/env bash
# Coverage-guided fuzzing of everything between nvim's bytes and the GPU:
# framing, decoding, model application and the renderer's geometry
# (fuzz/harness.rs), seeded with the recorded nvim streams in tests/fixtures.
#
#   tools/fuzz.sh [MINUTES]      default 10; FUZZ_JOBS=N runs N processes
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Not part of CI: the proptest suite (tests/fuzz.rs) is. Every crash found is
# copied to tests/fixtures/fuzz-regressions/, where `cargo test --test fuzz`
# replays it for good; fix it, then commit the file with the fix.
set -euo pipefail

minutes=${1:-10}
jobs=${FUZZ_JOBS:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
target=redraw
corpus=$root/fuzz/corpus/$target
artifacts=$root/fuzz/artifacts/$target
regressions=$root/tests/fixtures/fuzz-regressions

mkdir -p "$corpus" "$artifacts"
seed() { [ -e "$corpus/$2" ] || cp "$1" "$corpus/$2"; }
# Seeds: real nvim output reaches deep into the model from the first run.
for stream in "$root"/tests/fixtures/replay/*/stream.msgpack; do
    seed "$stream" "seed-replay-$(basename "$(dirname "$stream")")"
done
for stream in "$root"/tests/fixtures/golden/*.msgpack; do
    seed "$stream" "seed-golden-$(basename "$stream" .msgpack)"
done
for input in "$regressions"/*; do
    [ "$(basename "$input")" = README.md ] || seed "$input" "seed-regression-$(basename "$input")"
done

cd "$root/fuzz"
# Release with debug assertions and overflow checks (cargo-fuzz's default),
# without AddressSanitizer (the code is safe Rust, and ASan would halve the
# executions per second), in 16 codegen units to build faster. Inputs up to 64 KiB fit every recording; one that
# takes 10 s or 2 GiB is a finding too (a stall or a memory bomb).
status=0
cargo +nightly fuzz run "$target" --sanitizer none --codegen-units 16 --jobs "$jobs" "$corpus" -- \
    -artifact_prefix="$artifacts/" -dict="$root/fuzz/redraw.dict" \
    -max_total_time=$((minutes * 60)) -max_len=65536 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 || status=$?

found=0
for artifact in "$artifacts"/crash-* "$artifacts"/oom-* "$artifacts"/timeout-*; do
    [ -e "$artifact" ] || continue
    name=$(basename "$artifact")
    if [ ! -e "$regressions/$name" ]; then
        cp "$artifact" "$regressions/$name"
        echo "new finding: tests/fixtures/fuzz-regressions/$name (reproduce: cargo test --test fuzz fuzz_regressions)"
        found=$((found + 1))
    fi
done
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    exit 1
fi
