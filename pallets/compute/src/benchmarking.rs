//! Benchmarks of the compute pallet, each in its worst case: kind lists full, the assignment
//! decoding a full list of which all but `MaxScan` providers are too expensive for the job and
//! reading `MaxScan - 1` busy ones, the largest result, a full deadline bucket.

use super::*;
use crate::Pallet as Compute;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get, Hooks},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Bounded, One, Saturating};

const KINDS: [JobKind; 3] =
	[JobKind::ContributionValidation, JobKind::Inference, JobKind::Training];

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = T::MinBond::get()
		.saturating_mul(1_000u32.into())
		.saturating_add(1_000_000_000u32.into());
	T::Currency::set_balance(&who, amount);
	who
}

/// A declaration offering every kind at price 1, with the longest endpoint.
fn input<T: Config>(concurrency: u32) -> ProviderInputOf<T> {
	let mut endpoint = b"http://".to_vec();
	endpoint.resize(T::MaxEndpointLength::get() as usize, b'a');
	ProviderInput {
		endpoint,
		hardware: Hardware { cpu_cores: 64, memory_mib: 1 << 20, gpus: 8, gpu_memory_mib: 1 << 17 },
		concurrency,
		offers: KINDS
			.iter()
			.take(T::MaxOffers::get() as usize)
			.map(|kind| Offer { kind: *kind, price: 1u32.into() })
			.collect(),
	}
}

/// Fills every kind's provider list with `n` listings of accounts that are not providers, at a
/// price no job pays, so that listing one more walks a long list and an assignment decodes it
/// and skips them.
fn fill_lists<T: Config>(n: u32) {
	let filler: Vec<ListingOf<T>> = (0..n)
		.map(|i| Listing {
			provider: account("filler", i, 0),
			price: BalanceOf::<T>::max_value(),
			hardware: Hardware::default(),
		})
		.collect();
	for kind in KINDS {
		ProvidersByKind::<T>::insert(kind, BoundedVec::truncate_from(filler.clone()));
	}
}

/// A fee every benchmark provider takes (they ask 1).
fn fee<T: Config>() -> BalanceOf<T> {
	T::MinJobFee::get().saturating_mul(2u32.into()).max(2u32.into())
}

fn new_provider<T: Config>(name: &'static str, index: u32, concurrency: u32) -> T::AccountId {
	let who = funded::<T>(name, index);
	let bond = T::MinBond::get().saturating_mul(100u32.into());
	Compute::<T>::register(RawOrigin::Signed(who.clone()).into(), input::<T>(concurrency), bond)
		.expect("registers");
	who
}

/// A provider running as many jobs as it takes.
fn busy_provider<T: Config>(index: u32) {
	let who = new_provider::<T>("busy", index, 1);
	Providers::<T>::mutate(&who, |p| {
		if let Some(p) = p {
			p.jobs = p.concurrency
		}
	});
}

/// A full training list: unassignable listings, then `busy` busy providers ahead of a free one,
/// the cursor at the first: an assignment decodes the whole list and reads `busy + 1` providers.
fn busy_then_free<T: Config>(busy: u32) -> T::AccountId {
	fill_lists::<T>(T::MaxProvidersPerKind::get().saturating_sub(busy.saturating_add(1)));
	AssignmentCursor::<T>::insert(JobKind::Inference, 0);
	for i in 0..busy {
		busy_provider::<T>(i);
	}
	new_provider::<T>("free", 0, u32::MAX)
}

/// The worst assignment: `MaxScan - 1` busy providers ahead of the free one.
fn most_busy_then_free<T: Config>() -> T::AccountId {
	busy_then_free::<T>(T::MaxScan::get().saturating_sub(1))
}

fn duration<T: Config>() -> BlockNumberFor<T> {
	T::MinJobDuration::get()
}

/// Fills the deadline buckets of the `n` blocks from `from` on, so that a deadline due at `from`
/// slips past all of them, reading each.
fn fill_buckets<T: Config>(from: BlockNumberFor<T>, n: u32) {
	let full = BoundedVec::truncate_from(vec![JobId::MAX; T::MaxDeadlinesPerBlock::get() as usize]);
	let mut block = from;
	for _ in 0..n {
		Deadlines::<T>::insert(block, full.clone());
		block = block.saturating_add(One::one());
	}
}

