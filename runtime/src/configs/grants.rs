//! OpenCircle grants: applications approved by referendum on their tier's track, paid per
//! milestone from the ecosystem grants pot.

use frame_support::{
	parameter_types,
	traits::{ConstU32, EitherOf, Get, MapSuccess},
};
use frame_system::EnsureRootWithSuccess;
use pallet_governance::{GrantsBuilding, GrantsExpansion, GrantsExploration};
use pallet_grants::{Range, Tier, TierRanges};
use sp_runtime::traits::{AccountIdConversion, Replace};

use super::parameters::dynamic_params::grants as params;
use crate::{
	currency::deposit, tokenomics::ECOSYSTEM_GRANTS_POT, AccountId, Balance, Balances, Runtime,
	RuntimeEvent, RuntimeHoldReason,
};

parameter_types! {
	pub EcosystemGrantsPot: AccountId = ECOSYSTEM_GRANTS_POT.into_account_truncating();
	pub const ExplorationTier: Tier = Tier::Exploration;
	pub const BuildingTier: Tier = Tier::Building;
	pub const ExpansionTier: Tier = Tier::Expansion;
	/// An application takes one record; its milestones are priced by the byte.
	pub const ApplicationDepositBase: Balance = deposit(1, 128);
	pub const ApplicationDepositPerByte: Balance = deposit(0, 1);
}

/// Root acts on every tier; each grants track on its own tier and those below it.
pub type GrantsOrigin = EitherOf<
	EnsureRootWithSuccess<AccountId, ExpansionTier>,
	EitherOf<
		MapSuccess<GrantsExpansion, Replace<ExpansionTier>>,
		EitherOf<
			MapSuccess<GrantsBuilding, Replace<BuildingTier>>,
			MapSuccess<GrantsExploration, Replace<ExplorationTier>>,
		>,
	>,
>;

/// The tier ranges, from the protocol parameters.
pub struct GovernedTierRanges;
impl Get<TierRanges<Balance>> for GovernedTierRanges {
	fn get() -> TierRanges<Balance> {
		TierRanges {
			exploration: Range {
				min: params::ExplorationMin::get(),
				max: params::ExplorationMax::get(),
			},
			building: Range { min: params::BuildingMin::get(), max: params::BuildingMax::get() },
			expansion: Range { min: params::ExpansionMin::get(), max: params::ExpansionMax::get() },
		}
	}
}

impl pallet_grants::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// A referendum on the application's tier track (or a higher one, or root) approves it.
	type ApproveOrigin = GrantsOrigin;
	/// Milestones are reviewed by the same tracks: every payout is a decision of OPEN holders.
	type ReviewOrigin = GrantsOrigin;
	type Pot = EcosystemGrantsPot;
	type TierRanges = GovernedTierRanges;
	type DepositBase = ApplicationDepositBase;
	type DepositPerByte = ApplicationDepositPerByte;
	type MaxTitleLength = ConstU32<128>;
	type MaxMilestoneDescriptionLength = ConstU32<512>;
	type MaxMilestones = ConstU32<10>;
	type WeightInfo = pallet_grants::weights::SubstrateWeight<Runtime>;
}
