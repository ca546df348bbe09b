#!/usr/bin/env bash
# Measures every weight of the runtime on this machine and writes them where the runtime reads them:
#
# - runtime/src/weights/<pallet>.rs: the FRAME pallets and the transaction extensions;
# - pallets/<name>/src/weights.rs: OpenLedger's own pallets (as scripts/benchmark-pallet.sh does);
# - runtime/src/weights/block_weights.rs, extrinsic_weights.rs: the cost of an empty block and of
#   one signed transaction (`benchmark overhead`);
# - runtime/src/weights/paritydb_weights.rs: the cost of reading and writing one key of the node's
#   database (`benchmark storage`).
#
#   scripts/benchmark-runtime.sh                     # everything, steps 50, repeat 20
#   STEPS=20 REPEAT=10 scripts/benchmark-runtime.sh  # quicker, less precise
#   scripts/benchmark-runtime.sh pallet_vesting overhead storage   # only these
#   NO_BUILD=1 scripts/benchmark-runtime.sh ...      # with the node built before
#   MIN_DURATION=30 scripts/benchmark-runtime.sh datanets  # sample each call for 30 s, not 10
#
# Run it on an otherwise idle machine: anything else running inflates the figures.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages

FRAME_PALLETS=(
	frame_system frame_system_extensions pallet_transaction_payment pallet_balances pallet_timestamp
	pallet_vesting pallet_utility pallet_multisig pallet_sudo pallet_preimage pallet_scheduler
	pallet_referenda pallet_conviction_voting pallet_treasury pallet_parameters pallet_grandpa
)
OWN_PALLETS=(datanets compute models grants inference)
if [ "$#" -gt 0 ]; then selected=("$@"); else selected=("${FRAME_PALLETS[@]}" "${OWN_PALLETS[@]}" overhead storage); fi

[ -n "${NO_BUILD:-}" ] || build_bench_node
node="$BENCH_TARGET_DIR/release/openledger-node"
wasm="$BENCH_TARGET_DIR/release/wbuild/openledger-runtime/openledger_runtime.compact.compressed.wasm"
weights="$ROOT/runtime/src/weights"
mkdir -p "$weights"

benchmark_pallet() { # <pallet> <output file> [template]
	# Referenda are measured at the governance pace of a live network (`local_testnet`): the
	# development chain's fast tracks have no preparing period to benchmark.
	local preset=development raw
	[ "$1" = pallet_referenda ] && preset=local_testnet
	raw="$(mktemp)"
	"$node" benchmark pallet \
		--runtime "$wasm" \
		--genesis-builder runtime \
		--genesis-builder-preset "$preset" \
		--pallet "$1" \
		--extrinsic '*' \
		--wasm-execution compiled \
		--steps "${STEPS:-50}" \
		--repeat "${REPEAT:-20}" \
		--min-duration "${MIN_DURATION:-10}" \
		${3:+--template "$3"} \
		--json-file "$raw" \
		--output "$2"
	report_noise "$raw"
	rm -f "$raw"
}

