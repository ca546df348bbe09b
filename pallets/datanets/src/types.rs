//! The records the pallet keeps, and the inputs its calls take.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use openledger_primitives::JobId;
use scale_info::TypeInfo;
use sp_core::H256;

pub use openledger_primitives::{ContributionId, DatanetId, VersionId};

/// What kind of data a datanet collects.
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
pub enum DataKind {
	Text,
	Image,
	Audio,
	Tabular,
}

/// The file format of one contribution.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DataFormat {
	/// UTF-8 text.
	PlainText,
	/// One JSON value per line.
	JsonLines,
	/// Comma-separated values with a header row.
	Csv,
	/// One JSON document.
	Json,
	Parquet,
	Png,
	Jpeg,
	Wav,
	Flac,
}

/// Whether a datanet takes contributions.
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
pub enum DatanetStatus {
	Open,
	/// Takes no contributions; pending ones can still be reviewed, versions stay readable.
	Closed,
}

/// Why curators turned a contribution down, or flagged an accepted one.
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
pub enum RejectReason {
	LowQuality,
	WrongFormat,
	OffTopic,
	Duplicate,
	Adversarial,
	LicenceViolation,
	/// A reason the datanet's own guidelines define.
	Other(u8),
	/// Automatic validation found the bytes missing, different from the record or malformed,
	/// and the datanet rejects such contributions without review.
	FailedValidation,
}

/// A curator's verdict on a pending contribution.
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
pub enum Verdict {
	Accept,
	Reject(RejectReason),
}

/// The descriptive part of a datanet, as a call supplies it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MetadataInput {
	/// A human-readable name, UTF-8, not empty.
	pub name: Vec<u8>,
	/// A description, UTF-8 (or the hash of a longer document).
	pub description: Vec<u8>,
	/// Search tags, each UTF-8 and not empty.
	pub tags: Vec<Vec<u8>>,
	pub kind: DataKind,
	/// The licence of the data, as an SPDX identifier such as `CC-BY-4.0`.
	pub licence: Vec<u8>,
}

/// The descriptive part of a datanet, as stored.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(NameLen, DescriptionLen, TagLen, MaxTags, LicenceLen))]
#[codec(mel_bound())]
pub struct Metadata<
	NameLen: Get<u32>,
	DescriptionLen: Get<u32>,
	TagLen: Get<u32>,
	MaxTags: Get<u32>,
	LicenceLen: Get<u32>,
> {
	pub name: BoundedVec<u8, NameLen>,
	pub description: BoundedVec<u8, DescriptionLen>,
	pub tags: BoundedVec<BoundedVec<u8, TagLen>, MaxTags>,
	pub kind: DataKind,
	pub licence: BoundedVec<u8, LicenceLen>,
}

/// The rules a datanet sets for its contributions, as a call supplies them.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct RulesInput<AccountId, Balance> {
	/// Held from each contributor while the contribution is pending and, once accepted, as its
	/// quality stake until the cool-down ends.
	pub contribution_deposit: Balance,
	/// The largest contribution in bytes.
	pub max_contribution_size: u64,
	/// The formats contributions may have; not empty.
	pub accepted_formats: Vec<DataFormat>,
	/// The accounts that review contributions; not empty, no account twice.
	pub curators: Vec<AccountId>,
	/// How many curators must accept a contribution; between 1 and the number of curators.
	pub approvals_needed: u32,
}

/// The rules a datanet sets for its contributions, as stored.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxCurators, MaxFormats))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen))]
// The derives restate the bounds of the generics used as field types in where clauses.
#[allow(clippy::multiple_bound_locations)]
pub struct Rules<
	AccountId: Clone + PartialEq + core::fmt::Debug,
	Balance: Clone + PartialEq + core::fmt::Debug,
	MaxCurators: Get<u32>,
	MaxFormats: Get<u32>,
> {
	pub contribution_deposit: Balance,
	pub max_contribution_size: u64,
	pub accepted_formats: BoundedVec<DataFormat, MaxFormats>,
	pub curators: BoundedVec<AccountId, MaxCurators>,
	pub approvals_needed: u32,
}

