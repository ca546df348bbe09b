//! Serving offers: the base models a provider serves and its price per 1,000 tokens for each.

use crate::*;
use frame_support::pallet_prelude::*;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_set_offer(
		who: T::AccountId,
		base_model: BaseModelId,
		price_per_1k_tokens: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(T::Providers::is_active_provider(&who), Error::<T>::NotProvider);
		ensure!(T::Models::base_model_registered(base_model), Error::<T>::UnknownBaseModel);
		let mut offers = Offers::<T>::get(&who).unwrap_or_default();
		match offers.iter_mut().find(|(base, _)| *base == base_model) {
			Some(offer) => offer.1 = price_per_1k_tokens,
			None => offers
				.try_push((base_model, price_per_1k_tokens))
				.map_err(|_| Error::<T>::TooManyOffers)?,
		}
		Offers::<T>::insert(&who, offers);
		Self::deposit_event(Event::OfferSet { provider: who, base_model, price_per_1k_tokens });
		Ok(())
	}

	pub(crate) fn do_withdraw_offer(who: T::AccountId, base_model: BaseModelId) -> DispatchResult {
		let mut offers = Offers::<T>::get(&who).ok_or(Error::<T>::NoSuchOffer)?;
		let before = offers.len();
		offers.retain(|(base, _)| *base != base_model);
		ensure!(offers.len() < before, Error::<T>::NoSuchOffer);
		if offers.is_empty() {
			Offers::<T>::remove(&who);
		} else {
			Offers::<T>::insert(&who, offers);
		}
		Self::deposit_event(Event::OfferWithdrawn { provider: who, base_model });
		Ok(())
	}

	/// A provider's serving price for a base model, if it offers it.
	pub fn serving_price(provider: &T::AccountId, base_model: BaseModelId) -> Option<BalanceOf<T>> {
		Offers::<T>::get(provider)?
			.into_iter()
			.find_map(|(base, price)| (base == base_model).then_some(price))
	}
}