report_noise() { # <raw results>
	# The weights are medians of the samples. On a machine that is not idle (or a virtual machine
	# whose host is busy), a share of the samples runs much slower than the rest and pulls the
	# medians up: shown here per call, so that a noisy run can be told from a real change.
	python3 - "$1" <<-'PY'
		import json, sys
		print(f"{'call':<40} {'samples':>7} {'min us':>8} {'median us':>9} {'> 1.2 x min':>11}")
		for bench in json.load(open(sys.argv[1])):
		    groups = {}
		    for r in bench["db_results"]:
		        groups.setdefault(tuple(c[1] for c in r["components"]), []).append(r["extrinsic_time"] / 1e3)
		    times = sorted(groups.values(), key=len)[-1]  # the component values sampled most
		    times.sort()
		    slow = sum(t > 1.2 * times[0] for t in times) / len(times)
		    median = times[len(times) // 2]
		    name = bench["benchmark"]
		    print(f"{name:<40} {len(times):>7} {times[0]:>8.1f} {median:>9.1f} {slow:>10.0%}")
	PY
}

# Removes the `#[cfg(test)]` module that `benchmark overhead` and `benchmark storage` write into
# their files: runtime/tests/weights.rs checks the same bounds, and the runtime's library has no
# unit tests (runtime/Cargo.toml).
without_unit_tests() {
	python3 - "$@" <<-'PY'
		import re, sys
		for path in sys.argv[1:]:
		    text = open(path).read()
		    found = re.search(r"\n\n[ \t]*#\[cfg\(test\)\]\n", text)
		    if not found:
		        continue
		    depth, end = 0, text.index("{", found.end())
		    while True:
		        depth += {"{": 1, "}": -1}.get(text[end], 0)
		        end += 1
		        if depth == 0:
		            break
		    open(path, "w").write(text[: found.start()] + text[end:])
	PY
}

for what in "${selected[@]}"; do
	start=$(date +%s)
	case "$what" in
	overhead)
		# An empty block and a block full of signed `System::remark`s, executed as an importing node does.
		"$node" benchmark overhead \
			--runtime "$wasm" \
			--genesis-builder runtime \
			--genesis-builder-preset development \
			--warmup "${WARMUP:-10}" \
			--repeat "${OVERHEAD_REPEAT:-50}" \
			--weight-path "$weights"
		# The generated files name `sp_weights`, which the runtime reaches through frame_support.
		sed -i 's/\bsp_weights::/frame_support::weights::/' "$weights/block_weights.rs" "$weights/extrinsic_weights.rs"
		without_unit_tests "$weights/block_weights.rs" "$weights/extrinsic_weights.rs"
		;;
	storage)
		# Reads and writes every key of a ParityDb holding a development chain's genesis plus
		# STORAGE_KEYS (default 200,000) account-sized entries, committed in batches of 10,000
		# keys (a full block's worth): a state the size of a young network's, not the 57 keys of
		# a bare development chain.
		base="$(mktemp -d)"
		"$node" build-spec --chain dev --raw >"$base/dev.json" 2>/dev/null
		python3 - "$base/dev.json" "$base/populated.json" "${STORAGE_KEYS:-200000}" <<-'PY'
			import json, os, sys
			source, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
			spec = json.load(open(source))
			top = spec["genesis"]["raw"]["top"]
			# 48-byte keys (a map prefix and a hashed 16-byte key) with 80-byte values, spread
			# over the trie by their random bytes.
			prefix = "0x" + "6f70656e6c6564676572" + "00" * 22
			top.update((prefix + os.urandom(16).hex(), "0x" + os.urandom(80).hex()) for _ in range(count))
			json.dump(spec, open(target, "w"))
		PY
		"$node" benchmark storage \
			--chain "$base/populated.json" \
			--base-path "$base/db" \
			--database paritydb \
			--state-version 1 \
			--batch-size 10000 \
			--weight-path "$weights"
		rm -rf "$base"
		sed -i 's/\bsp_weights::/frame_support::weights::/' "$weights/paritydb_weights.rs"
		without_unit_tests "$weights/paritydb_weights.rs"
		;;
	frame_* | pallet_*)
		benchmark_pallet "$what" "$weights/$what.rs"
		if [ "$what" = pallet_grandpa ]; then
			# GRANDPA's benchmarks measure parts of a call, not its calls: they become plain
			# functions, which runtime/src/weights/mod.rs puts together.
			sed -i 's/^impl<T: frame_system::Config> pallet_grandpa::WeightInfo for WeightInfo<T> {/impl<T: frame_system::Config> WeightInfo<T> {/; s/^\tfn /\tpub fn /' "$weights/$what.rs"
		fi
		;;
	*)
		[ -d "$ROOT/pallets/$what" ] || { echo "unknown: $what (a pallet name, one of pallets/, overhead or storage)" >&2; exit 1; }
		benchmark_pallet "pallet_${what//-/_}" "$ROOT/pallets/$what/src/weights.rs" "$ROOT/scripts/pallet-weight-template.hbs"
		;;
	esac
	echo "==> $what measured in $(( $(date +%s) - start )) s"
done
