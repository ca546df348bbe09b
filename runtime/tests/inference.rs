//! Paid inference as the runtime composes it: a model trained through the compute market and
//! published, a provider's offer for its base, a user's prepaid OPEN and an sr25519-signed API
//! key, a settlement whose fees reach the community pot, the provider, the owner and the
//! contributors of the datanet the model was trained on, each to the unit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use codec::Encode;
use common::preset_ext;
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, Get},
	BoundedVec,
};
use openledger_runtime::{
	configs::{dynamic_params::inference as params, CommunityPotAccount},
	currency::OPEN,
	AccountId, Balance, Balances, Compute, Inference, Models, Runtime, RuntimeOrigin, Signature,
	System,
};
use pallet_compute::{Hardware, JobKind, Offer, ProviderInput};
use pallet_inference::{Authorisation, KeyModel, KeyRecords, Record, SignedAuthorisation};
use pallet_models::{
	FileRef, Hyperparameters, Method, Metrics, TargetModule, TrainingResult, TrainingSetCommitment,
};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Bob, Dave, Eve, Ferdie};
use sp_runtime::{Perbill, Permill};

const MODEL_PRICE: Balance = 2 * OPEN;
const SERVING_PRICE: Balance = OPEN;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// A dev chain where Ferdie trained model 0 for Eve on Alice's datanet 0 (two contributions of
/// Bob's, of 100 and 200 bytes), Eve published it at `MODEL_PRICE` with 30% for the
/// contributors, and Ferdie serves its base at `SERVING_PRICE`.
fn setup() -> sp_io::TestExternalities {
	let mut ext = preset_ext("development");
	ext.execute_with(|| {
		System::set_block_number(1);
		let input = ProviderInput {
			endpoint: b"http://127.0.0.1:9100".to_vec(),
			hardware: Hardware { cpu_cores: 2, memory_mib: 4096, gpus: 0, gpu_memory_mib: 0 },
			concurrency: 2,
			offers: vec![
				Offer { kind: JobKind::Training, price: OPEN },
				Offer { kind: JobKind::Inference, price: OPEN },
			],
		};
		assert_ok!(Compute::register(signed(Ferdie.into()), input, 1_000 * OPEN));
		common::bobs_published_version();
		let hyperparameters = Hyperparameters {
			method: Method::Lora {
				rank: 8,
				alpha: 16,
				targets: vec![TargetModule::Query].try_into().unwrap(),
			},
			epochs: 1,
			max_steps: 100,
			learning_rate: 3_000,
			warmup_steps: 10,
			batch_size: 8,
			sequence_length: 64,
			eval_fraction: Permill::from_percent(10),
			seed: 1,
		};
		assert_ok!(Models::train(
			signed(Eve.into()),
			0,
			vec![(0, 0)],
			hyperparameters,
			50 * OPEN,
			b"facts".to_vec(),
			vec![]
		));
		let job = pallet_models::TrainingRequests::<Runtime>::iter_keys().next().unwrap();
		assert_ok!(Compute::accept_job(signed(Ferdie.into()), job));
		let root = pallet_datanets::Versions::<Runtime>::get(0, 0).unwrap().root;
		let result = TrainingResult {
			artifact: FileRef { content_hash: H256::repeat_byte(9), length: 8_192 },
			metrics: Metrics { steps: 100, tokens: 51_200, ..Default::default() },
			training_set: TrainingSetCommitment {
				versions: vec![(0, 0, root)].try_into().unwrap(),
				split_seed: 1,
			},
			records: common::training_records(),
		};
		assert_ok!(Compute::submit_result(signed(Ferdie.into()), job, result.encode()));
		assert_ok!(Models::publish(signed(Eve.into()), 0, MODEL_PRICE, Perbill::from_percent(30)));
		assert_ok!(Inference::set_offer(signed(Ferdie.into()), 0, SERVING_PRICE));
	});
	ext
}

type Key = SignedAuthorisation<AccountId, Balance, u32, H256, Signature>;

/// `signer`'s signature of an authorisation of `user`'s funds for Ferdie on model 0.
fn key(user: Sr25519Keyring, signer: Sr25519Keyring, max_spend: Balance) -> Key {
	let authorisation = Authorisation {
		genesis: System::block_hash(0),
		user: user.to_account_id(),
		provider: Ferdie.to_account_id(),
		models: BoundedVec::truncate_from(vec![KeyModel {
			model: 0,
			model_price: MODEL_PRICE,
			serving_price: SERVING_PRICE,
		}]),
		max_spend,
		expires: 1_000,
		nonce: 0,
	};
	let signature = signer.sign(&Inference::signing_payload(&authorisation));
	SignedAuthorisation { authorisation, signature: Signature::Sr25519(signature) }
}

fn record(seq: u64, prompt_tokens: u32, completion_tokens: u32) -> Record<Balance, H256> {
	let tokens = u64::from(prompt_tokens + completion_tokens);
	Record {
		seq,
		model: 0,
		prompt_tokens,
		completion_tokens,
		fee: pallet_inference::fee_for(tokens, MODEL_PRICE)
			+ pallet_inference::fee_for(tokens, SERVING_PRICE),
		request: H256::repeat_byte(seq as u8),
	}
}

