//! The runtime fuzzer's target. Built by `cargo ziggy build` (scripts/fuzz.sh) it runs under
//! AFL++; built plainly, it replays the input files and folders it is given:
//!
//! ```text
//! cargo run --release -p openledger-fuzz --features try-runtime -- crash-file corpus/
//! OPENLEDGER_FUZZ_TRACE=1 cargo run ... -- crash-file   # with every block, call and result
//! ```

fn main() {
	let trace = std::env::var_os("OPENLEDGER_FUZZ_TRACE").is_some();
	let fuzzer = openledger_fuzz::Fuzzer::new().with_trace(trace);
	ziggy::fuzz!(|data: &[u8]| {
		let stats = fuzzer.run(data);
		if trace {
			eprintln!("{stats:#?}");
		}
	});
}
