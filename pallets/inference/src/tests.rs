//! Unit tests of every call and refusal, and of the attacks on keys and settlements.

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		LockableCurrency, WithdrawReasons,
	},
};
use sp_core::H256;
use sp_runtime::{testing::TestSignature, Perbill};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn deposit(who: AccountId, amount: Balance) {
	assert_ok!(Inference::deposit(signed(who), PROVIDER, amount));
}

fn settle(batch: Batch) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Inference::settle(signed(PROVIDER), batch)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Prepaid.into(), &who)
}

// Offers.

#[test]
fn offers_are_set_changed_and_withdrawn_by_active_providers_only() {
	test(|| {
		assert_noop!(Inference::set_offer(signed(ALICE), BASE, 10), Error::<Test>::NotProvider);
		assert_noop!(
			Inference::set_offer(signed(OTHER_PROVIDER), 7, 10),
			Error::<Test>::UnknownBaseModel
		);
		assert_ok!(Inference::set_offer(signed(OTHER_PROVIDER), BASE, 10));
		assert_ok!(Inference::set_offer(signed(OTHER_PROVIDER), BASE, 15));
		assert_eq!(Offers::<Test>::get(OTHER_PROVIDER).unwrap().into_inner(), vec![(BASE, 15)]);
		assert_eq!(Inference::serving_price(&OTHER_PROVIDER, BASE), Some(15));
		assert_noop!(
			Inference::withdraw_offer(signed(OTHER_PROVIDER), OTHER_BASE),
			Error::<Test>::NoSuchOffer
		);
		assert_ok!(Inference::withdraw_offer(signed(OTHER_PROVIDER), BASE));
		assert!(Offers::<Test>::get(OTHER_PROVIDER).is_none());
		assert!(events()
			.contains(&Event::OfferWithdrawn { provider: OTHER_PROVIDER, base_model: BASE }));
	})
}

#[test]
fn a_provider_offers_a_bounded_number_of_base_models() {
	test(|| {
		// MaxOffers is 2: BASE and OTHER_BASE fit, a third base does not, and changing the
		// price of one offered still does.
		assert_ok!(Inference::set_offer(signed(PROVIDER), OTHER_BASE, 10));
		assert_noop!(
			Inference::set_offer(signed(PROVIDER), THIRD_BASE, 10),
			Error::<Test>::TooManyOffers
		);
		assert_ok!(Inference::set_offer(signed(PROVIDER), OTHER_BASE, 11));
		assert_eq!(
			Offers::<Test>::get(PROVIDER).unwrap().into_inner(),
			vec![(BASE, SERVING_PRICE), (OTHER_BASE, 11)]
		);
	})
}

// Prepaid funds.

#[test]
fn deposits_are_held_on_the_users_account() {
	test(|| {
		deposit(ALICE, 1_000);
		deposit(ALICE, 500);
		assert_eq!(held(ALICE), 1_500);
		assert_eq!(Balances::balance(&ALICE), 1_000_000 - 1_500);
		assert_eq!(PrepaidFunds::<Test>::get(ALICE, PROVIDER).unwrap().held, 1_500);
		assert_noop!(Inference::deposit(signed(ALICE), PROVIDER, 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Inference::deposit(signed(POOR), PROVIDER, 10),
			Error::<Test>::FundsUnavailable
		);
	})
}

#[test]
fn locked_funds_cannot_be_deposited_for_inference() {
	test(|| {
		// A vesting or voting lock: the funds stay on the account but may not be spent.
		Balances::set_lock(*b"vesting ", &BOB, 999_000, WithdrawReasons::all());
		assert_noop!(
			Inference::deposit(signed(BOB), PROVIDER, 2_000),
			Error::<Test>::FundsUnavailable
		);
		assert_ok!(Inference::deposit(signed(BOB), PROVIDER, 900));
	})
}

#[test]
fn a_lock_placed_after_the_deposit_does_not_keep_the_funds_from_paying() {
	test(|| {
		deposit(BOB, 5_000);
		let key = sign(authorisation(BOB, &[MODEL], 10_000));
		// Bob is served, spends his free balance, then locks everything he has (a vote may lock
		// held funds too): the funds were spendable when deposited and pay what was served.
		assert_ok!(Balances::transfer_allow_death(signed(BOB), ALICE, 994_000));
		Balances::set_lock(*b"vesting ", &BOB, 6_000, WithdrawReasons::all());
		assert_eq!(Inference::authorise(&key.encode(), &PROVIDER).unwrap().available, 5_000);
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 1_000)])));
		assert_eq!(held(BOB), 5_000 - 1_200);
	})
}

