//! Units of the OPEN token, of time, and the genesis token allocation.
//!
//! Everything here is evaluated at compile time: an overflow is a build error, never a runtime panic.
#![allow(clippy::arithmetic_side_effects)]

/// The OPEN token.
pub mod currency {
	use crate::Balance;

	/// Symbol of the native token, reported in the chain properties.
	pub const TOKEN_SYMBOL: &str = "OPEN";
	/// Decimals of the native token: one OPEN is 10^18 units, the same as one ether is 10^18 wei, so that
	/// OPEN maps 1:1 to EVM value units.
	pub const TOKEN_DECIMALS: u8 = 18;

	/// One OPEN.
	pub const OPEN: Balance = 1_000_000_000_000_000_000;
	/// 10^-3 OPEN.
	pub const MILLI_OPEN: Balance = OPEN / 1_000;
	/// 10^-6 OPEN.
	pub const MICRO_OPEN: Balance = OPEN / 1_000_000;

	/// The smallest balance an account may hold and still exist.
	pub const EXISTENTIAL_DEPOSIT: Balance = 10 * MILLI_OPEN;

	/// The deposit for state a user creates: `items` storage entries holding `bytes` bytes in all.
	pub const fn deposit(items: u32, bytes: u32) -> Balance {
		items as Balance * OPEN + bytes as Balance * 10 * MILLI_OPEN
	}
}

/// Time, counted in blocks of six seconds.
pub mod time {
	use crate::BlockNumber;

	/// The block time. Aura's slot duration is this value; it cannot change once the chain runs.
	pub const MILLISECS_PER_BLOCK: u64 = 6_000;
	/// The Aura slot duration in milliseconds.
	pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

	pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
	pub const HOURS: BlockNumber = MINUTES * 60;
	pub const DAYS: BlockNumber = HOURS * 24;
	/// A year of 365 days: 5,256,000 blocks.
	pub const YEARS: BlockNumber = DAYS * 365;
	/// A twelfth of a year: 438,000 blocks.
	pub const MONTHS: BlockNumber = YEARS / 12;
}

/// The genesis distribution of the fixed OPEN supply.
///
/// The whole supply exists at genesis; nothing is minted afterwards by this runtime. Every share is
/// given in basis points (1/10,000) of [`TOTAL_SUPPLY`], which is divisible by 10,000, so every
/// allocation is exact to the unit.
pub mod tokenomics {
	use super::{currency::OPEN, time::MONTHS};
	use crate::{AccountId, Balance, BlockNumber};
	use frame_support::PalletId;
	use sp_runtime::traits::AccountIdConversion;

	/// Total issuance at genesis: 1,000,000,000 OPEN.
	pub const TOTAL_SUPPLY: Balance = 1_000_000_000 * OPEN;

	/// Basis points in one whole.
	pub const BASIS_POINTS: Balance = 10_000;

	/// One slice of the genesis distribution.
	#[derive(Clone, Copy, Debug, PartialEq, Eq)]
	pub enum Allocation {
		/// Community and ecosystem: rewards paid to data contributors through Proof of Attribution.
		ContributorRewards,
		/// Community and ecosystem: the OpenCircle grants programme.
		EcosystemGrants,
		/// Community and ecosystem: community incentives, and the source of development endowments.
		Community,
		/// Investors, under [`investor_and_team_vesting`].
		Investors,
		/// Team, under [`investor_and_team_vesting`].
		Team,
		/// Exchange liquidity.
		Liquidity,
	}

	impl Allocation {
		/// Every allocation, once.
		pub const ALL: [Allocation; 6] = [
			Allocation::ContributorRewards,
			Allocation::EcosystemGrants,
			Allocation::Community,
			Allocation::Investors,
			Allocation::Team,
			Allocation::Liquidity,
		];

