//! # OpenLedger runtime fuzzer
//!
//! Random sequences of calls, from random origins, into the real runtime, block after block, with
//! the chain's invariants checked after every block. The same [`Fuzzer::run`] serves three uses:
//!
//! - `scripts/test.sh` runs a few thousand inputs from a fixed seed (`tests/bounded.rs`);
//! - `scripts/fuzz.sh` runs a coverage-guided campaign (ziggy, on AFL++) on the
//!   `openledger-fuzz-runtime` binary, with its corpus outside the clone;
//! - the same binary, built without a fuzzer, replays inputs (a finding, a corpus) and prints each
//!   block, call and result.
//!
//! ## An input
//!
//! Every input starts from the same chain: the development genesis, then a few blocks of real
//! transactions ([`world`]) that leave one of each thing OpenLedger's calls act on (a datanet
//! with a published version, a provider, jobs, a published model with an offer and prepaid
//! funds, a grant application, a referendum with vote-locked OPEN), so that the generator's
//! small ids name things that exist.
//!
//! An input is read as a sequence of decisions ([`arbitrary::Unstructured`]): advance some blocks,
//! or dispatch a call from an origin. Origins are the signed accounts of [`Fuzzer::accounts`]
//! (endowed ones, Alice holding the sudo key; `//One` and `//Two` with the investor and team
//! allocations under vesting; one poor account and one without any OPEN), root, the governance
//! origins of every referendum track, and none. Calls come from [`generate::CallGenerator`],
//! which writes any call of any pallet of the runtime from its type information: a pallet added
//! to the runtime is fuzzed with no change here. [`world::shape`] then fills in what random bytes
//! cannot: inference keys signed by their users' keys with fees from their prices, and job
//! results that match their requests.
//!
//! Signed calls are real transactions: signed (ed25519), with the runtime's transaction
//! extensions (nonce, weight, fees), applied by `Executive::apply_extrinsic`. Root and governance
//! origins dispatch as a referendum's enactment does. Each block runs `on_initialize`, the
//! timestamp inherent, the calls, `on_idle` and `on_finalize`.
//!
//! ## The invariants, after every block
//!
//! - the block's weight is within its limit, and no root or governance call used more weight
//!   than it declared;
//! - total issuance equals the sum of every account's free and reserved OPEN;
//! - total issuance changes only by what the block's events account for: burns and dust lost.
//!   OPEN has a fixed supply: nothing creates it;
//! - no account's holds exceed its reserved balance, its frozen balance is its largest lock or
//!   freeze, and an account with consumers has a provider;
//! - `try_state` of every pallet, and every pallet's `integrity_test`;
//! - nothing reported by `defensive!` (a state the runtime's code holds impossible).
//!
//! A broken invariant panics with what broke: that is a finding.

pub mod generate;
pub mod world;

use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};

use arbitrary::Unstructured;
use codec::{DecodeLimit, Encode};
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::{GetCallMetadata, IntegrityTest},
};
use openledger_runtime::{
	currency::OPEN,
	genesis_config_presets::{base_models, genesis_balances, Beneficiaries},
	time::SLOT_DURATION,
	tokenomics::investor_and_team_vesting,
	AccountId, AllPalletsWithSystem, AuraConfig, Balance, BlockNumber, Executive, GrandpaConfig,
	Header, ModelsConfig, OriginsConfig, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig,
	RuntimeOrigin, SignedPayload, SudoConfig, UncheckedExtrinsic, VestingConfig,
};
use pallet_governance::{Origin as GovernanceOrigin, Pace};
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_core::{ed25519, Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{
	traits::{AccountIdConversion, BlakeTwo256, Dispatchable, Hash, Header as _},
	BuildStorage, Digest, DigestItem, Storage,
};

use generate::{CallGenerator, Dictionary};

/// The most blocks one input runs, after the world's.
pub const MAX_BLOCKS: BlockNumber = 400;
/// The most calls one input makes.
pub const MAX_CALLS: u64 = 512;
/// What the poor account holds at genesis.
pub const POOR_BALANCE: Balance = 10 * OPEN;

/// An account that signs transactions.
pub struct Signer {
	/// Its name in traces.
	pub name: &'static str,
	/// Its key.
	pub pair: ed25519::Pair,
	/// Its account.
	pub id: AccountId,
}

/// The signer of `signers` named `name`.
pub fn named<'a>(signers: &'a [Signer], name: &str) -> Option<&'a Signer> {
	signers.iter().find(|signer| signer.name == name)
}

