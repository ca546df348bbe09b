//! The runtime API through which clients read grants without scanning storage. Clients call it
//! over RPC with `state_call` (polkadot.js: `api.call.grantsApi.*`).

use crate::types::{ApplicationId, PotFunds, TierRanges};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Reads applications, the tier ranges and the grants pot.
	pub trait GrantsApi<Balance, Application>
	where
		Balance: Codec,
		Application: Codec,
	{
		/// A live application (submitted, or approved and not ended).
		fn application(application: ApplicationId) -> Option<Application>;
		/// The live applications among ids `start..start + limit` (`limit` is clamped to 100).
		fn applications(start: ApplicationId, limit: u32) -> Vec<(ApplicationId, Application)>;
		/// The least and most a grant of each tier may total, in OPEN units.
		fn tier_ranges() -> TierRanges<Balance>;
		/// The grants pot's free and earmarked funds.
		fn pot() -> PotFunds<Balance>;
	}
}
