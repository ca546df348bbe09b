#!/usr/bin/env bash
# Builds the node and runs a one-validator development chain with RPC on 127.0.0.1:9944.
# Extra arguments go to the node, e.g. `scripts/dev.sh --sealing instant`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
build_node
exec "$CARGO_TARGET_DIR/release/openledger-node" --dev --rpc-port 9944 "$@"