/// The origins that dispatch without a transaction, as a referendum's enactment does.
const GOVERNANCE: [GovernanceOrigin; 8] = [
	GovernanceOrigin::ProtocolParameters,
	GovernanceOrigin::Treasurer,
	GovernanceOrigin::SmallSpender,
	GovernanceOrigin::MediumSpender,
	GovernanceOrigin::BigSpender,
	GovernanceOrigin::GrantsExploration,
	GovernanceOrigin::GrantsBuilding,
	GovernanceOrigin::GrantsExpansion,
];

/// What a run did: how many blocks and calls, and which calls succeeded.
#[derive(Clone, Debug, Default)]
pub struct Stats {
	/// Blocks run (and checked).
	pub blocks: u64,
	/// Calls generated that decoded.
	pub calls: u64,
	/// Generated calls that did not decode (a bound the type information does not state).
	pub undecodable: u64,
	/// Transactions refused before dispatch (nonce, fees, weight, a bad origin for unsigned).
	pub invalid: u64,
	/// Calls dispatched that returned an error.
	pub failed: u64,
	/// Per `pallet.call`: how many were dispatched, and how many succeeded.
	pub per_call: BTreeMap<String, (u64, u64)>,
	/// Per `pallet.call` and error: how often a dispatched call failed with it.
	pub errors: BTreeMap<(String, String), u64>,
	/// The largest ratio of a successful signed call's time here (native code, weights being
	/// measured on WebAssembly) to its weight's time.
	pub worst_time_per_weight: f64,
	/// The call of that ratio.
	pub worst_call: String,
}

impl Stats {
	/// Adds another run's figures.
	pub fn merge(&mut self, other: &Stats) {
		self.blocks += other.blocks;
		self.calls += other.calls;
		self.undecodable += other.undecodable;
		self.invalid += other.invalid;
		self.failed += other.failed;
		for (call, (dispatched, ok)) in &other.per_call {
			let entry = self.per_call.entry(call.clone()).or_default();
			entry.0 += dispatched;
			entry.1 += ok;
		}
		for (key, count) in &other.errors {
			*self.errors.entry(key.clone()).or_default() += count;
		}
		if other.worst_time_per_weight > self.worst_time_per_weight {
			self.worst_time_per_weight = other.worst_time_per_weight;
			self.worst_call = other.worst_call.clone();
		}
	}
}

/// The runtime, its genesis state, the state inputs start from and the accounts that call it.
pub struct Fuzzer {
	genesis: Storage,
	/// The state after [`world::blocks`], and its last block's number and hash.
	world: Storage,
	head: (BlockNumber, H256),
	genesis_hash: H256,
	accounts: Vec<Signer>,
	dictionary: Dictionary,
	generator: CallGenerator,
	trace: bool,
}

impl Default for Fuzzer {
	fn default() -> Self {
		Self::new()
	}
}

