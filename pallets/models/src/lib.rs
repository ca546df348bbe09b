//! # Models pallet (ModelFactory)
//!
//! Models trained on datanet versions through the compute job market, and the registry that
//! records each with its whole lineage, so that every later inference can pay back the people
//! whose data made it.
//!
//! ## Overview
//!
//! **Base models** are registered by governance ([`Config::RegisterOrigin`]): a name, an
//! [`Architecture`], the parameter count and context length, the blake2-256 hashes and sizes of the
//! weights and tokenizer files that providers serve, and a licence. Only active base models can be
//! trained on; governance may retire one.
//!
//! A model builder asks for **training** with [`Pallet::train`]: a base model, one to eight
//! published `(datanet, version)` pairs, [`Hyperparameters`] (LoRA or, for `tiny-byte-gpt`, full
//! training; steps, learning rate, batch, sequence length, the held-out fraction and a seed), each
//! checked against its bounds, and the most the job may cost. The call
//! - holds the model record's deposit ([`Config::ModelDepositBase`] plus
//!   [`Config::ModelDepositPerByte`] of name and description) from the builder;
//! - reserves each source datanet's **access fee** into that version's contributor pool (see
//!   [`DatanetAccess`]): settled for the contributors when the job delivers, refunded when it is
//!   abandoned;
//! - creates a `Training` job through [`JobMarket`] whose fee, what `max_fee` leaves after the
//!   access fees, waits in the market's escrow: a datanet owner who raises its access fee while
//!   a request waits cannot make it cost more than `max_fee`; the job's payload is the SCALE-encoded [`TrainingSpec`] a provider needs: the base
//!   model's files, each version's Merkle root, the hyperparameters.
//!
//! The provider posts a SCALE-encoded [`TrainingResult`]: the artifact's hash and size, the
//! [`Metrics`], a [`TrainingSetCommitment`] naming exactly the requested versions with their
//! roots and the split seed, and the [`TrainingRecords`] attribution needs: the hashes of the
//! manifest of exactly the contributions trained on, of the corpus index of their tokens and of
//! their gradient features (small models), with the Merkle root and count of the trained set. A
//! result naming another version, another root or another seed, or with empty records, is
//! refused, and the job stays open for a correct one. An accepted result settles the access fees
//! and registers a **model** in `Draft`, owned by the builder, with its provenance: base model,
//! training job and provider, datanet versions and roots. An abandoned job refunds the access
//! fees and the deposit (the market refunds its fee) and leaves no model.
//!
//! The owner **publishes** a model with a price per 1,000 tokens and the share of inference fees
//! that goes to its data's contributors (at least [`Config::MinContributorShare`]), changes them,
//! **retires** it, or passes it (and its deposit) to another account, which must accept. A draft
//! that was never served can be **removed**, returning its deposit; the record of a published
//! model stays for the lineage of the inferences it served.
//!
//! ## Reading
//!
//! [`runtime_api::ModelsApi`]: base models, models (by id and in pages), open training requests,
//! and `provenance(model)`, the lineage in one call.
//!
//! ## Storage versions
//!
//! Version 1 added `Provenance::records`; [`migrations::v1::MigrateV0ToV1`] gives the models of
//! version 0 `None` (their outputs cannot be traced, and the registry does not invent records).
//!
//! ## Code
//!
//! Each call checks its origin and calls a `do_*` function of `src/features/`: `base_model.rs`,
//! `training.rs` (requests, results, abandonment, the [`JobConsumer`] implementation),
//! `model.rs` (the lifecycle); `features/try_state.rs` holds the invariants.
//!
//! ## Fuzzing
//!
//! The runtime fuzzer (`fuzz/` at the workspace's root) generates this pallet's calls from the
//! runtime's type information, from every origin, and checks its invariants
//! (`features/try_state.rs`) and the chain's balance invariants after every block of its campaigns
//! and of the bounded run in `scripts/test.sh`. A call added here is fuzzed with no change there.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
#[allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]
mod benchmarking;
mod features;
pub mod migrations;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
pub mod types;
pub mod weights;

