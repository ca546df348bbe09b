//! The chain every input starts from, and the shaping of the calls that need what only the
//! harness knows.
//!
//! Ids 0 to 3 name nothing on a fresh chain, and most of OpenLedger's calls act on something that
//! exists: a datanet with a published version, a provider with a bond, a training job, a
//! published model with an offer to serve it, prepaid funds, a grant, a referendum. [`blocks`]
//! makes one of each with real transactions from the harness's accounts, which the harness
//! ([`crate::Fuzzer`]) applies block after block with every invariant checked, once, and every
//! input starts from the state they leave, where a live chain is, so that the generator's small
//! ids name things that exist:
//!
//! - datanet 0, "facts", Alice's and curated by her, with Bob's contributions 0 and 1 accepted
//!   and published as version 0; Charlie's commitment to a third content, not yet revealed;
//! - Ferdie a compute provider (training, inference and validation) with a bond of 1,000 OPEN;
//! - model 0, trained for Eve by Ferdie on version 0 and published at [`MODEL_PRICE`]; Ferdie's
//!   offer to serve its base at [`SERVING_PRICE`], and Charlie's 1,000 OPEN prepaid with Ferdie;
//!   jobs 1 and 2, two more training requests of Eve's, the first accepted by Ferdie (its result
//!   due), the second waiting for him to accept it;
//! - grant application 0, Bob's, submitted;
//! - referendum 0 on the small spender track with its decision deposit, Dave's conviction vote on
//!   it, and Eve's delegation on the root track: two accounts whose OPEN is vote-locked.
//!
//! [`shape`] then fills in what random bytes cannot: the signature of an inference key by its
//! user's key, the fees that a key's prices give, a training or validation result that matches
//! the job's request, a contribution that reveals a commitment; and [`actor`] names who of the
//! world makes a call, to sign it half the time.

use arbitrary::{Result, Unstructured};
use codec::Encode;
use frame_support::{traits::Bounded, BoundedVec};
use openledger_runtime::{
	currency::OPEN, AccountId, Balance, OriginCaller, Runtime, RuntimeCall, Signature,
};
use pallet_compute::{Hardware, JobKind, Offer, ProviderInput};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_datanets::{DataFormat, DataKind, MetadataInput, RulesInput, Verdict};
use pallet_governance::Origin as GovernanceOrigin;
use pallet_grants::{MilestoneInput, Tier};
use pallet_inference::{Authorisation, KeyModel, KeyRecords, Record, SignedAuthorisation};
use pallet_models::{
	FileRef, Hyperparameters, Method, Metrics, TargetModule, TrainingRecords, TrainingResult,
	TrainingSetCommitment,
};
use sp_core::{Pair, H256};
use sp_runtime::{traits::BlakeTwo256, MultiAddress, Perbill, Permill};

use crate::Signer;

/// The contents the world's accounts commit to (and the dictionary names).
pub fn contents() -> [H256; 3] {
	[H256::repeat_byte(1), H256::repeat_byte(2), H256::repeat_byte(3)]
}

/// Model 0's price per 1,000 tokens.
pub const MODEL_PRICE: Balance = OPEN;
/// Ferdie's price per 1,000 tokens for serving model 0's base.
pub const SERVING_PRICE: Balance = OPEN / 100;