impl Fuzzer {
	/// The development network's genesis (governance at the fast pace, Alice the sudo key), with
	/// ed25519 accounts in place of the well-known sr25519 ones.
	pub fn new() -> Self {
		// What a failed `try_state` says is in its log; a logger installed elsewhere stays.
		if log::set_logger(&StderrLogger).is_ok() {
			log::set_max_level(log::LevelFilter::Warn);
		}
		let key = |k: Ed25519Keyring| k.pair();
		let mut accounts: Vec<Signer> = [
			("alice", key(Ed25519Keyring::Alice)),
			("bob", key(Ed25519Keyring::Bob)),
			("charlie", key(Ed25519Keyring::Charlie)),
			("dave", key(Ed25519Keyring::Dave)),
			("eve", key(Ed25519Keyring::Eve)),
			("ferdie", key(Ed25519Keyring::Ferdie)),
			("one", key(Ed25519Keyring::One)),
			("two", key(Ed25519Keyring::Two)),
			("poor", ed25519::Pair::from_seed(&[1; 32])),
			("nobody", ed25519::Pair::from_seed(&[2; 32])),
		]
		.into_iter()
		.map(|(name, pair)| Signer { name, id: pair.public().into(), pair })
		.collect();
		let id =
			|name: &str| {
				accounts.iter().find(|a| a.name == name).map(|a| a.id.clone()).unwrap_or_else(
					|| unreachable!("every account named here is in the list above"),
				)
			};
		let beneficiaries = Beneficiaries {
			investors: id("one"),
			team: id("two"),
			endowed: ["alice", "bob", "charlie", "dave", "eve", "ferdie"].map(id).to_vec(),
		};
		let mut balances =
			genesis_balances(&beneficiaries).unwrap_or_else(|| unreachable!("the supply suffices"));
		// The poor account's OPEN comes out of the community pot, as the endowments do.
		let community = openledger_runtime::configs::CommunityPotAccount::get();
		for (who, balance) in balances.iter_mut() {
			if *who == community {
				*balance -= POOR_BALANCE;
			}
		}
		balances.push((id("poor"), POOR_BALANCE));
		let config = RuntimeGenesisConfig {
			balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
			vesting: VestingConfig {
				vesting: vec![
					investor_and_team_vesting(id("one")),
					investor_and_team_vesting(id("two")),
				],
			},
			aura: AuraConfig { authorities: vec![Sr25519Keyring::Alice.public().into()] },
			grandpa: GrandpaConfig {
				authorities: vec![(Ed25519Keyring::Alice.public().into(), 1)],
				..Default::default()
			},
			sudo: SudoConfig { key: Some(id("alice")) },
			origins: OriginsConfig { pace: Pace::Fast, ..Default::default() },
			models: ModelsConfig { base_models: base_models(), ..Default::default() },
			..Default::default()
		};
		let genesis = config.build_storage().unwrap_or_else(|e| panic!("genesis: {e}"));

		let mut dictionary_accounts: Vec<AccountId> =
			accounts.iter().map(|a| a.id.clone()).collect();
		dictionary_accounts.push(community);
		dictionary_accounts.push(openledger_runtime::configs::ContributorRewardsPot::get());
		dictionary_accounts.push(openledger_runtime::configs::EcosystemGrantsPot::get());
		// The accounts of the pallets that hold OPEN: compute's escrow, datanets', inference's.
		for id in [*b"ol/escrw", *b"ol/dtnet", *b"ol/infer"] {
			dictionary_accounts.push(frame_support::PalletId(id).into_account_truncating());
		}
		// Contents, and the commitments each account would make to them in datanets 0 and 1.
		let contents: Vec<H256> = world::contents().to_vec();
		// The genesis hash, which signed authorisations name.
		let genesis_hash = sp_io::TestExternalities::new(genesis.clone())
			.execute_with(|| frame_system::Pallet::<Runtime>::block_hash(0));
		let mut hashes = vec![H256::zero(), genesis_hash];
		hashes.extend(contents.iter().copied());
		for account in &accounts {
			for datanet in 0..2u32 {
				for content in &contents {
					hashes.push(pallet_datanets::commitment_of(&account.id, datanet, content));
				}
			}
		}
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![] }).encode();
		let bytes = vec![
			vec![],
			b"openledger".to_vec(),
			b"CC-BY-4.0".to_vec(),
			vec![0x55; 32],
			remark.clone(),
			// Endpoints a provider or a datanet's store registers.
			b"http://10.0.0.1:8080".to_vec(),
			b"https://store.example".to_vec(),
		];
		// The preimages of the byte strings, so that noting one and naming it by hash can meet.
		hashes.extend(bytes.iter().map(|b| BlakeTwo256::hash(b)));
		accounts.shrink_to_fit();
		let mut fuzzer = Self {
			world: genesis.clone(),
			genesis,
			head: (0, genesis_hash),
			genesis_hash,
			accounts,
			dictionary: Dictionary { accounts: dictionary_accounts, hashes, bytes, now: 0 },
			generator: CallGenerator::new(),
			trace: false,
		};
		let (world, head) = fuzzer.build_world(&contents);
		fuzzer.world = world;
		fuzzer.head = head;
		fuzzer
	}

	/// Runs [`world::blocks`] from genesis, every transaction of which must succeed and every
	/// block of which is checked, and returns the state it leaves with its last block.
	fn build_world(&self, contents: &[H256]) -> (Storage, (BlockNumber, H256)) {
		let id = |name: &str| {
			named(&self.accounts, name)
				.map(|a| a.id.clone())
				.unwrap_or_else(|| panic!("the world names {name}, who is not a harness account"))
		};
		let blocks = world::blocks(&id, contents);
		let mut ext = sp_io::TestExternalities::new(self.genesis.clone());
		ext.execute_with(|| {
			let mut stats = Stats::default();
			let mut chain = Chain::start((0, self.genesis_hash), false);
			for (n, transactions) in blocks.into_iter().enumerate() {
				if n > 0 {
					chain.next_block(&mut stats);
				}
				for (name, mut call) in transactions {
					let signer = named(&self.accounts, name);
					let Some(signer) = signer else { unreachable!("id() found {name}") };
					// The world's results are the ones shaped from their requests.
					if matches!(&call, RuntimeCall::Compute(pallet_compute::Call::submit_result {
						result, ..
					}) if result.is_empty())
					{
						let mut u = Unstructured::new(&[]);
						let _ = world::shape(
							&mut call,
							&mut u,
							signer,
							&self.accounts,
							self.genesis_hash,
							chain.number,
						);
					}
					let label = call_name(&call);
					let outcome = self.signed(&chain, signer, call, 0, &label, &mut stats);
					assert!(
						matches!(outcome, Some(Ok(()))),
						"the world's {label} from {name} in block {}: {outcome:?}",
						chain.number
					);
				}
			}
			chain.end_block(&mut stats);
			// The state, key by key (the runtime keeps nothing in child tries).
			let mut top = BTreeMap::new();
			let mut key = Vec::new();
			while let Some(next) = sp_io::storage::next_key(&key) {
				if let Some(value) = sp_io::storage::get(&next) {
					top.insert(next.clone(), value.to_vec());
				}
				key = next;
			}
			(Storage { top, children_default: Default::default() }, (chain.number, chain.parent))
		})
	}

	/// Prints each block, call and outcome to standard error.
	pub fn with_trace(mut self, trace: bool) -> Self {
		self.trace = trace;
		self
	}

	/// The accounts that sign calls.
	pub fn accounts(&self) -> &[Signer] {
		&self.accounts
	}

	/// The block the world ends with: inputs start with the next.
	pub fn world_head(&self) -> BlockNumber {
		self.head.0
	}

	/// Externalities holding the harness's genesis state, for tests of one finding.
	pub fn genesis_ext(&self) -> sp_io::TestExternalities {
		sp_io::TestExternalities::new(self.genesis.clone())
	}

	/// Runs one input from genesis, checking the invariants after every block. Panics with what
	/// broke if one does not hold.
	pub fn run(&self, data: &[u8]) -> Stats {
		let mut stats = Stats::default();
		let mut ext = sp_io::TestExternalities::new(self.world.clone());
		ext.execute_with(|| {
			let mut chain = Chain::start(self.head, self.trace);
			let last = self.head.0.saturating_add(MAX_BLOCKS);
			let mut u = Unstructured::new(data);
			DEFENSIVE.with_borrow_mut(Vec::clear);
			while !u.is_empty() && chain.number < last && stats.calls < MAX_CALLS {
				let step = self.step(&mut u, &mut chain, &mut stats);
				if step.is_err() {
					break;
				}
			}
			chain.end_block(&mut stats);
		});
		stats
	}

	fn step(
		&self,
		u: &mut Unstructured,
		chain: &mut Chain,
		stats: &mut Stats,
	) -> arbitrary::Result<()> {
		let choice = u.int_in_range(0u8..=99)?;
		if choice < 12 {
			// Advance: one block most often, sometimes enough for a referendum or a deadline.
			let blocks = match u.int_in_range(0u8..=15)? {
				0..=11 => 1,
				12..=14 => u.int_in_range(2..=20)?,
				_ => u.int_in_range(21..=80)?,
			};
			for _ in 0..blocks {
				if chain.number >= self.head.0.saturating_add(MAX_BLOCKS) {
					break;
				}
				chain.next_block(stats);
			}
			return Ok(());
		}
		// The origin: a signed account most often.
		let mut origin = match choice {
			// Half the time the last signer again: a datanet's or a provider's owner acts on what it
			// created.
			12..=85 => match chain.last_signer {
				Some(last) if u.arbitrary()? => Origin::Signed(last),
				_ => Origin::Signed(u.int_in_range(0..=self.accounts.len() - 1)?),
			},
			86..=91 => Origin::Root,
			92..=97 => Origin::Governance(*u.choose(&GOVERNANCE)?),
			_ => Origin::None,
		};
		if let Origin::Signed(index) = origin {
			chain.last_signer = Some(index);
		}
		let mut dictionary = self.dictionary.clone();
		dictionary.now = u64::from(chain.number);
		if let Origin::Signed(index) = origin {
			// The signer's own account first: calls about oneself pass more checks.
			if let Some(signer) = self.accounts.get(index) {
				dictionary.accounts.insert(0, signer.id.clone());
			}
		}
		let encoded = self.generator.call(u, &dictionary)?;
		let Ok(mut call) = RuntimeCall::decode_all_with_depth_limit(64, &mut encoded.as_slice())
		else {
			stats.undecodable += 1;
			return Ok(());
		};
		let name = call_name(&call);
		// Half the time, a signed call that someone of the world makes comes from them: the
		// provider, a datanet's owner, a model's owner, the prepaid user, a grant's track.
		if let (Origin::Signed(_), Some(actor)) = (origin, world::actor(&name)) {
			if u.ratio(1, 2)? {
				origin = match actor {
					world::Actor::Signed(who) => self
						.accounts
						.iter()
						.position(|a| a.name == who)
						.map_or(origin, Origin::Signed),
					world::Actor::Governance(track) => Origin::Governance(track),
				};
				if let Origin::Signed(index) = origin {
					chain.last_signer = Some(index);
				}
			}
		}
		if let Origin::Signed(index) = origin {
			if let Some(signer) = self.accounts.get(index) {
				world::shape(
					&mut call,
					u,
					signer,
					&self.accounts,
					self.genesis_hash,
					chain.number,
				)?;
			}
		}
		stats.calls += 1;
		let tip = if u.ratio(1, 8)? { u.int_in_range(0u128..=10)?.saturating_mul(OPEN) } else { 0 };
		chain.trace(format_args!("    {origin:?} {call:?}"));
		let outcome = match origin {
			Origin::Signed(index) => {
				let Some(signer) = self.accounts.get(index) else { return Ok(()) };
				self.signed(chain, signer, call, tip, &name, stats)
			},
			Origin::None => {
				match Executive::apply_extrinsic(UncheckedExtrinsic::new_bare(call.clone())) {
					Ok(result) => Some(result.map_err(|e| format!("{e:?}"))),
					Err(invalid) => {
						chain.trace(format_args!("    none {name}: invalid {invalid:?}"));
						None
					},
				}
			},
			Origin::Root => Some(enact(call.clone(), RuntimeOrigin::root(), &name)),
			Origin::Governance(origin) => {
				Some(enact(call.clone(), RuntimeOrigin::from(origin), &name))
			},
		};
		let entry = stats.per_call.entry(name.clone()).or_default();
		match outcome {
			None => stats.invalid += 1,
			Some(result) => {
				entry.0 += 1;
				match &result {
					Ok(()) => entry.1 += 1,
					Err(error) => {
						stats.failed += 1;
						*stats.errors.entry((name.clone(), error.clone())).or_default() += 1;
					},
				}
				chain.trace(format_args!("      -> {result:?}"));
			},
		}
		Ok(())
	}

	/// A signed transaction, as a wallet would send it, applied as a block builder does.
	fn signed(
		&self,
		chain: &Chain,
		signer: &Signer,
		call: RuntimeCall,
		tip: Balance,
		name: &str,
		stats: &mut Stats,
	) -> Option<Result<(), String>> {
		let nonce = frame_system::Pallet::<Runtime>::account_nonce(&signer.id);
		let extension = openledger_runtime::tx_extension(nonce, tip);
		// What the transaction is charged for: the call, its extensions and the base of every
		// transaction (signature check, fee payment).
		let base = <Runtime as frame_system::Config>::BlockWeights::get()
			.get(frame_support::dispatch::DispatchClass::Normal)
			.base_extrinsic;
		let weight = call.get_dispatch_info().total_weight().saturating_add(base);
		let payload = SignedPayload::new(call.clone(), extension.clone()).ok()?;
		let signature = payload.using_encoded(|bytes| signer.pair.sign(bytes));
		let xt = UncheckedExtrinsic::new_signed(
			call,
			sp_runtime::MultiAddress::Id(signer.id.clone()),
			signature.into(),
			extension,
		);
		let started = Instant::now();
		let applied = Executive::apply_extrinsic(xt);
		let elapsed = started.elapsed();
		match applied {
			Ok(result) => {
				// Of the calls that succeeded (one refused early is quicker than its weight says),
				// but for those whose weight the caller declares.
				let declared = DECLARED_WEIGHT.contains(&name);
				let ratio = if result.is_ok() && !declared {
					time_per_weight(elapsed, weight.ref_time())
				} else {
					0.0
				};
				if ratio > stats.worst_time_per_weight {
					stats.worst_time_per_weight = ratio;
					stats.worst_call = name.to_string();
				}
				Some(result.map_err(|e| format!("{e:?}")))
			},
			Err(invalid) => {
				chain.trace(format_args!("    {} {name}: invalid {invalid:?}", signer.name));
				None
			},
		}
	}
}

