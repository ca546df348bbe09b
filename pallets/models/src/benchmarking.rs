//! Benchmarks of every call and of the job market's callbacks, each in its most expensive case:
//! eight sources with access fees, the longest name and description.

use super::*;
use crate::pallet::{
	BaseModels, ModelInfo, NextBaseModelId, NextModelId, Pallet as Models, TrainingRequests,
};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::{traits::Bounded, Perbill, Permill};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000u32.into());
	who
}

fn base_input() -> BaseModelInput {
	BaseModelInput {
		name: vec![b'n'; 64],
		architecture: Architecture::TinyByteGpt,
		parameters: 123_200,
		context_length: 128,
		weights: FileRef { content_hash: H256::repeat_byte(1), length: 494_808 },
		tokenizer: Some(FileRef { content_hash: H256::repeat_byte(2), length: 1 }),
		licence: vec![b'l'; 64],
	}
}

fn hyperparameters() -> Hyperparameters {
	let targets = [
		TargetModule::Query,
		TargetModule::Key,
		TargetModule::Value,
		TargetModule::Output,
		TargetModule::Up,
		TargetModule::Down,
	];
	Hyperparameters {
		method: Method::Lora {
			rank: 64,
			alpha: 128,
			targets: targets.to_vec().try_into().unwrap(),
		},
		epochs: 1,
		max_steps: 100,
		learning_rate: 1_000,
		warmup_steps: 10,
		batch_size: 8,
		sequence_length: 64,
		eval_fraction: Permill::from_percent(10),
		seed: 7,
	}
}

/// A new base model; returns its id.
fn base_model<T: Config>() -> BaseModelId {
	let id = NextBaseModelId::<T>::get();
	assert!(Models::<T>::do_register_base_model(base_input()).is_ok());
	id
}

/// A base model, `n` published versions and a provider for training; returns the builder, the
/// base model and the versions.
fn setup<T: Config>(n: u32) -> (T::AccountId, BaseModelId, Vec<(DatanetId, VersionId)>) {
	let base = base_model::<T>();
	let owner = funded::<T>("datanet-owner", 0);
	let sources = (0..n).map(|_| T::BenchmarkHelper::published_version(&owner, 1)).collect();
	T::BenchmarkHelper::training_provider(&funded::<T>("provider", 0));
	(funded::<T>("builder", 0), base, sources)
}

fn request<T: Config>(n: u32) -> (T::AccountId, JobId, TrainingResult) {
	let (builder, base, sources) = setup::<T>(n);
	assert!(Models::<T>::train(
		RawOrigin::Signed(builder.clone()).into(),
		base,
		sources,
		hyperparameters(),
		BalanceOf::<T>::max_value() / 1_000_000u32.into(),
		vec![b'n'; 64],
		vec![b'd'; 512],
	)
	.is_ok());
	let (job, request) = TrainingRequests::<T>::iter().next().expect("the job was created");
	let result = TrainingResult {
		artifact: FileRef { content_hash: H256::repeat_byte(9), length: 1 },
		metrics: Metrics { steps: 1, tokens: 1, ..Default::default() },
		training_set: TrainingSetCommitment {
			versions: request
				.sources
				.iter()
				.map(|s| (s.datanet, s.version, s.root))
				.collect::<Vec<_>>()
				.try_into()
				.unwrap(),
			split_seed: 7,
		},
		records: TrainingRecords {
			manifest: FileRef { content_hash: H256::repeat_byte(10), length: 1 },
			trained_root: H256::repeat_byte(11),
			trained: 1,
			corpus_index: FileRef { content_hash: H256::repeat_byte(12), length: 1 },
			features: Some(FileRef { content_hash: H256::repeat_byte(13), length: 1 }),
		},
	};
	(builder, job, result)
}

fn model<T: Config>() -> T::AccountId {
	let (builder, job, result) = request::<T>(1);
	assert!(Models::<T>::record_training(job, &result.encode()).is_ok());
	builder
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_base_model() -> Result<(), BenchmarkError> {
		let origin =
			T::RegisterOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let id = NextBaseModelId::<T>::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, base_input());

		assert!(BaseModels::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn retire_base_model() -> Result<(), BenchmarkError> {
		let id = base_model::<T>();
		let origin =
			T::RegisterOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert_eq!(BaseModels::<T>::get(id).map(|b| b.status), Some(BaseModelStatus::Retired));
		Ok(())
	}

	#[benchmark]
	fn train(n: Linear<1, 8>) {
		let (builder, base, sources) = setup::<T>(n);
		let fee = BalanceOf::<T>::max_value() / 1_000_000u32.into();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(builder),
			base,
			sources,
			hyperparameters(),
			fee,
			vec![b'n'; 64],
			vec![b'd'; 512],
		);

		assert_eq!(TrainingRequests::<T>::iter().count(), 1);
	}

	#[benchmark]
	fn training_result(n: Linear<1, 8>) {
		let (_, job, result) = request::<T>(n);
		let result = result.encode();

		#[block]
		{
			assert!(Models::<T>::record_training(job, &result).is_ok());
		}

		assert_eq!(NextModelId::<T>::get(), 1);
	}

	#[benchmark]
	fn training_abandoned(n: Linear<1, 8>) {
		let (_, job, _) = request::<T>(n);

		#[block]
		{
			Models::<T>::abandon_training(job);
		}

		assert_eq!(TrainingRequests::<T>::iter().count(), 0);
	}

	#[benchmark]
	fn publish() {
		let owner = model::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, 1_000u32.into(), Perbill::from_percent(50));

		assert!(matches!(
			ModelInfo::<T>::get(0).map(|m| m.status),
			Some(ModelStatus::Published { .. })
		));
	}

	#[benchmark]
	fn retire() {
		let owner = model::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);

		assert_eq!(ModelInfo::<T>::get(0).map(|m| m.status), Some(ModelStatus::Retired));
	}

	#[benchmark]
	fn remove() {
		let owner = model::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);

		assert!(!ModelInfo::<T>::contains_key(0));
	}

	#[benchmark]
	fn offer_ownership() {
		let owner = model::<T>();
		let to = funded::<T>("new-owner", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, Some(to.clone()));

		assert_eq!(ModelInfo::<T>::get(0).and_then(|m| m.pending_owner), Some(to));
	}

	#[benchmark]
	fn accept_ownership() {
		let owner = model::<T>();
		let to = funded::<T>("new-owner", 0);
		assert!(Models::<T>::offer_ownership(RawOrigin::Signed(owner).into(), 0, Some(to.clone()))
			.is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(to.clone()), 0);

		assert_eq!(ModelInfo::<T>::get(0).map(|m| m.owner), Some(to));
	}

	impl_benchmark_test_suite!(Models, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
