//! Authorisations and their settlement: checking a key, settling records once, splitting fees,
//! and forgetting keys that can settle nothing more.

use crate::*;
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use openledger_primitives::{ModelUnavailable, ServedModel};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AccountIdConversion, AtLeast32BitUnsigned, Hash, One, Saturating, Verify, Zero},
	Perbill, Rounding,
};

/// What `tokens` cost at `price_per_1k_tokens`, rounded up to the unit, so that no number of
/// small requests is served for free.
pub fn fee_for<Balance: AtLeast32BitUnsigned>(
	tokens: u64,
	price_per_1k_tokens: Balance,
) -> Balance {
	let price: u128 = price_per_1k_tokens.unique_saturated_into();
	multiply_by_rational_with_rounding(price, u128::from(tokens), 1_000, Rounding::Up)
		.and_then(|fee| Balance::try_from(fee).ok())
		.unwrap_or_else(Balance::max_value)
}

/// Splits `model_part` and `serving_part`, a settlement's fees for one model: the
/// `protocol_share` of each to the protocol, the rest of the serving part to the provider, the
/// rest of the model part between the contributors (`contributor_share` of it, rounded down) and
/// the owner. The four parts sum to the two given.
pub fn split<Balance>(
	model_part: Balance,
	serving_part: Balance,
	protocol_share: Perbill,
	contributor_share: Perbill,
) -> Split<Balance>
where
	Balance: AtLeast32BitUnsigned + Copy,
{
	let protocol_model = protocol_share.mul_floor(model_part);
	let protocol_serving = protocol_share.mul_floor(serving_part);
	let model_net = model_part.saturating_sub(protocol_model);
	let contributors = contributor_share.mul_floor(model_net);
	Split {
		protocol: protocol_model.saturating_add(protocol_serving),
		provider: serving_part.saturating_sub(protocol_serving),
		owner: model_net.saturating_sub(contributors),
		contributors,
	}
}

/// Why a key cannot be served or settled, as the runtime API reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, codec::Decode, scale_info::TypeInfo)]
pub enum KeyRefusal {
	/// The bytes are not a signed authorisation.
	Malformed,
	WrongChain,
	WrongProvider,
	BadSignature,
	BadModels,
	ExpiryTooFar,
	/// Past its expiry (for serving) or its settlement window (for settling).
	Expired,
	/// Revoked (for serving) or past its settlement window since (for settling).
	Revoked,
}

impl<T: Config> From<KeyRefusal> for Error<T> {
	fn from(refusal: KeyRefusal) -> Self {
		match refusal {
			KeyRefusal::Malformed => Error::<T>::BadSignature,
			KeyRefusal::WrongChain => Error::<T>::WrongChain,
			KeyRefusal::WrongProvider => Error::<T>::WrongProvider,
			KeyRefusal::BadSignature => Error::<T>::BadSignature,
			KeyRefusal::BadModels => Error::<T>::BadModels,
			KeyRefusal::ExpiryTooFar => Error::<T>::ExpiryTooFar,
			KeyRefusal::Expired => Error::<T>::KeyExpired,
			KeyRefusal::Revoked => Error::<T>::KeyRevoked,
		}
	}
}

/// A key's id, state, and what its user's prepaid funds leave for new inferences.
pub type ServingCheck<T> = (<T as frame_system::Config>::Hash, KeyStateOf<T>, BalanceOf<T>);

/// A key as the runtime API's check reads it.
pub type KeyViewOf<T> = runtime_api::KeyView<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as frame_system::Config>::Hash,
>;

/// A settlement's fees for one model, summed over its records.
struct ModelTotals<AccountId, Balance> {
	served: ServedModel<AccountId, Balance>,
	model_part: Balance,
	serving_part: Balance,
	inferences: u32,
	tokens: u64,
}

impl<T: Config> Pallet<T> {
	/// An authorisation's id: the hash of its encoding.
	pub fn key_id(authorisation: &AuthorisationOf<T>) -> T::Hash {
		T::Hashing::hash_of(authorisation)
	}