/// Prints warnings and errors (those of a failed `try_state` among them) to standard error, and
/// keeps what `defensive!` reports: a state the runtime's code holds impossible, which panics in a
/// build with debug assertions (AFL++'s) and is a finding in every build.
struct StderrLogger;

thread_local! {
	/// What `defensive!` reported on this thread (inputs run on several threads at once).
	static DEFENSIVE: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl log::Log for StderrLogger {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::Level::Warn
	}

	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			eprintln!("{} {}: {}", record.level(), record.target(), record.args());
			if record.target() == "runtime::defensive" {
				DEFENSIVE.with_borrow_mut(|reports| reports.push(record.args().to_string()));
			}
		}
	}

	fn flush(&self) {}
}

/// Calls whose weight their (root) caller declares rather than the runtime's measurements.
const DECLARED_WEIGHT: [&str; 2] = ["Sudo.sudo_unchecked_weight", "Utility.with_weight"];

#[derive(Clone, Copy, Debug)]
enum Origin {
	Signed(usize),
	Root,
	Governance(GovernanceOrigin),
	None,
}

/// Dispatches `call` as a referendum's enactment does, and checks that it used no more weight
/// than it declared.
fn enact(call: RuntimeCall, origin: RuntimeOrigin, name: &str) -> Result<(), String> {
	let declared = call.get_dispatch_info().call_weight;
	let (post, result) = match call.dispatch(origin) {
		Ok(post) => (post, Ok(())),
		Err(e) => (e.post_info, Err(format!("{:?}", e.error))),
	};
	if let Some(actual) = post.actual_weight {
		assert!(
			actual.all_lte(declared),
			"{name} used {actual:?}, more than the {declared:?} it declared"
		);
	}
	result
}

