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
//! [`pallet_compute::JobKind::ContributionValidation`] job, paid by the contributor with the
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
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
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
pub use weights::WeightInfo;

// FRAME's pallet macros expand to `expect` calls (on the pallet's name in the runtime) that carry
// this module's spans, so clippy's `expect_used` is allowed here; the module's own code holds none.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use codec::Encode;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use pallet_compute::{JobConsumer, JobId, JobKind, JobMarket};
	use sp_core::H256;
	use sp_runtime::{
		traits::{Saturating, UniqueSaturatedInto, Zero},
		Perbill,
	};

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
	/// A datanet's storage endpoints and validation rules.
	pub type ServicesOf<T> =
		Services<BalanceOf<T>, <T as Config>::MaxEndpointLength, <T as Config>::MaxEndpoints>;
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
	}

	/// The id the next datanet gets.
	#[pallet::storage]
	pub type NextDatanetId<T> = StorageValue<_, DatanetId, ValueQuery>;

	/// Every datanet.
	#[pallet::storage]
	pub type Datanets<T: Config> = StorageMap<_, Blake2_128Concat, DatanetId, DatanetOf<T>>;

	/// Every pending, accepted or slashed contribution. Rejected ones are removed.
	#[pallet::storage]
	pub type Contributions<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		DatanetId,
		Blake2_128Concat,
		ContributionId,
		ContributionOf<T>,
	>;

	/// The contribution of each content hash in a datanet, so that none is recorded twice.
	#[pallet::storage]
	pub type ContentIndex<T> =
		StorageDoubleMap<_, Blake2_128Concat, DatanetId, Blake2_128Concat, H256, ContributionId>;

	/// The accepted contributions of each datanet by position in acceptance order. Append-only:
	/// a version is a prefix of it.
	#[pallet::storage]
	pub type Accepted<T> =
		StorageDoubleMap<_, Blake2_128Concat, DatanetId, Twox64Concat, u32, ContributionId>;

	/// The Merkle tree of each datanet's accepted contributions (its frontier only).
	#[pallet::storage]
	pub type Trees<T> = StorageMap<_, Blake2_128Concat, DatanetId, merkle::Frontier, ValueQuery>;

	/// The total size in bytes of each datanet's accepted contributions.
	#[pallet::storage]
	pub type AcceptedBytes<T> = StorageMap<_, Blake2_128Concat, DatanetId, u64, ValueQuery>;

	/// The published versions of each datanet.
	#[pallet::storage]
	pub type Versions<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, DatanetId, Twox64Concat, VersionId, VersionOf<T>>;

	/// Each contributor's reputation across datanets, while it has a contribution recorded.
	#[pallet::storage]
	pub type Contributors<T: Config> =
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
		Blake2_128Concat,
		DatanetId,
		Blake2_128Concat,
		T::AccountId,
		Reputation,
		ValueQuery,
	>;

	/// Each datanet's storage endpoints and validation rules, if its owner set them.
	#[pallet::storage]
	pub type DatanetServices<T: Config> = StorageMap<_, Blake2_128Concat, DatanetId, ServicesOf<T>>;

	/// The automatic validation of each contribution of a datanet that asks for it, while the
	/// contribution is recorded.
	#[pallet::storage]
	pub type Validations<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		DatanetId,
		Blake2_128Concat,
		ContributionId,
		ValidationStateOf<T>,
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
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No datanet has this id.
		UnknownDatanet,
		/// Only the datanet's owner may do this.
		NotOwner,
		/// Only a curator of the datanet may do this.
		NotCurator,
		/// The datanet is closed.
		DatanetClosed,
		/// The name is empty.
		EmptyName,
		/// The name is longer than `MaxNameLength`.
		NameTooLong,
		/// The description is longer than `MaxDescriptionLength`.
		DescriptionTooLong,
		/// A tag is empty or longer than `MaxTagLength`.
		BadTag,
		/// More tags than `MaxTags`.
		TooManyTags,
		/// The licence is empty or longer than `MaxLicenceLength`.
		BadLicence,
		/// The rules name no curator.
		NoCurators,
		/// More curators than `MaxCurators`.
		TooManyCurators,
		/// A curator is named twice.
		DuplicateCurator,
		/// `approvals_needed` is zero or more than the number of curators.
		InvalidApprovalThreshold,
		/// The rules accept no format.
		NoFormats,
		/// More formats than `MaxFormats`, or one named twice.
		BadFormats,
		/// The maximum contribution size is zero or above `MaxContributionSize`.
		InvalidSizeLimit,
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
		/// A storage endpoint is longer than `MaxEndpointLength` or not an `http://` or
		/// `https://` URL of printable ASCII.
		BadEndpoint,
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
		/// (`EmptyName`, `BadLicence`, tags, formats, curators, approvals), `TooManyDatanets`, or
		/// the currency's error when the deposit cannot be held.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create())]
		pub fn create(
			origin: OriginFor<T>,
			metadata: MetadataInput,
			rules: RulesInputOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let metadata = Self::bound_metadata(metadata)?;
			let rules = Self::bound_rules(rules)?;
			let id = NextDatanetId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::TooManyDatanets)?;
			let deposit = Self::datanet_deposit(&metadata, &rules, None);
			T::Currency::hold(&HoldReason::DatanetDeposit.into(), &owner, deposit)?;
			Datanets::<T>::insert(
				id,
				Datanet {
					owner: owner.clone(),
					pending_owner: None,
					metadata,
					rules,
					status: DatanetStatus::Open,
					deposit,
					created_at: frame_system::Pallet::<T>::block_number(),
					contributions: 0,
					pending: 0,
					accepted: 0,
					versions: 0,
				},
			);
			NextDatanetId::<T>::put(next);
			Self::deposit_event(Event::Created { datanet: id, owner, deposit });
			Ok(())
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
			let mut info = Self::owned(datanet, &who)?;
			info.metadata = Self::bound_metadata(metadata)?;
			Self::adjust_deposit(&mut info, DatanetServices::<T>::get(datanet).as_ref())?;
			let deposit = info.deposit;
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::MetadataUpdated { datanet, deposit });
			Ok(())
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
			let mut info = Self::owned(datanet, &who)?;
			info.rules = Self::bound_rules(rules)?;
			Self::adjust_deposit(&mut info, DatanetServices::<T>::get(datanet).as_ref())?;
			let deposit = info.deposit;
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::RulesUpdated { datanet, deposit });
			Ok(())
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
			let mut info = Self::owned(datanet, &who)?;
			info.pending_owner = to.clone();
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::OwnershipOffered { datanet, to });
			Ok(())
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
			let mut info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			ensure!(info.pending_owner.as_ref() == Some(&who), Error::<T>::NotOfferedOwnership);
			let reason = HoldReason::DatanetDeposit.into();
			T::Currency::hold(&reason, &who, info.deposit)?;
			T::Currency::release(&reason, &info.owner, info.deposit, Precision::Exact)?;
			let from = core::mem::replace(&mut info.owner, who.clone());
			info.pending_owner = None;
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::OwnershipTransferred { datanet, from, to: who });
			Ok(())
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
			let mut info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			if T::ForceOrigin::try_origin(origin.clone()).is_err() {
				let who = ensure_signed(origin)?;
				ensure!(info.owner == who, Error::<T>::NotOwner);
			}
			ensure!(info.status == DatanetStatus::Open, Error::<T>::DatanetClosed);
			info.status = DatanetStatus::Closed;
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::Closed { datanet });
			Ok(())
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
		/// validation fee, escrowed from the caller until the job ends; if the job market cannot
		/// take one now the contribution is recorded all the same, as
		/// [`ValidationState::Unavailable`].
		///
		/// The origin must be signed. Emits [`Event::Contributed`], then
		/// [`Event::ValidationRequested`] or [`Event::ValidationUnavailable`] when the datanet
		/// validates. Errors: `UnknownDatanet`, `DatanetClosed`, `CostAboveLimit`,
		/// `EmptyContribution`, `ContributionTooLarge`, `FormatNotAccepted`, `DuplicateContent`,
		/// `NotCommitted`, `CommitmentTooRecent`, `RateLimitedCount`, `RateLimitedBytes`,
		/// `Overflow`, the currency's.
		///
		/// Weight: a contribution to a datanet that validates nothing is charged
		/// [`WeightInfo::contribute`] alone, without the validation job's weight.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::contribute().saturating_add(T::Jobs::create_weight()))]
		pub fn contribute(
			origin: OriginFor<T>,
			datanet: DatanetId,
			content_hash: H256,
			size: u64,
			format: DataFormat,
			max_cost: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			ensure!(info.status == DatanetStatus::Open, Error::<T>::DatanetClosed);
			let validation = DatanetServices::<T>::get(datanet).and_then(|s| s.validation);
			let fee = validation.as_ref().map_or_else(Zero::zero, |v| v.fee);
			let cost = info.rules.contribution_deposit.saturating_add(fee);
			ensure!(cost <= max_cost, Error::<T>::CostAboveLimit);
			ensure!(size > 0, Error::<T>::EmptyContribution);
			ensure!(size <= info.rules.max_contribution_size, Error::<T>::ContributionTooLarge);
			ensure!(info.rules.accepted_formats.contains(&format), Error::<T>::FormatNotAccepted);
			ensure!(
				!ContentIndex::<T>::contains_key(datanet, content_hash),
				Error::<T>::DuplicateContent
			);
			let commitment_key = commitment_of(&who, datanet, &content_hash);
			let commitment =
				Commitments::<T>::get(&who, commitment_key).ok_or(Error::<T>::NotCommitted)?;
			ensure!(
				commitment.at < frame_system::Pallet::<T>::block_number(),
				Error::<T>::CommitmentTooRecent
			);

			let period = Self::current_period();
			let mut usage = RateLimitUsage::<T>::get(period, &who);
			usage.count = usage.count.saturating_add(1);
			usage.bytes = usage.bytes.saturating_add(size);
			ensure!(
				usage.count <= T::MaxContributionsPerPeriod::get(),
				Error::<T>::RateLimitedCount
			);
			ensure!(usage.bytes <= T::MaxBytesPerPeriod::get(), Error::<T>::RateLimitedBytes);
			let mut record = Contributors::<T>::get(&who);
			record.submitted = record.submitted.saturating_add(1);
			record.stored = record.stored.saturating_add(1);

			let id = info.contributions;
			info.contributions = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
			info.pending = info.pending.checked_add(1).ok_or(Error::<T>::Overflow)?;
			let deposit = info.rules.contribution_deposit;
			T::Currency::release(
				&HoldReason::CommitmentDeposit.into(),
				&who,
				commitment.deposit,
				Precision::Exact,
			)?;
			Commitments::<T>::remove(&who, commitment_key);
			T::Currency::hold(&HoldReason::ContributionDeposit.into(), &who, deposit)?;

			Contributions::<T>::insert(
				datanet,
				id,
				Contribution {
					contributor: who.clone(),
					content_hash,
					size,
					format,
					deposit,
					submitted_at: frame_system::Pallet::<T>::block_number(),
					status: ContributionStatus::Pending {
						approvals: BoundedVec::new(),
						rejections: BoundedVec::new(),
					},
				},
			);
			ContentIndex::<T>::insert(datanet, content_hash, id);
			RateLimitUsage::<T>::insert(period, &who, usage);
			Contributors::<T>::insert(&who, record);
			DatanetReputation::<T>::mutate(datanet, &who, |r| {
				r.submitted = r.submitted.saturating_add(1);
				r.stored = r.stored.saturating_add(1);
			});
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::Contributed {
				datanet,
				contribution: id,
				contributor: who.clone(),
				content_hash,
				size,
				deposit,
			});
			// Without validation no job is created: the job market's weight goes back to the
			// block.
			let actual = validation.is_none().then(T::WeightInfo::contribute);
			Self::request_validation(datanet, id, &who, validation)?;
			Ok(actual.into())
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
			let mut info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			ensure!(info.rules.curators.contains(&who), Error::<T>::NotCurator);
			let mut item = Contributions::<T>::get(datanet, contribution)
				.ok_or(Error::<T>::UnknownContribution)?;
			let ContributionStatus::Pending { approvals, rejections } = &mut item.status else {
				return Err(Error::<T>::NotPending.into());
			};
			ensure!(
				!approvals.contains(&who) && !rejections.contains(&who),
				Error::<T>::AlreadyReviewed
			);
			match verdict {
				Verdict::Accept => approvals.try_push(who.clone()),
				Verdict::Reject(_) => rejections.try_push(who.clone()),
			}
			.map_err(|_| Error::<T>::Overflow)?;
			Self::deposit_event(Event::Reviewed { datanet, contribution, curator: who, verdict });

			let curators = &info.rules.curators;
			let counted = |votes: &BoundedVec<T::AccountId, T::MaxCurators>| {
				votes.iter().filter(|v| curators.contains(v)).count()
			};
			let needed = info.rules.approvals_needed as usize;
			let approved = counted(approvals) >= needed;
			// Rejected once fewer curators are left to accept than the threshold needs.
			let rejected = counted(rejections) > curators.len().saturating_sub(needed);

			if approved {
				Self::accept(datanet, &mut info, contribution, &mut item)?;
			} else if let (true, Verdict::Reject(reason)) = (rejected, verdict) {
				Self::reject(datanet, &mut info, contribution, item, reason)?;
				Datanets::<T>::insert(datanet, info);
				return Ok(());
			}
			Contributions::<T>::insert(datanet, contribution, item);
			Datanets::<T>::insert(datanet, info);
			Ok(())
		}

		/// Publishes a version of a datanet: every contribution accepted so far, frozen under a
		/// Merkle root. The owner or a curator may.
		///
		/// Emits [`Event::VersionPublished`]. Errors: `UnknownDatanet`, `NotCurator`,
		/// `NothingToPublish`, `Overflow`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::publish_version())]
		pub fn publish_version(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			ensure!(
				info.owner == who || info.rules.curators.contains(&who),
				Error::<T>::NotCurator
			);
			let published = match info.versions.checked_sub(1) {
				Some(last) => Versions::<T>::get(datanet, last).map_or(0, |v| v.contributions),
				None => 0,
			};
			ensure!(info.accepted > published, Error::<T>::NothingToPublish);
			let tree = Trees::<T>::get(datanet);
			let version = info.versions;
			info.versions = version.checked_add(1).ok_or(Error::<T>::Overflow)?;
			let record = Version {
				contributions: tree.count,
				total_bytes: AcceptedBytes::<T>::get(datanet),
				root: tree.root(),
				published_by: who,
				published_at: frame_system::Pallet::<T>::block_number(),
			};
			Self::deposit_event(Event::VersionPublished {
				datanet,
				version,
				contributions: record.contributions,
				total_bytes: record.total_bytes,
				root: record.root,
			});
			Versions::<T>::insert(datanet, version, record);
			Datanets::<T>::insert(datanet, info);
			Ok(())
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
			let mut item = Contributions::<T>::get(datanet, contribution)
				.ok_or(Error::<T>::UnknownContribution)?;
			ensure!(item.contributor == who, Error::<T>::NotContributor);
			let ContributionStatus::Accepted { at, .. } = item.status else {
				return Err(Error::<T>::NotAccepted.into());
			};
			let kept = Self::record_deposit(item.deposit);
			let amount = item.deposit.saturating_sub(kept);
			ensure!(!amount.is_zero(), Error::<T>::NothingHeld);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= at.saturating_add(T::StakeCoolDown::get()), Error::<T>::CoolDownNotOver);
			item.deposit = kept;
			T::Currency::release(
				&HoldReason::ContributionDeposit.into(),
				&who,
				amount,
				Precision::Exact,
			)?;
			Contributions::<T>::insert(datanet, contribution, item);
			Self::deposit_event(Event::StakeWithdrawn { datanet, contribution, amount });
			Ok(())
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
			let info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			if T::ForceOrigin::try_origin(origin.clone()).is_err() {
				let who = ensure_signed(origin)?;
				ensure!(info.rules.curators.contains(&who), Error::<T>::NotCurator);
			}
			let mut item = Contributions::<T>::get(datanet, contribution)
				.ok_or(Error::<T>::UnknownContribution)?;
			let ContributionStatus::Accepted { position, .. } = item.status else {
				return Err(Error::<T>::NotAccepted.into());
			};
			let kept = Self::record_deposit(item.deposit);
			let stake = item.deposit.saturating_sub(kept);
			item.deposit = kept;
			let (slashed, returned) =
				Self::settle_deposit(&item.contributor, stake, T::AdversarialSlash::get())?;
			item.status = ContributionStatus::Slashed { position, reason };
			Contributors::<T>::mutate(&item.contributor, |r| {
				r.slashed = r.slashed.saturating_add(1)
			});
			DatanetReputation::<T>::mutate(datanet, &item.contributor, |r| {
				r.slashed = r.slashed.saturating_add(1)
			});
			Contributions::<T>::insert(datanet, contribution, item);
			Self::deposit_event(Event::Slashed {
				datanet,
				contribution,
				reason,
				slashed,
				returned,
			});
			Ok(())
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
			let mut info = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
			let item = Contributions::<T>::get(datanet, contribution)
				.ok_or(Error::<T>::UnknownContribution)?;
			ensure!(item.contributor == who, Error::<T>::NotContributor);
			ensure!(
				matches!(item.status, ContributionStatus::Pending { .. }),
				Error::<T>::NotPending
			);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				now >= item.submitted_at.saturating_add(T::ReviewTimeout::get()),
				Error::<T>::ReviewNotTimedOut
			);
			T::Currency::release(
				&HoldReason::ContributionDeposit.into(),
				&who,
				item.deposit,
				Precision::Exact,
			)?;
			info.pending = info.pending.saturating_sub(1);
			Contributions::<T>::remove(datanet, contribution);
			ContentIndex::<T>::remove(datanet, item.content_hash);
			Validations::<T>::remove(datanet, contribution);
			Self::unrecord(datanet, &who, |_| {});
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::Withdrawn { datanet, contribution, amount: item.deposit });
			Ok(())
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
			let mut info = Self::owned(datanet, &who)?;
			let services = Self::bound_services(endpoints, validation)?;
			Self::adjust_deposit(&mut info, Some(&services))?;
			let deposit = info.deposit;
			DatanetServices::<T>::insert(datanet, services);
			Datanets::<T>::insert(datanet, info);
			Self::deposit_event(Event::ServicesUpdated { datanet, deposit });
			Ok(())
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
			ensure!(
				!Commitments::<T>::contains_key(&who, commitment),
				Error::<T>::AlreadyCommitted
			);
			let deposit = T::CommitmentDeposit::get();
			T::Currency::hold(&HoldReason::CommitmentDeposit.into(), &who, deposit)?;
			let at = frame_system::Pallet::<T>::block_number();
			Commitments::<T>::insert(&who, commitment, Commitment { at, deposit });
			Self::deposit_event(Event::Committed { who, commitment, deposit });
			Ok(())
		}

		/// Withdraws a commitment the caller will not reveal, releasing its deposit.
		///
		/// The origin must be the account that committed. Emits [`Event::CommitmentWithdrawn`].
		/// Errors: `NotCommitted`.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::withdraw_commitment())]
		pub fn withdraw_commitment(origin: OriginFor<T>, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let Commitment { deposit, .. } =
				Commitments::<T>::take(&who, commitment).ok_or(Error::<T>::NotCommitted)?;
			T::Currency::release(
				&HoldReason::CommitmentDeposit.into(),
				&who,
				deposit,
				Precision::Exact,
			)?;
			Self::deposit_event(Event::CommitmentWithdrawn { who, commitment, deposit });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The datanet `id` if `who` owns it.
		fn owned(id: DatanetId, who: &T::AccountId) -> Result<DatanetOf<T>, DispatchError> {
			let info = Datanets::<T>::get(id).ok_or(Error::<T>::UnknownDatanet)?;
			ensure!(&info.owner == who, Error::<T>::NotOwner);
			Ok(info)
		}

		/// Checks a call's metadata against the bounds and converts it for storage.
		pub fn bound_metadata(input: MetadataInput) -> Result<MetadataOf<T>, Error<T>> {
			ensure!(!input.name.is_empty(), Error::<T>::EmptyName);
			ensure!(!input.licence.is_empty(), Error::<T>::BadLicence);
			// Every list is bounded before it is walked: the call's weight covers the bounds only.
			ensure!(input.tags.len() <= T::MaxTags::get() as usize, Error::<T>::TooManyTags);
			let tags = input
				.tags
				.into_iter()
				.map(|tag| {
					ensure!(!tag.is_empty(), Error::<T>::BadTag);
					BoundedVec::try_from(tag).map_err(|_| Error::<T>::BadTag)
				})
				.collect::<Result<Vec<_>, _>>()?;
			Ok(Metadata {
				name: input.name.try_into().map_err(|_| Error::<T>::NameTooLong)?,
				description: input
					.description
					.try_into()
					.map_err(|_| Error::<T>::DescriptionTooLong)?,
				tags: tags.try_into().map_err(|_| Error::<T>::TooManyTags)?,
				kind: input.kind,
				licence: input.licence.try_into().map_err(|_| Error::<T>::BadLicence)?,
			})
		}

		/// Checks a call's rules and converts them for storage.
		pub fn bound_rules(input: RulesInputOf<T>) -> Result<RulesOf<T>, Error<T>> {
			ensure!(!input.curators.is_empty(), Error::<T>::NoCurators);
			let curators: BoundedVec<_, T::MaxCurators> =
				input.curators.try_into().map_err(|_| Error::<T>::TooManyCurators)?;
			for (i, curator) in curators.iter().enumerate() {
				ensure!(
					!curators.iter().skip(i.saturating_add(1)).any(|c| c == curator),
					Error::<T>::DuplicateCurator
				);
			}
			ensure!(
				input.approvals_needed >= 1 && input.approvals_needed as usize <= curators.len(),
				Error::<T>::InvalidApprovalThreshold
			);
			ensure!(!input.accepted_formats.is_empty(), Error::<T>::NoFormats);
			ensure!(
				input.accepted_formats.len() <= T::MaxFormats::get() as usize,
				Error::<T>::BadFormats
			);
			let mut formats = input.accepted_formats;
			formats.sort();
			let before = formats.len();
			formats.dedup();
			ensure!(formats.len() == before, Error::<T>::BadFormats);
			ensure!(
				input.max_contribution_size > 0
					&& input.max_contribution_size <= T::MaxContributionSize::get(),
				Error::<T>::InvalidSizeLimit
			);
			ensure!(
				input.contribution_deposit >= T::MinContributionDeposit::get(),
				Error::<T>::DepositTooLow
			);
			Ok(Rules {
				contribution_deposit: input.contribution_deposit,
				max_contribution_size: input.max_contribution_size,
				accepted_formats: formats.try_into().map_err(|_| Error::<T>::BadFormats)?,
				curators,
				approvals_needed: input.approvals_needed,
			})
		}

		/// Checks a call's storage endpoints and validation rules and converts them for storage.
		pub fn bound_services(
			endpoints: Vec<Vec<u8>>,
			validation: Option<ValidationRules<BalanceOf<T>>>,
		) -> Result<ServicesOf<T>, Error<T>> {
			ensure!(
				endpoints.len() <= T::MaxEndpoints::get() as usize,
				Error::<T>::TooManyEndpoints
			);
			let endpoints = endpoints
				.into_iter()
				.map(|url| {
					ensure!(pallet_compute::is_http_url(&url), Error::<T>::BadEndpoint);
					BoundedVec::try_from(url).map_err(|_| Error::<T>::BadEndpoint)
				})
				.collect::<Result<Vec<_>, _>>()?;
			ensure!(
				validation.is_none() || !endpoints.is_empty(),
				Error::<T>::ValidationWithoutEndpoint
			);
			ensure!(
				validation.as_ref().is_none_or(|v| v.fee >= T::Jobs::min_fee()),
				Error::<T>::ValidationFeeTooLow
			);
			Ok(Services {
				endpoints: endpoints.try_into().map_err(|_| Error::<T>::TooManyEndpoints)?,
				validation,
			})
		}

		/// The deposit a datanet with this metadata, these rules and these services holds.
		pub fn datanet_deposit(
			metadata: &MetadataOf<T>,
			rules: &RulesOf<T>,
			services: Option<&ServicesOf<T>>,
		) -> BalanceOf<T> {
			let bytes = metadata
				.encoded_size()
				.saturating_add(rules.encoded_size())
				.saturating_add(services.map_or(0, |s| s.encoded_size()));
			let bytes: BalanceOf<T> = (bytes as u32).into();
			T::DatanetDepositBase::get()
				.saturating_add(T::DatanetDepositPerByte::get().saturating_mul(bytes))
		}

		/// Holds more from, or releases to, the owner so that the deposit fits the datanet's size.
		fn adjust_deposit(
			info: &mut DatanetOf<T>,
			services: Option<&ServicesOf<T>>,
		) -> DispatchResult {
			let new = Self::datanet_deposit(&info.metadata, &info.rules, services);
			let reason = HoldReason::DatanetDeposit.into();
			if new > info.deposit {
				T::Currency::hold(&reason, &info.owner, new.saturating_sub(info.deposit))?;
			} else if new < info.deposit {
				T::Currency::release(
					&reason,
					&info.owner,
					info.deposit.saturating_sub(new),
					Precision::Exact,
				)?;
			}
			info.deposit = new;
			Ok(())
		}

		/// Creates the validation job of a new contribution if its datanet asks for one (`validation`,
		/// as `contribute` read it).
		fn request_validation(
			datanet: DatanetId,
			contribution: ContributionId,
			contributor: &T::AccountId,
			validation: Option<ValidationRules<BalanceOf<T>>>,
		) -> DispatchResult {
			let Some(rules) = validation else { return Ok(()) };
			let payload = ValidationRequest { datanet, contribution }.encode();
			let state = match T::Jobs::create(
				contributor,
				JobKind::ContributionValidation,
				payload,
				rules.fee,
				T::ValidationDuration::get(),
			)? {
				Some(job) => {
					Self::deposit_event(Event::ValidationRequested { datanet, contribution, job });
					ValidationState::Requested { job }
				},
				None => {
					Self::deposit_event(Event::ValidationUnavailable { datanet, contribution });
					ValidationState::Unavailable
				},
			};
			Validations::<T>::insert(datanet, contribution, state);
			Ok(())
		}

		/// Records a validation job's report on its contribution and rejects the contribution
		/// if it failed and the datanet rejects such contributions automatically. A report for
		/// a contribution that is gone, or whose validation is another job's, is ignored.
		fn record_validation(job: JobId, payload: &[u8], result: &[u8]) -> DispatchResult {
			use codec::DecodeAll;
			let ValidationRequest { datanet, contribution } =
				ValidationRequest::decode_all(&mut &payload[..])
					.map_err(|_| Error::<T>::BadValidationPayload)?;
			let report = ValidationReport::decode_all(&mut &result[..])
				.map_err(|_| Error::<T>::BadValidationReport)?;
			ensure!(report.score <= 100, Error::<T>::BadValidationReport);
			if Validations::<T>::get(datanet, contribution)
				!= Some(ValidationState::Requested { job })
			{
				return Ok(());
			}
			let (outcome, score, reason) = (report.outcome, report.score, report.reason.clone());
			let at = frame_system::Pallet::<T>::block_number();
			Validations::<T>::insert(datanet, contribution, ValidationState::Done { report, at });
			Self::deposit_event(Event::Validated { datanet, contribution, outcome, score, reason });
			if !outcome.condemns() {
				return Ok(());
			}
			let auto_reject = DatanetServices::<T>::get(datanet)
				.and_then(|s| s.validation)
				.is_some_and(|v| v.auto_reject);
			let Some(mut info) = Datanets::<T>::get(datanet) else { return Ok(()) };
			let Some(item) = Contributions::<T>::get(datanet, contribution) else { return Ok(()) };
			if auto_reject && matches!(item.status, ContributionStatus::Pending { .. }) {
				Self::reject(
					datanet,
					&mut info,
					contribution,
					item,
					RejectReason::FailedValidation,
				)?;
				Datanets::<T>::insert(datanet, info);
			}
			Ok(())
		}

		/// The part of a contribution's deposit `held` that stays held for its record once it is
		/// accepted: [`Config::MinContributionDeposit`], or all of it if less.
		fn record_deposit(held: BalanceOf<T>) -> BalanceOf<T> {
			held.min(T::MinContributionDeposit::get())
		}

		/// Counts one contribution of `who` in `datanet` as no longer recorded, applying `f` to
		/// both of its reputation records; a record left with nothing recorded is removed.
		fn unrecord(datanet: DatanetId, who: &T::AccountId, f: impl Fn(&mut Reputation)) {
			let update = |record: &mut Option<Reputation>| {
				let mut r = record.take().unwrap_or_default();
				f(&mut r);
				r.stored = r.stored.saturating_sub(1);
				*record = (r.stored > 0).then_some(r);
			};
			Contributors::<T>::mutate_exists(who, update);
			DatanetReputation::<T>::mutate_exists(datanet, who, update);
		}

		/// Removes entries of [`RateLimitUsage`] of periods that are over, within `remaining` weight.
		/// Returns the weight used.
		pub fn prune_usage(remaining: Weight) -> Weight {
			let db = T::DbWeight::get();
			let base = db.reads_writes(1, 1);
			let oldest = OldestUsagePeriod::<T>::get();
			if oldest >= Self::current_period() || remaining.any_lt(base) {
				return Weight::zero();
			}
			// A removal writes one key and proves the trie path to it.
			let per_entry = db.writes(1).saturating_add(Weight::from_parts(0, 128));
			let limit = remaining
				.saturating_sub(base)
				.checked_div_per_component(&per_entry)
				.unwrap_or(0)
				.min(u64::from(u32::MAX)) as u32;
			if limit == 0 {
				return Weight::zero();
			}
			let removed = RateLimitUsage::<T>::clear_prefix(oldest, limit, None);
			if removed.maybe_cursor.is_none() {
				OldestUsagePeriod::<T>::put(oldest.saturating_add(1));
			}
			// Every key visited costs, whether it was removed now or earlier in this block.
			base.saturating_add(per_entry.saturating_mul(removed.loops.max(removed.unique).into()))
		}

		/// The index of the current rate-limit period.
		fn current_period() -> u32 {
			let now = frame_system::Pallet::<T>::block_number();
			let period = T::RateLimitPeriod::get();
			if period.is_zero() {
				return 0;
			}
			(now / period).unique_saturated_into()
		}

		/// Sends `share` of `held` from `who`'s contribution hold to the rewards pot and releases
		/// the rest. Returns what was slashed and what returned.
		fn settle_deposit(
			who: &T::AccountId,
			held: BalanceOf<T>,
			share: Perbill,
		) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
			let reason = HoldReason::ContributionDeposit.into();
			let slash = share.mul_floor(held);
			let slashed = if slash.is_zero() {
				Zero::zero()
			} else {
				T::Currency::transfer_on_hold(
					&reason,
					who,
					&T::RewardsPot::get(),
					slash,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?
			};
			let rest = held.saturating_sub(slashed);
			if !rest.is_zero() {
				T::Currency::release(&reason, who, rest, Precision::Exact)?;
			}
			Ok((slashed, rest))
		}

		fn accept(
			datanet: DatanetId,
			info: &mut DatanetOf<T>,
			contribution: ContributionId,
			item: &mut ContributionOf<T>,
		) -> DispatchResult {
			let position = info.accepted;
			info.accepted = position.checked_add(1).ok_or(Error::<T>::Overflow)?;
			info.pending = info.pending.saturating_sub(1);
			Trees::<T>::try_mutate(datanet, |tree| tree.append(item.content_hash))
				.map_err(|_| Error::<T>::Overflow)?;
			AcceptedBytes::<T>::mutate(datanet, |bytes| *bytes = bytes.saturating_add(item.size));
			Accepted::<T>::insert(datanet, position, contribution);
			item.status = ContributionStatus::Accepted {
				position,
				at: frame_system::Pallet::<T>::block_number(),
			};
			Contributors::<T>::mutate(&item.contributor, |r| {
				r.accepted = r.accepted.saturating_add(1)
			});
			DatanetReputation::<T>::mutate(datanet, &item.contributor, |r| {
				r.accepted = r.accepted.saturating_add(1)
			});
			Self::deposit_event(Event::Accepted { datanet, contribution, position });
			Ok(())
		}

		fn reject(
			datanet: DatanetId,
			info: &mut DatanetOf<T>,
			contribution: ContributionId,
			item: ContributionOf<T>,
			reason: RejectReason,
		) -> DispatchResult {
			info.pending = info.pending.saturating_sub(1);
			let (slashed, returned) =
				Self::settle_deposit(&item.contributor, item.deposit, T::RejectionSlash::get())?;
			Contributions::<T>::remove(datanet, contribution);
			ContentIndex::<T>::remove(datanet, item.content_hash);
			Validations::<T>::remove(datanet, contribution);
			Self::unrecord(datanet, &item.contributor, |r| {
				r.rejected = r.rejected.saturating_add(1)
			});
			Self::deposit_event(Event::Rejected {
				datanet,
				contribution,
				reason,
				slashed,
				returned,
			});
			Ok(())
		}

		/// Up to `limit` (at most [`MAX_PAGE`]) entries of a version's contribution list, from
		/// position `start`. Empty for an unknown version or a start past its end.
		pub fn version_page(
			datanet: DatanetId,
			version: VersionId,
			start: u32,
			limit: u32,
		) -> Vec<VersionEntry> {
			let Some(record) = Versions::<T>::get(datanet, version) else { return Vec::new() };
			let end = start.saturating_add(limit.min(MAX_PAGE)).min(record.contributions);
			(start..end)
				.filter_map(|position| {
					let contribution = Accepted::<T>::get(datanet, position)?;
					let item = Contributions::<T>::get(datanet, contribution)?;
					Some(VersionEntry {
						position,
						contribution,
						content_hash: item.content_hash,
						size: item.size,
					})
				})
				.collect()
		}

		/// An account's reputation across datanets and what it contributed in the current
		/// rate-limit period.
		pub fn contributor_record(who: &T::AccountId) -> ContributorRecord {
			let period = Self::current_period();
			let PeriodUsage { count, bytes } = RateLimitUsage::<T>::get(period, who);
			ContributorRecord {
				reputation: Contributors::<T>::get(who),
				usage: Usage { period, count, bytes },
			}
		}

		/// The content hashes of a version's contributions in order: its Merkle leaves.
		pub fn version_leaves(datanet: DatanetId, version: VersionId) -> Option<Vec<H256>> {
			let record = Versions::<T>::get(datanet, version)?;
			(0..record.contributions)
				.map(|position| {
					let contribution = Accepted::<T>::get(datanet, position)?;
					Contributions::<T>::get(datanet, contribution).map(|c| c.content_hash)
				})
				.collect()
		}

		/// The Merkle proof that the contribution at `position` belongs to a version.
		pub fn version_proof(
			datanet: DatanetId,
			version: VersionId,
			position: u32,
		) -> Option<Vec<H256>> {
			merkle::proof(&Self::version_leaves(datanet, version)?, position)
		}

		/// Checks the pallet's invariants:
		/// - each datanet's counters match its records: pending, accepted (and the Merkle tree's
		///   size), versions, with version sizes never decreasing;
		/// - the content index and the contributions point at each other;
		/// - what is held from each account for each reason equals the deposits of the datanets it
		///   owns, of its live contributions and of its commitments;
		/// - each reputation record counts the contributions still recorded, and none is kept
		///   for an account that has none.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut datanet_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut contribution_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut stored: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let next = NextDatanetId::<T>::get();
			for (id, info) in Datanets::<T>::iter() {
				ensure!(id < next, "datanet id at or above NextDatanetId");
				let entry = datanet_deposits.entry(info.owner.clone()).or_default();
				*entry = entry.saturating_add(info.deposit);
				let mut pending = 0u32;
				let mut stored_here: BTreeMap<T::AccountId, u32> = BTreeMap::new();
				for (cid, item) in Contributions::<T>::iter_prefix(id) {
					let here = stored_here.entry(item.contributor.clone()).or_default();
					*here = here.saturating_add(1);
					ensure!(cid < info.contributions, "contribution id at or above the counter");
					ensure!(
						ContentIndex::<T>::get(id, item.content_hash) == Some(cid),
						"contribution missing from the content index"
					);
					match &item.status {
						ContributionStatus::Pending { .. } => pending = pending.saturating_add(1),
						ContributionStatus::Accepted { position, .. }
						| ContributionStatus::Slashed { position, .. } => ensure!(
							Accepted::<T>::get(id, position) == Some(cid),
							"accepted contribution not at its position"
						),
					}
					let entry = contribution_deposits.entry(item.contributor.clone()).or_default();
					*entry = entry.saturating_add(item.deposit);
				}
				ensure!(pending == info.pending, "pending counter differs from the records");
				ensure!(
					DatanetReputation::<T>::iter_prefix(id).count() == stored_here.len(),
					"a datanet reputation record without a contribution"
				);
				for (who, count) in stored_here {
					ensure!(
						DatanetReputation::<T>::get(id, &who).stored == count,
						"datanet reputation counts the wrong contributions"
					);
					let all = stored.entry(who).or_default();
					*all = all.saturating_add(count);
				}
				for (cid, _) in Validations::<T>::iter_prefix(id) {
					ensure!(
						Contributions::<T>::contains_key(id, cid),
						"validation state without its contribution"
					);
				}

				ensure!(
					Accepted::<T>::iter_prefix(id).count() == info.accepted as usize,
					"accepted counter differs from the acceptance order"
				);
				ensure!(Trees::<T>::get(id).count == info.accepted, "tree size differs");
				for (hash, cid) in ContentIndex::<T>::iter_prefix(id) {
					ensure!(
						Contributions::<T>::get(id, cid).map(|c| c.content_hash) == Some(hash),
						"content index entry without its contribution"
					);
				}
				let mut last = 0u32;
				ensure!(
					Versions::<T>::iter_prefix(id).count() == info.versions as usize,
					"version counter differs from the versions"
				);
				for v in 0..info.versions {
					let version = Versions::<T>::get(id, v).ok_or("missing version")?;
					ensure!(version.contributions >= last, "a version shrank");
					ensure!(version.contributions <= info.accepted, "a version exceeds acceptance");
					last = version.contributions;
				}
			}
			for (who, held) in datanet_deposits {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::DatanetDeposit.into(), &who) == held,
					"datanet deposits held differ from the datanets owned"
				);
			}
			ensure!(
				Contributors::<T>::iter().count() == stored.len(),
				"a reputation record without a contribution"
			);
			for (who, count) in stored {
				ensure!(
					Contributors::<T>::get(&who).stored == count,
					"reputation counts the wrong contributions"
				);
			}
			let mut commitment_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (who, _, commitment) in Commitments::<T>::iter() {
				let entry = commitment_deposits.entry(who).or_default();
				*entry = entry.saturating_add(commitment.deposit);
			}
			for (who, held) in commitment_deposits {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::CommitmentDeposit.into(), &who)
						== held,
					"commitment deposits held differ from the commitments"
				);
			}
			for (who, held) in contribution_deposits {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ContributionDeposit.into(), &who)
						== held,
					"contribution deposits held differ from live contributions"
				);
			}
			Ok(())
		}
	}

	impl<T: Config> JobConsumer for Pallet<T> {
		fn on_result(job: JobId, kind: JobKind, payload: &[u8], result: &[u8]) -> DispatchResult {
			match kind {
				JobKind::ContributionValidation => Self::record_validation(job, payload, result),
				_ => Ok(()),
			}
		}

		fn on_abandoned(job: JobId, kind: JobKind, payload: &[u8]) {
			use codec::DecodeAll;
			if kind != JobKind::ContributionValidation {
				return;
			}
			let Ok(ValidationRequest { datanet, contribution }) =
				ValidationRequest::decode_all(&mut &payload[..])
			else {
				return;
			};
			if Validations::<T>::get(datanet, contribution)
				== Some(ValidationState::Requested { job })
			{
				Validations::<T>::insert(datanet, contribution, ValidationState::Unavailable);
				Self::deposit_event(Event::ValidationUnavailable { datanet, contribution });
			}
		}

		fn on_result_weight() -> Weight {
			T::WeightInfo::validation_result()
		}

		fn on_abandoned_weight() -> Weight {
			T::DbWeight::get().reads_writes(1, 1)
		}
	}
}
