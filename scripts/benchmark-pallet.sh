#!/usr/bin/env bash
# Benchmarks a pallet of pallets/ in the runtime (compiled to WebAssembly, as validators run it) and
# writes its weights.rs from the results: scripts/benchmark-runtime.sh for that pallet alone.
#
#   scripts/benchmark-pallet.sh datanets          # steps 50, repeat 20
#   STEPS=10 REPEAT=5 scripts/benchmark-pallet.sh datanets
name="${1:?usage: benchmark-pallet.sh <pallet directory under pallets/>}"
exec "$(dirname "${BASH_SOURCE[0]}")/benchmark-runtime.sh" "$name"
