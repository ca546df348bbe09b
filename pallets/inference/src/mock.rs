//! A test runtime with balances and the inference pallet; the model registry, the compute
//! market's providers and the datanets' contributions are tables the tests fill.

use crate as pallet_inference;
use crate::{Authorisation, KeyModel, KeyRecords, Record, SignedAuthorisation};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
	weights::Weight,
	BoundedVec, PalletId,
};
use openledger_primitives::{
	BaseModelId, ContributionId, Creation, DatanetAccess, DatanetId, JobKind, JobMarket, ModelId,
	ModelRegistry, ModelUnavailable, PublishedVersion, ServedModel, VersionId, VersionUnavailable,
};
use sp_core::H256;
use sp_runtime::{testing::TestSignature, BuildStorage, DispatchError, DispatchResult, Perbill};
use std::collections::{BTreeMap, BTreeSet};

pub type AccountId = u64;
pub type Balance = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Inference: pallet_inference,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type ExistentialDeposit = ConstU64<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const OWNER: AccountId = 3;
pub const PROVIDER: AccountId = 7;
pub const OTHER_PROVIDER: AccountId = 8;
pub const C1: AccountId = 20;
pub const C2: AccountId = 21;
pub const POT: AccountId = 99;
pub const POOR: AccountId = 50;

/// The base model the providers serve, one nobody serves, and a third.
pub const BASE: BaseModelId = 0;
pub const OTHER_BASE: BaseModelId = 1;
pub const THIRD_BASE: BaseModelId = 2;
/// A published model on [`BASE`] trained on two versions of 300 and 100 bytes, at 1,000 per
/// 1,000 tokens, a fifth of it for the contributors.
pub const MODEL: ModelId = 5;
/// A published model on [`BASE`] trained on one version, at 400, half for the contributors.
pub const MODEL2: ModelId = 6;
/// A published model on [`OTHER_BASE`].
pub const UNSERVED: ModelId = 7;
pub const DRAFT: ModelId = 8;
pub const RETIRED: ModelId = 9;
pub const SERVING_PRICE: Balance = 200;

pub const WITHDRAWAL_DELAY: u64 = 10;
pub const SETTLEMENT_WINDOW: u64 = 20;
pub const MAX_KEY_LIFETIME: u64 = 1_000;
pub const MAX_KEYS: u32 = 8;
pub const MAX_RECORDS: u32 = 64;

parameter_types! {
	pub const InferencePalletId: PalletId = PalletId(*b"ol/infer");
	pub const Pot: AccountId = POT;
	pub const ProtocolShare: Perbill = Perbill::from_percent(10);
}

impl pallet_inference::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Signature = TestSignature;
	type Models = MockModels;
	type Providers = MockProviders;
	type Datanets = MockDatanets;
	type PalletId = InferencePalletId;
	type ProtocolPot = Pot;
	type ProtocolShare = ProtocolShare;
	type WithdrawalDelay = ConstU64<WITHDRAWAL_DELAY>;
	type SettlementWindow = ConstU64<SETTLEMENT_WINDOW>;
	type MaxKeyLifetime = ConstU64<MAX_KEY_LIFETIME>;
	type MaxOffers = ConstU32<2>;
	type MaxSettlementKeys = ConstU32<MAX_KEYS>;
	type MaxSettlementRecords = ConstU32<MAX_RECORDS>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type WeightInfo = ();
}

/// A model of the mock registry, or why it is not served.
pub type MockModel = Result<ServedModel<AccountId, Balance>, ModelUnavailable>;
/// An accepted contribution in a version: its contributor, its size, the version's size.
pub type MockContribution = (AccountId, u64, u64);

thread_local! {
	/// The model registry.
	pub static MODELS: RefCell<BTreeMap<ModelId, MockModel>> = const { RefCell::new(BTreeMap::new()) };
	/// The compute market's active providers.
	pub static PROVIDERS: RefCell<BTreeSet<AccountId>> = const { RefCell::new(BTreeSet::new()) };
	/// Accepted contributions of versions.
	pub static CONTRIBUTIONS: RefCell<BTreeMap<(DatanetId, VersionId, ContributionId), MockContribution>> =
		const { RefCell::new(BTreeMap::new()) };
}

