#!/usr/bin/env bash
# Re-records the replay fixtures (tests/fixtures/replay/NAME/) from the
# scenario table, and the benchmark streams (benches/data/), with the vireo
# binary in target/. Look at every screen.txt before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
vireo=target/debug/vireo

# Tabs are IFS whitespace (empty fields would merge), so split on \037.
while IFS=$'\037' read -r name keys args; do
    case "$name" in ''|'#'*) continue ;; esac
    dir=tests/fixtures/replay/$name
    mkdir -p "$dir"
    key_args=()
    [ -n "$keys" ] && key_args=(--keys "$keys")
    # shellcheck disable=SC2086 # args are space-separated words by design
    "$vireo" --snapshot-text "$dir/screen.txt" --record "$dir/stream.msgpack" \
        --grid 80x24 "${key_args[@]}" -- --clean -n $args
    echo "recorded $name ($(stat -c %s "$dir/stream.msgpack") bytes)"
done < <(tr '\t' '\037' < tests/fixtures/scenarios.tsv)

# In --keys, `<lt>` keeps `\<C-f>` literal for :exe. `redraw` flushes each step.
# Line-by-line scrolling of a 10k-line C file with syntax highlighting.
"$vireo" --snapshot-text /dev/null --record benches/data/scroll-200x60.msgpack --grid 200x60 \
    --keys ':for i in range(300) | exe "normal! \<lt>C-e>" | redraw | endfor<CR>' \
    -- --clean -n tests/fixtures/files/sample.c
# Page-by-page: every page repaints (nearly) the whole 200x60 screen.
"$vireo" --snapshot-text /dev/null --record benches/data/pages-200x60.msgpack --grid 200x60 \
    --keys ':for i in range(60) | exe "normal! \<lt>C-f>" | redraw | endfor<CR>' \
    -- --clean -n tests/fixtures/files/sample.c
ls -la benches/data