/// A transaction of the world: who signs it, and the call.
pub type Transaction = (&'static str, RuntimeCall);

/// The world's transactions, block by block. `id` finds a harness account by name; `contents`
/// are the contents the dictionary names.
pub fn blocks(id: &dyn Fn(&str) -> AccountId, contents: &[H256]) -> Vec<Vec<Transaction>> {
	let content = |n: usize| contents.get(n).copied().unwrap_or_default();
	let commit = |who: &str, n: usize| {
		RuntimeCall::Datanets(pallet_datanets::Call::commit {
			commitment: pallet_datanets::commitment_of(&id(who), 0, &content(n)),
		})
	};
	let hyperparameters = hyperparameters(1);
	let train = |name: &[u8]| {
		RuntimeCall::Models(pallet_models::Call::train {
			base_model: 0,
			sources: vec![(0, 0)],
			hyperparameters: hyperparameters.clone(),
			max_fee: 50 * OPEN,
			name: name.to_vec(),
			description: vec![],
		})
	};
	let spend = RuntimeCall::Treasury(pallet_treasury::Call::spend_local {
		amount: 100 * OPEN,
		beneficiary: MultiAddress::Id(id("bob")),
	});
	let proposal =
		Bounded::<RuntimeCall, BlakeTwo256>::Inline(BoundedVec::truncate_from(spend.encode()));
	vec![
		vec![
			(
				"ferdie",
				RuntimeCall::Compute(pallet_compute::Call::register {
					input: ProviderInput {
						endpoint: b"http://10.0.0.1:8080".to_vec(),
						hardware: Hardware {
							cpu_cores: 16,
							memory_mib: 65_536,
							gpus: 1,
							gpu_memory_mib: 81_920,
						},
						concurrency: 4,
						offers: vec![
							Offer { kind: JobKind::Training, price: OPEN },
							Offer { kind: JobKind::Inference, price: OPEN },
							Offer { kind: JobKind::ContributionValidation, price: OPEN / 10 },
						],
					},
					bond: 1_000 * OPEN,
				}),
			),
			(
				"alice",
				RuntimeCall::Datanets(pallet_datanets::Call::create {
					metadata: datanet_metadata(),
					rules: datanet_rules(id("alice")),
				}),
			),
			("bob", commit("bob", 0)),
			("bob", commit("bob", 1)),
			("charlie", commit("charlie", 2)),
			(
				"bob",
				RuntimeCall::Grants(pallet_grants::Call::submit {
					tier: Tier::Exploration,
					title: b"a datanet of licences".to_vec(),
					description: H256::repeat_byte(7),
					milestones: vec![
						MilestoneInput {
							amount: 10_000 * OPEN,
							description: b"the datanet".to_vec(),
							due: 100,
						},
						MilestoneInput {
							amount: 15_000 * OPEN,
							description: b"a model trained on it".to_vec(),
							due: 300,
						},
					],
				}),
			),
			(
				"alice",
				RuntimeCall::Referenda(pallet_referenda::Call::submit {
					proposal_origin: Box::new(OriginCaller::Origins(
						GovernanceOrigin::SmallSpender,
					)),
					proposal,
					enactment_moment: frame_support::traits::schedule::DispatchTime::After(1),
				}),
			),
			(
				"alice",
				RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index: 0 }),
			),
			(
				"dave",
				RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
					poll_index: 0,
					vote: AccountVote::Standard {
						vote: Vote { aye: true, conviction: Conviction::Locked3x },
						balance: 1_000 * OPEN,
					},
				}),
			),
			(
				"eve",
				RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::delegate {
					class: 0,
					to: MultiAddress::Id(id("dave")),
					conviction: Conviction::Locked1x,
					balance: 500 * OPEN,
				}),
			),
		],
		// A commitment is revealed in a later block than it was made.
		vec![
			("bob", contribute(0, content(0), 100)),
			("bob", contribute(0, content(1), 200)),
			("alice", review(0, 0)),
			("alice", review(0, 1)),
			("alice", RuntimeCall::Datanets(pallet_datanets::Call::publish_version { datanet: 0 })),
			("eve", train(b"facts")),
		],
		// Ferdie accepts job 0, trains and posts its result (built from the request by
		// `shape`); Eve publishes the model and asks for a second one.
		vec![
			("ferdie", RuntimeCall::Compute(pallet_compute::Call::accept_job { job: 0 })),
			(
				"ferdie",
				RuntimeCall::Compute(pallet_compute::Call::submit_result {
					job: 0,
					result: vec![],
				}),
			),
			(
				"eve",
				RuntimeCall::Models(pallet_models::Call::publish {
					model: 0,
					price_per_1k_tokens: MODEL_PRICE,
					contributor_share: Perbill::from_percent(30),
				}),
			),
			(
				"ferdie",
				RuntimeCall::Inference(pallet_inference::Call::set_offer {
					base_model: 0,
					price_per_1k_tokens: SERVING_PRICE,
				}),
			),
			(
				"charlie",
				RuntimeCall::Inference(pallet_inference::Call::deposit {
					provider: id("ferdie"),
					amount: 1_000 * OPEN,
				}),
			),
			("eve", train(b"facts, again")),
			("ferdie", RuntimeCall::Compute(pallet_compute::Call::accept_job { job: 1 })),
			("eve", train(b"facts, once more")),
		],
	]
}

