#!/usr/bin/env bash
# Measures OpenLoRA serving on this machine and ends with the table the README quotes
# (ml/examples/bench_openlora.rs says what each figure is):
#   - tiny-byte-gpt and SmolLM2-135M-Instruct (fetched by scripts/fetch-models.sh; its Q4_1 blocks
#     and f32): 1,000 adapters through a pool of 256 slots (bytes, cold loads, hit rate), 64
#     concurrent requests on 64 adapters against one adapter and against merging each adapter
#     into the weights, decode tokens/s at batches 1 to 64, latency under Poisson arrivals;
#   - the peer: llama.cpp (PyPI llama-cpp-python, built once into a venv) decoding the same GGUF
#     file after the same prompt, single stream, on every core;
#   - the memory limit: this machine's streaming bandwidth and the tokens/s it allows.
#
#   scripts/bench-openlora.sh                        # about 15 minutes on 2 cores
#   scripts/bench-openlora.sh --tokens 64 --pool 128 # options of the example, passed on
#   SINGLE=256 scripts/bench-openlora.sh             # single-stream tokens, both engines
#   SKIP_PEER=1 scripts/bench-openlora.sh            # without llama.cpp
#
# The first run builds llama-cpp-python 0.3.36 from source into $BENCH_VENV (about 8 minutes),
# for the baseline x86-64 features plus AVX2/FMA/F16C/AVX-512: `-march=native` builds load the
# model and then crash at the first token on these machines (/work/shared/RESEARCH.md).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_system_packages

BENCH_VENV="${BENCH_VENV:-$HOME/.cache/openledger/bench-venv}"
LLAMA_CPP_PYTHON_VERSION="0.3.36"
LLAMA_CPP_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON"
PROMPT="${PROMPT:-OpenLedger pays the people whose data trained a model}"
SINGLE="${SINGLE:-128}"

# llama-cpp-python in its own venv, unless the pinned version is already there.
install_llama_cpp_python() {
	if "$BENCH_VENV/bin/python" -c "import sys, llama_cpp
sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON_VERSION')" 2>/dev/null; then
		return
	fi
	# Debian's python3 creates venvs only with python3-venv (which brings ensurepip).
	if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
		echo "==> installing python3-venv"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
	fi
	echo "==> installing llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION into $BENCH_VENV (builds llama.cpp: about 8 minutes, once)"
	[ -x "$BENCH_VENV/bin/pip" ] || python3 -m venv --clear "$BENCH_VENV"
	CMAKE_ARGS="$LLAMA_CPP_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
		"$BENCH_VENV/bin/pip" install --quiet "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
}

gguf="$("$ROOT/scripts/fetch-models.sh")"
cd "$ROOT"
echo "==> building the bench_openlora example (release) into $CARGO_TARGET_DIR"
cargo build --locked --release --workspace --example bench_openlora

peer=""
if [ -z "${SKIP_PEER:-}" ]; then
	install_llama_cpp_python
	echo "==> llama.cpp: $SINGLE greedy tokens of $gguf, single stream, $(nproc) threads"
	peer_out="$("$BENCH_VENV/bin/python" "$ROOT/scripts/bench/llama_cpp_peer.py" "$gguf" "$PROMPT" "$SINGLE" "$(nproc)")"
	echo "$peer_out" | grep -v '^tokens_per_s='
	peer="$(echo "$peer_out" | sed -n 's/^tokens_per_s=//p')"
fi

echo "==> bench_openlora"
"$CARGO_TARGET_DIR/release/examples/bench_openlora" --llama-cpp "$peer" --single "$SINGLE" \
	--prompt "$PROMPT" "$@"
