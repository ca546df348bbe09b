//! Paid inference on the provider: each request's API key (a signed spending authorisation) is
//! checked against the chain, what is served is written to a durable journal before its answer
//! completes, and the journal is settled on chain in batches.
//!
//! ## The journal
//!
//! `{data_dir}/settlement/journal` holds, appended and synced to disk before each answer
//! completes: each key's bytes once, then each served inference's [`Record`] with its key's id.
//! After a restart the daemon reads it back and asks the chain how far each key settled (its
//! `last_seq`): records at or below it were settled, the rest are settled again. A record's
//! number is above every number of its key before it, and the chain settles a number once, so
//! nothing served is lost and nothing is paid twice. Once a settlement is included, the journal
//! is rewritten with what is left.
//!
//! A settlement is all or nothing on chain. When one fails, each key is settled alone; a key the
//! chain refuses for good (expired past its window, revoked, out of funds, a model retired since)
//! has its records moved to `{data_dir}/settlement/refused`, one JSON line each, and settles
//! nothing more.

use crate::{
	chain::{Chain, ChainError},
	serving::openai::ApiError,
};
use codec::{Decode, Encode};
use openledger_runtime::{AccountId, Balance, BlockNumber, Runtime, RuntimeCall, Signature};
use pallet_inference::{
	fee_for,
	runtime_api::{KeyRefusal, KeyView},
	KeyRecords, Record, SignedAuthorisation,
};
use pallet_models::ModelId;
use sp_core::{sr25519, H256};
use std::{
	collections::BTreeMap,
	fs::{File, OpenOptions},
	io::{Read, Write},
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::Duration,
};

/// An API key's bytes as the chain decodes them.
pub type Key = SignedAuthorisation<AccountId, Balance, BlockNumber, H256, Signature>;
/// A served inference as it is settled.
pub type InferenceRecord = Record<Balance, H256>;
/// A key's id and its records in a settlement.
type Keyed = (H256, KeyRecords<AccountId, Balance, BlockNumber, H256, Signature>);

/// How an API key is written: this prefix, then the hex of the SCALE-encoded signed
/// authorisation.
pub const KEY_PREFIX: &str = "olk_";

/// The most records one settlement carries (the runtime's `MaxSettlementRecords`).
const MAX_RECORDS: usize = 8_192;
/// The most keys one settlement names (the runtime's `MaxSettlementKeys`).
const MAX_KEYS: usize = 1_024;

/// The API key's text for `key`.
pub fn key_text(key: &Key) -> String {
	format!("{KEY_PREFIX}{}", hex::encode(key.encode()))
}

/// The key's bytes from its text.
pub fn key_bytes(text: &str) -> Option<Vec<u8>> {
	hex::decode(text.strip_prefix(KEY_PREFIX)?).ok()
}

/// One line of the journal.
#[derive(Encode, Decode)]
enum Entry {
	/// A key's bytes, once before its first record.
	Key { id: H256, key: Vec<u8> },
	/// An inference served under the key `id`.
	Served { id: H256, record: InferenceRecord },
}

/// What the daemon has served under one key and not yet settled.
struct Ledger {
	key: Vec<u8>,
	user: AccountId,
	/// The next record's number.
	next_seq: u64,
	unsettled: Vec<InferenceRecord>,
	/// What the requests under way may cost at most.
	reserved: Balance,
	/// Whether it recorded an answer since the daemon started: its `next_seq` is then the one
	/// to trust, whatever a state read a moment before a settlement says.
	served: bool,
	/// The key's expiry: past it, nothing more is served under it and its ledger may go once
	/// settled.
	expires: BlockNumber,
}

impl Ledger {
	fn unsettled_fees(&self) -> Balance {
		self.unsettled.iter().map(|r| r.fee).sum()
	}
}

/// A request allowed to run: what it may cost at most is reserved until it ends.
pub struct Ticket {
	payments: Arc<Payments>,
	id: H256,
	reserved: Balance,
	/// Each model of the request with its pinned prices (model, serving).
	prices: Vec<(ModelId, Balance, Balance)>,
	/// What settled under the key when it was checked.
	spent: Balance,
	done: bool,
}

impl Drop for Ticket {
	fn drop(&mut self) {
		if !self.done {
			let mut ledgers = self.payments.ledgers.lock().unwrap_or_else(|e| e.into_inner());
			if let Some(ledger) = ledgers.get_mut(&self.id) {
				ledger.reserved = ledger.reserved.saturating_sub(self.reserved);
				// A key whose every request failed leaves nothing behind: keys cost nothing to
				// make, so they must cost the daemon nothing to remember.
				if ledger.reserved == 0 && ledger.unsettled.is_empty() && !ledger.served {
					ledgers.remove(&self.id);
				}
			}
		}
	}
}

