//! Base models: registered and retired by governance.

use crate::*;
use frame_support::pallet_prelude::*;

impl<T: Config> Pallet<T> {
	/// Registers a base model under the next id.
	pub(crate) fn do_register_base_model(input: BaseModelInput) -> DispatchResult {
		ensure!(!input.name.is_empty(), Error::<T>::EmptyName);
		let name: Name = input.name.try_into().map_err(|_| Error::<T>::NameTooLong)?;
		ensure!(!input.licence.is_empty(), Error::<T>::EmptyLicence);
		let licence = input.licence.try_into().map_err(|_| Error::<T>::LicenceTooLong)?;
		ensure!(
			input.weights.length > 0 && input.parameters > 0 && input.context_length > 0,
			Error::<T>::EmptyBaseModel
		);
		let id = NextBaseModelId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
		BaseModels::<T>::insert(
			id,
			BaseModel {
				name,
				architecture: input.architecture,
				parameters: input.parameters,
				context_length: input.context_length,
				weights: input.weights,
				tokenizer: input.tokenizer,
				licence,
				status: BaseModelStatus::Active,
			},
		);
		NextBaseModelId::<T>::put(next);
		Self::deposit_event(Event::BaseModelRegistered {
			base_model: id,
			architecture: input.architecture,
			weights: input.weights.content_hash,
		});
		Ok(())
	}

	/// Retires a base model.
	pub(crate) fn do_retire_base_model(base_model: BaseModelId) -> DispatchResult {
		BaseModels::<T>::try_mutate(base_model, |record| {
			let record = record.as_mut().ok_or(Error::<T>::UnknownBaseModel)?;
			ensure!(record.status == BaseModelStatus::Active, Error::<T>::BaseModelRetired);
			record.status = BaseModelStatus::Retired;
			Self::deposit_event(Event::BaseModelRetired { base_model });
			Ok(())
		})
	}
}
