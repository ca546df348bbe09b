//! Benchmarks of every call, each in its most expensive case: a settlement of `k` keys of
//! distinct users, `r` records beyond one per key, paying for `m` distinct models, each trained
//! on eight datanet versions.

use super::*;
use crate::pallet::{ContributorPools, Offers, PrepaidFunds, Rewards};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Bounded, Saturating, Zero};

fn funded<T: Config>(who: &T::AccountId) {
	T::Currency::set_balance(who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
}

/// An active provider offering as many base models as it may, the last `base`.
fn provider<T: Config>(base: BaseModelId) -> T::AccountId {
	let who: T::AccountId = account("provider", 0, 0);
	funded::<T>(&who);
	T::BenchmarkHelper::provider(&who);
	let mut offers: Vec<(BaseModelId, BalanceOf<T>)> = (1..T::MaxOffers::get())
		.map(|n| (base.saturating_add(1_000).saturating_add(n), 1u32.into()))
		.collect();
	offers.push((base, 1u32.into()));
	Offers::<T>::insert(&who, OffersOf::<T>::truncate_from(offers));
	who
}

/// The `n`th user's key for `provider` on `models`, signed.
fn key<T: Config>(n: u32, provider: &T::AccountId, models: &[ModelId]) -> SignedAuthorisationOf<T> {
	let price: BalanceOf<T> = 1_000u32.into();
	let authorisation = Authorisation {
		genesis: frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()),
		user: T::BenchmarkHelper::user(n),
		provider: provider.clone(),
		models: BoundedVec::truncate_from(
			models
				.iter()
				.map(|&model| KeyModel { model, model_price: price, serving_price: price })
				.collect(),
		),
		max_spend: BalanceOf::<T>::max_value(),
		expires: frame_system::Pallet::<T>::block_number().saturating_add(T::MaxKeyLifetime::get()),
		nonce: n.into(),
	};
	let signature = T::BenchmarkHelper::sign(n, &Pallet::<T>::signing_payload(&authorisation));
	SignedAuthorisation { authorisation, signature }
}

fn record<T: Config>(seq: u64, model: ModelId) -> RecordOf<T> {
	let price: BalanceOf<T> = 1_000u32.into();
	Record {
		seq,
		model,
		prompt_tokens: 600,
		completion_tokens: 400,
		fee: fee_for(1_000, price).saturating_add(fee_for(1_000, price)),
		request: Default::default(),
	}
}

