//! The referendum tracks: which origin each referendum runs for, and what it takes to pass.
//!
//! ## Why these numbers
//!
//! OPEN has a fixed supply of 1,000,000,000 and blocks of six seconds (10 per minute, 14,400 per
//! day). The tracks follow the shape of Polkadot's OpenGov, scaled to that supply:
//!
//! - **Decision deposits** make a referendum cost in proportion to what it can do: 100,000 OPEN
//!   (0.01% of the supply) for root, which can change anything, down to 500 OPEN for the smallest
//!   spends and grants. A decision deposit is refunded once the referendum is decided, approved
//!   or rejected (`referenda.refund_decision_deposit`); the smaller submission deposit is refunded
//!   only for an approved or cancelled referendum and is lost with a rejected one. They keep the
//!   queues of the tracks from being spammed.
//! - **Periods**: a prepare period of hours gives voters time to see a referendum before it can
//!   pass; decision periods of one to four weeks let holders who check the chain weekly take part;
//!   the confirm period (from three hours for protocol parameters to seven days for the
//!   treasurer, see the table) must pass with the referendum passing throughout, so that a
//!   last-minute swing cannot enact it; the enactment delay lets users react
//!   to an approved change before it takes effect (a day for root, ten minutes for grants, which
//!   change nothing but the grant).
//! - **Approval** (aye share of conviction-weighted votes) starts at 100% and falls linearly to
//!   50% or more by the end of the decision period: a referendum passes early only if it is
//!   uncontested, and never with a majority against it.
//! - **Support** (aye votes before conviction, as a share of the active OPEN supply) starts at a
//!   level the track's stakes justify (50% for root, 5% for the smallest tracks) and falls to a
//!   floor that a real turnout meets (1% for root, 0.25% to 0.5% elsewhere), so that a referendum
//!   nobody votes on fails.
//! - **Max deciding**: root decides one referendum at a time; spends and grants run many at once.
//!
//! ## Pace
//!
//! On a chain whose genesis sets [`Pace::Fast`] (development chains only), every period is cut to
//! a block or two, and the decision period to 50 blocks, so that a whole referendum fits in an
//! end-to-end test; deposits and curves stay as they are. Every named network uses
//! [`Pace::Standard`].

// The table is evaluated at compile time: an overflow or a name longer than 25 bytes is a build
// error, never a runtime panic.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use alloc::borrow::Cow;
use pallet_governance::{GovernancePace, Pace};
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::Perbill;

use crate::{
	currency::OPEN,
	time::{DAYS, HOURS, MINUTES},
	Balance, BlockNumber, OriginCaller, Runtime,
};

/// A track's id.
pub type TrackId = u16;

/// The track of each origin.
pub mod ids {
	use super::TrackId;
	pub const ROOT: TrackId = 0;
	pub const PROTOCOL_PARAMETERS: TrackId = 1;
	pub const TREASURER: TrackId = 10;
	pub const SMALL_SPENDER: TrackId = 11;
	pub const MEDIUM_SPENDER: TrackId = 12;
	pub const BIG_SPENDER: TrackId = 13;
	pub const GRANTS_EXPLORATION: TrackId = 20;
	pub const GRANTS_BUILDING: TrackId = 21;
	pub const GRANTS_EXPANSION: TrackId = 22;
}

/// Periods of a [`Pace::Fast`] chain, in blocks.
const FAST_PREPARE: BlockNumber = 1;
const FAST_DECISION: BlockNumber = 50;
const FAST_CONFIRM: BlockNumber = 2;
const FAST_ENACTMENT: BlockNumber = 1;

/// A track name as referenda stores it: UTF-8, padded with zero bytes.
const fn name(s: &str) -> [u8; 25] {
	let bytes = s.as_bytes();
	let mut out = [0u8; 25];
	let mut i = 0;
	while i < bytes.len() {
		out[i] = bytes[i];
		i += 1;
	}
	out
}

/// A curve falling linearly from `ceil` to `floor` over the whole decision period.
const fn linear(floor: u32, ceil: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_parts(floor),
		ceil: Perbill::from_parts(ceil),
	}
}

/// `n` percent, in parts per billion.
const fn pct(n: u32) -> u32 {
	n * 10_000_000
}

/// A track of the standard table.
#[allow(clippy::too_many_arguments)]
const fn track(
	id: TrackId,
	track_name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	prepare_period: BlockNumber,
	decision_period: BlockNumber,
	confirm_period: BlockNumber,
	min_enactment_period: BlockNumber,
	min_approval: Curve,
	min_support: Curve,
) -> Track<TrackId, Balance, BlockNumber> {
	Track {
		id,
		info: TrackInfo {
			name: name(track_name),
			max_deciding,
			decision_deposit,
			prepare_period,
			decision_period,
			confirm_period,
			min_enactment_period,
			min_approval,
			min_support,
		},
	}
}