fn call_name(call: &RuntimeCall) -> String {
	let metadata = call.get_call_metadata();
	format!("{}.{}", metadata.pallet_name, metadata.function_name)
}

/// The time a call took here per unit of the time its weight stands for.
fn time_per_weight(elapsed: Duration, ref_time: u64) -> f64 {
	// A weight's ref_time is in picoseconds.
	elapsed.as_nanos() as f64 * 1_000.0 / (ref_time.max(1) as f64)
}

/// The chain being built: its current block, and the books its last block ended with.
struct Chain {
	number: BlockNumber,
	parent: H256,
	books: Books,
	last_signer: Option<usize>,
	trace: bool,
}

/// What the accounting of a block starts from.
#[derive(Clone, Copy)]
struct Books {
	/// Total issuance.
	issuance: Balance,
	/// Total issuance less the sum of all balances (wrapping): zero unless root decreed a
	/// balance or the issuance itself, through a proposal whose preimage the generator did not
	/// write (generate::EXCLUDED keeps those calls out of what it writes).
	decreed: Balance,
}

impl Chain {
	/// Starts the block after `head` (its number and hash) on the state it left.
	fn start(head: (BlockNumber, H256), trace: bool) -> Self {
		let mut chain = Self {
			number: head.0,
			parent: head.1,
			books: Books { issuance: pallet_balances::TotalIssuance::<Runtime>::get(), decreed: 0 },
			last_signer: None,
			trace,
		};
		AllPalletsWithSystem::integrity_test();
		chain.begin(head.0 + 1);
		chain
	}