pub use features::training::{
	MAX_ALPHA, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_LEARNING_RATE, MAX_RANK, MAX_STEPS,
	MIN_SEQUENCE_LENGTH,
};
pub use openledger_primitives::{
	DatanetAccess, DatanetId, JobConsumer, JobId, JobKind, JobMarket, ModelRegistry,
	ModelUnavailable, ServedModel, VersionId,
};
pub use types::*;
pub use weights::WeightInfo;

/// Builds the state the benchmarks need from the pallets this one only knows through traits.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// A published version of an open datanet with an access fee, of `contributions`
	/// contributions.
	fn published_version(owner: &AccountId, contributions: u32) -> (DatanetId, VersionId);
	/// A provider that takes training jobs.
	fn training_provider(provider: &AccountId);
}

// FRAME's pallet macros expand to `expect` calls that carry this module's spans, so clippy's
// `expect_used` is allowed here; the module's own code holds none.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::Perbill;

	/// The balance type of the currency deposits and fees are paid in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A stored training request.
	pub type TrainingRequestOf<T> =
		TrainingRequest<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A stored model.
	pub type ModelOf<T> =
		Model<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A model's status.
	pub type ModelStatusOf<T> = ModelStatus<BalanceOf<T>>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency deposits and fees are paid in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Registers and retires base models (governance).
		type RegisterOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The job market that runs training.
		type Jobs: JobMarket<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The datanets whose versions are trained on, and their access fees.
		type Datanets: DatanetAccess<Self::AccountId, BalanceOf<Self>>;

		/// How long a provider has to train once it accepted a job.
		#[pallet::constant]
		type TrainingDuration: Get<BlockNumberFor<Self>>;

		/// A model record's deposit, fixed part.
		#[pallet::constant]
		type ModelDepositBase: Get<BalanceOf<Self>>;

		/// A model record's deposit per byte of its name and description.
		#[pallet::constant]
		type ModelDepositPerByte: Get<BalanceOf<Self>>;

		/// The least share of a published model's inference fees that goes to its data's
		/// contributors.
		#[pallet::constant]
		type MinContributorShare: Get<Perbill>;

		/// Builds the benchmarks' state.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;

		/// The weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a model's record, held from its requester, then its owner.
		ModelDeposit,
	}

	/// The next base model's id.
	#[pallet::storage]
	pub type NextBaseModelId<T> = StorageValue<_, BaseModelId, ValueQuery>;

	/// The registered base models.
	#[pallet::storage]
	pub type BaseModels<T> = StorageMap<_, Twox64Concat, BaseModelId, BaseModel>;

	/// The next model's id.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// The trained models.
	#[pallet::storage]
	pub type ModelInfo<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelOf<T>>;

	/// The training jobs waiting for their result, by job.
	#[pallet::storage]
	pub type TrainingRequests<T: Config> = StorageMap<_, Twox64Concat, JobId, TrainingRequestOf<T>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Base models registered from the start.
		pub base_models: Vec<BaseModelInput>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for input in &self.base_models {
				if let Err(e) = Pallet::<T>::do_register_base_model(input.clone()) {
					panic!("genesis base model {:?} is invalid: {e:?}", input.name);
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance registered a base model.
		BaseModelRegistered { base_model: BaseModelId, architecture: Architecture, weights: H256 },
		/// Governance retired a base model: it takes no new training jobs.
		BaseModelRetired { base_model: BaseModelId },
		/// A training job was created; `access_fees` were reserved for the datanets' contributors
		/// and `deposit` held for the model's record.
		TrainingRequested {
			job: JobId,
			requester: T::AccountId,
			base_model: BaseModelId,
			max_fee: BalanceOf<T>,
			access_fees: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A training job delivered and its model was registered as a draft.
		ModelTrained { model: ModelId, job: JobId, owner: T::AccountId, artifact: H256 },
		/// A training job was abandoned: access fees and deposit went back to the requester.
		TrainingAbandoned { job: JobId, requester: T::AccountId },
		/// The owner published a model for inference, or changed its price or share.
		ModelPublished {
			model: ModelId,
			price_per_1k_tokens: BalanceOf<T>,
			contributor_share: Perbill,
		},
		/// The owner retired a model.
		ModelRetired { model: ModelId },
		/// The owner removed a draft model; its deposit was released.
		ModelRemoved { model: ModelId, deposit: BalanceOf<T> },
		/// The owner offered a model to `to`, or withdrew the offer (`None`).
		ModelOwnershipOffered { model: ModelId, to: Option<T::AccountId> },
		/// Ownership and the model's deposit passed from `from` to `to`.
		ModelOwnershipTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The name is empty.
		EmptyName,
		/// The name is longer than 64 bytes.
		NameTooLong,
		/// The description is longer than 512 bytes.
		DescriptionTooLong,
		/// The licence is empty.
		EmptyLicence,
		/// The licence is longer than 64 bytes.
		LicenceTooLong,
		/// A base model must have weights, a parameter count and a context length.
		EmptyBaseModel,
		/// No base model has this id.
		UnknownBaseModel,
		/// The base model is retired.
		BaseModelRetired,
		/// A training job names no datanet version.
		NoSources,
		/// A training job names more than 8 datanet versions.
		TooManySources,
		/// A datanet version is named twice.
		DuplicateSource,
		/// No datanet has this id.
		UnknownDatanet,
		/// The datanet is closed.
		DatanetClosed,
		/// The datanet has not published this version.
		UnpublishedVersion,
		/// The LoRA rank is not between 1 and 64.
		RankOutOfBounds,
		/// The LoRA alpha is not between 1 and 1,024.
		AlphaOutOfBounds,
		/// A LoRA adapter targets no module.
		NoTargets,
		/// A LoRA target is named twice.
		DuplicateTarget,
		/// The base model has no such module (`tiny-byte-gpt` has no gate).
		TargetNotInModel,
		/// Full training is for `tiny-byte-gpt` only; larger models train adapters.
		FullTrainingNotSupported,
		/// Epochs are not between 1 and 100.
		EpochsOutOfBounds,
		/// Steps are not between 1 and 100,000.
		StepsOutOfBounds,
		/// The learning rate is not between 1 and 100,000 millionths.
		LearningRateOutOfBounds,
		/// The warm-up is longer than the steps.
		WarmupTooLong,
		/// The batch size is not between 1 and 256.
		BatchSizeOutOfBounds,
		/// The sequence length is below 8 or above the base model's context length.
		SequenceLengthOutOfBounds,
		/// The held-out fraction is zero or more than half.
		EvalFractionOutOfBounds,
		/// No provider that is free asks at most what `max_fee` leaves after the access fees.
		NoProviderAvailable,
		/// The datanets' access fees alone are more than `max_fee`.
		AccessFeesAboveMaxFee,
		/// No model has this id.
		UnknownModel,
		/// Only the model's owner may do this.
		NotOwner,
		/// No ownership offer to the caller is pending.
		NotOfferedOwnership,
		/// The model is retired.
		ModelRetired,
		/// Only a draft model can be removed.
		NotDraft,
		/// The contributors' share is below `MinContributorShare`.
		ShareBelowMinimum,
		/// A counter would overflow.
		Overflow,
		/// No training request belongs to this job.
		UnknownTraining,
		/// A training result is not a SCALE-encoded `TrainingResult`.
		BadResult,
		/// A training result names other datanet versions than the job, or in another order, or
		/// more contributions trained on than they hold.
		WrongTrainingSet,
		/// A training result's Merkle root differs from the version's.
		RootMismatch,
		/// A training result's split seed differs from the job's.
		WrongSplitSeed,
		/// A training result has an empty artifact, no steps or tokens, or incomplete records for
		/// attribution (no contribution trained on, an empty manifest, index or features file).
		IncompleteResult,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a base model that training jobs may use.
		///
		/// The origin must be [`Config::RegisterOrigin`]. Emits [`Event::BaseModelRegistered`].
		/// Errors: `EmptyName`, `NameTooLong`, `EmptyLicence`, `LicenceTooLong`,
		/// `EmptyBaseModel`, `Overflow`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_base_model())]
		pub fn register_base_model(origin: OriginFor<T>, input: BaseModelInput) -> DispatchResult {
			T::RegisterOrigin::ensure_origin(origin)?;
			Self::do_register_base_model(input)
		}

		/// Retires a base model: it takes no new training jobs; the models trained on it stay.
		///
		/// The origin must be [`Config::RegisterOrigin`]. Emits [`Event::BaseModelRetired`].
		/// Errors: `UnknownBaseModel`, `BaseModelRetired`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::retire_base_model())]
		pub fn retire_base_model(origin: OriginFor<T>, base_model: BaseModelId) -> DispatchResult {
			T::RegisterOrigin::ensure_origin(origin)?;
			Self::do_retire_base_model(base_model)
		}

		/// Asks for a model trained from `base_model` on `sources` (1 to 8 published datanet
		/// versions) with `hyperparameters`, for at most `max_fee`: the datanets' access fees,
		/// reserved for their contributors, and what they leave as the job's fee, which waits in
		/// the market's escrow. Holds the model record's deposit besides.
		///
		/// The origin must be signed. Emits [`Event::TrainingRequested`]. Errors: the base
		/// model's (`UnknownBaseModel`, `BaseModelRetired`), the sources'
		/// (`NoSources`, `TooManySources`, `DuplicateSource`, `UnknownDatanet`, `DatanetClosed`,
		/// `UnpublishedVersion`), the hyperparameters' (each bound has its error), the name's and
		/// description's, `AccessFeesAboveMaxFee`, `NoProviderAvailable` when no provider takes
		/// the job for what is left of `max_fee`, or the currency's when the caller cannot pay.
		///
		/// Weight: declared with the job market's worst case; charged what creating the job
		/// used.
		#[pallet::call_index(2)]
		#[pallet::weight(
			T::WeightInfo::train(sources.len().min(8) as u32)
				.saturating_add(T::Jobs::create_weight())
		)]
		pub fn train(
			origin: OriginFor<T>,
			base_model: BaseModelId,
			sources: Vec<(DatanetId, VersionId)>,
			hyperparameters: Hyperparameters,
			max_fee: BalanceOf<T>,
			name: Vec<u8>,
			description: Vec<u8>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_train(who, base_model, sources, hyperparameters, max_fee, name, description)
		}

		/// Publishes a model for inference at `price_per_1k_tokens`, `contributor_share` of each
		/// fee going to the contributors of its data; on a published model, changes them.
		///
		/// The origin must be the owner. Emits [`Event::ModelPublished`]. Errors:
		/// `UnknownModel`, `NotOwner`, `ModelRetired`, `ShareBelowMinimum`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::publish())]
		pub fn publish(
			origin: OriginFor<T>,
			model: ModelId,
			price_per_1k_tokens: BalanceOf<T>,
			contributor_share: Perbill,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_publish(who, model, price_per_1k_tokens, contributor_share)
		}

		/// Retires a model: it is no longer offered for inference; its record stays.
		///
		/// The origin must be the owner. Emits [`Event::ModelRetired`]. Errors: `UnknownModel`,
		/// `NotOwner`, `ModelRetired`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_retire(who, model)
		}

		/// Removes a draft model, which never served an inference, and releases its deposit.
		///
		/// The origin must be the owner. Emits [`Event::ModelRemoved`]. Errors: `UnknownModel`,
		/// `NotOwner`, `NotDraft`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove(who, model)
		}

		/// Offers the model to `to`, who becomes its owner by accepting; `None` withdraws the
		/// offer.
		///
		/// The origin must be the owner. Emits [`Event::ModelOwnershipOffered`]. Errors:
		/// `UnknownModel`, `NotOwner`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::offer_ownership())]
		pub fn offer_ownership(
			origin: OriginFor<T>,
			model: ModelId,
			to: Option<T::AccountId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_offer_ownership(who, model, to)
		}

		/// Accepts a model offered to the caller: its deposit is held from the caller and
		/// released to the previous owner.
		///
		/// The origin must be the account offered. Emits [`Event::ModelOwnershipTransferred`].
		/// Errors: `UnknownModel`, `NotOfferedOwnership`, or the currency's when the caller
		/// cannot hold the deposit.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::accept_ownership())]
		pub fn accept_ownership(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_accept_ownership(who, model)
		}
	}
}
