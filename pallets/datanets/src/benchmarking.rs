//! Benchmarks of every call, each in its most expensive case: the longest metadata, the most
//! curators, and for reviews the verdict that settles the contribution.

use super::*;
use crate::pallet::{AccessFees, AccessPools, DatanetInfo, Pallet as Datanets};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use openledger_primitives::DatanetAccess;
use sp_core::H256;
use sp_runtime::{traits::Bounded, Saturating};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	endowed::<T>(account(name, index, 0))
}

/// The account that signs the benchmarked transaction, funded. Its account record is in memory
/// already when the call runs, since paying the transaction's fee read and wrote it (and the
/// fee's weight counts that access), so the call's own access to it is not counted again.
fn funded_signer<T: Config>() -> T::AccountId {
	endowed::<T>(whitelisted_caller())
}

/// `who`, given a thousandth of the largest balance.
fn endowed<T: Config>(who: T::AccountId) -> T::AccountId {
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000u32.into());
	who
}

fn max_metadata<T: Config>() -> MetadataInput {
	let bytes = |n: u32| vec![b'x'; n as usize];
	MetadataInput {
		name: bytes(T::MaxNameLength::get()),
		description: bytes(T::MaxDescriptionLength::get()),
		tags: (0..T::MaxTags::get()).map(|_| bytes(T::MaxTagLength::get())).collect(),
		kind: DataKind::Text,
		licence: bytes(T::MaxLicenceLength::get()),
	}
}

fn curators<T: Config>() -> Vec<T::AccountId> {
	(0..T::MaxCurators::get()).map(|i| funded::<T>("curator", i)).collect()
}

fn max_rules<T: Config>(curators: Vec<T::AccountId>) -> RulesInputOf<T> {
	let needed = curators.len() as u32;
	let formats = [
		DataFormat::PlainText,
		DataFormat::JsonLines,
		DataFormat::Csv,
		DataFormat::Json,
		DataFormat::Parquet,
		DataFormat::Png,
		DataFormat::Jpeg,
		DataFormat::Wav,
		DataFormat::Flac,
	];
	RulesInput {
		// More than the record's deposit, so that an accepted contribution has a stake to free.
		contribution_deposit: T::MinContributionDeposit::get().saturating_add(1_000u32.into()),
		max_contribution_size: T::MaxContributionSize::get(),
		accepted_formats: formats.into_iter().take(T::MaxFormats::get() as usize).collect(),
		curators,
		approvals_needed: needed,
	}
}

/// A datanet with the longest metadata and the most curators, all needed to accept.
fn datanet<T: Config>() -> (T::AccountId, Vec<T::AccountId>) {
	let owner = funded::<T>("owner", 0);
	let curators = curators::<T>();
	assert!(Datanets::<T>::create(
		RawOrigin::Signed(owner.clone()).into(),
		max_metadata::<T>(),
		max_rules::<T>(curators.clone()),
	)
	.is_ok());
	(owner, curators)
}

fn content(n: u32) -> H256 {
	H256(sp_io::hashing::blake2_256(&n.to_le_bytes()))
}

/// Commits `who` to contributing `content(n)` to datanet 0 and moves to the next block, where the
/// commitment can be revealed.
fn committed<T: Config>(who: &T::AccountId, n: u32) {
	assert!(Datanets::<T>::commit(
		RawOrigin::Signed(who.clone()).into(),
		commitment_of(who, 0, &content(n))
	)
	.is_ok());
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now.saturating_add(1u32.into()));
}

fn submit_contribution<T: Config>(who: &T::AccountId, n: u32) {
	committed::<T>(who, n);
	assert!(Datanets::<T>::contribute(
		RawOrigin::Signed(who.clone()).into(),
		0,
		content(n),
		1,
		DataFormat::PlainText,
		BalanceOf::<T>::max_value(),
	)
	.is_ok());
}

/// Every curator but the last accepts contribution `id`; the last verdict is left to the caller.
fn all_but_one_accept<T: Config>(curators: &[T::AccountId], id: ContributionId) {
	for curator in curators.iter().take(curators.len().saturating_sub(1)) {
		assert!(Datanets::<T>::review(
			RawOrigin::Signed(curator.clone()).into(),
			0,
			id,
			Verdict::Accept
		)
		.is_ok());
	}
}

fn accept<T: Config>(curators: &[T::AccountId], id: ContributionId) {
	all_but_one_accept::<T>(curators, id);
	let last = curators.last().cloned().unwrap_or_else(|| account("none", 0, 0));
	assert!(Datanets::<T>::review(RawOrigin::Signed(last).into(), 0, id, Verdict::Accept).is_ok());
}

/// A contribution that every curator but the last has accepted; returns the last curator, whose
/// verdict settles it, so that the review benchmarks measure the most votes to count.
fn awaiting_last_verdict<T: Config>() -> T::AccountId {
	let (_, curators) = datanet::<T>();
	let who = funded::<T>("contributor", 0);
	submit_contribution::<T>(&who, 0);
	all_but_one_accept::<T>(&curators, 0);
	curators.last().cloned().unwrap_or_else(|| account("none", 0, 0))
}

