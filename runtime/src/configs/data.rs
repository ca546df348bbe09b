//! The AI data economy: datanets.

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use sp_runtime::{traits::AccountIdConversion, Perbill};

use crate::{
	currency::deposit,
	time::DAYS,
	tokenomics::CONTRIBUTOR_REWARDS_POT,
	AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeEvent, RuntimeHoldReason,
};

parameter_types! {
	/// Slashed contribution deposits fund the rewards paid to contributors.
	pub ContributorRewardsPot: AccountId = CONTRIBUTOR_REWARDS_POT.into_account_truncating();
	/// A datanet takes a record, a tree and counters: one item and 64 bytes, plus its size.
	pub const DatanetDepositBase: Balance = deposit(1, 64);
	pub const DatanetDepositPerByte: Balance = deposit(0, 1);
	/// A contribution takes its record and a content-index entry (about 160 bytes).
	pub const MinContributionDeposit: Balance = deposit(2, 160);
	/// A rejected contribution costs a tenth of its deposit: enough to make spam unprofitable,
	/// little enough that honest contributors are not deterred.
	pub const RejectionSlash: Perbill = Perbill::from_percent(10);
	/// A contribution found duplicate or adversarial after acceptance forfeits its whole stake.
	pub const AdversarialSlash: Perbill = Perbill::from_percent(100);
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
	type DatanetDepositBase = DatanetDepositBase;
	type DatanetDepositPerByte = DatanetDepositPerByte;
	type MinContributionDeposit = MinContributionDeposit;
	/// One contribution is at most 1 GiB.
	type MaxContributionSize = ConstU64<{ 1 << 30 }>;
	type RejectionSlash = RejectionSlash;
	type AdversarialSlash = AdversarialSlash;
	type StakeCoolDown = StakeCoolDown;
	type ReviewTimeout = ReviewTimeout;
	type RateLimitPeriod = RateLimitPeriod;
	/// Per account and day: 1,000 contributions and 10 GiB.
	type MaxContributionsPerPeriod = ConstU32<1_000>;
	type MaxBytesPerPeriod = ConstU64<{ 10 << 30 }>;
	type MaxNameLength = ConstU32<64>;
	type MaxDescriptionLength = ConstU32<1_024>;
	type MaxTagLength = ConstU32<32>;
	type MaxTags = ConstU32<10>;
	type MaxLicenceLength = ConstU32<64>;
	type MaxCurators = ConstU32<16>;
	type MaxFormats = ConstU32<9>;
	type WeightInfo = pallet_datanets::weights::SubstrateWeight<Runtime>;
}
