//! Attacks on the runtime as composed, one test each: what an adversary tries, and that it fails
//! with the exact error, leaving balances as they were.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use codec::Encode;
use common::preset_ext;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use openledger_runtime::{
	currency::OPEN, tokenomics::VESTING_FEE_FLOAT, AccountId, Balance, Balances, Compute,
	ConvictionVoting, Referenda, Runtime, RuntimeCall, RuntimeOrigin, System,
};
use pallet_compute::{Hardware, JobKind, Offer, ProviderInput};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use sp_keyring::Sr25519Keyring::{Bob, Ferdie, One};
use sp_runtime::TokenError;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// Ferdie, the attacker's own provider, serves inference for 1 OPEN: every job of the tests
/// below would pay it, and a job's price may be as high as its fee.
fn own_provider() {
	provider_at(OPEN);
}

/// Ferdie serves inference at `price`.
fn provider_at(price: Balance) {
	let input = ProviderInput {
		endpoint: b"http://127.0.0.1:9100".to_vec(),
		hardware: Hardware { cpu_cores: 2, memory_mib: 4096, gpus: 0, gpu_memory_mib: 0 },
		concurrency: 8,
		offers: vec![Offer { kind: JobKind::Inference, price }],
	};
	assert_ok!(Compute::register(signed(Ferdie.into()), input, 1_000 * OPEN));
}

fn create_job(owner: AccountId, fee: Balance) -> sp_runtime::DispatchResult {
	Compute::create_job(signed(owner), JobKind::Inference, vec![], Hardware::default(), fee, 100)
		.map(|_| ())
		.map_err(|e| e.error)
}

/// What an account has, free and held, and what Ferdie has.
fn balances(who: &AccountId) -> (Balance, Balance) {
	(Balances::total_balance(who), Balances::total_balance(&Ferdie.to_account_id()))
}

#[test]
fn vesting_open_cannot_be_paid_out_through_a_job_to_ones_own_provider() {
	preset_ext("development").execute_with(|| {
		System::set_block_number(1);
		own_provider();
		let investor = One.to_account_id();
		let before = balances(&investor);
		assert!(Balances::total_balance(&investor) > 100_000_000 * OPEN);

		assert_noop!(create_job(investor.clone(), 900_000 * OPEN), TokenError::FundsUnavailable);
		// Not even a unit above the liquid fee float.
		assert_noop!(
			create_job(investor.clone(), VESTING_FEE_FLOAT + 1),
			TokenError::FundsUnavailable
		);
		assert_eq!(balances(&investor), before);
		assert!(pallet_compute::Jobs::<Runtime>::iter().next().is_none());
	});
}

#[test]
fn vote_locked_open_cannot_move_to_another_account_through_a_job() {
	preset_ext("development").execute_with(|| {
		System::set_block_number(1);
		own_provider();
		let voter = Bob.to_account_id();
		// A referendum to vote on, and Bob's whole balance behind his vote.
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![1] });
		let proposal = frame_support::traits::Bounded::Inline(remark.encode().try_into().unwrap());
		assert_ok!(Referenda::submit(
			signed(voter.clone()),
			Box::new(frame_system::RawOrigin::Root.into()),
			proposal,
			frame_support::traits::schedule::DispatchTime::After(1),
		));
		let stake = Balances::total_balance(&voter);
		let vote = Vote { aye: true, conviction: Conviction::Locked6x };
		assert_ok!(ConvictionVoting::vote(
			signed(voter.clone()),
			0,
			AccountVote::Standard { vote, balance: stake }
		));
		assert_eq!(System::account(&voter).data.frozen, stake);
		let before = balances(&voter);

		assert_noop!(create_job(voter.clone(), 900_000 * OPEN), TokenError::FundsUnavailable);
		assert_noop!(create_job(voter.clone(), OPEN), TokenError::FundsUnavailable);
		assert_eq!(balances(&voter), before);
	});
}

