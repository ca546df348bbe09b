//! Access fees: what training on a datanet's version pays its contributors, and their claims.
//!
//! A datanet's owner sets an access fee. Each training job on a version reserves the fee from the
//! model builder into the version's pool ([`AccessPools`]), where it waits, held on the pallet's
//! [access account](Pallet::access_account), until the job delivers (the fee is settled and becomes
//! claimable) or is abandoned (the fee is refunded). Each accepted contribution of the version may
//! claim `paid * size / total_bytes` of the pool at any time, less what it claimed before
//! ([`AccessClaims`]): no loop over contributors, and rounding down leaves dust in the pool rather
//! than paying out more than came in. The first claim of a contribution on a version holds
//! [`Config::AccessClaimDeposit`] from its contributor for that record, so that the records,
//! which the pool's arithmetic needs for good, are paid for.

use crate::*;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use openledger_primitives::{DatanetAccess, PublishedVersion, VersionUnavailable};
use sp_runtime::traits::{AccountIdConversion, CheckedSub, Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// The owner sets what each training run on the datanet's versions pays their contributors:
	/// zero, or at least the existential deposit.
	pub(crate) fn do_set_access_fee(
		who: T::AccountId,
		datanet: DatanetId,
		fee: BalanceOf<T>,
	) -> DispatchResult {
		Self::owned(datanet, &who)?;
		ensure!(
			fee.is_zero() || fee >= T::Currency::minimum_balance(),
			Error::<T>::AccessFeeBelowMinimum
		);
		if fee.is_zero() {
			AccessFees::<T>::remove(datanet);
		} else {
			AccessFees::<T>::insert(datanet, fee);
		}
		Self::deposit_event(Event::AccessFeeSet { datanet, fee });
		Ok(())
	}

	/// A contributor takes what its accepted contribution earned so far from a version's pool.
	pub(crate) fn do_claim_access_reward(
		who: T::AccountId,
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> DispatchResult {
		let record = Versions::<T>::get(datanet, version).ok_or(Error::<T>::UnknownVersion)?;
		let item = Contributions::<T>::get(datanet, contribution)
			.ok_or(Error::<T>::UnknownContribution)?;
		ensure!(item.contributor == who, Error::<T>::NotContributor);
		let ContributionStatus::Accepted { position, .. } = item.status else {
			return Err(Error::<T>::NotAccepted.into());
		};
		ensure!(position < record.contributions, Error::<T>::NotInVersion);
		let mut pool = AccessPools::<T>::get(datanet, version);
		let key = (datanet, version, contribution);
		let deposit = if AccessClaims::<T>::contains_key(key) {
			Zero::zero()
		} else {
			T::AccessClaimDeposit::get()
		};
		let claimed = AccessClaims::<T>::get(key);
		let share = Self::access_share(pool.paid, item.size, record.total_bytes);
		let amount = share.saturating_sub(claimed);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		T::Currency::transfer_on_hold(
			&HoldReason::AccessPool.into(),
			&Self::access_account(),
			&who,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)?;
		if !deposit.is_zero() {
			// From what was just paid and the contributor's free balance; on failure the call,
			// transfer included, is undone.
			T::Currency::hold(&HoldReason::AccessClaimDeposit.into(), &who, deposit)
				.map_err(|_| Error::<T>::ClaimDepositUnavailable)?;
		}
		pool.claimed = pool.claimed.saturating_add(amount);
		AccessPools::<T>::insert(datanet, version, pool);
		AccessClaims::<T>::insert(key, share);
		Self::deposit_event(Event::AccessRewardClaimed {
			datanet,
			version,
			contribution,
			contributor: who,
			amount,
			deposit,
		});
		Ok(())
	}

	/// A contribution of `size` bytes' share of `paid` in a version of `total_bytes`, rounded down.
	pub fn access_share(paid: BalanceOf<T>, size: u64, total_bytes: u64) -> BalanceOf<T> {
		openledger_primitives::pro_rata(paid, size, total_bytes)
	}

	/// What a contribution may claim now from a version's pool.
	pub fn claimable(
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> BalanceOf<T> {
		let (Some(record), Some(item)) =
			(Versions::<T>::get(datanet, version), Contributions::<T>::get(datanet, contribution))
		else {
			return Zero::zero();
		};
		match item.status {
			ContributionStatus::Accepted { position, .. } if position < record.contributions => {
				let pool = AccessPools::<T>::get(datanet, version);
				Self::access_share(pool.paid, item.size, record.total_bytes)
					.saturating_sub(AccessClaims::<T>::get((datanet, version, contribution)))
			},
			_ => Zero::zero(),
		}
	}

	/// The keyless account that holds the access pools. It exists from the first fee on through
	/// a provider reference, so that it holds fees without a free balance of its own.
	pub fn access_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}
}

impl<T: Config> DatanetAccess<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn published(
		datanet: DatanetId,
		version: VersionId,
	) -> Result<PublishedVersion<BalanceOf<T>>, VersionUnavailable> {
		let info = DatanetInfo::<T>::get(datanet).ok_or(VersionUnavailable::UnknownDatanet)?;
		ensure!(info.status == DatanetStatus::Open, VersionUnavailable::DatanetClosed);
		let record =
			Versions::<T>::get(datanet, version).ok_or(VersionUnavailable::UnknownVersion)?;
		Ok(PublishedVersion {
			root: record.root,
			contributions: record.contributions,
			total_bytes: record.total_bytes,
			access_fee: AccessFees::<T>::get(datanet),
		})
	}

	fn reserve_access(
		payer: &T::AccountId,
		datanet: DatanetId,
		version: VersionId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		ensure!(Versions::<T>::contains_key(datanet, version), Error::<T>::UnknownVersion);
		let account = Self::access_account();
		frame_support::storage::with_storage_layer(|| {
			if !frame_system::Pallet::<T>::account_exists(&account) {
				frame_system::Pallet::<T>::inc_providers(&account);
			}
			// A transfer, not a hold on the payer's account: it respects the payer's freezes
			// and locks, since the fee becomes the contributors' free balance.
			T::Currency::transfer_and_hold(
				&HoldReason::AccessPool.into(),
				payer,
				&account,
				amount,
				Precision::Exact,
				Preservation::Preserve,
				Fortitude::Polite,
			)?;
			AccessPools::<T>::mutate(datanet, version, |pool| {
				pool.pending = pool.pending.saturating_add(amount)
			});
			Ok(())
		})
	}

	fn settle_access(
		datanet: DatanetId,
		version: VersionId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		AccessPools::<T>::try_mutate(datanet, version, |pool| {
			pool.pending = pool.pending.checked_sub(&amount).ok_or(Error::<T>::NotReserved)?;
			pool.paid = pool.paid.saturating_add(amount);
			Self::deposit_event(Event::AccessPaid { datanet, version, amount, paid: pool.paid });
			Ok(())
		})
	}

	fn refund_access(
		payer: &T::AccountId,
		datanet: DatanetId,
		version: VersionId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		AccessPools::<T>::try_mutate(datanet, version, |pool| -> DispatchResult {
			pool.pending = pool.pending.checked_sub(&amount).ok_or(Error::<T>::NotReserved)?;
			T::Currency::transfer_on_hold(
				&HoldReason::AccessPool.into(),
				&Self::access_account(),
				payer,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)?;
			Ok(())
		})
	}

	fn access_weight() -> Weight {
		T::WeightInfo::reserve_access()
	}

	fn contribution_in_version(
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> Option<(T::AccountId, u64, u64)> {
		let record = Versions::<T>::get(datanet, version)?;
		let item = Contributions::<T>::get(datanet, contribution)?;
		match item.status {
			ContributionStatus::Accepted { position, .. } if position < record.contributions => {
				Some((item.contributor, item.size, record.total_bytes))
			},
			_ => None,
		}
	}
}
