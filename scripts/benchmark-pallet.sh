#!/usr/bin/env bash
# Benchmarks a pallet of pallets/ in the runtime (compiled to WebAssembly, as validators run it) and
# writes its weights.rs from the results.
#
#   scripts/benchmark-pallet.sh datanets          # steps 50, repeat 20
#   STEPS=10 REPEAT=5 scripts/benchmark-pallet.sh datanets
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
name="${1:?usage: benchmark-pallet.sh <pallet directory under pallets/>}"
[ -d "$ROOT/pallets/$name" ] || { echo "no pallet at pallets/$name" >&2; exit 1; }
install_system_packages

echo "==> building openledger-node with runtime benchmarks"
(cd "$ROOT" && cargo build --locked --release -p openledger-node --features runtime-benchmarks)

wasm="$CARGO_TARGET_DIR/release/wbuild/openledger-runtime/openledger_runtime.compact.compressed.wasm"
(cd "$ROOT" && "$CARGO_TARGET_DIR/release/openledger-node" benchmark pallet \
	--runtime "$wasm" \
	--genesis-builder runtime \
	--genesis-builder-preset development \
	--pallet "pallet_${name//-/_}" \
	--extrinsic '*' \
	--wasm-execution compiled \
	--steps "${STEPS:-50}" \
	--repeat "${REPEAT:-20}" \
	--template scripts/pallet-weight-template.hbs \
	--output "pallets/$name/src/weights.rs")
echo "==> wrote pallets/$name/src/weights.rs"
