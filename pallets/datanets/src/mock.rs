//! A test runtime with balances and datanets.

use crate as pallet_datanets;
use crate::{DataFormat, DataKind, MetadataInput, RulesInput};
use core::cell::{Cell, RefCell};
use frame_support::weights::Weight;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use openledger_primitives::{Creation, JobId, JobKind, JobMarket};
use sp_runtime::{BuildStorage, DispatchError, Perbill};

pub type AccountId = u64;
pub type Balance = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Datanets: pallet_datanets,
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

pub const POT: AccountId = 99;
/// The least fee the mock job market takes.
pub const MIN_JOB_FEE: Balance = 2;
pub const OWNER: AccountId = 1;
pub const ALICE: AccountId = 2;
pub const BOB: AccountId = 3;
pub const CURATOR_A: AccountId = 10;
pub const CURATOR_B: AccountId = 11;
pub const CURATOR_C: AccountId = 12;
pub const POOR: AccountId = 50;

pub const BASE: Balance = 1_000;
pub const PER_BYTE: Balance = 2;
pub const MIN_DEPOSIT: Balance = 10;
pub const COMMIT_DEPOSIT: Balance = 5;
pub const ACCESS_CLAIM_DEPOSIT: Balance = 3;
pub const DEPOSIT: Balance = 100;
pub const COOL_DOWN: u64 = 20;
pub const REVIEW_TIMEOUT: u64 = 30;
pub const PERIOD: u64 = 100;
pub const MAX_PER_PERIOD: u32 = 3;
pub const MAX_BYTES_PER_PERIOD: u64 = 10_000;

parameter_types! {
	pub const DatanetsPalletId: frame_support::PalletId = frame_support::PalletId(*b"ol/dtnet");
	pub const RewardsPot: AccountId = POT;
	pub const RejectionSlash: Perbill = Perbill::from_percent(10);
	pub const AdversarialSlash: Perbill = Perbill::from_percent(50);
}

impl pallet_datanets::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type PalletId = DatanetsPalletId;
	type ForceOrigin = EnsureRoot<AccountId>;
	type RewardsPot = RewardsPot;
	type DatanetDepositBase = ConstU64<BASE>;
	type DatanetDepositPerByte = ConstU64<PER_BYTE>;
	type MinContributionDeposit = ConstU64<MIN_DEPOSIT>;
	type CommitmentDeposit = ConstU64<COMMIT_DEPOSIT>;
	type AccessClaimDeposit = ConstU64<ACCESS_CLAIM_DEPOSIT>;
	type MaxContributionSize = ConstU64<5_000>;
	type RejectionSlash = RejectionSlash;
	type AdversarialSlash = AdversarialSlash;
	type StakeCoolDown = ConstU64<COOL_DOWN>;
	type ReviewTimeout = ConstU64<REVIEW_TIMEOUT>;
	type RateLimitPeriod = ConstU64<PERIOD>;
	type MaxContributionsPerPeriod = ConstU32<MAX_PER_PERIOD>;
	type MaxBytesPerPeriod = ConstU64<MAX_BYTES_PER_PERIOD>;
	type MaxNameLength = ConstU32<32>;
	type MaxDescriptionLength = ConstU32<128>;
	type MaxTagLength = ConstU32<16>;
	type MaxTags = ConstU32<4>;
	type MaxLicenceLength = ConstU32<16>;
	type MaxCurators = ConstU32<5>;
	type MaxFormats = ConstU32<9>;
	type Jobs = MockJobs;
	type ValidationDuration = ConstU64<10>;
	type MaxEndpoints = ConstU32<2>;
	type MaxEndpointLength = ConstU32<48>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type WeightInfo = ();
}

/// The mock job market takes every job unless a test says otherwise.
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for () {
	fn validation_provider(_: &AccountId) {}
}

/// A job asked for: owner, kind, payload, fee, duration.
pub type AskedJob = (AccountId, JobKind, Vec<u8>, Balance, u64);

thread_local! {
	/// The jobs asked for.
	pub static JOBS: RefCell<Vec<AskedJob>> =
		const { RefCell::new(Vec::new()) };
	/// Whether the market has no free provider.
	pub static NO_PROVIDER: Cell<bool> = const { Cell::new(false) };
}

/// The weight the mock job market declares for a job's creation.
pub const JOB_WEIGHT_MAX: Weight = Weight::from_parts(900_000_000, 9_000);
/// The weight every creation uses.
pub const JOB_WEIGHT_USED: Weight = Weight::from_parts(300_000_000, 3_000);

/// A job market that records the jobs asked for and numbers them from 0.
pub struct MockJobs;
impl JobMarket<AccountId, Balance, u64> for MockJobs {
	fn create(
		owner: &AccountId,
		kind: JobKind,
		payload: Vec<u8>,
		fee: Balance,
		duration: u64,
	) -> Result<Creation, DispatchError> {
		if NO_PROVIDER.with(|n| n.get()) {
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
	fn assignee(_: JobId) -> Option<AccountId> {
		None
	}
	fn min_fee() -> Balance {
		MIN_JOB_FEE
	}
	fn is_active_provider(_: &AccountId) -> bool {
		false
	}
}

/// The test externalities, all tests' starting point. Everyone but `POOR` starts with
/// 1,000,000; `POOR` with 50, less than any deposit.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		let mut balances: Vec<(AccountId, Balance)> =
			[POT, OWNER, ALICE, BOB, CURATOR_A, CURATOR_B, CURATOR_C, 4, 5]
				.into_iter()
				.map(|a| (a, 1_000_000))
				.collect();
		balances.push((POOR, 50));
		Self { balances }
	}
}

impl ExtBuilder {
	/// The externalities at block 1, with the balances of the builder.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		JOBS.with(|j| j.borrow_mut().clear());
		NO_PROVIDER.with(|n| n.set(false));
		ext
	}

	/// Runs `test` in fresh externalities, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Datanets::do_try_state().expect("invariants hold");
		});
	}
}

pub fn metadata() -> MetadataInput {
	MetadataInput {
		name: b"Solidity contracts".to_vec(),
		description: b"Audited smart contracts".to_vec(),
		tags: vec![b"code".to_vec(), b"web3".to_vec()],
		kind: DataKind::Text,
		licence: b"CC-BY-4.0".to_vec(),
	}
}

/// Two of three curators must accept; deposit `DEPOSIT`; text and JSON Lines up to 1,000 bytes.
pub fn rules() -> RulesInput<AccountId, Balance> {
	RulesInput {
		contribution_deposit: DEPOSIT,
		max_contribution_size: 1_000,
		accepted_formats: vec![DataFormat::PlainText, DataFormat::JsonLines],
		curators: vec![CURATOR_A, CURATOR_B, CURATOR_C],
		approvals_needed: 2,
	}
}

/// Commits `who` to contributing `hash` to `datanet` in the block before the current one, as a
/// contributor does before uploading its bytes.
pub fn commit_earlier(who: AccountId, datanet: u32, hash: sp_core::H256) {
	let now = System::block_number();
	System::set_block_number(now - 1);
	frame_support::assert_ok!(Datanets::commit(
		RuntimeOrigin::signed(who),
		crate::commitment_of(&who, datanet, &hash)
	));
	System::set_block_number(now);
}