/// What an answer's receipt says.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Receipt {
	/// The authorisation's id.
	pub key: String,
	/// The request's hash, which the settlement records name.
	pub request: String,
	/// The records' numbers under the key, one per model of the request, and their models.
	pub seq: Vec<u64>,
	pub models: Vec<ModelId>,
	pub prompt_tokens: u32,
	pub completion_tokens: u32,
	/// The fee, in the chain's smallest unit, as a decimal string.
	pub fee: String,
	/// What the key spent in all with this answer, settled or not.
	pub spent: String,
}

pub struct Payments {
	chain: Arc<Chain>,
	signer: sr25519::Pair,
	account: AccountId,
	dir: PathBuf,
	journal: Mutex<File>,
	ledgers: Mutex<BTreeMap<H256, Ledger>>,
	/// One settlement at a time.
	settling: tokio::sync::Mutex<()>,
	/// The latest block a key check read.
	now: std::sync::atomic::AtomicU32,
	wake: tokio::sync::Notify,
	batch: usize,
}

/// An OpenAI error for a key the chain or the daemon refuses.
fn refused(refusal: KeyRefusal) -> ApiError {
	let (status, message) = match refusal {
		KeyRefusal::Malformed => (401, "the API key is not an OpenLedger key (olk_ and hex)"),
		KeyRefusal::WrongChain => (401, "the API key was signed for another chain"),
		KeyRefusal::BadSignature => (401, "the API key's signature does not verify"),
		KeyRefusal::BadModels => (401, "the API key names no model, or one twice"),
		KeyRefusal::WrongProvider => (403, "the API key is for another provider"),
		KeyRefusal::ExpiryTooFar => (403, "the API key expires later than the chain allows"),
		KeyRefusal::Expired => (403, "the API key has expired"),
		KeyRefusal::Revoked => (403, "the API key was revoked"),
	};
	let kind = if status == 401 { "invalid_api_key" } else { "permission_denied" };
	ApiError::new(status, "invalid_request_error", message).with_code(kind)
}

fn payment_required(message: String) -> ApiError {
	ApiError::new(402, "insufficient_quota", message).with_code("insufficient_quota")
}

impl Payments {
	/// Opens the journal in `data_dir`, and reads back what it holds that the chain has not
	/// settled.
	pub async fn open(
		chain: Arc<Chain>,
		signer: sr25519::Pair,
		account: AccountId,
		data_dir: &Path,
		batch: usize,
	) -> Result<Arc<Self>, SettlementError> {
		let dir = data_dir.join("settlement");
		std::fs::create_dir_all(&dir).map_err(|e| SettlementError::Journal(dir.clone(), e))?;
		let path = dir.join("journal");
		let mut ledgers = read_journal(&path)?;
		for (id, ledger) in ledgers.iter_mut() {
			let state: Option<pallet_inference::KeyState<Balance, BlockNumber>> =
				chain.runtime_call("InferenceApi_key", id).await?;
			if let Some(state) = state {
				ledger.unsettled.retain(|r| r.seq > state.last_seq);
				ledger.next_seq = ledger.next_seq.max(state.last_seq.saturating_add(1));
			}
		}
		let unsettled: usize = ledgers.values().map(|l| l.unsettled.len()).sum();
		if unsettled > 0 {
			tracing::info!(records = unsettled, "unsettled inferences in the journal");
		}
		let journal = rewrite(&path, &ledgers)?;
		Ok(Arc::new(Self {
			chain,
			signer,
			account,
			dir,
			journal: Mutex::new(journal),
			ledgers: Mutex::new(ledgers),
			settling: tokio::sync::Mutex::new(()),
			now: std::sync::atomic::AtomicU32::new(0),
			wake: tokio::sync::Notify::new(),
			batch: batch.clamp(1, MAX_RECORDS),
		}))
	}

