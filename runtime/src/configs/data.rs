//! The AI data economy: datanets. Deposits, slashes and rate limits are protocol parameters
//! (see [`super::parameters`]).

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use sp_runtime::traits::AccountIdConversion;

use super::parameters::dynamic_params::datanets as params;
use crate::{
	time::DAYS, tokenomics::CONTRIBUTOR_REWARDS_POT, AccountId, Balances, BlockNumber, Runtime,
	RuntimeEvent, RuntimeHoldReason,
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
}

impl pallet_datanets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = EnsureRoot<AccountId>;
	type RewardsPot = ContributorRewardsPot;
	type DatanetDepositBase = params::DatanetDepositBase;
	type DatanetDepositPerByte = params::DatanetDepositPerByte;
	type MinContributionDeposit = params::MinContributionDeposit;
	/// One contribution is at most 1 GiB.
	type MaxContributionSize = ConstU64<{ 1 << 30 }>;
	type RejectionSlash = params::RejectionSlash;
	type AdversarialSlash = params::AdversarialSlash;
	type StakeCoolDown = StakeCoolDown;
	type ReviewTimeout = ReviewTimeout;
	type RateLimitPeriod = RateLimitPeriod;
	type MaxContributionsPerPeriod = params::MaxContributionsPerPeriod;
	type MaxBytesPerPeriod = params::MaxBytesPerPeriod;
	type MaxNameLength = ConstU32<64>;
	type MaxDescriptionLength = ConstU32<1_024>;
	type MaxTagLength = ConstU32<32>;
	type MaxTags = ConstU32<10>;
	type MaxLicenceLength = ConstU32<64>;
	type MaxCurators = ConstU32<16>;
	type MaxFormats = ConstU32<9>;
	type WeightInfo = pallet_datanets::weights::SubstrateWeight<Runtime>;
}
