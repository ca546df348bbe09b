//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::*;
use frame_support::pallet_prelude::*;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants:
	/// - ids are below their counters, and every model's and request's base model exists;
	/// - a request's access fees pair with its sources;
	/// - what is held from each account for model deposits equals its models' and open
	///   requests' deposits.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next_base = NextBaseModelId::<T>::get();
		ensure!(
			BaseModels::<T>::iter_keys().all(|id| id < next_base),
			"base model id at or above NextBaseModelId"
		);
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let next = NextModelId::<T>::get();
		for (id, model) in ModelInfo::<T>::iter() {
			ensure!(id < next, "model id at or above NextModelId");
			ensure!(
				BaseModels::<T>::contains_key(model.provenance.base_model),
				"a model of an unknown base model"
			);
			let entry = deposits.entry(model.owner).or_default();
			*entry = entry.saturating_add(model.deposit);
		}
		for (_, request) in TrainingRequests::<T>::iter() {
			ensure!(
				BaseModels::<T>::contains_key(request.base_model),
				"a request for an unknown base model"
			);
			ensure!(
				request.access_fees.len() == request.sources.len(),
				"a request's fees do not pair with its sources"
			);
			let entry = deposits.entry(request.requester).or_default();
			*entry = entry.saturating_add(request.deposit);
		}
		for (who, held) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &who) == held,
				"model deposits held differ from the records"
			);
		}
		Ok(())
	}
}