#[test]
fn funds_deposited_with_one_provider_pay_no_other() {
	test(|| {
		deposit(ALICE, 5_000);
		let mut auth = authorisation(ALICE, &[MODEL], 10_000);
		auth.provider = OTHER_PROVIDER;
		let key = sign(auth);
		assert_ok!(Inference::set_offer(signed(OTHER_PROVIDER), BASE, SERVING_PRICE));
		assert_eq!(Inference::authorise(&key.encode(), &OTHER_PROVIDER).unwrap().available, 0);
		assert_noop!(
			Inference::settle(
				signed(OTHER_PROVIDER),
				batch_of(&key, vec![record(&key, 1, MODEL, 10)])
			),
			Error::<Test>::InsufficientPrepaid
		);
		assert_ok!(Inference::deposit(signed(ALICE), OTHER_PROVIDER, 1_000));
		assert_ok!(Inference::settle(
			signed(OTHER_PROVIDER),
			batch_of(&key, vec![record(&key, 1, MODEL, 10)])
		));
		assert_eq!(PrepaidFunds::<Test>::get(ALICE, PROVIDER).unwrap().held, 5_000);
		assert_eq!(held(ALICE), 5_000 + 1_000 - 12);
	})
}

#[test]
fn a_settlement_that_spends_everything_leaves_no_empty_record() {
	test(|| {
		deposit(ALICE, 1_200);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 1_000)])));
		assert!(PrepaidFunds::<Test>::get(ALICE, PROVIDER).is_none());
	})
}

#[test]
fn only_a_user_with_funds_at_the_provider_records_a_revocation() {
	test(|| {
		let auth = authorisation(ALICE, &[MODEL], 10_000);
		assert_noop!(Inference::revoke(signed(ALICE), auth.clone()), Error::<Test>::NoPrepaidFunds);
		deposit(ALICE, 10);
		assert_ok!(Inference::revoke(signed(ALICE), auth));
	})
}

#[test]
fn a_withdrawal_waits_for_its_delay_and_settlements_meanwhile_take_from_it() {
	test(|| {
		assert_noop!(
			Inference::request_withdrawal(signed(ALICE), PROVIDER, 1),
			Error::<Test>::NoPrepaidFunds
		);
		deposit(ALICE, 3_000);
		assert_noop!(
			Inference::request_withdrawal(signed(ALICE), PROVIDER, 3_001),
			Error::<Test>::WithdrawalAboveFunds
		);
		assert_noop!(Inference::withdraw(signed(ALICE), PROVIDER), Error::<Test>::NoWithdrawal);
		assert_ok!(Inference::request_withdrawal(signed(ALICE), PROVIDER, 3_000));
		assert_eq!(Inference::available(&ALICE, &PROVIDER), 0);
		// Served before the request, settled during the delay.
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 1_000)])));
		run_to(1 + WITHDRAWAL_DELAY - 1);
		assert_noop!(Inference::withdraw(signed(ALICE), PROVIDER), Error::<Test>::WithdrawalNotDue);
		run_to(1 + WITHDRAWAL_DELAY);
		let before = Balances::balance(&ALICE);
		assert_ok!(Inference::withdraw(signed(ALICE), PROVIDER));
		assert_eq!(Balances::balance(&ALICE), before + 3_000 - 1_200);
		assert!(PrepaidFunds::<Test>::get(ALICE, PROVIDER).is_none());
		assert_eq!(held(ALICE), 0);
	})
}

