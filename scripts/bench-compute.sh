#!/usr/bin/env bash
# Measures the compute market's dispatch latency and one provider's job throughput on a real
# development node with a real provider daemon (tests/bench/compute.js).
#
#   scripts/bench-compute.sh                         # 10 single jobs, a batch of 100, 250 ms blocks
#   scripts/bench-compute.sh --jobs 120 --block-ms 1000
#   scripts/bench-compute.sh --jobs 800 --per-block 50    # a stream: 50 new jobs in every block
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
build_node
build_provider
cd "$ROOT/tests"
npm ci --no-audit --no-fund >/dev/null
OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" \
	OPENLEDGER_BIN="$CARGO_TARGET_DIR/release" node bench/compute.js "$@"
