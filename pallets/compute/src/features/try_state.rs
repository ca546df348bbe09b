//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::*;
use frame_support::pallet_prelude::*;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
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
			T::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), &Self::escrow_account())
				== fees,
			"escrow held differs from the open jobs' fees"
		);
		ensure!(
			OpenJobCount::<T>::iter().collect::<BTreeMap<_, _>>() == owned,
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
