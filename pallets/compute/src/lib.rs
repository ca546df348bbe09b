//! # Compute pallet
//!
//! The market in which registered compute providers do the chain's off-chain work: validating
//! contributions, training models, serving inference.
//!
//! ## Overview
//!
//! A **provider** registers with a bond of at least [`Config::MinBond`], held from its account,
//! the base URL of its HTTP API, its hardware, how many jobs it runs at once and its offers: the
//! job kinds it runs and the price of each. It can change these, add to its bond, pause, and
//! leave: after [`Config::UnbondingPeriod`] blocks, once its last job ended, it withdraws its bond.
//! Each slot it takes in a kind's list of providers costs a [listing fee](Pallet::listing_fee)
//! that doubles with every eighth of the list taken, so that filling a kind's list to lock others
//! out costs far more than taking a slot to work.
//!
//! A **job** has a kind, a payload, the least hardware it needs, a fee (the most it pays, at least
//! [`Config::MinJobFee`]) and a duration. It is created **assigned**: the pallet walks the list of
//! active providers offering its kind round-robin from where the previous assignment of that kind
//! stopped, and takes the first one that meets the hardware, asks no more than the fee, was not
//! tried for this job before and is free (fewer jobs than its concurrency). No randomness is
//! involved, so every node computes the same choice. A job no active provider can take is refused
//! (or, for the runtime's own jobs, reported as such, see [`JobMarket`]).
//!
//! ### Escrow
//!
//! The fee moves out of the owner's account into the pallet's escrow account
//! ([`Pallet::escrow_account`]), where it is held under [`HoldReason::JobEscrow`] until the job
//! ends. It moves as an ordinary transfer that respects every freeze and lock: OPEN that is
//! vesting or locked by a conviction vote cannot pay a job, because the price paid to the
//! provider would turn it into someone else's free balance. Once in escrow the fee no longer
//! belongs to the owner, so nothing the owner locks later can stand in the way of the provider's
//! pay. Only slashes (a provider's missed deadline) move funds regardless of freezes.
//!
//! ### Fair assignment
//!
//! Each kind's list ([`ProvidersByKind`]) carries every listed provider's price and hardware, so
//! one read of it finds every provider that could take a job; only those are read in full to see
//! whether they are free, at most [`Config::MaxScan`] of them. Providers that can never take a job
//! (a price above any fee, impossible hardware) are skipped at no cost and cannot stand between a
//! job and an eligible provider, wherever the cursor is.
//!
//! ### Limits against spam
//!
//! Jobs cost at least [`Config::MinJobFee`] in escrow and an account has at most
//! [`Config::MaxOpenJobsPerAccount`] open jobs. Jobs an account creates may take only the first
//! [`Config::MaxPublicDeadlinesPerBlock`] places of a block's deadline bucket: jobs paid to one's
//! own provider, with hardware only it declares, cost their owner nothing but fees, and must
//! not be able to fill the buckets ahead so that the runtime's validations and training
//! requests find no room.
//!
//! Kinds whose results a pallet consumes (validation, training) are created by that pallet
//! only ([`JobKind::is_public`]): a training job comes with the access fees its datanets are
//! owed and hyperparameters checked against their bounds, and a provider can rely on both.
//!
//! The assigned provider **accepts** it within [`Config::AcceptWindow`] blocks, then posts the
//! **result** before the end of the accept window plus the job's duration: both deadlines are
//! reserved in the deadline buckets at assignment, so that accepting never fails for lack of
//! room. On a result the provider is paid its price from the
//! escrow and the rest returns to the owner. A provider may give a job up (**fail**); one that
//! misses a deadline is **timed out**: [`Config::TimeoutSlash`] of its bond goes to
//! [`Config::SlashBeneficiary`], and if its bond falls below the minimum it is paused. Either way its
//! reliability record counts it and the job is **reassigned** to another provider, up to
//! [`Config::MaxAttempts`] providers in all; then, or when no other provider is free, the job is
//! **abandoned** and its whole fee refunded.
//!
//! Deadlines sit in per-block buckets of at most [`Config::MaxDeadlinesPerBlock`] jobs, which
//! `on_initialize` empties, so no hook walks an unbounded set.
//!
//! ### Finding work
//!
//! Providers watch the chain: a provider's daemon follows the new blocks and reads
//! [`ProviderJobs`] for its own account, which lists every open job assigned to it.
//!
//! Validators do not contact providers. An offchain worker that posted assignments to each
//! provider's registered endpoint would make every validator's node send requests to whatever
//! URL anyone registers for a bond: its own loopback services, its operator's private network,
//! URLs whose query or fragment neutralises the path, endpoints that hang for the whole deadline.
//! No check the runtime can make rules this out (a host name may resolve to any address at the
//! moment of the request), so the chain keeps endpoints only for clients to read.
//!
//! ## Dispatchable functions
//!
//! - Providers: [`Pallet::register`], [`Pallet::update`], [`Pallet::bond_extra`],
//!   [`Pallet::pause`], [`Pallet::resume`], [`Pallet::leave`], [`Pallet::withdraw_bond`].
//! - Jobs: [`Pallet::create_job`] (any account, public kinds: inference), [`Pallet::accept_job`],
//!   [`Pallet::submit_result`], [`Pallet::fail_job`] (the assigned provider).
//!
//! ## Other pallets
//!
//! [`JobMarket`] creates jobs for the runtime (the datanets pallet asks for contribution
//! validation this way); [`Config::Consumer`] receives their results and abandonments. Both
//! traits, with [`JobId`] and [`JobKind`], live in `openledger-primitives`, so that a pallet that
//! asks for work depends on the interface and not on this pallet.
//!
//! ## Code
//!
//! Each call in this file checks its origin and calls a `do_*` function of `src/features/`:
//! `provider.rs` (registration, listing fees, slashes), `job.rs` (escrow, deadlines, results,
//! the [`JobMarket`] implementation), `assignment.rs` (the round-robin choice);
//! `features/try_state.rs` holds the invariants.
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
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod mock;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
pub mod types;
pub mod weights;

