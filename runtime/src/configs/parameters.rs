//! Protocol parameters: the fee splits, deposits and limits of the other pallets that governance
//! sets by referendum on the protocol-parameters track, without a runtime upgrade.
//!
//! Each parameter has a default, used until governance sets it; `pallet-parameters` stores the
//! values set. In polkadot.js a referendum proposes for example
//! `parameters.setParameter({ Datanets: { RejectionSlash: [null, 200000000] } })`.

use frame_support::{
	dynamic_params::{dynamic_pallet_params, dynamic_params},
	traits::{EnsureOrigin, EnsureOriginWithArg},
};
use frame_system::EnsureRoot;

use crate::{AccountId, Runtime, RuntimeEvent, RuntimeOrigin};

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
		/// Contributions per account and day.
		#[codec(index = 5)]
		pub static MaxContributionsPerPeriod: u32 = 1_000;
		/// Bytes of contributions per account and day: 10 GiB.
		#[codec(index = 6)]
		pub static MaxBytesPerPeriod: u64 = 10 << 30;
	}

	/// The governed parameters of OpenCircle grants. The programme's tiers are named in US
	/// dollars; the chain holds them in OPEN and governance rebases them when the price moves.
	/// The defaults take one OPEN for one dollar.
	#[dynamic_pallet_params]
	#[codec(index = 1)]
	pub mod grants {
		#[codec(index = 0)]
		pub static ExplorationMin: crate::Balance = 25_000 * crate::currency::OPEN;
		#[codec(index = 1)]
		pub static ExplorationMax: crate::Balance = 50_000 * crate::currency::OPEN;
		#[codec(index = 2)]
		pub static BuildingMin: crate::Balance = 50_000 * crate::currency::OPEN;
		#[codec(index = 3)]
		pub static BuildingMax: crate::Balance = 150_000 * crate::currency::OPEN;
		#[codec(index = 4)]
		pub static ExpansionMin: crate::Balance = 250_000 * crate::currency::OPEN;
		#[codec(index = 5)]
		pub static ExpansionMax: crate::Balance = 500_000 * crate::currency::OPEN;
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
	/// The pallet publishes only its reference weights (measured against RocksDB, an upper
	/// bound for ParityDb).
	type WeightInfo = ();
}
