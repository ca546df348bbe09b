//! Protocol parameters: the deposits, slashes and limits of the other pallets that governance
//! sets by referendum on the protocol-parameters track, without a runtime upgrade, within the
//! bounds of [`bounds`].
//!
//! Each parameter has a default, used until governance sets it; `pallet-parameters` stores the
//! values set. In polkadot.js a referendum proposes for example
//! `parameters.setParameter({ Datanets: { RejectionSlash: [null, 200000000] } })`.

use frame_support::{
	dynamic_params::{dynamic_pallet_params, dynamic_params},
	traits::{EnsureOrigin, EnsureOriginWithArg, Get},
};
use frame_system::EnsureRoot;

use crate::{AccountId, Runtime, RuntimeEvent, RuntimeOrigin};

/// What an account may contribute in a rate-limit period.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub struct RateLimit {
	/// Contributions.
	pub contributions: u32,
	/// Bytes, the declared sizes of those contributions summed.
	pub bytes: u64,
}

/// The most contributions per account and period, from [`RateLimit`].
pub struct MaxContributionsPerPeriod;
impl Get<u32> for MaxContributionsPerPeriod {
	fn get() -> u32 {
		dynamic_params::datanets::ContributionRateLimit::get().contributions
	}
}

/// The most bytes of contributions per account and period, from [`RateLimit`].
pub struct MaxBytesPerPeriod;
impl Get<u64> for MaxBytesPerPeriod {
	fn get() -> u64 {
		dynamic_params::datanets::ContributionRateLimit::get().bytes
	}
}

/// The default OpenCircle tier limits: the programme's dollar ranges, one OPEN per dollar.
pub mod grant_tiers {
	use crate::{currency::OPEN, Balance};
	pub const EXPLORATION_MIN: Balance = 25_000 * OPEN;
	pub const EXPLORATION_MAX: Balance = 50_000 * OPEN;
	pub const BUILDING_MIN: Balance = 50_000 * OPEN;
	pub const BUILDING_MAX: Balance = 150_000 * OPEN;
	pub const EXPANSION_MIN: Balance = 250_000 * OPEN;
	pub const EXPANSION_MAX: Balance = 500_000 * OPEN;
}