	/// Checks an `Authorization: Bearer` key for a request on `models` whose prompt and answer
	/// take at most `max_tokens` tokens, and reserves what it may cost at most.
	pub async fn authorise(
		self: &Arc<Self>,
		bearer: Option<&str>,
		models: &[(ModelId, Balance, Balance)],
		max_tokens: u64,
	) -> Result<Ticket, ApiError> {
		let Some(text) = bearer else {
			return Err(ApiError::new(
				401,
				"invalid_request_error",
				"an API key is required: `openledger key` makes one",
			)
			.with_code("invalid_api_key"));
		};
		let bytes = key_bytes(text).ok_or_else(|| refused(KeyRefusal::Malformed))?;
		let view: Result<KeyView<AccountId, Balance, BlockNumber, H256>, KeyRefusal> = self
			.chain
			.runtime_call("InferenceApi_authorise", (&bytes, &self.account))
			.await
			.map_err(|e| {
				ApiError::new(503, "server_error", format!("the chain cannot be read: {e}"))
			})?;
		let view = view.map_err(refused)?;
		self.now.fetch_max(view.now, std::sync::atomic::Ordering::Relaxed);
		let mut prices = Vec::new();
		let mut most: Balance = 0;
		for &(model, price, serving) in models {
			let pinned = view.models.iter().find(|m| m.model == model).ok_or_else(|| {
				ApiError::new(
					403,
					"invalid_request_error",
					format!("the API key does not allow model {model}"),
				)
				.with_code("permission_denied")
			})?;
			if pinned.model_price < price || pinned.serving_price < serving {
				return Err(ApiError::new(
					403,
					"invalid_request_error",
					format!(
						"the API key pins model {model} at {} + {} per 1,000 tokens, below \
						 today's {price} + {serving}: make a new key",
						pinned.model_price, pinned.serving_price
					),
				)
				.with_code("permission_denied"));
			}
			prices.push((model, pinned.model_price, pinned.serving_price));
			most = most
				.saturating_add(fee_for(max_tokens, pinned.model_price))
				.saturating_add(fee_for(max_tokens, pinned.serving_price));
		}
		let mut ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
		let user_pending: Balance = ledgers
			.values()
			.filter(|l| l.user == view.user)
			.map(|l| l.unsettled_fees().saturating_add(l.reserved))
			.sum();
		let key_pending = ledgers
			.get(&view.id)
			.map_or(0, |l| l.unsettled_fees().saturating_add(l.reserved));
		let left_on_key = view.max_spend.saturating_sub(view.spent).saturating_sub(key_pending);
		let left_in_funds = view.available.saturating_sub(user_pending);
		if most > left_on_key || most > left_in_funds {
			return Err(payment_required(format!(
				"this request may cost {most}; the key has {left_on_key} left and its user's \
				 prepaid funds here {left_in_funds} (`openledger deposit` adds to them)"
			)));
		}
		// Only a key that may pay is remembered: keys cost nothing to make.
		let ledger = ledgers.entry(view.id).or_insert_with(|| Ledger {
			key: bytes.clone(),
			user: view.user.clone(),
			next_seq: view.last_seq.saturating_add(1),
			unsettled: Vec::new(),
			reserved: 0,
			served: false,
			expires: view.expires,
		});
		ledger.reserved = ledger.reserved.saturating_add(most);
		Ok(Ticket {
			payments: self.clone(),
			id: view.id,
			reserved: most,
			prices,
			spent: view.spent,
			done: false,
		})
	}

	/// Records what a request served (one record per model of the request) in the journal,
	/// synced to disk, and returns its receipt.
	pub fn record(
		&self,
		mut ticket: Ticket,
		request: H256,
		prompt_tokens: u32,
		completion_tokens: u32,
	) -> Result<Receipt, ApiError> {
		let tokens = u64::from(prompt_tokens).saturating_add(u64::from(completion_tokens));
		let mut ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
		let ledger = ledgers.get_mut(&ticket.id).ok_or_else(|| {
			ApiError::new(500, "server_error", "the request's key is no longer tracked")
		})?;
		// The rewritten journal holds the keys with unsettled records only.
		let first = ledger.unsettled.is_empty();
		let mut records = Vec::new();
		let mut seq = ledger.next_seq;
		for &(model, model_price, serving_price) in &ticket.prices {
			records.push(Record {
				seq,
				model,
				prompt_tokens,
				completion_tokens,
				fee: fee_for(tokens, model_price).saturating_add(fee_for(tokens, serving_price)),
				request,
			});
			seq = seq.saturating_add(1);
		}
		let mut bytes = Vec::new();
		if first {
			push_entry(&mut bytes, &Entry::Key { id: ticket.id, key: ledger.key.clone() });
		}
		for record in &records {
			push_entry(&mut bytes, &Entry::Served { id: ticket.id, record: *record });
		}
		{
			let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
			journal.write_all(&bytes).and_then(|_| journal.sync_data()).map_err(|e| {
				tracing::error!(error = %e, "writing the settlement journal");
				ApiError::new(500, "server_error", "the answer could not be recorded")
			})?;
		}
		ledger.next_seq = seq;
		ledger.served = true;
		ledger.reserved = ledger.reserved.saturating_sub(ticket.reserved);
		ticket.done = true;
		let fee: Balance = records.iter().map(|r| r.fee).sum();
		ledger.unsettled.extend(records.iter().copied());
		let spent = ticket.spent.saturating_add(ledger.unsettled_fees());
		let pending: usize = ledgers.values().map(|l| l.unsettled.len()).sum();
		drop(ledgers);
		if pending >= self.batch {
			self.wake.notify_one();
		}
		Ok(Receipt {
			key: format!("{:?}", ticket.id),
			request: format!("{request:?}"),
			seq: records.iter().map(|r| r.seq).collect(),
			models: records.iter().map(|r| r.model).collect(),
			prompt_tokens,
			completion_tokens,
			fee: fee.to_string(),
			spent: spent.to_string(),
		})
	}

