#!/usr/bin/env bash
# Measures training on this machine and prints the figures the README quotes:
#   - tiny-byte-gpt: tokens/s in full training and with a LoRA adapter;
#   - SmolLM2-135M-Instruct (fetched by scripts/fetch-models.sh): a LoRA adapter of rank 8 on the
#     attention projections, batches of 4 sequences of 256 tokens: seconds per step, and the
#     held-out loss before and after, on an English corpus nobody here wrote: the license texts
#     every Debian system ships in /usr/share/common-licenses (one paragraph in ten held out).
#
#   scripts/bench-training.sh            # 30 steps
#   scripts/bench-training.sh 100        # more steps
#   TEXTS=/some/dir scripts/bench-training.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages
steps="${1:-30}"
texts="${TEXTS:-/usr/share/common-licenses}"
[ -d "$texts" ] || { echo "no text directory at $texts (set TEXTS)" >&2; exit 1; }
gguf="$("$ROOT/scripts/fetch-models.sh")"
cd "$ROOT"
echo "==> cargo run --release -p openledger-ml --example bench_training -- $gguf $texts $steps"
cargo run --locked --release -p openledger-ml --example bench_training -- "$gguf" "$texts" "$steps"
