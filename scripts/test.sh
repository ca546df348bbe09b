#!/usr/bin/env bash
# Runs every test of the project: the Rust unit, runtime and pallet tests, the pallet benchmarks (as
# tests), then the end-to-end tests that drive real nodes through @polkadot/api.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
build_node

echo "==> Rust tests"
(cd "$ROOT" && cargo test --locked --release --workspace)

echo "==> pallet benchmarks, run as tests on each pallet's mock runtime"
for pallet in "$ROOT"/pallets/*/; do
	(cd "$ROOT" && cargo test --locked --release -p "pallet-$(basename "$pallet")" --features runtime-benchmarks)
done

echo "==> end-to-end tests (node --test, @polkadot/api)"
cd "$ROOT/tests"
npm ci --no-audit --no-fund
OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" npm test
