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
//! [`Config::MaxOpenJobsPerAccount`] open jobs, so that the deadline buckets cannot be filled
//! cheaply by jobs paid to one's own provider.
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
//! - Jobs: [`Pallet::create_job`] (any account, public kinds), [`Pallet::accept_job`],
//!   [`Pallet::submit_result`], [`Pallet::fail_job`] (the assigned provider).
//!
//! ## Other pallets
//!
//! [`JobMarket`] creates jobs for the runtime (the datanets pallet asks for contribution
//! validation this way); [`Config::Consumer`] receives their results and abandonments.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod mock;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
pub mod traits;
pub mod types;
pub mod weights;

pub use traits::{JobConsumer, JobMarket};

/// Whether `url` is an `http://` or `https://` URL with a host, of printable ASCII: what an
/// endpoint of a provider or a datanet's storage must be.
pub fn is_http_url(url: &[u8]) -> bool {
	(url.starts_with(b"http://") || url.starts_with(b"https://"))
		&& url.len() > "https://".len()
		&& url.iter().all(|b| b.is_ascii_graphic())
}
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
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation, Restriction},
			Defensive,
		},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{AccountIdConversion, Saturating, Zero},
		Perbill,
	};

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
	pub type OpenJobsOf<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Where the next assignment of each kind starts looking in [`ProvidersByKind`].
	#[pallet::storage]
	pub type Cursors<T> = StorageMap<_, Twox64Concat, JobKind, u32, ValueQuery>;

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
			result: Vec<u8>,
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
		/// More offers than `MaxOffers`, or a kind offered twice.
		BadOffers,
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
		/// The duration is outside `MinJobDuration..=MaxJobDuration`.
		BadDuration,
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
		/// `EndpointTooLong`, `BadEndpoint`, `ZeroConcurrency`, `NoOffers`, `BadOffers`,
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
			ensure!(!Providers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
			ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
			let (endpoint, offers) = Self::bound_input(&input)?;
			T::Currency::hold(&HoldReason::ProviderBond.into(), &who, bond)?;
			let provider = Provider {
				bond,
				endpoint,
				hardware: input.hardware,
				concurrency: input.concurrency,
				offers,
				status: ProviderStatus::Active,
				jobs: 0,
				reliability: Reliability::default(),
				registered_at: frame_system::Pallet::<T>::block_number(),
				slashed_at: None,
			};
			Self::activate(&who, &provider)?;
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderRegistered { provider: who, bond });
			Ok(())
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
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			let (endpoint, offers) = Self::bound_input(&input)?;
			let active = provider.status == ProviderStatus::Active;
			let old = core::mem::replace(&mut provider.offers, offers);
			provider.endpoint = endpoint;
			provider.hardware = input.hardware;
			provider.concurrency = input.concurrency;
			if active {
				Self::relist(&who, &old, &provider)?;
			}
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderUpdated { provider: who });
			Ok(())
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
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			T::Currency::hold(&HoldReason::ProviderBond.into(), &who, amount)?;
			provider.bond = provider.bond.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			let bond = provider.bond;
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::BondIncreased { provider: who, bond });
			Ok(())
		}

		/// Stops the caller getting new jobs; it finishes those it has.
		///
		/// The origin must be an active provider. Emits [`Event::ProviderPaused`]. Errors:
		/// `NotRegistered`, `NotActive`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::pause())]
		pub fn pause(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(provider.status == ProviderStatus::Active, Error::<T>::NotActive);
			Self::deactivate(&who, &provider);
			provider.status = ProviderStatus::Paused;
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderPaused { provider: who });
			Ok(())
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
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(provider.status == ProviderStatus::Paused, Error::<T>::NotPaused);
			ensure!(provider.bond >= T::MinBond::get(), Error::<T>::BondTooLow);
			provider.status = ProviderStatus::Active;
			Self::activate(&who, &provider)?;
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderResumed { provider: who });
			Ok(())
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
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			match provider.status {
				ProviderStatus::Leaving { .. } => return Err(Error::<T>::AlreadyLeaving.into()),
				ProviderStatus::Active => Self::deactivate(&who, &provider),
				ProviderStatus::Paused => {},
			}
			let unbonds_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			provider.status = ProviderStatus::Leaving { unbonds_at };
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderLeaving { provider: who, unbonds_at });
			Ok(())
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
			let provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			let ProviderStatus::Leaving { unbonds_at } = provider.status else {
				return Err(Error::<T>::NotLeaving.into());
			};
			ensure!(
				frame_system::Pallet::<T>::block_number() >= unbonds_at,
				Error::<T>::StillUnbonding
			);
			ensure!(provider.jobs == 0, Error::<T>::HasJobs);
			T::Currency::release(
				&HoldReason::ProviderBond.into(),
				&who,
				provider.bond,
				Precision::BestEffort,
			)?;
			Providers::<T>::remove(&who);
			Self::deposit_event(Event::ProviderLeft { provider: who, bond: provider.bond });
			Ok(())
		}

		/// Creates a job of a public kind, escrows `fee` from the caller and assigns the job.
		///
		/// `requirements` is the least hardware it needs; `duration` the blocks a provider has, after
		/// the accept window, to post the result. The fee (at least [`Config::MinJobFee`]) moves
		/// into the escrow account by a transfer that respects the caller's locks and freezes.
		///
		/// The origin must be signed and pay for fewer than [`Config::MaxOpenJobsPerAccount`]
		/// open jobs. Emits [`Event::JobCreated`] and [`Event::JobAssigned`]. Errors:
		/// `KindNotPublic`, `PayloadTooLong`, `BadDuration`, `FeeTooLow`, `TooManyOpenJobs`,
		/// `NoProviderAvailable` (nothing is held), `Congested`, `Overflow`, or the currency's
		/// error (`FundsUnavailable` for locked or missing OPEN). Complexity: one read of the
		/// kind's list and at most `MaxScan` provider reads.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::create_job())]
		pub fn create_job(
			origin: OriginFor<T>,
			kind: JobKind,
			payload: Vec<u8>,
			requirements: Hardware,
			fee: BalanceOf<T>,
			duration: BlockNumberFor<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(kind.is_public(), Error::<T>::KindNotPublic);
			Self::do_create(&who, Requester::Account, kind, payload, requirements, fee, duration)?
				.ok_or(Error::<T>::NoProviderAvailable)?;
			Ok(())
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
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			let JobStatus::Assigned { provider, price, result_by, .. } = &info.status else {
				ensure!(info.status.provider() == &who, Error::<T>::NotAssignee);
				return Err(Error::<T>::AlreadyAccepted.into());
			};
			ensure!(provider == &who, Error::<T>::NotAssignee);
			let (price, until) = (*price, *result_by);
			Self::unschedule(job, info.status.until());
			info.status = JobStatus::Accepted { provider: who.clone(), price, until };
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobAccepted { job, provider: who, until });
			Ok(())
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
			ensure!(result.len() <= T::MaxResultLength::get() as usize, Error::<T>::ResultTooLong);
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.status.provider() == &who, Error::<T>::NotAssignee);
			let JobStatus::Accepted { price, until, .. } = info.status else {
				return Err(Error::<T>::NotAccepted.into());
			};
			if info.requester == Requester::Runtime {
				T::Consumer::on_result(job, info.kind, &info.payload, &result)?;
			}
			let paid = Self::pay_from_escrow(&who, price)?;
			let refunded = Self::refund(&info.owner, info.fee.saturating_sub(paid))?;
			Self::unschedule(job, until);
			Self::end_for_owner(&info.owner);
			Self::end_for_provider(job, &who, |r| r.completed = r.completed.saturating_add(1));
			Jobs::<T>::remove(job);
			Self::deposit_event(Event::JobCompleted { job, provider: who, paid, refunded, result });
			Ok(())
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
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.status.provider() == &who, Error::<T>::NotAssignee);
			Self::unschedule_all(job, &info.status);
			Self::end_for_provider(job, &who, |r| r.failed = r.failed.saturating_add(1));
			Self::deposit_event(Event::JobFailed { job, provider: who });
			Self::reassign(job, info);
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks a call's provider declaration and converts it for storage.
		fn bound_input(
			input: &ProviderInputOf<T>,
		) -> Result<(EndpointOf<T>, OffersOf<T>), Error<T>> {
			let endpoint: EndpointOf<T> =
				input.endpoint.clone().try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
			ensure!(is_http_url(&input.endpoint), Error::<T>::BadEndpoint);
			ensure!(input.concurrency > 0, Error::<T>::ZeroConcurrency);
			ensure!(!input.offers.is_empty(), Error::<T>::NoOffers);
			// Bounded before it is sorted: the call's weight covers `MaxOffers` offers only.
			let offers: BoundedVec<_, T::MaxOffers> =
				input.offers.clone().try_into().map_err(|_| Error::<T>::BadOffers)?;
			let mut kinds: Vec<JobKind> = offers.iter().map(|o| o.kind).collect();
			kinds.sort();
			kinds.dedup();
			ensure!(kinds.len() == offers.len(), Error::<T>::BadOffers);
			Ok((endpoint, offers))
		}

		/// What a slot in a kind's list costs when `listed` providers are in it already:
		/// [`Config::ListingFee`] doubled for every eighth of [`Config::MaxProvidersPerKind`]
		/// taken, so 1x for the first eighth and 128x for the last.
		pub fn listing_fee(listed: u32) -> BalanceOf<T> {
			let eighths = listed
				.saturating_mul(8)
				.checked_div(T::MaxProvidersPerKind::get())
				.unwrap_or(0)
				.min(7);
			let factor: BalanceOf<T> = (1u32 << eighths).into();
			T::ListingFee::get().saturating_mul(factor)
		}

		/// Lists an active provider under each kind it offers, with its price and hardware,
		/// charging the listing fee for each slot it takes.
		fn activate(who: &T::AccountId, provider: &ProviderOf<T>) -> DispatchResult {
			for offer in &provider.offers {
				Self::list(who, offer, provider.hardware)?;
			}
			Ok(())
		}

		/// Takes a slot for `who` in the list of `offer`'s kind, charging the listing fee, or
		/// updates its price and hardware if it has one.
		fn list(
			who: &T::AccountId,
			offer: &Offer<BalanceOf<T>>,
			hardware: Hardware,
		) -> DispatchResult {
			ProvidersByKind::<T>::try_mutate(offer.kind, |list| {
				if let Some(listing) = list.iter_mut().find(|l| &l.provider == who) {
					listing.price = offer.price;
					listing.hardware = hardware;
					return Ok(());
				}
				let fee = Self::listing_fee(list.len() as u32);
				let listing = Listing { provider: who.clone(), price: offer.price, hardware };
				list.try_push(listing).map_err(|_| Error::<T>::TooManyProviders)?;
				if !fee.is_zero() {
					T::Currency::transfer(
						who,
						&T::SlashBeneficiary::get(),
						fee,
						Preservation::Preserve,
					)?;
				}
				Self::deposit_event(Event::Listed { provider: who.clone(), kind: offer.kind, fee });
				Ok(())
			})
		}

		/// Brings an active provider's listings from the kinds of `old` offers to its current
		/// ones: slots of kinds still offered are kept (and updated), others are left, and new
		/// kinds are listed for the fee.
		fn relist(
			who: &T::AccountId,
			old: &OffersOf<T>,
			provider: &ProviderOf<T>,
		) -> DispatchResult {
			for gone in old.iter().filter(|o| !provider.offers.iter().any(|n| n.kind == o.kind)) {
				ProvidersByKind::<T>::mutate(gone.kind, |list| list.retain(|l| &l.provider != who));
			}
			Self::activate(who, provider)
		}

		/// Takes a provider off the lists of the kinds it offers.
		fn deactivate(who: &T::AccountId, provider: &ProviderOf<T>) {
			for offer in &provider.offers {
				ProvidersByKind::<T>::mutate(offer.kind, |list| {
					list.retain(|l| &l.provider != who)
				});
			}
		}

		/// The account that holds the fees of open jobs. It has no key, and exists from its
		/// first job on through a provider reference, so that it can hold fees without a free
		/// balance of its own.
		pub fn escrow_account() -> T::AccountId {
			T::PalletId::get().into_account_truncating()
		}

		/// Pays `amount` out of the escrow to `to` as free balance; returns what was paid.
		fn pay_from_escrow(
			to: &T::AccountId,
			amount: BalanceOf<T>,
		) -> Result<BalanceOf<T>, DispatchError> {
			if amount.is_zero() {
				return Ok(Zero::zero());
			}
			T::Currency::transfer_on_hold(
				&HoldReason::JobEscrow.into(),
				&Self::escrow_account(),
				to,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)
		}

		/// Returns `amount` of a job's fee to its `owner`. An owner that emptied and so closed its
		/// account after paying cannot take less than the existential deposit; then the amount
		/// goes to [`Config::SlashBeneficiary`], so that an owner cannot make the provider's pay,
		/// which comes in the same call, fail. Returns what the owner got.
		fn refund(
			owner: &T::AccountId,
			amount: BalanceOf<T>,
		) -> Result<BalanceOf<T>, DispatchError> {
			use frame_support::traits::tokens::{DepositConsequence, Provenance};
			if T::Currency::can_deposit(owner, amount, Provenance::Extant)
				== DepositConsequence::Success
			{
				return Self::pay_from_escrow(owner, amount);
			}
			Self::pay_from_escrow(&T::SlashBeneficiary::get(), amount)?;
			Ok(Zero::zero())
		}

		/// Counts a job of `owner`'s as ended.
		fn end_for_owner(owner: &T::AccountId) {
			OpenJobsOf::<T>::mutate_exists(owner, |open| {
				*open = open.map(|n| n.saturating_sub(1)).filter(|n| *n > 0);
			});
		}

		/// Creates a job, holds its fee and assigns it. `Ok(None)` when no provider can take
		/// it: then nothing was held or written.
		pub fn do_create(
			owner: &T::AccountId,
			requester: Requester,
			kind: JobKind,
			payload: Vec<u8>,
			requirements: Hardware,
			fee: BalanceOf<T>,
			duration: BlockNumberFor<T>,
		) -> Result<Option<JobId>, DispatchError> {
			let payload: BoundedVec<u8, T::MaxPayloadLength> =
				payload.try_into().map_err(|_| Error::<T>::PayloadTooLong)?;
			ensure!(
				duration >= T::MinJobDuration::get() && duration <= T::MaxJobDuration::get(),
				Error::<T>::BadDuration
			);
			ensure!(fee >= T::MinJobFee::get(), Error::<T>::FeeTooLow);
			let open = OpenJobsOf::<T>::get(owner);
			ensure!(open < T::MaxOpenJobsPerAccount::get(), Error::<T>::TooManyOpenJobs);
			let id = NextJobId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
			let Some((provider, price, cursor)) = Self::select(kind, &requirements, fee, &[])
			else {
				return Ok(None);
			};
			let escrow = Self::escrow_account();
			if !frame_system::Pallet::<T>::account_exists(&escrow) {
				frame_system::Pallet::<T>::inc_providers(&escrow);
			}
			// A transfer, not a hold on the owner's account: it respects the owner's freezes and
			// locks (see "Escrow" in the crate docs), and keeps the owner's account alive.
			T::Currency::transfer_and_hold(
				&HoldReason::JobEscrow.into(),
				owner,
				&escrow,
				fee,
				Precision::Exact,
				Preservation::Preserve,
				Fortitude::Polite,
			)?;
			OpenJobsOf::<T>::insert(owner, open.saturating_add(1));
			let now = frame_system::Pallet::<T>::block_number();
			let mut job = Job {
				kind,
				owner: owner.clone(),
				requester,
				payload,
				requirements,
				fee,
				duration,
				created_at: now,
				// Replaced by the assignment below.
				status: JobStatus::Assigned {
					provider: provider.clone(),
					price,
					until: Zero::zero(),
					result_by: Zero::zero(),
				},
				tried: BoundedVec::new(),
			};
			NextJobId::<T>::put(next);
			Self::deposit_event(Event::JobCreated { job: id, kind, owner: owner.clone(), fee });
			Self::assign(id, &mut job, provider, price, cursor)?;
			Jobs::<T>::insert(id, job);
			Ok(Some(id))
		}

		/// The first provider, round-robin from the kind's cursor, that meets `requirements`, asks
		/// at most `fee`, is not in `excluded` and is free; with its price and the cursor's next
		/// value.
		///
		/// Price and hardware come from the kind's list, so every listed provider is considered
		/// for one read of it; only providers that pass them are read in full to see whether they
		/// are free, at most `MaxScan` of them. So a provider that can never be assigned costs a
		/// job nothing, and busy ones can only be parked ahead of an eligible provider by keeping
		/// them busy with real jobs, which they must accept and complete or be slashed.
		fn select(
			kind: JobKind,
			requirements: &Hardware,
			fee: BalanceOf<T>,
			excluded: &[T::AccountId],
		) -> Option<(T::AccountId, BalanceOf<T>, u32)> {
			let list = ProvidersByKind::<T>::get(kind);
			let len = list.len() as u32;
			if len == 0 {
				return None;
			}
			let start = Cursors::<T>::get(kind).checked_rem(len).unwrap_or(0);
			(0..len)
				.filter_map(|i| {
					let index = start.saturating_add(i).checked_rem(len).unwrap_or(0);
					let listing = list.get(index as usize)?;
					let candidate = listing.hardware.meets(requirements)
						&& listing.price <= fee
						&& !excluded.contains(&listing.provider);
					candidate.then_some((index, listing))
				})
				.take(T::MaxScan::get() as usize)
				.find_map(|(index, listing)| {
					let provider = Providers::<T>::get(&listing.provider)?;
					let free = provider.status == ProviderStatus::Active
						&& provider.jobs < provider.concurrency;
					free.then(|| {
						let next = index.saturating_add(1).checked_rem(len).unwrap_or(0);
						(listing.provider.clone(), listing.price, next)
					})
				})
		}

		/// Assigns `job` to `provider`: schedules its accept deadline, counts it against the
		/// provider and queues its delivery.
		fn assign(
			id: JobId,
			job: &mut JobOf<T>,
			provider: T::AccountId,
			price: BalanceOf<T>,
			cursor: u32,
		) -> DispatchResult {
			let now = frame_system::Pallet::<T>::block_number();
			let until = Self::schedule(id, now.saturating_add(T::AcceptWindow::get()))?;
			// The result's deadline is reserved now, so that accepting never finds the buckets
			// full: otherwise anyone who filled them could make honest providers miss accepts.
			let result_by = Self::schedule(id, until.saturating_add(job.duration))?;
			job.tried.try_push(provider.clone()).map_err(|_| Error::<T>::Overflow)?;
			job.status =
				JobStatus::Assigned { provider: provider.clone(), price, until, result_by };
			Providers::<T>::try_mutate(&provider, |p| {
				let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
				p.jobs = p.jobs.checked_add(1).ok_or(Error::<T>::Overflow)?;
				Ok::<_, Error<T>>(())
			})?;
			ProviderJobs::<T>::insert(&provider, id, ());
			Cursors::<T>::insert(job.kind, cursor);
			Self::deposit_event(Event::JobAssigned { job: id, provider, price, until });
			Ok(())
		}

		/// Puts `job` in the deadline bucket of `at`, or of the first of the next
		/// [`DEADLINE_SLIP`] blocks with room; returns the block used.
		fn schedule(job: JobId, at: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
			let mut block = at;
			for _ in 0..=DEADLINE_SLIP {
				if Deadlines::<T>::try_append(block, job).is_ok() {
					return Ok(block);
				}
				block = block.saturating_add(1u32.into());
			}
			Err(Error::<T>::Congested.into())
		}

		/// Takes `job` out of every deadline bucket its status holds it in.
		fn unschedule_all(job: JobId, status: &JobStatusOf<T>) {
			Self::unschedule(job, status.until());
			if let JobStatus::Assigned { result_by, .. } = status {
				Self::unschedule(job, *result_by);
			}
		}

		fn unschedule(job: JobId, at: BlockNumberFor<T>) {
			Deadlines::<T>::mutate_exists(at, |bucket| {
				if let Some(jobs) = bucket {
					jobs.retain(|j| *j != job);
					if jobs.is_empty() {
						*bucket = None;
					}
				}
			});
		}

		/// Takes an ended or abandoned assignment off the provider: its job count and job list,
		/// and records the outcome in its reliability.
		fn end_for_provider(job: JobId, who: &T::AccountId, record: impl FnOnce(&mut Reliability)) {
			Providers::<T>::mutate(who, |p| {
				if let Some(p) = p {
					p.jobs = p.jobs.saturating_sub(1);
					record(&mut p.reliability);
				}
			});
			ProviderJobs::<T>::remove(who, job);
		}

		/// Times out `job` if its deadline is `now`: slashes its provider and reassigns it.
		fn time_out(job: JobId, now: BlockNumberFor<T>) {
			let Some(info) = Jobs::<T>::get(job) else { return };
			if info.status.until() != now {
				return;
			}
			// Its bucket for `now` is gone already; this also frees a reserved result deadline.
			Self::unschedule_all(job, &info.status);
			let who = info.status.provider().clone();
			Self::end_for_provider(job, &who, |r| r.timed_out = r.timed_out.saturating_add(1));
			Self::slash(&who, job);
			Self::deposit_event(Event::JobTimedOut { job, provider: who });
			Self::reassign(job, info);
		}

		/// Sends [`Config::TimeoutSlash`] of a provider's bond to the beneficiary; pauses it if
		/// what is left is below the minimum.
		///
		/// A provider is slashed at most once per [`Config::SlashCooldown`]: an outage makes all
		/// of a provider's open jobs miss their deadlines at about the same time, and should cost
		/// it one slash, not its whole bond. Every miss still counts in its reliability, and the
		/// first one pauses a provider left below the minimum bond, so it gets no new jobs.
		fn slash(who: &T::AccountId, job: JobId) {
			let Some(mut provider) = Providers::<T>::get(who) else { return };
			let now = frame_system::Pallet::<T>::block_number();
			if provider
				.slashed_at
				.is_some_and(|at| now < at.saturating_add(T::SlashCooldown::get()))
			{
				return;
			}
			provider.slashed_at = Some(now);
			let share = T::TimeoutSlash::get().mul_floor(provider.bond);
			let amount = if share.is_zero() {
				Zero::zero()
			} else {
				T::Currency::transfer_on_hold(
					&HoldReason::ProviderBond.into(),
					who,
					&T::SlashBeneficiary::get(),
					share,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)
				.unwrap_or_else(|_| Zero::zero())
			};
			provider.bond = provider.bond.saturating_sub(amount);
			let bond = provider.bond;
			if provider.status == ProviderStatus::Active && bond < T::MinBond::get() {
				Self::deactivate(who, &provider);
				provider.status = ProviderStatus::Paused;
				Self::deposit_event(Event::ProviderPaused { provider: who.clone() });
			}
			Providers::<T>::insert(who, provider);
			Self::deposit_event(Event::ProviderSlashed {
				provider: who.clone(),
				job,
				amount,
				bond,
			});
		}

		/// Gives a job whose provider failed or timed out to the next eligible provider, or
		/// abandons it.
		fn reassign(id: JobId, mut job: JobOf<T>) {
			if job.tried.len() >= T::MaxAttempts::get() as usize {
				return Self::abandon(id, job, AbandonReason::AttemptsExhausted);
			}
			let Some((provider, price, cursor)) =
				Self::select(job.kind, &job.requirements, job.fee, &job.tried)
			else {
				return Self::abandon(id, job, AbandonReason::NoProvider);
			};
			match Self::assign(id, &mut job, provider, price, cursor) {
				Ok(()) => Jobs::<T>::insert(id, job),
				Err(_) => Self::abandon(id, job, AbandonReason::NoProvider),
			}
		}

		/// Ends a job without a result and refunds its fee.
		fn abandon(id: JobId, job: JobOf<T>, reason: AbandonReason) {
			let refunded = Self::refund(&job.owner, job.fee)
				.defensive_proof("the escrow holds the fee of every open job")
				.unwrap_or_else(|_| Zero::zero());
			Self::end_for_owner(&job.owner);
			Jobs::<T>::remove(id);
			if job.requester == Requester::Runtime {
				T::Consumer::on_abandoned(id, job.kind, &job.payload);
			}
			Self::deposit_event(Event::JobAbandoned { job: id, reason, refunded });
		}

		/// Checks the pallet's invariants:
		/// - the escrow account holds the fees of the open jobs, and each account's open-job
		///   count is the number of open jobs it owns;
		/// - the bond held from each provider equals its recorded bond;
		/// - each provider's job count equals its open jobs, and [`ProviderJobs`] lists exactly
		///   the open jobs by their provider;
		/// - every open job sits in the deadline bucket of its `until` (an assigned one also in
		///   the bucket of its reserved `result_by`, which comes later), was assigned to its
		///   current provider last, and has an id below [`NextJobId`];
		/// - only active providers are listed under the kinds, and only under kinds they offer.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut fees = BalanceOf::<T>::zero();
			let mut owned: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let mut jobs_of: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let next = NextJobId::<T>::get();
			for (id, job) in Jobs::<T>::iter() {
				ensure!(id < next, "job id at or above NextJobId");
				fees = fees.saturating_add(job.fee);
				let count = owned.entry(job.owner.clone()).or_default();
				*count = count.saturating_add(1);
				let provider = job.status.provider();
				ensure!(job.tried.last() == Some(provider), "current provider not tried last");
				ensure!(job.status.price() <= job.fee, "price above the fee");
				ensure!(
					ProviderJobs::<T>::contains_key(provider, id),
					"open job missing from its provider's list"
				);
				ensure!(
					Deadlines::<T>::get(job.status.until()).contains(&id),
					"open job missing from its deadline bucket"
				);
				if let JobStatus::Assigned { until, result_by, .. } = job.status {
					ensure!(result_by > until, "result deadline not after the accept deadline");
					ensure!(
						Deadlines::<T>::get(result_by).contains(&id),
						"assigned job missing from its reserved result bucket"
					);
				}
				let count = jobs_of.entry(provider.clone()).or_default();
				*count = count.saturating_add(1);
			}
			ensure!(
				T::Currency::balance_on_hold(
					&HoldReason::JobEscrow.into(),
					&Self::escrow_account()
				) == fees,
				"escrow held differs from the open jobs' fees"
			);
			ensure!(
				OpenJobsOf::<T>::iter().collect::<BTreeMap<_, _>>() == owned,
				"open-job counts differ from the jobs owned"
			);
			ensure!(
				ProviderJobs::<T>::iter().count() == Jobs::<T>::iter().count(),
				"provider job lists differ from the open jobs"
			);
			for (who, provider) in Providers::<T>::iter() {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ProviderBond.into(), &who)
						== provider.bond,
					"bond held differs from the provider's bond"
				);
				ensure!(
					jobs_of.get(&who).copied().unwrap_or(0) == provider.jobs,
					"provider job count differs from its open jobs"
				);
			}
			for (kind, list) in ProvidersByKind::<T>::iter() {
				for listing in list {
					let provider =
						Providers::<T>::get(&listing.provider).ok_or("listed provider unknown")?;
					ensure!(provider.status == ProviderStatus::Active, "listed provider inactive");
					ensure!(
						provider.offers.iter().any(|o| o.kind == kind && o.price == listing.price),
						"provider listed under a kind or price it does not offer"
					);
					ensure!(listing.hardware == provider.hardware, "listed hardware is stale");
				}
			}
			Ok(())
		}
	}

	impl<T: Config> JobMarket<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
		fn create(
			owner: &T::AccountId,
			kind: JobKind,
			payload: Vec<u8>,
			fee: BalanceOf<T>,
			duration: BlockNumberFor<T>,
		) -> Result<Option<JobId>, DispatchError> {
			// The caller goes on without a job when the market cannot take one now, so nothing a
			// failed attempt wrote may stay.
			let created = frame_support::storage::with_storage_layer(|| {
				Self::do_create(
					owner,
					Requester::Runtime,
					kind,
					payload,
					Hardware::default(),
					fee,
					duration,
				)
			});
			let unavailable =
				[Error::<T>::Congested, Error::<T>::TooManyOpenJobs, Error::<T>::FeeTooLow];
			match created {
				Err(e) if unavailable.into_iter().any(|u| e == u.into()) => Ok(None),
				other => other,
			}
		}

		fn create_weight() -> Weight {
			T::WeightInfo::create_job()
		}

		fn min_fee() -> BalanceOf<T> {
			T::MinJobFee::get()
		}
	}
}
