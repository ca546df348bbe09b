//! What the inference market reads of the model registry: [`ModelRegistry`] tells whether a
//! model is offered for inference, at what price, who owns it and which datanet versions it was
//! trained on, and whether a base model can be served.

use crate::datanets::{DatanetId, VersionId};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// A base model's number, assigned in order of registration from 0.
pub type BaseModelId = u32;
/// A trained model's number, assigned in order of training from 0.
pub type ModelId = u32;

/// The most datanet versions one model was trained on.
pub type MaxModelSources = ConstU32<8>;

/// A published model, as an inference on it is paid.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ServedModel<AccountId, Balance> {
	pub owner: AccountId,
	pub base_model: BaseModelId,
	/// What the owner asks per 1,000 tokens now.
	pub price_per_1k_tokens: Balance,
	/// The share of the model's part of each fee that goes to the contributors of its data.
	pub contributor_share: Perbill,
	/// The datanet versions it was trained on, each with its size in bytes.
	pub sources: BoundedVec<(DatanetId, VersionId, u64), MaxModelSources>,
}

/// Why a model cannot be paid for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelUnavailable {
	UnknownModel,
	/// Trained, never published.
	NotPublished,
	Retired,
}

/// Reads the model registry.
pub trait ModelRegistry<AccountId, Balance> {
	/// A model offered for inference now.
	fn served(model: ModelId) -> Result<ServedModel<AccountId, Balance>, ModelUnavailable>;

	/// Whether a base model is registered (retired or not: a retired base model takes no new
	/// training, but the models trained on it are still served).
	fn base_model_registered(base_model: BaseModelId) -> bool;
}
