//! The OPEN token: balances, transaction fees and vesting.

use frame_support::{
	parameter_types,
	traits::{
		tokens::imbalance::ResolveTo, ConstU128, ConstU32, ConstU8, VariantCountOf, WithdrawReasons,
	},
	weights::ConstantMultiplier,
};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{
	traits::{AccountIdConversion, Bounded, ConvertInto},
	FixedPointNumber, Perquintill,
};

use crate::{
	currency::{EXISTENTIAL_DEPOSIT, MICRO_OPEN, OPEN},
	tokenomics::COMMUNITY_POT,
	AccountId, Balance, Balances, Runtime, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason,
	System,
};

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = crate::weights::pallet_balances::WeightInfo<Runtime>;
	type Balance = Balance;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Fee per picosecond of execution: one second of block compute costs 10 OPEN. A plain
	/// transfer is charged about 0.63 ms of block time (its own weight, the extrinsic base weight
	/// and the transaction extensions) and about 150 bytes, so it costs about 0.008 OPEN.
	pub const WeightFee: Balance = 10 * OPEN / 1_000_000_000_000;
	/// Fee per byte of transaction: 10 micro-OPEN.
	pub const TransactionByteFee: Balance = 10 * MICRO_OPEN;
	/// Fees and tips are paid into the community pot.
	pub CommunityPotAccount: AccountId = COMMUNITY_POT.into_account_truncating();

	/// The fee multiplier rises while blocks are fuller than a quarter and falls while they are
	/// emptier, as on Polkadot: fees follow demand but can never fall below a tenth of the base.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 10u128);
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ResolveTo<CommunityPotAccount, Balances>>;
	type WeightToFee = ConstantMultiplier<Balance, WeightFee>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Self,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	/// Operational transactions pay five times the tip weight for their priority.
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightInfo = crate::weights::pallet_transaction_payment::WeightInfo<Runtime>;
}

parameter_types! {
	/// A vested transfer must move at least one OPEN, so that schedules cannot be spammed.
	pub const MinVestedTransfer: Balance = OPEN;
	/// Unvested funds may be withdrawn for no reason at all. pallet-balances ignores lock
	/// reasons anyway (a lock freezes its amount for every use, fees included), so this says
	/// what is true: vested allocations pay their fees from the liquid float they get at genesis
	/// (`tokenomics::VESTING_FEE_FLOAT`).
	pub UnvestedFundsAllowedWithdrawReasons: WithdrawReasons = WithdrawReasons::empty();
}

impl pallet_vesting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type BlockNumberToBalance = ConvertInto;
	type MinVestedTransfer = MinVestedTransfer;
	type WeightInfo = crate::weights::pallet_vesting::WeightInfo<Runtime>;
	type UnvestedFundsAllowedWithdrawReasons = UnvestedFundsAllowedWithdrawReasons;
	type BlockNumberProvider = System;
	const MAX_VESTING_SCHEDULES: u32 = 28;
}
