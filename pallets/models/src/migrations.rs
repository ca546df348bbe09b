//! Storage migrations of the model registry.
//!
//! - **v0 to v1** ([`v1::MigrateV0ToV1`]): a model's provenance gains the records its training
//!   left for attribution (`Provenance::records`). Models trained before have none (`None`): their
//!   outputs cannot be traced, and the registry says so rather than inventing records. One read and
//!   one write per model, in the upgrade's block.

use crate::{Config, Pallet};

pub mod v1 {
	use super::*;
	use crate::{ModelInfo, ModelOf, Provenance};
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};

	/// The records of storage version 0.
	pub mod v0 {
		use crate::{
			BaseModelId, Description, FileRef, Hyperparameters, JobId, MaxSources, Metrics,
			ModelStatus, Name, SourceVersion,
		};
		use codec::{Decode, Encode};
		use frame_support::BoundedVec;

		#[derive(Encode, Decode, Clone, PartialEq, Debug)]
		pub struct Provenance<AccountId> {
			pub base_model: BaseModelId,
			pub job: JobId,
			pub provider: AccountId,
			pub sources: BoundedVec<SourceVersion, MaxSources>,
			pub split_seed: u64,
		}

		#[derive(Encode, Decode, Clone, PartialEq, Debug)]
		pub struct Model<AccountId, Balance, BlockNumber> {
			pub owner: AccountId,
			pub pending_owner: Option<AccountId>,
			pub name: Name,
			pub description: Description,
			pub artifact: FileRef,
			pub hyperparameters: Hyperparameters,
			pub metrics: Metrics,
			pub provenance: Provenance<AccountId>,
			pub status: ModelStatus<Balance>,
			pub deposit: Balance,
			pub created_at: BlockNumber,
		}
	}

	/// A model as storage version 0 kept it.
	pub type ModelV0<T> = v0::Model<
		<T as frame_system::Config>::AccountId,
		crate::BalanceOf<T>,
		frame_system::pallet_prelude::BlockNumberFor<T>,
	>;

	fn upgraded<T: Config>(old: ModelV0<T>) -> ModelOf<T> {
		let p = old.provenance;
		crate::Model {
			owner: old.owner,
			pending_owner: old.pending_owner,
			name: old.name,
			description: old.description,
			artifact: old.artifact,
			hyperparameters: old.hyperparameters,
			metrics: old.metrics,
			provenance: Provenance {
				base_model: p.base_model,
				job: p.job,
				provider: p.provider,
				sources: p.sources,
				split_seed: p.split_seed,
				records: None,
			},
			status: old.status,
			deposit: old.deposit,
			created_at: old.created_at,
		}
	}

	/// Rewrites every model with `records: None`; run through [`MigrateV0ToV1`] only.
	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut models = 0u64;
			ModelInfo::<T>::translate::<ModelV0<T>, _>(|_, old| {
				models = models.saturating_add(1);
				Some(upgraded::<T>(old))
			});
			T::DbWeight::get().reads_writes(models, models)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((ModelInfo::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..]).map_err(|_| "the count before")?;
			let after = ModelInfo::<T>::iter().count() as u64;
			ensure!(before == after, "every model decodes as version 1");
			Ok(())
		}
	}

	/// The v0 to v1 migration, run once: the pallet's storage version says whether it has been.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		InnerMigrateV0ToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
