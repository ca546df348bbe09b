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
//!
//! A **job** has a kind, a payload, the least hardware it needs, a fee held from its owner as
//! escrow (the most it pays) and a duration. It is created **assigned**: the pallet walks the list
//! of active providers offering its kind round-robin from where the previous assignment of that
//! kind stopped, and takes the first one that is free (fewer jobs than its concurrency), meets the
//! hardware, asks no more than the fee and was not tried for this job before. No randomness is
//! involved, so every node computes the same choice, and at most [`Config::MaxScan`] providers are
//! looked at. A job no active provider can take is refused (or, for the runtime's own jobs,
//! reported as such, see [`JobMarket`]).
//!
//! The assigned provider **accepts** it within [`Config::AcceptWindow`] blocks, then posts the
//! **result** within the job's duration. On a result the provider is paid its price from the
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
//! ### Delivery
//!
//! The offchain worker of every validator posts each provider the jobs assigned to it in a block,
//! in one message to `{endpoint}/v1/jobs/notify`: `{"jobs": [<id>, ...], "block": <number>}`, with a
//! deadline and a bounded number of attempts; a node delivers each assignment once. The message is only a nudge: a
//! provider reads the job from chain state, and [`ProviderJobs`] lists all of its jobs, so a
//! forged, lost or repeated message changes nothing.
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
mod offchain;
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

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill,
	};

	/// The balance type of the currency bonds and fees are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A provider's endpoint as stored.
	pub type EndpointOf<T> = BoundedVec<u8, <T as Config>::MaxEndpointLength>;
	/// A stored provider.
	pub type ProviderOf<T> = Provider<
		BalanceOf<T>,
		BlockNumberFor<T>,
		EndpointOf<T>,
		BoundedVec<Offer<BalanceOf<T>>, <T as Config>::MaxOffers>,
	>;
	/// What a call declares of a provider.
	pub type ProviderInputOf<T> = ProviderInput<BalanceOf<T>>;
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

		/// The least bond of an active provider.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// The share of its bond a provider loses for each missed deadline.
		#[pallet::constant]
		type TimeoutSlash: Get<Perbill>;

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

		/// The most providers one assignment looks at.
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

		/// The most assignments one block delivers.
		#[pallet::constant]
		type MaxAssignmentsPerBlock: Get<u32>;

		/// The weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond.
		ProviderBond,
		/// A job's fee, from its owner, until the job ends.
		JobEscrow,
	}

	/// Every registered provider.
	#[pallet::storage]
	pub type Providers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ProviderOf<T>>;

	/// The active providers offering each kind, in registration order.
	#[pallet::storage]
	pub type ProvidersByKind<T: Config> = StorageMap<
		_,
		Twox64Concat,
		JobKind,
		BoundedVec<T::AccountId, T::MaxProvidersPerKind>,
		ValueQuery,
	>;

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

	/// The jobs assigned in the current block, for the offchain workers to deliver. Emptied at
	/// the start of each block.
	#[pallet::storage]
	pub type Assignments<T: Config> =
		StorageValue<_, BoundedVec<JobId, T::MaxAssignmentsPerBlock>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered and its bond was held.
		ProviderRegistered { provider: T::AccountId, bond: BalanceOf<T> },
		/// A provider changed its endpoint, hardware, concurrency or offers.
		ProviderUpdated { provider: T::AccountId },
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
		/// A counter would overflow.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Times out the jobs whose deadline is this block, and forgets the previous block's
		/// assignments (its offchain workers have run).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Assignments::<T>::kill();
			let due = Deadlines::<T>::take(now);
			let count = due.len() as u32;
			for job in due {
				Self::time_out(job, now);
			}
			T::WeightInfo::on_initialize(count)
				.saturating_add(T::Consumer::on_abandoned_weight().saturating_mul(u64::from(count)))
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			offchain::deliver_assignments::<T>(now);
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
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a provider and holds `bond` (at least [`Config::MinBond`]).
		/// It is active at once.
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
			};
			Self::activate(&who, &provider)?;
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderRegistered { provider: who, bond });
			Ok(())
		}

		/// Replaces the caller's endpoint, hardware, concurrency and offers. Open jobs keep the
		/// price they were assigned at.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update())]
		pub fn update(origin: OriginFor<T>, input: ProviderInputOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			let (endpoint, offers) = Self::bound_input(&input)?;
			let active = provider.status == ProviderStatus::Active;
			if active {
				Self::deactivate(&who, &provider);
			}
			provider.endpoint = endpoint;
			provider.hardware = input.hardware;
			provider.concurrency = input.concurrency;
			provider.offers = offers;
			if active {
				Self::activate(&who, &provider)?;
			}
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ProviderUpdated { provider: who });
			Ok(())
		}

		/// Holds `amount` more as the caller's bond, for example to get back above the minimum
		/// after a slash.
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

		/// Creates a job of a public kind, holds `fee` from the caller and assigns the job.
		///
		/// `requirements` is the least hardware it needs; `duration` the blocks a provider has to
		/// post the result once it accepted. Fails with `NoProviderAvailable`, holding nothing,
		/// when no active provider is free to take it for at most `fee`.
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

		/// The assigned provider accepts a job; it then has the job's duration to post the
		/// result.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::accept_job())]
		pub fn accept_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			let JobStatus::Assigned { provider, price, until } = &info.status else {
				ensure!(info.status.provider() == &who, Error::<T>::NotAssignee);
				return Err(Error::<T>::AlreadyAccepted.into());
			};
			ensure!(provider == &who, Error::<T>::NotAssignee);
			let price = *price;
			Self::unschedule(job, *until);
			let now = frame_system::Pallet::<T>::block_number();
			let until = Self::schedule(job, now.saturating_add(info.duration))?;
			info.status = JobStatus::Accepted { provider: who.clone(), price, until };
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobAccepted { job, provider: who, until });
			Ok(())
		}

		/// The provider of an accepted job posts its result and is paid its price from the
		/// escrow; the rest of the fee returns to the job's owner. For the runtime's jobs the
		/// result must satisfy [`Config::Consumer`].
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
			let reason = HoldReason::JobEscrow.into();
			let paid = if price.is_zero() {
				Zero::zero()
			} else {
				T::Currency::transfer_on_hold(
					&reason,
					&info.owner,
					&who,
					price,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?
			};
			let refunded = info.fee.saturating_sub(paid);
			if !refunded.is_zero() {
				T::Currency::release(&reason, &info.owner, refunded, Precision::Exact)?;
			}
			Self::unschedule(job, until);
			Self::end_for_provider(job, &who, |r| r.completed = r.completed.saturating_add(1));
			Jobs::<T>::remove(job);
			Self::deposit_event(Event::JobCompleted { job, provider: who, paid, refunded, result });
			Ok(())
		}

		/// The assigned provider gives a job up. Its record counts a failure; the job goes to
		/// another provider or, if none is left, is abandoned and refunded.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::fail_job().saturating_add(T::Consumer::on_abandoned_weight()))]
		pub fn fail_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.status.provider() == &who, Error::<T>::NotAssignee);
			Self::unschedule(job, info.status.until());
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
		) -> Result<(EndpointOf<T>, BoundedVec<Offer<BalanceOf<T>>, T::MaxOffers>), Error<T>> {
			let endpoint: EndpointOf<T> =
				input.endpoint.clone().try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
			ensure!(is_http_url(&input.endpoint), Error::<T>::BadEndpoint);
			ensure!(input.concurrency > 0, Error::<T>::ZeroConcurrency);
			ensure!(!input.offers.is_empty(), Error::<T>::NoOffers);
			let mut kinds: Vec<JobKind> = input.offers.iter().map(|o| o.kind).collect();
			kinds.sort();
			kinds.dedup();
			ensure!(kinds.len() == input.offers.len(), Error::<T>::BadOffers);
			let offers = input.offers.clone().try_into().map_err(|_| Error::<T>::BadOffers)?;
			Ok((endpoint, offers))
		}

		/// Lists an active provider under each kind it offers.
		fn activate(who: &T::AccountId, provider: &ProviderOf<T>) -> DispatchResult {
			for offer in &provider.offers {
				ProvidersByKind::<T>::try_mutate(offer.kind, |list| {
					if !list.contains(who) {
						list.try_push(who.clone()).map_err(|_| Error::<T>::TooManyProviders)?;
					}
					Ok::<_, Error<T>>(())
				})?;
			}
			Ok(())
		}

		/// Takes a provider off the lists of the kinds it offers.
		fn deactivate(who: &T::AccountId, provider: &ProviderOf<T>) {
			for offer in &provider.offers {
				ProvidersByKind::<T>::mutate(offer.kind, |list| list.retain(|a| a != who));
			}
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
			let id = NextJobId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
			let Some((provider, price, cursor)) = Self::select(kind, &requirements, fee, &[])
			else {
				return Ok(None);
			};
			T::Currency::hold(&HoldReason::JobEscrow.into(), owner, fee)?;
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
				},
				tried: BoundedVec::new(),
			};
			NextJobId::<T>::put(next);
			Self::deposit_event(Event::JobCreated { job: id, kind, owner: owner.clone(), fee });
			Self::assign(id, &mut job, provider, price, cursor)?;
			Jobs::<T>::insert(id, job);
			Ok(Some(id))
		}

		/// The first provider, round-robin from the kind's cursor and at most `MaxScan` of them,
		/// that is active, free, meets `requirements`, asks at most `fee` and is not in
		/// `excluded`; with its price and the cursor's next value.
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
			let start = Cursors::<T>::get(kind) % len;
			(0..len.min(T::MaxScan::get())).find_map(|i| {
				let index = start.saturating_add(i) % len;
				let account = list.get(index as usize)?;
				if excluded.contains(account) {
					return None;
				}
				let provider = Providers::<T>::get(account)?;
				let price = provider.offers.iter().find(|o| o.kind == kind)?.price;
				let eligible = provider.status == ProviderStatus::Active
					&& provider.jobs < provider.concurrency
					&& provider.hardware.meets(requirements)
					&& price <= fee;
				eligible.then(|| (account.clone(), price, index.saturating_add(1) % len))
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
			job.tried.try_push(provider.clone()).map_err(|_| Error::<T>::Overflow)?;
			job.status = JobStatus::Assigned { provider: provider.clone(), price, until };
			Providers::<T>::try_mutate(&provider, |p| {
				let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
				p.jobs = p.jobs.checked_add(1).ok_or(Error::<T>::Overflow)?;
				Ok::<_, Error<T>>(())
			})?;
			ProviderJobs::<T>::insert(&provider, id, ());
			Cursors::<T>::insert(job.kind, cursor);
			// A full delivery queue only costs this assignment its notification: the provider
			// still finds the job in `ProviderJobs`.
			let _ = Assignments::<T>::try_append(id);
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
			let who = info.status.provider().clone();
			Self::end_for_provider(job, &who, |r| r.timed_out = r.timed_out.saturating_add(1));
			Self::slash(&who, job);
			Self::deposit_event(Event::JobTimedOut { job, provider: who });
			Self::reassign(job, info);
		}

		/// Sends [`Config::TimeoutSlash`] of a provider's bond to the beneficiary; pauses it if
		/// what is left is below the minimum.
		fn slash(who: &T::AccountId, job: JobId) {
			let Some(mut provider) = Providers::<T>::get(who) else { return };
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
			let refunded = T::Currency::release(
				&HoldReason::JobEscrow.into(),
				&job.owner,
				job.fee,
				Precision::BestEffort,
			)
			.unwrap_or_else(|_| Zero::zero());
			Jobs::<T>::remove(id);
			if job.requester == Requester::Runtime {
				T::Consumer::on_abandoned(id, job.kind, &job.payload);
			}
			Self::deposit_event(Event::JobAbandoned { job: id, reason, refunded });
		}

		/// Checks the pallet's invariants:
		/// - the escrow held from each account equals the fees of its open jobs;
		/// - the bond held from each provider equals its recorded bond;
		/// - each provider's job count equals its open jobs, and [`ProviderJobs`] lists exactly
		///   the open jobs by their provider;
		/// - every open job sits in the deadline bucket of its `until`, was assigned to its
		///   current provider last, and has an id below [`NextJobId`];
		/// - only active providers are listed under the kinds, and only under kinds they offer.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut jobs_of: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let next = NextJobId::<T>::get();
			for (id, job) in Jobs::<T>::iter() {
				ensure!(id < next, "job id at or above NextJobId");
				let entry = escrow.entry(job.owner.clone()).or_default();
				*entry = entry.saturating_add(job.fee);
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
				let count = jobs_of.entry(provider.clone()).or_default();
				*count = count.saturating_add(1);
			}
			for (who, held) in escrow {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), &who) == held,
					"escrow held differs from the open jobs' fees"
				);
			}
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
				for who in list {
					let provider = Providers::<T>::get(&who).ok_or("listed provider unknown")?;
					ensure!(provider.status == ProviderStatus::Active, "listed provider inactive");
					ensure!(
						provider.offers.iter().any(|o| o.kind == kind),
						"provider listed under a kind it does not offer"
					);
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
			Self::do_create(
				owner,
				Requester::Runtime,
				kind,
				payload,
				Hardware::default(),
				fee,
				duration,
			)
		}

		fn create_weight() -> Weight {
			T::WeightInfo::create_job()
		}
	}
}
