//! Training: requests checked against their bounds, access fees reserved, the job created; the
//! provider's result checked against the request and registered as a model; abandonment
//! refunded.

use crate::*;
use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use frame_support::{
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision, Defensive},
};
use openledger_primitives::VersionUnavailable;
use sp_runtime::{
	traits::{CheckedSub, Saturating, Zero},
	Permill,
};

/// The largest LoRA rank.
pub const MAX_RANK: u32 = 64;
/// The largest LoRA alpha.
pub const MAX_ALPHA: u32 = 1_024;
/// The most epochs.
pub const MAX_EPOCHS: u32 = 100;
/// The most optimizer steps.
pub const MAX_STEPS: u32 = 100_000;
/// The highest learning rate, in millionths (0.1).
pub const MAX_LEARNING_RATE: u32 = 100_000;
/// The largest batch.
pub const MAX_BATCH_SIZE: u32 = 256;
/// The shortest training sequence.
pub const MIN_SEQUENCE_LENGTH: u32 = 8;

impl<T: Config> Pallet<T> {
	/// Checks a request, holds the deposit, reserves the access fees and creates the job.
	pub(crate) fn do_train(
		who: T::AccountId,
		base_model: BaseModelId,
		sources: Vec<(DatanetId, VersionId)>,
		hyperparameters: Hyperparameters,
		max_fee: BalanceOf<T>,
		name: Vec<u8>,
		description: Vec<u8>,
	) -> DispatchResultWithPostInfo {
		let count = sources.len().min(8) as u32;
		let base = BaseModels::<T>::get(base_model).ok_or(Error::<T>::UnknownBaseModel)?;
		ensure!(base.status == BaseModelStatus::Active, Error::<T>::BaseModelRetired);
		ensure!(!sources.is_empty(), Error::<T>::NoSources);
		ensure!(
			sources.len() <= <MaxSources as Get<u32>>::get() as usize,
			Error::<T>::TooManySources
		);
		let mut versions = Vec::with_capacity(sources.len());
		let mut access_fees = Vec::with_capacity(sources.len());
		for (i, &(datanet, version)) in sources.iter().enumerate() {
			ensure!(
				!sources.iter().take(i).any(|&s| s == (datanet, version)),
				Error::<T>::DuplicateSource
			);
			let published = T::Datanets::published(datanet, version).map_err(|e| match e {
				VersionUnavailable::UnknownDatanet => Error::<T>::UnknownDatanet,
				VersionUnavailable::DatanetClosed => Error::<T>::DatanetClosed,
				VersionUnavailable::UnknownVersion => Error::<T>::UnpublishedVersion,
			})?;
			versions.push(SourceVersion {
				datanet,
				version,
				root: published.root,
				contributions: published.contributions,
				total_bytes: published.total_bytes,
			});
			access_fees.push(published.access_fee);
		}
		Self::check_hyperparameters(&base, &hyperparameters)?;
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		let name: Name = name.try_into().map_err(|_| Error::<T>::NameTooLong)?;
		let description: Description =
			description.try_into().map_err(|_| Error::<T>::DescriptionTooLong)?;
		let sources: BoundedVec<SourceVersion, MaxSources> =
			versions.try_into().map_err(|_| Error::<T>::TooManySources)?;
		let access_fees: BoundedVec<BalanceOf<T>, MaxSources> =
			access_fees.try_into().map_err(|_| Error::<T>::TooManySources)?;

		// The access fees come out of `max_fee`, so that a datanet owner who raises its fee while
		// the request waits in the pool cannot make it cost more than its builder agreed to.
		let access_total = access_fees
			.iter()
			.fold(BalanceOf::<T>::zero(), |sum, fee| sum.saturating_add(*fee));
		let job_fee =
			max_fee.checked_sub(&access_total).ok_or(Error::<T>::AccessFeesAboveMaxFee)?;
		let deposit = Self::model_deposit(&name, &description);
		T::Currency::hold(&HoldReason::ModelDeposit.into(), &who, deposit)?;
		for (source, fee) in sources.iter().zip(access_fees.iter()) {
			T::Datanets::reserve_access(&who, source.datanet, source.version, *fee)?;
		}
		let spec = TrainingSpec {
			base_model,
			architecture: base.architecture,
			context_length: base.context_length,
			weights: base.weights,
			tokenizer: base.tokenizer,
			sources: sources.clone(),
			hyperparameters: hyperparameters.clone(),
		};
		let creation = T::Jobs::create(
			&who,
			JobKind::Training,
			spec.encode(),
			job_fee,
			T::TrainingDuration::get(),
		)?;
		let job = creation.job.ok_or(Error::<T>::NoProviderAvailable)?;
		TrainingRequests::<T>::insert(
			job,
			TrainingRequest {
				requester: who.clone(),
				base_model,
				sources,
				access_fees,
				hyperparameters,
				name,
				description,
				deposit,
				max_fee,
				requested_at: frame_system::Pallet::<T>::block_number(),
			},
		);
		Self::deposit_event(Event::TrainingRequested {
			job,
			requester: who,
			base_model,
			max_fee,
			access_fees: access_total,
			deposit,
		});
		Ok(Some(T::WeightInfo::train(count).saturating_add(creation.weight)).into())
	}

