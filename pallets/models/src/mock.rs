//! A test runtime with balances and models, a job market that records the jobs asked for, and
//! datanets whose versions the tests publish and close.

use crate as pallet_models;
use crate::{Architecture, BaseModelInput, FileRef, Hyperparameters, Method, TargetModule};
use core::cell::{Cell, RefCell};
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::Mutate, tokens::Preservation, ConstU64},
	weights::Weight,
};
use frame_system::EnsureRoot;
use openledger_primitives::{
	Creation, DatanetAccess, DatanetId, JobId, JobKind, JobMarket, PublishedVersion, VersionId,
	VersionUnavailable,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, DispatchError, DispatchResult, Perbill, Permill};
use std::collections::BTreeMap;

pub type AccountId = u64;
pub type Balance = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type ExistentialDeposit = ConstU64<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const PROVIDER: AccountId = 7;
/// Where the mock datanets keep access fees.
pub const POOL: AccountId = 90;
pub const POOR: AccountId = 50;

pub const DEPOSIT_BASE: Balance = 100;
pub const DEPOSIT_PER_BYTE: Balance = 1;
/// The cheapest provider's price: a job with a lower fee finds no provider.
pub const CHEAPEST_PRICE: Balance = 20;
pub const TRAINING_DURATION: u64 = 50;

parameter_types! {
	pub const MinContributorShare: Perbill = Perbill::from_percent(10);
}

impl pallet_models::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RegisterOrigin = EnsureRoot<AccountId>;
	type Jobs = MockJobs;
	type Datanets = MockDatanets;
	type TrainingDuration = ConstU64<TRAINING_DURATION>;
	type ModelDepositBase = ConstU64<DEPOSIT_BASE>;
	type ModelDepositPerByte = ConstU64<DEPOSIT_PER_BYTE>;
	type MinContributorShare = MinContributorShare;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type WeightInfo = ();
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for () {
	fn published_version(_: &AccountId, contributions: u32) -> (DatanetId, VersionId) {
		let datanet = DATANETS.with(|d| d.borrow().len() as DatanetId);
		publish(datanet, 0, contributions, 10);
		(datanet, 0)
	}
	fn training_provider(_: &AccountId) {}
}

/// Whether a mock datanet is closed, and its published versions.
pub type MockDatanet = (bool, BTreeMap<VersionId, PublishedVersion<Balance>>);

/// A job asked for: owner, kind, payload, fee, duration.
pub type AskedJob = (AccountId, JobKind, Vec<u8>, Balance, u64);

thread_local! {
	/// The jobs asked for, by id.
	pub static JOBS: RefCell<Vec<AskedJob>> = const { RefCell::new(Vec::new()) };
	/// Whether the market has no free provider at any price.
	pub static NO_PROVIDER: Cell<bool> = const { Cell::new(false) };
	/// Published versions, and whether their datanet is closed.
	pub static DATANETS: RefCell<BTreeMap<DatanetId, MockDatanet>> =
		const { RefCell::new(BTreeMap::new()) };
}

/// The weight the mock job market declares for a job's creation.
pub const JOB_WEIGHT_MAX: Weight = Weight::from_parts(900_000_000, 9_000);
/// The weight every creation uses.
pub const JOB_WEIGHT_USED: Weight = Weight::from_parts(300_000_000, 3_000);

/// A job market whose providers all ask [`CHEAPEST_PRICE`] or more, and which numbers the jobs
/// it takes from 0; [`PROVIDER`] runs them all.
pub struct MockJobs;

impl JobMarket<AccountId, Balance, u64> for MockJobs {
	fn create(
		owner: &AccountId,
		kind: JobKind,
		payload: Vec<u8>,
		fee: Balance,
		duration: u64,
	) -> Result<Creation, DispatchError> {
		if NO_PROVIDER.with(|n| n.get()) || fee < CHEAPEST_PRICE {
			return Ok(Creation { job: None, weight: JOB_WEIGHT_USED });
		}
		JOBS.with(|j| {
			let mut jobs = j.borrow_mut();
			jobs.push((*owner, kind, payload, fee, duration));
			Ok(Creation { job: Some(jobs.len() as JobId - 1), weight: JOB_WEIGHT_USED })
		})
	}
	fn create_weight() -> Weight {
		JOB_WEIGHT_MAX
	}
	fn assignee(job: JobId) -> Option<AccountId> {
		JOBS.with(|j| (job < j.borrow().len() as JobId).then_some(PROVIDER))
	}
	fn min_fee() -> Balance {
		1
	}
	fn is_active_provider(who: &AccountId) -> bool {
		*who == PROVIDER
	}
}

/// Datanets as the tests publish them; access fees move to and from [`POOL`].
pub struct MockDatanets;