	/// Settles what the journal held at the start, then on a timer, and sooner when `batch`
	/// records wait.
	pub async fn run(self: Arc<Self>, every: Duration) {
		loop {
			if let Err(e) = self.settle().await {
				tracing::warn!(error = %crate::error_chain(&e), "settling inferences");
			}
			let _ = tokio::time::timeout(every, self.wake.notified()).await;
		}
	}

	/// Settles what waits, in batches of at most the chain's bounds; returns the records
	/// settled.
	pub async fn settle(&self) -> Result<usize, SettlementError> {
		let _one = self.settling.lock().await;
		let mut settled = 0;
		loop {
			let batch = self.next_batch(None);
			if batch.is_empty() {
				return Ok(settled);
			}
			match self.submit(&batch).await {
				Ok(()) => settled += self.settled(&batch),
				Err(SettlementError::Chain(ChainError::Failed(_))) if batch.len() > 1 => {
					// One key spoils the batch: each alone.
					for (id, _) in &batch {
						let alone = self.next_batch(Some(*id));
						match self.submit(&alone).await {
							Ok(()) => settled += self.settled(&alone),
							Err(SettlementError::Chain(ChainError::Failed(e))) => {
								self.give_up(*id, &crate::chain::describe(e)).await?
							},
							Err(e) => return Err(e),
						}
					}
				},
				Err(SettlementError::Chain(ChainError::Failed(e))) => {
					let id = batch[0].0;
					self.give_up(id, &crate::chain::describe(e)).await?
				},
				Err(e) => return Err(e),
			}
		}
	}

	/// The next settlement: keys in order with their unsettled records, within the bounds.
	fn next_batch(&self, only: Option<H256>) -> Vec<Keyed> {
		let ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
		let mut batch = Vec::new();
		let mut records = 0;
		for (id, ledger) in ledgers.iter() {
			if ledger.unsettled.is_empty() || only.is_some_and(|o| o != *id) {
				continue;
			}
			if batch.len() >= MAX_KEYS || records >= MAX_RECORDS {
				break;
			}
			let Ok(key) = Key::decode(&mut &ledger.key[..]) else { continue };
			let take = ledger.unsettled.len().min(MAX_RECORDS - records);
			records += take;
			batch.push((*id, KeyRecords { key, records: ledger.unsettled[..take].to_vec() }));
		}
		batch
	}

	async fn submit(&self, batch: &[Keyed]) -> Result<(), SettlementError> {
		let call = RuntimeCall::Inference(pallet_inference::Call::<Runtime>::settle {
			batch: batch.iter().map(|(_, k)| k.clone()).collect(),
		});
		let included = self.chain.submit(&self.signer, call).await?;
		let records: usize = batch.iter().map(|(_, k)| k.records.len()).sum();
		tracing::info!(keys = batch.len(), records, block = ?included.block, "settled inferences");
		Ok(())
	}

	/// Forgets what a settlement included and rewrites the journal.
	fn settled(&self, batch: &[Keyed]) -> usize {
		let mut ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
		let mut count = 0;
		for (id, keyed) in batch {
			let last = keyed.records.last().map_or(0, |r| r.seq);
			if let Some(ledger) = ledgers.get_mut(id) {
				let before = ledger.unsettled.len();
				ledger.unsettled.retain(|r| r.seq > last);
				count += before - ledger.unsettled.len();
			}
		}
		// Keys that served keep their next number while they can serve: a read of the chain's
		// state in flight during this settlement could give an older one.
		let now = self.now.load(std::sync::atomic::Ordering::Relaxed);
		ledgers.retain(|_, l| {
			!l.unsettled.is_empty() || l.reserved > 0 || (l.served && l.expires >= now)
		});
		self.compact(&ledgers);
		count
	}

