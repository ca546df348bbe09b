#!/usr/bin/env bash
# Block capacity under load (tests/bench/load.js): a development node with manual sealing, many
# accounts pushing transfers, contributions, curator reviews and votes into the pool at once,
# blocks sealed until the pool is empty. Prints per block the transactions included and the weight
# and proof size used; in total submitted, refused, failed, lost (must be 0) and the time to drain.
# Then imports the loaded blocks again (`benchmark block`, as a validator imports them) and prints
# the time each took against the weight it was charged: above 100% would mean weights too low.
#
#   scripts/bench-load.sh                                     # 300 accounts, 7,500 transactions
#   scripts/bench-load.sh --transfers 0 --contributions 3000  # contributions alone
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
build_node
build_bench_node
node_binary="$CARGO_TARGET_DIR/release/openledger-node"
chain="$(mktemp -d)"
trap 'rm -rf "$chain"' EXIT
cd "$ROOT/tests"
npm ci --no-audit --no-fund >/dev/null
OPENLEDGER_NODE="$node_binary" node bench/load.js --keep-chain "$chain" "$@"
[ -s "$chain/loaded-blocks" ] || { echo "no block included any of the load"; exit 1; }
read -r from to <"$chain/loaded-blocks"
echo "==> the loaded blocks imported again (benchmark block, 10 times each): time taken against weight charged"
"$BENCH_TARGET_DIR/release/openledger-node" benchmark block --from "$from" --to "$to" --chain dev --base-path "$chain" \
	--wasm-execution compiled 2>&1 | grep -o 'Block .*'
