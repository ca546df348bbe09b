//! Jobs: creation with an escrowed fee, acceptance, results, failures and timeouts, the deadline
//! buckets, and the [`JobMarket`] other pallets ask for work through.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Defensive,
	},
};
use frame_system::pallet_prelude::*;
use sp_runtime::traits::{AccountIdConversion, Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Creates a job of a public kind, escrows `fee` from the caller and assigns the job.
	pub(crate) fn do_create_job(
		who: T::AccountId,
		kind: JobKind,
		payload: Vec<u8>,
		requirements: Hardware,
		fee: BalanceOf<T>,
		duration: BlockNumberFor<T>,
	) -> DispatchResultWithPostInfo {
		ensure!(kind.is_public(), Error::<T>::KindNotPublic);
		let Creation { job, weight } =
			Self::do_create(&who, Requester::Account, kind, payload, requirements, fee, duration)?;
		job.ok_or(Error::<T>::NoProviderAvailable)?;
		Ok(Some(weight).into())
	}

	/// The assigned provider accepts a job; it must post the result before the deadline
	/// reserved when the job was assigned (the end of the accept window plus the job's
	/// duration). Accepting schedules nothing, so it cannot fail for full deadline buckets.
	pub(crate) fn do_accept_job(who: T::AccountId, job: JobId) -> DispatchResult {
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

	/// The provider of an accepted job posts its result and is paid its price from the escrow;
	/// the rest of the fee returns to the job's owner.
	pub(crate) fn do_submit_result(
		who: T::AccountId,
		job: JobId,
		result: Vec<u8>,
	) -> DispatchResult {
		let result: BoundedVec<u8, T::MaxResultLength> =
			result.try_into().map_err(|_| Error::<T>::ResultTooLong)?;
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
	pub(crate) fn do_fail_job(who: T::AccountId, job: JobId) -> DispatchResult {
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(info.status.provider() == &who, Error::<T>::NotAssignee);
		Self::unschedule_all(job, &info.status);
		Self::end_for_provider(job, &who, |r| r.failed = r.failed.saturating_add(1));
		Self::deposit_event(Event::JobFailed { job, provider: who });
		Self::reassign(job, info);
		Ok(())
	}

	/// The account that holds the fees of open jobs. It has no key, and exists from its
	/// first job on through a provider reference, so that it can hold fees without a free
	/// balance of its own.
	pub fn escrow_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Pays `amount` out of the escrow to `to` as free balance; returns what was paid.
	pub(crate) fn pay_from_escrow(
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
	pub(crate) fn refund(
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
	pub(crate) fn end_for_owner(owner: &T::AccountId) {
		OpenJobCount::<T>::mutate_exists(owner, |open| {
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
	) -> Result<Creation, DispatchError> {
		let payload: BoundedVec<u8, T::MaxPayloadLength> =
			payload.try_into().map_err(|_| Error::<T>::PayloadTooLong)?;
		ensure!(duration >= T::MinJobDuration::get(), Error::<T>::DurationTooShort);
		ensure!(duration <= T::MaxJobDuration::get(), Error::<T>::DurationTooLong);
		ensure!(fee >= T::MinJobFee::get(), Error::<T>::FeeTooLow);
		let open = OpenJobCount::<T>::get(owner);
		ensure!(open < T::MaxOpenJobsPerAccount::get(), Error::<T>::TooManyOpenJobs);
		let id = NextJobId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
		let (selected, read) = Self::select(kind, &requirements, fee, &[]);
		let Some((provider, price, cursor)) = selected else {
			return Ok(Creation { job: None, weight: T::WeightInfo::create_job(read.max(1), 0) });
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
		OpenJobCount::<T>::insert(owner, open.saturating_add(1));
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
		let skipped = Self::assign(id, &mut job, provider, price, cursor)?;
		Jobs::<T>::insert(id, job);
		Ok(Creation { job: Some(id), weight: T::WeightInfo::create_job(read.max(1), skipped) })
	}

	/// Takes an ended or abandoned assignment off the provider: its job count and job list,
	/// and records the outcome in its reliability.
	pub(crate) fn end_for_provider(
		job: JobId,
		who: &T::AccountId,
		record: impl FnOnce(&mut Reliability),
	) {
		Providers::<T>::mutate(who, |p| match p {
			Some(p) => {
				p.jobs = p.jobs.saturating_sub(1);
				record(&mut p.reliability);
			},
			// A provider cannot leave while it has jobs.
			None => {
				frame_support::defensive!("the provider of an open job is registered");
			},
		});
		ProviderJobs::<T>::remove(who, job);
	}

	/// Times out `job` if its deadline is `now`: slashes its provider and reassigns it.
	pub(crate) fn time_out(job: JobId, now: BlockNumberFor<T>) {
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

	/// Ends a job without a result and refunds its fee.
	pub(crate) fn abandon(id: JobId, job: JobOf<T>, reason: AbandonReason) {
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

	/// How many deadlines a bucket may already hold for a job of `requester` to join it: the
	/// jobs accounts create take only the first [`Config::MaxPublicDeadlinesPerBlock`] places
	/// of each bucket, so that no one can fill the buckets ahead with jobs paid to their own
	/// provider and make the runtime's validations and training requests fail for want of room.
	pub(crate) fn bucket_room(requester: Requester) -> u32 {
		match requester {
			Requester::Account => T::MaxPublicDeadlinesPerBlock::get(),
			Requester::Runtime => T::MaxDeadlinesPerBlock::get(),
		}
	}

	/// Puts `job` in the deadline bucket of `at`, or of the first of the next
	/// [`DEADLINE_SLIP`] blocks holding fewer than `room` deadlines; returns the block used.
	pub(crate) fn schedule(
		job: JobId,
		at: BlockNumberFor<T>,
		room: u32,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = at;
		for _ in 0..=DEADLINE_SLIP {
			let held = Deadlines::<T>::decode_len(block).unwrap_or(0);
			if held < room as usize && Deadlines::<T>::try_append(block, job).is_ok() {
				return Ok(block);
			}
			block = block.saturating_add(1u32.into());
		}
		Err(Error::<T>::Congested.into())
	}

	/// Takes `job` out of every deadline bucket its status holds it in.
	pub(crate) fn unschedule_all(job: JobId, status: &JobStatusOf<T>) {
		Self::unschedule(job, status.until());
		if let JobStatus::Assigned { result_by, .. } = status {
			Self::unschedule(job, *result_by);
		}
	}

	/// Takes `job` out of the deadline bucket of block `at`, removing the bucket when it empties.
	pub(crate) fn unschedule(job: JobId, at: BlockNumberFor<T>) {
		Deadlines::<T>::mutate_exists(at, |bucket| {
			if let Some(jobs) = bucket {
				jobs.retain(|j| *j != job);
				if jobs.is_empty() {
					*bucket = None;
				}
			}
		});
	}
}

impl<T: Config> JobMarket<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn create(
		owner: &T::AccountId,
		kind: JobKind,
		payload: Vec<u8>,
		fee: BalanceOf<T>,
		duration: BlockNumberFor<T>,
	) -> Result<Creation, DispatchError> {
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
			Err(e) if unavailable.into_iter().any(|u| e == u.into()) => {
				Ok(Creation { job: None, weight: Self::create_weight() })
			},
			other => other,
		}
	}

	fn create_weight() -> Weight {
		T::WeightInfo::create_job(T::MaxScan::get(), 2 * DEADLINE_SLIP)
	}

	fn assignee(job: JobId) -> Option<T::AccountId> {
		Jobs::<T>::get(job).map(|info| info.status.provider().clone())
	}

	fn min_fee() -> BalanceOf<T> {
		T::MinJobFee::get()
	}

	fn is_active_provider(who: &T::AccountId) -> bool {
		Providers::<T>::get(who)
			.is_some_and(|p| p.status == ProviderStatus::Active && p.bond >= T::MinBond::get())
	}
}