		/// The share of [`TOTAL_SUPPLY`] in basis points. Community and ecosystem together hold
		/// 61.71% (25% + 10% + 26.71%), investors 18.29%, team 15%, liquidity 5%.
		pub const fn basis_points(self) -> Balance {
			match self {
				Allocation::ContributorRewards => 2_500,
				Allocation::EcosystemGrants => 1_000,
				Allocation::Community => 2_671,
				Allocation::Investors => 1_829,
				Allocation::Team => 1_500,
				Allocation::Liquidity => 500,
			}
		}

		/// The allocation in units of OPEN (10^-18 OPEN).
		pub const fn amount(self) -> Balance {
			TOTAL_SUPPLY / BASIS_POINTS * self.basis_points()
		}

		/// Whether the allocation is held by its beneficiaries under the vesting schedule.
		pub const fn is_vested(self) -> bool {
			matches!(self, Allocation::Investors | Allocation::Team)
		}

		/// The keyless account that holds a pot, for the allocations held by the protocol rather
		/// than by named beneficiaries. Only governance can move these funds: the treasury spends the
		/// community pot, the grants pallet the ecosystem grants pot, root referenda any of them.
		pub fn pot_account(self) -> Option<AccountId> {
			let id = match self {
				Allocation::ContributorRewards => CONTRIBUTOR_REWARDS_POT,
				Allocation::EcosystemGrants => ECOSYSTEM_GRANTS_POT,
				Allocation::Community => COMMUNITY_POT,
				Allocation::Liquidity => LIQUIDITY_POT,
				Allocation::Investors | Allocation::Team => return None,
			};
			Some(id.into_account_truncating())
		}
	}

	/// Pot of the rewards owed to data contributors.
	pub const CONTRIBUTOR_REWARDS_POT: PalletId = PalletId(*b"ol/rwrds");
	/// Pot of the OpenCircle grants programme.
	pub const ECOSYSTEM_GRANTS_POT: PalletId = PalletId(*b"ol/grant");
	/// Pot of community incentives; transaction fees are paid into it.
	pub const COMMUNITY_POT: PalletId = PalletId(*b"ol/cmnty");
	/// Pot of exchange liquidity.
	pub const LIQUIDITY_POT: PalletId = PalletId(*b"ol/liqdt");

	/// Nothing of a vested allocation unlocks for the first twelve months.
	pub const VESTING_CLIFF: BlockNumber = 12 * MONTHS;
	/// After the cliff, the allocation unlocks linearly, block by block, over 36 months.
	pub const VESTING_DURATION: BlockNumber = 36 * MONTHS;

	/// What of a vested allocation is liquid from genesis on, for transaction fees.
	///
	/// pallet-balances ignores the reasons of a lock: a lock freezes its amount for every use,
	/// transaction fees included, whatever `WithdrawReasons` the vesting pallet asks for. An
	/// allocation locked whole could therefore neither vote, nor vest, nor claim anything until
	/// someone sent it OPEN. A float of 100 OPEN pays for thousands of transactions (a transfer
	/// costs under a hundredth of an OPEN) and is a rounding error of any allocation.
	pub const VESTING_FEE_FLOAT: Balance = 100 * OPEN;

	/// The genesis vesting schedule of a vested allocation, in the form of `pallet_vesting`'s genesis
	/// config: `(who, starting block, length in blocks, liquid amount)`. All but
	/// [`VESTING_FEE_FLOAT`] is locked; the schedule starts unlocking at the cliff.
	pub fn investor_and_team_vesting(
		who: AccountId,
	) -> (AccountId, BlockNumber, BlockNumber, Balance) {
		(who, VESTING_CLIFF, VESTING_DURATION, VESTING_FEE_FLOAT)
	}

	// Evaluated while compiling: an overflow or an index out of bounds fails the build.
	#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
	const _: () = {
		let mut sum = 0;
		let mut i = 0;
		while i < Allocation::ALL.len() {
			sum += Allocation::ALL[i].basis_points();
			i += 1;
		}
		assert!(sum == BASIS_POINTS, "the allocations must add up to the whole supply");
		assert!(
			TOTAL_SUPPLY.is_multiple_of(BASIS_POINTS),
			"every allocation must be exact to the unit"
		);
	};
}
