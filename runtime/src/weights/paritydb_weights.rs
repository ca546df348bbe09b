
//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-11-24 (Y/M/D)
//! HOSTNAME: `vm`, CPU: `AMD EPYC`
//!
//! DATABASE: `ParityDb`, RUNTIME: `OpenLedger Development`
//! BLOCK-NUM: `Number(0)`
//! SKIP-WRITE: `false`, SKIP-READ: `false`, WARMUPS: `1`
//! STATE-VERSION: `V1`, STATE-CACHE-SIZE: ``
//! WEIGHT-PATH: `/work/main/runtime/src/weights`
//! METRIC: `Average`, WEIGHT-MUL: `1.0`, WEIGHT-ADD: `0`

// Executed Command:
//   /root/.cache/openledger/target/release/openledger-node
//   benchmark
//   storage
//   --chain
//   /tmp/tmp.ZgrdGqMy6A/populated.json
//   --base-path
//   /tmp/tmp.ZgrdGqMy6A/db
//   --database
//   paritydb
//   --state-version
//   1
//   --batch-size
//   10000
//   --weight-path
//   /work/main/runtime/src/weights

/// Storage DB weights for the `OpenLedger Development` runtime and `ParityDb`.
pub mod constants {
	use frame_support::weights::constants;
	use sp_core::parameter_types;
	use frame_support::weights::RuntimeDbWeight;

	parameter_types! {
		/// `ParityDB` can be enabled with a feature flag, but is still experimental. These weights
		/// are available for brave runtime engineers who may want to try this out as default.
		pub const ParityDbWeight: RuntimeDbWeight = RuntimeDbWeight {
			/// Time to read one storage item.
			/// Calculated by multiplying the *Average* of all values with `1.0` and adding `0`.
			///
			/// Stats nanoseconds:
			///   Min, Max: 3_636, 2_534_199
			///   Average:  13_414
			///   Median:   12_433
			///   Std-Dev:  29289.08
			///
			/// Percentiles nanoseconds:
			///   99th: 21_420
			///   95th: 17_613
			///   75th: 14_718
			read: 13_414 * constants::WEIGHT_REF_TIME_PER_NANOS,

			/// Time to write one storage item.
			/// Calculated by multiplying the *Average* of all values with `1.0` and adding `0`.
			///
			/// Stats nanoseconds:
			///   Min, Max: 17_318, 36_648
			///   Average:  27_154
			///   Median:   25_639
			///   Std-Dev:  5773.39
			///
			/// Percentiles nanoseconds:
			///   99th: 36_648
			///   95th: 35_990
			///   75th: 31_420
			write: 27_154 * constants::WEIGHT_REF_TIME_PER_NANOS,
		};
	}
}
