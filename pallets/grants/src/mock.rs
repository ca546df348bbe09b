//! A test runtime with balances and grants. Root approves and reviews any tier; the account
//! [`EXPLORATION_TRACK`] stands for the Exploration track's origin and [`BUILDING_TRACK`] for the
//! Building track's.

use crate as pallet_grants;
use crate::{MilestoneInput, Range, Tier, TierRanges};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, EnsureOrigin},
};
use frame_system::RawOrigin;
use sp_runtime::BuildStorage;

pub type AccountId = u64;
pub type Balance = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Grants: pallet_grants,
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
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const EXPLORATION_TRACK: AccountId = 100;
pub const BUILDING_TRACK: AccountId = 101;
pub const POOR: AccountId = 50;

pub const BASE: Balance = 100;
pub const PER_BYTE: Balance = 1;
pub const POT_FUNDS: Balance = 2_000_000;

parameter_types! {
	pub const Pot: AccountId = POT;
	pub storage Ranges: TierRanges<Balance> = TierRanges {
		exploration: Range { min: 25_000, max: 50_000 },
		building: Range { min: 50_000, max: 150_000 },
		expansion: Range { min: 250_000, max: 500_000 },
	};
}

/// Root acts on every tier; the two track accounts on theirs.
pub struct TrackOrigin;
impl EnsureOrigin<RuntimeOrigin> for TrackOrigin {
	type Success = Tier;
	fn try_origin(o: RuntimeOrigin) -> Result<Tier, RuntimeOrigin> {
		match o.clone().into() {
			Ok(RawOrigin::Root) => Ok(Tier::Expansion),
			Ok(RawOrigin::Signed(EXPLORATION_TRACK)) => Ok(Tier::Exploration),
			Ok(RawOrigin::Signed(BUILDING_TRACK)) => Ok(Tier::Building),
			_ => Err(o),
		}
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<RuntimeOrigin, ()> {
		Ok(RuntimeOrigin::root())
	}
}

impl pallet_grants::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ApproveOrigin = TrackOrigin;
	type ReviewOrigin = TrackOrigin;
	type Pot = Pot;
	type TierRanges = Ranges;
	type DepositBase = ConstU64<BASE>;
	type DepositPerByte = ConstU64<PER_BYTE>;
	type MaxTitleLength = ConstU32<32>;
	type MaxMilestoneDescriptionLength = ConstU32<64>;
	type MaxMilestones = ConstU32<4>;
	type WeightInfo = ();
}

/// The test externalities, all tests' starting point. The pot holds [`POT_FUNDS`], `POOR` 50
/// (less than any deposit), everyone else 1,000,000.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		let balances = vec![
			(POT, POT_FUNDS),
			(ALICE, 1_000_000),
			(BOB, 1_000_000),
			(EXPLORATION_TRACK, 1_000_000),
			(BUILDING_TRACK, 1_000_000),
			(POOR, 50),
		];
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
		ext
	}

	/// Runs `test` in fresh externalities, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Grants::do_try_state().expect("invariants hold");
		});
	}
}

/// A milestone paying `amount`, due at block `due`.
pub fn milestone(amount: Balance, due: u64) -> MilestoneInput<Balance, u64> {
	MilestoneInput { amount, description: b"a working prototype".to_vec(), due }
}

/// Two Exploration milestones: 10,000 due at block 100 and 20,000 due at block 200.
pub fn exploration() -> Vec<MilestoneInput<Balance, u64>> {
	vec![milestone(10_000, 100), milestone(20_000, 200)]
}
