//! # Inference pallet
//!
//! OPEN pays for every answer a model gives. Inference runs at HTTP speed on providers, so it is
//! authorised off chain, by a signature, and settled on chain in batches.
//!
//! ## Overview
//!
//! A **provider** registered and active in the compute market declares, for each base model it
//! serves, its **serving price** per 1,000 tokens ([`Pallet::set_offer`],
//! [`Pallet::withdraw_offer`]); the OpenLoRA server serves the published models on those bases.
//!
//! A **user** deposits OPEN for inference with a provider ([`Pallet::deposit`]): it stays on the
//! user's account, held under [`HoldReason::Prepaid`], and only that provider's settlements take
//! from it, so that a provider serves against funds no other provider can spend first.
//! Withdrawing takes two steps ([`Pallet::request_withdrawal`], then [`Pallet::withdraw`] after
//! [`Config::WithdrawalDelay`]), so that the provider settles what it served against the funds
//! first: settlements still take from them meanwhile. Only funds the account may spend can be
//! deposited; once held, they pay for what was served even if a lock covers them later.
//!
//! The user pays through an **authorisation** signed off chain ([`Authorisation`]): the chain's
//! genesis hash, the user, one provider, one to four models each with the model's and the
//! provider's price per 1,000 tokens that the user accepts, the most it may spend in all, an
//! expiry block and a nonce. The signature is over [`KEY_CONTEXT`] and the authorisation's SCALE
//! encoding; the encoding of the [`SignedAuthorisation`] is the API key an OpenAI client sends
//! as `Authorization: Bearer`. A key pins its prices: a later rise of a model's or a provider's
//! price charges it nothing more, and a provider refuses a key whose prices are below today's.
//! The user may **revoke** a key ([`Pallet::revoke`]): providers stop serving it at once, and it
//! settles what was served for [`Config::SettlementWindow`] blocks more, as does an expired key.
//!
//! The provider **settles** ([`Pallet::settle`]) the inferences it served, many keys and
//! thousands of records in one call. For each key the chain checks its signature once, its
//! chain, provider, expiry and revocation; for each record, that its number is above every
//! number settled before under the key (so a record settles once, across batches), that its
//! model is allowed by the key, published and on a base the provider offers, and that its fee is
//! what the key's pinned prices give for its tokens ([`fee_for`]); then that the key's total
//! stays within its maximum and the user's prepaid funds. Any failure refuses the whole
//! settlement and changes nothing.
//!
//! Each settlement **splits** the fees of each model ([`split`]): the [`Config::ProtocolShare`]
//! of every fee goes to [`Config::ProtocolPot`]; the rest of the serving part to the provider;
//! the rest of the model part between the model's owner and its data's contributors, by the
//! model's `contributor_share`. The contributors' part goes into the pools of the datanet
//! versions the model was trained on, pro rata to their bytes, counted apart from the datanets'
//! access fees. The parts always sum to the fees, to the unit.
//!
//! **Claims**: the paid fees wait on the pallet's account, held under [`HoldReason::Owed`].
//! Anyone may pay an account what it earned ([`Pallet::claim_rewards`]: providers, owners, the
//! protocol pot) or a contribution its share of a version's pool
//! ([`Pallet::claim_contribution_rewards`], pool payments times the contribution's bytes over the
//! version's, less what it claimed before): the money goes to the beneficiary, whoever asks. No
//! call loops over an unbounded set.
//!
//! ## Bounded memory
//!
//! The chain remembers an authorisation ([`Keys`]) from its first settlement or revocation, for
//! as long as it can settle: until its expiry plus the settlement window, at most
//! [`Config::MaxKeyLifetime`] plus the window after it was first seen (a key that expires later
//! than that is refused). `on_idle` then forgets it ([`Expiries`]); it could settle nothing
//! more anyway.
//!
//! ## Reading
//!
//! [`runtime_api::InferenceApi`]: a user's prepaid funds with a provider, an authorisation's state
//! and whether a
//! key may be served now, a provider's offers, a model's earnings, an account's claimable
//! rewards and a contribution's.
//!
//! ## Fuzzing
//!
//! The runtime fuzzer (`fuzz/` at the workspace's root) generates this pallet's calls from the
//! runtime's type information, from every origin, and checks its invariants
//! (`features/try_state.rs`) and the chain's balance invariants after every block of its campaigns
//! and of the bounded run in `scripts/test.sh`. A call added here is fuzzed with no change there.
//! Its inputs start from a chain with a published model, a provider's offer and a user's prepaid
//! funds, and settlements carry keys signed by their users' keys (`fuzz/src/world.rs`).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
#[allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::unwrap_used
)]
mod benchmarking;
mod features;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests;
pub mod types;
pub mod weights;

