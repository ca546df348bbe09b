//! ModelFactory as the runtime composes it: genesis registers the base models, governance's
//! protocol-parameters track registers more, a training request reserves the datanet's access
//! fee and creates a job in the compute market, the provider's result reaches the model registry
//! through the market (and only a matching one), and an abandoned job refunds everything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use common::preset_ext;
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		Get, UnfilteredDispatchable,
	},
};
use openledger_runtime::{
	currency::OPEN, genesis_config_presets, AccountId, Balance, Balances, Compute, Datanets,
	Models, Runtime, RuntimeOrigin, System,
};
use pallet_compute::{Hardware, JobKind, Offer, ProviderInput};
use pallet_models::{
	Architecture, FileRef, Hyperparameters, Method, Metrics, ModelStatus, TargetModule,
	TrainingResult, TrainingSetCommitment,
};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Eve, Ferdie};
use sp_runtime::Permill;

const PRICE: Balance = 5 * OPEN;
const ACCESS_FEE: Balance = 2 * OPEN;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}

/// A dev chain with a training provider (Ferdie) and Alice's datanet 0, whose version 0 holds
/// two of Bob's contributions and costs `ACCESS_FEE` to train on.
fn setup() -> sp_io::TestExternalities {
	let mut ext = preset_ext("development");
	ext.execute_with(|| {
		System::set_block_number(1);
		let input = ProviderInput {
			endpoint: b"http://127.0.0.1:9100".to_vec(),
			hardware: Hardware { cpu_cores: 2, memory_mib: 4096, gpus: 0, gpu_memory_mib: 0 },
			concurrency: 2,
			offers: vec![Offer { kind: JobKind::Training, price: PRICE }],
		};
		assert_ok!(Compute::register(signed(Ferdie.into()), input, 1_000 * OPEN));
		common::bobs_published_version();
		assert_ok!(Datanets::set_access_fee(signed(Alice.into()), 0, ACCESS_FEE));
	});
	ext
}

fn hyperparameters() -> Hyperparameters {
	Hyperparameters {
		method: Method::Lora {
			rank: 8,
			alpha: 16,
			targets: vec![TargetModule::Query, TargetModule::Value].try_into().unwrap(),
		},
		epochs: 1,
		max_steps: 100,
		learning_rate: 3_000,
		warmup_steps: 10,
		batch_size: 8,
		sequence_length: 64,
		eval_fraction: Permill::from_percent(10),
		seed: 1,
	}
}

/// Eve asks for training on datanet 0 version 0; returns the job.
fn request() -> u64 {
	assert_ok!(Models::train(
		signed(Eve.into()),
		0,
		vec![(0, 0)],
		hyperparameters(),
		50 * OPEN,
		b"facts-adapter".to_vec(),
		vec![]
	));
	pallet_models::TrainingRequests::<Runtime>::iter_keys().next().unwrap()
}

fn result(root: H256) -> Vec<u8> {
	codec::Encode::encode(&TrainingResult {
		artifact: FileRef { content_hash: H256::repeat_byte(9), length: 8_192 },
		metrics: Metrics { steps: 100, tokens: 51_200, ..Default::default() },
		training_set: TrainingSetCommitment {
			versions: vec![(0, 0, root)].try_into().unwrap(),
			split_seed: 1,
		},
		records: common::training_records(),
	})
}

#[test]
fn genesis_registers_the_tiny_model_and_smollm2() {
	preset_ext("local_testnet").execute_with(|| {
		let tiny = pallet_models::BaseModels::<Runtime>::get(0).unwrap();
		assert_eq!(tiny.architecture, Architecture::TinyByteGpt);
		assert_eq!(tiny.weights.content_hash, H256(genesis_config_presets::TINY_WEIGHTS_HASH));
		let smol = pallet_models::BaseModels::<Runtime>::get(1).unwrap();
		assert_eq!(smol.name.to_vec(), b"SmolLM2-135M-Instruct".to_vec());
		assert_eq!(smol.architecture, Architecture::Llama);
		assert_eq!(smol.weights.length, genesis_config_presets::SMOLLM2_WEIGHTS_SIZE);
	});
}

