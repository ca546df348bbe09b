//! # Governance origins
//!
//! The origins that OpenLedger's referendum tracks dispatch with, besides root.
//!
//! ## Overview
//!
//! OPEN holders govern the chain through `pallet-referenda` and `pallet-conviction-voting`. A
//! referendum runs on a **track**, chosen by the origin its proposal will be dispatched with; each
//! track has its own deposit, periods and approval curves, so that a small treasury spend needs
//! less than a runtime upgrade. Root has its own track; every other track has an [`Origin`] of this
//! pallet, and each pallet that governance steers names the origin it accepts in its `Config`:
//!
//! | origin | what it may do |
//! |---|---|
//! | [`Origin::ProtocolParameters`] | set the protocol parameters of `pallet-parameters` (deposits, slashes, rate limits, grant tiers, bonds), within the runtime's bounds |
//! | [`Origin::Treasurer`] | spend from the treasury up to the treasurer's cap |
//! | [`Origin::SmallSpender`], [`Origin::MediumSpender`], [`Origin::BigSpender`] | spend from the treasury up to their caps |
//! | [`Origin::GrantsExploration`], [`Origin::GrantsBuilding`], [`Origin::GrantsExpansion`] | approve and oversee OpenCircle grants up to their tier |
//!
//! The runtime maps each origin to what it may do (spend caps, grant tiers); this pallet only
//! declares them and provides an [`EnsureOrigin`] for each, named like the origin.
//!
//! ### Pace
//!
//! [`GovernancePace`] is set at genesis and tells the runtime's track table which periods to
//! use: [`Pace::Standard`] (days, the default on every network) or [`Pace::Fast`] (a block or
//! two, and 50 blocks of decision, for development chains and end-to-end tests). No call of this
//! pallet changes it; root could, by writing the storage item (`system.set_storage`) or through a
//! runtime upgrade.
//!
//! ## Pallet API
//!
//! No dispatchable functions. The [`Origin`] enum, its `EnsureOrigin` implementations and the
//! [`GovernancePace`] storage value.
//!
//! ## Fuzzing
//!
//! The runtime fuzzer (`fuzz/` at the workspace's root) dispatches calls from each of these
//! origins, as a referendum's enactment does, and checks the chain's invariants after every block
//! of its campaigns and of the bounded run in `scripts/test.sh`.
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod tests;

// FRAME's pallet macros expand to `expect` calls (on the pallet's name in the runtime) that carry
// this module's spans, so clippy's `expect_used` is allowed here; the module's own code holds none.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The origins of the governance tracks other than root.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Sets protocol parameters: deposits, slashes and limits of the other pallets.
		ProtocolParameters,
		/// Spends from the treasury, up to the largest cap.
		Treasurer,
		/// Spends from the treasury, up to a small cap.
		SmallSpender,
		/// Spends from the treasury, up to a medium cap.
		MediumSpender,
		/// Spends from the treasury, up to a big cap.
		BigSpender,
		/// Approves and oversees OpenCircle grants of the Exploration tier.
		GrantsExploration,
		/// Approves and oversees OpenCircle grants up to the Building tier.
		GrantsBuilding,
		/// Approves and oversees OpenCircle grants up to the Expansion tier.
		GrantsExpansion,
	}

	/// Which periods the referendum tracks use.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		Default,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
		frame_support::Serialize,
		frame_support::Deserialize,
	)]
	#[serde(crate = "frame_support::__private::serde")]
	pub enum Pace {
		/// The periods a live network runs with: hours to weeks.
		#[default]
		Standard,
		/// Periods of a block or two (a decision period of 50 blocks), so that a whole
		/// referendum fits in an end-to-end test. For development chains only.
		Fast,
	}

	/// The pace of governance on this chain, set at genesis.
	#[pallet::storage]
	pub type GovernancePace<T> = StorageValue<_, Pace, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The pace of governance. [`Pace::Standard`] unless a development preset says otherwise.
		pub pace: Pace,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			GovernancePace::<T>::put(self.pace);
		}
	}

	/// Declares, for each named origin, a type of the same name that ensures exactly that origin.
	macro_rules! decl_unit_ensures {
		( $( $name:ident ),* $(,)? ) => { $(
			#[doc = concat!("Ensures [`Origin::", stringify!($name), "`].")]
			pub struct $name;
			impl<O: Into<Result<Origin, O>> + From<Origin>> EnsureOrigin<O> for $name {
				type Success = ();
				fn try_origin(o: O) -> Result<Self::Success, O> {
					o.into().and_then(|o| match o {
						Origin::$name => Ok(()),
						other => Err(O::from(other)),
					})
				}
				#[cfg(feature = "runtime-benchmarks")]
				fn try_successful_origin() -> Result<O, ()> {
					Ok(O::from(Origin::$name))
				}
			}
		)* };
	}

	decl_unit_ensures!(
		ProtocolParameters,
		Treasurer,
		SmallSpender,
		MediumSpender,
		BigSpender,
		GrantsExploration,
		GrantsBuilding,
		GrantsExpansion,
	);
}