	/// The deposit of a model record with this name and description.
	pub fn model_deposit(name: &[u8], description: &[u8]) -> BalanceOf<T> {
		let bytes = u32::try_from(name.len().saturating_add(description.len())).unwrap_or(u32::MAX);
		T::ModelDepositBase::get()
			.saturating_add(T::ModelDepositPerByte::get().saturating_mul(bytes.into()))
	}

	/// Checks each hyperparameter against its bound, and against the base model.
	pub(crate) fn check_hyperparameters(base: &BaseModel, h: &Hyperparameters) -> DispatchResult {
		match &h.method {
			Method::Lora { rank, alpha, targets } => {
				ensure!((1..=MAX_RANK).contains(rank), Error::<T>::RankOutOfBounds);
				ensure!((1..=MAX_ALPHA).contains(alpha), Error::<T>::AlphaOutOfBounds);
				ensure!(!targets.is_empty(), Error::<T>::NoTargets);
				for (i, target) in targets.iter().enumerate() {
					ensure!(
						!targets.iter().take(i).any(|t| t == target),
						Error::<T>::DuplicateTarget
					);
					ensure!(
						!(base.architecture == Architecture::TinyByteGpt
							&& *target == TargetModule::Gate),
						Error::<T>::TargetNotInModel
					);
				}
			},
			Method::Full => ensure!(
				base.architecture == Architecture::TinyByteGpt,
				Error::<T>::FullTrainingNotSupported
			),
		}
		ensure!((1..=MAX_EPOCHS).contains(&h.epochs), Error::<T>::EpochsOutOfBounds);
		ensure!((1..=MAX_STEPS).contains(&h.max_steps), Error::<T>::StepsOutOfBounds);
		ensure!(
			(1..=MAX_LEARNING_RATE).contains(&h.learning_rate),
			Error::<T>::LearningRateOutOfBounds
		);
		ensure!(h.warmup_steps <= h.max_steps, Error::<T>::WarmupTooLong);
		ensure!((1..=MAX_BATCH_SIZE).contains(&h.batch_size), Error::<T>::BatchSizeOutOfBounds);
		ensure!(
			(MIN_SEQUENCE_LENGTH..=base.context_length).contains(&h.sequence_length),
			Error::<T>::SequenceLengthOutOfBounds
		);
		ensure!(
			!h.eval_fraction.is_zero() && h.eval_fraction <= Permill::from_percent(50),
			Error::<T>::EvalFractionOutOfBounds
		);
		Ok(())
	}