// Settlement and its split.

#[test]
fn fees_round_up_and_splits_sum_to_the_fees() {
	assert_eq!(fee_for::<u64>(1, 1_000), 1);
	assert_eq!(fee_for::<u64>(1, 1), 1);
	assert_eq!(fee_for::<u64>(1_000, 1), 1);
	assert_eq!(fee_for::<u64>(1_001, 1), 2);
	assert_eq!(fee_for::<u64>(0, 1_000), 0);
	assert_eq!(fee_for::<u64>(u64::MAX, u64::MAX), u64::MAX);
	for model_part in [0u64, 1, 7, 999, 1_501, 123_457] {
		for serving_part in [0u64, 1, 301, 99_999] {
			for share in [0, 1, 10, 33, 100] {
				let p = split(
					model_part,
					serving_part,
					Perbill::from_percent(10),
					Perbill::from_percent(share),
				);
				assert_eq!(
					p.protocol + p.provider + p.owner + p.contributors,
					model_part + serving_part
				);
			}
		}
	}
}

#[test]
fn settlement_splits_each_fee_to_the_unit() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 5_000));
		// 1,000 tokens: 1,000 + 200. 501 tokens: 501 + 100.2, rounded up to 101.
		let records = vec![record(&key, 1, MODEL, 1_000), record(&key, 2, MODEL, 501)];
		assert_eq!(records[0].fee + records[1].fee, 1_802);
		let issuance = Balances::total_issuance();
		assert_ok!(settle(batch_of(&key, records)));
		// Model part 1,501: 150 to the protocol, 1,351 left, 270 (a fifth) to the contributors,
		// 1,081 to the owner. Serving part 301: 30 to the protocol, 271 to the provider.
		assert_eq!(Rewards::<Test>::get(POT), 180);
		assert_eq!(Rewards::<Test>::get(PROVIDER), 271);
		assert_eq!(Rewards::<Test>::get(OWNER), 1_081);
		// 270 over versions of 300 and 100 bytes: 202.5 and 67.5, rounded down, the unit left
		// to the first.
		assert_eq!(ContributorPools::<Test>::get(1, 0).paid, 203);
		assert_eq!(ContributorPools::<Test>::get(2, 0).paid, 67);
		assert_eq!(held(ALICE), 10_000 - 1_802);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::Owed.into(), &Inference::account()),
			1_802
		);
		assert_eq!(Balances::total_issuance(), issuance);
		let earnings = ModelEarnings::<Test>::get(MODEL);
		assert_eq!(
			earnings,
			Earnings { inferences: 2, tokens: 1_501, fees: 1_802, owner: 1_081, contributors: 270 }
		);
		let id = Inference::key_id(&key.authorisation);
		assert_eq!(
			Keys::<Test>::get(id).unwrap(),
			KeyState { spent: 1_802, last_seq: 2, expires: 500, revoked_at: None }
		);
		assert!(events().contains(&Event::ModelPaid {
			model: MODEL,
			inferences: 2,
			tokens: 1_501,
			protocol: 180,
			provider: 271,
			owner: 1_081,
			contributors: 270,
		}));
		assert!(events().contains(&Event::Settled {
			provider: PROVIDER,
			keys: 1,
			records: 2,
			fees: 1_802
		}));
	})
}