#[test]
fn an_owner_that_closes_its_account_cannot_block_the_providers_pay() {
	preset_ext("development").execute_with(|| {
		use openledger_runtime::currency::MILLI_OPEN;
		System::set_block_number(1);
		let price = 100 * MILLI_OPEN;
		provider_at(price);
		// A fresh account pays a job whose refund will be dust, then empties its account.
		let owner: AccountId = sp_keyring::Sr25519Keyring::Eve.to_account_id();
		let fee = price + MILLI_OPEN;
		assert_ok!(create_job(owner.clone(), fee));
		assert_ok!(Balances::transfer_all(
			signed(owner.clone()),
			Bob.to_account_id().into(),
			false
		));
		assert!(!System::account_exists(&owner));
		let pot = openledger_runtime::configs::CommunityPotAccount::get();
		let (provider, pot_before) =
			(Balances::total_balance(&Ferdie.to_account_id()), Balances::total_balance(&pot));

		assert_ok!(Compute::accept_job(signed(Ferdie.into()), 0));
		assert_ok!(Compute::submit_result(signed(Ferdie.into()), 0, vec![1]));

		assert_eq!(Balances::total_balance(&Ferdie.to_account_id()), provider + price);
		// The dust refund (below the existential deposit) went to the community pot.
		assert_eq!(Balances::total_balance(&pot), pot_before + MILLI_OPEN);
		assert!(!System::account_exists(&owner));
		assert_eq!(
			Balances::total_balance_on_hold(&pallet_compute::Pallet::<Runtime>::escrow_account()),
			0
		);
	});
}

mod parameter_bounds {
	use super::*;
	use frame_support::{dispatch::GetDispatchInfo, traits::Get};
	use openledger_runtime::configs::{
		dynamic_params::{compute as c, datanets as d, grants as g, inference as i, models as m},
		parameters::{within_bounds, RateLimit},
		RuntimeParameters,
	};
	use pallet_governance::Origin;
	use sp_runtime::{traits::Dispatchable, Perbill};

	fn set(key_value: RuntimeParameters) -> RuntimeCall {
		RuntimeCall::Parameters(pallet_parameters::Call::set_parameter { key_value })
	}

	/// Dispatches `call` as a referendum on the protocol-parameters track would.
	fn as_protocol_parameters_track(
		call: RuntimeCall,
	) -> sp_runtime::DispatchResultWithInfo<frame_support::dispatch::PostDispatchInfo> {
		assert!(call.get_dispatch_info().call_weight.ref_time() > 0);
		call.dispatch(Origin::ProtocolParameters.into())
	}

	fn refused(key_value: RuntimeParameters) {
		assert!(!within_bounds(&key_value), "{key_value:?}");
		let stored = pallet_parameters::Parameters::<Runtime>::iter().count();
		let outcome = as_protocol_parameters_track(set(key_value.clone()));
		assert_eq!(
			outcome.map_err(|e| e.error),
			Err(frame_system::Error::<Runtime>::CallFiltered.into()),
			"{key_value:?}"
		);
		assert_eq!(pallet_parameters::Parameters::<Runtime>::iter().count(), stored);
	}

	fn accepted(key_value: RuntimeParameters) {
		assert_ok!(as_protocol_parameters_track(set(key_value)));
	}

