//! Paid inference: providers' offers, prepaid OPEN, API keys that are signed spending
//! authorisations, and batch settlement. The protocol's share and the withdrawal delay are
//! protocol parameters (see [`super::parameters`]).

use frame_support::{parameter_types, PalletId};

use super::{monetary::CommunityPotAccount, parameters::dynamic_params::inference as params};
use crate::{
	time::{DAYS, HOURS},
	Balances, BlockNumber, Compute, Datanets, Models, Runtime, RuntimeEvent, RuntimeHoldReason,
	Signature,
};

parameter_types! {
	pub const InferencePalletId: PalletId = PalletId(*b"ol/infer");
	/// A revoked or expired key settles what was served under it for an hour more.
	pub const SettlementWindow: BlockNumber = HOURS;
	/// A key lives at most thirty days after the chain first sees it.
	pub const MaxKeyLifetime: BlockNumber = 30 * DAYS;
}

impl pallet_inference::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Signature = Signature;
	type Models = Models;
	type Providers = Compute;
	type Datanets = Datanets;
	type PalletId = InferencePalletId;
	/// The protocol's share goes to the community pot, as transaction fees do.
	type ProtocolPot = CommunityPotAccount;
	type ProtocolShare = params::ProtocolShare;
	type WithdrawalDelay = params::WithdrawalDelay;
	type SettlementWindow = SettlementWindow;
	type MaxKeyLifetime = MaxKeyLifetime;
	/// Every base model a provider could serve today, with room to spare.
	type MaxOffers = frame_support::traits::ConstU32<16>;
	/// A thousand users' keys, and 8,192 inferences, in one settlement.
	type MaxSettlementKeys = frame_support::traits::ConstU32<1_024>;
	type MaxSettlementRecords = frame_support::traits::ConstU32<8_192>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helper::Helper;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
}

#[cfg(feature = "runtime-benchmarks")]
#[allow(clippy::expect_used)]
mod benchmark_helper {
	use crate::{AccountId, Runtime, Signature};
	use alloc::format;
	use frame_support::BoundedVec;
	use pallet_datanets::{ContributionId, DatanetId, VersionId};
	use pallet_models::{
		BaseModelId, FileRef, Hyperparameters, Method, Model, ModelId, ModelStatus, Provenance,
		SourceVersion, TargetModule,
	};
	use sp_core::{crypto::KeyTypeId, sr25519, H256};
	use sp_runtime::{Perbill, Permill};

	const KEY_TYPE: KeyTypeId = KeyTypeId(*b"bnch");

	pub struct Helper;

	fn public(n: u32) -> sr25519::Public {
		sp_io::crypto::sr25519_generate(KEY_TYPE, Some(format!("//user/{n}").into_bytes()))
	}

	impl pallet_inference::BenchmarkHelper<AccountId, Signature> for Helper {
		fn provider(who: &AccountId) {
			super::super::models::benchmark_helper::register(
				who,
				pallet_compute::JobKind::Inference,
				crate::currency::OPEN,
			);
		}

		fn base_model() -> BaseModelId {
			// SmolLM2-135M-Instruct, registered at genesis.
			1
		}

		fn published_model(owner: &AccountId, base_model: BaseModelId) -> ModelId {
			let id = pallet_models::NextModelId::<Runtime>::get();
			pallet_models::NextModelId::<Runtime>::put(id.saturating_add(1));
			let sources = (0..8)
				.map(|n| SourceVersion {
					datanet: 1_000u32.saturating_add(id.saturating_mul(8)).saturating_add(n),
					version: 0,
					root: H256::repeat_byte(1),
					contributions: 10,
					total_bytes: 1_000,
				})
				.collect::<alloc::vec::Vec<_>>();
			let model = Model {
				owner: owner.clone(),
				pending_owner: None,
				name: BoundedVec::truncate_from(b"benchmark".to_vec()),
				description: BoundedVec::new(),
				artifact: FileRef { content_hash: H256::repeat_byte(2), length: 1 },
				hyperparameters: Hyperparameters {
					method: Method::Lora {
						rank: 8,
						alpha: 16,
						targets: BoundedVec::truncate_from(alloc::vec![TargetModule::Query]),
					},
					epochs: 1,
					max_steps: 10,
					learning_rate: 1_000,
					warmup_steps: 0,
					batch_size: 1,
					sequence_length: 64,
					eval_fraction: Permill::from_percent(10),
					seed: 1,
				},
				metrics: Default::default(),
				provenance: Provenance {
					base_model,
					job: 0,
					provider: owner.clone(),
					sources: BoundedVec::truncate_from(sources),
					split_seed: 1,
					records: None,
				},
				status: ModelStatus::Published {
					price_per_1k_tokens: crate::currency::OPEN,
					contributor_share: Perbill::from_percent(20),
				},
				deposit: 0,
				created_at: 0,
			};
			pallet_models::ModelInfo::<Runtime>::insert(id, model);
			id
		}

		fn contribution() -> (DatanetId, VersionId, ContributionId) {
			let owner: AccountId = frame_benchmarking::account("datanet-owner", 0, 0);
			let (datanet, version) =
				<super::super::models::benchmark_helper::Helper as pallet_models::BenchmarkHelper<
					AccountId,
				>>::published_version(&owner, 1);
			(datanet, version, 0)
		}

		fn user(n: u32) -> AccountId {
			AccountId::from(public(n))
		}

		fn sign(n: u32, message: &[u8]) -> Signature {
			let signature = sp_io::crypto::sr25519_sign(KEY_TYPE, &public(n), message)
				.expect("the benchmark keystore holds the key it generated");
			Signature::Sr25519(signature)
		}
	}
}
