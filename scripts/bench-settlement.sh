#!/usr/bin/env bash
# Settlement capacity of paid inference on a real development node (tests/bench/settlement.js):
# 5,000 inference records settled in one block, under one API key and under 1,000 users' keys;
# prints the weight each settlement was charged and its share of the block.
#
#   scripts/bench-settlement.sh                            # 5,000 records, 1,000 users
#   scripts/bench-settlement.sh --records 8000 --users 1000
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
run_node_bench settlement.js "$@"
