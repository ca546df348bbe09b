//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::*;
use frame_support::pallet_prelude::*;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants:
	/// - each datanet's counters match its records: pending, accepted (and the Merkle tree's
	///   size), versions, with version sizes never decreasing;
	/// - the content index and the contributions point at each other;
	/// - what is held from each account for each reason equals the deposits of the datanets it
	///   owns, of its live contributions and of its commitments;
	/// - each reputation record counts the contributions still recorded, and none is kept
	///   for an account that has none;
	/// - the access account holds what the pools were paid and not claimed, plus what is reserved.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut datanet_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut contribution_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut stored: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let next = NextDatanetId::<T>::get();
		for (id, info) in DatanetInfo::<T>::iter() {
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
						AcceptedByPosition::<T>::get(id, position) == Some(cid),
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
				AcceptedByPosition::<T>::iter_prefix(id).count() == info.accepted as usize,
				"accepted counter differs from the acceptance order"
			);
			ensure!(Frontiers::<T>::get(id).count == info.accepted, "tree size differs");
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
			ContributorReputation::<T>::iter().count() == stored.len(),
			"a reputation record without a contribution"
		);
		for (who, count) in stored {
			ensure!(
				ContributorReputation::<T>::get(&who).stored == count,
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
				T::Currency::balance_on_hold(&HoldReason::CommitmentDeposit.into(), &who) == held,
				"commitment deposits held differ from the commitments"
			);
		}
		for (who, held) in contribution_deposits {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ContributionDeposit.into(), &who) == held,
				"contribution deposits held differ from live contributions"
			);
		}
		let mut pooled = BalanceOf::<T>::zero();
		for (datanet, version, pool) in AccessPools::<T>::iter() {
			ensure!(Versions::<T>::contains_key(datanet, version), "a pool without its version");
			ensure!(pool.claimed <= pool.paid, "a pool paid out more than it received");
			pooled = pooled
				.saturating_add(pool.pending)
				.saturating_add(pool.paid.saturating_sub(pool.claimed));
		}
		ensure!(
			T::Currency::balance_on_hold(&HoldReason::AccessPool.into(), &Self::access_account())
				== pooled,
			"access fees held differ from the pools"
		);
		Ok(())
	}
}
