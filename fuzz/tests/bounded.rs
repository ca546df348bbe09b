//! A bounded run of the runtime fuzzer, from a fixed seed: `FUZZ_INPUTS` inputs (2,000 unless
//! set) of up to 4 KiB each. A failure names the input: `FUZZ_INPUT=n` runs that one alone, with
//! every block, call and result printed. `FUZZ_CORPUS=DIR` runs the files of a campaign's corpus
//! instead (scripts/fuzz.sh does, to report which calls its corpus reaches); `FUZZ_CALLS=1` lists
//! every call with how often it was dispatched and succeeded, and its most frequent errors;
//! `FUZZ_KEEP_GOING=1` runs every input before failing, to list all that break an invariant. The
//! inputs are shared among as many threads as the machine has cores (`FUZZ_THREADS` sets how
//! many).

use std::time::Instant;

use openledger_fuzz::{Fuzzer, Stats};

/// splitmix64: the inputs are the same on every machine.
fn next(state: &mut u64) -> u64 {
	*state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
	let mut z = *state;
	z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
	z ^ (z >> 31)
}

/// Input `n` of the fixed sequence.
fn input(n: u64) -> Vec<u8> {
	let mut state = 0x000d_e11e_d9e5_u64 ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d);
	let len = 64 + (next(&mut state) % 4032) as usize;
	(0..len).map(|_| next(&mut state) as u8).collect()
}

#[test]
fn bounded_run_from_a_fixed_seed_breaks_no_invariant() {
	let count: u64 =
		std::env::var("FUZZ_INPUTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
	let only: Option<u64> = std::env::var("FUZZ_INPUT").ok().and_then(|n| n.parse().ok());
	let fuzzer = Fuzzer::new().with_trace(only.is_some());
	let inputs: Vec<(String, Vec<u8>)> = match std::env::var_os("FUZZ_CORPUS") {
		Some(dir) => {
			let mut files: Vec<_> = std::fs::read_dir(&dir)
				.unwrap_or_else(|e| panic!("{}: {e}", dir.to_string_lossy()))
				.filter_map(|entry| entry.ok().map(|e| e.path()))
				.filter(|path| path.is_file())
				.collect();
			files.sort();
			files
				.into_iter()
				.filter_map(|path| Some((path.display().to_string(), std::fs::read(&path).ok()?)))
				.collect()
		},
		None => only
			.map_or(0..count, |n| n..n + 1)
			.map(|n| (format!("input {n} (FUZZ_INPUT={n} replays it with a trace)"), input(n)))
			.collect(),
	};
	let count = inputs.len();
	let started = Instant::now();
	let keep_going = std::env::var_os("FUZZ_KEEP_GOING").is_some();
	// Every core runs a share of the inputs, each on a state of its own.
	let threads = std::env::var("FUZZ_THREADS")
		.ok()
		.and_then(|n| n.parse().ok())
		.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
		.clamp(1, 64);
	let mut total = Stats::default();
	let mut failures = Vec::new();
	std::thread::scope(|scope| {
		let workers: Vec<_> = (0..threads)
			.map(|worker| {
				let (fuzzer, inputs) = (&fuzzer, &inputs);
				scope.spawn(move || {
					let mut stats = Stats::default();
					let mut failures = Vec::new();
					for (name, data) in inputs.iter().skip(worker).step_by(threads) {
						let run = std::panic::AssertUnwindSafe(|| fuzzer.run(data));
						match std::panic::catch_unwind(run) {
							Ok(run) => stats.merge(&run),
							Err(_) => {
								failures.push(name.clone());
								if !keep_going {
									break;
								}
							},
						}
					}
					(stats, failures)
				})
			})
			.collect();
		for worker in workers {
			let (stats, broken) = worker.join().unwrap_or_else(|_| panic!("a worker panicked"));
			total.merge(&stats);
			failures.extend(broken);
		}
	});
	if !keep_going {
		if let Some(name) = failures.first() {
			panic!("{name} broke an invariant (above)");
		}
	}
	let elapsed = started.elapsed().as_secs_f64();
	let pallets: std::collections::BTreeSet<&str> =
		total.per_call.keys().filter_map(|c| c.split('.').next()).collect();
	let succeeded = total.per_call.values().filter(|(_, ok)| *ok > 0).count();
	println!(
		"{count} inputs in {elapsed:.1} s ({:.0} inputs/s): {} blocks, {} calls ({} undecodable, \
		 {} refused before dispatch, {} failed), {} distinct calls of {} pallets, {succeeded} of \
		 them succeeded at least once",
		count as f64 / elapsed,
		total.blocks,
		total.calls,
		total.undecodable,
		total.invalid,
		total.failed,
		total.per_call.len(),
		pallets.len(),
	);
	println!(
		"slowest signed call per unit of weight: {} at {:.3} of its weight's time",
		total.worst_call, total.worst_time_per_weight
	);
	if std::env::var_os("FUZZ_CALLS").is_some() {
		for (call, (dispatched, ok)) in &total.per_call {
			println!("  {call}: {dispatched} dispatched, {ok} succeeded");
			// Its most frequent errors, which say what the generator gets wrong.
			let mut errors: Vec<(&String, &u64)> = total
				.errors
				.iter()
				.filter(|((name, _), _)| name == call)
				.map(|((_, error), count)| (error, count))
				.collect();
			errors.sort_by(|a, b| b.1.cmp(a.1));
			for (error, count) in errors.iter().take(6) {
				println!("      {count} x {error}");
			}
		}
	}
	assert!(failures.is_empty(), "{} inputs broke an invariant: {failures:?}", failures.len());
	// The harness reaches the runtime: calls get through, and some of every kind succeed.
	assert!(total.calls > count as u64, "too few calls decoded: {total:?}");
	assert!(succeeded > 20, "too few distinct calls succeeded: {:?}", total.per_call);
	// It reaches OpenLedger's own calls past their checks: on what the world made (a datanet's
	// commitments and versions, a provider's jobs, a published model, prepaid funds, a grant).
	let missed: Vec<&str> = REACHED
		.iter()
		.copied()
		.filter(|call| total.per_call.get(*call).is_none_or(|(_, ok)| *ok == 0))
		.collect();
	assert!(missed.is_empty(), "never succeeded: {missed:?} (FUZZ_CALLS=1 lists every call)");
}

/// Calls of OpenLedger's pallets that act on something existing, each of which the bounded run
/// must get through at least once.
const REACHED: &[&str] = &[
	"Datanets.contribute",
	"Datanets.update_metadata",
	"Datanets.set_access_fee",
	"Datanets.close",
	"Compute.accept_job",
	"Compute.submit_result",
	"Compute.pause",
	"Compute.fail_job",
	"Models.train",
	"Models.publish",
	"Models.retire",
	"Inference.set_offer",
	"Inference.settle",
	"Inference.revoke",
	"Inference.claim_rewards",
	"Inference.request_withdrawal",
	"Grants.approve",
	"Grants.submit_milestone",
	"Grants.withdraw",
];