	fn trace(&self, message: std::fmt::Arguments) {
		if self.trace {
			eprintln!("{message}");
		}
	}

	/// `on_initialize` and the timestamp inherent of block `number`, in Aura's slot `number`.
	fn begin(&mut self, number: BlockNumber) {
		self.number = number;
		self.trace(format_args!("block {number}"));
		let digest = Digest {
			logs: vec![DigestItem::PreRuntime(
				AURA_ENGINE_ID,
				Slot::from(u64::from(number)).encode(),
			)],
		};
		Executive::initialize_block(&Header::new(
			number,
			H256::zero(),
			H256::zero(),
			self.parent,
			digest,
		));
		let now = u64::from(number) * SLOT_DURATION;
		let inherent =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		let applied = Executive::apply_extrinsic(inherent);
		assert!(
			matches!(applied, Ok(Ok(()))),
			"block {number}: the timestamp inherent failed: {applied:?}"
		);
	}

	/// Ends the current block, checks the invariants, and starts the next.
	fn next_block(&mut self, stats: &mut Stats) {
		self.end_block(stats);
		self.begin(self.number + 1);
	}

	/// `on_idle` and `on_finalize`, then every invariant.
	fn end_block(&mut self, stats: &mut Stats) {
		let header = Executive::finalize_block();
		self.parent = header.hash();
		stats.blocks += 1;
		self.books = check_block(self.number, self.books);
	}
}

