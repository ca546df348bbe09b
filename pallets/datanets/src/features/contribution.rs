//! The contributor's side: commitments, contributions, their stake and deposits, reputation
//! records and rate limits.

use crate::*;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Defensive,
	},
};
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedDiv, Saturating, UniqueSaturatedInto, Zero},
	Perbill,
};

impl<T: Config> Pallet<T> {
	/// Commits the caller to a contribution before its bytes are public, holding
	/// [`Config::CommitmentDeposit`]. `commitment` is [`commitment_of`] the caller, the
	/// datanet and the content hash; [`Pallet::contribute`] reveals it from the next block
	/// on. Storage providers take an upload only for a hash committed to or contributed, so
	/// the bytes go public only after the commitment is on chain.
	pub(crate) fn do_commit(who: T::AccountId, commitment: H256) -> DispatchResult {
		ensure!(!Commitments::<T>::contains_key(&who, commitment), Error::<T>::AlreadyCommitted);
		let deposit = T::CommitmentDeposit::get();
		T::Currency::hold(&HoldReason::CommitmentDeposit.into(), &who, deposit)?;
		let at = frame_system::Pallet::<T>::block_number();
		Commitments::<T>::insert(&who, commitment, Commitment { at, deposit });
		Self::deposit_event(Event::Committed { who, commitment, deposit });
		Ok(())
	}

	/// Withdraws a commitment the caller will not reveal, releasing its deposit.
	pub(crate) fn do_withdraw_commitment(who: T::AccountId, commitment: H256) -> DispatchResult {
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

	/// Submits a contribution by the blake2-256 hash of its bytes, holding the datanet's
	/// contribution deposit from the caller.
	pub(crate) fn do_contribute(
		who: T::AccountId,
		datanet: DatanetId,
		content_hash: H256,
		size: u64,
		format: DataFormat,
		max_cost: BalanceOf<T>,
	) -> DispatchResultWithPostInfo {
		let mut info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		ensure!(info.status == DatanetStatus::Open, Error::<T>::DatanetClosed);
		let validation = info.validation;
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
		ensure!(usage.count <= T::MaxContributionsPerPeriod::get(), Error::<T>::RateLimitedCount);
		ensure!(usage.bytes <= T::MaxBytesPerPeriod::get(), Error::<T>::RateLimitedBytes);
		let mut record = ContributorReputation::<T>::get(&who);
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
		ContributorReputation::<T>::insert(&who, record);
		DatanetReputation::<T>::mutate(datanet, &who, |r| {
			r.submitted = r.submitted.saturating_add(1);
			r.stored = r.stored.saturating_add(1);
		});
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::Contributed {
			datanet,
			contribution: id,
			contributor: who.clone(),
			content_hash,
			size,
			deposit,
		});
		// What the job market did not use (all of its weight without validation) goes back to
		// the block.
		let base = match validation {
			Some(_) => T::WeightInfo::contribute_validated(),
			None => T::WeightInfo::contribute(),
		};
		let job = Self::request_validation(datanet, id, &who, validation)?;
		Ok(Some(base.saturating_add(job)).into())
	}

	/// Releases an accepted contribution's stake to its contributor once
	/// [`Config::StakeCoolDown`] blocks have passed since acceptance: all of its deposit but
	/// [`Config::MinContributionDeposit`], which stays held for the contribution's record.
	/// The contribution stays in the datanet, and its versions, for good.
	pub(crate) fn do_withdraw_stake(
		who: T::AccountId,
		datanet: DatanetId,
		contribution: ContributionId,
	) -> DispatchResult {
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

	/// Withdraws a contribution that curators left pending for longer than
	/// [`Config::ReviewTimeout`], returning its whole deposit, so that no deposit is held
	/// forever by a datanet whose curators stopped reviewing.
	pub(crate) fn do_withdraw_unreviewed(
		who: T::AccountId,
		datanet: DatanetId,
		contribution: ContributionId,
	) -> DispatchResult {
		let mut info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		let item = Contributions::<T>::get(datanet, contribution)
			.ok_or(Error::<T>::UnknownContribution)?;
		ensure!(item.contributor == who, Error::<T>::NotContributor);
		ensure!(matches!(item.status, ContributionStatus::Pending { .. }), Error::<T>::NotPending);
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
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::Withdrawn { datanet, contribution, amount: item.deposit });
		Ok(())
	}

	/// The part of a contribution's deposit `held` that stays held for its record once it is
	/// accepted: [`Config::MinContributionDeposit`], or all of it if less.
	pub(crate) fn record_deposit(held: BalanceOf<T>) -> BalanceOf<T> {
		held.min(T::MinContributionDeposit::get())
	}

	/// Counts one contribution of `who` in `datanet` as no longer recorded, applying `f` to
	/// both of its reputation records; a record left with nothing recorded is removed.
	pub(crate) fn unrecord(datanet: DatanetId, who: &T::AccountId, f: impl Fn(&mut Reputation)) {
		let update = |record: &mut Option<Reputation>| {
			let mut r = record
				.take()
				.defensive_proof("a recorded contribution counts in its contributor's records")
				.unwrap_or_default();
			f(&mut r);
			r.stored = r.stored.saturating_sub(1);
			*record = (r.stored > 0).then_some(r);
		};
		ContributorReputation::<T>::mutate_exists(who, update);
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
	pub(crate) fn current_period() -> u32 {
		let now = frame_system::Pallet::<T>::block_number();
		// A zero period counts everything in period 0.
		now.checked_div(&T::RateLimitPeriod::get())
			.unwrap_or_default()
			.unique_saturated_into()
	}

	/// Sends `share` of `held` from `who`'s contribution hold to the rewards pot and releases
	/// the rest. Returns what was slashed and what returned.
	pub(crate) fn settle_deposit(
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

	/// An account's reputation across datanets and what it contributed in the current
	/// rate-limit period.
	pub fn contributor_record(who: &T::AccountId) -> ContributorRecord {
		let period = Self::current_period();
		let PeriodUsage { count, bytes } = RateLimitUsage::<T>::get(period, who);
		ContributorRecord {
			reputation: ContributorReputation::<T>::get(who),
			usage: Usage { period, count, bytes },
		}
	}
}
