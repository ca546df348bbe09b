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
