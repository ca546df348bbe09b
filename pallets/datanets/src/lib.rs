//! # Datanets pallet
//!
//! Community datasets that models are trained on, recorded exactly enough that every later reward
//! can flow back along them.
//!
//! ## Overview
//!
//! A **datanet** is a curated, versioned dataset. Its owner creates it with a deposit (a base plus
//! a price per byte of its metadata and rules) and sets its rules: the deposit each contribution
//! carries, the largest contribution, the accepted formats, the curators and how many of them must
//! accept a contribution.
//!
//! A **contribution** is recorded by the blake2-256 hash of its exact bytes, which a storage
//! provider later serves; the same hash can be pending or accepted only once per datanet. It is
//! made in two steps, so that no one who sees the bytes on their way can contribute them first:
//! the contributor [commits](Pallet::commit) to [`commitment_of`] its account, the datanet and
//! the hash, which shows nothing of the content, then uploads the bytes and
//! [contributes](Pallet::contribute) them in a later block. A copier who sees the upload can
//! commit only after the honest commitment, and so reveal only after it. The
//! datanet's contribution deposit is held from the contributor. Every account may contribute at
//! most [`Config::MaxContributionsPerPeriod`] items and [`Config::MaxBytesPerPeriod`] bytes in each
//! period of [`Config::RateLimitPeriod`] blocks, across all datanets.
//!
//! **Curators** review pending contributions. Once [`Rules::approvals_needed`] curators accept, the
//! contribution is accepted: it takes the next position in the datanet's acceptance order and its
//! deposit stays held as a quality stake, which the contributor may withdraw after
//! [`Config::StakeCoolDown`] blocks, all but [`Config::MinContributionDeposit`]: accepted
//! contributions belong to versions and are never removed, so that much stays held for their
//! record for as long as it is stored. Once so many curators reject that acceptance is impossible,
//! it is rejected: [`Config::RejectionSlash`] of its deposit goes to the contributor-rewards pot,
//! the rest returns, and the record is removed. A contribution left without a verdict for
//! [`Config::ReviewTimeout`] blocks may be withdrawn by its contributor with its whole deposit. An accepted contribution later found duplicate or
//! adversarial can be slashed by a curator or [`Config::ForceOrigin`]:
//! [`Config::AdversarialSlash`] of what is still held goes to the pot.
//!
//! A **version** freezes the accepted contributions so far: positions `0..n` in acceptance order,
//! their total size and a Merkle root over their content hashes ([`merkle`] documents the tree and
//! ships the proof check). Versions never change, and a closed datanet keeps them readable.
//!
//! Reputation (submitted, accepted, rejected, slashed) is kept per account, across datanets and
//! per datanet, for as long as the account has a contribution recorded there. The rate-limit
//! counts are kept per period and removed in `on_idle` once their period is over.
//!
//! ### Storage and validation
//!
//! The bytes themselves live in provider blob stores. A datanet's owner names the **storage
//! endpoints** that serve its contributions by hash (see [`Pallet::set_services`]) and may ask
//! for **automatic validation**: each new contribution then gets a
//! [`openledger_primitives::JobKind::ContributionValidation`] job, paid by the contributor with the
//! datanet's validation fee, in which a compute provider fetches the bytes from an endpoint and
//! checks their hash, their size and that they parse in the declared format. The
//! [`ValidationReport`] (outcome, score 0-100, reason) is kept in [`Validations`] for curators;
//! a datanet with `auto_reject` rejects a contribution that fails at once.
//!
//! ## Dispatchable functions
//!
//! - [`Pallet::create`], [`Pallet::update_metadata`], [`Pallet::update_rules`],
//!   [`Pallet::set_services`], [`Pallet::offer_ownership`], [`Pallet::accept_ownership`],
//!   [`Pallet::close`]: the owner's.
//! - [`Pallet::commit`], [`Pallet::withdraw_commitment`], [`Pallet::contribute`],
//!   [`Pallet::withdraw_stake`], [`Pallet::withdraw_unreviewed`]: the contributor's.
//! - [`Pallet::review`], [`Pallet::publish_version`], [`Pallet::slash`]: the curators'.
//!
//! ## Reading
//!
//! [`runtime_api::DatanetsApi`] returns a datanet, a contribution, a version and its contribution
//! list in pages, a contributor's record and Merkle proofs, so that clients need not scan storage.
//!
//! ## Code
//!
//! Each call in this file checks its origin and calls a `do_*` function of `src/features/`:
//! `datanet.rs` (creation, metadata, rules, ownership, deposits), `contribution.rs` (commitments,
//! contributions, stakes, records, rate limits), `review.rs` (reviews and slashes), `version.rs`
//! (versions and proofs), `validation.rs` (storage endpoints, validation jobs and their outcome);
//! `features/try_state.rs` holds the invariants. The job market is reached through the traits of
//! `openledger-primitives`.
//!
//! ## Fuzzing
//!
//! The runtime fuzzer (`fuzz/` at the workspace's root) generates this pallet's calls from the
//! runtime's type information, from every origin, and checks its invariants
//! (`features/try_state.rs`) and the chain's balance invariants after every block of its campaigns
//! and of the bounded run in `scripts/test.sh`. A call added here is fuzzed with no change there.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

