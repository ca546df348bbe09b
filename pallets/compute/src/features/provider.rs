//! Providers: registration with a bond, the lists of each job kind they are listed in and what a
//! slot costs, pausing, leaving, and the slash of a missed deadline.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Registers the caller as a provider and holds `bond` (at least [`Config::MinBond`]).
	/// It is active at once, listed under every kind it offers, for each of which it pays
	/// the [listing fee](Pallet::listing_fee) from its free balance.
	pub(crate) fn do_register(
		who: T::AccountId,
		input: ProviderInputOf<T>,
		bond: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!Providers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		let (endpoint, offers) = Self::bound_input(&input)?;
		T::Currency::hold(&HoldReason::ProviderBond.into(), &who, bond)?;
		let provider = Provider {
			bond,
			endpoint,
			hardware: input.hardware,
			concurrency: input.concurrency,
			offers,
			status: ProviderStatus::Active,
			jobs: 0,
			reliability: Reliability::default(),
			registered_at: frame_system::Pallet::<T>::block_number(),
			slashed_at: None,
		};
		Self::activate(&who, &provider)?;
		Providers::<T>::insert(&who, provider);
		Self::deposit_event(Event::ProviderRegistered { provider: who, bond });
		Ok(())
	}

	/// Replaces the caller's endpoint, hardware, concurrency and offers. Open jobs keep the
	/// price they were assigned at. An active provider keeps its slot, with the new price and
	/// hardware, in the lists of the kinds it still offers, leaves the others, and pays the
	/// listing fee for the kinds it adds.
	pub(crate) fn do_update(who: T::AccountId, input: ProviderInputOf<T>) -> DispatchResult {
		let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let (endpoint, offers) = Self::bound_input(&input)?;
		let active = provider.status == ProviderStatus::Active;
		let old = core::mem::replace(&mut provider.offers, offers);
		provider.endpoint = endpoint;
		provider.hardware = input.hardware;
		provider.concurrency = input.concurrency;
		if active {
			Self::relist(&who, &old, &provider)?;
		}
		Providers::<T>::insert(&who, provider);
		Self::deposit_event(Event::ProviderUpdated { provider: who });
		Ok(())
	}

	/// Holds `amount` more as the caller's bond, for example to get back above the minimum
	/// after a slash.
	pub(crate) fn do_bond_extra(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		T::Currency::hold(&HoldReason::ProviderBond.into(), &who, amount)?;
		provider.bond = provider.bond.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		let bond = provider.bond;
		Providers::<T>::insert(&who, provider);
		Self::deposit_event(Event::BondIncreased { provider: who, bond });
		Ok(())
	}

	/// Stops the caller getting new jobs; it finishes those it has.
	pub(crate) fn do_pause(who: T::AccountId) -> DispatchResult {
		let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(provider.status == ProviderStatus::Active, Error::<T>::NotActive);
		Self::deactivate(&who, &provider);
		provider.status = ProviderStatus::Paused;
		Providers::<T>::insert(&who, provider);
		Self::deposit_event(Event::ProviderPaused { provider: who });
		Ok(())
	}

	/// Makes a paused provider active again; its bond must be at least [`Config::MinBond`].
	/// It takes its slots again, paying the listing fee for each.
	pub(crate) fn do_resume(who: T::AccountId) -> DispatchResult {
		let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(provider.status == ProviderStatus::Paused, Error::<T>::NotPaused);
		ensure!(provider.bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		provider.status = ProviderStatus::Active;
		Self::activate(&who, &provider)?;
		Providers::<T>::insert(&who, provider);
		Self::deposit_event(Event::ProviderResumed { provider: who });
		Ok(())
	}

	/// Starts the caller's unbonding: it gets no new jobs, and may withdraw its bond after
	/// [`Config::UnbondingPeriod`] blocks once its open jobs ended.
	pub(crate) fn do_leave(who: T::AccountId) -> DispatchResult {
		let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		match provider.status {
			ProviderStatus::Leaving { .. } => return Err(Error::<T>::AlreadyLeaving.into()),
			ProviderStatus::Active => Self::deactivate(&who, &provider),
			ProviderStatus::Paused => {},
		}
		let unbonds_at =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		provider.status = ProviderStatus::Leaving { unbonds_at };
		Providers::<T>::insert(&who, provider);
		Self::deposit_event(Event::ProviderLeaving { provider: who, unbonds_at });
		Ok(())
	}

	/// Releases a leaving provider's bond once the unbonding period is over and it has no
	/// open job, and removes its record.
	pub(crate) fn do_withdraw_bond(who: T::AccountId) -> DispatchResult {
		let provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let ProviderStatus::Leaving { unbonds_at } = provider.status else {
			return Err(Error::<T>::NotLeaving.into());
		};
		ensure!(
			frame_system::Pallet::<T>::block_number() >= unbonds_at,
			Error::<T>::StillUnbonding
		);
		ensure!(provider.jobs == 0, Error::<T>::HasJobs);
		T::Currency::release(
			&HoldReason::ProviderBond.into(),
			&who,
			provider.bond,
			Precision::BestEffort,
		)?;
		Providers::<T>::remove(&who);
		Self::deposit_event(Event::ProviderLeft { provider: who, bond: provider.bond });
		Ok(())
	}

	/// Checks a call's provider declaration and converts it for storage.
	pub(crate) fn bound_input(
		input: &ProviderInputOf<T>,
	) -> Result<(EndpointOf<T>, OffersOf<T>), Error<T>> {
		let endpoint: EndpointOf<T> =
			input.endpoint.clone().try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
		ensure!(is_http_url(&input.endpoint), Error::<T>::BadEndpoint);
		ensure!(input.concurrency > 0, Error::<T>::ZeroConcurrency);
		ensure!(!input.offers.is_empty(), Error::<T>::NoOffers);
		// Bounded before it is sorted: the call's weight covers `MaxOffers` offers only.
		let offers: BoundedVec<_, T::MaxOffers> =
			input.offers.clone().try_into().map_err(|_| Error::<T>::TooManyOffers)?;
		let mut kinds: Vec<JobKind> = offers.iter().map(|o| o.kind).collect();
		kinds.sort();
		kinds.dedup();
		ensure!(kinds.len() == offers.len(), Error::<T>::DuplicateOffer);
		Ok((endpoint, offers))
	}

	/// What a slot in a kind's list costs when `listed` providers are in it already:
	/// [`Config::ListingFee`] doubled for every eighth of [`Config::MaxProvidersPerKind`]
	/// taken, so 1x for the first eighth and 128x for the last.
	pub fn listing_fee(listed: u32) -> BalanceOf<T> {
		let eighths = listed
			.saturating_mul(8)
			.checked_div(T::MaxProvidersPerKind::get())
			.unwrap_or(0)
			.min(7);
		let factor: BalanceOf<T> = (1u32 << eighths).into();
		T::ListingFee::get().saturating_mul(factor)
	}

	/// Lists an active provider under each kind it offers, with its price and hardware,
	/// charging the listing fee for each slot it takes.
	pub(crate) fn activate(who: &T::AccountId, provider: &ProviderOf<T>) -> DispatchResult {
		for offer in &provider.offers {
			Self::list(who, offer, provider.hardware)?;
		}
		Ok(())
	}

	/// Takes a slot for `who` in the list of `offer`'s kind, charging the listing fee, or
	/// updates its price and hardware if it has one.
	pub(crate) fn list(
		who: &T::AccountId,
		offer: &Offer<BalanceOf<T>>,
		hardware: Hardware,
	) -> DispatchResult {
		ProvidersByKind::<T>::try_mutate(offer.kind, |list| {
			if let Some(listing) = list.iter_mut().find(|l| &l.provider == who) {
				listing.price = offer.price;
				listing.hardware = hardware;
				return Ok(());
			}
			let fee = Self::listing_fee(list.len() as u32);
			let listing = Listing { provider: who.clone(), price: offer.price, hardware };
			list.try_push(listing).map_err(|_| Error::<T>::TooManyProviders)?;
			if !fee.is_zero() {
				T::Currency::transfer(
					who,
					&T::SlashBeneficiary::get(),
					fee,
					Preservation::Preserve,
				)?;
			}
			Self::deposit_event(Event::Listed { provider: who.clone(), kind: offer.kind, fee });
			Ok(())
		})
	}

	/// Brings an active provider's listings from the kinds of `old` offers to its current
	/// ones: slots of kinds still offered are kept (and updated), others are left, and new
	/// kinds are listed for the fee.
	pub(crate) fn relist(
		who: &T::AccountId,
		old: &OffersOf<T>,
		provider: &ProviderOf<T>,
	) -> DispatchResult {
		for gone in old.iter().filter(|o| !provider.offers.iter().any(|n| n.kind == o.kind)) {
			ProvidersByKind::<T>::mutate(gone.kind, |list| list.retain(|l| &l.provider != who));
		}
		Self::activate(who, provider)
	}

	/// Takes a provider off the lists of the kinds it offers.
	pub(crate) fn deactivate(who: &T::AccountId, provider: &ProviderOf<T>) {
		for offer in &provider.offers {
			ProvidersByKind::<T>::mutate(offer.kind, |list| list.retain(|l| &l.provider != who));
		}
	}

	/// Sends [`Config::TimeoutSlash`] of a provider's bond to the beneficiary; pauses it if
	/// what is left is below the minimum.
	///
	/// A provider is slashed at most once per [`Config::SlashCooldown`]: an outage makes all
	/// of a provider's open jobs miss their deadlines at about the same time, and should cost
	/// it one slash, not its whole bond. Every miss still counts in its reliability, and the
	/// first one pauses a provider left below the minimum bond, so it gets no new jobs.
	pub(crate) fn slash(who: &T::AccountId, job: JobId) {
		let Some(mut provider) = Providers::<T>::get(who) else { return };
		let now = frame_system::Pallet::<T>::block_number();
		if provider
			.slashed_at
			.is_some_and(|at| now < at.saturating_add(T::SlashCooldown::get()))
		{
			return;
		}
		provider.slashed_at = Some(now);
		let share = T::TimeoutSlash::get().mul_floor(provider.bond);
		let amount = if share.is_zero() {
			Zero::zero()
		} else {
			T::Currency::transfer_on_hold(
				&HoldReason::ProviderBond.into(),
				who,
				&T::SlashBeneficiary::get(),
				share,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|_| Zero::zero())
		};
		provider.bond = provider.bond.saturating_sub(amount);
		let bond = provider.bond;
		if provider.status == ProviderStatus::Active && bond < T::MinBond::get() {
			Self::deactivate(who, &provider);
			provider.status = ProviderStatus::Paused;
			Self::deposit_event(Event::ProviderPaused { provider: who.clone() });
		}
		Providers::<T>::insert(who, provider);
		Self::deposit_event(Event::ProviderSlashed { provider: who.clone(), job, amount, bond });
	}
}
