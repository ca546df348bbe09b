//! The curators' side: reviews that accept or reject a pending contribution, and slashing an
//! accepted one.

use crate::*;
use frame_support::pallet_prelude::*;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// A curator's verdict on a pending contribution. The verdict that reaches the datanet's
	/// approval threshold accepts it; the one that makes acceptance impossible rejects it, with
	/// that verdict's reason.
	pub(crate) fn do_review(
		who: T::AccountId,
		datanet: DatanetId,
		contribution: ContributionId,
		verdict: Verdict,
	) -> DispatchResult {
		let mut info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
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
			DatanetInfo::<T>::insert(datanet, info);
			return Ok(());
		}
		Contributions::<T>::insert(datanet, contribution, item);
		DatanetInfo::<T>::insert(datanet, info);
		Ok(())
	}

	/// Accepts a pending contribution that reached its approvals: it takes the next position in
	/// the datanet's Merkle tree and its deposit stays held as its quality stake.
	pub(crate) fn accept(
		datanet: DatanetId,
		info: &mut DatanetOf<T>,
		contribution: ContributionId,
		item: &mut ContributionOf<T>,
	) -> DispatchResult {
		let position = info.accepted;
		info.accepted = position.checked_add(1).ok_or(Error::<T>::Overflow)?;
		info.pending = info.pending.saturating_sub(1);
		Frontiers::<T>::try_mutate(datanet, |tree| tree.append(item.content_hash))
			.map_err(|_| Error::<T>::Overflow)?;
		AcceptedBytes::<T>::mutate(datanet, |bytes| *bytes = bytes.saturating_add(item.size));
		AcceptedByPosition::<T>::insert(datanet, position, contribution);
		item.status = ContributionStatus::Accepted {
			position,
			at: frame_system::Pallet::<T>::block_number(),
		};
		ContributorReputation::<T>::mutate(&item.contributor, |r| {
			r.accepted = r.accepted.saturating_add(1)
		});
		DatanetReputation::<T>::mutate(datanet, &item.contributor, |r| {
			r.accepted = r.accepted.saturating_add(1)
		});
		Self::deposit_event(Event::Accepted { datanet, contribution, position });
		Ok(())
	}

	/// Rejects a pending contribution: its deposit is slashed by [`Config::RejectionSlash`] and
	/// its records removed.
	pub(crate) fn reject(
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
		Self::unrecord(datanet, &item.contributor, |r| r.rejected = r.rejected.saturating_add(1));
		Self::deposit_event(Event::Rejected { datanet, contribution, reason, slashed, returned });
		Ok(())
	}

	/// Slashes an accepted contribution found duplicate or adversarial; `by` is the curator who
	/// does, `None` for [`Config::ForceOrigin`].
	pub(crate) fn do_slash(
		by: Option<T::AccountId>,
		datanet: DatanetId,
		contribution: ContributionId,
		reason: RejectReason,
	) -> DispatchResult {
		let info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		if let Some(who) = by {
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
		ContributorReputation::<T>::mutate(&item.contributor, |r| {
			r.slashed = r.slashed.saturating_add(1)
		});
		DatanetReputation::<T>::mutate(datanet, &item.contributor, |r| {
			r.slashed = r.slashed.saturating_add(1)
		});
		Contributions::<T>::insert(datanet, contribution, item);
		Self::deposit_event(Event::Slashed { datanet, contribution, reason, slashed, returned });
		Ok(())
	}
}