	/// Checks a provider's result against its request; registers the model and settles the
	/// access fees.
	pub(crate) fn record_training(job: JobId, result: &[u8]) -> DispatchResult {
		let request = TrainingRequests::<T>::get(job).ok_or(Error::<T>::UnknownTraining)?;
		let result =
			TrainingResult::decode_all(&mut &result[..]).map_err(|_| Error::<T>::BadResult)?;
		let committed = &result.training_set.versions;
		ensure!(committed.len() == request.sources.len(), Error::<T>::WrongTrainingSet);
		for (source, &(datanet, version, root)) in request.sources.iter().zip(committed.iter()) {
			ensure!(
				(source.datanet, source.version) == (datanet, version),
				Error::<T>::WrongTrainingSet
			);
			ensure!(source.root == root, Error::<T>::RootMismatch);
		}
		ensure!(
			result.training_set.split_seed == request.hyperparameters.seed,
			Error::<T>::WrongSplitSeed
		);
		let records = &result.records;
		// No more contributions trained on than the versions hold (each trains once).
		let held = request.sources.iter().fold(0u32, |n, s| n.saturating_add(s.contributions));
		ensure!(records.trained <= held, Error::<T>::WrongTrainingSet);
		ensure!(
			result.artifact.length > 0
				&& result.metrics.steps > 0
				&& result.metrics.tokens > 0
				&& records.trained > 0
				&& records.manifest.length > 0
				&& records.corpus_index.length > 0
				&& records.features.as_ref().is_none_or(|f| f.length > 0),
			Error::<T>::IncompleteResult
		);
		let id = NextModelId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
		for (source, fee) in request.sources.iter().zip(request.access_fees.iter()) {
			T::Datanets::settle_access(source.datanet, source.version, *fee)?;
		}
		let provider = T::Jobs::assignee(job).ok_or(Error::<T>::UnknownTraining)?;
		ModelInfo::<T>::insert(
			id,
			Model {
				owner: request.requester.clone(),
				pending_owner: None,
				name: request.name,
				description: request.description,
				artifact: result.artifact,
				hyperparameters: request.hyperparameters.clone(),
				metrics: result.metrics,
				provenance: Provenance {
					base_model: request.base_model,
					job,
					provider,
					sources: request.sources,
					split_seed: request.hyperparameters.seed,
					records: Some(result.records),
				},
				status: ModelStatus::Draft,
				deposit: request.deposit,
				created_at: frame_system::Pallet::<T>::block_number(),
			},
		);
		NextModelId::<T>::put(next);
		TrainingRequests::<T>::remove(job);
		Self::deposit_event(Event::ModelTrained {
			model: id,
			job,
			owner: request.requester,
			artifact: result.artifact.content_hash,
		});
		Ok(())
	}

	/// Refunds an abandoned job's access fees and deposit.
	pub(crate) fn abandon_training(job: JobId) {
		let Some(request) = TrainingRequests::<T>::take(job) else { return };
		for (source, fee) in request.sources.iter().zip(request.access_fees.iter()) {
			let _ = T::Datanets::refund_access(
				&request.requester,
				source.datanet,
				source.version,
				*fee,
			)
			.defensive_proof("the request's fees were reserved when it was made");
		}
		let _ = T::Currency::release(
			&HoldReason::ModelDeposit.into(),
			&request.requester,
			request.deposit,
			Precision::BestEffort,
		)
		.defensive_proof("the request's deposit was held when it was made");
		Self::deposit_event(Event::TrainingAbandoned { job, requester: request.requester });
	}
}

impl<T: Config> JobConsumer for Pallet<T> {
	fn on_result(job: JobId, kind: JobKind, _payload: &[u8], result: &[u8]) -> DispatchResult {
		ensure!(kind == JobKind::Training, Error::<T>::UnknownTraining);
		Self::record_training(job, result)
	}

	fn on_abandoned(job: JobId, kind: JobKind, _payload: &[u8]) {
		if kind == JobKind::Training {
			Self::abandon_training(job);
		}
	}

	fn on_result_weight() -> Weight {
		T::WeightInfo::training_result(<MaxSources as Get<u32>>::get())
	}

	fn on_abandoned_weight() -> Weight {
		T::WeightInfo::training_abandoned(<MaxSources as Get<u32>>::get())
	}
}
