
//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-11-24 (Y/M/D)
//! HOSTNAME: `vm`, CPU: `AMD EPYC`
//!
//! SHORT-NAME: `block`, LONG-NAME: `BlockExecution`, RUNTIME: `openledger`
//! WARMUPS: `10`, REPEAT: `50`
//! WEIGHT-PATH: `/work/main/runtime/src/weights`
//! WEIGHT-METRIC: `Average`, WEIGHT-MUL: `1.0`, WEIGHT-ADD: `0`

// Executed Command:
//   /root/.cache/openledger/target/release/openledger-node
//   benchmark
//   overhead
//   --runtime
//   /root/.cache/openledger/target/release/wbuild/openledger-runtime/openledger_runtime.compact.compressed.wasm
//   --genesis-builder
//   runtime
//   --genesis-builder-preset
//   development
//   --warmup
//   10
//   --repeat
//   50
//   --weight-path
//   /work/main/runtime/src/weights

use sp_core::parameter_types;
use frame_support::weights::{constants::WEIGHT_REF_TIME_PER_NANOS, Weight};

parameter_types! {
	/// Weight of executing an empty block.
	/// Calculated by multiplying the *Average* with `1.0` and adding `0`.
	///
	/// Stats nanoseconds:
	///   Min, Max: 309_187, 651_316
	///   Average:  356_675
	///   Median:   323_393
	///   Std-Dev:  60915.89
	///
	/// Percentiles nanoseconds:
	///   99th: 651_316
	///   95th: 444_058
	///   75th: 395_728
	pub const BlockExecutionWeight: Weight =
		Weight::from_parts(WEIGHT_REF_TIME_PER_NANOS.saturating_mul(356_675), 0);
}