/// A datanet.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Datanet<AccountId, Balance, BlockNumber, Metadata, Rules> {
	pub owner: AccountId,
	/// The account the owner offered ownership to, until it accepts.
	pub pending_owner: Option<AccountId>,
	pub metadata: Metadata,
	pub rules: Rules,
	pub status: DatanetStatus,
	/// Held from the owner for the storage the datanet takes: base plus per byte of metadata and rules.
	pub deposit: Balance,
	pub created_at: BlockNumber,
	/// The number of contributions ever submitted: the next contribution's id.
	pub contributions: u32,
	/// The number of contributions awaiting review.
	pub pending: u32,
	/// The number of contributions accepted: the next accepted contribution's position.
	pub accepted: u32,
	/// The number of versions published: the next version's id.
	pub versions: u32,
	/// Automatic validation of each new contribution, if the datanet asks for it. Kept in the
	/// datanet's record, which every contribution reads anyway.
	pub validation: Option<ValidationRules<Balance>>,
}

/// Where a contribution stands.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxCurators))]
#[codec(mel_bound(AccountId: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
// The derives restate the bounds of the generics used as field types in where clauses.
#[allow(clippy::multiple_bound_locations)]
pub enum ContributionStatus<
	AccountId: Clone + PartialEq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + core::fmt::Debug,
	MaxCurators: Get<u32>,
> {
	/// Awaiting review; the curators who voted each way so far.
	Pending {
		approvals: BoundedVec<AccountId, MaxCurators>,
		rejections: BoundedVec<AccountId, MaxCurators>,
	},
	/// Part of the datanet at `position` in acceptance order (and so in every later version).
	Accepted { position: u32, at: BlockNumber },
	/// Accepted, then found duplicate or adversarial; it stays in the versions that include it, and
	/// trainers skip it.
	Slashed { position: u32, reason: RejectReason },
}

/// A contribution to a datanet.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Contribution<AccountId, Balance, BlockNumber, Status> {
	pub contributor: AccountId,
	/// The blake2-256 hash of the exact bytes of the contribution.
	pub content_hash: H256,
	/// Its size in bytes.
	pub size: u64,
	pub format: DataFormat,
	/// What is still held from the contributor for it: the datanet's contribution deposit, then,
	/// once the stake was withdrawn or slashed, the record's deposit alone
	/// ([`crate::Config::MinContributionDeposit`] at most), kept for as long as the record.
	pub deposit: Balance,
	pub submitted_at: BlockNumber,
	pub status: Status,
}

/// A frozen version of a datanet: the first `contributions` accepted contributions.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Version<AccountId, BlockNumber> {
	/// How many accepted contributions it holds: positions `0..contributions`.
	pub contributions: u32,
	/// Their total size in bytes.
	pub total_bytes: u64,
	/// The Merkle root over their content hashes (see [`crate::merkle`]).
	pub root: H256,
	pub published_by: AccountId,
	pub published_at: BlockNumber,
}

/// How an account's contributions fared.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Reputation {
	pub submitted: u32,
	pub accepted: u32,
	pub rejected: u32,
	pub slashed: u32,
	/// The account's contributions still recorded (pending, accepted or slashed). The record is
	/// removed when this falls to zero, so an account whose every contribution was rejected or
	/// withdrawn leaves nothing behind.
	pub stored: u32,
}

/// What an account contributed in one rate-limit period.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Usage {
	/// The period these counts belong to: the block number divided by the period length.
	pub period: u32,
	pub count: u32,
	pub bytes: u64,
}

/// What an account contributed in one rate-limit period, as stored under that period.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PeriodUsage {
	pub count: u32,
	pub bytes: u64,
}

/// A contributor's commitment to a contribution it has not revealed yet.
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
pub struct Commitment<Balance, BlockNumber> {
	/// The block the commitment was made in; it can be revealed from the next block on.
	pub at: BlockNumber,
	/// The deposit held for it until it is revealed or withdrawn.
	pub deposit: Balance,
}

/// An account's record across all datanets, as the runtime API returns it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ContributorRecord {
	pub reputation: Reputation,
	pub usage: Usage,
}

/// One entry of a version's contribution list, as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct VersionEntry {
	/// The position in acceptance order, and so the leaf index in the version's Merkle tree.
	pub position: u32,
	pub contribution: ContributionId,
	pub content_hash: H256,
	pub size: u64,
}

