//! The records the pallet keeps, and the inputs its calls take.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::H256;

/// An application's number, assigned in order of submission from 0.
pub type ApplicationId = u32;
/// A milestone's position in its application, from 0.
pub type MilestoneIndex = u32;

/// The three tiers of the OpenCircle programme, in increasing order of size.
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
pub enum Tier {
	/// Early ideas and prototypes.
	Exploration,
	/// Products being built.
	Building,
	/// Established projects growing on OpenLedger.
	Expansion,
}

/// The least and the most a grant of one tier may total, in OPEN units.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Range<Balance> {
	pub min: Balance,
	pub max: Balance,
}

/// The range of each tier.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TierRanges<Balance> {
	pub exploration: Range<Balance>,
	pub building: Range<Balance>,
	pub expansion: Range<Balance>,
}

impl<Balance: Copy> TierRanges<Balance> {
	/// The range of `tier`.
	pub fn of(&self, tier: Tier) -> Range<Balance> {
		match tier {
			Tier::Exploration => self.exploration,
			Tier::Building => self.building,
			Tier::Expansion => self.expansion,
		}
	}
}

/// Why reviewers sent a milestone's deliverable back.
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
	/// The deliverable is missing parts the milestone promised.
	Incomplete,
	/// The deliverable does not work as described.
	DoesNotWork,
	/// The deliverable is not what the milestone describes.
	NotAsDescribed,
	/// Any other reason, given by a code that the programme publishes.
	Other(u16),
}

/// A milestone as an application names it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MilestoneInput<Balance, BlockNumber> {
	/// What the milestone pays.
	pub amount: Balance,
	/// What the grantee will deliver, UTF-8.
	pub description: Vec<u8>,
	/// The last block at which the deliverable may be submitted.
	pub due: BlockNumber,
}

/// Where a milestone stands.
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
pub enum MilestoneStatus<BlockNumber> {
	/// Nothing delivered yet.
	Pending,
	/// The grantee submitted a deliverable, by its content hash; reviewers have not decided.
	Submitted { deliverable: H256, at: BlockNumber },
	/// Reviewers sent the deliverable back; the grantee may submit again until the due block.
	Rejected { deliverable: H256, reason: RejectReason },
	/// Reviewers accepted the deliverable and the milestone was paid.
	Paid { deliverable: H256, at: BlockNumber },
}

/// A milestone as stored.
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
#[scale_info(skip_type_params(MaxDescription))]
pub struct Milestone<Balance, BlockNumber, MaxDescription: Get<u32>>
where
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	pub amount: Balance,
	pub description: BoundedVec<u8, MaxDescription>,
	pub due: BlockNumber,
	pub status: MilestoneStatus<BlockNumber>,
}

/// Where an application stands. Applications that end are removed from storage; their end is
/// recorded by an event.
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
pub enum ApplicationStatus<BlockNumber> {
	/// Waiting for a referendum on its tier's track to approve it.
	Submitted,
	/// Approved at block `at`: its whole amount is earmarked in the grants pot.
	Approved { at: BlockNumber },
}

/// An application for an OpenCircle grant, and once approved, the grant.
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
#[scale_info(skip_type_params(MaxTitle, MaxDescription, MaxMilestones))]
pub struct Application<AccountId, Balance, BlockNumber, MaxTitle, MaxDescription, MaxMilestones>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxTitle: Get<u32>,
	MaxDescription: Get<u32>,
	MaxMilestones: Get<u32>,
{
	/// Who applied, and who is paid.
	pub applicant: AccountId,
	pub tier: Tier,
	/// A short title, UTF-8.
	pub title: BoundedVec<u8, MaxTitle>,
	/// The content hash of the full proposal document.
	pub description: H256,
	pub milestones: BoundedVec<Milestone<Balance, BlockNumber, MaxDescription>, MaxMilestones>,
	/// The sum of the milestones' amounts.
	pub amount: Balance,
	/// What has been paid so far.
	pub paid: Balance,
	/// What is held from the applicant for this record.
	pub deposit: Balance,
	pub status: ApplicationStatus<BlockNumber>,
	pub submitted_at: BlockNumber,
}

/// How an application ended.
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
pub enum Outcome {
	/// Every milestone was paid.
	Completed,
	/// The applicant withdrew it.
	Withdrawn,
	/// Governance turned the application down; the deposit went to the pot.
	Rejected,
	/// Governance cancelled the approved grant.
	Cancelled,
	/// A milestone passed its due block undelivered.
	Expired,
}

/// The grants pot's funds.
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
pub struct PotFunds<Balance> {
	/// Free to approve new grants (including what the pot must keep to exist).
	pub free: Balance,
	/// Held for the unpaid milestones of approved grants.
	pub earmarked: Balance,
}
