//! ModelFactory: base models, training on datanet versions, the model registry. Its deposits and
//! the contributors' least share are protocol parameters (see [`super::parameters`]).

use frame_support::{parameter_types, traits::EitherOf, weights::Weight};
use frame_system::EnsureRoot;
use pallet_compute::{JobConsumer, JobId, JobKind};
use sp_runtime::DispatchResult;

use super::parameters::dynamic_params::models as params;
use crate::{
	time::HOURS, AccountId, Balances, BlockNumber, Compute, Datanets, Models, Runtime,
	RuntimeEvent, RuntimeHoldReason,
};

parameter_types! {
	/// A provider has six hours to train once it accepted a job.
	pub const TrainingDuration: BlockNumber = 6 * HOURS;
}

/// The model registry.
impl pallet_models::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Root, or a referendum on the protocol-parameters track.
	type RegisterOrigin = EitherOf<EnsureRoot<AccountId>, pallet_governance::ProtocolParameters>;
	type Jobs = Compute;
	type Datanets = Datanets;
	type TrainingDuration = TrainingDuration;
	type ModelDepositBase = params::ModelDepositBase;
	type ModelDepositPerByte = params::ModelDepositPerByte;
	type MinContributorShare = params::MinContributorShare;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helper::Helper;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

/// Hands each job the runtime created to the pallet that asked for it: contribution validation
/// to datanets, training to the model registry.
pub struct JobConsumers;

impl JobConsumer for JobConsumers {
	fn on_result(job: JobId, kind: JobKind, payload: &[u8], result: &[u8]) -> DispatchResult {
		match kind {
			JobKind::Training => Models::on_result(job, kind, payload, result),
			_ => Datanets::on_result(job, kind, payload, result),
		}
	}

	fn on_abandoned(job: JobId, kind: JobKind, payload: &[u8]) {
		match kind {
			JobKind::Training => Models::on_abandoned(job, kind, payload),
			_ => Datanets::on_abandoned(job, kind, payload),
		}
	}

	fn on_result_weight() -> Weight {
		Models::on_result_weight().max(Datanets::on_result_weight())
	}

	fn on_abandoned_weight() -> Weight {
		Models::on_abandoned_weight().max(Datanets::on_abandoned_weight())
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub(super) mod benchmark_helper {
	use crate::{currency::OPEN, AccountId, Compute, Datanets, Runtime, RuntimeOrigin};
	use alloc::vec;
	use frame_support::{
		assert_ok,
		traits::{fungible::Mutate, Get},
	};
	use pallet_compute::JobKind;
	use pallet_datanets::{DatanetId, VersionId};
	use sp_core::H256;
	use sp_runtime::traits::{BlakeTwo256, Hash};

	/// Builds datanets and providers through their own calls.
	pub struct Helper;

	impl pallet_models::BenchmarkHelper<AccountId> for Helper {
		fn published_version(owner: &AccountId, contributions: u32) -> (DatanetId, VersionId) {
			let _ = pallet_balances::Pallet::<Runtime>::mint_into(owner, 1_000_000 * OPEN);
			let datanet = pallet_datanets::NextDatanetId::<Runtime>::get();
			let signed = || RuntimeOrigin::signed(owner.clone());
			assert_ok!(Datanets::create(
				signed(),
				pallet_datanets::MetadataInput {
					name: b"benchmark".to_vec(),
					description: b"".to_vec(),
					tags: vec![],
					kind: pallet_datanets::DataKind::Text,
					licence: b"CC0-1.0".to_vec(),
				},
				pallet_datanets::RulesInput {
					contribution_deposit:
						<Runtime as pallet_datanets::Config>::MinContributionDeposit::get(),
					max_contribution_size: 1_000,
					accepted_formats: vec![pallet_datanets::DataFormat::JsonLines],
					curators: vec![owner.clone()],
					approvals_needed: 1,
				},
			));
			for n in 0..contributions.max(1) {
				let hash: H256 = <BlakeTwo256 as Hash>::hash_of(&(datanet, n));
				let commitment = pallet_datanets::commitment_of(owner, datanet, &hash);
				assert_ok!(Datanets::commit(signed(), commitment));
				let now = frame_system::Pallet::<Runtime>::block_number();
				frame_system::Pallet::<Runtime>::set_block_number(now.saturating_add(1));
				let id = pallet_datanets::DatanetInfo::<Runtime>::get(datanet)
					.map_or(0, |d| d.contributions);
				assert_ok!(Datanets::contribute(
					signed(),
					datanet,
					hash,
					100,
					pallet_datanets::DataFormat::JsonLines,
					u128::MAX,
				));
				assert_ok!(Datanets::review(
					signed(),
					datanet,
					id,
					pallet_datanets::Verdict::Accept
				));
			}
			assert_ok!(Datanets::publish_version(signed(), datanet));
			assert_ok!(Datanets::set_access_fee(signed(), datanet, OPEN));
			(datanet, 0)
		}

		fn training_provider(provider: &AccountId) {
			register(provider, JobKind::Training, OPEN);
		}
	}

	impl pallet_datanets::BenchmarkHelper<AccountId> for Helper {
		fn validation_provider(provider: &AccountId) {
			register(provider, JobKind::ContributionValidation, 0);
		}
	}

	/// Registers `provider` for `kind` at `price`, taking up to 1,000 jobs at once.
	pub(crate) fn register(provider: &AccountId, kind: JobKind, price: crate::Balance) {
		let _ = pallet_balances::Pallet::<Runtime>::mint_into(provider, 1_000_000 * OPEN);
		assert_ok!(Compute::register(
			RuntimeOrigin::signed(provider.clone()),
			pallet_compute::ProviderInput {
				endpoint: b"http://10.0.0.1:9100".to_vec(),
				hardware: Default::default(),
				concurrency: 1_000,
				offers: vec![pallet_compute::Offer { kind, price }],
			},
			<Runtime as pallet_compute::Config>::MinBond::get(),
		));
	}
}