pub use openledger_primitives::{is_http_url, Creation, JobConsumer, JobId, JobKind, JobMarket};
pub use types::*;
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
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{traits::Zero, Perbill};

	/// The balance type of the currency bonds and fees are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A provider's endpoint as stored.
	pub type EndpointOf<T> = BoundedVec<u8, <T as Config>::MaxEndpointLength>;
	/// A provider's stored offers.
	pub type OffersOf<T> = BoundedVec<Offer<BalanceOf<T>>, <T as Config>::MaxOffers>;
	/// A stored provider.
	pub type ProviderOf<T> = Provider<
		BalanceOf<T>,
		BlockNumberFor<T>,
		EndpointOf<T>,
		BoundedVec<Offer<BalanceOf<T>>, <T as Config>::MaxOffers>,
	>;
	/// What a call declares of a provider.
	pub type ProviderInputOf<T> = ProviderInput<BalanceOf<T>>;
	/// An entry of a kind's provider list.
	pub type ListingOf<T> = Listing<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A job's status.
	pub type JobStatusOf<T> =
		JobStatus<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A stored job.
	pub type JobOf<T> = Job<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		BoundedVec<u8, <T as Config>::MaxPayloadLength>,
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxAttempts>,
	>;

	/// How many later blocks a deadline may slip to when its own block's bucket is full.
	pub const DEADLINE_SLIP: u32 = 16;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency bonds and fees are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Receives the results of the jobs the runtime created through [`JobMarket`].
		type Consumer: JobConsumer;

		/// Receives slashed bonds.
		#[pallet::constant]
		type SlashBeneficiary: Get<Self::AccountId>;

		/// Derives the escrow account that holds the fees of open jobs.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The least fee of a job; at least the currency's existential deposit.
		#[pallet::constant]
		type MinJobFee: Get<BalanceOf<Self>>;

		/// The most open jobs one account pays for at once.
		#[pallet::constant]
		type MaxOpenJobsPerAccount: Get<u32>;

		/// The least bond of an active provider.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// The share of its bond a provider loses for a missed deadline.
		#[pallet::constant]
		type TimeoutSlash: Get<Perbill>;

		/// How long after a slash further missed deadlines of the same provider cost it nothing
		/// more than their count in its reliability.
		#[pallet::constant]
		type SlashCooldown: Get<BlockNumberFor<Self>>;

		/// How long a leaving provider's bond stays held.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// How long an assigned provider has to accept a job.
		#[pallet::constant]
		type AcceptWindow: Get<BlockNumberFor<Self>>;

		/// The shortest duration a job may ask for.
		#[pallet::constant]
		type MinJobDuration: Get<BlockNumberFor<Self>>;

		/// The longest duration a job may ask for.
		#[pallet::constant]
		type MaxJobDuration: Get<BlockNumberFor<Self>>;

		/// The longest endpoint URL in bytes.
		#[pallet::constant]
		type MaxEndpointLength: Get<u32>;

		/// The most offers a provider makes: at most one per job kind.
		#[pallet::constant]
		type MaxOffers: Get<u32>;

		/// The most active providers offering one kind.
		#[pallet::constant]
		type MaxProvidersPerKind: Get<u32>;

		/// What a provider pays [`Config::SlashBeneficiary`] for a slot in the list of a kind
		/// that is empty; the price doubles with every eighth of [`Config::MaxProvidersPerKind`]
		/// already taken (see [`Pallet::listing_fee`]), so that filling a kind's list to lock
		/// honest providers out costs far more than taking a slot to work.
		#[pallet::constant]
		type ListingFee: Get<BalanceOf<Self>>;

		/// The most providers one assignment reads in full: those that meet the job's hardware and
		/// price but may be busy.
		#[pallet::constant]
		type MaxScan: Get<u32>;

		/// The most providers one job is assigned to, the first included.
		#[pallet::constant]
		type MaxAttempts: Get<u32>;

		/// The longest job payload in bytes.
		#[pallet::constant]
		type MaxPayloadLength: Get<u32>;

		/// The longest job result in bytes.
		#[pallet::constant]
		type MaxResultLength: Get<u32>;

		/// The most deadlines that fall in one block.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// The most deadlines of jobs that accounts created (public kinds) that fall in one
		/// block: a public job joins a bucket only while it holds fewer deadlines than this, so
		/// that the rest of every bucket stays free for the runtime's jobs. At most
		/// [`Config::MaxDeadlinesPerBlock`].
		#[pallet::constant]
		type MaxPublicDeadlinesPerBlock: Get<u32>;

		/// The weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond.
		ProviderBond,
		/// A job's fee, in the escrow account, until the job ends.
		JobEscrow,
	}

	// Hashers: job ids, which the chain assigns in sequence, job kinds and block numbers are keyed
	// with `Twox64Concat`: no one chooses them, so no one can grind keys into one corner of the
	// trie, and twox is the cheaper hash. Accounts, which callers choose, are keyed with
	// `Blake2_128Concat`.

	/// Every registered provider.
	#[pallet::storage]
	pub type Providers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ProviderOf<T>>;

	/// The active providers offering each kind, in registration order, with their price for the
	/// kind and their hardware.
	#[pallet::storage]
	pub type ProvidersByKind<T: Config> = StorageMap<
		_,
		Twox64Concat,
		JobKind,
		BoundedVec<ListingOf<T>, T::MaxProvidersPerKind>,
		ValueQuery,
	>;

	/// How many open jobs each account pays for. Accounts with none have no entry.
	#[pallet::storage]
	pub type OpenJobCount<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Where the next assignment of each kind starts looking in [`ProvidersByKind`].
	#[pallet::storage]
	pub type AssignmentCursor<T> = StorageMap<_, Twox64Concat, JobKind, u32, ValueQuery>;

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Every open job. Ended jobs are removed; their outcome is in the events.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// The open jobs of each provider, so that a provider finds its work without scanning.
	#[pallet::storage]
	pub type ProviderJobs<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, JobId, ()>;

	/// The jobs whose provider is late from each block on.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered and its bond was held.
		ProviderRegistered { provider: T::AccountId, bond: BalanceOf<T> },
		/// A provider changed its endpoint, hardware, concurrency or offers.
		ProviderUpdated { provider: T::AccountId },
		/// A provider took a slot in the list of `kind` and paid `fee` for it.
		Listed { provider: T::AccountId, kind: JobKind, fee: BalanceOf<T> },
		/// A provider added to its bond; `bond` is what is now held.
		BondIncreased { provider: T::AccountId, bond: BalanceOf<T> },
		/// A provider stopped taking new jobs.
		ProviderPaused { provider: T::AccountId },
		/// A paused provider takes new jobs again.
		ProviderResumed { provider: T::AccountId },
		/// A provider is leaving; its bond can be withdrawn from `unbonds_at`.
		ProviderLeaving { provider: T::AccountId, unbonds_at: BlockNumberFor<T> },
		/// A provider left and its bond was released.
		ProviderLeft { provider: T::AccountId, bond: BalanceOf<T> },
		/// A provider missed a deadline of `job` and lost `amount`; `bond` is what is left.
		ProviderSlashed {
			provider: T::AccountId,
			job: JobId,
			amount: BalanceOf<T>,
			bond: BalanceOf<T>,
		},
		/// A job was created and its fee held from its owner.
		JobCreated { job: JobId, kind: JobKind, owner: T::AccountId, fee: BalanceOf<T> },
		/// A job was assigned to `provider` at `price`, to be accepted before block `until`.
		JobAssigned {
			job: JobId,
			provider: T::AccountId,
			price: BalanceOf<T>,
			until: BlockNumberFor<T>,
		},
		/// The assigned provider accepted a job, to post its result before block `until`.
		JobAccepted { job: JobId, provider: T::AccountId, until: BlockNumberFor<T> },
		/// A job's provider posted its result and was paid `paid`; `refunded` went back to the
		/// owner.
		JobCompleted {
			job: JobId,
			provider: T::AccountId,
			paid: BalanceOf<T>,
			refunded: BalanceOf<T>,
			result: BoundedVec<u8, T::MaxResultLength>,
		},
		/// A job's provider gave it up.
		JobFailed { job: JobId, provider: T::AccountId },
		/// A job's provider missed its deadline.
		JobTimedOut { job: JobId, provider: T::AccountId },
		/// A job ended without a result and its whole fee went back to its owner.
		JobAbandoned { job: JobId, reason: AbandonReason, refunded: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a provider.
		AlreadyRegistered,
		/// The account is not a provider.
		NotRegistered,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// The endpoint is not an `http://` or `https://` URL of printable ASCII.
		BadEndpoint,
		/// The endpoint is longer than `MaxEndpointLength`.
		EndpointTooLong,
		/// The provider offers no job kind.
		NoOffers,
		/// More offers than `MaxOffers`.
		TooManyOffers,
		/// A job kind is offered twice.
		DuplicateOffer,
		/// The concurrency is zero.
		ZeroConcurrency,
		/// `MaxProvidersPerKind` active providers already offer one of the kinds.
		TooManyProviders,
		/// The provider is not active.
		NotActive,
		/// The provider is not paused.
		NotPaused,
		/// The provider is already leaving.
		AlreadyLeaving,
		/// The provider is not leaving.
		NotLeaving,
		/// The unbonding period has not ended.
		StillUnbonding,
		/// The provider still has open jobs.
		HasJobs,
		/// Jobs of this kind are created by the runtime only.
		KindNotPublic,
		/// The payload is longer than `MaxPayloadLength`.
		PayloadTooLong,
		/// The result is longer than `MaxResultLength`.
		ResultTooLong,
		/// The duration is below `MinJobDuration`.
		DurationTooShort,
		/// The duration is above `MaxJobDuration`.
		DurationTooLong,
		/// No active provider is free to take the job at this fee.
		NoProviderAvailable,
		/// No open job has this id.
		UnknownJob,
		/// The job is not assigned to the caller.
		NotAssignee,
		/// The job was already accepted.
		AlreadyAccepted,
		/// The job was not accepted yet.
		NotAccepted,
		/// The deadline buckets of the coming blocks are full.
		Congested,
		/// The fee is below `MinJobFee`.
		FeeTooLow,
		/// The account already pays for `MaxOpenJobsPerAccount` open jobs.
		TooManyOpenJobs,
		/// A counter would overflow.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Times out the jobs whose deadline is this block.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now);
			let count = due.len() as u32;
			for job in due {
				Self::time_out(job, now);
			}
			T::WeightInfo::on_initialize(count)
				.saturating_add(T::Consumer::on_abandoned_weight().saturating_mul(u64::from(count)))
		}

		fn integrity_test() {
			assert!(T::MaxScan::get() > 0, "MaxScan must not be zero");
			assert!(T::MaxAttempts::get() > 0, "MaxAttempts must not be zero");
			assert!(T::MaxOffers::get() > 0, "MaxOffers must not be zero");
			assert!(!T::AcceptWindow::get().is_zero(), "AcceptWindow must not be zero");
			assert!(!T::MinJobDuration::get().is_zero(), "MinJobDuration must not be zero");
			assert!(
				T::MinJobDuration::get() <= T::MaxJobDuration::get(),
				"MinJobDuration above MaxJobDuration"
			);
			// The escrow account lives on the provider reference `escrow_account` gives it and on
			// its holds; each fee it receives must still be a valid deposit on its own.
			assert!(
				T::MinJobFee::get() >= T::Currency::minimum_balance(),
				"MinJobFee below the existential deposit"
			);
			assert!(T::MaxOpenJobsPerAccount::get() > 0, "MaxOpenJobsPerAccount must not be zero");
			assert!(
				T::MaxPublicDeadlinesPerBlock::get() <= T::MaxDeadlinesPerBlock::get(),
				"MaxPublicDeadlinesPerBlock above MaxDeadlinesPerBlock"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a provider and holds `bond` (at least [`Config::MinBond`]).
		/// It is active at once, listed under every kind it offers, for each of which it pays
		/// the [listing fee](Pallet::listing_fee) from its free balance.
		///
		/// The origin must be signed. `input` declares the endpoint (an `http(s)://` URL of at most
		/// `MaxEndpointLength` bytes), hardware, concurrency (at least 1) and offers (1 to
		/// `MaxOffers`, each kind once).
		///
		/// Emits [`Event::Listed`] per kind and [`Event::ProviderRegistered`]. Errors:
		/// `AlreadyRegistered`, `BondTooLow`,
		/// `EndpointTooLong`, `BadEndpoint`, `ZeroConcurrency`, `NoOffers`, `TooManyOffers`, `DuplicateOffer`,
		/// `TooManyProviders`, or the currency's error when the bond cannot be held.
		/// Complexity: O(`MaxOffers` x `MaxProvidersPerKind`) to list it.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			input: ProviderInputOf<T>,
			bond: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(who, input, bond)
		}

		/// Replaces the caller's endpoint, hardware, concurrency and offers. Open jobs keep the
		/// price they were assigned at. An active provider keeps its slot, with the new price and
		/// hardware, in the lists of the kinds it still offers, leaves the others, and pays the
		/// listing fee for the kinds it adds.
		///
		/// The origin must be a registered provider. Emits [`Event::ProviderUpdated`]. Errors:
		/// `NotRegistered` and those of [`Pallet::register`]'s declaration.
		/// Complexity: O(`MaxOffers` x `MaxProvidersPerKind`).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update())]
		pub fn update(origin: OriginFor<T>, input: ProviderInputOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update(who, input)
		}

		/// Holds `amount` more as the caller's bond, for example to get back above the minimum
		/// after a slash.
		///
		/// The origin must be a registered provider. Emits [`Event::BondIncreased`]. Errors:
		/// `NotRegistered`, `Overflow`, or the currency's error when it cannot be held.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond_extra(who, amount)
		}

		/// Stops the caller getting new jobs; it finishes those it has.
		///
		/// The origin must be an active provider. Emits [`Event::ProviderPaused`]. Errors:
		/// `NotRegistered`, `NotActive`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::pause())]
		pub fn pause(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_pause(who)
		}

		/// Makes a paused provider active again; its bond must be at least [`Config::MinBond`].
		/// It takes its slots again, paying the listing fee for each.
		///
		/// The origin must be a paused provider. Emits [`Event::ProviderResumed`]. Errors:
		/// `NotRegistered`, `NotPaused`, `BondTooLow`, `TooManyProviders`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_resume(who)
		}

		/// Starts the caller's unbonding: it gets no new jobs, and may withdraw its bond after
		/// [`Config::UnbondingPeriod`] blocks once its open jobs ended.
		///
		/// The origin must be a registered provider. Emits [`Event::ProviderLeaving`]. Errors:
		/// `NotRegistered`, `AlreadyLeaving`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::leave())]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_leave(who)
		}

		/// Releases a leaving provider's bond once the unbonding period is over and it has no
		/// open job, and removes its record.
		///
		/// The origin must be a leaving provider. Emits [`Event::ProviderLeft`]. Errors:
		/// `NotRegistered`, `NotLeaving`, `StillUnbonding`, `HasJobs`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw_bond())]
		pub fn withdraw_bond(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_bond(who)
		}

		/// Creates a job of a public kind, escrows `fee` from the caller and assigns the job.
		///
		/// `requirements` is the least hardware it needs; `duration` the blocks a provider has, after
		/// the accept window, to post the result. The fee (at least [`Config::MinJobFee`]) moves
		/// into the escrow account by a transfer that respects the caller's locks and freezes.
		///
		/// The origin must be signed and pay for fewer than [`Config::MaxOpenJobsPerAccount`]
		/// open jobs. Emits [`Event::JobCreated`] and [`Event::JobAssigned`]. Errors:
		/// `KindNotPublic`, `PayloadTooLong`, `DurationTooShort`, `DurationTooLong`, `FeeTooLow`, `TooManyOpenJobs`,
		/// `NoProviderAvailable` (nothing is held), `Congested`, `Overflow`, or the currency's
		/// error (`FundsUnavailable` for locked or missing OPEN). Complexity: one read of the
		/// kind's list, at most `MaxScan` provider reads and at most `2 * DEADLINE_SLIP` full
		/// deadline buckets skipped.
		///
		/// Weight: declared for the worst case; a job created charges only for the providers
		/// read and the buckets skipped.
		#[pallet::call_index(7)]
		#[pallet::weight(<Pallet<T> as JobMarket<_, _, _>>::create_weight())]
		pub fn create_job(
			origin: OriginFor<T>,
			kind: JobKind,
			payload: Vec<u8>,
			requirements: Hardware,
			fee: BalanceOf<T>,
			duration: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_create_job(who, kind, payload, requirements, fee, duration)
		}

		/// The assigned provider accepts a job; it must post the result before the deadline
		/// reserved when the job was assigned (the end of the accept window plus the job's
		/// duration). Accepting schedules nothing, so it cannot fail for full deadline buckets.
		///
		/// The origin must be the job's assigned provider. Emits [`Event::JobAccepted`]. Errors:
		/// `UnknownJob`, `NotAssignee`, `AlreadyAccepted`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::accept_job())]
		pub fn accept_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_accept_job(who, job)
		}

		/// The provider of an accepted job posts its result and is paid its price from the
		/// escrow; the rest of the fee returns to the job's owner. For the runtime's jobs the
		/// result must satisfy [`Config::Consumer`].
		///
		/// The origin must be the job's provider, the job accepted and `result` at most
		/// `MaxResultLength` bytes. Emits [`Event::JobCompleted`]. Errors: `ResultTooLong`,
		/// `UnknownJob`, `NotAssignee`, `NotAccepted`, or the consumer's refusal (the provider is
		/// not paid and the job stays open).
		#[pallet::call_index(9)]
		#[pallet::weight(
			T::WeightInfo::submit_result(result.len() as u32)
				.saturating_add(T::Consumer::on_result_weight())
		)]
		pub fn submit_result(origin: OriginFor<T>, job: JobId, result: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_result(who, job, result)
		}

		/// The assigned provider gives a job up. Its record counts a failure; the job goes to
		/// another provider or, if none is left, is abandoned and refunded.
		///
		/// The origin must be the job's provider. Emits [`Event::JobFailed`], then
		/// [`Event::JobAssigned`] or [`Event::JobAbandoned`]. Errors: `UnknownJob`,
		/// `NotAssignee`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::fail_job().saturating_add(T::Consumer::on_abandoned_weight()))]
		pub fn fail_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_fail_job(who, job)
		}
	}
}