#[test]
fn an_answer_is_paid_and_its_fee_reaches_the_pot_the_provider_the_owner_and_the_contributors() {
	setup().execute_with(|| {
		let (dave, eve, ferdie, bob) = (
			Dave.to_account_id(),
			Eve.to_account_id(),
			Ferdie.to_account_id(),
			Bob.to_account_id(),
		);
		assert_ok!(Inference::deposit(signed(dave.clone()), ferdie.clone(), 100 * OPEN));
		let key = key(Dave, Dave, 10 * OPEN);
		let view = Inference::authorise(&key.encode(), &ferdie).unwrap();
		assert_eq!(view.available, 100 * OPEN);
		let pot = CommunityPotAccount::get();
		let before = [&pot, &ferdie, &eve, &bob].map(Balances::balance);
		let issuance = Balances::total_issuance();

		// 1,500 tokens: 3 OPEN for the model, 1.5 for serving.
		assert_ok!(Inference::settle(
			signed(ferdie.clone()),
			vec![KeyRecords { key: key.clone(), records: vec![record(1, 1_000, 500)] }]
		));
		for account in [&pot, &ferdie, &eve] {
			assert_ok!(Inference::claim_rewards(signed(dave.clone()), account.clone()));
		}
		assert_ok!(Inference::claim_contribution_rewards(signed(bob.clone()), 0, 0, 0));
		assert_ok!(Inference::claim_contribution_rewards(signed(bob.clone()), 0, 0, 1));

		let protocol_share = params::ProtocolShare::get();
		assert_eq!(protocol_share, Perbill::from_percent(5));
		let milli = OPEN / 1_000;
		// The protocol: 5% of 3 and of 1.5. The provider: 95% of 1.5. The model's 2.85: 30% to
		// the contributors (0.855), the rest to the owner (1.995).
		let after = [&pot, &ferdie, &eve, &bob].map(Balances::balance);
		assert_eq!(after[0] - before[0], 225 * milli);
		// Ferdie, the first provider to settle, paid the existential deposit of the pallet's
		// account.
		let ed = openledger_runtime::currency::EXISTENTIAL_DEPOSIT;
		assert_eq!(after[1] - before[1], 1_425 * milli - ed);
		assert_eq!(after[2] - before[2], 1_995 * milli);
		assert_eq!(after[3] - before[3], 855 * milli);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(
			pallet_inference::PrepaidFunds::<Runtime>::get(&dave, &ferdie).unwrap().held,
			100 * OPEN - 4_500 * milli
		);
		let earnings = pallet_inference::ModelEarnings::<Runtime>::get(0);
		assert_eq!(
			(earnings.inferences, earnings.tokens, earnings.fees),
			(1, 1_500, 4_500 * milli)
		);

		// Replayed, and over the key's maximum: refused, nothing moves.
		assert_noop!(
			Inference::settle(
				signed(ferdie.clone()),
				vec![KeyRecords { key: key.clone(), records: vec![record(1, 1_000, 500)] }]
			),
			pallet_inference::Error::<Runtime>::Replayed
		);
		assert_noop!(
			Inference::settle(
				signed(ferdie.clone()),
				vec![KeyRecords { key: key.clone(), records: vec![record(2, 2_000, 0)] }]
			),
			pallet_inference::Error::<Runtime>::SpendLimitExceeded
		);
	})
}

#[test]
fn a_key_signed_by_anyone_but_its_user_spends_nothing() {
	setup().execute_with(|| {
		let ferdie = Ferdie.to_account_id();
		assert_ok!(Inference::deposit(signed(Dave.into()), ferdie.clone(), 100 * OPEN));
		let forged = key(Dave, Bob, 10 * OPEN);
		assert_eq!(
			Inference::authorise(&forged.encode(), &ferdie).unwrap_err(),
			pallet_inference::runtime_api::KeyRefusal::BadSignature
		);
		assert_noop!(
			Inference::settle(
				signed(ferdie),
				vec![KeyRecords { key: forged, records: vec![record(1, 10, 10)] }]
			),
			pallet_inference::Error::<Runtime>::BadSignature
		);
	})
}

#[test]
fn the_largest_settlement_fits_a_block_and_5000_records_take_at_most_half() {
	use frame_support::{dispatch::DispatchClass, traits::Get as _};
	use openledger_runtime::configs::RuntimeBlockWeights;
	use pallet_inference::WeightInfo;
	type Weights = <Runtime as pallet_inference::Config>::WeightInfo;
	let keys: u32 = <Runtime as pallet_inference::Config>::MaxSettlementKeys::get();
	let records: u32 = <Runtime as pallet_inference::Config>::MaxSettlementRecords::get();
	let largest = Weights::settle(keys, records - keys, pallet_inference::MAX_BATCH_MODELS);
	let block = RuntimeBlockWeights::get();
	let normal = block.get(DispatchClass::Normal);
	let max_extrinsic = normal.max_extrinsic.expect("normal extrinsics are bounded");
	assert!(
		largest.all_lte(max_extrinsic),
		"the largest settlement ({largest}) must fit an extrinsic ({max_extrinsic})"
	);
	let budget = normal.max_total.expect("the normal class is bounded");
	for (label, weight) in [
		("one key", Weights::settle(1, 4_999, 1)),
		("1,000 users", Weights::settle(1_000, 4_000, 1)),
	] {
		let share = weight.ref_time() as f64 / budget.ref_time() as f64 * 100.0;
		println!(
			"5,000 records, {label}: {:.1} ms, {share:.1}% of a block",
			weight.ref_time() as f64 / 1e9
		);
		assert!(share <= 50.0, "5,000 records of {label} take {share:.1}% of a block");
	}
}