#[test]
fn two_users_and_two_models_settle_in_one_batch() {
	test(|| {
		deposit(ALICE, 10_000);
		deposit(BOB, 10_000);
		let a = sign(authorisation(ALICE, &[MODEL, MODEL2], 5_000));
		let b = sign(authorisation(BOB, &[MODEL2], 5_000));
		let mut batch = batch_of(&a, vec![record(&a, 1, MODEL, 100), record(&a, 2, MODEL2, 100)]);
		batch.extend(batch_of(&b, vec![record(&b, 7, MODEL2, 1_000)]));
		assert_ok!(settle(batch));
		// Alice: 100 + 20 and 40 + 20; Bob: 400 + 200.
		assert_eq!(held(ALICE), 10_000 - 180);
		assert_eq!(held(BOB), 10_000 - 600);
		assert_eq!(ModelEarnings::<Test>::get(MODEL2).fees, 660);
		assert_eq!(ModelEarnings::<Test>::get(MODEL2).inferences, 2);
	})
}

#[test]
fn a_record_settles_once_across_batches() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		let first = record(&key, 1, MODEL, 1_000);
		assert_ok!(settle(batch_of(&key, vec![first])));
		assert_noop!(settle(batch_of(&key, vec![first])), Error::<Test>::Replayed);
		// The same record under another number is a new inference, and must be above.
		assert_ok!(settle(batch_of(&key, vec![record(&key, 2, MODEL, 1_000)])));
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 2, MODEL, 10)])),
			Error::<Test>::Replayed
		);
		assert_eq!(held(ALICE), 10_000 - 2_400);
	})
}

#[test]
fn records_of_a_key_come_in_order_within_a_batch() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		let (one, two) = (record(&key, 1, MODEL, 10), record(&key, 2, MODEL, 10));
		assert_noop!(settle(batch_of(&key, vec![two, one])), Error::<Test>::Replayed);
		assert_noop!(settle(batch_of(&key, vec![one, one])), Error::<Test>::Replayed);
		// The same key twice in a batch continues where it left off.
		let mut batch = batch_of(&key, vec![one]);
		batch.extend(batch_of(&key, vec![one]));
		assert_noop!(settle(batch), Error::<Test>::Replayed);
	})
}

#[test]
fn a_price_rise_after_signing_charges_nothing_more() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		set_price(MODEL, 5_000);
		assert_ok!(Inference::set_offer(signed(PROVIDER), BASE, 900));
		let pinned = record(&key, 1, MODEL, 1_000);
		assert_eq!(pinned.fee, 1_200);
		let mut at_new_prices = record(&key, 1, MODEL, 1_000);
		at_new_prices.fee = 5_900;
		assert_noop!(settle(batch_of(&key, vec![at_new_prices])), Error::<Test>::WrongFee);
		assert_ok!(settle(batch_of(&key, vec![pinned])));
		assert_eq!(held(ALICE), 10_000 - 1_200);
	})
}

#[test]
fn a_fee_other_than_the_prices_give_is_refused() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		for fee in [1_201, 1_199, 0] {
			let mut r = record(&key, 1, MODEL, 1_000);
			r.fee = fee;
			assert_noop!(settle(batch_of(&key, vec![r])), Error::<Test>::WrongFee);
		}
		let mut none = record(&key, 1, MODEL, 0);
		none.fee = 0;
		assert_noop!(settle(batch_of(&key, vec![none])), Error::<Test>::NoTokens);
	})
}

