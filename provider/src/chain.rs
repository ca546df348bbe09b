//! A chain client over the node's JSON-RPC: storage reads, signed extrinsics and their
//! outcome. It uses the runtime's own types to encode calls and decode storage and events, so
//! a call that does not fit the runtime does not compile.

use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use openledger_runtime::{
	AccountId, RuntimeCall, RuntimeError, RuntimeEvent, SignedPayload, UncheckedExtrinsic,
};
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_crypto_hashing::twox_128;
use sp_runtime::{MultiAddress, MultiSignature};
use std::{collections::VecDeque, sync::Arc, time::Duration};
use tokio::sync::{Mutex, OnceCell};

type EventRecord = frame_system::EventRecord<RuntimeEvent, H256>;

/// How long a submitted extrinsic may take to be included.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// How many recent blocks' extrinsics and events are kept, so that the outcomes of many
/// transactions in one block are read from the node once.
const CACHED_BLOCKS: usize = 8;
/// The most keys one `state_queryStorageAt` request names: under 1 MiB of hex, far below a
/// node's request limit (15 MiB by default), however many contributions a version holds.
pub const STORAGE_PAGE: usize = 4_096;

/// A transaction the node's pool took, and the subscription to its status.
pub struct Sent {
	statuses: jsonrpsee::core::client::Subscription<serde_json::Value>,
	encoded: String,
}

/// An extrinsic included in a block, with the events it emitted.
#[derive(Debug)]
pub struct Included {
	pub block: H256,
	pub events: Vec<RuntimeEvent>,
}

pub struct Chain {
	rpc: WsClient,
	genesis: H256,
	/// Submissions are serialised until the node's pool took them, so that each gets the next
	/// nonce; waiting for inclusion happens outside, so many can be in flight.
	sending: Mutex<Sending>,
	/// The extrinsics and events of recent blocks, oldest first.
	blocks: Mutex<VecDeque<(H256, CachedBlock)>>,
}

/// A recent block's extrinsics and events, read once by whoever asks first.
type CachedBlock = Arc<OnceCell<Arc<BlockBody>>>;

/// What one submission leaves for the next: the signer's next nonce and the runtime's spec and
/// transaction versions. Both are read from the node when unknown: at first, and again after a
/// transaction that did not make it into a block, which may have left a gap or come from an
/// older runtime.
#[derive(Default)]
struct Sending {
	next_nonce: Option<(AccountId, u32)>,
	versions: Option<(u32, u32)>,
}

/// A block's extrinsics (hex, as the node serves them) and its events.
struct BlockBody {
	extrinsics: Vec<String>,
	events: Vec<(Option<u32>, RuntimeEvent)>,
}

