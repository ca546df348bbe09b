//! Prepaid funds: deposits held on the user's account, and withdrawals in two steps.

use crate::*;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_deposit(
		who: T::AccountId,
		provider: T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		// Only funds the account may spend: a hold may take frozen funds (a vesting or voting
		// lock), which settlements could then not pay with.
		ensure!(
			amount
				<= T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite),
			Error::<T>::FundsUnavailable
		);
		T::Currency::hold(&HoldReason::Prepaid.into(), &who, amount)?;
		let held = PrepaidFunds::<T>::mutate(&who, &provider, |funds| {
			let funds = funds.get_or_insert_with(Default::default);
			funds.held = funds.held.saturating_add(amount);
			funds.held
		});
		Self::deposit_event(Event::Deposited { user: who, provider, amount, held });
		Ok(())
	}

	pub(crate) fn do_request_withdrawal(
		who: T::AccountId,
		provider: T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut funds =
			PrepaidFunds::<T>::get(&who, &provider).ok_or(Error::<T>::NoPrepaidFunds)?;
		ensure!(amount <= funds.held, Error::<T>::WithdrawalAboveFunds);
		let due =
			frame_system::Pallet::<T>::block_number().saturating_add(T::WithdrawalDelay::get());
		funds.withdrawal = Some(Withdrawal { amount, due });
		PrepaidFunds::<T>::insert(&who, &provider, funds);
		Self::deposit_event(Event::WithdrawalRequested { user: who, provider, amount, due });
		Ok(())
	}

	pub(crate) fn do_withdraw(who: T::AccountId, provider: T::AccountId) -> DispatchResult {
		let mut funds =
			PrepaidFunds::<T>::get(&who, &provider).ok_or(Error::<T>::NoPrepaidFunds)?;
		let withdrawal = funds.withdrawal.ok_or(Error::<T>::NoWithdrawal)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() >= withdrawal.due,
			Error::<T>::WithdrawalNotDue
		);
		// Settlements may have taken part of it since the request.
		let amount = withdrawal.amount.min(funds.held);
		T::Currency::release(&HoldReason::Prepaid.into(), &who, amount, Precision::Exact)?;
		funds.held = funds.held.saturating_sub(amount);
		funds.withdrawal = None;
		if funds.held.is_zero() {
			PrepaidFunds::<T>::remove(&who, &provider);
		} else {
			PrepaidFunds::<T>::insert(&who, &provider, funds);
		}
		Self::deposit_event(Event::Withdrawn { user: who, provider, amount });
		Ok(())
	}

	/// What a user's prepaid funds with `provider` leave for new inferences there: what is
	/// held, less a pending withdrawal.
	pub fn available(who: &T::AccountId, provider: &T::AccountId) -> BalanceOf<T> {
		PrepaidFunds::<T>::get(who, provider).map_or_else(Zero::zero, |funds| {
			funds
				.held
				.saturating_sub(funds.withdrawal.map_or_else(Zero::zero, |w| w.amount))
		})
	}
}
