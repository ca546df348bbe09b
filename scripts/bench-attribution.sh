#!/usr/bin/env bash
# Measures the attribution engine (attribution/examples/bench.rs says what each figure is): index
# build time and bytes per token for corpora of 1M, 10M and 40M tokens, span attribution of
# 200-token answers (p50, p99) with BM25 over the same corpus beside it, and gradient influence top
# k over 10,000 contributions on one core; then attribution quality on planted data
# (provider/examples/attribution_quality.rs): precision@1 of span attribution, gradient influence
# and BM25 on the answers of a model trained on contributors' disjoint passages, the agreement of
# one and two threads, and a leave-one-out check of influence; how far influence computed with
# SIMD kernels and without them differs (the second run under qemu-x86_64); then what attribution adds to an
# answer's latency on a real provider (tests/bench/attribution.js: a development node, a training
# provider, a serving provider and the `openai` client).
#
#   scripts/bench-attribution.sh          # about 12 minutes on 2 cores
#   scripts/bench-attribution.sh 1 10     # corpus sizes, in millions of tokens
#   QUALITY=0 TOLERANCE=0 SERVING=0 scripts/bench-attribution.sh   # the engine alone
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
# The whole workspace selected, as every script's build is (scripts/common.sh), so that shared
# crates keep their features and nothing the node or the provider built is compiled again.
(cd "$ROOT" && cargo build --locked --release --workspace --example bench --example attribution_quality)
"$CARGO_TARGET_DIR/release/examples/bench" "$@"
if [ "${QUALITY:-1}" != 0 ]; then
	echo
	"$CARGO_TARGET_DIR/release/examples/attribution_quality"
fi
if [ "${TOLERANCE:-1}" != 0 ]; then
	# The same influence computation with candle's AVX2+FMA matrix kernels (this CPU) and with
	# its SSE kernels, the binary run under QEMU emulating a CPU without AVX or FMA.
	if ! command -v qemu-x86_64 >/dev/null 2>&1; then
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq qemu-user
	fi
	echo
	tolerance="$(mktemp -d)"
	"$CARGO_TARGET_DIR/release/examples/attribution_quality" tolerance "$tolerance"
	qemu-x86_64 -cpu Nehalem "$CARGO_TARGET_DIR/release/examples/attribution_quality" tolerance "$tolerance"
	rm -rf "$tolerance"
fi
if [ "${SERVING:-1}" != 0 ]; then
	echo
	run_node_bench attribution.js
fi
