//! Unit tests: every call's success and every refusal, each followed by the invariant check.

use crate::{
	mock::*,
	pallet::{BaseModels, Error, Event, HoldReason, ModelInfo, NextModelId, TrainingRequests},
	BaseModelStatus, FileRef, Hyperparameters, JobConsumer, JobKind, Method, Metrics, ModelStatus,
	TargetModule, TrainingRecords, TrainingResult, TrainingSetCommitment, TrainingSpec,
};
use codec::{Decode, Encode};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::H256;
use sp_runtime::{DispatchError, Perbill, Permill, TokenError};

fn free(who: AccountId) -> Balance {
	<Balances as Inspect<AccountId>>::balance(&who)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Models(HoldReason::ModelDeposit), &who)
}

const NAME: &[u8] = b"solidity-lora";
const DESCRIPTION: &[u8] = b"Solidity completions";

fn deposit() -> Balance {
	DEPOSIT_BASE + DEPOSIT_PER_BYTE * (NAME.len() + DESCRIPTION.len()) as Balance
}

/// A bad input: how it spoils a good one, and the error it must get.
type Case<I> = (fn(&mut I), Error<Test>);
/// Sources and the error they must get.
type SourceCase = (Vec<(u32, u32)>, Error<Test>);

/// Alice asks for `hyperparameters` on the tiny model over `sources`, paying up to 50.
fn train_on(
	sources: Vec<(u32, u32)>,
	hyperparameters: Hyperparameters,
) -> Result<(), DispatchError> {
	Models::train(
		RuntimeOrigin::signed(ALICE),
		0,
		sources,
		hyperparameters,
		50,
		NAME.to_vec(),
		DESCRIPTION.to_vec(),
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

/// Alice's job 0 on datanet 0 version 0 and datanet 1 version 1.
fn request() -> u64 {
	assert_ok!(train_on(vec![(0, 0), (1, 1)], lora()));
	0
}

/// A result that matches job 0 of [`request`].
fn result() -> TrainingResult {
	TrainingResult {
		artifact: FileRef { content_hash: H256::repeat_byte(9), length: 4_096 },
		metrics: Metrics {
			train_loss_first: 5_500_000,
			train_loss_last: 2_100_000,
			eval_loss_base: 5_540_000,
			eval_loss_trained: 2_300_000,
			tokens: 102_400,
			steps: 200,
			wall_time_ms: 9_000,
		},
		training_set: TrainingSetCommitment {
			versions: vec![(0, 0, root_of(0, 0)), (1, 1, root_of(1, 1))].try_into().unwrap(),
			split_seed: 42,
		},
		records: records(),
	}
}

fn records() -> TrainingRecords {
	TrainingRecords {
		manifest: FileRef { content_hash: H256::repeat_byte(10), length: 900 },
		trained_root: H256::repeat_byte(11),
		trained: 6,
		corpus_index: FileRef { content_hash: H256::repeat_byte(12), length: 20_000 },
		features: Some(FileRef { content_hash: H256::repeat_byte(13), length: 4_000 }),
	}
}

fn deliver(job: u64, result: &TrainingResult) -> Result<(), DispatchError> {
	Models::on_result(job, JobKind::Training, &[], &result.encode())
}

/// A trained model 0 owned by Alice.
fn trained() -> u32 {
	let job = request();
	assert_ok!(deliver(job, &result()));
	0
}

mod base_models {
	use super::*;

	#[test]
	fn genesis_registers_the_base_models() {
		ExtBuilder::build_and_execute(|| {
			let tiny_model = BaseModels::<Test>::get(0).unwrap();
			assert_eq!(tiny_model.name.to_vec(), b"tiny-byte-gpt".to_vec());
			assert_eq!(tiny_model.status, BaseModelStatus::Active);
			assert_eq!(BaseModels::<Test>::get(1).unwrap().context_length, 2_048);
		});
	}

	#[test]
	fn governance_registers_and_retires_a_base_model() {
		ExtBuilder::build_and_execute(|| {
			let mut input = tiny();
			input.name = b"tiny-2".to_vec();
			assert_ok!(Models::register_base_model(RuntimeOrigin::root(), input.clone()));
			System::assert_last_event(
				Event::BaseModelRegistered {
					base_model: 2,
					architecture: input.architecture,
					weights: input.weights.content_hash,
				}
				.into(),
			);
			assert_ok!(Models::retire_base_model(RuntimeOrigin::root(), 2));
			System::assert_last_event(Event::BaseModelRetired { base_model: 2 }.into());
			assert_eq!(BaseModels::<Test>::get(2).unwrap().status, BaseModelStatus::Retired);
			assert_noop!(
				Models::retire_base_model(RuntimeOrigin::root(), 2),
				Error::<Test>::BaseModelRetired
			);
			assert_noop!(
				Models::retire_base_model(RuntimeOrigin::root(), 9),
				Error::<Test>::UnknownBaseModel
			);
		});
	}

	#[test]
	fn only_governance_registers_base_models() {
		ExtBuilder::build_and_execute(|| {
			assert_noop!(
				Models::register_base_model(RuntimeOrigin::signed(ALICE), tiny()),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Models::retire_base_model(RuntimeOrigin::signed(ALICE), 0),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn bad_base_models_get_their_own_errors() {
		ExtBuilder::build_and_execute(|| {
			let cases: [Case<crate::BaseModelInput>; 5] = [
				(|i| i.name.clear(), Error::<Test>::EmptyName),
				(|i| i.name = vec![b'a'; 65], Error::<Test>::NameTooLong),
				(|i| i.licence.clear(), Error::<Test>::EmptyLicence),
				(|i| i.licence = vec![b'a'; 65], Error::<Test>::LicenceTooLong),
				(|i| i.weights.length = 0, Error::<Test>::EmptyBaseModel),
			];
			for (spoil, error) in cases {
				let mut input = tiny();
				spoil(&mut input);
				assert_noop!(Models::register_base_model(RuntimeOrigin::root(), input), error);
			}
		});
	}
}

mod train {
	use super::*;

	#[test]
	fn a_request_is_charged_what_creating_its_job_used_not_the_markets_worst_case() {
		use crate::weights::WeightInfo;
		use frame_support::dispatch::GetDispatchInfo;
		ExtBuilder::build_and_execute(|| {
			let call = crate::Call::<Test>::train {
				base_model: 0,
				sources: vec![(0, 0), (1, 1)],
				hyperparameters: lora(),
				max_fee: 50,
				name: NAME.to_vec(),
				description: DESCRIPTION.to_vec(),
			};
			let declared = call.get_dispatch_info().call_weight;
			assert_eq!(declared, <() as WeightInfo>::train(2).saturating_add(JOB_WEIGHT_MAX));
			let post = Models::train(
				RuntimeOrigin::signed(ALICE),
				0,
				vec![(0, 0), (1, 1)],
				lora(),
				50,
				NAME.to_vec(),
				DESCRIPTION.to_vec(),
			)
			.unwrap();
			assert_eq!(
				post.actual_weight,
				Some(<() as WeightInfo>::train(2).saturating_add(JOB_WEIGHT_USED))
			);
		});
	}

	#[test]
	fn a_request_holds_the_deposit_reserves_access_fees_and_creates_the_job() {
		ExtBuilder::build_and_execute(|| {
			let before = free(ALICE);
			let job = request();
			System::assert_last_event(
				Event::TrainingRequested {
					job,
					requester: ALICE,
					base_model: 0,
					max_fee: 50,
					access_fees: 10,
					deposit: deposit(),
				}
				.into(),
			);
			assert_eq!(held(ALICE), deposit());
			assert_eq!(free(ALICE), before - deposit() - 10);
			assert_eq!(pool(0, 0), (10, 0));
			let (owner, kind, payload, fee, duration) = JOBS.with(|j| j.borrow()[0].clone());
			assert_eq!(
				(owner, kind, fee, duration),
				(ALICE, JobKind::Training, 40, TRAINING_DURATION)
			);
			let spec = TrainingSpec::decode(&mut &payload[..]).unwrap();
			assert_eq!(spec.base_model, 0);
			assert_eq!(spec.weights, tiny().weights);
			assert_eq!(spec.hyperparameters, lora());
			let roots: Vec<_> =
				spec.sources.iter().map(|s| (s.datanet, s.version, s.root)).collect();
			assert_eq!(roots, vec![(0, 0, root_of(0, 0)), (1, 1, root_of(1, 1))]);
			assert_eq!(spec.sources[1].contributions, 4);
			assert_eq!(
				TrainingRequests::<Test>::get(job).unwrap().access_fees.to_vec(),
				vec![10, 0]
			);
		});
	}

	#[test]
	fn bad_sources_get_their_own_errors() {
		ExtBuilder::build_and_execute(|| {
			close(1);
			publish(2, 0, 1, 0);
			let nine: Vec<(u32, u32)> = (0..9).map(|v| (2, v)).collect();
			let cases: [SourceCase; 6] = [
				(vec![], Error::<Test>::NoSources),
				(nine, Error::<Test>::TooManySources),
				(vec![(0, 0), (2, 0), (0, 0)], Error::<Test>::DuplicateSource),
				(vec![(7, 0)], Error::<Test>::UnknownDatanet),
				(vec![(1, 0)], Error::<Test>::DatanetClosed),
				(vec![(0, 1)], Error::<Test>::UnpublishedVersion),
			];
			for (sources, error) in cases {
				assert_noop!(train_on(sources, lora()), error);
			}
		});
	}

	#[test]
	fn hyperparameters_out_of_bounds_get_their_own_errors() {
		ExtBuilder::build_and_execute(|| {
			fn lora_with(rank: u32, alpha: u32, targets: Vec<TargetModule>) -> Method {
				Method::Lora { rank, alpha, targets: targets.try_into().unwrap() }
			}
			let cases: [Case<Hyperparameters>; 16] = [
				(
					|h| h.method = lora_with(0, 16, vec![TargetModule::Query]),
					Error::<Test>::RankOutOfBounds,
				),
				(
					|h| h.method = lora_with(65, 16, vec![TargetModule::Query]),
					Error::<Test>::RankOutOfBounds,
				),
				(
					|h| h.method = lora_with(8, 0, vec![TargetModule::Query]),
					Error::<Test>::AlphaOutOfBounds,
				),
				(|h| h.method = lora_with(8, 16, vec![]), Error::<Test>::NoTargets),
				(
					|h| h.method = lora_with(8, 16, vec![TargetModule::Key, TargetModule::Key]),
					Error::<Test>::DuplicateTarget,
				),
				(
					|h| h.method = lora_with(8, 16, vec![TargetModule::Gate]),
					Error::<Test>::TargetNotInModel,
				),
				(|h| h.epochs = 0, Error::<Test>::EpochsOutOfBounds),
				(|h| h.epochs = 101, Error::<Test>::EpochsOutOfBounds),
				(|h| h.max_steps = 0, Error::<Test>::StepsOutOfBounds),
				(|h| h.max_steps = 100_001, Error::<Test>::StepsOutOfBounds),
				(|h| h.learning_rate = 100_001, Error::<Test>::LearningRateOutOfBounds),
				(|h| h.warmup_steps = 201, Error::<Test>::WarmupTooLong),
				(|h| h.batch_size = 257, Error::<Test>::BatchSizeOutOfBounds),
				(|h| h.sequence_length = 129, Error::<Test>::SequenceLengthOutOfBounds),
				(|h| h.eval_fraction = Permill::zero(), Error::<Test>::EvalFractionOutOfBounds),
				(
					|h| h.eval_fraction = Permill::from_percent(51),
					Error::<Test>::EvalFractionOutOfBounds,
				),
			];
			for (spoil, error) in cases {
				let mut h = lora();
				spoil(&mut h);
				assert_noop!(train_on(vec![(0, 0)], h), error);
			}
			let mut full = lora();
			full.method = Method::Full;
			assert_ok!(train_on(vec![(0, 0)], full.clone()));
			assert_noop!(
				Models::train(
					RuntimeOrigin::signed(ALICE),
					1,
					vec![(0, 0)],
					full,
					50,
					NAME.to_vec(),
					vec![]
				),
				Error::<Test>::FullTrainingNotSupported
			);
			let mut gate = lora();
			gate.method = lora_with(8, 16, vec![TargetModule::Gate]);
			gate.sequence_length = 2_048;
			assert_ok!(Models::train(
				RuntimeOrigin::signed(ALICE),
				1,
				vec![(0, 0)],
				gate,
				50,
				NAME.to_vec(),
				vec![]
			));
		});
	}

	#[test]
	fn bad_names_and_base_models_get_their_own_errors() {
		ExtBuilder::build_and_execute(|| {
			let go = |base: u32, name: Vec<u8>, description: Vec<u8>| {
				Models::train(
					RuntimeOrigin::signed(ALICE),
					base,
					vec![(0, 0)],
					lora(),
					50,
					name,
					description,
				)
			};
			assert_noop!(go(0, vec![], vec![]), Error::<Test>::EmptyName);
			assert_noop!(go(0, vec![b'a'; 65], vec![]), Error::<Test>::NameTooLong);
			assert_noop!(go(0, NAME.to_vec(), vec![b'a'; 513]), Error::<Test>::DescriptionTooLong);
			assert_noop!(go(5, NAME.to_vec(), vec![]), Error::<Test>::UnknownBaseModel);
			assert_ok!(Models::retire_base_model(RuntimeOrigin::root(), 0));
			assert_noop!(go(0, NAME.to_vec(), vec![]), Error::<Test>::BaseModelRetired);
		});
	}

	#[test]
	fn a_max_fee_below_every_providers_price_is_refused_and_nothing_is_held() {
		ExtBuilder::build_and_execute(|| {
			let before = free(ALICE);
			assert_noop!(
				Models::train(
					RuntimeOrigin::signed(ALICE),
					0,
					vec![(0, 0)],
					lora(),
					CHEAPEST_PRICE - 1,
					NAME.to_vec(),
					vec![]
				),
				Error::<Test>::NoProviderAvailable
			);
			assert_eq!((free(ALICE), held(ALICE), pool(0, 0)), (before, 0, (0, 0)));
		});
	}

	#[test]
	fn access_fees_come_out_of_the_max_fee() {
		ExtBuilder::build_and_execute(|| {
			request();
			// 10 of the 50 went to datanet 0's contributors: the job may pay 40.
			assert_eq!(JOBS.with(|j| j.borrow()[0].3), 40);
			assert_noop!(
				Models::train(
					RuntimeOrigin::signed(ALICE),
					0,
					vec![(0, 0)],
					lora(),
					9,
					NAME.to_vec(),
					vec![]
				),
				Error::<Test>::AccessFeesAboveMaxFee
			);
		});
	}

	#[test]
	fn a_requester_who_cannot_pay_the_access_fee_is_refused() {
		ExtBuilder::build_and_execute(|| {
			publish(3, 0, 1, 100);
			// POOR holds the deposit (113) but cannot pay 100 more and stay alive.
			assert_noop!(
				Models::train(
					RuntimeOrigin::signed(POOR),
					0,
					vec![(3, 0)],
					lora(),
					200,
					NAME.to_vec(),
					vec![]
				),
				TokenError::FundsUnavailable
			);
		});
	}
}

mod results {
	use super::*;

	#[test]
	fn a_matching_result_registers_a_draft_model_with_its_provenance() {
		ExtBuilder::build_and_execute(|| {
			let job = request();
			assert_ok!(deliver(job, &result()));
			System::assert_last_event(
				Event::ModelTrained { model: 0, job, owner: ALICE, artifact: H256::repeat_byte(9) }
					.into(),
			);
			let model = ModelInfo::<Test>::get(0).unwrap();
			assert_eq!(model.owner, ALICE);
			assert_eq!(model.status, ModelStatus::Draft);
			assert_eq!(model.artifact, result().artifact);
			assert_eq!(model.metrics, result().metrics);
			assert_eq!(model.deposit, deposit());
			assert_eq!(model.provenance.job, job);
			assert_eq!(model.provenance.provider, PROVIDER);
			assert_eq!(model.provenance.split_seed, 42);
			assert_eq!(model.provenance.sources[0].root, root_of(0, 0));
			assert!(TrainingRequests::<Test>::get(job).is_none());
			assert_eq!(pool(0, 0), (0, 10));
			assert_eq!(NextModelId::<Test>::get(), 1);
			let lineage = Models::lineage(0).unwrap();
			assert_eq!(lineage.base.name.to_vec(), b"tiny-byte-gpt".to_vec());
			assert_eq!(lineage.sources.len(), 2);
			assert_eq!(lineage.provider, PROVIDER);
			assert_eq!(model.provenance.records, Some(records()));
			assert_eq!(lineage.records, Some(records()));
		});
	}

	#[test]
	fn a_result_for_another_version_is_refused_and_the_job_stays_open() {
		ExtBuilder::build_and_execute(|| {
			let job = request();
			let mut cases: Vec<(TrainingResult, Error<Test>)> = Vec::new();
			let mut other = result();
			other.training_set.versions[1] = (1, 0, root_of(1, 0));
			cases.push((other, Error::<Test>::WrongTrainingSet));
			let mut swapped = result();
			let mut versions = swapped.training_set.versions.to_vec();
			versions.swap(0, 1);
			swapped.training_set.versions = versions.try_into().unwrap();
			cases.push((swapped, Error::<Test>::WrongTrainingSet));
			let mut fewer = result();
			fewer.training_set.versions.pop();
			cases.push((fewer, Error::<Test>::WrongTrainingSet));
			let mut root = result();
			root.training_set.versions[0].2 = H256::repeat_byte(3);
			cases.push((root, Error::<Test>::RootMismatch));
			let mut seed = result();
			seed.training_set.split_seed = 43;
			cases.push((seed, Error::<Test>::WrongSplitSeed));
			let mut empty = result();
			empty.artifact.length = 0;
			cases.push((empty, Error::<Test>::IncompleteResult));
			let mut no_steps = result();
			no_steps.metrics.steps = 0;
			cases.push((no_steps, Error::<Test>::IncompleteResult));
			// A model must say what it was trained on, with an index to trace its outputs by.
			let mut nothing_trained = result();
			nothing_trained.records.trained = 0;
			cases.push((nothing_trained, Error::<Test>::IncompleteResult));
			let mut no_manifest = result();
			no_manifest.records.manifest.length = 0;
			cases.push((no_manifest, Error::<Test>::IncompleteResult));
			let mut no_index = result();
			no_index.records.corpus_index.length = 0;
			cases.push((no_index, Error::<Test>::IncompleteResult));
			// More contributions trained on than versions 0/0 and 1/1 hold (3 and 4).
			let mut too_many = result();
			too_many.records.trained = 8;
			cases.push((too_many, Error::<Test>::WrongTrainingSet));
			let mut empty_features = result();
			empty_features.records.features =
				Some(FileRef { content_hash: H256::repeat_byte(13), length: 0 });
			cases.push((empty_features, Error::<Test>::IncompleteResult));
			for (bad, error) in cases {
				assert_noop!(deliver(job, &bad), error);
			}
			assert_noop!(
				Models::on_result(job, JobKind::Training, &[], &result().encode()[..20]),
				Error::<Test>::BadResult
			);
			let mut trailing = result().encode();
			trailing.push(0);
			assert_noop!(
				Models::on_result(job, JobKind::Training, &[], &trailing),
				Error::<Test>::BadResult
			);
			assert!(TrainingRequests::<Test>::get(job).is_some());
			assert_eq!(pool(0, 0), (10, 0));
			assert_ok!(deliver(job, &result()));
		});
	}

	#[test]
	fn a_result_for_a_job_that_is_not_training_is_refused() {
		ExtBuilder::build_and_execute(|| {
			let job = request();
			assert_noop!(
				Models::on_result(job, JobKind::Inference, &[], &result().encode()),
				Error::<Test>::UnknownTraining
			);
			assert_noop!(deliver(job + 1, &result()), Error::<Test>::UnknownTraining);
		});
	}

	#[test]
	fn an_abandoned_job_refunds_access_fees_and_deposit_and_leaves_no_model() {
		ExtBuilder::build_and_execute(|| {
			let before = free(ALICE);
			let job = request();
			Models::on_abandoned(job, JobKind::Training, &[]);
			System::assert_last_event(Event::TrainingAbandoned { job, requester: ALICE }.into());
			assert_eq!((free(ALICE), held(ALICE)), (before, 0));
			assert_eq!(pool(0, 0), (0, 0));
			assert!(TrainingRequests::<Test>::get(job).is_none());
			assert_eq!(NextModelId::<Test>::get(), 0);
			// A late result finds nothing to register.
			assert_noop!(deliver(job, &result()), Error::<Test>::UnknownTraining);
		});
	}
}

mod lifecycle {
	use super::*;

	#[test]
	fn the_owner_publishes_reprices_and_retires_a_model() {
		ExtBuilder::build_and_execute(|| {
			let model = trained();
			let share = Perbill::from_percent(30);
			assert_ok!(Models::publish(RuntimeOrigin::signed(ALICE), model, 5, share));
			System::assert_last_event(
				Event::ModelPublished { model, price_per_1k_tokens: 5, contributor_share: share }
					.into(),
			);
			assert_ok!(Models::publish(RuntimeOrigin::signed(ALICE), model, 7, share));
			assert_eq!(
				ModelInfo::<Test>::get(model).unwrap().status,
				ModelStatus::Published { price_per_1k_tokens: 7, contributor_share: share }
			);
			assert_noop!(
				Models::publish(RuntimeOrigin::signed(ALICE), model, 7, Perbill::from_percent(9)),
				Error::<Test>::ShareBelowMinimum
			);
			assert_noop!(
				Models::remove(RuntimeOrigin::signed(ALICE), model),
				Error::<Test>::NotDraft
			);
			assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), model));
			System::assert_last_event(Event::ModelRetired { model }.into());
			assert_noop!(
				Models::publish(RuntimeOrigin::signed(ALICE), model, 5, share),
				Error::<Test>::ModelRetired
			);
			assert_noop!(
				Models::retire(RuntimeOrigin::signed(ALICE), model),
				Error::<Test>::ModelRetired
			);
			assert_eq!(held(ALICE), deposit());
		});
	}

	#[test]
	fn a_stranger_cannot_publish_retire_remove_or_give_away_someone_elses_model() {
		ExtBuilder::build_and_execute(|| {
			let model = trained();
			let share = Perbill::from_percent(30);
			assert_noop!(
				Models::publish(RuntimeOrigin::signed(BOB), model, 5, share),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Models::retire(RuntimeOrigin::signed(BOB), model),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Models::remove(RuntimeOrigin::signed(BOB), model),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Models::offer_ownership(RuntimeOrigin::signed(BOB), model, Some(BOB)),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Models::accept_ownership(RuntimeOrigin::signed(BOB), model),
				Error::<Test>::NotOfferedOwnership
			);
			assert_noop!(
				Models::publish(RuntimeOrigin::signed(ALICE), 9, 5, share),
				Error::<Test>::UnknownModel
			);
		});
	}

	#[test]
	fn removing_a_draft_releases_its_deposit() {
		ExtBuilder::build_and_execute(|| {
			let model = trained();
			assert_ok!(Models::remove(RuntimeOrigin::signed(ALICE), model));
			System::assert_last_event(Event::ModelRemoved { model, deposit: deposit() }.into());
			assert_eq!(held(ALICE), 0);
			assert!(ModelInfo::<Test>::get(model).is_none());
			assert!(Models::lineage(model).is_none());
		});
	}

	#[test]
	fn ownership_and_deposit_pass_only_to_an_account_that_accepts() {
		ExtBuilder::build_and_execute(|| {
			let model = trained();
			assert_ok!(Models::offer_ownership(RuntimeOrigin::signed(ALICE), model, Some(BOB)));
			System::assert_last_event(Event::ModelOwnershipOffered { model, to: Some(BOB) }.into());
			assert_ok!(Models::accept_ownership(RuntimeOrigin::signed(BOB), model));
			System::assert_last_event(
				Event::ModelOwnershipTransferred { model, from: ALICE, to: BOB }.into(),
			);
			assert_eq!((held(ALICE), held(BOB)), (0, deposit()));
			let record = ModelInfo::<Test>::get(model).unwrap();
			assert_eq!((record.owner, record.pending_owner), (BOB, None));
			assert_noop!(
				Models::accept_ownership(RuntimeOrigin::signed(BOB), model),
				Error::<Test>::NotOfferedOwnership
			);
		});
	}

	#[test]
	fn an_account_that_cannot_hold_the_deposit_cannot_take_a_model() {
		ExtBuilder::build_and_execute(|| {
			let model = trained();
			assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(POOR), BOB, 100));
			assert_ok!(Models::offer_ownership(RuntimeOrigin::signed(ALICE), model, Some(POOR)));
			assert_noop!(
				Models::accept_ownership(RuntimeOrigin::signed(POOR), model),
				TokenError::FundsUnavailable
			);
			assert_eq!(held(ALICE), deposit());
		});
	}
}

mod attacks {
	use super::*;

	#[test]
	fn an_owner_who_raises_the_access_fee_cannot_make_a_request_cost_more_than_its_max_fee() {
		ExtBuilder::build_and_execute(|| {
			let before = free(ALICE);
			// The owner raises datanet 0's fee from 10 to 45 while Alice's request waits.
			publish(0, 0, 3, 45);
			assert_noop!(train_on(vec![(0, 0)], lora()), Error::<Test>::NoProviderAvailable);
			publish(0, 0, 3, 60);
			assert_noop!(train_on(vec![(0, 0)], lora()), Error::<Test>::AccessFeesAboveMaxFee);
			assert_eq!((free(ALICE), held(ALICE)), (before, 0));
		});
	}

	#[test]
	fn training_on_a_datanet_closed_after_the_request_still_delivers_and_pays() {
		ExtBuilder::build_and_execute(|| {
			let job = request();
			close(0);
			assert_ok!(deliver(job, &result()));
			assert_eq!(pool(0, 0), (0, 10));
		});
	}

	#[test]
	fn a_request_cannot_name_more_versions_than_the_result_can_commit_to() {
		ExtBuilder::build_and_execute(|| {
			publish(4, 0, 1, 0);
			let eight: Vec<(u32, u32)> = (0..8)
				.map(|d| {
					publish(10 + d, 0, 1, 0);
					(10 + d, 0)
				})
				.collect();
			assert_ok!(train_on(eight, lora()));
			let spec =
				TrainingSpec::decode(&mut &JOBS.with(|j| j.borrow()[0].2.clone())[..]).unwrap();
			assert_eq!(spec.sources.len(), 8);
			assert!(spec.encode().len() <= 1_024, "the payload fits the market's limit");
			assert!(
				result().encode().len() + 8 * 40 <= 1_024,
				"a full result fits the market's limit"
			);
		});
	}
}

mod migrations {
	use super::*;
	use crate::{
		migrations::v1::{v0, MigrateV0ToV1},
		ModelId, ModelOf, Provenance,
	};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	#[test]
	fn models_of_version_0_keep_everything_and_gain_no_records() {
		ExtBuilder::build_and_execute(|| {
			let model = trained();
			let new = ModelInfo::<Test>::get(model).unwrap();
			let p = new.provenance.clone();
			let old = v0::Model {
				owner: new.owner,
				pending_owner: new.pending_owner,
				name: new.name.clone(),
				description: new.description.clone(),
				artifact: new.artifact,
				hyperparameters: new.hyperparameters.clone(),
				metrics: new.metrics,
				provenance: v0::Provenance {
					base_model: p.base_model,
					job: p.job,
					provider: p.provider,
					sources: p.sources.clone(),
					split_seed: p.split_seed,
				},
				status: new.status,
				deposit: new.deposit,
				created_at: new.created_at,
			};
			// Two models as version 0 wrote them, the second under another id.
			let key = |id: ModelId| ModelInfo::<Test>::hashed_key_for(id);
			frame_support::storage::unhashed::put_raw(&key(model), &codec::Encode::encode(&old));
			frame_support::storage::unhashed::put_raw(&key(7), &codec::Encode::encode(&old));
			StorageVersion::new(0).put::<Models>();
			assert!(ModelInfo::<Test>::try_get(model).is_err(), "version 0 does not decode as 1");

			MigrateV0ToV1::<Test>::on_runtime_upgrade();
			assert_eq!(Models::on_chain_storage_version(), 1);
			let expected = ModelOf::<Test> {
				provenance: Provenance { records: None, ..new.provenance.clone() },
				..new.clone()
			};
			assert_eq!(ModelInfo::<Test>::get(model), Some(expected.clone()));
			assert_eq!(ModelInfo::<Test>::get(7), Some(expected));
			// Run again, it does nothing: the storage version says it ran (a version 0 record
			// written now stays as it is).
			frame_support::storage::unhashed::put_raw(&key(7), &codec::Encode::encode(&old));
			MigrateV0ToV1::<Test>::on_runtime_upgrade();
			assert!(ModelInfo::<Test>::try_get(7).is_err());
			// Id 7 is beyond the next id, which the registry never assigned: it goes before the
			// invariants are checked.
			frame_support::storage::unhashed::kill(&key(7));
		});
	}
}
