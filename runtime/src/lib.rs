//! # OpenLedger runtime
//!
//! The state transition function of the OpenLedger appchain: the native OPEN token and its fees,
//! Aura block production with GRANDPA finality, vesting of the investor and team allocations,
//! batching and multisig accounts, and the pallets of the AI data economy from `pallets/`: datanets.
//!
//! - [`constants`]: units of OPEN and of time, and the genesis token allocation.
//! - [`configs`]: the `Config` of every pallet.
//! - [`genesis_config_presets`]: the `dev` and `local` genesis states.
//! - [`weights`]: the weights measured on this runtime, and the block's base weights.
//! - [`apis`]: the runtime APIs the node and clients call.
#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` needs a higher recursion limit.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

pub mod apis;
pub mod configs;
pub mod constants;
pub mod genesis_config_presets;
pub mod weights;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use constants::{currency, time, tokenomics};

/// The version of the runtime. Bump `spec_version` with every change of logic, and
/// `transaction_version` whenever the encoding of calls or transaction extensions changes.
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("openledger"),
	impl_name: alloc::borrow::Cow::Borrowed("openledger"),
	authoring_version: 1,
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// A block number: u32 lasts 800 years of six-second blocks.
pub type BlockNumber = u32;
/// A transaction signature: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;
/// An account: the 32-byte public key of its signing scheme (AccountId32).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// A balance of OPEN, in units of 10^-18 OPEN.
pub type Balance = u128;
/// The number of transactions an account has signed.
pub type Nonce = u32;
/// A block or state hash.
pub type Hash = sp_core::H256;
/// The address format of transactions. The unit index keeps it compatible with Ethereum RPC
/// adapters, which expect `MultiAddress<AccountId, ()>`.
pub type Address = MultiAddress<AccountId, ()>;
/// The block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// A block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The checks and payments every signed transaction goes through, in order.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// The transaction extensions a wallet attaches to a signed transaction: immortal, with the
/// signer's `nonce` and a `tip`, without a metadata hash.
pub fn tx_extension(nonce: Nonce, tip: Balance) -> TxExtension {
	(
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(generic::Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(tip),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

/// A transaction as it travels over the network and into blocks.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a transaction's signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on the next runtime upgrade, beyond those of each pallet. Each runs once:
/// the pallet's storage version records that it has.
type Migrations = (pallet_models::migrations::v1::MigrateV0ToV1<Runtime>,);

/// Dispatches blocks and transactions to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// Types the node needs without knowing the runtime's transaction format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// The opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// The opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// The opaque block hash.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers: Aura for block production, GRANDPA for finality.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	// System and consensus: 0-9. Timestamp must come before Aura, whose slot check reads it.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	// The OPEN token: 10-19.
	#[runtime::pallet_index(10)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(11)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(12)]
	pub type Vesting = pallet_vesting;

	// Account utilities: 20-29.
	#[runtime::pallet_index(20)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(21)]
	pub type Multisig = pallet_multisig;

	// Governance: 30-49. OPEN holders decide by referendum on the tracks of
	// `configs::governance::tracks`; the sudo key exists on development chains only.
	#[runtime::pallet_index(30)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(31)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(32)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(33)]
	pub type Origins = pallet_governance;
	#[runtime::pallet_index(34)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(35)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(36)]
	pub type Treasury = pallet_treasury;
	#[runtime::pallet_index(37)]
	pub type Parameters = pallet_parameters;
	// OpenCircle grants, paid from the ecosystem grants pot.
	#[runtime::pallet_index(40)]
	pub type Grants = pallet_grants;

	// The AI data economy: 50-69.
	#[runtime::pallet_index(50)]
	pub type Datanets = pallet_datanets;
	#[runtime::pallet_index(60)]
	pub type Compute = pallet_compute;
	#[runtime::pallet_index(65)]
	pub type Models = pallet_models;
	#[runtime::pallet_index(66)]
	pub type Inference = pallet_inference;
}

#[cfg(feature = "runtime-benchmarks")]
mod benches {
	frame_benchmarking::define_benchmarks!(
		[frame_benchmarking, BaselineBench::<Runtime>]
		[frame_system, SystemBench::<Runtime>]
		[frame_system_extensions, SystemExtensionsBench::<Runtime>]
		[pallet_transaction_payment, TransactionPayment]
		[pallet_grandpa, Grandpa]
		[pallet_balances, Balances]
		[pallet_timestamp, Timestamp]
		[pallet_vesting, Vesting]
		[pallet_utility, Utility]
		[pallet_multisig, Multisig]
		[pallet_sudo, Sudo]
		[pallet_preimage, Preimage]
		[pallet_scheduler, Scheduler]
		[pallet_referenda, Referenda]
		[pallet_conviction_voting, ConvictionVoting]
		[pallet_treasury, Treasury]
		[pallet_parameters, Parameters]
		[pallet_grants, Grants]
		[pallet_datanets, Datanets]
		[pallet_models, Models]
		[pallet_compute, Compute]
		[pallet_inference, Inference]
	);
}