	/// The bytes a user signs for an authorisation.
	pub fn signing_payload(authorisation: &AuthorisationOf<T>) -> Vec<u8> {
		let mut message = KEY_CONTEXT.to_vec();
		authorisation.encode_to(&mut message);
		message
	}

	/// Checks what does not change with time: chain, provider, models, signature.
	pub fn check_signed(
		key: &SignedAuthorisationOf<T>,
		provider: &T::AccountId,
	) -> Result<T::Hash, KeyRefusal> {
		let auth = &key.authorisation;
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		ensure!(auth.genesis == genesis, KeyRefusal::WrongChain);
		ensure!(&auth.provider == provider, KeyRefusal::WrongProvider);
		let models = &auth.models;
		ensure!(
			!models.is_empty()
				&& models.iter().enumerate().all(|(i, m)| {
					models.iter().skip(i.saturating_add(1)).all(|other| other.model != m.model)
				}),
			KeyRefusal::BadModels
		);
		ensure!(
			key.signature.verify(&Self::signing_payload(auth)[..], &auth.user),
			KeyRefusal::BadSignature
		);
		Ok(Self::key_id(auth))
	}

	/// The state of an authorisation the chain may not have seen yet, refused if it expires too
	/// far from `now` to be remembered.
	fn state_of(
		id: &T::Hash,
		auth: &AuthorisationOf<T>,
		now: BlockNumberFor<T>,
	) -> Result<(KeyStateOf<T>, bool), KeyRefusal> {
		match Keys::<T>::get(id) {
			Some(state) => Ok((state, false)),
			None => {
				ensure!(
					auth.expires <= now.saturating_add(T::MaxKeyLifetime::get()),
					KeyRefusal::ExpiryTooFar
				);
				let state = KeyState {
					spent: Zero::zero(),
					last_seq: 0,
					expires: auth.expires,
					revoked_at: None,
				};
				Ok((state, true))
			},
		}
	}

	/// Whether a key may still settle at `now`: within the settlement window after its expiry
	/// and its revocation.
	fn check_settles(state: &KeyStateOf<T>, now: BlockNumberFor<T>) -> Result<(), KeyRefusal> {
		let window = T::SettlementWindow::get();
		if let Some(revoked_at) = state.revoked_at {
			ensure!(now <= revoked_at.saturating_add(window), KeyRefusal::Revoked);
		}
		ensure!(now <= state.expires.saturating_add(window), KeyRefusal::Expired);
		Ok(())
	}

	/// Remembers a key the chain sees for the first time until it can settle nothing more.
	fn remember(id: T::Hash, state: &KeyStateOf<T>) {
		let forget_at = state
			.expires
			.saturating_add(T::SettlementWindow::get())
			.saturating_add(One::one());
		Expiries::<T>::insert(forget_at, id, ());
	}

	/// Whether a provider may serve a key now, and what it leaves to spend: the runtime API's
	/// check before each request. `Ok` with the key's id, user, state and what the user's
	/// prepaid funds leave after a pending withdrawal.
	pub fn serving_check(
		key: &SignedAuthorisationOf<T>,
		provider: &T::AccountId,
	) -> Result<ServingCheck<T>, KeyRefusal> {
		let now = frame_system::Pallet::<T>::block_number();
		let id = Self::check_signed(key, provider)?;
		let (state, _) = Self::state_of(&id, &key.authorisation, now)?;
		ensure!(state.revoked_at.is_none(), KeyRefusal::Revoked);
		ensure!(now <= state.expires, KeyRefusal::Expired);
		Ok((id, state, Self::available(&key.authorisation.user, provider)))
	}

