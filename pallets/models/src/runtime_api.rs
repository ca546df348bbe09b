//! The runtime API through which clients read the model registry without scanning storage.
//! Clients call it over RPC with `state_call` (polkadot.js: `api.call.modelsApi.*`).

use crate::types::{BaseModel, BaseModelId, Lineage, ModelId};
use alloc::vec::Vec;
use codec::Codec;
use openledger_primitives::JobId;

sp_api::decl_runtime_apis! {
	/// Reads base models, trained models, open training requests and models' lineage.
	pub trait ModelsApi<AccountId, Model, TrainingRequest>
	where
		AccountId: Codec,
		Model: Codec,
		TrainingRequest: Codec,
	{
		/// A base model.
		fn base_model(base_model: BaseModelId) -> Option<BaseModel>;
		/// Every base model ever registered, retired ones included.
		fn base_models() -> Vec<(BaseModelId, BaseModel)>;
		/// A trained model.
		fn model(model: ModelId) -> Option<Model>;
		/// Up to `limit` models (at most 100) from id `start` on.
		fn models(start: ModelId, limit: u32) -> Vec<(ModelId, Model)>;
		/// The training request of an open job.
		fn training(job: JobId) -> Option<TrainingRequest>;
		/// A model's lineage: base model, training job and provider, and each datanet version
		/// with its Merkle root and contribution count.
		fn provenance(model: ModelId) -> Option<Lineage<AccountId>>;
	}
}
