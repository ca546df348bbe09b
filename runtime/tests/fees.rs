//! Transaction fees: a signed transfer, applied through the runtime's real transaction extensions,
//! pays a fee in OPEN into the community pot, and total issuance is unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use codec::Encode;
use common::{preset_ext, signed, tx_extension};
use frame_support::traits::fungible::Inspect;
use openledger_runtime::{
	currency::{MILLI_OPEN, OPEN},
	tokenomics::{COMMUNITY_POT, VESTING_FEE_FLOAT},
	Balances, Executive, Header, RuntimeCall, RuntimeEvent, SignedPayload, System,
	UncheckedExtrinsic,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	traits::{AccountIdConversion, Header as _},
	transaction_validity::{InvalidTransaction, TransactionValidityError},
};

#[test]
fn a_signed_transfer_pays_a_fee_into_the_community_pot() {
	preset_ext("development").execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let pot = COMMUNITY_POT.into_account_truncating();
		let issuance = Balances::total_issuance();
		let (alice_before, bob_before, pot_before) =
			(Balances::balance(&alice), Balances::balance(&bob), Balances::balance(&pot));

		Executive::initialize_block(&Header::new(
			1,
			Default::default(),
			Default::default(),
			System::parent_hash(),
			Default::default(),
		));
		let amount = 12_345 * OPEN;
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: bob.clone().into(),
			value: amount,
		});
		let outcome = Executive::apply_extrinsic(signed(Sr25519Keyring::Alice, call, 0))
			.expect("the transaction is valid");
		assert!(outcome.is_ok(), "the transfer succeeds: {outcome:?}");

		let fee = System::events()
			.into_iter()
			.find_map(|record| match record.event {
				RuntimeEvent::TransactionPayment(
					pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
				) if who == alice => {
					assert_eq!(tip, 0);
					Some(actual_fee)
				},
				_ => None,
			})
			.expect("the fee was paid");

		println!("a transfer's fee: {fee} (10^-18 OPEN)");
		// A transfer costs about 4.7 thousandths of an OPEN (see `WeightFee`; the weights are
		// pinned in weights.rs): pinned within 10%, so that a change of fee constants is noticed.
		assert!(fee > 4_200 * MILLI_OPEN / 1_000 && fee < 5_200 * MILLI_OPEN / 1_000, "fee {fee}");
		assert_eq!(Balances::balance(&alice), alice_before - amount - fee);
		assert_eq!(Balances::balance(&bob), bob_before + amount);
		assert_eq!(Balances::balance(&pot), pot_before + fee);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_transaction_signed_by_someone_else_is_refused_and_costs_nothing() {
	preset_ext("development").execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let before = Balances::balance(&alice);
		Executive::initialize_block(&Header::new(
			1,
			Default::default(),
			Default::default(),
			System::parent_hash(),
			Default::default(),
		));
		let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![1, 2, 3] });
		// Alice signs, but the transaction claims Bob as its signer.
		let extension = tx_extension(0, 0);
		let payload = SignedPayload::new(call.clone(), extension.clone()).unwrap();
		let signature = payload.using_encoded(|bytes| Sr25519Keyring::Alice.sign(bytes));
		let xt = UncheckedExtrinsic::new_signed(
			call,
			Sr25519Keyring::Bob.to_account_id().into(),
			signature.into(),
			extension,
		);
		let bob = Sr25519Keyring::Bob.to_account_id();
		let bob_before = Balances::balance(&bob);
		assert_eq!(
			Executive::apply_extrinsic(xt),
			Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof))
		);
		// Neither the claimed signer nor the real one pays anything.
		assert_eq!(Balances::balance(&bob), bob_before);
		assert_eq!(Balances::balance(&alice), before);
		assert_eq!(System::account_nonce(&bob), 0);
	});
}

#[test]
fn a_vesting_account_pays_its_fees_from_its_float_and_nothing_more() {
	preset_ext("development").execute_with(|| {
		let investor = Sr25519Keyring::One.to_account_id();
		let pot = COMMUNITY_POT.into_account_truncating();
		let (before, pot_before) = (Balances::total_balance(&investor), Balances::balance(&pot));
		Executive::initialize_block(&Header::new(
			1,
			Default::default(),
			Default::default(),
			System::parent_hash(),
			Default::default(),
		));
		// A vesting account can act on chain at once, for example to vest.
		let call = RuntimeCall::Vesting(pallet_vesting::Call::vest {});
		let outcome = Executive::apply_extrinsic(signed(Sr25519Keyring::One, call.clone(), 0))
			.expect("the transaction is valid");
		assert!(outcome.is_ok(), "{outcome:?}");
		let fee = before - Balances::total_balance(&investor);
		assert!(fee > 0 && fee < VESTING_FEE_FLOAT / 1_000, "fee {fee}");
		assert_eq!(Balances::balance(&pot), pot_before + fee);

		// Once the float is spent, the locked allocation pays no fee.
		let rest = Balances::reducible_balance(
			&investor,
			frame_support::traits::tokens::Preservation::Preserve,
			frame_support::traits::tokens::Fortitude::Polite,
		);
		assert!(rest < VESTING_FEE_FLOAT);
		let spend = RuntimeCall::Balances(pallet_balances::Call::transfer_all {
			dest: Sr25519Keyring::Ferdie.to_account_id().into(),
			keep_alive: true,
		});
		assert!(Executive::apply_extrinsic(signed(Sr25519Keyring::One, spend, 1))
			.unwrap()
			.is_ok());
		let left = Balances::total_balance(&investor);
		assert_eq!(
			Executive::apply_extrinsic(signed(Sr25519Keyring::One, call, 2)),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Payment))
		);
		assert_eq!(Balances::total_balance(&investor), left);
	});
}