	/// Moves a key's records the chain refuses for good out of the journal, into `refused`:
	/// those above what the chain settled of the key (a settlement whose inclusion was not seen
	/// in time may have settled the rest).
	async fn give_up(&self, id: H256, why: &str) -> Result<(), SettlementError> {
		let state: Option<pallet_inference::KeyState<Balance, BlockNumber>> =
			self.chain.runtime_call("InferenceApi_key", id).await?;
		let settled = state.map_or(0, |s| s.last_seq);
		let mut ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
		let Some(ledger) = ledgers.get_mut(&id) else { return Ok(()) };
		ledger.unsettled.retain(|r| r.seq > settled);
		let path = self.dir.join("refused");
		let mut file = OpenOptions::new()
			.create(true)
			.append(true)
			.open(&path)
			.map_err(|e| SettlementError::Journal(path.clone(), e))?;
		for record in &ledger.unsettled {
			let line = serde_json::json!({
				"key": format!("{id:?}"), "seq": record.seq, "model": record.model,
				"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens,
				"fee": record.fee.to_string(), "request": format!("{:?}", record.request),
				"error": why,
			});
			writeln!(file, "{line}").map_err(|e| SettlementError::Journal(path.clone(), e))?;
		}
		file.sync_data().map_err(|e| SettlementError::Journal(path.clone(), e))?;
		tracing::warn!(key = ?id, records = ledger.unsettled.len(), error = why, "the chain refuses a key's records");
		ledger.unsettled.clear();
		self.compact(&ledgers);
		Ok(())
	}

	fn compact(&self, ledgers: &BTreeMap<H256, Ledger>) {
		let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
		match rewrite(&self.dir.join("journal"), ledgers) {
			Ok(file) => *journal = file,
			Err(e) => tracing::error!(error = %crate::error_chain(&e), "rewriting the journal"),
		}
	}

	/// Records served and not settled yet.
	pub fn unsettled(&self) -> usize {
		let ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
		ledgers.values().map(|l| l.unsettled.len()).sum()
	}
}

/// What a journal holds: each key's records, in the order served.
fn read_journal(path: &Path) -> Result<BTreeMap<H256, Ledger>, SettlementError> {
	let mut entries = Vec::new();
	if let Ok(mut file) = File::open(path) {
		let mut bytes = Vec::new();
		file.read_to_end(&mut bytes)
			.map_err(|e| SettlementError::Journal(path.to_path_buf(), e))?;
		let mut input = &bytes[..];
		// A torn last entry (a crash while writing it) was never acknowledged: its answer did
		// not complete.
		while let Ok(len) = <codec::Compact<u32>>::decode(&mut input) {
			let len = len.0 as usize;
			if input.len() < len {
				break;
			}
			let (entry, rest) = input.split_at(len);
			input = rest;
			if let Ok(entry) = Entry::decode(&mut &entry[..]) {
				entries.push(entry);
			}
		}
	}
	let mut ledgers: BTreeMap<H256, Ledger> = BTreeMap::new();
	for entry in entries {
		match entry {
			Entry::Key { id, key } => {
				let Ok(decoded) = Key::decode(&mut &key[..]) else { continue };
				ledgers.entry(id).or_insert(Ledger {
					key,
					user: decoded.authorisation.user,
					next_seq: 1,
					unsettled: Vec::new(),
					reserved: 0,
					served: true,
					expires: decoded.authorisation.expires,
				});
			},
			Entry::Served { id, record } => {
				if let Some(ledger) = ledgers.get_mut(&id) {
					ledger.next_seq = ledger.next_seq.max(record.seq.saturating_add(1));
					ledger.unsettled.push(record);
				}
			},
		}
	}
	Ok(ledgers)
}

fn push_entry(out: &mut Vec<u8>, entry: &Entry) {
	let bytes = entry.encode();
	codec::Compact(bytes.len() as u32).encode_to(out);
	out.extend_from_slice(&bytes);
}

