//! The weights of the runtime, measured on it by `scripts/benchmark-runtime.sh`:
//!
//! - [`block_weights`] and [`extrinsic_weights`]: executing an empty block, and one signed
//!   `System::remark` beyond that (`benchmark overhead`);
//! - [`paritydb_weights`]: reading and writing one key of the node's database
//!   (`benchmark storage` on a populated state);
//! - one module per FRAME pallet, and [`frame_system_extensions`] for the transaction
//!   extensions (`benchmark pallet`). OpenLedger's own pallets keep theirs in their crates.
//!
//! Each generated file names the machine, the command and the date it was measured with.

// Generated files are kept as the benchmark CLI writes them.
#[rustfmt::skip]
pub mod block_weights;
#[rustfmt::skip]
pub mod extrinsic_weights;
pub mod frame_system;
pub mod frame_system_extensions;
pub mod pallet_balances;
pub mod pallet_conviction_voting;
pub mod pallet_grandpa;
pub mod pallet_multisig;
pub mod pallet_parameters;
pub mod pallet_preimage;
pub mod pallet_referenda;
pub mod pallet_scheduler;
pub mod pallet_sudo;
pub mod pallet_timestamp;
pub mod pallet_transaction_payment;
pub mod pallet_treasury;
pub mod pallet_utility;
pub mod pallet_vesting;
// The generated file documents the fields of a struct expression.
#[allow(unused_doc_comments)]
#[rustfmt::skip]
pub mod paritydb_weights;

pub use block_weights::BlockExecutionWeight;
pub use extrinsic_weights::ExtrinsicBaseWeight;
pub use paritydb_weights::constants::ParityDbWeight;

use frame_support::weights::Weight;

/// GRANDPA's calls from its measured parts. An equivocation report is charged checking its
/// proof, the work it begins with; this runtime accepts none, since its key-owner proof type has
/// no values (see `configs::consensus`).
impl<T: ::frame_system::Config> ::pallet_grandpa::WeightInfo for pallet_grandpa::WeightInfo<T> {
	fn report_equivocation(_validator_count: u32, _max_nominators_per_validator: u32) -> Weight {
		Self::check_equivocation_proof(1)
	}

	fn note_stalled() -> Weight {
		pallet_grandpa::WeightInfo::<T>::note_stalled()
	}
}
