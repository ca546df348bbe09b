#!/usr/bin/env bash
# Runs every test of the project: the Rust unit, runtime, pallet and provider tests, the pallet
# benchmarks (as tests), then the end-to-end tests that drive real nodes and provider daemons through
# @polkadot/api and the openledger CLI.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages

echo "==> formatting (rustfmt.toml)"
(cd "$ROOT" && cargo fmt --all -- --check)

build_node
build_provider

echo "==> Rust tests"
# The provider's crates are tested on their own, so that their features do not change the
# node's build (cargo unifies features over the packages of one invocation).
(cd "$ROOT" && cargo test --locked --release --workspace --exclude openledger-provider)
(cd "$ROOT" && cargo test --locked --release -p openledger-provider)

echo "==> pallet benchmarks, run as tests on each pallet's mock runtime"
for pallet in "$ROOT"/pallets/*/; do
	(cd "$ROOT" && cargo test --locked --release -p "pallet-$(basename "$pallet")" --features runtime-benchmarks)
done

echo "==> end-to-end tests (node --test, @polkadot/api)"
cd "$ROOT/tests"
npm ci --no-audit --no-fund
OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" \
	OPENLEDGER_BIN="$CARGO_TARGET_DIR/release" npm test