#[test]
fn a_key_for_another_chain_provider_or_signer_settles_nothing() {
	test(|| {
		deposit(ALICE, 10_000);
		let mut auth = authorisation(ALICE, &[MODEL], 10_000);
		auth.genesis = H256::repeat_byte(1);
		let other_chain = sign(auth);
		assert_noop!(
			settle(batch_of(&other_chain, vec![record(&other_chain, 1, MODEL, 10)])),
			Error::<Test>::WrongChain
		);
		let mut auth = authorisation(ALICE, &[MODEL], 10_000);
		auth.provider = OTHER_PROVIDER;
		let other_provider = sign(auth);
		assert_noop!(
			settle(batch_of(&other_provider, vec![record(&other_provider, 1, MODEL, 10)])),
			Error::<Test>::WrongProvider
		);
		// Bob signs a key that spends Alice's funds.
		let auth = authorisation(ALICE, &[MODEL], 10_000);
		let forged = SignedAuthorisation {
			signature: TestSignature(BOB, Inference::signing_payload(&auth)),
			authorisation: auth.clone(),
		};
		assert_noop!(
			settle(batch_of(&forged, vec![record(&forged, 1, MODEL, 10)])),
			Error::<Test>::BadSignature
		);
		// A signature of another authorisation: a larger maximum than Alice signed.
		let mut raised = auth.clone();
		raised.max_spend = 1_000_000;
		let tampered = SignedAuthorisation {
			signature: TestSignature(ALICE, Inference::signing_payload(&auth)),
			authorisation: raised,
		};
		assert_noop!(
			settle(batch_of(&tampered, vec![record(&tampered, 1, MODEL, 10)])),
			Error::<Test>::BadSignature
		);
		let mut twice = authorisation(ALICE, &[MODEL, MODEL], 10_000);
		let dup = sign(twice.clone());
		assert_noop!(
			settle(batch_of(&dup, vec![record(&dup, 1, MODEL, 10)])),
			Error::<Test>::BadModels
		);
		twice.models.clear();
		let none = sign(twice);
		assert_noop!(
			settle(batch_of(&none, vec![record(&none, 1, MODEL, 10)])),
			Error::<Test>::BadModels
		);
		assert_eq!(held(ALICE), 10_000);
	})
}

#[test]
fn a_key_spends_at_most_its_maximum_and_the_prepaid_funds() {
	test(|| {
		deposit(ALICE, 2_000);
		let key = sign(authorisation(ALICE, &[MODEL], 2_400));
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 1_000)])));
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 2, MODEL, 1_000)])),
			Error::<Test>::InsufficientPrepaid
		);
		deposit(ALICE, 5_000);
		assert_ok!(settle(batch_of(&key, vec![record(&key, 2, MODEL, 1_000)])));
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 3, MODEL, 1)])),
			Error::<Test>::SpendLimitExceeded
		);
		let nobody = sign(authorisation(BOB, &[MODEL], 2_400));
		assert_noop!(
			settle(batch_of(&nobody, vec![record(&nobody, 1, MODEL, 10)])),
			Error::<Test>::InsufficientPrepaid
		);
	})
}

#[test]
fn unpublished_retired_unknown_or_unserved_models_settle_nothing() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation_all(ALICE, &[DRAFT, RETIRED, UNSERVED, 42]));
		for (model, error) in [
			(DRAFT, Error::<Test>::ModelNotPublished),
			(RETIRED, Error::<Test>::ModelRetired),
			(UNSERVED, Error::<Test>::BaseNotServed),
			(42, Error::<Test>::UnknownModel),
			(MODEL, Error::<Test>::ModelNotAllowed),
		] {
			assert_noop!(settle(batch_of(&key, vec![record(&key, 1, model, 10)])), error);
		}
		// A model retired after serving: what was served on it settles no more.
		let live = sign(authorisation(ALICE, &[MODEL], 10_000));
		set_unavailable(MODEL, openledger_primitives::ModelUnavailable::Retired);
		assert_noop!(
			settle(batch_of(&live, vec![record(&live, 1, MODEL, 10)])),
			Error::<Test>::ModelRetired
		);
	})
}

fn authorisation_all(
	user: AccountId,
	models: &[ModelId],
) -> crate::Authorisation<AccountId, Balance, u64, H256> {
	authorisation(user, models, 10_000)
}

