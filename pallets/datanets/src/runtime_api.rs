//! The runtime API through which clients read datanets without scanning storage. Clients call it
//! over RPC with `state_call` (polkadot.js: `api.call.datanetsApi.*`).

use crate::types::{
	ContributionId, ContributorRecord, DatanetId, Reputation, VersionEntry, VersionId,
};
use alloc::vec::Vec;
use codec::Codec;
use sp_core::H256;

sp_api::decl_runtime_apis! {
	/// Reads datanets, their contributions and versions, and contributors' records.
	pub trait DatanetsApi<AccountId, Datanet, Contribution, Version>
	where
		AccountId: Codec,
		Datanet: Codec,
		Contribution: Codec,
		Version: Codec,
	{
		/// A datanet.
		fn datanet(datanet: DatanetId) -> Option<Datanet>;
		/// A pending, accepted or slashed contribution.
		fn contribution(datanet: DatanetId, contribution: ContributionId) -> Option<Contribution>;
		/// A published version.
		fn version(datanet: DatanetId, version: VersionId) -> Option<Version>;
		/// Up to `limit` entries (at most 1,000) of a version's contributions in order, from
		/// position `start`.
		fn version_contributions(
			datanet: DatanetId,
			version: VersionId,
			start: u32,
			limit: u32,
		) -> Vec<VersionEntry>;
		/// The proof that the contribution at `position` belongs to a version: the sibling hashes
		/// that [`crate::merkle::verify`] checks against the version's root.
		fn contribution_proof(datanet: DatanetId, version: VersionId, position: u32) -> Option<Vec<H256>>;
		/// An account's reputation across datanets and its rate-limit usage.
		fn contributor(account: AccountId) -> ContributorRecord;
		/// An account's reputation within one datanet.
		fn contributor_in(datanet: DatanetId, account: AccountId) -> Reputation;
	}
}