	#[test]
	fn every_default_lies_within_its_bounds() {
		preset_ext("local_testnet").execute_with(|| {
			use openledger_runtime::configs::parameters::grant_tiers::*;
			let defaults = [
				RuntimeParameters::Datanets(d::Parameters::DatanetDepositBase(
					d::DatanetDepositBase,
					Some(d::DatanetDepositBase::get()),
				)),
				RuntimeParameters::Datanets(d::Parameters::DatanetDepositPerByte(
					d::DatanetDepositPerByte,
					Some(d::DatanetDepositPerByte::get()),
				)),
				RuntimeParameters::Datanets(d::Parameters::MinContributionDeposit(
					d::MinContributionDeposit,
					Some(d::MinContributionDeposit::get()),
				)),
				RuntimeParameters::Datanets(d::Parameters::RejectionSlash(
					d::RejectionSlash,
					Some(d::RejectionSlash::get()),
				)),
				RuntimeParameters::Datanets(d::Parameters::AdversarialSlash(
					d::AdversarialSlash,
					Some(d::AdversarialSlash::get()),
				)),
				RuntimeParameters::Datanets(d::Parameters::ContributionRateLimit(
					d::ContributionRateLimit,
					Some(d::ContributionRateLimit::get()),
				)),
				RuntimeParameters::Grants(g::Parameters::ExplorationMin(
					g::ExplorationMin,
					Some(EXPLORATION_MIN),
				)),
				RuntimeParameters::Grants(g::Parameters::ExplorationMax(
					g::ExplorationMax,
					Some(EXPLORATION_MAX),
				)),
				RuntimeParameters::Grants(g::Parameters::BuildingMin(
					g::BuildingMin,
					Some(BUILDING_MIN),
				)),
				RuntimeParameters::Grants(g::Parameters::BuildingMax(
					g::BuildingMax,
					Some(BUILDING_MAX),
				)),
				RuntimeParameters::Grants(g::Parameters::ExpansionMin(
					g::ExpansionMin,
					Some(EXPANSION_MIN),
				)),
				RuntimeParameters::Grants(g::Parameters::ExpansionMax(
					g::ExpansionMax,
					Some(EXPANSION_MAX),
				)),
				RuntimeParameters::Compute(c::Parameters::MinBond(
					c::MinBond,
					Some(c::MinBond::get()),
				)),
				RuntimeParameters::Compute(c::Parameters::TimeoutSlash(
					c::TimeoutSlash,
					Some(c::TimeoutSlash::get()),
				)),
				RuntimeParameters::Models(m::Parameters::ModelDepositBase(
					m::ModelDepositBase,
					Some(m::ModelDepositBase::get()),
				)),
				RuntimeParameters::Models(m::Parameters::ModelDepositPerByte(
					m::ModelDepositPerByte,
					Some(m::ModelDepositPerByte::get()),
				)),
				RuntimeParameters::Models(m::Parameters::MinContributorShare(
					m::MinContributorShare,
					Some(m::MinContributorShare::get()),
				)),
				RuntimeParameters::Inference(i::Parameters::ProtocolShare(
					i::ProtocolShare,
					Some(i::ProtocolShare::get()),
				)),
				RuntimeParameters::Inference(i::Parameters::WithdrawalDelay(
					i::WithdrawalDelay,
					Some(i::WithdrawalDelay::get()),
				)),
			];
			for default in defaults {
				assert!(within_bounds(&default), "{default:?}");
			}
		});
	}

	#[test]
	fn the_contributors_least_share_cannot_be_raised_to_starve_model_owners() {
		preset_ext("local_testnet").execute_with(|| {
			refused(RuntimeParameters::Models(m::Parameters::MinContributorShare(
				m::MinContributorShare,
				Some(sp_runtime::Perbill::from_percent(51)),
			)));
			accepted(RuntimeParameters::Models(m::Parameters::MinContributorShare(
				m::MinContributorShare,
				Some(sp_runtime::Perbill::from_percent(50)),
			)));
		});
	}

	#[test]
	fn inference_fees_cannot_be_handed_to_the_protocol_nor_withdrawals_outrun_settlement() {
		preset_ext("local_testnet").execute_with(|| {
			refused(RuntimeParameters::Inference(i::Parameters::ProtocolShare(
				i::ProtocolShare,
				Some(Perbill::from_percent(21)),
			)));
			refused(RuntimeParameters::Inference(i::Parameters::WithdrawalDelay(
				i::WithdrawalDelay,
				Some(openledger_runtime::time::HOURS - 1),
			)));
			accepted(RuntimeParameters::Inference(i::Parameters::WithdrawalDelay(
				i::WithdrawalDelay,
				Some(openledger_runtime::time::HOURS),
			)));
		});
	}

	#[test]
	fn a_grant_tier_cap_cannot_be_raised_to_drain_the_grants_pot() {
		preset_ext("local_testnet").execute_with(|| {
			let pot = Balances::total_balance(
				&openledger_runtime::configs::grants::EcosystemGrantsPot::get(),
			);
			refused(RuntimeParameters::Grants(g::Parameters::ExpansionMax(
				g::ExpansionMax,
				Some(pot),
			)));
			refused(RuntimeParameters::Grants(g::Parameters::ExplorationMax(
				g::ExplorationMax,
				Some(pot),
			)));
			// Within bounds, a cap still moves.
			accepted(RuntimeParameters::Grants(g::Parameters::ExpansionMax(
				g::ExpansionMax,
				Some(1_000_000 * OPEN),
			)));
			assert_eq!(g::ExpansionMax::get(), 1_000_000 * OPEN);
		});
	}

