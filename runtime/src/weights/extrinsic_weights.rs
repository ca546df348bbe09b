
//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-11-24 (Y/M/D)
//! HOSTNAME: `vm`, CPU: `AMD EPYC`
//!
//! SHORT-NAME: `extrinsic`, LONG-NAME: `ExtrinsicBase`, RUNTIME: `openledger`
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
	/// Weight of executing a NO-OP extrinsic, for example `System::remark`.
	/// Calculated by multiplying the *Average* with `1.0` and adding `0`.
	///
	/// Stats nanoseconds:
	///   Min, Max: 153_643, 234_584
	///   Average:  173_962
	///   Median:   167_899
	///   Std-Dev:  17238.12
	///
	/// Percentiles nanoseconds:
	///   99th: 234_584
	///   95th: 201_277
	///   75th: 179_560
	pub const ExtrinsicBaseWeight: Weight =
		Weight::from_parts(WEIGHT_REF_TIME_PER_NANOS.saturating_mul(173_962), 0);
}
