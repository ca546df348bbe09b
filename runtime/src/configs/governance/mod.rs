//! OPEN governance: referenda with conviction voting on the tracks of [`tracks`], the treasury
//! with tiered spenders, and the preimages and scheduler they rely on.
//!
//! Every root action goes through a referendum on the root track; the other tracks dispatch with
//! the origins of `pallet-governance`, each mapped here to what it may do.

pub mod tracks;

use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{currency::ActiveIssuanceOf, pay::PayFromAccount, UnityAssetBalanceConversion},
		AsEnsureOriginWithArg, ConstU128, ConstU32, EitherOf, EqualPrivilegeOnly,
		LinearStoragePrice, MapSuccess,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned};
use pallet_governance::{BigSpender, MediumSpender, SmallSpender, Treasurer};
use sp_runtime::{
	traits::{IdentityLookup, Replace},
	Permill,
};

use crate::{
	configs::RuntimeBlockWeights,
	currency::{deposit, OPEN},
	time::DAYS,
	tokenomics::COMMUNITY_POT,
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System, Treasury,
};

impl pallet_governance::Config for Runtime {}

parameter_types! {
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	pub const PreimageBaseDeposit: Balance = deposit(2, 64);
	pub const PreimageByteDeposit: Balance = deposit(0, 1);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = crate::weights::pallet_preimage::WeightInfo<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	/// A preimage holds a deposit for its storage until it is removed.
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Scheduled calls (enacted referenda) may take up to 80% of a block.
	pub MaximumSchedulerWeight: Weight = {
		let (share, max) = (sp_runtime::Perbill::from_percent(80), RuntimeBlockWeights::get().max_block);
		Weight::from_parts(share.mul_floor(max.ref_time()), share.mul_floor(max.proof_size()))
	};
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = crate::weights::pallet_scheduler::WeightInfo<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// What submitting a referendum costs until it ends: enough to deter spam, little enough that
	/// anyone can propose.
	pub const SubmissionDeposit: Balance = 10 * OPEN;
	/// A referendum that finds no decision deposit within two weeks times out.
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = crate::weights::pallet_referenda::WeightInfo<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	/// Any account may submit a referendum on any track.
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	/// Deposits of killed referenda go to the treasury.
	type Slash = Treasury;
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	/// Referenda are re-examined every block.
	type AlarmInterval = frame_support::traits::ConstU32<1>;
	type Tracks = tracks::TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// One conviction period: a vote with conviction `n`x stays locked `2^(n-1)` weeks after the
	/// referendum ends.
	pub const VoteLockingPeriod: BlockNumber = 7 * DAYS;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = crate::weights::pallet_conviction_voting::WeightInfo<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	/// Support is measured against the OPEN that is active: the whole supply less what is
	/// marked inactive.
	type MaxTurnout = ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

/// The spend caps of the treasury's origins, in OPEN units.
pub mod spend_caps {
	use crate::{currency::OPEN, Balance};
	pub const SMALL_SPENDER: Balance = 10_000 * OPEN;
	pub const MEDIUM_SPENDER: Balance = 100_000 * OPEN;
	pub const BIG_SPENDER: Balance = 1_000_000 * OPEN;
	pub const TREASURER: Balance = 10_000_000 * OPEN;
}

parameter_types! {
	pub const MaxBalance: Balance = Balance::MAX;
	/// The treasury is the community pot, which also receives transaction fees.
	pub const TreasuryPalletId: frame_support::PalletId = COMMUNITY_POT;
	pub TreasuryAccount: AccountId = Treasury::account_id();
	/// Approved spends are paid out once a week.
	pub const SpendPeriod: BlockNumber = 7 * DAYS;
	/// A spend not claimed within 30 days of becoming payable lapses.
	pub const PayoutPeriod: BlockNumber = 30 * DAYS;
	/// Nothing is burned: OPEN has a fixed supply and unspent funds stay in the pot.
	pub const Burn: Permill = Permill::zero();
}

/// Root spends anything; each spender track up to its cap.
pub type TreasurySpender = EitherOf<
	EnsureRootWithSuccess<AccountId, MaxBalance>,
	EitherOf<
		MapSuccess<Treasurer, Replace<ConstU128<{ spend_caps::TREASURER }>>>,
		EitherOf<
			MapSuccess<BigSpender, Replace<ConstU128<{ spend_caps::BIG_SPENDER }>>>,
			EitherOf<
				MapSuccess<MediumSpender, Replace<ConstU128<{ spend_caps::MEDIUM_SPENDER }>>>,
				MapSuccess<SmallSpender, Replace<ConstU128<{ spend_caps::SMALL_SPENDER }>>>,
			>,
		>,
	>,
>;

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EitherOf<EnsureRoot<AccountId>, Treasurer>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = Burn;
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = crate::weights::pallet_treasury::WeightInfo<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = TreasurySpender;
	/// The treasury pays in OPEN only.
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TreasuryBenchmarkArguments;
	type BlockNumberProvider = System;
}

/// The treasury's benchmark arguments: its benchmarks pay 100 units, below the existential
/// deposit, so each beneficiary is given an account first, or the payout would fail.
#[cfg(feature = "runtime-benchmarks")]
pub struct TreasuryBenchmarkArguments;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_treasury::ArgumentsFactory<(), AccountId> for TreasuryBenchmarkArguments {
	fn create_asset_kind(_seed: u32) {}

	fn create_beneficiary(seed: [u8; 32]) -> AccountId {
		use frame_support::traits::fungible::Mutate;
		let who = AccountId::from(seed);
		let _ = Balances::mint_into(&who, crate::currency::EXISTENTIAL_DEPOSIT);
		who
	}
}