	#[test]
	fn a_tier_minimum_cannot_exceed_its_maximum_nor_tiers_fall_out_of_order() {
		preset_ext("local_testnet").execute_with(|| {
			// Exploration's minimum above its maximum (50k).
			refused(RuntimeParameters::Grants(g::Parameters::ExplorationMin(
				g::ExplorationMin,
				Some(60_000 * OPEN),
			)));
			// Building's maximum below exploration's maximum.
			refused(RuntimeParameters::Grants(g::Parameters::BuildingMax(
				g::BuildingMax,
				Some(40_000 * OPEN),
			)));
			// A maximum below its own minimum.
			refused(RuntimeParameters::Grants(g::Parameters::ExpansionMax(
				g::ExpansionMax,
				Some(200_000 * OPEN),
			)));
			// A grant too small to be worth a referendum.
			refused(RuntimeParameters::Grants(g::Parameters::ExplorationMin(
				g::ExplorationMin,
				Some(OPEN),
			)));
			// After the maximum is lowered, resetting the minimum to its default (25k) is checked
			// against it.
			accepted(RuntimeParameters::Grants(g::Parameters::ExplorationMin(
				g::ExplorationMin,
				Some(10_000 * OPEN),
			)));
			accepted(RuntimeParameters::Grants(g::Parameters::ExplorationMax(
				g::ExplorationMax,
				Some(20_000 * OPEN),
			)));
			refused(RuntimeParameters::Grants(g::Parameters::ExplorationMin(
				g::ExplorationMin,
				None,
			)));
		});
	}

	#[test]
	fn slashes_cannot_be_set_to_take_everything_or_nothing() {
		preset_ext("local_testnet").execute_with(|| {
			refused(RuntimeParameters::Compute(c::Parameters::TimeoutSlash(
				c::TimeoutSlash,
				Some(Perbill::one()),
			)));
			refused(RuntimeParameters::Compute(c::Parameters::TimeoutSlash(
				c::TimeoutSlash,
				Some(Perbill::zero()),
			)));
			refused(RuntimeParameters::Datanets(d::Parameters::RejectionSlash(
				d::RejectionSlash,
				Some(Perbill::from_percent(51)),
			)));
			refused(RuntimeParameters::Datanets(d::Parameters::AdversarialSlash(
				d::AdversarialSlash,
				Some(Perbill::from_percent(5)),
			)));
			accepted(RuntimeParameters::Compute(c::Parameters::TimeoutSlash(
				c::TimeoutSlash,
				Some(Perbill::from_percent(10)),
			)));
		});
	}

	#[test]
	fn bonds_deposits_and_rate_limits_stay_meaningful() {
		preset_ext("local_testnet").execute_with(|| {
			refused(RuntimeParameters::Compute(c::Parameters::MinBond(c::MinBond, Some(0))));
			refused(RuntimeParameters::Compute(c::Parameters::MinBond(
				c::MinBond,
				Some(100_000_000 * OPEN),
			)));
			refused(RuntimeParameters::Datanets(d::Parameters::DatanetDepositBase(
				d::DatanetDepositBase,
				Some(0),
			)));
			refused(RuntimeParameters::Datanets(d::Parameters::DatanetDepositPerByte(
				d::DatanetDepositPerByte,
				Some(0),
			)));
			refused(RuntimeParameters::Datanets(d::Parameters::MinContributionDeposit(
				d::MinContributionDeposit,
				Some(0),
			)));
			let limit = d::ContributionRateLimit::get();
			refused(RuntimeParameters::Datanets(d::Parameters::ContributionRateLimit(
				d::ContributionRateLimit,
				Some(RateLimit { contributions: 0, ..limit }),
			)));
			refused(RuntimeParameters::Datanets(d::Parameters::ContributionRateLimit(
				d::ContributionRateLimit,
				Some(RateLimit { bytes: u64::MAX, ..limit }),
			)));
			accepted(RuntimeParameters::Datanets(d::Parameters::ContributionRateLimit(
				d::ContributionRateLimit,
				Some(RateLimit { contributions: 10, bytes: 1 << 30 }),
			)));
			// Back to a default is always within bounds.
			accepted(RuntimeParameters::Compute(c::Parameters::MinBond(c::MinBond, None)));
		});
	}

	#[test]
	fn root_is_not_bound_by_the_parameter_bounds() {
		preset_ext("local_testnet").execute_with(|| {
			let all = RuntimeParameters::Compute(c::Parameters::TimeoutSlash(
				c::TimeoutSlash,
				Some(Perbill::one()),
			));
			assert_ok!(set(all).dispatch(RuntimeOrigin::root()));
			assert_eq!(c::TimeoutSlash::get(), Perbill::one());
		});
	}
}