pub struct MockModels;
impl ModelRegistry<AccountId, Balance> for MockModels {
	fn served(model: ModelId) -> Result<ServedModel<AccountId, Balance>, ModelUnavailable> {
		MODELS.with(|m| {
			m.borrow().get(&model).cloned().unwrap_or(Err(ModelUnavailable::UnknownModel))
		})
	}
	fn base_model_registered(base_model: BaseModelId) -> bool {
		base_model <= THIRD_BASE
	}
}

/// Sets a model's price and share as its owner would republish it.
pub fn set_price(model: ModelId, price: Balance) {
	MODELS.with(|m| {
		if let Some(Ok(served)) = m.borrow_mut().get_mut(&model) {
			served.price_per_1k_tokens = price;
		}
	})
}

pub fn set_unavailable(model: ModelId, why: ModelUnavailable) {
	MODELS.with(|m| m.borrow_mut().insert(model, Err(why)));
}

pub struct MockProviders;
impl JobMarket<AccountId, Balance, u64> for MockProviders {
	fn create(
		_: &AccountId,
		_: JobKind,
		_: Vec<u8>,
		_: Balance,
		_: u64,
	) -> Result<Creation, DispatchError> {
		Ok(Creation { job: None, weight: Weight::zero() })
	}
	fn create_weight() -> Weight {
		Weight::zero()
	}
	fn assignee(_: u64) -> Option<AccountId> {
		None
	}
	fn min_fee() -> Balance {
		1
	}
	fn is_active_provider(who: &AccountId) -> bool {
		PROVIDERS.with(|p| p.borrow().contains(who))
	}
}

pub struct MockDatanets;
impl DatanetAccess<AccountId, Balance> for MockDatanets {
	fn published(
		_: DatanetId,
		_: VersionId,
	) -> Result<PublishedVersion<Balance>, VersionUnavailable> {
		Err(VersionUnavailable::UnknownDatanet)
	}
	fn reserve_access(_: &AccountId, _: DatanetId, _: VersionId, _: Balance) -> DispatchResult {
		Err(DispatchError::Other("no access fees here"))
	}
	fn settle_access(_: DatanetId, _: VersionId, _: Balance) -> DispatchResult {
		Err(DispatchError::Other("no access fees here"))
	}
	fn refund_access(_: &AccountId, _: DatanetId, _: VersionId, _: Balance) -> DispatchResult {
		Err(DispatchError::Other("no access fees here"))
	}
	fn access_weight() -> Weight {
		Weight::zero()
	}
	fn contribution_in_version(
		datanet: DatanetId,
		version: VersionId,
		contribution: ContributionId,
	) -> Option<(AccountId, u64, u64)> {
		CONTRIBUTIONS.with(|c| c.borrow().get(&(datanet, version, contribution)).copied())
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, TestSignature> for () {
	fn provider(who: &AccountId) {
		PROVIDERS.with(|p| p.borrow_mut().insert(*who));
	}
	fn base_model() -> BaseModelId {
		BASE
	}
	fn published_model(owner: &AccountId, base_model: BaseModelId) -> ModelId {
		let id = MODELS.with(|m| m.borrow().keys().last().map_or(100, |k| k + 1));
		let sources = (0..8).map(|v| (id, v, 1_000)).collect::<Vec<_>>();
		MODELS.with(|m| {
			m.borrow_mut().insert(
				id,
				Ok(ServedModel {
					owner: *owner,
					base_model,
					price_per_1k_tokens: 1_000,
					contributor_share: Perbill::from_percent(20),
					sources: BoundedVec::truncate_from(sources),
				}),
			)
		});
		id
	}
	fn contribution() -> (DatanetId, VersionId, ContributionId) {
		CONTRIBUTIONS.with(|c| c.borrow_mut().insert((0, 0, 0), (C1, 500, 1_000)));
		(0, 0, 0)
	}
	fn user(n: u32) -> AccountId {
		1_000 + u64::from(n)
	}
	fn sign(n: u32, message: &[u8]) -> TestSignature {
		TestSignature(1_000 + u64::from(n), message.to_vec())
	}
}

/// An authorisation of `user` for [`PROVIDER`] on `models` at their current prices and
/// [`SERVING_PRICE`], up to `max_spend`, expiring at block 500.
pub fn authorisation(
	user: AccountId,
	models: &[ModelId],
	max_spend: Balance,
) -> Authorisation<AccountId, Balance, u64, H256> {
	let models = models
		.iter()
		.map(|&model| KeyModel {
			model,
			model_price: match MockModels::served(model) {
				Ok(served) => served.price_per_1k_tokens,
				Err(_) => 1_000,
			},
			serving_price: SERVING_PRICE,
		})
		.collect::<Vec<_>>();
	Authorisation {
		genesis: System::block_hash(0),
		user,
		provider: PROVIDER,
		models: BoundedVec::truncate_from(models),
		max_spend,
		expires: 500,
		nonce: 0,
	}
}

/// `authorisation` signed by its user.
pub fn sign(
	authorisation: Authorisation<AccountId, Balance, u64, H256>,
) -> SignedAuthorisation<AccountId, Balance, u64, H256, TestSignature> {
	let signature = TestSignature(authorisation.user, Inference::signing_payload(&authorisation));
	SignedAuthorisation { authorisation, signature }
}

/// A record of `tokens` (half prompt, half completion) on `model` under `key`, with the fee its
/// pinned prices give.
pub fn record(
	key: &SignedAuthorisation<AccountId, Balance, u64, H256, TestSignature>,
	seq: u64,
	model: ModelId,
	tokens: u32,
) -> Record<Balance, H256> {
	let pinned = key.authorisation.models.iter().find(|m| m.model == model);
	let fee = pinned.map_or(0, |p| {
		crate::fee_for(u64::from(tokens), p.model_price)
			+ crate::fee_for(u64::from(tokens), p.serving_price)
	});
	Record {
		seq,
		model,
		prompt_tokens: tokens / 2,
		completion_tokens: tokens - tokens / 2,
		fee,
		request: H256::repeat_byte(seq as u8),
	}
}

pub type Batch = Vec<KeyRecords<AccountId, Balance, u64, H256, TestSignature>>;

/// One key's records as a settlement.
pub fn batch_of(
	key: &SignedAuthorisation<AccountId, Balance, u64, H256, TestSignature>,
	records: Vec<Record<Balance, H256>>,
) -> Batch {
	vec![KeyRecords { key: key.clone(), records }]
}

/// Runs to block `n`, with `on_idle` given all the weight it asks for.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Inference::on_idle(next, Weight::MAX);
	}
}

