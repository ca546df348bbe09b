//! The records the pallet keeps, the inputs its calls take, and what a training job carries to
//! its provider and back.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
pub use openledger_primitives::{BaseModelId, ModelId};
use openledger_primitives::{DatanetId, JobId, VersionId};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::{Perbill, Permill};

/// The longest name of a model or base model, in bytes.
pub type MaxNameLength = ConstU32<64>;
/// The longest description of a model, in bytes.
pub type MaxDescriptionLength = ConstU32<512>;
/// The longest licence of a base model, in bytes.
pub type MaxLicenceLength = ConstU32<64>;
/// The most datanet versions one training job uses.
pub type MaxSources = ConstU32<8>;
/// The most modules a LoRA adapter targets: every projection of a block.
pub type MaxTargets = ConstU32<7>;

/// A name as stored.
pub type Name = BoundedVec<u8, MaxNameLength>;
/// A description as stored.
pub type Description = BoundedVec<u8, MaxDescriptionLength>;

/// How a base model computes, which decides how providers load and train it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Architecture {
	/// OpenLedger's small decoder-only transformer over bytes (no tokenizer file).
	TinyByteGpt,
	/// The llama family (SmolLM2 and its kin), loaded from a GGUF file.
	Llama,
}

/// A file as providers' blob stores serve it: `GET /v1/blobs/0x{hash}`.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct FileRef {
	/// The blake2-256 hash of its bytes.
	pub content_hash: H256,
	/// Its size in bytes. (Not `hash` and `size`: polkadot.js objects have properties of those
	/// names, which would hide the fields.)
	pub length: u64,
}

/// A base model as governance registers it.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct BaseModelInput {
	/// UTF-8, not empty, e.g. `SmolLM2-135M-Instruct`.
	pub name: alloc::vec::Vec<u8>,
	pub architecture: Architecture,
	/// The number of weights.
	pub parameters: u64,
	/// The longest input, in tokens.
	pub context_length: u32,
	pub weights: FileRef,
	/// The tokenizer file; none for a model over bytes, or one whose weights file carries it.
	pub tokenizer: Option<FileRef>,
	/// An SPDX identifier such as `Apache-2.0`.
	pub licence: alloc::vec::Vec<u8>,
}

/// Whether a base model can be trained on.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum BaseModelStatus {
	Active,
	/// Takes no new training jobs; the models trained on it stay.
	Retired,
}

/// A registered base model.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct BaseModel {
	pub name: Name,
	pub architecture: Architecture,
	pub parameters: u64,
	pub context_length: u32,
	pub weights: FileRef,
	pub tokenizer: Option<FileRef>,
	pub licence: BoundedVec<u8, MaxLicenceLength>,
	pub status: BaseModelStatus,
}

/// A projection of a transformer block that a LoRA adapter may target, named in PEFT's way by
/// [`TargetModule::peft_name`].
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum TargetModule {
	Query,
	Key,
	Value,
	Output,
	/// The gate of a gated feed-forward layer (llama has one, `tiny-byte-gpt` not).
	Gate,
	Up,
	Down,
}

impl TargetModule {
	/// The module's name in Hugging Face models and PEFT adapters.
	pub fn peft_name(self) -> &'static str {
		match self {
			TargetModule::Query => "q_proj",
			TargetModule::Key => "k_proj",
			TargetModule::Value => "v_proj",
			TargetModule::Output => "o_proj",
			TargetModule::Gate => "gate_proj",
			TargetModule::Up => "up_proj",
			TargetModule::Down => "down_proj",
		}
	}
}

/// What training changes.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Method {
	/// A LoRA adapter of `rank` (1 to 64) with scale `alpha / rank` on `targets`; the base model
	/// stays frozen. The artifact is the adapter, in PEFT's format.
	Lora { rank: u32, alpha: u32, targets: BoundedVec<TargetModule, MaxTargets> },
	/// Every weight (`tiny-byte-gpt` only). The artifact is the whole model.
	Full,
}

/// How to train, each field within the bounds [`crate::Pallet::train`] checks.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Hyperparameters {
	pub method: Method,
	/// Passes over the training split, 1 to 100; training stops after `max_steps` at the latest.
	pub epochs: u32,
	/// The most optimizer steps, 1 to 100,000.
	pub max_steps: u32,
	/// The peak learning rate in millionths (1,000 is 0.001), 1 to 100,000.
	pub learning_rate: u32,
	/// Steps of linear warm-up, at most `max_steps`.
	pub warmup_steps: u32,
	/// Sequences per step, 1 to 256.
	pub batch_size: u32,
	/// Tokens per sequence, 8 up to the base model's context length.
	pub sequence_length: u32,
	/// The share of contributions held out for evaluation, more than zero and at most half.
	pub eval_fraction: Permill,
	/// Seeds the held-out split, the initial adapter and the batches.
	pub seed: u64,
}

/// A datanet version as a training job uses it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SourceVersion {
	pub datanet: DatanetId,
	pub version: VersionId,
	/// The version's Merkle root over its contributions' content hashes.
	pub root: H256,
	pub contributions: u32,
	pub total_bytes: u64,
}

