//! Governance as the runtime composes it: the track table at each pace, which origin runs on
//! which track and what it may do, protocol parameters, and no sudo key outside development.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use common::preset_ext;
use frame_support::{
	assert_noop, assert_ok,
	traits::{EnsureOrigin, Get},
};
use openledger_runtime::{
	configs::{dynamic_params, governance::tracks::ids, grants::GrantsOrigin, RuntimeParameters},
	currency::OPEN,
	time::DAYS,
	Balance, OriginCaller, Parameters, Runtime, RuntimeOrigin,
};
use pallet_governance::{Origin, Pace};
use pallet_grants::Tier;
use pallet_referenda::TracksInfo as _;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{DispatchError, Perbill};

type Tracks = openledger_runtime::configs::governance::tracks::TracksInfo;

const ORIGINS: [(Origin, u16); 8] = [
	(Origin::ProtocolParameters, ids::PROTOCOL_PARAMETERS),
	(Origin::Treasurer, ids::TREASURER),
	(Origin::SmallSpender, ids::SMALL_SPENDER),
	(Origin::MediumSpender, ids::MEDIUM_SPENDER),
	(Origin::BigSpender, ids::BIG_SPENDER),
	(Origin::GrantsExploration, ids::GRANTS_EXPLORATION),
	(Origin::GrantsBuilding, ids::GRANTS_BUILDING),
	(Origin::GrantsExpansion, ids::GRANTS_EXPANSION),
];

#[test]
fn every_governance_origin_has_its_own_track_and_signed_origins_none() {
	preset_ext("local_testnet").execute_with(|| {
		assert_ok!(Tracks::check_integrity());
		let root = OriginCaller::system(frame_system::RawOrigin::Root);
		assert_eq!(Tracks::track_for(&root), Ok(ids::ROOT));
		for (origin, track) in ORIGINS {
			assert_eq!(Tracks::track_for(&OriginCaller::Origins(origin)), Ok(track), "{origin:?}");
			assert!(Tracks::info(track).is_some());
		}
		let signed = OriginCaller::system(frame_system::RawOrigin::Signed(
			Sr25519Keyring::Alice.to_account_id(),
		));
		assert_eq!(Tracks::track_for(&signed), Err(()));
		assert_eq!(Tracks::tracks().count(), 9);
	});
}

#[test]
fn named_networks_use_standard_periods_and_development_fast_ones() {
	preset_ext("local_testnet").execute_with(|| {
		assert_eq!(pallet_governance::GovernancePace::<Runtime>::get(), Pace::Standard);
		let root = Tracks::info(ids::ROOT).unwrap();
		assert_eq!(root.decision_period, 28 * DAYS);
		assert_eq!(root.confirm_period, DAYS);
		assert_eq!(root.max_deciding, 1);
		assert_eq!(root.decision_deposit, 100_000 * OPEN);
		for track in Tracks::tracks() {
			assert!(track.info.decision_period >= 7 * DAYS, "{:?}", track.id);
		}
	});
	preset_ext("development").execute_with(|| {
		assert_eq!(pallet_governance::GovernancePace::<Runtime>::get(), Pace::Fast);
		for track in Tracks::tracks() {
			assert!(track.info.prepare_period + track.info.decision_period <= 60, "{:?}", track.id);
			// Only the periods change: deposits and curves are the standard ones.
			let id = track.id;
			let standard =
				preset_ext("local_testnet").execute_with(|| Tracks::info(id).unwrap().into_owned());
			assert_eq!(track.info.decision_deposit, standard.decision_deposit);
			assert_eq!(track.info.min_approval, standard.min_approval);
			assert_eq!(track.info.min_support, standard.min_support);
		}
	});
}

#[test]
fn only_development_has_a_sudo_key() {
	preset_ext("development").execute_with(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
	});
	preset_ext("local_testnet").execute_with(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
	});
}

#[test]
fn grants_tracks_act_up_to_their_tier() {
	let tier = |origin: RuntimeOrigin| GrantsOrigin::try_origin(origin).ok();
	assert_eq!(tier(RuntimeOrigin::root()), Some(Tier::Expansion));
	assert_eq!(tier(Origin::GrantsExpansion.into()), Some(Tier::Expansion));
	assert_eq!(tier(Origin::GrantsBuilding.into()), Some(Tier::Building));
	assert_eq!(tier(Origin::GrantsExploration.into()), Some(Tier::Exploration));
	assert_eq!(tier(Origin::Treasurer.into()), None);
	assert_eq!(tier(RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id())), None);
}

#[test]
fn spenders_are_capped() {
	type Spender = <Runtime as pallet_treasury::Config>::SpendOrigin;
	let cap = |origin: RuntimeOrigin| Spender::try_origin(origin).ok();
	assert_eq!(cap(RuntimeOrigin::root()), Some(Balance::MAX));
	assert_eq!(cap(Origin::Treasurer.into()), Some(10_000_000 * OPEN));
	assert_eq!(cap(Origin::BigSpender.into()), Some(1_000_000 * OPEN));
	assert_eq!(cap(Origin::MediumSpender.into()), Some(100_000 * OPEN));
	assert_eq!(cap(Origin::SmallSpender.into()), Some(10_000 * OPEN));
	assert_eq!(cap(Origin::GrantsExpansion.into()), None);
	assert_eq!(cap(RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id())), None);
}

#[test]
fn protocol_parameters_are_set_by_their_track_only() {
	preset_ext("local_testnet").execute_with(|| {
		use dynamic_params::{datanets, grants};
		assert_eq!(datanets::RejectionSlash::get(), Perbill::from_percent(10));
		assert_eq!(grants::ExplorationMax::get(), 50_000 * OPEN);
		let slash = RuntimeParameters::Datanets(datanets::Parameters::RejectionSlash(
			datanets::RejectionSlash,
			Some(Perbill::from_percent(20)),
		));
		assert_noop!(
			Parameters::set_parameter(
				RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
				slash.clone()
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Parameters::set_parameter(Origin::Treasurer.into(), slash.clone()),
			DispatchError::BadOrigin
		);
		assert_ok!(Parameters::set_parameter(Origin::ProtocolParameters.into(), slash));
		assert_eq!(datanets::RejectionSlash::get(), Perbill::from_percent(20));
		// The datanets pallet reads the governed value.
		assert_eq!(
			<<Runtime as pallet_datanets::Config>::RejectionSlash as Get<Perbill>>::get(),
			Perbill::from_percent(20)
		);
		let cap = RuntimeParameters::Grants(grants::Parameters::ExplorationMax(
			grants::ExplorationMax,
			Some(80_000 * OPEN),
		));
		assert_ok!(Parameters::set_parameter(RuntimeOrigin::root(), cap));
		let ranges = <Runtime as pallet_grants::Config>::TierRanges::get();
		assert_eq!(ranges.exploration.max, 80_000 * OPEN);
	});
}
