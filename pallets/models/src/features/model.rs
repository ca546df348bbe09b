//! Trained models: publishing, pricing, retiring, removing drafts, passing ownership.

use crate::*;
use frame_support::{
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use sp_runtime::Perbill;

impl<T: Config> Pallet<T> {
	/// A model the caller owns.
	fn owned(model: ModelId, who: &T::AccountId) -> Result<ModelOf<T>, DispatchError> {
		let record = ModelInfo::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(&record.owner == who, Error::<T>::NotOwner);
		Ok(record)
	}

	/// Publishes a model, or changes its price and share.
	pub(crate) fn do_publish(
		who: T::AccountId,
		model: ModelId,
		price_per_1k_tokens: BalanceOf<T>,
		contributor_share: Perbill,
	) -> DispatchResult {
		let mut record = Self::owned(model, &who)?;
		ensure!(record.status != ModelStatus::Retired, Error::<T>::ModelRetired);
		ensure!(contributor_share >= T::MinContributorShare::get(), Error::<T>::ShareBelowMinimum);
		record.status = ModelStatus::Published { price_per_1k_tokens, contributor_share };
		ModelInfo::<T>::insert(model, record);
		Self::deposit_event(Event::ModelPublished {
			model,
			price_per_1k_tokens,
			contributor_share,
		});
		Ok(())
	}

	/// Retires a model; its record and deposit stay.
	pub(crate) fn do_retire(who: T::AccountId, model: ModelId) -> DispatchResult {
		let mut record = Self::owned(model, &who)?;
		ensure!(record.status != ModelStatus::Retired, Error::<T>::ModelRetired);
		record.status = ModelStatus::Retired;
		ModelInfo::<T>::insert(model, record);
		Self::deposit_event(Event::ModelRetired { model });
		Ok(())
	}

	/// Removes a draft model and releases its deposit.
	pub(crate) fn do_remove(who: T::AccountId, model: ModelId) -> DispatchResult {
		let record = Self::owned(model, &who)?;
		ensure!(record.status == ModelStatus::Draft, Error::<T>::NotDraft);
		T::Currency::release(
			&HoldReason::ModelDeposit.into(),
			&who,
			record.deposit,
			Precision::Exact,
		)?;
		ModelInfo::<T>::remove(model);
		Self::deposit_event(Event::ModelRemoved { model, deposit: record.deposit });
		Ok(())
	}

	/// Offers a model to another account, or withdraws the offer.
	pub(crate) fn do_offer_ownership(
		who: T::AccountId,
		model: ModelId,
		to: Option<T::AccountId>,
	) -> DispatchResult {
		let mut record = Self::owned(model, &who)?;
		record.pending_owner = to.clone();
		ModelInfo::<T>::insert(model, record);
		Self::deposit_event(Event::ModelOwnershipOffered { model, to });
		Ok(())
	}

	/// The account offered a model takes it, and its deposit.
	pub(crate) fn do_accept_ownership(who: T::AccountId, model: ModelId) -> DispatchResult {
		let mut record = ModelInfo::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(record.pending_owner.as_ref() == Some(&who), Error::<T>::NotOfferedOwnership);
		let reason = HoldReason::ModelDeposit.into();
		T::Currency::hold(&reason, &who, record.deposit)?;
		T::Currency::release(&reason, &record.owner, record.deposit, Precision::Exact)?;
		let from = core::mem::replace(&mut record.owner, who.clone());
		record.pending_owner = None;
		ModelInfo::<T>::insert(model, record);
		Self::deposit_event(Event::ModelOwnershipTransferred { model, from, to: who });
		Ok(())
	}

	/// A model's lineage: its base model, training job and provider, and datanet versions.
	pub fn lineage(model: ModelId) -> Option<Lineage<T::AccountId>> {
		let record = ModelInfo::<T>::get(model)?;
		let provenance = record.provenance;
		Some(Lineage {
			model,
			owner: record.owner,
			artifact: record.artifact,
			base_model: provenance.base_model,
			base: BaseModels::<T>::get(provenance.base_model)?,
			job: provenance.job,
			provider: provenance.provider,
			sources: provenance.sources.into_inner(),
			split_seed: provenance.split_seed,
			records: provenance.records,
		})
	}

	/// Up to `limit` (at most 100) models from id `start` on, skipping removed ones.
	pub fn models_page(start: ModelId, limit: u32) -> alloc::vec::Vec<(ModelId, ModelOf<T>)> {
		let end = start.saturating_add(limit.min(100)).min(NextModelId::<T>::get());
		(start..end).filter_map(|id| ModelInfo::<T>::get(id).map(|m| (id, m))).collect()
	}
}

impl<T: Config> ModelRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn served(model: ModelId) -> Result<ServedModel<T::AccountId, BalanceOf<T>>, ModelUnavailable> {
		let record = ModelInfo::<T>::get(model).ok_or(ModelUnavailable::UnknownModel)?;
		match record.status {
			ModelStatus::Published { price_per_1k_tokens, contributor_share } => {
				let sources = record
					.provenance
					.sources
					.iter()
					.map(|s| (s.datanet, s.version, s.total_bytes))
					.collect::<alloc::vec::Vec<_>>();
				Ok(ServedModel {
					owner: record.owner,
					base_model: record.provenance.base_model,
					price_per_1k_tokens,
					contributor_share,
					// As many sources as the provenance holds, which has the same bound.
					sources: BoundedVec::truncate_from(sources),
				})
			},
			ModelStatus::Draft => Err(ModelUnavailable::NotPublished),
			ModelStatus::Retired => Err(ModelUnavailable::Retired),
		}
	}

	fn base_model_registered(base_model: BaseModelId) -> bool {
		BaseModels::<T>::contains_key(base_model)
	}
}
