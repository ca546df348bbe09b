//! What the runtime fuzzer found, each kept as a test named for it.

use frame_support::traits::{Hooks, TryState, TryStateSelect};
use openledger_fuzz::Fuzzer;
use openledger_runtime::{
	currency::OPEN, AllPalletsWithSystem, RuntimeCall, RuntimeOrigin, System, Treasury,
};
use sp_runtime::traits::Dispatchable;

/// The generator keeps root's balance surgery out (generate::EXCLUDED): it breaks by design the
/// accounting that every block is checked against. A runtime that lets root set the total
/// issuance must still refuse it from anyone else.
#[test]
fn balance_surgery_is_root_only() {
	let fuzzer = Fuzzer::new();
	fuzzer.genesis_ext().execute_with(|| {
		System::set_block_number(1);
		let alice = fuzzer.accounts()[0].id.clone();
		let call = RuntimeCall::Balances(pallet_balances::Call::force_adjust_total_issuance {
			direction: pallet_balances::AdjustmentDirection::Increase,
			delta: OPEN,
		});
		assert!(call.clone().dispatch(RuntimeOrigin::signed(alice)).is_err());
		assert!(call.dispatch(RuntimeOrigin::root()).is_ok());
	});
}

/// pallet-treasury (polkadot-sdk 2609) saturates a spend's expiry: a spend valid from a block
/// within `PayoutPeriod` of `u32::MAX` expires when it starts, can never be paid, and its own
/// `try_state` refuses it. Only a spend origin (a treasury referendum, or root) can make one, and
/// `void_spend` removes it. The generator keeps `valid_from` small (generate::KNOWN_UPSTREAM) so that
/// campaigns look for other findings; this test fails once the pallet refuses such a spend, and the
/// generator can let it through again.
#[test]
fn known_upstream_treasury_spend_valid_from_the_last_blocks() {
	let fuzzer = Fuzzer::new();
	fuzzer.genesis_ext().execute_with(|| {
		System::set_block_number(1);
		let bob = fuzzer.accounts()[1].id.clone();
		let spend = RuntimeCall::Treasury(pallet_treasury::Call::spend {
			asset_kind: Box::new(()),
			amount: OPEN,
			beneficiary: Box::new(bob),
			valid_from: Some(u32::MAX),
		});
		assert!(spend.dispatch(RuntimeOrigin::root()).is_ok(), "the pallet accepts the spend");
		Treasury::on_finalize(1);
		let checked = <AllPalletsWithSystem as TryState<u32>>::try_state(
			1,
			TryStateSelect::Only(vec![b"Treasury".to_vec()]),
		);
		assert!(checked.is_err(), "pallet-treasury now handles the spend: drop KNOWN_UPSTREAM");
		// It goes as it came.
		let void = RuntimeCall::Treasury(pallet_treasury::Call::void_spend { index: 0 });
		assert!(void.dispatch(RuntimeOrigin::root()).is_ok());
		assert!(<AllPalletsWithSystem as TryState<u32>>::try_state(1, TryStateSelect::All).is_ok());
	});
}

/// Found by the first hour-long campaign (5 crashes, all this one): root's
/// `Vesting::force_vested_transfer` from an account that holds nothing to itself. pallet-balances
/// (polkadot-sdk 2609) returns at once from a transfer to oneself, so the empty account "receives"
/// the OPEN it lacks; pallet-vesting then records the schedule and locks the amount on an account
/// that does not exist, which pallet-balances refuses with a `defensive!` failure ("errored in
/// mutate_account"; a panic in builds with debug assertions, such as the fuzzer's). The schedule
/// and the lock's record stay, and the account's frozen balance is not the lock's. Root's balance surgery is not generated (generate::EXCLUDED); this
/// test fails once the pallets refuse the call, and the call can be generated again.
#[test]
fn known_upstream_force_vested_transfer_from_an_empty_account_to_itself() {
	use frame_support::traits::Currency;
	let fuzzer = Fuzzer::new();
	fuzzer.genesis_ext().execute_with(|| {
		System::set_block_number(1);
		let empty = fuzzer.accounts()[9].id.clone();
		assert_eq!(openledger_runtime::Balances::total_balance(&empty), 0);
		let call = RuntimeCall::Vesting(pallet_vesting::Call::force_vested_transfer {
			source: sp_runtime::MultiAddress::Id(empty.clone()),
			target: sp_runtime::MultiAddress::Id(empty.clone()),
			schedule: pallet_vesting::VestingInfo::new(500_000 * OPEN, 10_000 * OPEN, 1_000),
		});
		let dispatched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
			call.dispatch(RuntimeOrigin::root())
		}));
		// With debug assertions the defensive failure panics; without, the call succeeds and
		// leaves a schedule of 500,000 OPEN on an account that holds none.
		if let Ok(result) = dispatched {
			assert!(result.is_ok(), "pallet-vesting now refuses the call: generate it again");
			assert!(pallet_vesting::Vesting::<openledger_runtime::Runtime>::get(&empty).is_some());
			assert_eq!(openledger_runtime::Balances::total_balance(&empty), 0);
			// The lock is recorded, yet the account (which does not exist) freezes nothing.
			let locks = pallet_balances::Locks::<openledger_runtime::Runtime>::get(&empty);
			assert_eq!(locks.iter().map(|l| l.amount).max(), Some(500_000 * OPEN));
			assert_eq!(
				frame_system::Account::<openledger_runtime::Runtime>::get(&empty).data.frozen,
				0
			);
		}
	});
}