fn payload<T: Config>() -> Vec<u8> {
	vec![7u8; T::MaxPayloadLength::get() as usize]
}

/// A training job assigned to a provider created for it; returns the job and the provider.
fn assigned_job<T: Config>() -> (JobId, T::AccountId) {
	let provider = most_busy_then_free::<T>();
	let owner = funded::<T>("owner", 0);
	Compute::<T>::create_job(
		RawOrigin::Signed(owner).into(),
		JobKind::Inference,
		payload::<T>(),
		Hardware::default(),
		fee::<T>(),
		duration::<T>(),
	)
	.expect("creates");
	(NextJobId::<T>::get().saturating_sub(1), provider)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		fill_lists::<T>(T::MaxProvidersPerKind::get().saturating_sub(1));
		let who = funded::<T>("provider", 0);
		let bond = T::MinBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), input::<T>(4), bond);

		assert!(Providers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn update() {
		fill_lists::<T>(T::MaxProvidersPerKind::get().saturating_sub(1));
		let who = funded::<T>("provider", 0);
		Compute::<T>::register(
			RawOrigin::Signed(who.clone()).into(),
			input::<T>(4),
			T::MinBond::get(),
		)
		.expect("registers");

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), input::<T>(8));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.concurrency), Some(8));
	}

	#[benchmark]
	fn bond_extra() {
		let who = new_provider::<T>("provider", 0, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinBond::get());

		assert!(Providers::<T>::get(&who).is_some());
	}

	#[benchmark]
	fn pause() {
		fill_lists::<T>(T::MaxProvidersPerKind::get().saturating_sub(1));
		let who = new_provider::<T>("provider", 0, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Paused));
	}

	#[benchmark]
	fn resume() {
		let who = new_provider::<T>("provider", 0, 1);
		Compute::<T>::pause(RawOrigin::Signed(who.clone()).into()).expect("pauses");
		fill_lists::<T>(T::MaxProvidersPerKind::get().saturating_sub(1));

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Active));
	}

	#[benchmark]
	fn leave() {
		fill_lists::<T>(T::MaxProvidersPerKind::get().saturating_sub(1));
		let who = new_provider::<T>("provider", 0, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(matches!(
			Providers::<T>::get(&who).map(|p| p.status),
			Some(ProviderStatus::Leaving { .. })
		));
	}

	#[benchmark]
	fn withdraw_bond() {
		let who = new_provider::<T>("provider", 0, 1);
		Compute::<T>::leave(RawOrigin::Signed(who.clone()).into()).expect("leaves");
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Providers::<T>::contains_key(&who));
	}

	/// `s` providers read to find a free one (`s - 1` busy ones ahead of it) and `d` full
	/// deadline buckets skipped: the accept deadline's first (up to [`DEADLINE_SLIP`]), then
	/// the result's.
	#[benchmark]
	fn create_job(s: Linear<1, { T::MaxScan::get() }>, d: Linear<0, { 2 * DEADLINE_SLIP }>) {
		// The call runs at block 1 at least: the buckets are filled for the block it runs at.
		if frame_system::Pallet::<T>::block_number() < One::one() {
			frame_system::Pallet::<T>::set_block_number(One::one());
		}
		let free = busy_then_free::<T>(s.saturating_sub(1));
		let owner = funded::<T>("owner", 0);
		let accept_due =
			frame_system::Pallet::<T>::block_number().saturating_add(T::AcceptWindow::get());
		let accept_skips = d.min(DEADLINE_SLIP);
		fill_buckets::<T>(accept_due, accept_skips);
		let accept_by = accept_due.saturating_add(accept_skips.into());
		fill_buckets::<T>(
			accept_by.saturating_add(duration::<T>()),
			d.saturating_sub(accept_skips),
		);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			JobKind::Inference,
			payload::<T>(),
			Hardware::default(),
			fee::<T>(),
			duration::<T>(),
		);

		assert_eq!(Jobs::<T>::get(0).map(|j| j.status.provider().clone()), Some(free));
		assert_eq!(Jobs::<T>::get(0).map(|j| j.status.until()), Some(accept_by));
	}

	#[benchmark]
	fn accept_job() {
		let (job, provider) = assigned_job::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(provider), job);

		assert!(matches!(Jobs::<T>::get(job).map(|j| j.status), Some(JobStatus::Accepted { .. })));
	}

	#[benchmark]
	fn submit_result(r: Linear<0, { T::MaxResultLength::get() }>) {
		let (job, provider) = assigned_job::<T>();
		Compute::<T>::accept_job(RawOrigin::Signed(provider.clone()).into(), job).expect("accepts");

		#[extrinsic_call]
		_(RawOrigin::Signed(provider), job, vec![1u8; r as usize]);

		assert!(!Jobs::<T>::contains_key(job));
	}

	/// The failing provider first, then `MaxScan - 2` busy ones, then a free one: the
	/// reassignment looks at `MaxScan` providers.
	#[benchmark]
	fn fail_job() {
		ProvidersByKind::<T>::remove(JobKind::Inference);
		AssignmentCursor::<T>::insert(JobKind::Inference, 0);
		let provider = new_provider::<T>("first", 0, u32::MAX);
		let owner = funded::<T>("owner", 0);
		Compute::<T>::create_job(
			RawOrigin::Signed(owner).into(),
			JobKind::Inference,
			payload::<T>(),
			Hardware::default(),
			fee::<T>(),
			duration::<T>(),
		)
		.expect("creates");
		let job = NextJobId::<T>::get().saturating_sub(1);
		for i in 0..T::MaxScan::get().saturating_sub(2) {
			busy_provider::<T>(i);
		}
		let next = new_provider::<T>("next", 0, u32::MAX);

		#[extrinsic_call]
		_(RawOrigin::Signed(provider), job);

		assert_eq!(Jobs::<T>::get(job).map(|j| j.status.provider().clone()), Some(next));
	}

	/// `n` jobs time out in one block, each assigned to a provider of its own whose bond the
	/// slash takes below the minimum, so that each is paused and taken off full lists; each job
	/// is reassigned past `MaxScan - 2` busy providers.
	#[benchmark]
	fn on_initialize(
		n: Linear<
			0,
			{
				T::MaxDeadlinesPerBlock::get()
					.min(T::MaxProvidersPerKind::get().saturating_sub(T::MaxScan::get()))
			},
		>,
	) {
		let busy = T::MaxScan::get().saturating_sub(2);
		fill_lists::<T>(
			T::MaxProvidersPerKind::get()
				.saturating_sub(n)
				.saturating_sub(busy)
				.saturating_sub(1),
		);
		AssignmentCursor::<T>::insert(JobKind::Inference, 0);
		let mut late = Vec::new();
		for i in 0..n {
			// One job each: the provider takes one at a time, and its bond is the minimum.
			let who = funded::<T>("late", i);
			Compute::<T>::register(
				RawOrigin::Signed(who.clone()).into(),
				input::<T>(1),
				T::MinBond::get(),
			)
			.expect("registers");
			late.push(who);
		}
		for i in 0..n {
			// One owner per job, so that no owner reaches `MaxOpenJobsPerAccount`; the runtime's
			// jobs, since only those may fill a deadline bucket (`MaxPublicDeadlinesPerBlock`).
			let owner = funded::<T>("owner", i);
			let created = <Compute<T> as JobMarket<_, _, _>>::create(
				&owner,
				JobKind::Inference,
				payload::<T>(),
				fee::<T>(),
				duration::<T>(),
			)
			.expect("creates");
			assert!(created.job.is_some());
		}
		for i in 0..busy {
			busy_provider::<T>(i);
		}
		let next = new_provider::<T>("next", 0, u32::MAX);
		let at = frame_system::Pallet::<T>::block_number().saturating_add(T::AcceptWindow::get());
		let due = Deadlines::<T>::get(at).len() as u32;
		frame_system::Pallet::<T>::set_block_number(at.saturating_sub(One::one()));

		#[block]
		{
			Compute::<T>::on_initialize(at);
		}

		assert_eq!(due, n);
		// Every late provider was slashed below the minimum and lost its job, which went to
		// `next` when the scan reached it past the late providers still listed.
		for who in late {
			assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Paused));
			assert_eq!(ProviderJobs::<T>::iter_prefix(&who).count(), 0);
		}
		assert!(n == 0 || ProviderJobs::<T>::iter_prefix(&next).count() > 0);
	}

	impl_benchmark_test_suite!(
		Compute,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