fn max_endpoints<T: Config>() -> Vec<Vec<u8>> {
	let mut url = b"https://".to_vec();
	url.resize(T::MaxEndpointLength::get() as usize, b'e');
	(0..T::MaxEndpoints::get()).map(|_| url.clone()).collect()
}

fn validation_rules<T: Config>(auto_reject: bool) -> ValidationRules<BalanceOf<T>> {
	let fee =
		<T::Jobs as openledger_primitives::JobMarket<_, _, _>>::min_fee().max(1_000u32.into());
	ValidationRules { fee, auto_reject }
}

fn set_max_services<T: Config>(owner: &T::AccountId, auto_reject: bool) {
	assert!(Datanets::<T>::set_services(
		RawOrigin::Signed(owner.clone()).into(),
		0,
		max_endpoints::<T>(),
		Some(validation_rules::<T>(auto_reject)),
	)
	.is_ok());
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create() {
		let owner = funded::<T>("owner", 0);
		let rules = max_rules::<T>(curators::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), max_metadata::<T>(), rules);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.owner), Some(owner));
	}

	#[benchmark]
	fn update_metadata() {
		let (owner, _) = datanet::<T>();
		let mut metadata = max_metadata::<T>();
		metadata.description = vec![b'y'; 1];

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, metadata);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.metadata.description.len()), Some(1));
	}

	#[benchmark]
	fn update_rules() {
		let (owner, curators) = datanet::<T>();
		let mut rules = max_rules::<T>(curators);
		rules.approvals_needed = 1;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, rules);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.rules.approvals_needed), Some(1));
	}

	#[benchmark]
	fn offer_ownership() {
		let (owner, _) = datanet::<T>();
		let to = funded::<T>("heir", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, Some(to.clone()));

		assert_eq!(DatanetInfo::<T>::get(0).and_then(|d| d.pending_owner), Some(to));
	}

	#[benchmark]
	fn accept_ownership() {
		let (owner, _) = datanet::<T>();
		let to = funded::<T>("heir", 0);
		assert!(Datanets::<T>::offer_ownership(
			RawOrigin::Signed(owner).into(),
			0,
			Some(to.clone())
		)
		.is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(to.clone()), 0);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.owner), Some(to));
	}

	#[benchmark]
	fn close() {
		let (owner, _) = datanet::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.status), Some(DatanetStatus::Closed));
	}

	/// A datanet with the most storage endpoints and no validation: what every contribution
	/// does.
	#[benchmark]
	fn contribute() {
		let (owner, _) = datanet::<T>();
		assert!(Datanets::<T>::set_services(
			RawOrigin::Signed(owner).into(),
			0,
			max_endpoints::<T>(),
			None,
		)
		.is_ok());
		let who = funded_signer::<T>();
		committed::<T>(&who, 0);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(who),
			0,
			content(0),
			T::MaxContributionSize::get(),
			DataFormat::Flac,
			BalanceOf::<T>::max_value(),
		);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.pending), Some(1));
	}

	/// With validation asked for and its job created. A contribution is charged this and what
	/// the job market declares for the creation, so on a runtime whose market is real the
	/// creation (one provider to read) is counted twice: an overestimate, never an under one.
	#[benchmark]
	fn contribute_validated() {
		let (owner, _) = datanet::<T>();
		set_max_services::<T>(&owner, false);
		T::BenchmarkHelper::validation_provider(&account("validator", 0, 0));
		let who = funded_signer::<T>();
		committed::<T>(&who, 0);

		#[extrinsic_call]
		contribute(
			RawOrigin::Signed(who),
			0,
			content(0),
			T::MaxContributionSize::get(),
			DataFormat::Flac,
			BalanceOf::<T>::max_value(),
		);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.pending), Some(1));
	}

	#[benchmark]
	fn review_accept() {
		let last = awaiting_last_verdict::<T>();

		#[extrinsic_call]
		review(RawOrigin::Signed(last), 0, 0, Verdict::Accept);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.accepted), Some(1));
	}

	#[benchmark]
	fn review_reject() {
		// With every curator needed, the first rejection settles it.
		let last = awaiting_last_verdict::<T>();

		#[extrinsic_call]
		review(RawOrigin::Signed(last), 0, 0, Verdict::Reject(RejectReason::LowQuality));

		assert!(Contributions::<T>::get(0, 0).is_none());
	}

	#[benchmark]
	fn publish_version() {
		let (owner, curators) = datanet::<T>();
		let who = funded::<T>("contributor", 0);
		// The root always climbs all 32 levels, so one accepted contribution is the worst case.
		submit_contribution::<T>(&who, 0);
		accept::<T>(&curators, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);

		assert_eq!(DatanetInfo::<T>::get(0).map(|d| d.versions), Some(1));
	}

	#[benchmark]
	fn withdraw_stake() {
		let (_, curators) = datanet::<T>();
		let who = funded::<T>("contributor", 0);
		submit_contribution::<T>(&who, 0);
		accept::<T>(&curators, 0);
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::StakeCoolDown::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 0, 0);

		assert_eq!(
			Contributions::<T>::get(0, 0).map(|c| c.deposit),
			Some(T::MinContributionDeposit::get())
		);
	}

	#[benchmark]
	fn slash() {
		let (_, curators) = datanet::<T>();
		let who = funded::<T>("contributor", 0);
		submit_contribution::<T>(&who, 0);
		accept::<T>(&curators, 0);
		let curator = curators.first().cloned().unwrap_or_else(|| account("none", 0, 0));

		#[extrinsic_call]
		_(RawOrigin::Signed(curator), 0, 0, RejectReason::Adversarial);

		assert_eq!(DatanetReputation::<T>::get(0, &who).slashed, 1);
	}

	#[benchmark]
	fn withdraw_unreviewed() {
		let _ = datanet::<T>();
		let who = funded::<T>("contributor", 0);
		submit_contribution::<T>(&who, 0);
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::ReviewTimeout::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 0, 0);

		assert!(Contributions::<T>::get(0, 0).is_none());
	}

	#[benchmark]
	fn set_services() {
		let (owner, _) = datanet::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, max_endpoints::<T>(), Some(validation_rules::<T>(true)));

		assert!(DatanetServices::<T>::contains_key(0));
	}

	/// A failed report on a datanet that rejects automatically: the report is stored and the
	/// contribution rejected.
	#[benchmark]
	fn validation_result() {
		let (owner, _) = datanet::<T>();
		set_max_services::<T>(&owner, true);
		// The contribution's validation job needs a provider to be assigned to.
		T::BenchmarkHelper::validation_provider(&account("validator", 0, 0));
		let who = funded::<T>("contributor", 0);
		submit_contribution::<T>(&who, 0);
		Validations::<T>::insert(0, 0, ValidationState::Requested { job: 7 });
		let payload = ValidationRequest { datanet: 0, contribution: 0 }.encode();
		let report = ValidationReport {
			outcome: ValidationOutcome::HashMismatch,
			score: 0,
			reason: BoundedVec::truncate_from(vec![b'r'; 256]),
		}
		.encode();

		#[block]
		{
			assert!(<Datanets<T> as openledger_primitives::JobConsumer>::on_result(
				7,
				openledger_primitives::JobKind::ContributionValidation,
				&payload,
				&report,
			)
			.is_ok());
		}

		assert!(Contributions::<T>::get(0, 0).is_none());
	}

	#[benchmark]
	fn commit() {
		let who = funded::<T>("contributor", 0);
		let commitment = commitment_of(&who, 0, &content(0));

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), commitment);

		assert!(Commitments::<T>::contains_key(&who, commitment));
	}

	#[benchmark]
	fn withdraw_commitment() {
		let who = funded::<T>("contributor", 0);
		let commitment = commitment_of(&who, 0, &content(0));
		assert!(Datanets::<T>::commit(RawOrigin::Signed(who.clone()).into(), commitment).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), commitment);

		assert!(!Commitments::<T>::contains_key(&who, commitment));
	}

	#[benchmark]
	fn set_access_fee() {
		let (owner, _) = datanet::<T>();
		let fee = T::Currency::minimum_balance();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, fee);

		assert_eq!(AccessFees::<T>::get(0), fee);
	}

	#[benchmark]
	fn claim_access_reward() {
		let (owner, curators) = datanet::<T>();
		let who = funded::<T>("contributor", 0);
		submit_contribution::<T>(&who, 0);
		accept::<T>(&curators, 0);
		assert!(Datanets::<T>::publish_version(RawOrigin::Signed(owner.clone()).into(), 0).is_ok());
		let fee = T::Currency::minimum_balance().saturating_mul(1_000u32.into());
		assert!(Datanets::<T>::reserve_access(&owner, 0, 0, fee).is_ok());
		assert!(Datanets::<T>::settle_access(0, 0, fee).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 0, 0, 0);

		assert_eq!(AccessPools::<T>::get(0, 0).claimed, fee);
	}

	/// The most of reserving, settling and refunding: reserving, which creates the access
	/// account and moves funds into it.
	#[benchmark]
	fn reserve_access() {
		let (owner, curators) = datanet::<T>();
		let who = funded::<T>("contributor", 0);
		submit_contribution::<T>(&who, 0);
		accept::<T>(&curators, 0);
		assert!(Datanets::<T>::publish_version(RawOrigin::Signed(owner.clone()).into(), 0).is_ok());
		let fee = T::Currency::minimum_balance().saturating_mul(1_000u32.into());

		#[block]
		{
			assert!(Datanets::<T>::reserve_access(&owner, 0, 0, fee).is_ok());
		}

		assert_eq!(AccessPools::<T>::get(0, 0).pending, fee);
	}

	impl_benchmark_test_suite!(
		Datanets,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