	pub(crate) fn do_revoke(who: T::AccountId, auth: AuthorisationOf<T>) -> DispatchResult {
		ensure!(auth.user == who, Error::<T>::NotKeyOwner);
		// A key that can pay nothing needs no revocation, nor a record of one.
		ensure!(PrepaidFunds::<T>::contains_key(&who, &auth.provider), Error::<T>::NoPrepaidFunds);
		let now = frame_system::Pallet::<T>::block_number();
		let id = Self::key_id(&auth);
		let (mut state, new) = Self::state_of(&id, &auth, now).map_err(Error::<T>::from)?;
		ensure!(state.revoked_at.is_none(), Error::<T>::AlreadyRevoked);
		ensure!(now <= state.expires, Error::<T>::KeyExpired);
		state.revoked_at = Some(now);
		if new {
			Self::remember(id, &state);
		}
		Keys::<T>::insert(id, state);
		let settles_until = now.saturating_add(T::SettlementWindow::get());
		Self::deposit_event(Event::KeyRevoked { key: id, user: who, settles_until });
		Ok(())
	}

	/// The weight a settlement declares: for as many distinct models as its records could name.
	pub fn settle_weight(batch: &[KeyRecordsOf<T>]) -> Weight {
		let keys = u32::try_from(batch.len()).unwrap_or(u32::MAX);
		let records = Self::record_count(batch);
		let models = records
			.min(keys.saturating_mul(<MaxKeyModels as Get<u32>>::get()))
			.min(MAX_BATCH_MODELS);
		T::WeightInfo::settle(keys, records.saturating_sub(keys), models)
	}

	fn record_count(batch: &[KeyRecordsOf<T>]) -> u32 {
		batch
			.iter()
			.fold(0u32, |n, k| n.saturating_add(u32::try_from(k.records.len()).unwrap_or(u32::MAX)))
	}