/// Writes the unsettled records to a new journal, synced, in place of the old one; returns it
/// open for appending.
fn rewrite(path: &Path, ledgers: &BTreeMap<H256, Ledger>) -> Result<File, SettlementError> {
	let error = |e| SettlementError::Journal(path.to_path_buf(), e);
	let mut bytes = Vec::new();
	for (id, ledger) in ledgers {
		if ledger.unsettled.is_empty() {
			continue;
		}
		push_entry(&mut bytes, &Entry::Key { id: *id, key: ledger.key.clone() });
		for record in &ledger.unsettled {
			push_entry(&mut bytes, &Entry::Served { id: *id, record: *record });
		}
	}
	let fresh = path.with_extension("new");
	let mut file = File::create(&fresh).map_err(error)?;
	file.write_all(&bytes).and_then(|_| file.sync_all()).map_err(error)?;
	std::fs::rename(&fresh, path).map_err(error)?;
	if let Some(dir) = path.parent() {
		if let Ok(dir) = File::open(dir) {
			let _ = dir.sync_all();
		}
	}
	// The handle written through, now the journal's, positioned at its end.
	Ok(file)
}

#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
	#[error("the settlement journal {0}")]
	Journal(PathBuf, #[source] std::io::Error),
	#[error(transparent)]
	Chain(#[from] ChainError),
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_inference::{Authorisation, KeyModel};
	use sp_core::{crypto::Pair as _, sr25519};

	fn key(nonce: u64) -> (H256, Key) {
		let pair = sr25519::Pair::from_string("//Bob", None).unwrap();
		let authorisation = Authorisation {
			genesis: H256::repeat_byte(1),
			user: pair.public().into(),
			provider: pair.public().into(),
			models: frame_support::BoundedVec::truncate_from(vec![KeyModel {
				model: 3,
				model_price: 1_000,
				serving_price: 10,
			}]),
			max_spend: 1_000_000,
			expires: 100,
			nonce,
		};
		let signature = Signature::Sr25519(pair.sign(b"irrelevant here"));
		let key = SignedAuthorisation { authorisation, signature };
		(H256::repeat_byte(nonce as u8), key)
	}

	fn record(seq: u64) -> InferenceRecord {
		Record {
			seq,
			model: 3,
			prompt_tokens: 10,
			completion_tokens: 5,
			fee: 16,
			request: H256::repeat_byte(seq as u8),
		}
	}

	fn ledger(key: &Key, records: &[u64]) -> Ledger {
		Ledger {
			key: key.encode(),
			user: key.authorisation.user.clone(),
			next_seq: records.last().map_or(1, |s| s + 1),
			unsettled: records.iter().map(|&s| record(s)).collect(),
			reserved: 0,
			served: true,
			expires: key.authorisation.expires,
		}
	}

	#[test]
	fn the_journal_gives_back_every_unsettled_record_and_drops_a_torn_last_entry() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("journal");
		let (a, key_a) = key(1);
		let (b, key_b) = key(2);
		let ledgers: BTreeMap<H256, Ledger> = [
			(a, ledger(&key_a, &[1, 2, 3])),
			(b, ledger(&key_b, &[7])),
			(H256::zero(), ledger(&key_b, &[])),
		]
		.into_iter()
		.collect();
		let mut file = rewrite(&path, &ledgers).unwrap();
		// An answer recorded after the rewrite, then one torn by a crash mid-write.
		let mut bytes = Vec::new();
		push_entry(&mut bytes, &Entry::Served { id: b, record: record(8) });
		file.write_all(&bytes).unwrap();
		let mut torn = Vec::new();
		push_entry(&mut torn, &Entry::Served { id: b, record: record(9) });
		file.write_all(&torn[..torn.len() - 3]).unwrap();
		file.sync_all().unwrap();

		let read = read_journal(&path).unwrap();
		assert_eq!(read.len(), 2, "a key without records is not written");
		let seqs = |id| read[&id].unsettled.iter().map(|r| r.seq).collect::<Vec<_>>();
		assert_eq!(seqs(a), vec![1, 2, 3]);
		assert_eq!(seqs(b), vec![7, 8]);
		assert_eq!(read[&a].next_seq, 4);
		assert_eq!(read[&b].next_seq, 9);
		assert_eq!(read[&b].key, key_b.encode());
	}

	#[test]
	fn an_api_key_is_its_prefix_and_hex() {
		let (_, k) = key(1);
		let text = key_text(&k);
		assert!(text.starts_with("olk_"));
		assert_eq!(key_bytes(&text), Some(k.encode()));
		assert_eq!(key_bytes("sk-not-ours"), None);
		assert_eq!(key_bytes("olk_zz"), None);
	}
}