// Benchmarks build their worst cases on a test runtime and stop at the first setup that fails,
// as tests do.
#[cfg(feature = "runtime-benchmarks")]
#[allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]
mod benchmarking;
mod features;
pub mod merkle;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;

/// Builds the state the benchmarks need from the pallets this one only knows through traits.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// A provider that takes contribution validation jobs at any fee of at least the job
	/// market's minimum, so that a contribution to a datanet that validates gets its job.
	fn validation_provider(provider: &AccountId);
}
pub use weights::WeightInfo;

// FRAME's pallet macros expand to `expect` calls (on the pallet's name in the runtime) that carry
// this module's spans, so clippy's `expect_used` is allowed here; the module's own code holds none.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use openledger_primitives::{JobId, JobMarket};
	use sp_core::H256;
	use sp_runtime::{traits::Zero, Perbill};

	/// The balance type of the currency deposits are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A datanet's stored metadata.
	pub type MetadataOf<T> = Metadata<
		<T as Config>::MaxNameLength,
		<T as Config>::MaxDescriptionLength,
		<T as Config>::MaxTagLength,
		<T as Config>::MaxTags,
		<T as Config>::MaxLicenceLength,
	>;
	/// A datanet's stored rules.
	pub type RulesOf<T> = Rules<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxCurators,
		<T as Config>::MaxFormats,
	>;
	/// The rules as a call supplies them.
	pub type RulesInputOf<T> = RulesInput<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A stored datanet.
	pub type DatanetOf<T> = Datanet<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		MetadataOf<T>,
		RulesOf<T>,
	>;
	/// Where a contribution stands.
	pub type ContributionStatusOf<T> = ContributionStatus<
		<T as frame_system::Config>::AccountId,
		BlockNumberFor<T>,
		<T as Config>::MaxCurators,
	>;
	/// A stored contribution.
	pub type ContributionOf<T> = Contribution<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		ContributionStatusOf<T>,
	>;
	/// A datanet's storage endpoints.
	pub type ServicesOf<T> =
		Services<<T as Config>::MaxEndpointLength, <T as Config>::MaxEndpoints>;
	/// A contribution's validation state.
	pub type ValidationStateOf<T> = ValidationState<BlockNumberFor<T>>;
	/// A stored version.
	pub type VersionOf<T> = Version<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
	/// A stored commitment.
	pub type CommitmentOf<T> = Commitment<BalanceOf<T>, BlockNumberFor<T>>;

	/// The most entries one page of a version's contribution list holds.
	pub const MAX_PAGE: u32 = 1_000;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Derives the account that holds the access pools.
		#[pallet::constant]
		type PalletId: Get<frame_support::PalletId>;

		/// May close any datanet and slash any accepted contribution (governance).
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The contributor-rewards pot, which receives slashed deposits.
		#[pallet::constant]
		type RewardsPot: Get<Self::AccountId>;

		/// The part of a datanet's deposit that does not depend on its size.
		#[pallet::constant]
		type DatanetDepositBase: Get<BalanceOf<Self>>;

		/// The part of a datanet's deposit per byte of its encoded metadata and rules.
		#[pallet::constant]
		type DatanetDepositPerByte: Get<BalanceOf<Self>>;

		/// The least contribution deposit a datanet may set: it pays for the contribution's
		/// storage, and stays held for an accepted contribution's record after its stake is
		/// withdrawn.
		#[pallet::constant]
		type MinContributionDeposit: Get<BalanceOf<Self>>;

		/// The deposit held for a commitment until it is revealed or withdrawn.
		#[pallet::constant]
		type CommitmentDeposit: Get<BalanceOf<Self>>;

		/// The deposit held from a contributor at its first claim on a version's pool, for the
		/// record of what it claimed there ([`AccessClaims`]), as long as the record lives.
		#[pallet::constant]
		type AccessClaimDeposit: Get<BalanceOf<Self>>;

		/// The largest contribution size in bytes a datanet may allow.
		#[pallet::constant]
		type MaxContributionSize: Get<u64>;

		/// The share of a rejected contribution's deposit that goes to the rewards pot.
		#[pallet::constant]
		type RejectionSlash: Get<Perbill>;

		/// The share of a slashed contribution's held stake that goes to the rewards pot.
		#[pallet::constant]
		type AdversarialSlash: Get<Perbill>;

		/// How long an accepted contribution's stake stays held before it can be withdrawn.
		#[pallet::constant]
		type StakeCoolDown: Get<BlockNumberFor<Self>>;

		/// How long a contribution may wait for its verdict before its contributor may withdraw it
		/// with the whole deposit.
		#[pallet::constant]
		type ReviewTimeout: Get<BlockNumberFor<Self>>;

		/// The length in blocks of a rate-limit period.
		#[pallet::constant]
		type RateLimitPeriod: Get<BlockNumberFor<Self>>;

		/// How many contributions an account may submit in one period.
		#[pallet::constant]
		type MaxContributionsPerPeriod: Get<u32>;

		/// How many bytes of contributions an account may submit in one period.
		#[pallet::constant]
		type MaxBytesPerPeriod: Get<u64>;

		/// The longest datanet name in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;

		/// The longest datanet description in bytes.
		#[pallet::constant]
		type MaxDescriptionLength: Get<u32>;

		/// The longest tag in bytes.
		#[pallet::constant]
		type MaxTagLength: Get<u32>;

		/// The most tags a datanet has.
		#[pallet::constant]
		type MaxTags: Get<u32>;

		/// The longest licence identifier in bytes.
		#[pallet::constant]
		type MaxLicenceLength: Get<u32>;

		/// The most curators a datanet has.
		#[pallet::constant]
		type MaxCurators: Get<u32>;

		/// The most formats a datanet accepts.
		#[pallet::constant]
		type MaxFormats: Get<u32>;

		/// Creates the validation jobs of contributions (the compute pallet).
		type Jobs: JobMarket<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// How long a provider has to validate a contribution once it accepted the job.
		#[pallet::constant]
		type ValidationDuration: Get<BlockNumberFor<Self>>;

		/// The most storage endpoints a datanet names.
		#[pallet::constant]
		type MaxEndpoints: Get<u32>;

		/// The longest storage endpoint URL in bytes.
		#[pallet::constant]
		type MaxEndpointLength: Get<u32>;

		/// Builds the benchmarks' state.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;

		/// The weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The owner's deposit for a datanet's storage.
		DatanetDeposit,
		/// A contributor's deposit for a pending contribution, then its quality stake.
		ContributionDeposit,
		/// A contributor's deposit for a commitment not revealed yet.
		CommitmentDeposit,
		/// Access fees in a version's pool, on the pallet's access account.
		AccessPool,
		/// A contributor's deposit for the records of its claims on versions' pools.
		AccessClaimDeposit,
	}

	// Hashers: the ids the chain assigns in sequence (datanets, contributions, versions, positions)
	// are keyed with `Twox64Concat`: no one chooses them, so no one can grind keys into one corner
	// of the trie, and twox is the cheaper hash. Keys a caller chooses (accounts, content hashes,
	// commitments) are keyed with `Blake2_128Concat`.

	/// The id the next datanet gets.
	#[pallet::storage]
	pub type NextDatanetId<T> = StorageValue<_, DatanetId, ValueQuery>;

	/// Every datanet.
	#[pallet::storage]
	pub type DatanetInfo<T: Config> = StorageMap<_, Twox64Concat, DatanetId, DatanetOf<T>>;

	/// Every pending, accepted or slashed contribution. Rejected ones are removed.
	#[pallet::storage]
	pub type Contributions<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Twox64Concat,
		ContributionId,
		ContributionOf<T>,
	>;

	/// The contribution of each content hash in a datanet, so that none is recorded twice.
	#[pallet::storage]
	pub type ContentIndex<T> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Blake2_128Concat, H256, ContributionId>;

	/// The accepted contributions of each datanet by position in acceptance order. Append-only:
	/// a version is a prefix of it.
	#[pallet::storage]
	pub type AcceptedByPosition<T> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Twox64Concat, u32, ContributionId>;

	/// The Merkle tree of each datanet's accepted contributions (its frontier only).
	#[pallet::storage]
	pub type Frontiers<T> = StorageMap<_, Twox64Concat, DatanetId, merkle::Frontier, ValueQuery>;

	/// The total size in bytes of each datanet's accepted contributions.
	#[pallet::storage]
	pub type AcceptedBytes<T> = StorageMap<_, Twox64Concat, DatanetId, u64, ValueQuery>;

	/// The published versions of each datanet.
	#[pallet::storage]
	pub type Versions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Twox64Concat, VersionId, VersionOf<T>>;

	/// Each contributor's reputation across datanets, while it has a contribution recorded.
	#[pallet::storage]
	pub type ContributorReputation<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Reputation, ValueQuery>;

	/// What each account contributed in each rate-limit period. The entries of a period are
	/// removed in `on_idle` once it is over.
	#[pallet::storage]
	pub type RateLimitUsage<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		u32,
		Blake2_128Concat,
		T::AccountId,
		PeriodUsage,
		ValueQuery,
	>;

	/// The oldest rate-limit period that may still have entries in [`RateLimitUsage`].
	#[pallet::storage]
	pub type OldestUsagePeriod<T> = StorageValue<_, u32, ValueQuery>;

	/// The commitments of each account not revealed yet, by [`commitment_of`].
	#[pallet::storage]
	pub type Commitments<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		H256,
		CommitmentOf<T>,
	>;

	/// Each contributor's reputation within one datanet, while it has a contribution recorded
	/// there.
	#[pallet::storage]
	pub type DatanetReputation<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Blake2_128Concat,
		T::AccountId,
		Reputation,
		ValueQuery,
	>;

	/// Each datanet's storage endpoints, if its owner set them.
	#[pallet::storage]
	pub type DatanetServices<T: Config> = StorageMap<_, Twox64Concat, DatanetId, ServicesOf<T>>;

	/// The automatic validation of each contribution of a datanet that asks for it, while the
	/// contribution is recorded.
	#[pallet::storage]
	pub type Validations<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Twox64Concat,
		ContributionId,
		ValidationStateOf<T>,
	>;

	/// The access fee each training run on a datanet's versions pays; absent for none.
	#[pallet::storage]
	pub type AccessFees<T: Config> =
		StorageMap<_, Twox64Concat, DatanetId, BalanceOf<T>, ValueQuery>;

	/// What training on each version paid and its contributors claimed.
	#[pallet::storage]
	pub type AccessPools<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Twox64Concat,
		VersionId,
		AccessPool<BalanceOf<T>>,
		ValueQuery,
	>;

	/// What each contribution claimed from each version's pool; written by its first claim,
	/// which holds [`Config::AccessClaimDeposit`] from the contributor for it.
	#[pallet::storage]
	pub type AccessClaims<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, DatanetId>,
			NMapKey<Twox64Concat, VersionId>,
			NMapKey<Twox64Concat, ContributionId>,
		),
		BalanceOf<T>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A datanet was created and its deposit held from the owner.
		Created { datanet: DatanetId, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A datanet's metadata changed; `deposit` is what is now held.
		MetadataUpdated { datanet: DatanetId, deposit: BalanceOf<T> },
		/// A datanet's rules changed; `deposit` is what is now held.
		RulesUpdated { datanet: DatanetId, deposit: BalanceOf<T> },
		/// The owner offered ownership to `to`, or withdrew the offer (`None`).
		OwnershipOffered { datanet: DatanetId, to: Option<T::AccountId> },
		/// Ownership and the datanet's deposit passed from `from` to `to`.
		OwnershipTransferred { datanet: DatanetId, from: T::AccountId, to: T::AccountId },
		/// A datanet stopped taking contributions.
		Closed { datanet: DatanetId },
		/// A datanet's storage endpoints or validation rules changed; `deposit` is what is now
		/// held.
		ServicesUpdated { datanet: DatanetId, deposit: BalanceOf<T> },
		/// Validation job `job` was created for a contribution.
		ValidationRequested { datanet: DatanetId, contribution: ContributionId, job: JobId },
		/// A provider validated a contribution; `reason` is the report's (UTF-8).
		Validated {
			datanet: DatanetId,
			contribution: ContributionId,
			outcome: ValidationOutcome,
			score: u8,
			reason: BoundedVec<u8, MaxReasonLength>,
		},
		/// A contribution could not be validated: no provider was free or none delivered.
		ValidationUnavailable { datanet: DatanetId, contribution: ContributionId },
		/// A contributor committed to a contribution and its commitment deposit was held.
		Committed { who: T::AccountId, commitment: H256, deposit: BalanceOf<T> },
		/// A commitment was withdrawn unrevealed and its deposit released.
		CommitmentWithdrawn { who: T::AccountId, commitment: H256, deposit: BalanceOf<T> },
		/// A contribution was submitted and its deposit held.
		Contributed {
			datanet: DatanetId,
			contribution: ContributionId,
			contributor: T::AccountId,
			content_hash: H256,
			size: u64,
			deposit: BalanceOf<T>,
		},
		/// A curator gave a verdict on a pending contribution.
		Reviewed {
			datanet: DatanetId,
			contribution: ContributionId,
			curator: T::AccountId,
			verdict: Verdict,
		},
		/// A contribution was accepted at `position` in acceptance order.
		Accepted { datanet: DatanetId, contribution: ContributionId, position: u32 },
		/// A contribution was rejected: `slashed` went to the rewards pot, `returned` back.
		Rejected {
			datanet: DatanetId,
			contribution: ContributionId,
			reason: RejectReason,
			slashed: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
		/// A version was published.
		VersionPublished {
			datanet: DatanetId,
			version: VersionId,
			contributions: u32,
			total_bytes: u64,
			root: H256,
		},
		/// A contributor took back an accepted contribution's stake after the cool-down.
		StakeWithdrawn { datanet: DatanetId, contribution: ContributionId, amount: BalanceOf<T> },
		/// A contribution that waited longer than the review timeout was withdrawn, its deposit
		/// returned.
		Withdrawn { datanet: DatanetId, contribution: ContributionId, amount: BalanceOf<T> },
		/// An accepted contribution was slashed: `slashed` went to the rewards pot, `returned` back.
		Slashed {
			datanet: DatanetId,
			contribution: ContributionId,
			reason: RejectReason,
			slashed: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
		/// The owner set the datanet's access fee (zero for none).
		AccessFeeSet { datanet: DatanetId, fee: BalanceOf<T> },
		/// A training job that used a version delivered, and paid `amount` into the version's
		/// pool; `paid` is what the pool received in all.
		AccessPaid {
			datanet: DatanetId,
			version: VersionId,
			amount: BalanceOf<T>,
			paid: BalanceOf<T>,
		},
		/// A contributor claimed its share of a version's pool; `deposit` is what its first
		/// claim there held from it for the record (zero on later claims).
		AccessRewardClaimed {
			datanet: DatanetId,
			version: VersionId,
			contribution: ContributionId,
			contributor: T::AccountId,
			amount: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No datanet has this id.
		UnknownDatanet,
		/// Only the datanet's owner may do this.
		NotOwner,
		/// Only a curator of the datanet may do this.
		NotCurator,
		/// Only the datanet's owner or one of its curators may do this.
		NotOwnerOrCurator,
		/// The datanet is closed.
		DatanetClosed,
		/// The name is empty.
		EmptyName,
		/// The name is longer than `MaxNameLength`.
		NameTooLong,
		/// The description is longer than `MaxDescriptionLength`.
		DescriptionTooLong,
		/// A tag is empty.
		EmptyTag,
		/// A tag is longer than `MaxTagLength`.
		TagTooLong,
		/// More tags than `MaxTags`.
		TooManyTags,
		/// The licence is empty.
		EmptyLicence,
		/// The licence is longer than `MaxLicenceLength`.
		LicenceTooLong,
		/// The rules name no curator.
		NoCurators,
		/// More curators than `MaxCurators`.
		TooManyCurators,
		/// A curator is named twice.
		DuplicateCurator,
		/// `approvals_needed` is zero.
		ZeroApprovalsNeeded,
		/// `approvals_needed` is more than the number of curators.
		MoreApprovalsThanCurators,
		/// The rules accept no format.
		NoFormats,
		/// More formats than `MaxFormats`.
		TooManyFormats,
		/// A format is named twice.
		DuplicateFormat,
		/// The maximum contribution size is zero.
		ZeroSizeLimit,
		/// The maximum contribution size is above `MaxContributionSize`.
		SizeLimitTooHigh,
		/// The contribution deposit is below `MinContributionDeposit`.
		DepositTooLow,
		/// No more datanets can be created.
		TooManyDatanets,
		/// No ownership offer to the caller is pending.
		NotOfferedOwnership,
		/// This content hash is already pending or accepted in the datanet.
		DuplicateContent,
		/// The contribution is empty.
		EmptyContribution,
		/// The contribution is larger than the datanet allows.
		ContributionTooLarge,
		/// The datanet does not accept this format.
		FormatNotAccepted,
		/// The account reached its number of contributions for this period.
		RateLimitedCount,
		/// The account reached its bytes of contributions for this period.
		RateLimitedBytes,
		/// The datanet has no contribution with this id.
		UnknownContribution,
		/// The contribution is not pending review.
		NotPending,
		/// The curator already reviewed this contribution.
		AlreadyReviewed,
		/// The contribution is not accepted (or already slashed).
		NotAccepted,
		/// Only the contributor may do this.
		NotContributor,
		/// Nothing is held for this contribution any more.
		NothingHeld,
		/// The stake's cool-down has not ended.
		CoolDownNotOver,
		/// The contribution has not waited for its verdict longer than the review timeout.
		ReviewNotTimedOut,
		/// No contribution was accepted since the last version.
		NothingToPublish,
		/// More storage endpoints than `MaxEndpoints`.
		TooManyEndpoints,
		/// A storage endpoint is not an `http://` or `https://` URL of printable ASCII.
		BadEndpoint,
		/// A storage endpoint is longer than `MaxEndpointLength`.
		EndpointTooLong,
		/// Validation needs at least one storage endpoint to fetch the bytes from.
		ValidationWithoutEndpoint,
		/// The validation fee is below the least fee of a job.
		ValidationFeeTooLow,
		/// The contribution deposit and validation fee add up to more than the caller's
		/// `max_cost`.
		CostAboveLimit,
		/// A validation job's payload does not name a contribution.
		BadValidationPayload,
		/// A validation result is not a SCALE-encoded `ValidationReport` with a score of at most
		/// 100.
		BadValidationReport,
		/// A counter would overflow.
		Overflow,
		/// The caller made no commitment to this contribution (see [`Pallet::commit`]).
		NotCommitted,
		/// The commitment was made in this block; it can be revealed from the next one.
		CommitmentTooRecent,
		/// The caller already holds this commitment.
		AlreadyCommitted,
		/// An access fee must be zero or at least the existential deposit.
		AccessFeeBelowMinimum,
		/// The datanet has not published this version.
		UnknownVersion,
		/// The contribution was accepted after the version was published.
		NotInVersion,
		/// The contribution's share of the pool was claimed in full.
		NothingToClaim,
		/// Less is reserved in the version's pool than a training job settles or refunds.
		NotReserved,
		/// The datanet validates its contributions and the job market cannot take this one's
		/// validation job now (no validation provider is free, the coming deadline buckets are
		/// full, or the caller pays for as many open jobs as an account may): try again later.
		ValidationUnavailable,
		/// The contributor cannot pay the deposit of its first claim on this version's pool,
		/// even with what it claims ([`Config::AccessClaimDeposit`]).
		ClaimDepositUnavailable,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::RateLimitPeriod::get().is_zero(), "RateLimitPeriod must not be zero");
			assert!(T::MaxCurators::get() > 0, "MaxCurators must not be zero");
			assert!(T::MaxFormats::get() > 0, "MaxFormats must not be zero");
			assert!(T::MaxContributionSize::get() > 0, "MaxContributionSize must not be zero");
		}

		/// Removes the rate-limit counts of a period that is over, as far as the block's spare
		/// weight allows: one storage write per entry.
		fn on_idle(_n: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune_usage(remaining)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates a datanet owned by the caller, holding its deposit.
		///
		/// The origin must be signed. Emits [`Event::Created`]. Errors: the metadata's and rules'
		/// (`EmptyName`, `EmptyLicence`, tags, formats, curators, approvals), `TooManyDatanets`, or
		/// the currency's error when the deposit cannot be held.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create())]
		pub fn create(
			origin: OriginFor<T>,
			metadata: MetadataInput,
			rules: RulesInputOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_create(owner, metadata, rules)
		}

		/// Replaces a datanet's metadata, adjusting the owner's deposit to its new size.
		///
		/// The origin must be the owner. Emits [`Event::MetadataUpdated`]. Errors:
		/// `UnknownDatanet`, `NotOwner`, the metadata's errors, the currency's.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_metadata())]
		pub fn update_metadata(
			origin: OriginFor<T>,
			datanet: DatanetId,
			metadata: MetadataInput,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_metadata(who, datanet, metadata)
		}

		/// Replaces a datanet's rules, curators included, adjusting the owner's deposit.
		///
		/// Pending contributions keep the deposit they were submitted with; votes of accounts that
		/// are no longer curators stop counting.
		///
		/// The origin must be the owner. Emits [`Event::RulesUpdated`]. Errors: `UnknownDatanet`,
		/// `NotOwner`, the rules' errors, the currency's.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::update_rules())]
		pub fn update_rules(
			origin: OriginFor<T>,
			datanet: DatanetId,
			rules: RulesInputOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_rules(who, datanet, rules)
		}

		/// Offers ownership of a datanet to `to`, or withdraws the offer with `None`. Ownership
		/// passes only when `to` accepts, since it takes over the deposit.
		///
		/// The origin must be the owner. Emits [`Event::OwnershipOffered`]. Errors:
		/// `UnknownDatanet`, `NotOwner`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::offer_ownership())]
		pub fn offer_ownership(
			origin: OriginFor<T>,
			datanet: DatanetId,
			to: Option<T::AccountId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_offer_ownership(who, datanet, to)
		}

		/// Accepts an offer of ownership: the caller's deposit is held and the former owner's
		/// released.
		///
		/// The origin must be the account offered ownership. Emits
		/// [`Event::OwnershipTransferred`]. Errors: `UnknownDatanet`, `NotOfferedOwnership`, the
		/// currency's when the caller cannot pay the deposit.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::accept_ownership())]
		pub fn accept_ownership(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_accept_ownership(who, datanet)
		}

		/// Closes a datanet to new contributions. The owner or [`Config::ForceOrigin`] may.
		///
		/// Pending contributions can still be reviewed and versions published; the deposit stays
		/// held, since the datanet's records stay in storage.
		///
		/// Emits [`Event::Closed`]. Errors: `UnknownDatanet`, `NotOwner`, `DatanetClosed`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::close())]
		pub fn close(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let by = Self::signed_or_forced(origin)?;
			Self::do_close(by, datanet)
		}

		/// Submits a contribution by the blake2-256 hash of its bytes, holding the datanet's
		/// contribution deposit from the caller.
		///
		/// The caller must have [committed](Pallet::commit) to
		/// `commitment_of(caller, datanet, content_hash)` in an earlier block; the commitment is
		/// consumed and its deposit released.
		///
		/// `max_cost` is the most the caller agrees to pay: the contribution deposit plus, if the
		/// datanet asks for validation, its validation fee. A datanet owner who raises either
		/// while the transaction waits in the pool makes it fail with `CostAboveLimit` instead
		/// of taking more than the contributor saw.
		///
		/// If the datanet asks for validation, a validation job is created with the datanet's
		/// validation fee, escrowed from the caller until the job ends. If the job market cannot
		/// take one now (no validation provider is free, the coming deadline buckets are full,
		/// or the caller pays for as many open jobs as an account may), the contribution is
		/// refused with `ValidationUnavailable` and may be sent again later: a datanet that
		/// validates takes no contribution unvalidated and unpaid for.
		///
		/// The origin must be signed. Emits [`Event::Contributed`], then
		/// [`Event::ValidationRequested`] when the datanet validates. Errors: `UnknownDatanet`,
		/// `DatanetClosed`, `CostAboveLimit`, `EmptyContribution`, `ContributionTooLarge`,
		/// `FormatNotAccepted`, `DuplicateContent`, `NotCommitted`, `CommitmentTooRecent`,
		/// `RateLimitedCount`, `RateLimitedBytes`, `ValidationUnavailable`, `Overflow`, the
		/// currency's.
		///
		/// Weight: declared with the job market's worst case. A contribution to a datanet that
		/// validates nothing is charged [`WeightInfo::contribute`]; one that asks for validation,
		/// [`WeightInfo::contribute_validated`] and what creating its validation job used.
		#[pallet::call_index(6)]
		#[pallet::weight(
			T::WeightInfo::contribute()
				.max(T::WeightInfo::contribute_validated())
				.saturating_add(T::Jobs::create_weight())
		)]
		pub fn contribute(
			origin: OriginFor<T>,
			datanet: DatanetId,
			content_hash: H256,
			size: u64,
			format: DataFormat,
			max_cost: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_contribute(who, datanet, content_hash, size, format, max_cost)
		}

		/// A curator's verdict on a pending contribution. The verdict that reaches the datanet's
		/// approval threshold accepts it; the one that makes acceptance impossible rejects it, with
		/// that verdict's reason.
		///
		/// The origin must be a curator of the datanet. Emits [`Event::Reviewed`], and
		/// [`Event::Accepted`] or [`Event::Rejected`] when the verdict settles it. Errors:
		/// `UnknownDatanet`, `NotCurator`, `UnknownContribution`, `NotPending`,
		/// `AlreadyReviewed`, `Overflow`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::review_accept().max(T::WeightInfo::review_reject()))]
		pub fn review(
			origin: OriginFor<T>,
			datanet: DatanetId,
			contribution: ContributionId,
			verdict: Verdict,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_review(who, datanet, contribution, verdict)
		}

		/// Publishes a version of a datanet: every contribution accepted so far, frozen under a
		/// Merkle root. The owner or a curator may.
		///
		/// Emits [`Event::VersionPublished`]. Errors: `UnknownDatanet`, `NotOwnerOrCurator`,
		/// `NothingToPublish`, `Overflow`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::publish_version())]
		pub fn publish_version(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_publish_version(who, datanet)
		}

		/// Releases an accepted contribution's stake to its contributor once
		/// [`Config::StakeCoolDown`] blocks have passed since acceptance: all of its deposit but
		/// [`Config::MinContributionDeposit`], which stays held for the contribution's record.
		/// The contribution stays in the datanet, and its versions, for good.
		///
		/// The origin must be the contributor. Emits [`Event::StakeWithdrawn`]. Errors:
		/// `UnknownContribution`, `NotContributor`, `NotAccepted`, `NothingHeld`,
		/// `CoolDownNotOver`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::withdraw_stake())]
		pub fn withdraw_stake(
			origin: OriginFor<T>,
			datanet: DatanetId,
			contribution: ContributionId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_stake(who, datanet, contribution)
		}

		/// Slashes an accepted contribution found duplicate or adversarial: a curator of the
		/// datanet or [`Config::ForceOrigin`] may. [`Config::AdversarialSlash`] of its stake still
		/// held goes to the rewards pot, the rest returns; the record's deposit stays held, as the
		/// record stays. The contributor's reputation records it.
		///
		/// Emits [`Event::Slashed`]. Errors: `UnknownDatanet`, `NotCurator`,
		/// `UnknownContribution`, `NotAccepted`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::slash())]
		pub fn slash(
			origin: OriginFor<T>,
			datanet: DatanetId,
			contribution: ContributionId,
			reason: RejectReason,
		) -> DispatchResult {
			let by = Self::signed_or_forced(origin)?;
			Self::do_slash(by, datanet, contribution, reason)
		}

		/// Withdraws a contribution that curators left pending for longer than
		/// [`Config::ReviewTimeout`], returning its whole deposit, so that no deposit is held
		/// forever by a datanet whose curators stopped reviewing.
		///
		/// The origin must be the contributor. Emits [`Event::Withdrawn`]. Errors:
		/// `UnknownDatanet`, `UnknownContribution`, `NotContributor`, `NotPending`,
		/// `ReviewNotTimedOut`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::withdraw_unreviewed())]
		pub fn withdraw_unreviewed(
			origin: OriginFor<T>,
			datanet: DatanetId,
			contribution: ContributionId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_unreviewed(who, datanet, contribution)
		}

		/// Names the storage endpoints that serve a datanet's contributions and sets its
		/// automatic validation (`None`: none), adjusting the owner's deposit to their size.
		/// Only the owner may. Contributions submitted before keep their validation state.
		///
		/// Emits [`Event::ServicesUpdated`]. Errors: `UnknownDatanet`, `NotOwner`, `BadEndpoint`,
		/// `TooManyEndpoints`, `ValidationWithoutEndpoint`, `ValidationFeeTooLow`, the
		/// currency's.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::set_services())]
		pub fn set_services(
			origin: OriginFor<T>,
			datanet: DatanetId,
			endpoints: Vec<Vec<u8>>,
			validation: Option<ValidationRules<BalanceOf<T>>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_services(who, datanet, endpoints, validation)
		}

		/// Commits the caller to a contribution before its bytes are public, holding
		/// [`Config::CommitmentDeposit`]. `commitment` is [`commitment_of`] the caller, the
		/// datanet and the content hash; [`Pallet::contribute`] reveals it from the next block
		/// on. Storage providers take an upload only for a hash committed to or contributed, so
		/// the bytes go public only after the commitment is on chain.
		///
		/// The origin must be signed. Emits [`Event::Committed`]. Errors: `AlreadyCommitted`, the
		/// currency's when the deposit cannot be held.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::commit())]
		pub fn commit(origin: OriginFor<T>, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_commit(who, commitment)
		}

		/// Withdraws a commitment the caller will not reveal, releasing its deposit.
		///
		/// The origin must be the account that committed. Emits [`Event::CommitmentWithdrawn`].
		/// Errors: `NotCommitted`.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::withdraw_commitment())]
		pub fn withdraw_commitment(origin: OriginFor<T>, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_commitment(who, commitment)
		}

		/// Sets what each training run on the datanet's versions pays their contributors: zero,
		/// or at least the existential deposit. Training jobs already requested pay the fee of
		/// their request.
		///
		/// The origin must be the datanet's owner. Emits [`Event::AccessFeeSet`]. Errors:
		/// `UnknownDatanet`, `NotOwner`, `AccessFeeBelowMinimum`.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::set_access_fee())]
		pub fn set_access_fee(
			origin: OriginFor<T>,
			datanet: DatanetId,
			fee: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_access_fee(who, datanet, fee)
		}

		/// Pays a contribution's contributor its share of what training on a version paid:
		/// the pool's payments times the contribution's bytes over the version's, less what it
		/// claimed before. The first claim of a contribution on a version holds
		/// [`Config::AccessClaimDeposit`] from the contributor for the record of its claims there.
		///
		/// The origin must be the contributor. Emits [`Event::AccessRewardClaimed`]. Errors:
		/// `UnknownVersion`, `UnknownContribution`, `NotContributor`, `NotAccepted` (pending,
		/// rejected or slashed), `NotInVersion`, `NothingToClaim`, `ClaimDepositUnavailable`.
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::claim_access_reward())]
		pub fn claim_access_reward(
			origin: OriginFor<T>,
			datanet: DatanetId,
			version: VersionId,
			contribution: ContributionId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim_access_reward(who, datanet, version, contribution)
		}
	}

	impl<T: Config> Pallet<T> {
		/// `None` for [`Config::ForceOrigin`], else the signer.
		fn signed_or_forced(origin: OriginFor<T>) -> Result<Option<T::AccountId>, DispatchError> {
			if T::ForceOrigin::try_origin(origin.clone()).is_ok() {
				return Ok(None);
			}
			Ok(Some(ensure_signed(origin)?))
		}
	}
}
