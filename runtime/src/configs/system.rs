//! frame-system: block limits, accounts and the runtime version.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::ConstU32,
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
};
use frame_system::limits::{BlockLength, BlockWeights};
use sp_runtime::Perbill;
use sp_version::RuntimeVersion;

use crate::{
	weights::{BlockExecutionWeight, ExtrinsicBaseWeight, ParityDbWeight},
	AccountId, Balance, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeOrigin, RuntimeTask, VERSION,
};

/// Normal (user) transactions may fill 75% of a block; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// `on_initialize` hooks are expected to use about this much of a block.
const AVERAGE_ON_INITIALIZE_RATIO: Perbill = Perbill::from_percent(10);
/// Two seconds of compute in a six-second block, leaving time to gossip and import it.
const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(2u64.saturating_mul(WEIGHT_REF_TIME_PER_SECOND), u64::MAX);

/// What normal transactions may fill of a block.
fn normal_block_weight() -> Weight {
	Weight::from_parts(
		NORMAL_DISPATCH_RATIO.mul_floor(MAXIMUM_BLOCK_WEIGHT.ref_time()),
		NORMAL_DISPATCH_RATIO.mul_floor(MAXIMUM_BLOCK_WEIGHT.proof_size()),
	)
}

/// The weight of a transaction beyond its call and its transaction extensions: decoding it,
/// checking its signature, and applying it.
///
/// `benchmark overhead` measures a whole signed `System::remark` ([`ExtrinsicBaseWeight`]),
/// its transaction extensions included; each transaction is also charged its extensions'
/// benchmarked weights, so counting the measured figure as the base would charge the extensions
/// twice (polkadot-sdk issue 9981). The base is the measured figure less what the extensions'
/// benchmarks charge for running them. Their database accesses stay charged (the overhead
/// benchmark runs on a state in memory and never commits to the database), but the signer's
/// account only once: `CheckNonce` and `ChargeTransactionPayment` are benchmarked apart and
/// each counts reading and writing it, while in a transaction the second finds it in memory, as
/// the calls' benchmarks assume of their signer.
pub fn base_extrinsic() -> Weight {
	ExtrinsicBaseWeight::get()
		.saturating_sub(extensions_execution())
		.saturating_sub(ParityDbWeight::get().reads_writes(1, 1))
}

/// What the transaction extensions' benchmarks charge a `System::remark` for running, less
/// their database accesses: `CheckNonce` and `ChargeTransactionPayment` each read and write the
/// signer's account (the community pot's account is counted once per block, see
/// [`RuntimeBlockWeights`]).
fn extensions_execution() -> Weight {
	use frame_system::ExtensionsWeightInfo as _;
	use pallet_transaction_payment::WeightInfo as _;
	type System = crate::weights::frame_system_extensions::WeightInfo<Runtime>;
	type Payment = crate::weights::pallet_transaction_payment::WeightInfo<Runtime>;
	let mortality = System::check_mortality_mortal_transaction()
		.min(System::check_mortality_immortal_transaction());
	[
		System::check_non_zero_sender(),
		System::check_spec_version(),
		System::check_tx_version(),
		System::check_genesis(),
		mortality,
		System::check_nonce(),
		System::check_weight(),
		Payment::charge_transaction_payment(),
		System::weight_reclaim(),
	]
	.into_iter()
	.fold(Weight::zero(), Weight::saturating_add)
	.saturating_sub(ParityDbWeight::get().reads_writes(2, 2))
}

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;

	/// The block's limits, from the weights measured on this runtime (`crate::weights`).
	///
	/// A block's base weight is executing an empty block plus one read and one write of the
	/// community pot's account, which every fee of the block credits: the benchmarks count that
	/// account as already in memory (as they do the block author's), so the block pays for it
	/// once instead of each transaction.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::builder()
		.base_block(BlockExecutionWeight::get().saturating_add(ParityDbWeight::get().reads_writes(1, 1)))
		.for_class(DispatchClass::all(), |weights| {
			weights.base_extrinsic = base_extrinsic();
		})
		.for_class(DispatchClass::Normal, |weights| {
			weights.max_total = Some(normal_block_weight());
		})
		.for_class(DispatchClass::Operational, |weights| {
			weights.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			// Operational transactions (governance emergencies) still fit a block that normal
			// ones filled.
			weights.reserved = Some(
				MAXIMUM_BLOCK_WEIGHT.saturating_sub(normal_block_weight()),
			);
		})
		.avg_block_initialization(AVERAGE_ON_INITIALIZE_RATIO)
		.build_or_panic();
	/// At most 5 MiB in a block, of which normal transactions may fill 75%.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO.mul_floor(*max)
		})
		.build();
	/// The generic Substrate address format, which every wallet and polkadot.js understand.
	pub const SS58Prefix: u16 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores its state in ParityDb: its read and write costs as measured.
	type DbWeight = ParityDbWeight;
	type SystemWeightInfo = crate::weights::frame_system::WeightInfo<Runtime>;
	type ExtensionsWeightInfo = crate::weights::frame_system_extensions::WeightInfo<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
	/// Protocol parameters can only be set within their bounds.
	type BaseCallFilter = super::parameters::ParameterBounds;
}
