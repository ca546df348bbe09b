//! A chain client over the node's JSON-RPC: storage reads, signed extrinsics and their
//! outcome. It uses the runtime's own types to encode calls and decode storage and events, so
//! a call that does not fit the runtime does not compile.

use anyhow::{anyhow, bail, Context, Result};
use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use openledger_runtime::{
	AccountId, Runtime, RuntimeCall, RuntimeError, RuntimeEvent, SignedPayload, TxExtension,
	UncheckedExtrinsic,
};
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_crypto_hashing::twox_128;
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};
use std::time::Duration;
use tokio::sync::Mutex;

type EventRecord = frame_system::EventRecord<RuntimeEvent, H256>;

/// How long a submitted extrinsic may take to be included.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

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
	submit_lock: Mutex<()>,
}

/// Decodes a `0x`-prefixed hex string.
pub fn from_hex(text: &str) -> Result<Vec<u8>> {
	hex::decode(text.trim_start_matches("0x")).with_context(|| format!("bad hex `{text}`"))
}

pub fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
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
			.with_context(|| format!("connecting to the node at {url}"))?;
		let genesis: String = rpc.request("chain_getBlockHash", rpc_params![0]).await?;
		let genesis = H256::from_slice(&from_hex(&genesis)?);
		Ok(Self { rpc, genesis, submit_lock: Mutex::new(()) })
	}

	/// The raw storage value under `key` at the best block.
	pub async fn storage_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
		let value: Option<String> =
			self.rpc.request("state_getStorage", rpc_params![to_hex(key)]).await?;
		value.map(|v| from_hex(&v)).transpose()
	}

	/// The storage value under `key` at the best block, decoded.
	pub async fn storage<T: Decode>(&self, key: &[u8]) -> Result<Option<T>> {
		match self.storage_raw(key).await? {
			Some(bytes) => Ok(Some(
				T::decode(&mut &bytes[..]).map_err(|e| anyhow!("decoding storage: {e}"))?,
			)),
			None => Ok(None),
		}
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

	pub async fn best_number(&self) -> Result<u32> {
		self.header_number(None).await
	}

	/// Signs `call` with `signer`, submits it and waits until a block includes it. Fails with
	/// the runtime's error name if the call failed.
	pub async fn submit(&self, signer: &sr25519::Pair, call: RuntimeCall) -> Result<Included> {
		let guard = self.submit_lock.lock().await;
		let who: AccountId = signer.public().into();
		let nonce: u32 = self
			.rpc
			.request("system_accountNextIndex", rpc_params![who.to_string()])
			.await?;
		let version: serde_json::Value =
			self.rpc.request("state_getRuntimeVersion", rpc_params![]).await?;
		let spec_version = version["specVersion"].as_u64().unwrap_or_default() as u32;
		let tx_version = version["transactionVersion"].as_u64().unwrap_or_default() as u32;
		let extension: TxExtension = (
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
			frame_system::WeightReclaim::<Runtime>::new(),
		);
		let implicit = (
			(),
			(),
			spec_version,
			tx_version,
			self.genesis,
			self.genesis,
			(),
			(),
			(),
			None,
			(),
		);
		let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		let extrinsic = UncheckedExtrinsic::new_signed(
			call,
			MultiAddress::Id(who),
			MultiSignature::Sr25519(signature),
			extension,
		);
		let encoded = to_hex(&extrinsic.encode());
		let mut statuses = self
			.rpc
			.subscribe::<serde_json::Value, _>(
				"author_submitAndWatchExtrinsic",
				rpc_params![encoded.clone()],
				"author_unwatchExtrinsic",
			)
			.await
			.context("submitting the extrinsic")?;
		// The pool has it: the next submission may take the next nonce.
		drop(guard);
		let block = tokio::time::timeout(INCLUSION_TIMEOUT, async {
			while let Some(status) = statuses.next().await {
				let status = status?;
				for key in ["inBlock", "finalized"] {
					if let Some(hash) = status.get(key).and_then(|h| h.as_str()) {
						return Ok(H256::from_slice(&from_hex(hash)?));
					}
				}
				for key in ["dropped", "invalid", "usurped"] {
					if status == key || status.get(key).is_some() {
						bail!("the transaction was {key}");
					}
				}
			}
			bail!("the node closed the subscription")
		})
		.await
		.map_err(|_| anyhow!("not included within {INCLUSION_TIMEOUT:?}"))??;
		self.outcome(block, &encoded).await
	}

	/// The number of block `hash`, or of the best block.
	async fn header_number(&self, hash: Option<H256>) -> Result<u32> {
		let hash = hash.map(|h| to_hex(h.as_bytes()));
		let header: serde_json::Value = self.rpc.request("chain_getHeader", rpc_params![hash.clone()]).await?;
		let number = header["number"].as_str().ok_or_else(|| anyhow!("no header {hash:?}"))?;
		Ok(u32::from_str_radix(number.trim_start_matches("0x"), 16)?)
	}

	/// The hash of block `number` of the best chain.
	pub async fn block_hash(&self, number: u32) -> Result<Option<H256>> {
		let hash: Option<String> = self.rpc.request("chain_getBlockHash", rpc_params![number]).await?;
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
			.map_err(|e| anyhow!("decoding the events: {e}"))?;
		Ok(records
			.into_iter()
			.map(|r| match r.phase {
				frame_system::Phase::ApplyExtrinsic(i) => (Some(i), r.event),
				_ => (None, r.event),
			})
			.collect())
	}

	/// The events of the extrinsic `encoded` in `block`; an error if it failed.
	async fn outcome(&self, block: H256, encoded: &str) -> Result<Included> {
		let body: serde_json::Value =
			self.rpc.request("chain_getBlock", rpc_params![to_hex(block.as_bytes())]).await?;
		let index = body["block"]["extrinsics"]
			.as_array()
			.and_then(|xts| xts.iter().position(|x| x.as_str() == Some(encoded)))
			.ok_or_else(|| anyhow!("the extrinsic is not in block {block:?}"))? as u32;
		let events: Vec<RuntimeEvent> = self
			.events_at(block)
			.await?
			.into_iter()
			.filter(|(i, _)| *i == Some(index))
			.map(|(_, e)| e)
			.collect();
		for event in &events {
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = event
			{
				bail!("{}", describe(*dispatch_error));
			}
		}
		Ok(Included { block, events })
	}
}