/// How a datanet checks its contributions automatically.
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
pub struct ValidationRules<Balance> {
	/// The fee of each contribution's validation job, paid by the contributor on top of the
	/// deposit; the provider is paid its price from it and the rest returns.
	pub fee: Balance,
	/// Whether a contribution that fails integrity (see [`ValidationOutcome::passes`]) is rejected
	/// at once, as a curator rejection with [`RejectReason::FailedValidation`].
	pub auto_reject: bool,
}

/// Where a datanet's contributions are served, as stored.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(EndpointLen, MaxEndpoints))]
#[codec(mel_bound())]
pub struct Services<EndpointLen: Get<u32>, MaxEndpoints: Get<u32>> {
	/// Base URLs of provider blob stores that serve the contributions by hash at
	/// `{endpoint}/v1/blobs/0x{hash}`, in order of preference.
	pub endpoints: BoundedVec<BoundedVec<u8, EndpointLen>, MaxEndpoints>,
}

/// What automatic validation found.
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
pub enum ValidationOutcome {
	/// The bytes match the hash and size and parse in the declared format.
	Valid,
	/// No storage endpoint of the datanet served the bytes.
	Missing,
	/// The bytes served under the hash have another hash.
	HashMismatch,
	/// The bytes have another size than the contribution declared.
	SizeMismatch,
	/// The bytes do not parse in the declared format.
	Malformed,
	/// The provider could not check the bytes: the endpoints could not be reached or answered
	/// with errors, or the contribution is larger than the provider checks. Nothing is known of
	/// the contribution, so it is never rejected for this.
	Unverifiable,
}

impl ValidationOutcome {
	/// Whether the contribution passes integrity: only [`ValidationOutcome::Valid`] does.
	pub fn passes(self) -> bool {
		self == ValidationOutcome::Valid
	}

	/// Whether the outcome shows the contribution at fault, so that a datanet with automatic
	/// rejection rejects it: every outcome but `Valid` and `Unverifiable`.
	pub fn condemns(self) -> bool {
		!matches!(self, ValidationOutcome::Valid | ValidationOutcome::Unverifiable)
	}
}

/// The longest reason a validation report carries.
pub type MaxReasonLength = frame_support::traits::ConstU32<256>;

/// A validation job's result, SCALE-encoded by the provider.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ValidationReport {
	pub outcome: ValidationOutcome,
	/// 0 to 100: the share of the content that parsed (for example of the lines of a JSON Lines
	/// file); 0 when integrity failed.
	pub score: u8,
	/// Why, in UTF-8: the first problem found, or a summary.
	pub reason: BoundedVec<u8, MaxReasonLength>,
}

/// The payload of a validation job: which contribution to check.
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
pub struct ValidationRequest {
	pub datanet: DatanetId,
	pub contribution: ContributionId,
}

/// Where a contribution's automatic validation stands.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum ValidationState<BlockNumber> {
	/// Job `job` checks it.
	Requested { job: JobId },
	/// A provider checked it at block `at`.
	Done { report: ValidationReport, at: BlockNumber },
	/// Every provider its validation job was assigned to failed or timed out: curators review it
	/// unassisted. (A contribution whose job the market could not take at all is refused.)
	Unavailable,
}

/// The commitment a contributor makes before its bytes are public: blake2-256 of the SCALE
/// encoding of `(contributor, datanet, content_hash)`. It binds the content to the contributor
/// without showing the content, so that no one who later sees the bytes can contribute them
/// first (see [`crate::Pallet::commit`]).
pub fn commitment_of<AccountId: Encode>(
	contributor: &AccountId,
	datanet: DatanetId,
	content_hash: &H256,
) -> H256 {
	H256(sp_io::hashing::blake2_256(&(contributor, datanet, content_hash).encode()))
}

/// What training on one version paid its contributors (see [`crate::Pallet::claim_access_reward`]).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct AccessPool<Balance> {
	/// Reserved by training jobs still running: refunded if they are abandoned.
	pub pending: Balance,
	/// Paid by training jobs that delivered: the contributors' to claim.
	pub paid: Balance,
	/// Claimed by contributors so far.
	pub claimed: Balance,
}
