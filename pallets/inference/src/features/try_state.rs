//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::*;
use frame_support::{pallet_prelude::*, traits::fungible::InspectHold};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants:
	/// - what is held from each user as prepaid equals its records' sum, and a record holds
	///   funds;
	/// - what the pallet's account holds as owed is every reward and every pool's unclaimed
	///   payments (rounding's dust included), and nothing it holds is prepaid;
	/// - every remembered key is to be forgotten, and each pool's claims are at most its
	///   payments.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut held: alloc::collections::BTreeMap<T::AccountId, BalanceOf<T>> = Default::default();
		for (user, _, funds) in PrepaidFunds::<T>::iter() {
			// A pending withdrawal may ask for more than settlements left: it releases what is.
			ensure!(!funds.held.is_zero(), "an empty prepaid record");
			let total = held.entry(user).or_default();
			*total = total.saturating_add(funds.held);
		}
		for (user, total) in held {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::Prepaid.into(), &user) == total,
				"prepaid funds held differ from their records"
			);
		}
		let mut owed = BalanceOf::<T>::zero();
		for (_, amount) in Rewards::<T>::iter() {
			owed = owed.saturating_add(amount);
		}
		for (_, _, pool) in ContributorPools::<T>::iter() {
			ensure!(pool.claimed <= pool.paid, "a pool's claims above its payments");
			owed = owed.saturating_add(pool.paid.saturating_sub(pool.claimed));
		}
		let account = Self::account();
		ensure!(
			T::Currency::balance_on_hold(&HoldReason::Owed.into(), &account) == owed,
			"what is held as owed differs from the rewards and pools owed"
		);
		ensure!(
			T::Currency::balance_on_hold(&HoldReason::Prepaid.into(), &account).is_zero(),
			"prepaid funds left on the pallet's account"
		);
		let expiries = Expiries::<T>::iter_keys()
			.map(|(_, id)| id)
			.collect::<alloc::collections::BTreeSet<_>>();
		ensure!(
			Keys::<T>::iter_keys().all(|id| expiries.contains(&id)),
			"a remembered key that is never forgotten"
		);
		Ok(())
	}
}
