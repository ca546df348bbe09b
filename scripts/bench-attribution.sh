#!/usr/bin/env bash
# Measures the attribution engine (attribution/examples/bench.rs says what each figure is): index
# build time and bytes per token for corpora of 1M, 10M and 40M tokens, span attribution of
# 200-token answers (p50, p99) with BM25 over the same corpus beside it, and gradient influence top
# k over 10,000 contributions on one core.
#
#   scripts/bench-attribution.sh          # about 2 minutes on 2 cores
#   scripts/bench-attribution.sh 1 10     # corpus sizes, in millions of tokens
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
# The whole workspace selected, as every script's build is (scripts/common.sh), so that shared
# crates keep their features and nothing the node or the provider built is compiled again.
(cd "$ROOT" && cargo build --locked --release --workspace --example bench)
"$CARGO_TARGET_DIR/release/examples/bench" "$@"