pub fn events() -> Vec<pallet_inference::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Every account but [`POOR`] starts with 1,000,000; [`PROVIDER`] and [`OTHER_PROVIDER`] are
/// active providers, and [`PROVIDER`] offers [`BASE`].
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: [ALICE, BOB, OWNER, PROVIDER, OTHER_PROVIDER, C1, C2, POT]
			.into_iter()
			.map(|a| (a, 1_000_000))
			.chain([(POOR, 10)])
			.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	MODELS.with(|m| {
		let mut m = m.borrow_mut();
		m.clear();
		let model = |base, price, share, sources: Vec<(DatanetId, VersionId, u64)>| {
			Ok(ServedModel {
				owner: OWNER,
				base_model: base,
				price_per_1k_tokens: price,
				contributor_share: Perbill::from_percent(share),
				sources: BoundedVec::truncate_from(sources),
			})
		};
		m.insert(MODEL, model(BASE, 1_000, 20, vec![(1, 0, 300), (2, 0, 100)]));
		m.insert(MODEL2, model(BASE, 400, 50, vec![(3, 1, 1_000)]));
		m.insert(UNSERVED, model(OTHER_BASE, 1_000, 20, vec![(1, 0, 300)]));
		m.insert(DRAFT, Err(ModelUnavailable::NotPublished));
		m.insert(RETIRED, Err(ModelUnavailable::Retired));
	});
	PROVIDERS.with(|p| *p.borrow_mut() = [PROVIDER, OTHER_PROVIDER].into_iter().collect());
	CONTRIBUTIONS.with(|c| {
		let mut c = c.borrow_mut();
		c.clear();
		c.insert((1, 0, 0), (C1, 200, 300));
		c.insert((1, 0, 1), (C2, 100, 300));
		c.insert((2, 0, 4), (C1, 100, 100));
	});
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		frame_support::assert_ok!(Inference::set_offer(
			RuntimeOrigin::signed(PROVIDER),
			BASE,
			SERVING_PRICE
		));
	});
	ext
}

/// Runs `test`, then checks the pallet's invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Inference::do_try_state().unwrap();
	})
}