pub use features::settlement::{fee_for, split};
pub use openledger_primitives::{DatanetAccess, JobMarket, ModelRegistry};
pub use types::*;
pub use weights::WeightInfo;

/// Builds the state the benchmarks need from the pallets this one only knows through traits.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Signature> {
	/// Makes `who` an active provider of the compute market.
	fn provider(who: &AccountId);
	/// A registered base model.
	fn base_model() -> BaseModelId;
	/// A published model of `owner` on `base_model`, trained on eight datanet versions no other
	/// model of the helper's was trained on.
	fn published_model(owner: &AccountId, base_model: BaseModelId) -> ModelId;
	/// An accepted contribution in a published version.
	fn contribution() -> (DatanetId, VersionId, ContributionId);
	/// The `n`th user's account.
	fn user(n: u32) -> AccountId;
	/// The `n`th user's signature of `message`.
	fn sign(n: u32, message: &[u8]) -> Signature;
}

// FRAME's pallet macros expand to `expect` calls that carry this module's spans, so clippy's
// `expect_used` is allowed here; the module's own code holds none.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{IdentifyAccount, Verify},
		Perbill,
	};

	/// The balance type of the currency fees are paid in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// An authorisation as this runtime encodes it.
	pub type AuthorisationOf<T> = Authorisation<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as frame_system::Config>::Hash,
	>;
	/// A signed authorisation: an API key.
	pub type SignedAuthorisationOf<T> = SignedAuthorisation<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as frame_system::Config>::Hash,
		<T as Config>::Signature,
	>;
	/// A record of one inference.
	pub type RecordOf<T> = Record<BalanceOf<T>, <T as frame_system::Config>::Hash>;
	/// One key's records in a settlement.
	pub type KeyRecordsOf<T> = KeyRecords<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as frame_system::Config>::Hash,
		<T as Config>::Signature,
	>;
	/// An authorisation's stored state.
	pub type KeyStateOf<T> = KeyState<BalanceOf<T>, BlockNumberFor<T>>;
	/// A user's prepaid funds.
	pub type PrepaidOf<T> = Prepaid<BalanceOf<T>, BlockNumberFor<T>>;
	/// A provider's offers: base models and serving prices per 1,000 tokens.
	pub type OffersOf<T> = BoundedVec<(BaseModelId, BalanceOf<T>), <T as Config>::MaxOffers>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency fees are paid in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// What users sign authorisations with.
		type Signature: Parameter + Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>>;

		/// The model registry: which models are published, at what price, trained on what.
		type Models: ModelRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The compute market, whose active providers may make offers.
		type Providers: JobMarket<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The datanets whose contributions claim the contributors' part of fees.
		type Datanets: DatanetAccess<Self::AccountId, BalanceOf<Self>>;

		/// Derives the account that holds what settlements paid until it is claimed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Receives the protocol's share of every fee.
		type ProtocolPot: Get<Self::AccountId>;

		/// The protocol's share of every fee.
		type ProtocolShare: Get<Perbill>;

		/// How long a withdrawal of prepaid funds waits, so that what was served against them
		/// is settled first.
		#[pallet::constant]
		type WithdrawalDelay: Get<BlockNumberFor<Self>>;

		/// How long after its expiry or revocation an authorisation still settles what was
		/// served under it.
		#[pallet::constant]
		type SettlementWindow: Get<BlockNumberFor<Self>>;

		/// The most blocks an authorisation may live after the chain first sees it.
		#[pallet::constant]
		type MaxKeyLifetime: Get<BlockNumberFor<Self>>;

		/// The most base models one provider offers.
		#[pallet::constant]
		type MaxOffers: Get<u32>;

		/// The most authorisations one settlement names.
		#[pallet::constant]
		type MaxSettlementKeys: Get<u32>;

		/// The most records one settlement holds.
		#[pallet::constant]
		type MaxSettlementRecords: Get<u32>;

		/// Builds the benchmarks' state.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, Self::Signature>;

		/// The weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A user's prepaid funds for inference, on its account.
		Prepaid,
		/// Fees settled and not yet claimed, on the pallet's account.
		Owed,
	}

	/// Each provider's offers: the base models it serves and its price per 1,000 tokens.
	#[pallet::storage]
	pub type Offers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, OffersOf<T>>;

	/// Each user's prepaid funds with each provider: what that provider's settlements may take.
	#[pallet::storage]
	pub type PrepaidFunds<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		PrepaidOf<T>,
	>;

	/// The authorisations the chain has seen settle or be revoked, by id, until they can
	/// settle nothing more.
	#[pallet::storage]
	pub type Keys<T: Config> = StorageMap<_, Identity, T::Hash, KeyStateOf<T>>;

	/// When each remembered authorisation is forgotten: the block after its last possible
	/// settlement.
	#[pallet::storage]
	pub type Expiries<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Identity, T::Hash, ()>;

	/// The first block whose [`Expiries`] `on_idle` has not cleared yet.
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// What each account may claim: providers', owners' and the protocol pot's parts.
	#[pallet::storage]
	pub type Rewards<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// What inferences paid into each datanet version's contributor pool.
	#[pallet::storage]
	pub type ContributorPools<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Twox64Concat,
		VersionId,
		Pool<BalanceOf<T>>,
		ValueQuery,
	>;

	/// What each contribution claimed from each version's pool.
	#[pallet::storage]
	pub type ContributionClaims<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, DatanetId>,
			NMapKey<Twox64Concat, VersionId>,
			NMapKey<Twox64Concat, ContributionId>,
		),
		BalanceOf<T>,
		ValueQuery,
	>;

	/// What each model's inferences earned.
	#[pallet::storage]
	pub type ModelEarnings<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, Earnings<BalanceOf<T>>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider offers `base_model` at `price_per_1k_tokens`, or changed its price.
		OfferSet {
			provider: T::AccountId,
			base_model: BaseModelId,
			price_per_1k_tokens: BalanceOf<T>,
		},
		/// A provider no longer offers `base_model`.
		OfferWithdrawn { provider: T::AccountId, base_model: BaseModelId },
		/// A user deposited funds for inference with `provider`; `held` is what it has prepaid
		/// there now.
		Deposited {
			user: T::AccountId,
			provider: T::AccountId,
			amount: BalanceOf<T>,
			held: BalanceOf<T>,
		},
		/// A user asked to withdraw `amount` from its funds with `provider`, which it may from
		/// block `due`.
		WithdrawalRequested {
			user: T::AccountId,
			provider: T::AccountId,
			amount: BalanceOf<T>,
			due: BlockNumberFor<T>,
		},
		/// A withdrawal completed: `amount` was released to the user.
		Withdrawn { user: T::AccountId, provider: T::AccountId, amount: BalanceOf<T> },
		/// A user revoked an authorisation; it settles until `settles_until`.
		KeyRevoked { key: T::Hash, user: T::AccountId, settles_until: BlockNumberFor<T> },
		/// An authorisation's records settled: `amount` for `records` inferences, `spent` in all
		/// under it now, up to record number `last_seq`.
		KeySettled {
			key: T::Hash,
			user: T::AccountId,
			records: u32,
			amount: BalanceOf<T>,
			spent: BalanceOf<T>,
			last_seq: u64,
		},
		/// A settlement's fees for one model, split to the unit.
		ModelPaid {
			model: ModelId,
			inferences: u32,
			tokens: u64,
			protocol: BalanceOf<T>,
			provider: BalanceOf<T>,
			owner: BalanceOf<T>,
			contributors: BalanceOf<T>,
		},
		/// A provider settled `records` inferences of `keys` authorisations for `fees` in all.
		Settled { provider: T::AccountId, keys: u32, records: u32, fees: BalanceOf<T> },
		/// `account` was paid what it earned.
		RewardsClaimed { account: T::AccountId, amount: BalanceOf<T> },
		/// A contribution's contributor was paid its share of a version's pool.
		ContributionRewardsClaimed {
			datanet: DatanetId,
			version: VersionId,
			contribution: ContributionId,
			contributor: T::AccountId,
			amount: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only an active, bonded provider of the compute market may offer serving.
		NotProvider,
		/// No base model has this id.
		UnknownBaseModel,
		/// The provider offers as many base models as it may.
		TooManyOffers,
		/// The provider does not offer this base model.
		NoSuchOffer,
		/// The amount is zero.
		ZeroAmount,
		/// The account cannot spend that much: too little free balance, or frozen by a lock.
		FundsUnavailable,
		/// The user has no prepaid funds.
		NoPrepaidFunds,
		/// The withdrawal is more than the prepaid funds.
		WithdrawalAboveFunds,
		/// No withdrawal is pending.
		NoWithdrawal,
		/// The withdrawal's delay has not passed.
		WithdrawalNotDue,
		/// Only the authorisation's user may revoke it.
		NotKeyOwner,
		/// The authorisation is revoked already.
		AlreadyRevoked,
		/// The authorisation was signed for another chain.
		WrongChain,
		/// The authorisation names another provider.
		WrongProvider,
		/// The signature does not verify against the authorisation's user.
		BadSignature,
		/// The authorisation names no model, or one twice.
		BadModels,
		/// The authorisation expires later than `MaxKeyLifetime` from now.
		ExpiryTooFar,
		/// The authorisation expired, and its settlement window passed.
		KeyExpired,
		/// The authorisation was revoked, and its settlement window passed.
		KeyRevoked,
		/// The settlement names no authorisation, or one with no records.
		EmptySettlement,
		/// The settlement names more authorisations or records than it may.
		SettlementTooLarge,
		/// The settlement pays for more than `MAX_BATCH_MODELS` distinct models.
		TooManyModels,
		/// A record's number is not above every number settled before under its
		/// authorisation: it settled already, or comes out of order.
		Replayed,
		/// The authorisation does not allow the record's model.
		ModelNotAllowed,
		/// No model has this id.
		UnknownModel,
		/// The model was never published.
		ModelNotPublished,
		/// The model is retired.
		ModelRetired,
		/// The provider does not offer the model's base model.
		BaseNotServed,
		/// A record counts no tokens.
		NoTokens,
		/// A record's fee is not what the authorisation's prices give for its tokens.
		WrongFee,
		/// The settlement would take the authorisation above its maximum spend.
		SpendLimitExceeded,
		/// The user's prepaid funds do not cover the settlement.
		InsufficientPrepaid,
		/// Nothing is owed.
		NothingToClaim,
		/// The contribution is not an accepted contribution of the version.
		NotInVersion,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::forget_expired(now, remaining)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Offers to serve the published models of `base_model` at `price_per_1k_tokens`, or
		/// changes the price.
		///
		/// The origin must be an active provider of the compute market. Emits
		/// [`Event::OfferSet`]. Errors: `NotProvider`, `UnknownBaseModel`, `TooManyOffers`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_offer())]
		pub fn set_offer(
			origin: OriginFor<T>,
			base_model: BaseModelId,
			price_per_1k_tokens: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_offer(who, base_model, price_per_1k_tokens)
		}

		/// Stops offering `base_model`. What was served on it must be settled first.
		///
		/// The origin must be the provider. Emits [`Event::OfferWithdrawn`]. Errors:
		/// `NoSuchOffer`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw_offer())]
		pub fn withdraw_offer(origin: OriginFor<T>, base_model: BaseModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_offer(who, base_model)
		}

		/// Holds `amount` of the caller's balance for inference with `provider`: that
		/// provider's settlements, and only its, take from it.
		///
		/// The origin must be signed. Emits [`Event::Deposited`]. Errors: `ZeroAmount`,
		/// `FundsUnavailable` (locked funds cannot be deposited).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::deposit())]
		pub fn deposit(
			origin: OriginFor<T>,
			provider: T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit(who, provider, amount)
		}

		/// Asks to withdraw `amount` of the caller's prepaid funds with `provider` after
		/// [`Config::WithdrawalDelay`]; replaces a pending request and its delay.
		///
		/// The origin must be signed. Emits [`Event::WithdrawalRequested`]. Errors:
		/// `ZeroAmount`, `NoPrepaidFunds`, `WithdrawalAboveFunds`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::request_withdrawal())]
		pub fn request_withdrawal(
			origin: OriginFor<T>,
			provider: T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_withdrawal(who, provider, amount)
		}

		/// Completes the caller's pending withdrawal from its funds with `provider`: releases
		/// what it asked for, or what settlements left of it.
		///
		/// The origin must be signed. Emits [`Event::Withdrawn`]. Errors: `NoPrepaidFunds`,
		/// `NoWithdrawal`, `WithdrawalNotDue`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, provider: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who, provider)
		}

		/// Revokes an authorisation of the caller's: providers serve it no more, and it settles
		/// what was served for [`Config::SettlementWindow`] blocks.
		///
		/// The origin must be the authorisation's user, with prepaid funds at its provider (a
		/// key without them could pay nothing). Emits [`Event::KeyRevoked`]. Errors:
		/// `NotKeyOwner`, `NoPrepaidFunds`, `AlreadyRevoked`, `KeyExpired`, `ExpiryTooFar`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::revoke())]
		pub fn revoke(origin: OriginFor<T>, authorisation: AuthorisationOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_revoke(who, authorisation)
		}

		/// Settles the inferences the caller served: for each authorisation, its records in the
		/// order served. All or nothing.
		///
		/// The origin must be the provider the authorisations name. Emits
		/// [`Event::KeySettled`] per authorisation, [`Event::ModelPaid`] per model and
		/// [`Event::Settled`]. Errors: `EmptySettlement`, `SettlementTooLarge`,
		/// `TooManyModels`, the authorisations' (`WrongProvider`, `WrongChain`, `BadSignature`,
		/// `BadModels`, `ExpiryTooFar`, `KeyExpired`, `KeyRevoked`, `SpendLimitExceeded`,
		/// `InsufficientPrepaid`) and the records' (`Replayed`, `ModelNotAllowed`,
		/// `UnknownModel`, `ModelNotPublished`, `ModelRetired`, `BaseNotServed`, `NoTokens`,
		/// `WrongFee`).
		///
		/// Weight: declared for as many distinct models as the records could name; charged for
		/// those they named.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::settle_weight(batch))]
		pub fn settle(
			origin: OriginFor<T>,
			batch: Vec<KeyRecordsOf<T>>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_settle(who, batch)
		}

		/// Pays `account` what settlements owe it: as a provider, a model's owner or the
		/// protocol pot.
		///
		/// The origin must be signed; the money goes to `account`, whoever asks. Emits
		/// [`Event::RewardsClaimed`]. Errors: `NothingToClaim`, or the currency's when the
		/// amount cannot create `account`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::claim_rewards())]
		pub fn claim_rewards(origin: OriginFor<T>, account: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim_rewards(account)
		}

		/// Pays a contribution's contributor its share of what inferences paid into a version's
		/// pool: the pool's payments times the contribution's bytes over the version's, less
		/// what it claimed before.
		///
		/// The origin must be signed; the money goes to the contributor, whoever asks. Emits
		/// [`Event::ContributionRewardsClaimed`]. Errors: `NotInVersion`, `NothingToClaim`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::claim_contribution_rewards())]
		pub fn claim_contribution_rewards(
			origin: OriginFor<T>,
			datanet: DatanetId,
			version: VersionId,
			contribution: ContributionId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim_contribution_rewards(datanet, version, contribution)
		}
	}
}
