//! Each origin's `EnsureOrigin` accepts that origin and nothing else; the pace is set at genesis.

use crate::{self as pallet_governance, *};
use frame_support::{
	derive_impl,
	traits::{EnsureOrigin, OriginTrait},
};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Origins: pallet_governance,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl Config for Test {}

const ALL: [Origin; 8] = [
	Origin::ProtocolParameters,
	Origin::Treasurer,
	Origin::SmallSpender,
	Origin::MediumSpender,
	Origin::BigSpender,
	Origin::GrantsExploration,
	Origin::GrantsBuilding,
	Origin::GrantsExpansion,
];

/// Whether `E` accepts the origin.
fn accepts<E: EnsureOrigin<RuntimeOrigin>>(origin: RuntimeOrigin) -> bool {
	E::try_origin(origin).is_ok()
}

/// Which of the eight ensures accept the origin, in the order of [`ALL`].
fn accepted_by(origin: RuntimeOrigin) -> [bool; 8] {
	[
		accepts::<pallet::ProtocolParameters>(origin.clone()),
		accepts::<pallet::Treasurer>(origin.clone()),
		accepts::<pallet::SmallSpender>(origin.clone()),
		accepts::<pallet::MediumSpender>(origin.clone()),
		accepts::<pallet::BigSpender>(origin.clone()),
		accepts::<pallet::GrantsExploration>(origin.clone()),
		accepts::<pallet::GrantsBuilding>(origin.clone()),
		accepts::<pallet::GrantsExpansion>(origin),
	]
}

#[test]
fn each_ensure_accepts_its_own_origin_only() {
	for (i, origin) in ALL.into_iter().enumerate() {
		let accepted = accepted_by(RuntimeOrigin::from(origin));
		for (j, ok) in accepted.into_iter().enumerate() {
			assert_eq!(ok, i == j, "{origin:?} accepted by ensure {j}: {ok}");
		}
	}
}

#[test]
fn root_signed_and_none_are_refused() {
	for origin in [RuntimeOrigin::root(), RuntimeOrigin::signed(1), RuntimeOrigin::none()] {
		assert_eq!(accepted_by(origin), [false; 8]);
	}
}

#[test]
fn refused_origins_come_back_unchanged() {
	let origin = RuntimeOrigin::from(Origin::Treasurer);
	let back = pallet::BigSpender::try_origin(origin).err().map(|o| o.caller().clone());
	assert_eq!(back, Some(OriginCaller::Origins(Origin::Treasurer)));
}

#[test]
fn pace_is_standard_unless_genesis_says_fast() {
	let standard = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	sp_io::TestExternalities::new(standard).execute_with(|| {
		assert_eq!(GovernancePace::<Test>::get(), Pace::Standard);
	});
	let fast = RuntimeGenesisConfig {
		system: Default::default(),
		origins: pallet_governance::GenesisConfig { pace: Pace::Fast, ..Default::default() },
	}
	.build_storage()
	.unwrap();
	sp_io::TestExternalities::new(fast).execute_with(|| {
		assert_eq!(GovernancePace::<Test>::get(), Pace::Fast);
	});
}
