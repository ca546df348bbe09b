#!/usr/bin/env bash
# Block capacity under load (tests/bench/load.js): a development node with manual sealing, many
# accounts pushing transfers, contributions, curator reviews and votes into the pool at once,
# blocks sealed until the pool is empty. Prints per block the transactions included and the weight
# and proof size used; in total submitted, refused, failed, lost (must be 0) and the time to drain.
#
#   scripts/bench-load.sh                                     # 300 accounts, 7,500 transactions
#   scripts/bench-load.sh --transfers 0 --contributions 3000  # contributions alone
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
build_node
cd "$ROOT/tests"
npm ci --no-audit --no-fund >/dev/null
OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" node bench/load.js "$@"