#[dynamic_params(RuntimeParameters, pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	/// The governed parameters of datanets.
	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod datanets {
		/// A datanet's deposit, fixed part: a record, a tree and counters.
		#[codec(index = 0)]
		pub static DatanetDepositBase: crate::Balance = crate::currency::deposit(1, 64);
		/// A datanet's deposit per byte of metadata and rules.
		#[codec(index = 1)]
		pub static DatanetDepositPerByte: crate::Balance = crate::currency::deposit(0, 1);
		/// The least contribution deposit: a record and a content-index entry (about 160 bytes).
		#[codec(index = 2)]
		pub static MinContributionDeposit: crate::Balance = crate::currency::deposit(2, 160);
		/// The share of a rejected contribution's deposit that goes to the rewards pot: a tenth
		/// makes spam unprofitable without deterring honest contributors.
		#[codec(index = 3)]
		pub static RejectionSlash: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
		/// The share of a slashed contribution's stake that goes to the rewards pot.
		#[codec(index = 4)]
		pub static AdversarialSlash: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(100);
		/// Contributions and bytes of contributions per account and day: 1,000 and 10 GiB. One
		/// parameter, so that a contribution reads one key for both.
		#[codec(index = 5)]
		pub static ContributionRateLimit: crate::configs::parameters::RateLimit =
			crate::configs::parameters::RateLimit { contributions: 1_000, bytes: 10 << 30 };
	}

	/// The governed parameters of OpenCircle grants. The programme's tiers are named in US
	/// dollars; the chain holds them in OPEN and governance rebases them when the price moves.
	/// The defaults take one OPEN for one dollar.
	#[dynamic_pallet_params]
	#[codec(index = 1)]
	pub mod grants {
		#[codec(index = 0)]
		pub static ExplorationMin: crate::Balance =
			crate::configs::parameters::grant_tiers::EXPLORATION_MIN;
		#[codec(index = 1)]
		pub static ExplorationMax: crate::Balance =
			crate::configs::parameters::grant_tiers::EXPLORATION_MAX;
		#[codec(index = 2)]
		pub static BuildingMin: crate::Balance =
			crate::configs::parameters::grant_tiers::BUILDING_MIN;
		#[codec(index = 3)]
		pub static BuildingMax: crate::Balance =
			crate::configs::parameters::grant_tiers::BUILDING_MAX;
		#[codec(index = 4)]
		pub static ExpansionMin: crate::Balance =
			crate::configs::parameters::grant_tiers::EXPANSION_MIN;
		#[codec(index = 5)]
		pub static ExpansionMax: crate::Balance =
			crate::configs::parameters::grant_tiers::EXPANSION_MAX;
	}

	/// The governed parameters of the compute market.
	#[dynamic_pallet_params]
	#[codec(index = 2)]
	pub mod compute {
		/// The least bond of an active provider: what it stands to lose for missed deadlines.
		#[codec(index = 0)]
		pub static MinBond: crate::Balance = 1_000 * crate::currency::OPEN;
		/// The share of its bond a provider loses per missed deadline: twenty misses in a row
		/// cost it about two thirds of its bond, and the first miss already pauses a provider
		/// bonded at the minimum.
		#[codec(index = 1)]
		pub static TimeoutSlash: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(5);
	}

	/// The governed parameters of the model registry.
	#[dynamic_pallet_params]
	#[codec(index = 3)]
	pub mod models {
		/// A model record's deposit, fixed part: the record and its provenance (about 700 bytes).
		#[codec(index = 0)]
		pub static ModelDepositBase: crate::Balance = crate::currency::deposit(1, 700);
		/// A model record's deposit per byte of its name and description.
		#[codec(index = 1)]
		pub static ModelDepositPerByte: crate::Balance = crate::currency::deposit(0, 1);
		/// The least share of a published model's inference fees that goes to the contributors
		/// of its data.
		#[codec(index = 2)]
		pub static MinContributorShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
	}

	/// The governed parameters of paid inference.
	#[dynamic_pallet_params]
	#[codec(index = 4)]
	pub mod inference {
		/// The share of every inference fee that goes to the community pot.
		#[codec(index = 0)]
		pub static ProtocolShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(5);
		/// How long a withdrawal of prepaid funds waits for providers to settle what they
		/// served against them: two hours, twice the settlement window of a revoked or
		/// expired key.
		#[codec(index = 1)]
		pub static WithdrawalDelay: crate::BlockNumber = 2 * crate::time::HOURS;
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl Default for RuntimeParameters {
	fn default() -> Self {
		RuntimeParameters::Grants(dynamic_params::grants::Parameters::ExplorationMax(
			dynamic_params::grants::ExplorationMax,
			Some(50_000 * crate::currency::OPEN),
		))
	}
}

/// The range each protocol parameter may take, checked whenever a value is set (see
/// [`ParameterBounds`]). The ranges keep every deposit, slash and limit meaningful, and keep the
/// grant tiers ordered and below [`MAX_GRANT`], so that no referendum on the protocol-parameters
/// track can hand a grants track the whole pot, make a slash take everything or nothing, or set
/// a minimum above its maximum.
pub mod bounds {
	use crate::{
		currency::{MILLI_OPEN, OPEN},
		Balance,
	};
	use sp_runtime::Perbill;

	/// Datanet deposits, fixed part and least contribution deposit.
	pub const DEPOSIT: (Balance, Balance) = (100 * MILLI_OPEN, 10_000 * OPEN);
	/// Datanet deposit per byte.
	pub const DEPOSIT_PER_BYTE: (Balance, Balance) = (MILLI_OPEN, OPEN);
	/// A rejection may cost a contributor at most half its deposit.
	pub const REJECTION_SLASH: (Perbill, Perbill) = (Perbill::zero(), Perbill::from_percent(50));
	/// An adversarial contribution costs at least a tenth of its stake.
	pub const ADVERSARIAL_SLASH: (Perbill, Perbill) =
		(Perbill::from_percent(10), Perbill::from_percent(100));
	/// Contributions per account and period.
	pub const CONTRIBUTIONS_PER_PERIOD: (u32, u32) = (1, 100_000);
	/// Bytes of contributions per account and period: 1 MiB to 1 TiB.
	pub const BYTES_PER_PERIOD: (u64, u64) = (1 << 20, 1 << 40);
	/// The largest grant of any tier: 5% of the ecosystem grants allocation (100M OPEN).
	pub const MAX_GRANT: Balance = 5_000_000 * OPEN;
	/// The smallest grant of any tier.
	pub const MIN_GRANT: Balance = 1_000 * OPEN;
	/// A provider's least bond.
	pub const MIN_BOND: (Balance, Balance) = (100 * OPEN, 1_000_000 * OPEN);
	/// The share of its bond a provider loses per missed deadline: something, and never more
	/// than a fifth.
	pub const TIMEOUT_SLASH: (Perbill, Perbill) =
		(Perbill::from_percent(1), Perbill::from_percent(20));
	/// The least share of inference fees a published model pays its data's contributors: at
	/// most half, so that owners and providers are paid too.
	pub const MIN_CONTRIBUTOR_SHARE: (Perbill, Perbill) =
		(Perbill::zero(), Perbill::from_percent(50));
	/// The protocol's share of inference fees: at most a fifth, so that providers, owners and
	/// contributors are paid most of each fee.
	pub const PROTOCOL_SHARE: (Perbill, Perbill) = (Perbill::zero(), Perbill::from_percent(20));
	/// A withdrawal of prepaid funds waits at least the settlement window (one hour), so that
	/// no user can withdraw what it was served before the provider settles it, and at most a
	/// week.
	pub const WITHDRAWAL_DELAY: (crate::BlockNumber, crate::BlockNumber) =
		(crate::time::HOURS, 7 * crate::time::DAYS);
}

/// Whether `value` lies in `(low, high)`, both included.
fn within<V: PartialOrd>(value: V, (low, high): (V, V)) -> bool {
	low <= value && value <= high
}

/// Whether setting `key_value` keeps every protocol parameter within [`bounds`]. A `None` value
/// sets the parameter back to its default, which lies within its bounds (a test checks this);
/// for the grant tiers the default is checked against the other tiers' current limits.
pub fn within_bounds(key_value: &RuntimeParameters) -> bool {
	use bounds::*;
	use dynamic_params::{compute as c, datanets as d, grants as g, inference as i, models as m};
	match key_value {
		RuntimeParameters::Datanets(p) => match p {
			d::Parameters::DatanetDepositBase(_, v) => v.is_none_or(|v| within(v, DEPOSIT)),
			d::Parameters::DatanetDepositPerByte(_, v) => {
				v.is_none_or(|v| within(v, DEPOSIT_PER_BYTE))
			},
			d::Parameters::MinContributionDeposit(_, v) => v.is_none_or(|v| within(v, DEPOSIT)),
			d::Parameters::RejectionSlash(_, v) => v.is_none_or(|v| within(v, REJECTION_SLASH)),
			d::Parameters::AdversarialSlash(_, v) => v.is_none_or(|v| within(v, ADVERSARIAL_SLASH)),
			d::Parameters::ContributionRateLimit(_, v) => v.is_none_or(|v| {
				within(v.contributions, CONTRIBUTIONS_PER_PERIOD)
					&& within(v.bytes, BYTES_PER_PERIOD)
			}),
		},
		RuntimeParameters::Grants(p) => {
			// The six tier limits as they would be after the change: each within
			// `MIN_GRANT..=MAX_GRANT`, each tier's minimum at most its maximum, and the tiers in
			// order (a higher tier's range starts no lower and ends no lower).
			let mut limits = [
				g::ExplorationMin::get(),
				g::ExplorationMax::get(),
				g::BuildingMin::get(),
				g::BuildingMax::get(),
				g::ExpansionMin::get(),
				g::ExpansionMax::get(),
			];
			use grant_tiers::*;
			let (index, value) = match p {
				g::Parameters::ExplorationMin(_, v) => (0, v.unwrap_or(EXPLORATION_MIN)),
				g::Parameters::ExplorationMax(_, v) => (1, v.unwrap_or(EXPLORATION_MAX)),
				g::Parameters::BuildingMin(_, v) => (2, v.unwrap_or(BUILDING_MIN)),
				g::Parameters::BuildingMax(_, v) => (3, v.unwrap_or(BUILDING_MAX)),
				g::Parameters::ExpansionMin(_, v) => (4, v.unwrap_or(EXPANSION_MIN)),
				g::Parameters::ExpansionMax(_, v) => (5, v.unwrap_or(EXPANSION_MAX)),
			};
			if let Some(slot) = limits.get_mut(index) {
				*slot = value;
			}
			let [e_min, e_max, b_min, b_max, x_min, x_max] = limits;
			limits.iter().all(|l| within(*l, (MIN_GRANT, MAX_GRANT)))
				&& e_min <= e_max
				&& b_min <= b_max
				&& x_min <= x_max
				&& e_min <= b_min
				&& b_min <= x_min
				&& e_max <= b_max
				&& b_max <= x_max
		},
		RuntimeParameters::Compute(p) => match p {
			c::Parameters::MinBond(_, v) => v.is_none_or(|v| within(v, MIN_BOND)),
			c::Parameters::TimeoutSlash(_, v) => v.is_none_or(|v| within(v, TIMEOUT_SLASH)),
		},
		RuntimeParameters::Models(p) => match p {
			m::Parameters::ModelDepositBase(_, v) => v.is_none_or(|v| within(v, DEPOSIT)),
			m::Parameters::ModelDepositPerByte(_, v) => {
				v.is_none_or(|v| within(v, DEPOSIT_PER_BYTE))
			},
			m::Parameters::MinContributorShare(_, v) => {
				v.is_none_or(|v| within(v, MIN_CONTRIBUTOR_SHARE))
			},
		},
		RuntimeParameters::Inference(p) => match p {
			i::Parameters::ProtocolShare(_, v) => v.is_none_or(|v| within(v, PROTOCOL_SHARE)),
			i::Parameters::WithdrawalDelay(_, v) => v.is_none_or(|v| within(v, WITHDRAWAL_DELAY)),
		},
	}
}

/// The runtime's base call filter: a `parameters.set_parameter` outside [`bounds`] is refused
/// with `system.CallFiltered`, whoever proposes it, except root. Root (sudo on a development
/// chain, the root track's referenda elsewhere) can replace the runtime itself, so bounds on it
/// would protect nothing.
pub struct ParameterBounds;
impl frame_support::traits::Contains<crate::RuntimeCall> for ParameterBounds {
	fn contains(call: &crate::RuntimeCall) -> bool {
		match call {
			crate::RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
				key_value,
			}) => within_bounds(key_value),
			_ => true,
		}
	}
}

/// Root, or a referendum on the protocol-parameters track, may set any parameter.
pub struct ProtocolParametersAdmin;
impl EnsureOriginWithArg<RuntimeOrigin, RuntimeParametersKey> for ProtocolParametersAdmin {
	type Success = ();

	fn try_origin(
		origin: RuntimeOrigin,
		_key: &RuntimeParametersKey,
	) -> Result<Self::Success, RuntimeOrigin> {
		frame_support::traits::EitherOf::<
			EnsureRoot<AccountId>,
			pallet_governance::ProtocolParameters,
		>::try_origin(origin)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin(_key: &RuntimeParametersKey) -> Result<RuntimeOrigin, ()> {
		Ok(RuntimeOrigin::root())
	}
}

impl pallet_parameters::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeParameters = RuntimeParameters;
	type AdminOrigin = ProtocolParametersAdmin;
	type WeightInfo = crate::weights::pallet_parameters::WeightInfo<Runtime>;
}
