//! Claims: what settlements owe providers, owners and the protocol pot, and contributions'
//! shares of the versions' pools. The money goes to the beneficiary, whoever asks.

use crate::*;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_claim_rewards(account: T::AccountId) -> DispatchResult {
		let amount = Rewards::<T>::take(&account);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		Self::pay(&account, amount)?;
		Self::deposit_event(Event::RewardsClaimed { account, amount });
		Ok(())
	}

	pub(crate) fn do_claim_contribution_rewards(
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> DispatchResult {
		let (contributor, size, total_bytes) =
			T::Datanets::contribution_in_version(datanet, version, contribution)
				.ok_or(Error::<T>::NotInVersion)?;
		let mut pool = ContributorPools::<T>::get(datanet, version);
		let key = (datanet, version, contribution);
		let claimed = ContributionClaims::<T>::get(key);
		let share = openledger_primitives::pro_rata(pool.paid, size, total_bytes);
		let amount = share.saturating_sub(claimed);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		Self::pay(&contributor, amount)?;
		pool.claimed = pool.claimed.saturating_add(amount);
		ContributorPools::<T>::insert(datanet, version, pool);
		ContributionClaims::<T>::insert(key, share);
		Self::deposit_event(Event::ContributionRewardsClaimed {
			datanet,
			version,
			contribution,
			contributor,
			amount,
		});
		Ok(())
	}

	/// Moves `amount` owed from the pallet's account to `to`'s free balance.
	fn pay(to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::transfer_on_hold(
			&HoldReason::Owed.into(),
			&Self::account(),
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)?;
		Ok(())
	}

	/// What a contribution may claim now from a version's pool.
	pub fn contribution_claimable(
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> BalanceOf<T> {
		let Some((_, size, total_bytes)) =
			T::Datanets::contribution_in_version(datanet, version, contribution)
		else {
			return Zero::zero();
		};
		let pool = ContributorPools::<T>::get(datanet, version);
		openledger_primitives::pro_rata(pool.paid, size, total_bytes)
			.saturating_sub(ContributionClaims::<T>::get((datanet, version, contribution)))
	}
}
