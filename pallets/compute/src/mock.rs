//! A test runtime with balances and the compute pallet, whose job consumer records what it
//! receives.

use crate as pallet_compute;
use crate::{Hardware, JobId, JobKind, Offer, ProviderInput};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
	weights::Weight,
};
use sp_runtime::{BuildStorage, DispatchError, DispatchResult, Perbill};

pub type AccountId = u64;
pub type Balance = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Compute: pallet_compute,
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

pub const TREASURY: AccountId = 99;
pub const P1: AccountId = 1;
pub const P2: AccountId = 2;
pub const P3: AccountId = 3;
pub const USER: AccountId = 10;
pub const POOR: AccountId = 50;

pub const MIN_BOND: Balance = 1_000;
pub const PRICE: Balance = 30;
pub const FEE: Balance = 50;
pub const MIN_FEE: Balance = 5;
pub const SLASH_COOLDOWN: u64 = 50;
pub const MAX_OPEN_JOBS: u32 = 6;
pub const ACCEPT_WINDOW: u64 = 5;
pub const DURATION: u64 = 10;
pub const UNBONDING: u64 = 20;
pub const MAX_DEADLINES: u32 = 4;
/// The most providers an assignment reads.
pub const MAX_SCAN: u32 = 3;

thread_local! {
	/// What the consumer received: `(job, Some(result))` for results, `(job, None)` for
	/// abandonments.
	pub static RECEIVED: RefCell<Vec<(JobId, Option<Vec<u8>>)>> = const { RefCell::new(Vec::new()) };
}

/// Refuses results that start with `b"bad"`, records the others.
pub struct RecordingConsumer;
impl crate::JobConsumer for RecordingConsumer {
	fn on_result(job: JobId, _: JobKind, _: &[u8], result: &[u8]) -> DispatchResult {
		if result.starts_with(b"bad") {
			return Err(DispatchError::Other("refused"));
		}
		RECEIVED.with(|r| r.borrow_mut().push((job, Some(result.to_vec()))));
		Ok(())
	}
	fn on_abandoned(job: JobId, _: JobKind, _: &[u8]) {
		RECEIVED.with(|r| r.borrow_mut().push((job, None)));
	}
	fn on_result_weight() -> Weight {
		Weight::zero()
	}
	fn on_abandoned_weight() -> Weight {
		Weight::zero()
	}
}

parameter_types! {
	pub const Treasury: AccountId = TREASURY;
	pub const ComputePalletId: frame_support::PalletId = frame_support::PalletId(*b"ol/jobes");
	pub const TimeoutSlash: Perbill = Perbill::from_percent(10);
	/// Free unless a test sets it.
	pub static ListingFee: Balance = 0;
	/// The whole bucket unless a test sets it.
	pub static MaxPublicDeadlines: u32 = MAX_DEADLINES;
}

impl pallet_compute::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Consumer = RecordingConsumer;
	type SlashBeneficiary = Treasury;
	type PalletId = ComputePalletId;
	type MinJobFee = ConstU64<MIN_FEE>;
	type MaxOpenJobsPerAccount = ConstU32<MAX_OPEN_JOBS>;
	type MinBond = ConstU64<MIN_BOND>;
	type TimeoutSlash = TimeoutSlash;
	type SlashCooldown = ConstU64<SLASH_COOLDOWN>;
	type UnbondingPeriod = ConstU64<UNBONDING>;
	type AcceptWindow = ConstU64<ACCEPT_WINDOW>;
	type MinJobDuration = ConstU64<2>;
	type MaxJobDuration = ConstU64<100>;
	type MaxEndpointLength = ConstU32<64>;
	type MaxOffers = ConstU32<3>;
	type MaxProvidersPerKind = ConstU32<4>;
	type ListingFee = ListingFee;
	type MaxScan = ConstU32<MAX_SCAN>;
	type MaxAttempts = ConstU32<2>;
	type MaxPayloadLength = ConstU32<32>;
	type MaxResultLength = ConstU32<64>;
	type MaxDeadlinesPerBlock = ConstU32<MAX_DEADLINES>;
	type MaxPublicDeadlinesPerBlock = MaxPublicDeadlines;
	type WeightInfo = ();
}

/// The test externalities, all tests' starting point. Everyone but `POOR` starts with
/// 1,000,000; `POOR` with 20, less than any bond or fee.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		let mut balances: Vec<(AccountId, Balance)> = [TREASURY, P1, P2, P3, 4, 5, 6, USER]
			.into_iter()
			.map(|a| (a, 1_000_000))
			.collect();
		balances.push((POOR, 20));
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
		RECEIVED.with(|r| r.borrow_mut().clear());
		ext
	}

	/// Runs `test` in fresh externalities, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Compute::do_try_state().expect("invariants hold");
		});
	}
}

/// A provider offering validation at `PRICE` and training at twice that, one job at a time.
pub fn input() -> ProviderInput<Balance> {
	ProviderInput {
		endpoint: b"http://127.0.0.1:9100".to_vec(),
		hardware: Hardware { cpu_cores: 8, memory_mib: 16_384, gpus: 0, gpu_memory_mib: 0 },
		concurrency: 1,
		offers: vec![
			Offer { kind: JobKind::ContributionValidation, price: PRICE },
			Offer { kind: JobKind::Inference, price: 2 * PRICE },
		],
	}
}

pub fn register(who: AccountId) {
	frame_support::assert_ok!(Compute::register(RuntimeOrigin::signed(who), input(), MIN_BOND));
}

/// Runs `on_initialize` of each block up to and including `n`.
pub fn run_to(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Compute::on_initialize(next);
	}
}

pub fn events() -> Vec<pallet_compute::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Compute(e) = r.event { Some(e) } else { None })
		.collect()
}

/// The escrow account holding the fees of open jobs.
pub fn escrow() -> AccountId {
	Compute::escrow_account()
}

/// The accounts listed under `kind`, in order.
pub fn listed(kind: JobKind) -> Vec<AccountId> {
	pallet_compute::ProvidersByKind::<Test>::get(kind)
		.iter()
		.map(|l| l.provider)
		.collect()
}

pub fn received() -> Vec<(JobId, Option<Vec<u8>>)> {
	RECEIVED.with(|r| r.borrow().clone())
}