/// LoRA of rank 8 on the query and value projections, one epoch of at most 100 steps.
fn hyperparameters(seed: u64) -> Hyperparameters {
	Hyperparameters {
		method: Method::Lora {
			rank: 8,
			alpha: 16,
			targets: BoundedVec::truncate_from(vec![TargetModule::Query, TargetModule::Value]),
		},
		epochs: 1,
		max_steps: 100,
		learning_rate: 3_000,
		warmup_steps: 10,
		batch_size: 8,
		sequence_length: 64,
		eval_fraction: Permill::from_percent(10),
		seed,
	}
}

fn datanet_metadata() -> MetadataInput {
	MetadataInput {
		name: b"facts".to_vec(),
		description: b"one fact per line".to_vec(),
		tags: vec![],
		kind: DataKind::Text,
		licence: b"CC-BY-4.0".to_vec(),
	}
}

/// A 10 OPEN contribution deposit, JSON Lines of at most 1 MiB, accepted on `curator`'s approval.
fn datanet_rules(curator: AccountId) -> RulesInput<AccountId, Balance> {
	RulesInput {
		contribution_deposit: 10 * OPEN,
		max_contribution_size: 1 << 20,
		accepted_formats: vec![DataFormat::JsonLines],
		curators: vec![curator],
		approvals_needed: 1,
	}
}

fn contribute(datanet: u32, content: H256, size: u64) -> RuntimeCall {
	RuntimeCall::Datanets(pallet_datanets::Call::contribute {
		datanet,
		content_hash: content,
		size,
		format: DataFormat::JsonLines,
		max_cost: Balance::MAX,
	})
}

fn review(datanet: u32, contribution: u32) -> RuntimeCall {
	RuntimeCall::Datanets(pallet_datanets::Call::review {
		datanet,
		contribution,
		verdict: Verdict::Accept,
	})
}

