//! Transaction fees: a signed transfer, applied through the runtime's real transaction extensions,
//! pays a fee in OPEN into the community pot, and total issuance is unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use codec::Encode;
use common::preset_ext;
use frame_support::traits::fungible::Inspect;
use openledger_runtime::{
	currency::{MILLI_OPEN, OPEN},
	tokenomics::COMMUNITY_POT,
	Balances, Executive, Header, Runtime, RuntimeCall, RuntimeEvent, SignedPayload, System,
	TxExtension, UncheckedExtrinsic,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::Era,
	traits::{AccountIdConversion, Header as _},
};

fn tx_extension(nonce: u32, tip: u128) -> TxExtension {
	(
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(tip),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

fn signed(signer: Sr25519Keyring, call: RuntimeCall, nonce: u32) -> UncheckedExtrinsic {
	let extension = tx_extension(nonce, 0);
	let payload = SignedPayload::new(call.clone(), extension.clone()).expect("valid extension");
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(call, signer.to_account_id().into(), signature.into(), extension)
}

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

		// A transfer costs about a thousandth of an OPEN (see `WeightFee`).
		assert!(fee > MILLI_OPEN / 10 && fee < 10 * MILLI_OPEN, "fee {fee}");
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
		assert!(Executive::apply_extrinsic(xt).is_err());
		assert_eq!(Balances::balance(&alice), before);
	});
}