/// What went wrong between the provider and its node.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
	#[error("connecting to the node at {url}")]
	Connect { url: String, source: jsonrpsee::core::ClientError },
	#[error("the node's RPC failed")]
	Rpc(#[from] jsonrpsee::core::ClientError),
	#[error("the node sent `{0}` where hex was expected")]
	Hex(String),
	#[error("decoding {what}")]
	Decode { what: &'static str, source: codec::Error },
	#[error("the node has no block {0}")]
	UnknownBlock(String),
	#[error("the extrinsic is not in block {0:?}")]
	NotInBlock(H256),
	/// The transaction did not make it into a block: dropped, invalid, or not in time.
	#[error("{0}")]
	NotIncluded(String),
	/// The call was included and failed with this error of the runtime.
	#[error("{}", describe(*.0))]
	Failed(sp_runtime::DispatchError),
}

pub type Result<T, E = ChainError> = std::result::Result<T, E>;

/// Decodes a `0x`-prefixed hex string.
pub fn from_hex(text: &str) -> Result<Vec<u8>> {
	hex::decode(text.trim_start_matches("0x")).map_err(|_| ChainError::Hex(text.into()))
}

pub fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Decodes a storage value.
fn decode_storage<T: Decode>(bytes: &[u8]) -> Result<T> {
	T::decode(&mut &bytes[..]).map_err(|source| ChainError::Decode { what: "storage", source })
}

/// The key of a plain storage value.
pub fn value_key(pallet: &str, item: &str) -> Vec<u8> {
	[twox_128(pallet.as_bytes()), twox_128(item.as_bytes())].concat()
}

/// Names a dispatch error the way the runtime declares it, e.g. `Compute(NotAssignee)`.
pub fn describe(error: sp_runtime::DispatchError) -> String {
	match RuntimeError::from_dispatch_error(error) {
		Some(e) => format!("{e:?}"),
		None => format!("{error:?}"),
	}
}

impl Chain {
	pub async fn connect(url: &str) -> Result<Self> {
		let rpc = WsClientBuilder::default()
			.request_timeout(Duration::from_secs(60))
			.build(url)
			.await
			.map_err(|source| ChainError::Connect { url: url.into(), source })?;
		let genesis: String = rpc.request("chain_getBlockHash", rpc_params![0]).await?;
		let genesis = H256::from_slice(&from_hex(&genesis)?);
		Ok(Self {
			rpc,
			genesis,
			sending: Mutex::new(Sending::default()),
			blocks: Mutex::new(VecDeque::new()),
		})
	}

	/// The raw storage value under `key` at the best block.
	pub async fn storage_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
		let value: Option<String> =
			self.rpc.request("state_getStorage", rpc_params![to_hex(key)]).await?;
		value.map(|v| from_hex(&v)).transpose()
	}

	/// The storage value under `key` at the best block, decoded.
	pub async fn storage<T: Decode>(&self, key: &[u8]) -> Result<Option<T>> {
		self.storage_raw(key).await?.map(|bytes| decode_storage(&bytes)).transpose()
	}

	/// The storage values under `keys` at one block (the best when the first page is read),
	/// decoded, in the order of `keys`: [`STORAGE_PAGE`] keys to a request, so that no number of
	/// keys exceeds the node's request limit.
	pub async fn storage_many<T: Decode>(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<T>>> {
		let mut out = Vec::with_capacity(keys.len());
		let mut at: Option<String> = None;
		for page in keys.chunks(STORAGE_PAGE) {
			let hex: Vec<String> = page.iter().map(|k| to_hex(k)).collect();
			let sets: Vec<serde_json::Value> =
				self.rpc.request("state_queryStorageAt", rpc_params![hex, at.clone()]).await?;
			let mut values = std::collections::BTreeMap::new();
			for set in &sets {
				if at.is_none() {
					at = set["block"].as_str().map(str::to_string);
				}
				for change in set["changes"].as_array().into_iter().flatten() {
					if let (Some(key), Some(value)) = (change[0].as_str(), change[1].as_str()) {
						values.insert(from_hex(key)?, from_hex(value)?);
					}
				}
			}
			for key in page {
				out.push(values.get(key).map(|bytes| decode_storage(bytes)).transpose()?);
			}
		}
		Ok(out)
	}

	/// The chain's genesis hash.
	pub fn genesis(&self) -> H256 {
		self.genesis
	}

	/// Calls the runtime API function `method` (e.g. `ModelsApi_models`) with SCALE-encoded
	/// `args` at the best block, and decodes its answer.
	pub async fn runtime_call<T: Decode>(&self, method: &str, args: impl Encode) -> Result<T> {
		let answer: String = self
			.rpc
			.request("state_call", rpc_params![method, to_hex(&args.encode())])
			.await?;
		T::decode(&mut &from_hex(&answer)?[..])
			.map_err(|source| ChainError::Decode { what: "a runtime API answer", source })
	}

	/// Every storage key under `prefix` at the best block.
	pub async fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
		let mut keys = Vec::new();
		let mut start: Option<String> = None;
		loop {
			let page: Vec<String> = self
				.rpc
				.request("state_getKeysPaged", rpc_params![to_hex(prefix), 512, start.clone()])
				.await?;
			let done = page.len() < 512;
			start = page.last().cloned();
			for key in page {
				keys.push(from_hex(&key)?);
			}
			if done {
				return Ok(keys);
			}
		}
	}

	/// A subscription to the headers of new best blocks.
	pub async fn new_heads(
		&self,
	) -> Result<jsonrpsee::core::client::Subscription<serde_json::Value>> {
		self.rpc
			.subscribe("chain_subscribeNewHeads", rpc_params![], "chain_unsubscribeNewHeads")
			.await
			.map_err(ChainError::Rpc)
	}

	pub async fn best_number(&self) -> Result<u32> {
		self.header_number(None).await
	}

	/// Signs `call` with `signer`, submits it and waits until a block includes it. Fails with
	/// the runtime's error name if the call failed.
	pub async fn submit(&self, signer: &sr25519::Pair, call: RuntimeCall) -> Result<Included> {
		let sent = self.send(signer, call).await?;
		self.included(sent).await
	}

	/// Signs `call` with `signer` and hands it to the node's pool; returns once the pool took
	/// it, so that the next transaction of the signer may follow at once.
	pub async fn send(&self, signer: &sr25519::Pair, call: RuntimeCall) -> Result<Sent> {
		let mut sending = self.sending.lock().await;
		let who: AccountId = signer.public().into();
		let nonce = match &sending.next_nonce {
			Some((account, nonce)) if *account == who => *nonce,
			_ => {
				self.rpc
					.request("system_accountNextIndex", rpc_params![who.to_string()])
					.await?
			},
		};
		let (spec_version, tx_version) = match sending.versions {
			Some(versions) => versions,
			None => {
				let version: serde_json::Value =
					self.rpc.request("state_getRuntimeVersion", rpc_params![]).await?;
				let number = |key: &str| version[key].as_u64().unwrap_or_default() as u32;
				(number("specVersion"), number("transactionVersion"))
			},
		};
		let extension = openledger_runtime::tx_extension(nonce, 0);
		let implicit =
			((), (), spec_version, tx_version, self.genesis, self.genesis, (), (), (), None, ());
		let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		let extrinsic = UncheckedExtrinsic::new_signed(
			call,
			MultiAddress::Id(who.clone()),
			MultiSignature::Sr25519(signature),
			extension,
		);
		let encoded = to_hex(&extrinsic.encode());
		let submitted = self
			.rpc
			.subscribe::<serde_json::Value, _>(
				"author_submitAndWatchExtrinsic",
				rpc_params![encoded.clone()],
				"author_unwatchExtrinsic",
			)
			.await;
		let statuses = match submitted {
			Ok(statuses) => statuses,
			Err(e) => {
				*sending = Sending::default();
				return Err(e.into());
			},
		};
		// The pool has it: the next submission takes the next nonce.
		*sending = Sending {
			next_nonce: Some((who, nonce.wrapping_add(1))),
			versions: Some((spec_version, tx_version)),
		};
		Ok(Sent { statuses, encoded })
	}

	/// Waits until a block includes the transaction `sent`. Fails with the runtime's error name
	/// if the call failed.
	pub async fn included(&self, sent: Sent) -> Result<Included> {
		let Sent { mut statuses, encoded } = sent;
		let block = tokio::time::timeout(INCLUSION_TIMEOUT, async {
			while let Some(status) = statuses.next().await {
				let status = status
					.map_err(|e| ChainError::NotIncluded(format!("unreadable status: {e}")))?;
				for key in ["inBlock", "finalized"] {
					if let Some(hash) = status.get(key).and_then(|h| h.as_str()) {
						return Ok(H256::from_slice(&from_hex(hash)?));
					}
				}
				for key in ["dropped", "invalid", "usurped"] {
					if status == key || status.get(key).is_some() {
						return Err(ChainError::NotIncluded(format!("the transaction was {key}")));
					}
				}
			}
			Err(ChainError::NotIncluded("the node closed the subscription".into()))
		})
		.await
		.unwrap_or_else(|_| {
			Err(ChainError::NotIncluded(format!("not included within {INCLUSION_TIMEOUT:?}")))
		});
		match block {
			Ok(block) => self.outcome(block, &encoded).await,
			Err(e) => {
				if let ChainError::NotIncluded(_) = e {
					// It may have left a gap in the nonces, or come from an older runtime.
					*self.sending.lock().await = Sending::default();
				}
				Err(e)
			},
		}
	}

	/// The number of block `hash`, or of the best block.
	async fn header_number(&self, hash: Option<H256>) -> Result<u32> {
		let hash = hash.map(|h| to_hex(h.as_bytes()));
		let header: serde_json::Value =
			self.rpc.request("chain_getHeader", rpc_params![hash.clone()]).await?;
		let number = header["number"]
			.as_str()
			.ok_or_else(|| ChainError::UnknownBlock(hash.unwrap_or_else(|| "best".into())))?;
		u32::from_str_radix(number.trim_start_matches("0x"), 16)
			.map_err(|_| ChainError::Hex(number.into()))
	}

	/// The hash of block `number` of the best chain.
	pub async fn block_hash(&self, number: u32) -> Result<Option<H256>> {
		let hash: Option<String> =
			self.rpc.request("chain_getBlockHash", rpc_params![number]).await?;
		hash.map(|h| Ok(H256::from_slice(&from_hex(&h)?))).transpose()
	}

	/// The number of block `hash`.
	pub async fn block_number(&self, hash: H256) -> Result<u32> {
		self.header_number(Some(hash)).await
	}

	/// Every event of block `hash` with the index of the extrinsic that emitted it, if one did.
	pub async fn events_at(&self, hash: H256) -> Result<Vec<(Option<u32>, RuntimeEvent)>> {
		let raw: Option<String> = self
			.rpc
			.request(
				"state_getStorage",
				rpc_params![to_hex(&value_key("System", "Events")), to_hex(hash.as_bytes())],
			)
			.await?;
		let raw = from_hex(&raw.unwrap_or_default())?;
		let records = Vec::<EventRecord>::decode(&mut &raw[..])
			.map_err(|source| ChainError::Decode { what: "the events", source })?;
		Ok(records
			.into_iter()
			.map(|r| match r.phase {
				frame_system::Phase::ApplyExtrinsic(i) => (Some(i), r.event),
				_ => (None, r.event),
			})
			.collect())
	}

	/// The extrinsics and events of block `hash`, read from the node once while it is recent.
	async fn block_body(&self, hash: H256) -> Result<Arc<BlockBody>> {
		let cell = {
			let mut blocks = self.blocks.lock().await;
			match blocks.iter().find(|(h, _)| *h == hash) {
				Some((_, cell)) => cell.clone(),
				None => {
					let cell = Arc::new(OnceCell::new());
					blocks.push_back((hash, cell.clone()));
					if blocks.len() > CACHED_BLOCKS {
						blocks.pop_front();
					}
					cell
				},
			}
		};
		let body = cell
			.get_or_try_init(|| async {
				let body: serde_json::Value = self
					.rpc
					.request("chain_getBlock", rpc_params![to_hex(hash.as_bytes())])
					.await?;
				let extrinsics = body["block"]["extrinsics"]
					.as_array()
					.ok_or_else(|| ChainError::UnknownBlock(format!("{hash:?}")))?
					.iter()
					.filter_map(|x| x.as_str().map(str::to_owned))
					.collect();
				Ok::<_, ChainError>(Arc::new(BlockBody {
					extrinsics,
					events: self.events_at(hash).await?,
				}))
			})
			.await?;
		Ok(body.clone())
	}

	/// The events of the extrinsic `encoded` in `block`; an error if it failed.
	async fn outcome(&self, block: H256, encoded: &str) -> Result<Included> {
		let body = self.block_body(block).await?;
		let index = body
			.extrinsics
			.iter()
			.position(|x| x == encoded)
			.ok_or(ChainError::NotInBlock(block))? as u32;
		let events: Vec<RuntimeEvent> = body
			.events
			.iter()
			.filter(|(i, _)| *i == Some(index))
			.map(|(_, e)| e.clone())
			.collect();
		for event in &events {
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = event
			{
				return Err(ChainError::Failed(*dispatch_error));
			}
		}
		Ok(Included { block, events })
	}
}