#[test]
fn empty_and_oversized_settlements_are_refused() {
	test(|| {
		deposit(ALICE, 100_000);
		let key = sign(authorisation(ALICE, &[MODEL], 100_000));
		assert_noop!(settle(vec![]), Error::<Test>::EmptySettlement);
		assert_noop!(settle(batch_of(&key, vec![])), Error::<Test>::EmptySettlement);
		let records = (1..=u64::from(MAX_RECORDS) + 1).map(|s| record(&key, s, MODEL, 1)).collect();
		assert_noop!(settle(batch_of(&key, records)), Error::<Test>::SettlementTooLarge);
		let batch: Batch = (0..=MAX_KEYS)
			.flat_map(|n| batch_of(&key, vec![record(&key, u64::from(n) + 1, MODEL, 1)]))
			.collect();
		assert_noop!(settle(batch), Error::<Test>::SettlementTooLarge);
		let records = (1..=u64::from(MAX_RECORDS)).map(|s| record(&key, s, MODEL, 1)).collect();
		assert_ok!(settle(batch_of(&key, records)));
	})
}

// Expiry, revocation and bounded memory.

#[test]
fn an_expired_key_settles_within_its_window_and_not_after() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		run_to(501);
		assert_eq!(
			Inference::authorise(&key.encode(), &PROVIDER).unwrap_err(),
			crate::runtime_api::KeyRefusal::Expired
		);
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 10)])));
		run_to(500 + SETTLEMENT_WINDOW + 1);
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 2, MODEL, 10)])),
			Error::<Test>::KeyExpired
		);
	})
}

#[test]
fn a_revoked_key_is_refused_for_serving_at_once_and_settles_only_within_the_window() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		assert!(Inference::authorise(&key.encode(), &PROVIDER).is_ok());
		assert_noop!(
			Inference::revoke(signed(BOB), key.authorisation.clone()),
			Error::<Test>::NotKeyOwner
		);
		assert_ok!(Inference::revoke(signed(ALICE), key.authorisation.clone()));
		assert_noop!(
			Inference::revoke(signed(ALICE), key.authorisation.clone()),
			Error::<Test>::AlreadyRevoked
		);
		assert_eq!(
			Inference::authorise(&key.encode(), &PROVIDER).unwrap_err(),
			crate::runtime_api::KeyRefusal::Revoked
		);
		run_to(1 + SETTLEMENT_WINDOW);
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 10)])));
		run_to(2 + SETTLEMENT_WINDOW);
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 2, MODEL, 10)])),
			Error::<Test>::KeyRevoked
		);
	})
}

#[test]
fn a_key_living_beyond_the_lifetime_is_refused_so_that_memory_stays_bounded() {
	test(|| {
		deposit(ALICE, 10_000);
		let mut auth = authorisation(ALICE, &[MODEL], 10_000);
		auth.expires = 1 + MAX_KEY_LIFETIME + 1;
		let key = sign(auth.clone());
		assert_eq!(
			Inference::authorise(&key.encode(), &PROVIDER).unwrap_err(),
			crate::runtime_api::KeyRefusal::ExpiryTooFar
		);
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 1, MODEL, 10)])),
			Error::<Test>::ExpiryTooFar
		);
		assert_noop!(Inference::revoke(signed(ALICE), auth), Error::<Test>::ExpiryTooFar);
	})
}

#[test]
fn forgotten_keys_leave_storage_and_settle_nothing_more() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		let mut revoked_auth = authorisation(ALICE, &[MODEL], 10_000);
		revoked_auth.nonce = 1;
		revoked_auth.expires = 30;
		assert_ok!(Inference::revoke(signed(ALICE), revoked_auth));
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 10)])));
		assert_eq!(Keys::<Test>::iter().count(), 2);
		run_to(30 + SETTLEMENT_WINDOW + 1);
		assert_eq!(Keys::<Test>::iter().count(), 1);
		run_to(500 + SETTLEMENT_WINDOW + 1);
		assert_eq!(Keys::<Test>::iter().count(), 0);
		assert_eq!(Expiries::<Test>::iter().count(), 0);
		assert_noop!(
			settle(batch_of(&key, vec![record(&key, 1, MODEL, 10)])),
			Error::<Test>::KeyExpired
		);
	})
}

