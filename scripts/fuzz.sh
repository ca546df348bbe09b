#!/usr/bin/env bash
# A coverage-guided campaign on the runtime fuzzer (fuzz/, see its crate documentation): ziggy
# drives AFL++ on the `openledger-fuzz-runtime` target, built with AFL++'s instrumentation and
# with every pallet's try_state. The corpus, the findings and AFL++'s statistics live in
# $FUZZ_DIR (~/.cache/openledger/fuzz unless set), outside the clone, so that each campaign
# starts from the last one's corpus. At its end the script prints AFL++'s figures and which calls
# of which pallets the corpus reaches.
#
#   scripts/fuzz.sh                          # until interrupted, one AFL++ instance per core
#   FUZZ_MINUTES=60 scripts/fuzz.sh          # one hour, then the summary
#   FUZZ_JOBS=1 FUZZ_MINUTES=60 scripts/fuzz.sh
#   scripts/fuzz.sh summary                  # the summary of the last campaign
#   scripts/fuzz.sh replay FILE_OR_DIR...    # replays inputs, printing every block and call
#
# Installs cargo-ziggy and cargo-afl (which builds AFL++ from its sources) on first use.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ZIGGY_VERSION=1.7.3
AFL_VERSION=0.18.2
FUZZ_DIR="${FUZZ_DIR:-$HOME/.cache/openledger/fuzz}"
TARGET=openledger-fuzz-runtime

install_system_packages

install_fuzzers() {
	# Built in a directory of their own, and not linted as the workspace's crates are.
	local install=(env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS -u CARGO_TARGET_DIR cargo install --locked)
	command -v cargo-ziggy >/dev/null 2>&1 || "${install[@]}" "ziggy@$ZIGGY_VERSION"
	command -v cargo-afl >/dev/null 2>&1 || "${install[@]}" "cargo-afl@$AFL_VERSION"
	# AFL++ itself, built once from the sources that cargo-afl carries (its install may have).
	local out
	if ! out="$(cargo afl config --build 2>&1)"; then
		grep -q "already built" <<<"$out" || {
			echo "$out" >&2
			exit 1
		}
	fi
}

# Runs inputs (files, or the files of folders) through the target built without a fuzzer, with
# try_state, printing every block, call and result. An AFL++ build has overflow checks and debug
# assertions (a `defensive!` failure panics there, and is reported here after its block): with
# REPLAY_CHECKS=1 the replay has them too, in a build of all the dependencies of its own.
replay() {
	local files=()
	local path
	for path in "$@"; do
		if [ -d "$path" ]; then
			while IFS= read -r -d '' file; do files+=("$file"); done < <(find "$path" -type f -print0 | sort -z)
		else
			files+=("$path")
		fi
	done
	local checks=()
	[ -z "${REPLAY_CHECKS:-}" ] ||
		checks=(env CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true)
	select_pallets_and_fuzzer
	(cd "$ROOT" && SKIP_WASM_BUILD=1 "${checks[@]}" cargo build --locked --release "${pallets_and_fuzzer[@]}" \
		--bin "$TARGET")
	OPENLEDGER_FUZZ_TRACE=1 "$CARGO_TARGET_DIR/release/$TARGET" "${files[@]}"
}

summary() {
	local stats
	echo "==> AFL++ (from $FUZZ_DIR/output)"
	for stats in "$FUZZ_DIR"/output/"$TARGET"/afl/*/fuzzer_stats; do
		[ -f "$stats" ] || continue
		echo "$(basename "$(dirname "$stats")"):"
		grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|edges_found|total_edges|bitmap_cvg|saved_crashes|saved_hangs|stability) ' "$stats" |
			sed 's/^/  /'
	done
	local crashes
	crashes="$(find "$FUZZ_DIR"/output/"$TARGET"/afl/*/crashes -type f -name 'id:*' 2>/dev/null | wc -l)"
	echo "findings (crashes): $crashes, in $FUZZ_DIR/output/$TARGET/afl/*/crashes"
	echo "==> calls the corpus reaches ($FUZZ_DIR/output/$TARGET/corpus)"
	select_pallets_and_fuzzer
	(cd "$ROOT" && SKIP_WASM_BUILD=1 FUZZ_CALLS=1 FUZZ_CORPUS="$FUZZ_DIR/output/$TARGET/corpus" cargo test \
		--locked --release "${pallets_and_fuzzer[@]}" --test bounded -- --nocapture 2>&1 |
		grep -E '^(  |[0-9]+ inputs|slowest|never|test result)' || true)
}

case "${1:-fuzz}" in
	replay)
		shift
		replay "$@"
		;;
	summary)
		summary
		;;
	fuzz)
		install_fuzzers
		mkdir -p "$FUZZ_DIR/seeds"
		# A few random seeds for a first campaign; AFL++ grows the corpus from them.
		if [ -z "$(ls -A "$FUZZ_DIR/seeds")" ]; then
			for i in $(seq 1 16); do head -c "$((64 * i))" /dev/urandom >"$FUZZ_DIR/seeds/seed-$i"; done
		fi
		jobs="${FUZZ_JOBS:-$(nproc)}"
		cd "$ROOT/fuzz"
		# The instrumented build (by `cargo ziggy fuzz`, into $CARGO_TARGET_DIR/afl) is not linted:
		# the tests' builds lint the same code. Inputs above 64 KiB only slow AFL++ down: the
		# harness reads at most 512 calls.
		args=(env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS AFL_SKIP_CPUFREQ=1
			AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 SKIP_WASM_BUILD=1
			cargo ziggy fuzz --release --no-honggfuzz --jobs "$jobs" --timeout 10 --maxlength 65536
			--initial-corpus "$FUZZ_DIR/seeds" --corpus "$FUZZ_DIR/output/$TARGET/corpus"
			--ziggy-output "$FUZZ_DIR/output")
		status=0
		if [ -n "${FUZZ_MINUTES:-}" ]; then
			timeout --foreground -s INT "$((FUZZ_MINUTES * 60))" "${args[@]}" </dev/null || status=$?
		else
			"${args[@]}" || status=$?
		fi
		# 124: the campaign's time is up, 130: interrupted.
		[ "$status" -eq 0 ] || [ "$status" -eq 124 ] || [ "$status" -eq 130 ] || exit "$status"
		summary
		;;
	*)
		echo "usage: scripts/fuzz.sh [fuzz | summary | replay FILE...]" >&2
		exit 2
		;;
esac