/// The tracks, sorted by id as referenda requires.
#[rustfmt::skip]
static TRACKS: [Track<TrackId, Balance, BlockNumber>; 9] = [
	//    id                         name                  deciding deposit        prepare     decision   confirm     enactment   approval (floor, ceil)    support (floor, ceil)
	track(ids::ROOT,                 "root",               1,  100_000 * OPEN, 2 * HOURS,  28 * DAYS, DAYS,       DAYS,       linear(pct(50), pct(100)), linear(pct(1), pct(50))),
	track(ids::PROTOCOL_PARAMETERS,  "protocol_parameters", 10, 20_000 * OPEN,  2 * HOURS,  14 * DAYS, 3 * HOURS,  10 * MINUTES, linear(pct(50), pct(100)), linear(pct(1) / 2, pct(20))),
	track(ids::TREASURER,            "treasurer",          10, 10_000 * OPEN,  2 * HOURS,  28 * DAYS, 7 * DAYS,   DAYS,       linear(pct(50), pct(100)), linear(pct(1) / 2, pct(20))),
	track(ids::SMALL_SPENDER,        "small_spender",      50, 500 * OPEN,     HOURS,      14 * DAYS, 12 * HOURS, DAYS,       linear(pct(50), pct(100)), linear(pct(1) / 4, pct(5))),
	track(ids::MEDIUM_SPENDER,       "medium_spender",     50, 2_000 * OPEN,   2 * HOURS,  28 * DAYS, DAYS,       DAYS,       linear(pct(50), pct(100)), linear(pct(1) / 4, pct(10))),
	track(ids::BIG_SPENDER,          "big_spender",        50, 5_000 * OPEN,   4 * HOURS,  28 * DAYS, 2 * DAYS,   DAYS,       linear(pct(50), pct(100)), linear(pct(1) / 2, pct(15))),
	track(ids::GRANTS_EXPLORATION,   "grants_exploration", 30, 500 * OPEN,     HOURS,      7 * DAYS,  12 * HOURS, 10 * MINUTES, linear(pct(50), pct(100)), linear(pct(1) / 4, pct(5))),
	track(ids::GRANTS_BUILDING,      "grants_building",    30, 1_500 * OPEN,   2 * HOURS,  14 * DAYS, DAYS,       10 * MINUTES, linear(pct(50), pct(100)), linear(pct(1) / 4, pct(10))),
	track(ids::GRANTS_EXPANSION,     "grants_expansion",   30, 5_000 * OPEN,   4 * HOURS,  28 * DAYS, 2 * DAYS,   10 * MINUTES, linear(pct(50), pct(100)), linear(pct(1) / 2, pct(15))),
];

/// A track with the periods of a [`Pace::Fast`] chain.
fn fast(track: &Track<TrackId, Balance, BlockNumber>) -> Track<TrackId, Balance, BlockNumber> {
	let mut fast = track.clone();
	fast.info.prepare_period = FAST_PREPARE;
	fast.info.decision_period = FAST_DECISION;
	fast.info.confirm_period = FAST_CONFIRM;
	fast.info.min_enactment_period = FAST_ENACTMENT;
	fast
}

/// The tracks of OpenLedger governance.
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = TrackId;
	type RuntimeOrigin =
		<crate::RuntimeOrigin as frame_support::traits::OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		let pace = GovernancePace::<Runtime>::get();
		TRACKS.iter().map(move |track| match pace {
			Pace::Standard => Cow::Borrowed(track),
			Pace::Fast => Cow::Owned(fast(track)),
		})
	}

	/// Looks up one track, adjusting only that one to the pace.
	fn info(id: Self::Id) -> Option<Cow<'static, TrackInfo<Balance, BlockNumber>>> {
		let track = TRACKS.iter().find(|track| track.id == id)?;
		Some(match GovernancePace::<Runtime>::get() {
			Pace::Standard => Cow::Borrowed(&track.info),
			Pace::Fast => Cow::Owned(fast(track).info),
		})
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		use pallet_governance::Origin;
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(ids::ROOT),
			OriginCaller::Origins(origin) => Ok(match origin {
				Origin::ProtocolParameters => ids::PROTOCOL_PARAMETERS,
				Origin::Treasurer => ids::TREASURER,
				Origin::SmallSpender => ids::SMALL_SPENDER,
				Origin::MediumSpender => ids::MEDIUM_SPENDER,
				Origin::BigSpender => ids::BIG_SPENDER,
				Origin::GrantsExploration => ids::GRANTS_EXPLORATION,
				Origin::GrantsBuilding => ids::GRANTS_BUILDING,
				Origin::GrantsExpansion => ids::GRANTS_EXPANSION,
			}),
			_ => Err(()),
		}
	}
}
