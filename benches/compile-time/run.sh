#!/usr/bin/env bash
# Clean release build of a 4-layer example, then its rebuild after touching
# it, for `network` and for dfdx 0.13. Prints one line per build; run from
# anywhere: `bash benches/compile-time/run.sh [runs]`.
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-3}
for crate in ours dfdx; do
    target=$(mktemp -d)
    (cd "$crate" && cargo fetch --quiet)
    for run in $(seq "$runs"); do
        rm -rf "$target"
        start=$(date +%s.%N)
        (cd "$crate" && CARGO_TARGET_DIR=$target cargo build --quiet --release --example four_layers)
        clean=$(echo "$(date +%s.%N) - $start" | bc)
        touch "$crate/examples/four_layers.rs"
        start=$(date +%s.%N)
        (cd "$crate" && CARGO_TARGET_DIR=$target cargo build --quiet --release --example four_layers)
        rebuild=$(echo "$(date +%s.%N) - $start" | bc)
        printf '%s run %s: clean %.1f s, rebuild %.2f s\n' "$crate" "$run" "$clean" "$rebuild"
    done
    "$target/release/examples/four_layers" > /dev/null
    rm -rf "$target"
done