	/// The model a record pays for, read once per settlement and checked against the
	/// provider's offers.
	fn served_model<'a>(
		models: &'a mut BTreeMap<ModelId, ModelTotals<T::AccountId, BalanceOf<T>>>,
		provider: &T::AccountId,
		model: ModelId,
	) -> Result<&'a mut ModelTotals<T::AccountId, BalanceOf<T>>, Error<T>> {
		if !models.contains_key(&model) {
			ensure!(models.len() < MAX_BATCH_MODELS as usize, Error::<T>::TooManyModels);
			let served = T::Models::served(model).map_err(|e| match e {
				ModelUnavailable::UnknownModel => Error::<T>::UnknownModel,
				ModelUnavailable::NotPublished => Error::<T>::ModelNotPublished,
				ModelUnavailable::Retired => Error::<T>::ModelRetired,
			})?;
			ensure!(
				Self::serving_price(provider, served.base_model).is_some(),
				Error::<T>::BaseNotServed
			);
			models.insert(
				model,
				ModelTotals {
					served,
					model_part: Zero::zero(),
					serving_part: Zero::zero(),
					inferences: 0,
					tokens: 0,
				},
			);
		}
		models.get_mut(&model).ok_or(Error::<T>::UnknownModel)
	}

	pub(crate) fn do_settle(
		provider: T::AccountId,
		batch: Vec<KeyRecordsOf<T>>,
	) -> DispatchResultWithPostInfo {
		let records = Self::record_count(&batch);
		ensure!(
			!batch.is_empty() && batch.iter().all(|k| !k.records.is_empty()),
			Error::<T>::EmptySettlement
		);
		ensure!(
			batch.len() <= T::MaxSettlementKeys::get() as usize
				&& records <= T::MaxSettlementRecords::get(),
			Error::<T>::SettlementTooLarge
		);
		let now = frame_system::Pallet::<T>::block_number();
		let account = Self::account();
		// The pallet's account keeps the existential deposit free, so that fees below it can be
		// held there and released: the first provider to settle pays it, once.
		let ed = T::Currency::minimum_balance();
		let free = T::Currency::balance(&account);
		if free < ed {
			T::Currency::transfer(
				&provider,
				&account,
				ed.saturating_sub(free),
				Preservation::Preserve,
			)?;
		}
		let mut models = BTreeMap::new();
		let mut total = BalanceOf::<T>::zero();
		let keys = u32::try_from(batch.len()).unwrap_or(u32::MAX);

		for KeyRecords { key, records } in batch {
			let id = Self::check_signed(&key, &provider).map_err(Error::<T>::from)?;
			let auth = key.authorisation;
			let (mut state, new) = Self::state_of(&id, &auth, now).map_err(Error::<T>::from)?;
			Self::check_settles(&state, now).map_err(Error::<T>::from)?;
			let mut amount = BalanceOf::<T>::zero();
			for record in &records {
				ensure!(record.seq > state.last_seq, Error::<T>::Replayed);
				state.last_seq = record.seq;
				let pinned = auth
					.models
					.iter()
					.find(|m| m.model == record.model)
					.ok_or(Error::<T>::ModelNotAllowed)?;
				let tokens = u64::from(record.prompt_tokens)
					.saturating_add(u64::from(record.completion_tokens));
				ensure!(tokens > 0, Error::<T>::NoTokens);
				let model_part = fee_for(tokens, pinned.model_price);
				let serving_part = fee_for(tokens, pinned.serving_price);
				ensure!(
					record.fee == model_part.saturating_add(serving_part),
					Error::<T>::WrongFee
				);
				let totals = Self::served_model(&mut models, &provider, record.model)?;
				totals.model_part = totals.model_part.saturating_add(model_part);
				totals.serving_part = totals.serving_part.saturating_add(serving_part);
				totals.inferences = totals.inferences.saturating_add(1);
				totals.tokens = totals.tokens.saturating_add(tokens);
				amount = amount.saturating_add(record.fee);
			}
			state.spent = state.spent.saturating_add(amount);
			ensure!(state.spent <= auth.max_spend, Error::<T>::SpendLimitExceeded);
			let mut funds = PrepaidFunds::<T>::get(&auth.user, &provider)
				.ok_or(Error::<T>::InsufficientPrepaid)?;
			ensure!(amount <= funds.held, Error::<T>::InsufficientPrepaid);
			funds.held = funds.held.saturating_sub(amount);
			if !amount.is_zero() {
				T::Currency::transfer_on_hold(
					&HoldReason::Prepaid.into(),
					&auth.user,
					&account,
					amount,
					Precision::Exact,
					Restriction::OnHold,
					// Force: the funds were spendable when deposited and are the provider's
					// security for what it served; a lock placed on them since does not keep
					// them from paying.
					Fortitude::Force,
				)?;
			}
			if funds.held.is_zero() {
				PrepaidFunds::<T>::remove(&auth.user, &provider);
			} else {
				PrepaidFunds::<T>::insert(&auth.user, &provider, funds);
			}
			if new {
				Self::remember(id, &state);
			}
			Keys::<T>::insert(id, state);
			total = total.saturating_add(amount);
			Self::deposit_event(Event::KeySettled {
				key: id,
				user: auth.user,
				records: u32::try_from(records.len()).unwrap_or(u32::MAX),
				amount,
				spent: state.spent,
				last_seq: state.last_seq,
			});
		}

		// What the users paid waits on the pallet's account, held as owed.
		if !total.is_zero() {
			T::Currency::release(&HoldReason::Prepaid.into(), &account, total, Precision::Exact)?;
			T::Currency::hold(&HoldReason::Owed.into(), &account, total)?;
		}
		let share = T::ProtocolShare::get();
		let mut protocol = BalanceOf::<T>::zero();
		let mut provider_part = BalanceOf::<T>::zero();
		let model_count = u32::try_from(models.len()).unwrap_or(u32::MAX);
		for (model, totals) in models {
			let parts = split(
				totals.model_part,
				totals.serving_part,
				share,
				totals.served.contributor_share,
			);
			protocol = protocol.saturating_add(parts.protocol);
			provider_part = provider_part.saturating_add(parts.provider);
			let (owner, contributors) =
				Self::pay_contributors(&totals.served, parts.contributors, parts.owner);
			Rewards::<T>::mutate(&totals.served.owner, |r| *r = r.saturating_add(owner));
			ModelEarnings::<T>::mutate(model, |e| {
				e.inferences = e.inferences.saturating_add(u64::from(totals.inferences));
				e.tokens = e.tokens.saturating_add(totals.tokens);
				e.fees =
					e.fees.saturating_add(totals.model_part.saturating_add(totals.serving_part));
				e.owner = e.owner.saturating_add(owner);
				e.contributors = e.contributors.saturating_add(contributors);
			});
			Self::deposit_event(Event::ModelPaid {
				model,
				inferences: totals.inferences,
				tokens: totals.tokens,
				protocol: parts.protocol,
				provider: parts.provider,
				owner,
				contributors,
			});
		}
		Rewards::<T>::mutate(&provider, |r| *r = r.saturating_add(provider_part));
		Rewards::<T>::mutate(T::ProtocolPot::get(), |r| *r = r.saturating_add(protocol));
		Self::deposit_event(Event::Settled { provider, keys, records, fees: total });
		Ok(Some(T::WeightInfo::settle(keys, records.saturating_sub(keys), model_count)).into())
	}

	/// Pays the contributors' part of a model's fees into the pools of the versions it was
	/// trained on, pro rata to their bytes, the rounding's remainder to the first. Returns the
	/// owner's part and the contributors': those given, or the owner's with the contributors'
	/// if the model's versions hold no bytes.
	fn pay_contributors(
		served: &ServedModel<T::AccountId, BalanceOf<T>>,
		contributors: BalanceOf<T>,
		owner: BalanceOf<T>,
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let total_bytes = served.sources.iter().fold(0u64, |n, s| n.saturating_add(s.2));
		if total_bytes == 0 {
			return (owner.saturating_add(contributors), Zero::zero());
		}
		let shares: Vec<BalanceOf<T>> = served
			.sources
			.iter()
			.map(|(_, _, bytes)| openledger_primitives::pro_rata(contributors, *bytes, total_bytes))
			.collect();
		let paid = shares.iter().fold(BalanceOf::<T>::zero(), |n, s| n.saturating_add(*s));
		let mut remainder = contributors.saturating_sub(paid);
		for ((datanet, version, _), share) in served.sources.iter().zip(shares) {
			let share = share.saturating_add(core::mem::take(&mut remainder));
			ContributorPools::<T>::mutate(datanet, version, |pool| {
				pool.paid = pool.paid.saturating_add(share)
			});
		}
		(owner, contributors)
	}

	/// Forgets the keys that can settle nothing more, as far as `remaining` allows: each key
	/// reads and removes two entries; each block scanned reads one.
	pub(crate) fn forget_expired(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let mut used = db.reads_writes(1, 1);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let Some(mut block) = ExpiryCursor::<T>::get() else {
			ExpiryCursor::<T>::put(now);
			return used;
		};
		let step = db.reads_writes(1, 2);
		while block <= now && remaining.all_gte(used.saturating_add(step)) {
			match Expiries::<T>::iter_key_prefix(block).next() {
				Some(id) => {
					Expiries::<T>::remove(block, id);
					Keys::<T>::remove(id);
				},
				None => block = block.saturating_add(One::one()),
			}
			used = used.saturating_add(step);
		}
		ExpiryCursor::<T>::put(block);
		used
	}

	/// The keyless account that holds what settlements paid until it is claimed, with the
	/// existential deposit the first settlement paid into it.
	pub fn account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}
}

impl<T: Config> Pallet<T> {
	/// The runtime API's check of an API key before a provider serves it.
	pub fn authorise(key: &[u8], provider: &T::AccountId) -> Result<KeyViewOf<T>, KeyRefusal> {
		use codec::DecodeAll;
		let mut input = key;
		let key = SignedAuthorisationOf::<T>::decode_all(&mut input)
			.map_err(|_| KeyRefusal::Malformed)?;
		let (id, state, available) = Self::serving_check(&key, provider)?;
		let auth = key.authorisation;
		Ok(runtime_api::KeyView {
			id,
			user: auth.user,
			models: auth.models.into_inner(),
			max_spend: auth.max_spend,
			expires: auth.expires,
			spent: state.spent,
			last_seq: state.last_seq,
			available,
			now: frame_system::Pallet::<T>::block_number(),
		})
	}
}