/// Checks every invariant after block `number`, whose parent ended with `books`; returns this
/// block's.
fn check_block(number: BlockNumber, books: Books) -> Books {
	let issuance = books.issuance;
	let reports = DEFENSIVE.with_borrow_mut(std::mem::take);
	assert!(reports.is_empty(), "block {number}: defensive failures: {reports:?}");
	// The block's weight, within its limit.
	let weight = frame_system::Pallet::<Runtime>::block_weight();
	let limits = <Runtime as frame_system::Config>::BlockWeights::get();
	assert!(
		weight.total().all_lte(limits.max_block),
		"block {number}: weight {:?} above the block's limit {:?}",
		weight.total(),
		limits.max_block
	);

	// Total issuance, accounted for by the block's events.
	let total = pallet_balances::TotalIssuance::<Runtime>::get();
	let (mut created, mut destroyed, mut decreed) = (0u128, 0u128, false);
	for record in frame_system::Pallet::<Runtime>::read_events_no_consensus() {
		if let RuntimeEvent::Balances(event) = record.event {
			use pallet_balances::Event::*;
			match event {
				Minted { amount, .. } | Issued { amount } | MintedCredit { amount } => {
					created = created.saturating_add(amount)
				},
				// Dust lost is reported twice: `DustLost`, then `BurnedDebt` as the dust's credit
				// is dropped (`DustRemoval = ()`); the second counts.
				Burned { amount, .. }
				| BurnedHeld { amount, .. }
				| Rescinded { amount }
				| BurnedDebt { amount } => destroyed = destroyed.saturating_add(amount),
				BalanceSet { .. } | TotalIssuanceForced { .. } => decreed = true,
				_ => {},
			}
		}
	}
	if !decreed {
		assert_eq!(
			total,
			issuance.saturating_add(created).saturating_sub(destroyed),
			"block {number}: total issuance moved from {issuance} to {total}, but the events \
			 account for +{created} -{destroyed}"
		);
		assert_eq!(created, 0, "block {number}: {created} OPEN created");
	}

	// Every account: the sum of balances, holds, locks and freezes, references.
	let mut sum: Balance = 0;
	for (who, info) in frame_system::Account::<Runtime>::iter() {
		let data = info.data;
		sum = sum.saturating_add(data.free).saturating_add(data.reserved);
		assert!(
			info.consumers == 0 || info.providers > 0 || info.sufficients > 0,
			"block {number}: {who} has {} consumers and no provider",
			info.consumers
		);
		let held: Balance =
			pallet_balances::Holds::<Runtime>::get(&who).iter().map(|h| h.amount).sum();
		assert!(
			held <= data.reserved,
			"block {number}: {who} has {held} held but {} reserved",
			data.reserved
		);
		let locked = pallet_balances::Locks::<Runtime>::get(&who).iter().map(|l| l.amount).max();
		let frozen = pallet_balances::Freezes::<Runtime>::get(&who).iter().map(|f| f.amount).max();
		let expected = locked.unwrap_or_default().max(frozen.unwrap_or_default());
		assert_eq!(
			data.frozen, expected,
			"block {number}: {who} has {} frozen, but its largest lock or freeze is {expected}",
			data.frozen
		);
	}
	let decreed = if decreed { total.wrapping_sub(sum) } else { books.decreed };
	assert_eq!(
		total.wrapping_sub(sum),
		decreed,
		"block {number}: total issuance {total} is not the sum of all balances {sum}"
	);

	AllPalletsWithSystem::integrity_test();
	#[cfg(any(feature = "try-runtime", fuzzing))]
	{
		use frame_support::traits::{TryState, TryStateSelect};
		if let Err(e) =
			<AllPalletsWithSystem as TryState<BlockNumber>>::try_state(number, TryStateSelect::All)
		{
			panic!("block {number}: try_state: {e:?}");
		}
	}
	Books { issuance: total, decreed }
}
