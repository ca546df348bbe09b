//! Benchmarks of every call, each in its most expensive case: the longest title and the most
//! milestones with the longest descriptions, and for payouts the one that completes the grant.

use super::*;
use crate::pallet::Pallet as Grants;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::traits::{Bounded, One, Saturating};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000u32.into());
	who
}

/// `m` milestones with the longest descriptions, due far ahead, adding up to the Exploration
/// tier's cap.
fn milestones<T: Config>(m: u32) -> Vec<MilestoneInputOf<T>> {
	let total = T::TierRanges::get().exploration.max;
	let each = total / m.into();
	let due = frame_system::Pallet::<T>::block_number().saturating_add(1_000u32.into());
	(0..m)
		.map(|i| MilestoneInput {
			amount: if i == 0 {
				total.saturating_sub(each.saturating_mul((m - 1).into()))
			} else {
				each
			},
			description: vec![b'd'; T::MaxMilestoneDescriptionLength::get() as usize],
			due,
		})
		.collect()
}

/// Submits the largest Exploration application from a funded applicant.
fn application<T: Config>() -> (ApplicationId, T::AccountId) {
	let applicant = funded::<T>("applicant", 0);
	let id = NextApplicationId::<T>::get();
	Grants::<T>::submit(
		RawOrigin::Signed(applicant.clone()).into(),
		Tier::Exploration,
		vec![b't'; T::MaxTitleLength::get() as usize],
		H256::repeat_byte(1),
		milestones::<T>(T::MaxMilestones::get()),
	)
	.expect("the benchmark application is valid");
	(id, applicant)
}

/// An approved application, the pot funded to cover it.
fn approved<T: Config>() -> (ApplicationId, T::AccountId) {
	T::Currency::set_balance(&T::Pot::get(), BalanceOf::<T>::max_value() / 1_000u32.into());
	let (id, applicant) = application::<T>();
	let origin = T::ApproveOrigin::try_successful_origin().expect("an approving origin");
	Grants::<T>::approve(origin, id).expect("the pot covers the grant");
	(id, applicant)
}

/// Milestones `0..count` submitted and paid.
fn pay<T: Config>(id: ApplicationId, grantee: &T::AccountId, count: MilestoneIndex) {
	for i in 0..count {
		Grants::<T>::submit_milestone(
			RawOrigin::Signed(grantee.clone()).into(),
			id,
			i,
			H256::repeat_byte(2),
		)
		.expect("the grantee submits before the due block");
		let origin = T::ReviewOrigin::try_successful_origin().expect("a reviewing origin");
		Grants::<T>::accept_milestone(origin, id, i).expect("the milestone was submitted");
	}
}

/// Every milestone submitted; all but the last paid.
fn all_but_last_paid<T: Config>(id: ApplicationId, grantee: &T::AccountId) -> MilestoneIndex {
	let last = T::MaxMilestones::get().saturating_sub(1);
	pay::<T>(id, grantee, last);
	Grants::<T>::submit_milestone(
		RawOrigin::Signed(grantee.clone()).into(),
		id,
		last,
		H256::repeat_byte(2),
	)
	.expect("the grantee submits before the due block");
	last
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit(m: Linear<1, { T::MaxMilestones::get() }>) {
		let applicant = funded::<T>("applicant", 0);
		let milestones = milestones::<T>(m);
		let title = vec![b't'; T::MaxTitleLength::get() as usize];

		#[extrinsic_call]
		_(RawOrigin::Signed(applicant), Tier::Exploration, title, H256::repeat_byte(1), milestones);

		assert!(Applications::<T>::contains_key(0));
	}

	#[benchmark]
	fn withdraw() {
		let (id, applicant) = approved::<T>();
		let _ = all_but_last_paid::<T>(id, &applicant);

		#[extrinsic_call]
		_(RawOrigin::Signed(applicant), id);

		assert!(!Applications::<T>::contains_key(id));
	}

	#[benchmark]
	fn approve() -> Result<(), BenchmarkError> {
		T::Currency::set_balance(&T::Pot::get(), BalanceOf::<T>::max_value() / 1_000u32.into());
		let (id, _) = application::<T>();
		let origin =
			T::ApproveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert!(matches!(
			Applications::<T>::get(id).map(|a| a.status),
			Some(ApplicationStatus::Approved { .. })
		));
		Ok(())
	}

	#[benchmark]
	fn reject() -> Result<(), BenchmarkError> {
		let (id, _) = application::<T>();
		let origin =
			T::ApproveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert!(!Applications::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn cancel() -> Result<(), BenchmarkError> {
		let (id, applicant) = approved::<T>();
		let _ = all_but_last_paid::<T>(id, &applicant);
		let origin =
			T::ApproveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert!(!Applications::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn submit_milestone() {
		let (id, applicant) = approved::<T>();
		let last = T::MaxMilestones::get() - 1;

		#[extrinsic_call]
		_(RawOrigin::Signed(applicant), id, last, H256::repeat_byte(2));

		assert!(matches!(
			Applications::<T>::get(id)
				.and_then(|a| a.milestones.get(last as usize).map(|m| m.status)),
			Some(MilestoneStatus::Submitted { .. })
		));
	}

	#[benchmark]
	fn accept_milestone() -> Result<(), BenchmarkError> {
		let (id, applicant) = approved::<T>();
		let last = all_but_last_paid::<T>(id, &applicant);
		let origin =
			T::ReviewOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id, last);

		assert!(!Applications::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn reject_milestone() -> Result<(), BenchmarkError> {
		let (id, applicant) = approved::<T>();
		let last = all_but_last_paid::<T>(id, &applicant);
		let origin =
			T::ReviewOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id, last, RejectReason::Incomplete);

		assert!(matches!(
			Applications::<T>::get(id)
				.and_then(|a| a.milestones.get(last as usize).map(|m| m.status)),
			Some(MilestoneStatus::Rejected { .. })
		));
		Ok(())
	}

	#[benchmark]
	fn expire() {
		let (id, applicant) = approved::<T>();
		// Every milestone but the last is paid; the last passes its due block undelivered, so
		// the search for an overdue milestone walks the whole list.
		pay::<T>(id, &applicant, T::MaxMilestones::get().saturating_sub(1));
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(
			now.saturating_add(2_000u32.into()).saturating_add(One::one()),
		);
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(!Applications::<T>::contains_key(id));
	}

	impl_benchmark_test_suite!(
		Grants,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