/// What a training job asks its provider: the job's payload, SCALE-encoded.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct TrainingSpec {
	pub base_model: BaseModelId,
	pub architecture: Architecture,
	pub context_length: u32,
	pub weights: FileRef,
	pub tokenizer: Option<FileRef>,
	pub sources: BoundedVec<SourceVersion, MaxSources>,
	pub hyperparameters: Hyperparameters,
}

/// What a training run measured. Losses are mean next-token cross-entropies in millionths of a
/// nat (2,500,000 is 2.5).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Metrics {
	/// The loss of the first training step.
	pub train_loss_first: u32,
	/// The loss of the last training step.
	pub train_loss_last: u32,
	/// The base model's loss on the held-out split.
	pub eval_loss_base: u32,
	/// The trained model's loss on the held-out split.
	pub eval_loss_trained: u32,
	/// Tokens the training steps took in.
	pub tokens: u64,
	pub steps: u32,
	/// Milliseconds the run took, loading included.
	pub wall_time_ms: u64,
}

/// Exactly which data a run trained on: each version with its Merkle root, in the order the job
/// named them, and the seed that split off the held-out contributions.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct TrainingSetCommitment {
	pub versions: BoundedVec<(DatanetId, VersionId, H256), MaxSources>,
	pub split_seed: u64,
}

/// What a training run leaves so that its model's outputs can be traced to their data, each file
/// content-addressed in the training provider's blob store (Proof of Attribution; the formats are
/// `openledger-attribution`'s).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct TrainingRecords {
	/// The manifest: exactly the contributions trained on, each with its content hash, its
	/// token count and its offset in the training stream, and apart from them those held out
	/// and those skipped (slashed, not text, unreadable), with why.
	pub manifest: FileRef,
	/// The Merkle root (the datanets' tree) over the trained contributions' leaves, in the
	/// manifest's order: a contribution's membership of the trained set is provable from it.
	pub trained_root: H256,
	/// How many contributions were trained on.
	pub trained: u32,
	/// The corpus index: the trained contributions' tokens under the model's tokenizer, a suffix
	/// array over them and the table from positions to contributions.
	pub corpus_index: FileRef,
	/// Each trained contribution's loss gradient at the final weights, randomly projected: for
	/// models small enough to compute them for.
	pub features: Option<FileRef>,
}

/// What a provider posts for a training job: the job's result, SCALE-encoded.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct TrainingResult {
	/// The adapter (`adapter_model.safetensors`) or, for full training, the weights
	/// (`model.safetensors`), as the provider's blob store serves it.
	pub artifact: FileRef,
	pub metrics: Metrics,
	pub training_set: TrainingSetCommitment,
	pub records: TrainingRecords,
}

/// A training job waiting for its result.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct TrainingRequest<AccountId, Balance, BlockNumber> {
	pub requester: AccountId,
	pub base_model: BaseModelId,
	pub sources: BoundedVec<SourceVersion, MaxSources>,
	/// The access fee reserved for each source, in the same order.
	pub access_fees: BoundedVec<Balance, MaxSources>,
	pub hyperparameters: Hyperparameters,
	pub name: Name,
	pub description: Description,
	/// Held from the requester for the model's record.
	pub deposit: Balance,
	pub max_fee: Balance,
	pub requested_at: BlockNumber,
}

/// Where a model came from.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Provenance<AccountId> {
	pub base_model: BaseModelId,
	/// The training job, and the provider that ran it.
	pub job: JobId,
	pub provider: AccountId,
	/// The datanet versions it was trained on.
	pub sources: BoundedVec<SourceVersion, MaxSources>,
	/// The seed of the held-out split.
	pub split_seed: u64,
	/// What training recorded for attribution; `None` for models trained before it was
	/// recorded (storage version 0).
	pub records: Option<TrainingRecords>,
}

/// Whether a model is served.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ModelStatus<Balance> {
	/// Trained, not offered for inference.
	Draft,
	/// Offered for inference at `price_per_1k_tokens`, of which `contributor_share` goes to the
	/// contributors of its data.
	Published { price_per_1k_tokens: Balance, contributor_share: Perbill },
	/// No longer offered; its record stays for the inferences it served.
	Retired,
}

/// A trained model.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Model<AccountId, Balance, BlockNumber> {
	pub owner: AccountId,
	/// The account the owner offered the model to, until it accepts.
	pub pending_owner: Option<AccountId>,
	pub name: Name,
	pub description: Description,
	/// The adapter or weights, by hash.
	pub artifact: FileRef,
	pub hyperparameters: Hyperparameters,
	pub metrics: Metrics,
	pub provenance: Provenance<AccountId>,
	pub status: ModelStatus<Balance>,
	/// Held from the owner for the record.
	pub deposit: Balance,
	pub created_at: BlockNumber,
}

/// A model's lineage as the runtime API returns it: base model, training job and provider, and
/// each datanet version with its root and contribution count.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct Lineage<AccountId> {
	pub model: ModelId,
	pub owner: AccountId,
	pub artifact: FileRef,
	pub base_model: BaseModelId,
	pub base: BaseModel,
	pub job: JobId,
	pub provider: AccountId,
	pub sources: alloc::vec::Vec<SourceVersion>,
	pub split_seed: u64,
	pub records: Option<TrainingRecords>,
}
