//! The AI data economy: datanets and the compute market. Deposits, slashes and rate limits are protocol parameters
//! (see [`super::parameters`]).

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::traits::AccountIdConversion;

use super::{
	monetary::CommunityPotAccount,
	parameters::dynamic_params::{compute as compute_params, datanets as params},
};
use crate::{
	currency::MILLI_OPEN,
	time::{DAYS, MINUTES},
	tokenomics::CONTRIBUTOR_REWARDS_POT,
	AccountId, Balance, Balances, BlockNumber, Compute, Runtime, RuntimeEvent, RuntimeHoldReason,
};

parameter_types! {
	/// Slashed contribution deposits fund the rewards paid to contributors.
	pub ContributorRewardsPot: AccountId = CONTRIBUTOR_REWARDS_POT.into_account_truncating();
	/// Curators have a week after acceptance to find a duplicate or adversarial contribution.
	pub const StakeCoolDown: BlockNumber = 7 * DAYS;
	/// Curators have two weeks to give a verdict before a contributor may withdraw the item.
	pub const ReviewTimeout: BlockNumber = 14 * DAYS;
	/// Rate limits count per day.
	pub const RateLimitPeriod: BlockNumber = DAYS;
	/// A commitment's record (two keys and a block number) for the few blocks until it is
	/// revealed; returned in full at the reveal.
	pub const CommitmentDeposit: Balance = crate::currency::deposit(0, 128);
	/// The record of a contribution's claims on a version's pool: a three-part key and a
	/// balance, 84 bytes, for as long as the chain keeps it.
	pub const AccessClaimDeposit: Balance = crate::currency::deposit(0, 84);
}

impl pallet_datanets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	/// Access fees wait in this pallet's keyless account until their contributors claim them.
	type PalletId = DatanetsPalletId;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = EnsureRoot<AccountId>;
	type RewardsPot = ContributorRewardsPot;
	type DatanetDepositBase = params::DatanetDepositBase;
	type DatanetDepositPerByte = params::DatanetDepositPerByte;
	type MinContributionDeposit = params::MinContributionDeposit;
	type CommitmentDeposit = CommitmentDeposit;
	type AccessClaimDeposit = AccessClaimDeposit;
	/// One contribution is at most 1 GiB.
	type MaxContributionSize = ConstU64<{ 1 << 30 }>;
	type RejectionSlash = params::RejectionSlash;
	type AdversarialSlash = params::AdversarialSlash;
	type StakeCoolDown = StakeCoolDown;
	type ReviewTimeout = ReviewTimeout;
	type RateLimitPeriod = RateLimitPeriod;
	type MaxContributionsPerPeriod = super::parameters::MaxContributionsPerPeriod;
	type MaxBytesPerPeriod = super::parameters::MaxBytesPerPeriod;
	type MaxNameLength = ConstU32<64>;
	type MaxDescriptionLength = ConstU32<1_024>;
	type MaxTagLength = ConstU32<32>;
	type MaxTags = ConstU32<10>;
	type MaxLicenceLength = ConstU32<64>;
	type MaxCurators = ConstU32<16>;
	type MaxFormats = ConstU32<9>;
	type Jobs = Compute;
	type ValidationDuration = ValidationDuration;
	type MaxEndpoints = ConstU32<4>;
	type MaxEndpointLength = ConstU32<128>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::models::benchmark_helper::Helper;
	type WeightInfo = pallet_datanets::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const DatanetsPalletId: PalletId = PalletId(*b"ol/dtnet");
	/// The listing fee of a slot in a nearly empty list of providers.
	pub const ListingFee: Balance = crate::currency::OPEN;
	/// A provider has two minutes to validate a contribution once it accepted the job.
	pub const ValidationDuration: BlockNumber = 2 * MINUTES;
	/// A provider has a minute to accept a job assigned to it.
	pub const AcceptWindow: BlockNumber = MINUTES;
	/// Jobs run for at most a week.
	pub const MaxJobDuration: BlockNumber = 7 * DAYS;
	/// The fees of open jobs wait in this pallet's keyless escrow account.
	pub const ComputePalletId: PalletId = PalletId(*b"ol/escrw");
	/// A job escrows at least a tenth of an OPEN (ten existential deposits), so that a job paid to
	/// one's own provider still ties up funds.
	pub const MinJobFee: Balance = 100 * MILLI_OPEN;
	/// A leaving provider's bond stays held for a week, so that late-found faults can still be
	/// punished.
	pub const UnbondingPeriod: BlockNumber = 7 * DAYS;
}

/// The compute market: registered providers run validation, training and inference jobs.
impl pallet_compute::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Validation results go to datanets, training results to the model registry.
	type Consumer = super::models::JobConsumers;
	/// Slashed bonds go to the community pot (the treasury).
	type SlashBeneficiary = CommunityPotAccount;
	type PalletId = ComputePalletId;
	type MinJobFee = MinJobFee;
	/// Enough for a busy contributor's validations of a day at once, far below the deadline
	/// buckets' room (128 jobs in each of 17 blocks).
	type MaxOpenJobsPerAccount = ConstU32<256>;
	type MinBond = compute_params::MinBond;
	type TimeoutSlash = compute_params::TimeoutSlash;
	/// One slash an hour at most: an outage costs a provider one slash and its pause.
	type SlashCooldown = ConstU32<{ 60 * MINUTES }>;
	type UnbondingPeriod = UnbondingPeriod;
	type AcceptWindow = AcceptWindow;
	type MinJobDuration = ConstU32<2>;
	type MaxJobDuration = MaxJobDuration;
	type MaxEndpointLength = ConstU32<128>;
	/// One offer per job kind.
	type MaxOffers = ConstU32<3>;
	type MaxProvidersPerKind = ConstU32<256>;
	/// An OPEN for a slot in a list less than an eighth full, doubling with every eighth taken:
	/// 128 OPEN for the last slots, 8,160 OPEN to fill a list of 256.
	type ListingFee = ListingFee;
	type MaxScan = ConstU32<16>;
	type MaxAttempts = ConstU32<3>;
	type MaxPayloadLength = ConstU32<1_024>;
	type MaxResultLength = ConstU32<1_024>;
	type MaxDeadlinesPerBlock = ConstU32<128>;
	/// Inference jobs, which any account creates (to its own provider if it likes), take at
	/// most half of a block's deadlines; the other half stays for validations and training.
	type MaxPublicDeadlinesPerBlock = ConstU32<64>;
	type WeightInfo = pallet_compute::weights::SubstrateWeight<Runtime>;
}
