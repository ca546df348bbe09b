//! Assignment: the round-robin choice of the next free, eligible provider for a job.

use crate::*;
use frame_support::pallet_prelude::*;
use sp_runtime::traits::{SaturatedConversion, Saturating};

/// A provider chosen for a job: its account, its price and the kind's cursor after it.
pub(crate) type Choice<T> = (<T as frame_system::Config>::AccountId, BalanceOf<T>, u32);

impl<T: Config> Pallet<T> {
	/// The first provider, round-robin from the kind's cursor, that meets `requirements`, asks
	/// at most `fee`, is not in `excluded` and is free; with its price and the cursor's next
	/// value. Besides, how many providers it read in full (at most `MaxScan`).
	///
	/// Price and hardware come from the kind's list, so every listed provider is considered
	/// for one read of it; only providers that pass them are read in full to see whether they
	/// are free, at most `MaxScan` of them. So a provider that can never be assigned costs a
	/// job nothing, and busy ones can only be parked ahead of an eligible provider by keeping
	/// them busy with real jobs, which they must accept and complete or be slashed.
	pub(crate) fn select(
		kind: JobKind,
		requirements: &Hardware,
		fee: BalanceOf<T>,
		excluded: &[T::AccountId],
	) -> (Option<Choice<T>>, u32) {
		let list = ProvidersByKind::<T>::get(kind);
		let len = list.len() as u32;
		if len == 0 {
			return (None, 0);
		}
		let start = AssignmentCursor::<T>::get(kind).checked_rem(len).unwrap_or(0);
		let mut read = 0u32;
		let found = (0..len)
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
				read = read.saturating_add(1);
				let provider = Providers::<T>::get(&listing.provider)?;
				let free = provider.status == ProviderStatus::Active
					&& provider.jobs < provider.concurrency;
				free.then(|| {
					let next = index.saturating_add(1).checked_rem(len).unwrap_or(0);
					(listing.provider.clone(), listing.price, next)
				})
			});
		(found, read)
	}

	/// Assigns `job` to `provider`: schedules its accept deadline, counts it against the
	/// provider and queues its delivery. Returns how many full deadline buckets the two
	/// deadlines skipped.
	pub(crate) fn assign(
		id: JobId,
		job: &mut JobOf<T>,
		provider: T::AccountId,
		price: BalanceOf<T>,
		cursor: u32,
	) -> Result<u32, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let accept_by = now.saturating_add(T::AcceptWindow::get());
		let room = Self::bucket_room(job.requester);
		let until = Self::schedule(id, accept_by, room)?;
		// The result's deadline is reserved now, so that accepting never finds the buckets
		// full: otherwise anyone who filled them could make honest providers miss accepts.
		let result_due = until.saturating_add(job.duration);
		let result_by = Self::schedule(id, result_due, room)?;
		let skipped = until
			.saturating_sub(accept_by)
			.saturating_add(result_by.saturating_sub(result_due))
			.saturated_into::<u32>();
		job.tried.try_push(provider.clone()).map_err(|_| Error::<T>::Overflow)?;
		job.status = JobStatus::Assigned { provider: provider.clone(), price, until, result_by };
		Providers::<T>::try_mutate(&provider, |p| {
			let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
			p.jobs = p.jobs.checked_add(1).ok_or(Error::<T>::Overflow)?;
			Ok::<_, Error<T>>(())
		})?;
		ProviderJobs::<T>::insert(&provider, id, ());
		AssignmentCursor::<T>::insert(job.kind, cursor);
		Self::deposit_event(Event::JobAssigned { job: id, provider, price, until });
		Ok(skipped)
	}

	/// Gives a job whose provider failed or timed out to the next eligible provider, or
	/// abandons it.
	pub(crate) fn reassign(id: JobId, mut job: JobOf<T>) {
		if job.tried.len() >= T::MaxAttempts::get() as usize {
			return Self::abandon(id, job, AbandonReason::AttemptsExhausted);
		}
		let (Some((provider, price, cursor)), _) =
			Self::select(job.kind, &job.requirements, job.fee, &job.tried)
		else {
			return Self::abandon(id, job, AbandonReason::NoProvider);
		};
		match Self::assign(id, &mut job, provider, price, cursor) {
			Ok(_) => Jobs::<T>::insert(id, job),
			Err(_) => Self::abandon(id, job, AbandonReason::NoProvider),
		}
	}
}