#[test]
fn the_protocol_parameters_track_registers_base_models_and_accounts_cannot() {
	preset_ext("local_testnet").execute_with(|| {
		let input = genesis_config_presets::base_models()[0].clone();
		let call = pallet_models::Call::<Runtime>::register_base_model { input: input.clone() };
		assert_noop!(
			Models::register_base_model(signed(Alice.into()), input),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_ok!(
			call.dispatch_bypass_filter(pallet_governance::Origin::ProtocolParameters.into())
		);
		assert_eq!(pallet_models::NextBaseModelId::<Runtime>::get(), 3);
	});
}

#[test]
fn a_training_job_goes_through_the_market_and_registers_the_model() {
	setup().execute_with(|| {
		let (eve, ferdie) = (Eve.to_account_id(), Ferdie.to_account_id());
		let eve_before = free(&eve);
		let job = request();
		let deposit = pallet_models::TrainingRequests::<Runtime>::get(job).unwrap().deposit;
		// The access fee comes out of the 50 OPEN; the job's escrow holds the rest.
		assert_eq!(free(&eve), eve_before - 50 * OPEN - deposit);
		assert_eq!(pallet_compute::Jobs::<Runtime>::get(job).unwrap().fee, 50 * OPEN - ACCESS_FEE);
		let info = pallet_compute::Jobs::<Runtime>::get(job).unwrap();
		assert_eq!(info.kind, JobKind::Training);
		assert_ok!(Compute::accept_job(signed(ferdie.clone()), job));
		let root = pallet_datanets::Versions::<Runtime>::get(0, 0).unwrap().root;
		// A result for another root is refused: the provider is not paid and the job stays.
		assert_noop!(
			Compute::submit_result(signed(ferdie.clone()), job, result(H256::repeat_byte(7))),
			pallet_models::Error::<Runtime>::RootMismatch
		);
		let ferdie_before = free(&ferdie);
		assert_ok!(Compute::submit_result(signed(ferdie.clone()), job, result(root)));
		assert_eq!(free(&ferdie), ferdie_before + PRICE);
		assert_eq!(free(&eve), eve_before - PRICE - ACCESS_FEE - deposit);
		let model = pallet_models::ModelInfo::<Runtime>::get(0).unwrap();
		assert_eq!(model.status, ModelStatus::Draft);
		assert_eq!(model.provenance.provider, ferdie);
		let lineage = Models::lineage(0).unwrap();
		assert_eq!(lineage.sources[0].root, root);
		assert_eq!(lineage.sources[0].contributions, 2);
		// The access fee waits for Bob: 100 and 200 of 300 bytes.
		let bob = Bob.to_account_id();
		let bob_before = free(&bob);
		assert_ok!(Datanets::claim_access_reward(signed(bob.clone()), 0, 0, 0));
		assert_ok!(Datanets::claim_access_reward(signed(bob.clone()), 0, 0, 1));
		// Each first claim on the version holds the deposit of its record.
		let claim_deposits =
			2 * <<Runtime as pallet_datanets::Config>::AccessClaimDeposit as Get<Balance>>::get();
		assert_eq!(free(&bob), bob_before + ACCESS_FEE / 3 + ACCESS_FEE * 2 / 3 - claim_deposits);
		assert_eq!(
			Balances::balance_on_hold(
				&pallet_datanets::HoldReason::AccessClaimDeposit.into(),
				&bob
			),
			claim_deposits
		);
	});
}

#[test]
fn an_abandoned_training_job_refunds_fee_access_fee_and_deposit() {
	setup().execute_with(|| {
		let eve = Eve.to_account_id();
		let eve_before = free(&eve);
		let job = request();
		assert_ok!(Compute::fail_job(signed(Ferdie.into()), job));
		assert_eq!(free(&eve), eve_before);
		assert!(pallet_models::TrainingRequests::<Runtime>::get(job).is_none());
		assert_eq!(pallet_models::NextModelId::<Runtime>::get(), 0);
		assert_eq!(pallet_datanets::AccessPools::<Runtime>::get(0, 0).pending, 0);
	});
}