/// Owed funds of `amount` on the pallet's account.
fn owed<T: Config>(amount: BalanceOf<T>) {
	let account = Pallet::<T>::account();
	funded::<T>(&account);
	assert!(T::Currency::hold(&HoldReason::Owed.into(), &account, amount).is_ok());
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_offer() {
		let base = T::BenchmarkHelper::base_model();
		let who = provider::<T>(base);
		// Room for one more: the last offer is a new one.
		let mut offers = Offers::<T>::get(&who).unwrap_or_default();
		offers.retain(|(b, _)| *b != base);
		Offers::<T>::insert(&who, offers);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), base, 7u32.into());

		assert_eq!(Pallet::<T>::serving_price(&who, base), Some(7u32.into()));
	}

	#[benchmark]
	fn withdraw_offer() {
		let base = T::BenchmarkHelper::base_model();
		let who = provider::<T>(base);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), base);

		assert_eq!(Pallet::<T>::serving_price(&who, base), None);
	}

	#[benchmark]
	fn deposit() {
		let who = T::BenchmarkHelper::user(0);
		let provider: T::AccountId = account("provider", 0, 0);
		funded::<T>(&who);
		let origin = || RawOrigin::Signed(who.clone());
		assert!(Pallet::<T>::deposit(origin().into(), provider.clone(), 10u32.into()).is_ok());

		#[extrinsic_call]
		_(origin(), provider.clone(), 1_000u32.into());

		assert_eq!(PrepaidFunds::<T>::get(&who, &provider).map(|f| f.held), Some(1_010u32.into()));
	}

	#[benchmark]
	fn request_withdrawal() {
		let who = T::BenchmarkHelper::user(0);
		let provider: T::AccountId = account("provider", 0, 0);
		funded::<T>(&who);
		let origin = || RawOrigin::Signed(who.clone());
		assert!(Pallet::<T>::deposit(origin().into(), provider.clone(), 1_000u32.into()).is_ok());

		#[extrinsic_call]
		_(origin(), provider.clone(), 500u32.into());

		assert!(PrepaidFunds::<T>::get(&who, &provider).and_then(|f| f.withdrawal).is_some());
	}

	#[benchmark]
	fn withdraw() {
		let who = T::BenchmarkHelper::user(0);
		let provider: T::AccountId = account("provider", 0, 0);
		funded::<T>(&who);
		let origin = || RawOrigin::Signed(who.clone());
		assert!(Pallet::<T>::deposit(origin().into(), provider.clone(), 1_000u32.into()).is_ok());
		assert!(Pallet::<T>::request_withdrawal(origin().into(), provider.clone(), 500u32.into())
			.is_ok());
		let due =
			frame_system::Pallet::<T>::block_number().saturating_add(T::WithdrawalDelay::get());
		frame_system::Pallet::<T>::set_block_number(due);

		#[extrinsic_call]
		_(origin(), provider.clone());

		assert_eq!(PrepaidFunds::<T>::get(&who, &provider).map(|f| f.held), Some(500u32.into()));
	}

	#[benchmark]
	fn revoke() {
		let base = T::BenchmarkHelper::base_model();
		let provider = provider::<T>(base);
		let key = key::<T>(0, &provider, &[0]);
		let user = key.authorisation.user.clone();
		funded::<T>(&user);
		assert!(Pallet::<T>::deposit(
			RawOrigin::Signed(user).into(),
			provider.clone(),
			10u32.into()
		)
		.is_ok());
		let id = Pallet::<T>::key_id(&key.authorisation);

		#[extrinsic_call]
		_(RawOrigin::Signed(key.authorisation.user.clone()), key.authorisation.clone());

		assert!(Keys::<T>::get(id).and_then(|s| s.revoked_at).is_some());
	}

	/// `k` keys of distinct users, each with one record and `r` more spread over the keys, on
	/// `m` distinct models (each key allows up to four).
	#[benchmark]
	fn settle(
		k: Linear<1, { T::MaxSettlementKeys::get() }>,
		r: Linear<
			0,
			{ T::MaxSettlementRecords::get().saturating_sub(T::MaxSettlementKeys::get()) },
		>,
		m: Linear<1, MAX_BATCH_MODELS>,
	) {
		let base = T::BenchmarkHelper::base_model();
		let provider = provider::<T>(base);
		// Each model of its own owner, trained on eight versions of its own.
		let models: Vec<ModelId> = (0..m)
			.map(|i| T::BenchmarkHelper::published_model(&account("owner", i, 0), base))
			.collect();
		let mut batch: Vec<KeyRecordsOf<T>> = Vec::new();
		for n in 0..k {
			let user = T::BenchmarkHelper::user(n);
			funded::<T>(&user);
			assert!(Pallet::<T>::deposit(
				RawOrigin::Signed(user).into(),
				provider.clone(),
				BalanceOf::<T>::max_value() / 10_000_000u32.into()
			)
			.is_ok());
			let allowed: Vec<ModelId> = (0..4u32)
				.map(|j| models[((n * 4 + j) % m) as usize])
				.collect::<alloc::collections::BTreeSet<_>>()
				.into_iter()
				.collect();
			let key = key::<T>(n, &provider, &allowed);
			batch.push(KeyRecords { key, records: vec![record::<T>(1, allowed[0])] });
		}
		for extra in 0..r {
			let entry = &mut batch[(extra % k) as usize];
			let allowed = &entry.key.authorisation.models;
			let model = allowed[(extra as usize / k as usize) % allowed.len()].model;
			let seq = entry.records.len() as u64 + 1;
			entry.records.push(record::<T>(seq, model));
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(provider.clone()), batch);

		assert!(!Rewards::<T>::get(&provider).is_zero());
	}

	#[benchmark]
	fn claim_rewards() {
		let amount = T::Currency::minimum_balance().saturating_mul(1_000u32.into());
		owed::<T>(amount);
		// A new account: the payment creates it.
		let to: T::AccountId = account("beneficiary", 0, 0);
		Rewards::<T>::insert(&to, amount);
		let caller: T::AccountId = account("caller", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), to.clone());

		assert!(Rewards::<T>::get(&to).is_zero());
	}

	#[benchmark]
	fn claim_contribution_rewards() {
		let (datanet, version, contribution) = T::BenchmarkHelper::contribution();
		let amount = T::Currency::minimum_balance().saturating_mul(1_000u32.into());
		owed::<T>(amount);
		ContributorPools::<T>::insert(
			datanet,
			version,
			Pool { paid: amount, claimed: Zero::zero() },
		);
		let caller: T::AccountId = account("caller", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), datanet, version, contribution);

		assert!(!ContributorPools::<T>::get(datanet, version).claimed.is_zero());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