impl DatanetAccess<AccountId, Balance> for MockDatanets {
	fn published(
		datanet: DatanetId,
		version: VersionId,
	) -> Result<PublishedVersion<Balance>, VersionUnavailable> {
		DATANETS.with(|d| {
			let d = d.borrow();
			let (closed, versions) = d.get(&datanet).ok_or(VersionUnavailable::UnknownDatanet)?;
			if *closed {
				return Err(VersionUnavailable::DatanetClosed);
			}
			versions.get(&version).copied().ok_or(VersionUnavailable::UnknownVersion)
		})
	}
	fn reserve_access(
		payer: &AccountId,
		datanet: DatanetId,
		version: VersionId,
		amount: Balance,
	) -> DispatchResult {
		Balances::transfer(payer, &POOL, amount, Preservation::Preserve)?;
		let (pending, paid) = pool(datanet, version);
		set_pool(datanet, version, (pending + amount, paid));
		Ok(())
	}
	fn settle_access(datanet: DatanetId, version: VersionId, amount: Balance) -> DispatchResult {
		let (pending, paid) = pool(datanet, version);
		let pending = pending.checked_sub(amount).ok_or(DispatchError::Other("not reserved"))?;
		set_pool(datanet, version, (pending, paid + amount));
		Ok(())
	}
	fn refund_access(
		payer: &AccountId,
		datanet: DatanetId,
		version: VersionId,
		amount: Balance,
	) -> DispatchResult {
		let (pending, paid) = pool(datanet, version);
		let pending = pending.checked_sub(amount).ok_or(DispatchError::Other("not reserved"))?;
		set_pool(datanet, version, (pending, paid));
		Balances::transfer(&POOL, payer, amount, Preservation::Expendable)?;
		Ok(())
	}
	fn access_weight() -> Weight {
		Weight::zero()
	}
	fn contribution_in_version(
		_: DatanetId,
		_: VersionId,
		_: openledger_primitives::ContributionId,
	) -> Option<(AccountId, u64, u64)> {
		None
	}
}

/// The root of a mock version: its numbers, hashed.
pub fn root_of(datanet: DatanetId, version: VersionId) -> H256 {
	H256(codec::Encode::using_encoded(&(datanet, version), sp_io::hashing::blake2_256))
}

/// Publishes a version of an open datanet with an access fee.
pub fn publish(datanet: DatanetId, version: VersionId, contributions: u32, access_fee: Balance) {
	DATANETS.with(|d| {
		d.borrow_mut().entry(datanet).or_default().1.insert(
			version,
			PublishedVersion {
				root: root_of(datanet, version),
				contributions,
				total_bytes: u64::from(contributions) * 100,
				access_fee,
			},
		);
	});
}

/// Closes a datanet.
pub fn close(datanet: DatanetId) {
	DATANETS.with(|d| d.borrow_mut().entry(datanet).or_default().0 = true);
}

/// What a version's pool holds: (pending, paid). Kept in storage, so that a failed call's
/// changes to it roll back as the runtime's would.
pub fn pool(datanet: DatanetId, version: VersionId) -> (Balance, Balance) {
	frame_support::storage::unhashed::get_or_default(&pool_key(datanet, version))
}

fn set_pool(datanet: DatanetId, version: VersionId, value: (Balance, Balance)) {
	frame_support::storage::unhashed::put(&pool_key(datanet, version), &value)
}

fn pool_key(datanet: DatanetId, version: VersionId) -> Vec<u8> {
	codec::Encode::encode(&(b"mock/pool", datanet, version))
}

/// The tiny model, as base model 0.
pub fn tiny() -> BaseModelInput {
	BaseModelInput {
		name: b"tiny-byte-gpt".to_vec(),
		architecture: Architecture::TinyByteGpt,
		parameters: 123_200,
		context_length: 128,
		weights: FileRef { content_hash: H256::repeat_byte(1), length: 493_000 },
		tokenizer: None,
		licence: b"Apache-2.0".to_vec(),
	}
}

/// A llama model, as base model 1.
pub fn llama() -> BaseModelInput {
	BaseModelInput {
		name: b"SmolLM2-135M-Instruct".to_vec(),
		architecture: Architecture::Llama,
		parameters: 134_515_008,
		context_length: 2_048,
		weights: FileRef { content_hash: H256::repeat_byte(2), length: 100_000_000 },
		tokenizer: None,
		licence: b"Apache-2.0".to_vec(),
	}
}

/// A LoRA adapter of rank 8 on the queries and values, 200 steps.
pub fn lora() -> Hyperparameters {
	Hyperparameters {
		method: Method::Lora {
			rank: 8,
			alpha: 16,
			targets: vec![TargetModule::Query, TargetModule::Value].try_into().unwrap(),
		},
		epochs: 1,
		max_steps: 200,
		learning_rate: 1_000,
		warmup_steps: 10,
		batch_size: 8,
		sequence_length: 64,
		eval_fraction: Permill::from_percent(10),
		seed: 42,
	}
}

/// The test externalities, all tests' starting point: the tiny and llama base models
/// registered, datanet 0 version 0 (3 contributions, access fee 10) and datanet 1 versions 0 and 1
/// (no fee) published. Everyone but `POOR` starts with 1,000,000; `POOR` with 150, enough for a
/// deposit but not a job.
pub struct ExtBuilder;

impl ExtBuilder {
	/// The externalities at block 1.
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances: Vec<(AccountId, Balance)> =
			[ALICE, BOB, PROVIDER, POOL, 3, 4].into_iter().map(|a| (a, 1_000_000)).collect();
		balances.push((POOR, 150));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_models::GenesisConfig::<Test> {
			base_models: vec![tiny(), llama()],
			_config: Default::default(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		JOBS.with(|j| j.borrow_mut().clear());
		NO_PROVIDER.with(|n| n.set(false));
		DATANETS.with(|d| d.borrow_mut().clear());
		publish(0, 0, 3, 10);
		publish(1, 0, 2, 0);
		publish(1, 1, 4, 0);
		ext
	}

	/// Runs `test` in fresh externalities, then checks the pallet's invariants.
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			Models::do_try_state().expect("invariants hold");
		});
	}
}