/// Who makes a call in the world.
#[derive(Clone, Copy, Debug)]
pub enum Actor {
	/// The harness account of this name.
	Signed(&'static str),
	/// A referendum of this track.
	Governance(GovernanceOrigin),
}

/// Who of the world makes the call named `call` (`pallet.call`) on what the world made, if
/// someone does: Ferdie the provider, Alice the datanet's owner and curator, Charlie with a
/// commitment and prepaid funds, Eve the model's owner, Bob the grant's applicant, the grants
/// track that decides grants.
pub fn actor(call: &str) -> Option<Actor> {
	let (pallet, name) = call.split_once('.')?;
	Some(match (pallet, name) {
		("Compute", _) | ("Inference", "set_offer" | "withdraw_offer" | "settle") => {
			Actor::Signed("ferdie")
		},
		(
			"Datanets",
			"contribute" | "withdraw_commitment" | "withdraw_stake" | "withdraw_unreviewed",
		)
		| ("Inference", "deposit" | "request_withdrawal" | "withdraw" | "revoke") => {
			Actor::Signed("charlie")
		},
		("Datanets", _) => Actor::Signed("alice"),
		("Models", "register_base_model" | "retire_base_model") => return None,
		("Models", _) => Actor::Signed("eve"),
		("Grants", "withdraw" | "submit_milestone") => Actor::Signed("bob"),
		("Grants", "approve" | "reject" | "cancel" | "accept_milestone" | "reject_milestone") => {
			Actor::Governance(GovernanceOrigin::GrantsExploration)
		},
		_ => return None,
	})
}

/// Fills in what the generator cannot know in `call`, signed by `signer`, when `u` says so (most
/// often): keys signed by their user and fees from their prices (`Inference.settle`), an
/// authorisation of the signer's for model 0 (`Inference.revoke`), a result that matches the job
/// (`Compute.submit_result`). `genesis` is the chain's genesis hash; `now` the current block.
pub fn shape(
	call: &mut RuntimeCall,
	u: &mut Unstructured,
	signer: &Signer,
	signers: &[Signer],
	genesis: H256,
	now: u32,
) -> Result<()> {
	match call {
		RuntimeCall::Inference(pallet_inference::Call::settle { batch }) => {
			if u.ratio(3, 4)? {
				// A batch as the signer would send it as a provider: a few keys of users (Charlie
				// prepaid with Ferdie), each with a few records of model 0.
				batch.clear();
				for _ in 0..u.int_in_range(1..=2)? {
					let user = match crate::named(signers, "charlie") {
						Some(charlie) if u.ratio(3, 4)? => charlie,
						_ => u.choose(signers)?,
					};
					let authorisation = world_authorisation(u, &user.id, &signer.id, genesis, now)?;
					let mut records = Vec::new();
					for _ in 0..u.int_in_range(1..=4)? {
						records.push(Record {
							seq: 0,
							model: if u.ratio(7, 8)? { 0 } else { u.int_in_range(1..=3)? },
							prompt_tokens: u.int_in_range(1..=2_000)?,
							completion_tokens: u.int_in_range(0..=500)?,
							fee: 0,
							request: H256(u.arbitrary()?),
						});
					}
					let signature =
						Signature::Ed25519(sp_core::ed25519::Signature::from_raw([0; 64]));
					batch.push(KeyRecords {
						key: SignedAuthorisation { authorisation, signature },
						records,
					});
				}
			}
			for key_records in batch.iter_mut() {
				let key = &mut key_records.key;
				if u.ratio(1, 2)? {
					// A key as a user's wallet makes it: for model 0 at its prices, served by
					// the signer.
					let user = u.choose(signers)?;
					key.authorisation = world_authorisation(u, &user.id, &signer.id, genesis, now)?;
				}
				let authorisation = &key.authorisation;
				if u.ratio(7, 8)? {
					// Signed by the user's key, or by another harness account's.
					let by = match signers.iter().find(|s| s.id == authorisation.user) {
						Some(user) if u.ratio(7, 8)? => user,
						_ => u.choose(signers)?,
					};
					let payload =
						pallet_inference::Pallet::<Runtime>::signing_payload(authorisation);
					key.signature = Signature::Ed25519(by.pair.sign(&payload));
				}
				let mut seq = u.int_in_range(1u64..=3)?;
				for record in key_records.records.iter_mut() {
					if u.ratio(7, 8)? {
						record.seq = seq;
						seq = seq.saturating_add(u.int_in_range(1u64..=2)?);
					}
					let prices =
						authorisation.models.iter().find(|m| m.model == record.model).copied();
					if let Some(prices) = prices.filter(|_| u.ratio(7, 8).unwrap_or(false)) {
						let tokens = u64::from(record.prompt_tokens)
							.saturating_add(u64::from(record.completion_tokens));
						record.fee =
							pallet_inference::fee_for(tokens, prices.model_price).saturating_add(
								pallet_inference::fee_for(tokens, prices.serving_price),
							);
					}
				}
			}
		},
		RuntimeCall::Inference(pallet_inference::Call::revoke { authorisation })
			if u.ratio(3, 4)? =>
		{
			let provider = u.choose(signers)?.id.clone();
			*authorisation = world_authorisation(u, &signer.id, &provider, genesis, now)?;
		},
		RuntimeCall::Datanets(pallet_datanets::Call::contribute {
			content_hash,
			format,
			max_cost,
			..
		}) if u.ratio(3, 4)? => {
			// A content the world's accounts committed to (Charlie's is not revealed yet), in the
			// format the world's datanet accepts, at any cost.
			*content_hash = *u.choose(&contents())?;
			*format = DataFormat::JsonLines;
			*max_cost = Balance::MAX;
		},
		RuntimeCall::Models(pallet_models::Call::train {
			base_model,
			sources,
			hyperparameters: h,
			..
		}) if u.ratio(3, 4)? => {
			// The world's published version, on a base model that exists, with hyperparameters
			// within bounds half the time.
			*base_model = u.int_in_range(0..=1)?;
			*sources = vec![(0, 0)];
			if u.arbitrary()? {
				*h = hyperparameters(u.arbitrary()?);
			}
		},
		RuntimeCall::Datanets(pallet_datanets::Call::create { metadata, rules })
			if u.ratio(1, 2)? =>
		{
			// A datanet like the world's, curated by its creator.
			*metadata = datanet_metadata();
			*rules = datanet_rules(signer.id.clone());
		},
		RuntimeCall::Inference(pallet_inference::Call::claim_rewards { account })
			if u.ratio(3, 4)? =>
		{
			// Those whom settlements pay: the provider and the model's owner.
			let who = *u.choose(&["ferdie", "eve"])?;
			if let Some(payee) = crate::named(signers, who) {
				*account = payee.id.clone();
			}
		},
		RuntimeCall::Compute(pallet_compute::Call::submit_result { job, result })
			if u.ratio(7, 8)? =>
		{
			if let Some(shaped) = result_for(*job, u)? {
				*result = shaped;
			}
		},
		_ => {},
	}
	Ok(())
}

/// An authorisation of `user`'s for `provider` on model 0 at the world's prices, as a wallet
/// writes it: this chain, a limit, an expiry ahead, a nonce.
fn world_authorisation(
	u: &mut Unstructured,
	user: &AccountId,
	provider: &AccountId,
	genesis: H256,
	now: u32,
) -> Result<Authorisation<AccountId, Balance, u32, H256>> {
	let mut models =
		vec![KeyModel { model: 0, model_price: MODEL_PRICE, serving_price: SERVING_PRICE }];
	if u.ratio(1, 4)? {
		models.push(KeyModel {
			model: u.int_in_range(1..=3)?,
			model_price: MODEL_PRICE,
			serving_price: SERVING_PRICE,
		});
	}
	Ok(Authorisation {
		genesis,
		user: user.clone(),
		provider: provider.clone(),
		models: BoundedVec::truncate_from(models),
		max_spend: *u.choose(&[OPEN / 10, 10 * OPEN, 1_000 * OPEN, 10_000 * OPEN])?,
		expires: now.saturating_add(*u.choose(&[0, 1, 10, 600, 1_000])?),
		nonce: u.int_in_range(0..=2)?,
	})
}

/// The result a provider posts for `job` when it did the work: a training result that commits
/// to the request's versions, or a validation report; `None` for a job of no such kind.
fn result_for(job: u64, u: &mut Unstructured) -> Result<Option<Vec<u8>>> {
	let Some(job_info) = pallet_compute::Jobs::<Runtime>::get(job) else { return Ok(None) };
	Ok(match job_info.kind {
		JobKind::Training => {
			let Some(request) = pallet_models::TrainingRequests::<Runtime>::get(job) else {
				return Ok(None);
			};
			let held: u32 = request.sources.iter().map(|s| s.contributions).sum();
			let file = |n: u8, length: u64| FileRef { content_hash: H256::repeat_byte(n), length };
			let result = TrainingResult {
				artifact: file(9, 8_192),
				metrics: Metrics { steps: 100, tokens: 51_200, ..Default::default() },
				training_set: TrainingSetCommitment {
					versions: BoundedVec::truncate_from(
						request.sources.iter().map(|s| (s.datanet, s.version, s.root)).collect(),
					),
					split_seed: request.hyperparameters.seed,
				},
				records: TrainingRecords {
					manifest: file(10, 600),
					trained_root: H256::repeat_byte(11),
					trained: u.int_in_range(1..=held.max(1))?,
					corpus_index: file(12, 9_000),
					features: None,
				},
			};
			Some(result.encode())
		},
		JobKind::ContributionValidation => {
			use pallet_datanets::{ValidationOutcome::*, ValidationReport};
			let outcome = *u.choose(&[Valid, Missing, HashMismatch, SizeMismatch, Malformed])?;
			let report = ValidationReport {
				outcome,
				score: u.int_in_range(0..=100)?,
				reason: BoundedVec::truncate_from(b"checked".to_vec()),
			};
			Some(report.encode())
		},
		JobKind::Inference => None,
	})
}
