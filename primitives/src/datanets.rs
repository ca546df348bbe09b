//! What other pallets read of datanets and pay into them: [`DatanetAccess`] gives a published
//! version's root and size with the datanet's access fee, and carries the access fees of training
//! on it to the version's contributors.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::DispatchResult, weights::Weight};
use scale_info::TypeInfo;
use sp_core::H256;

/// A datanet's number, assigned in order of creation from 0.
pub type DatanetId = u32;
/// A version's number within its datanet, from 0.
pub type VersionId = u32;
/// A contribution's number within its datanet, from 0.
pub type ContributionId = u32;

/// A published version of an open datanet, as a model trained on it records it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PublishedVersion<Balance> {
	/// The Merkle root over its contributions' content hashes.
	pub root: H256,
	/// How many contributions it holds.
	pub contributions: u32,
	/// Their total size in bytes.
	pub total_bytes: u64,
	/// What one training run on it pays its contributors now.
	pub access_fee: Balance,
}

/// Why a version cannot be trained on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VersionUnavailable {
	UnknownDatanet,
	/// The datanet is closed: its owner withdrew it from use.
	DatanetClosed,
	/// The datanet has not published this version.
	UnknownVersion,
}

/// Reads datanets' versions and carries access fees into their contributor pools.
///
/// An access fee is **reserved** when a training job is requested (moved from the payer into the
/// datanets' keeping, not claimable yet), then **settled** when the job delivers (claimable by the
/// version's contributors pro rata to their bytes) or **refunded** when it is abandoned.
pub trait DatanetAccess<AccountId, Balance> {
	/// A published version of an open datanet.
	fn published(
		datanet: DatanetId,
		version: VersionId,
	) -> Result<PublishedVersion<Balance>, VersionUnavailable>;

	/// Moves `amount` from `payer` into the version's pool, pending until it is settled or
	/// refunded. Respects the payer's freezes and keeps its account alive.
	fn reserve_access(
		payer: &AccountId,
		datanet: DatanetId,
		version: VersionId,
		amount: Balance,
	) -> DispatchResult;

	/// Makes `amount` reserved for the version claimable by its contributors.
	fn settle_access(datanet: DatanetId, version: VersionId, amount: Balance) -> DispatchResult;

	/// Returns `amount` reserved for the version to `payer`.
	fn refund_access(
		payer: &AccountId,
		datanet: DatanetId,
		version: VersionId,
		amount: Balance,
	) -> DispatchResult;

	/// The most any one of the functions above weighs.
	fn access_weight() -> Weight;

	/// An accepted contribution of a published version: its contributor, its size and the
	/// version's size in bytes. `None` when the version or the contribution is unknown, or the
	/// contribution is not in the version (pending, rejected, slashed or accepted after it).
	fn contribution_in_version(
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> Option<(AccountId, u64, u64)>;
}