// Claims.

#[test]
fn rewards_are_paid_to_their_beneficiary_whoever_claims() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 5_000));
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 1_000)])));
		// 1,000 + 200: protocol 100 + 20, provider 180, contributors 180, owner 720.
		for (account, amount) in [(PROVIDER, 180), (OWNER, 720), (POT, 120)] {
			let before = Balances::balance(&account);
			assert_ok!(Inference::claim_rewards(signed(BOB), account));
			assert_eq!(Balances::balance(&account), before + amount);
			assert_noop!(
				Inference::claim_rewards(signed(account), account),
				Error::<Test>::NothingToClaim
			);
		}
		assert_noop!(Inference::claim_rewards(signed(BOB), BOB), Error::<Test>::NothingToClaim);
	})
}

#[test]
fn contributions_claim_their_share_of_the_pools_once() {
	test(|| {
		deposit(ALICE, 10_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		assert_ok!(settle(batch_of(&key, vec![record(&key, 1, MODEL, 1_000)])));
		// Contributors' 180 over 300 and 100 bytes: 135 and 45.
		assert_eq!(ContributorPools::<Test>::get(1, 0).paid, 135);
		assert_eq!(ContributorPools::<Test>::get(2, 0).paid, 45);
		assert_eq!(Inference::contribution_claimable(1, 0, 0), 90);
		let before = Balances::balance(&C1);
		assert_ok!(Inference::claim_contribution_rewards(signed(BOB), 1, 0, 0));
		assert_ok!(Inference::claim_contribution_rewards(signed(C1), 2, 0, 4));
		assert_eq!(Balances::balance(&C1), before + 90 + 45);
		assert_noop!(
			Inference::claim_contribution_rewards(signed(C1), 1, 0, 0),
			Error::<Test>::NothingToClaim
		);
		assert_ok!(Inference::claim_contribution_rewards(signed(C2), 1, 0, 1));
		assert_eq!(ContributorPools::<Test>::get(1, 0).claimed, 135);
		// More inferences: each claims only what was paid since.
		assert_ok!(settle(batch_of(&key, vec![record(&key, 2, MODEL, 1_000)])));
		assert_eq!(Inference::contribution_claimable(1, 0, 0), 90);
		assert_noop!(
			Inference::claim_contribution_rewards(signed(C1), 1, 0, 9),
			Error::<Test>::NotInVersion
		);
	})
}

// The runtime API's check of a key.

#[test]
fn the_key_check_reads_what_a_key_leaves_to_spend_and_refuses_bad_keys() {
	test(|| {
		deposit(ALICE, 3_000);
		let key = sign(authorisation(ALICE, &[MODEL], 10_000));
		assert_eq!(
			Inference::authorise(b"not a key", &PROVIDER).unwrap_err(),
			crate::runtime_api::KeyRefusal::Malformed
		);
		let mut trailing = key.encode();
		trailing.push(0);
		assert_eq!(
			Inference::authorise(&trailing, &PROVIDER).unwrap_err(),
			crate::runtime_api::KeyRefusal::Malformed
		);
		assert_eq!(
			Inference::authorise(&key.encode(), &OTHER_PROVIDER).unwrap_err(),
			crate::runtime_api::KeyRefusal::WrongProvider
		);
		assert_ok!(settle(batch_of(&key, vec![record(&key, 4, MODEL, 1_000)])));
		assert_ok!(Inference::request_withdrawal(signed(ALICE), PROVIDER, 500));
		let view = Inference::authorise(&key.encode(), &PROVIDER).unwrap();
		assert_eq!(view.id, Inference::key_id(&key.authorisation));
		assert_eq!((view.spent, view.last_seq, view.max_spend), (1_200, 4, 10_000));
		assert_eq!(view.available, 3_000 - 1_200 - 500);
		assert_eq!(view.user, ALICE);
	})
}
