//! The OPEN supply at genesis, the vesting of the investor and team allocations, and fees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use common::preset_ext;
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use openledger_runtime::{
	currency::OPEN,
	genesis_config_presets::{Beneficiaries, DEV_ENDOWMENT},
	time::DAYS,
	tokenomics::{Allocation, TOTAL_SUPPLY, VESTING_CLIFF, VESTING_DURATION, VESTING_FEE_FLOAT},
	AccountId, Balance, Balances, Runtime, RuntimeOrigin, System, Vesting,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::TokenError;

const PRESETS: [&str; 2] = ["development", "local_testnet"];

fn free(who: &AccountId) -> Balance {
	Balances::total_balance(who)
}

#[test]
fn total_supply_is_one_billion_open_to_the_unit() {
	assert_eq!(TOTAL_SUPPLY, 1_000_000_000u128 * 10u128.pow(18));
	for preset in PRESETS {
		preset_ext(preset).execute_with(|| {
			assert_eq!(Balances::total_issuance(), 1_000_000_000u128 * 10u128.pow(18), "{preset}");
		});
	}
}

#[test]
fn every_allocation_matches_its_share_to_the_unit() {
	// The shares of the tokenomics, in percent with two decimals, written out independently of
	// the runtime's table.
	let expected: [(Allocation, u128); 6] = [
		(Allocation::ContributorRewards, 25_00),
		(Allocation::EcosystemGrants, 10_00),
		(Allocation::Community, 26_71),
		(Allocation::Investors, 18_29),
		(Allocation::Team, 15_00),
		(Allocation::Liquidity, 5_00),
	];
	let community_and_ecosystem: u128 = expected[..3].iter().map(|(_, s)| s).sum();
	assert_eq!(community_and_ecosystem, 61_71);

	let dev = Beneficiaries::development();
	for preset in PRESETS {
		preset_ext(preset).execute_with(|| {
			for (allocation, hundredths_of_percent) in expected {
				let share = TOTAL_SUPPLY / 10_000 * hundredths_of_percent;
				assert_eq!(allocation.amount(), share);
				let (holder, held) = match allocation {
					Allocation::Investors => (dev.investors.clone(), share),
					Allocation::Team => (dev.team.clone(), share),
					// The development endowments come out of the community pot.
					Allocation::Community => (
						allocation.pot_account().unwrap(),
						share - DEV_ENDOWMENT * dev.endowed.len() as u128,
					),
					_ => (allocation.pot_account().unwrap(), share),
				};
				assert_eq!(free(&holder), held, "{preset}: {allocation:?}");
			}
			for who in &dev.endowed {
				assert_eq!(free(who), DEV_ENDOWMENT, "{preset}");
			}
		});
	}
}

#[test]
fn vested_allocations_transfer_nothing_before_the_cliff_and_unlock_linearly_after() {
	preset_ext("development").execute_with(|| {
		let dest = Sr25519Keyring::Ferdie.to_account_id();
		for (who, allocation) in [
			(Sr25519Keyring::One.to_account_id(), Allocation::Investors),
			(Sr25519Keyring::Two.to_account_id(), Allocation::Team),
		] {
			let total = allocation.amount();
			// Genesis computes the schedule as `pallet_vesting` does: all but the fee float is
			// locked and `locked / duration` unlocks with every block after the cliff.
			let per_block = (total - VESTING_FEE_FLOAT) / VESTING_DURATION as u128;

			// The float is liquid from the start, and not a unit more.
			assert_noop!(
				Balances::transfer_keep_alive(
					RuntimeOrigin::signed(who.clone()),
					dest.clone().into(),
					VESTING_FEE_FLOAT + 1
				),
				TokenError::Frozen
			);
			assert_ok!(Balances::transfer_keep_alive(
				RuntimeOrigin::signed(who.clone()),
				dest.clone().into(),
				VESTING_FEE_FLOAT
			));

			for block in [1, VESTING_CLIFF / 2, VESTING_CLIFF] {
				System::set_block_number(block);
				assert_ok!(Vesting::vest(RuntimeOrigin::signed(who.clone())));
				assert_noop!(
					Balances::transfer_keep_alive(
						RuntimeOrigin::signed(who.clone()),
						dest.clone().into(),
						1
					),
					TokenError::Frozen
				);
			}

			// Thirty days after the cliff, exactly thirty days' worth is free.
			let elapsed = 30 * DAYS;
			System::set_block_number(VESTING_CLIFF + elapsed);
			assert_ok!(Vesting::vest(RuntimeOrigin::signed(who.clone())));
			let vested = per_block * elapsed as u128;
			assert!(vested > 2_000_000 * OPEN, "a month unlocks millions of OPEN");
			let before = free(&dest);
			assert_ok!(Balances::transfer_keep_alive(
				RuntimeOrigin::signed(who.clone()),
				dest.clone().into(),
				vested
			));
			assert_eq!(free(&dest), before + vested);
			assert_noop!(
				Balances::transfer_keep_alive(
					RuntimeOrigin::signed(who.clone()),
					dest.clone().into(),
					1
				),
				TokenError::Frozen
			);

			// Once the schedule has run its course, everything is free.
			System::set_block_number(VESTING_CLIFF + VESTING_DURATION + 1);
			assert_ok!(Vesting::vest(RuntimeOrigin::signed(who.clone())));
			assert!(pallet_vesting::Vesting::<Runtime>::get(&who).is_none());
			assert_ok!(Balances::transfer_all(
				RuntimeOrigin::signed(who.clone()),
				dest.clone().into(),
				false
			));
			assert_eq!(free(&who), 0);
		}
	});
}
