//! The model user's flows, shared by `openledger complete`, `chat`, `infer`, `deposit`, `key`,
//! `rewards` and `claim`: find a provider that serves a model, pay for inference (prepaid OPEN,
//! an API key that is a signed spending authorisation), stream an answer from the provider's
//! OpenAI-compatible API, and claim what inferences earned.

use crate::{
	chain::{Chain, ChainError},
	client::{HttpClient, HttpError},
};
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Duration;

/// The longest a streamed answer may pause between two events.
const EVENT_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest `/v1/models` answer read.
const LIST_LIMIT: usize = 4 << 20;
/// The largest server-sent event read.
const EVENT_LIMIT: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
	#[error(transparent)]
	Chain(#[from] ChainError),
	#[error("{url}")]
	Http { url: String, source: HttpError },
	#[error("no registered provider serves model {0:?} (each provider lists what it serves at GET /v1/models)")]
	NotServed(String),
	#[error("the provider answered {status}: {message}")]
	Refused { status: u16, message: String },
	#[error("the answer stream broke off: {0}")]
	Stream(String),
}

pub type Result<T, E = InferenceError> = std::result::Result<T, E>;

/// How an answer ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ended {
	pub finish_reason: Option<String>,
	pub usage: Option<Value>,
	/// The provider's receipt: the fee, the records' numbers, what the key spent.
	pub receipt: Option<Value>,
}

/// The endpoint of the first registered provider whose `GET /v1/models` lists every model that
/// `model` names (`"3"`, or an ensemble such as `"3+5"`).
pub async fn find_provider(chain: &Chain, http: &HttpClient, model: &str) -> Result<String> {
	let wanted: Vec<String> = spec_models(model).map(str::to_string).collect();
	for endpoint in crate::models::provider_endpoints(chain).await? {
		let Ok(Some(list)) = http.get(&format!("{endpoint}/v1/models"), LIST_LIMIT).await else {
			continue;
		};
		let Ok(list) = serde_json::from_slice::<Value>(&list) else { continue };
		let served: Vec<&str> = list["data"]
			.as_array()
			.map(|d| d.iter().filter_map(|m| m["id"].as_str()).collect())
			.unwrap_or_default();
		if wanted.iter().all(|w| served.contains(&w.as_str())) {
			return Ok(endpoint);
		}
	}
	Err(InferenceError::NotServed(model.to_string()))
}

/// Posts `request` (with `stream: true` set) to `{endpoint}{path}` and hands each piece of text
/// to `on_text` as it arrives: a completion's `text`, or a chat answer's `delta.content`.
pub async fn stream(
	http: &HttpClient,
	endpoint: &str,
	path: &str,
	mut request: Value,
	key: Option<&str>,
	mut on_text: impl FnMut(&str),
) -> Result<Ended> {
	request["stream"] = Value::Bool(true);
	request["stream_options"] = serde_json::json!({ "include_usage": true });
	let url = format!("{}{path}", endpoint.trim_end_matches('/'));
	let (status, mut body) = http
		.post_json_stream(&url, &request, key)
		.await
		.map_err(|source| InferenceError::Http { url: url.clone(), source })?;
	let mut buffer: Vec<u8> = Vec::new();
	if !status.is_success() {
		while let Ok(Some(Ok(frame))) = tokio::time::timeout(EVENT_TIMEOUT, body.frame()).await {
			if let Ok(data) = frame.into_data() {
				buffer.extend_from_slice(&data);
			}
			if buffer.len() > EVENT_LIMIT {
				break;
			}
		}
		let answer: Value = serde_json::from_slice(&buffer).unwrap_or(Value::Null);
		let message = answer["error"]["message"]
			.as_str()
			.map(str::to_string)
			.unwrap_or_else(|| String::from_utf8_lossy(&buffer).into_owned());
		return Err(InferenceError::Refused { status: status.as_u16(), message });
	}
	let mut ended = Ended::default();
	loop {
		while let Some(at) = buffer.windows(2).position(|w| w == b"\n\n") {
			let event: Vec<u8> = buffer.drain(..at + 2).collect();
			let text = String::from_utf8_lossy(&event);
			for line in text.lines() {
				let Some(data) = line.strip_prefix("data:") else { continue };
				let data = data.trim();
				if data == "[DONE]" {
					return Ok(ended);
				}
				let chunk: Value = serde_json::from_str(data)
					.map_err(|e| InferenceError::Stream(format!("an event is not JSON: {e}")))?;
				if let Some(message) = chunk["error"]["message"].as_str() {
					return Err(InferenceError::Stream(message.to_string()));
				}
				if !chunk["usage"].is_null() {
					ended.usage = Some(chunk["usage"].clone());
				}
				if !chunk["openledger_receipt"].is_null() {
					ended.receipt = Some(chunk["openledger_receipt"].clone());
				}
				for choice in chunk["choices"].as_array().into_iter().flatten() {
					let piece =
						choice["text"].as_str().or_else(|| choice["delta"]["content"].as_str());
					if let Some(piece) = piece.filter(|p| !p.is_empty()) {
						on_text(piece);
					}
					if let Some(reason) = choice["finish_reason"].as_str() {
						ended.finish_reason = Some(reason.to_string());
					}
				}
			}
		}
		if buffer.len() > EVENT_LIMIT {
			return Err(InferenceError::Stream("an event is larger than 1 MiB".into()));
		}
		match tokio::time::timeout(EVENT_TIMEOUT, body.frame()).await {
			Ok(Some(Ok(frame))) => {
				if let Ok(data) = frame.into_data() {
					buffer.extend_from_slice(&data);
				}
			},
			Ok(Some(Err(e))) => return Err(InferenceError::Stream(e.to_string())),
			Ok(None) => {
				return Err(InferenceError::Stream("the stream ended before [DONE]".into()))
			},
			Err(_) => {
				return Err(InferenceError::Stream(format!("no event for {EVENT_TIMEOUT:?}")))
			},
		}
	}
}

/// A provider as a key names it: its account and its registered endpoint, found by either.
pub async fn provider_account(
	chain: &Chain,
	provider: &str,
) -> Result<(openledger_runtime::AccountId, String)> {
	use sp_core::crypto::Ss58Codec;
	let wanted = provider.trim_end_matches('/');
	if let Ok(account) = openledger_runtime::AccountId::from_ss58check(wanted) {
		if let Some(endpoint) = crate::models::provider_endpoint(chain, &account).await? {
			return Ok((account, endpoint));
		}
	} else if let Some(found) =
		crate::models::providers(chain).await?.into_iter().find(|(_, e)| e == wanted)
	{
		return Ok(found);
	}
	Err(InferenceError::NotServed(format!("no registered provider is {provider}")))
}

/// The model ids an ensemble names (`"3"`, `"3+5"`, `"0.7*3+0.3*5"`), as written.
pub fn spec_models(model: &str) -> impl Iterator<Item = &str> {
	model.split('+').map(|term| term.rsplit('*').next().unwrap_or_default().trim())
}

/// Signs an API key: `signer`'s funds for `provider` on `models` at today's prices (each model's
/// owner's and the provider's serving price for its base), up to `max_spend`, for `blocks`
/// blocks from now.
pub async fn make_key(
	chain: &Chain,
	signer: &sp_core::sr25519::Pair,
	provider: &openledger_runtime::AccountId,
	models: &[u32],
	max_spend: u128,
	blocks: u32,
	nonce: u64,
) -> Result<crate::settlement::Key> {
	use openledger_runtime::{Runtime, Signature};
	use pallet_inference::{Authorisation, KeyModel, SignedAuthorisation};
	use pallet_models::{ModelOf, ModelStatus};
	use sp_core::crypto::Pair as _;
	let offers: Vec<(u32, u128)> = chain.runtime_call("InferenceApi_offers", provider).await?;
	let mut pinned = Vec::new();
	for &model in models {
		let record: Option<ModelOf<Runtime>> = chain.runtime_call("ModelsApi_model", model).await?;
		let record =
			record.ok_or_else(|| InferenceError::NotServed(format!("{model} (no such model)")))?;
		let ModelStatus::Published { price_per_1k_tokens, .. } = record.status else {
			return Err(InferenceError::NotServed(format!("{model} (not published)")));
		};
		let serving = offers
			.iter()
			.find(|(base, _)| *base == record.provenance.base_model)
			.map(|(_, price)| *price)
			.ok_or_else(|| {
				InferenceError::NotServed(format!(
					"{model} (its base is not offered by this provider)"
				))
			})?;
		pinned.push(KeyModel { model, model_price: price_per_1k_tokens, serving_price: serving });
	}
	let now = chain.best_number().await?;
	let authorisation = Authorisation {
		genesis: chain.genesis(),
		user: signer.public().into(),
		provider: provider.clone(),
		models: frame_support::BoundedVec::truncate_from(pinned),
		max_spend,
		expires: now.saturating_add(blocks),
		nonce,
	};
	let payload = pallet_inference::Pallet::<Runtime>::signing_payload(&authorisation);
	let signature = Signature::Sr25519(signer.sign(&payload));
	Ok(SignedAuthorisation { authorisation, signature })
}

/// What an account may claim: its rewards as a provider, an owner or the protocol pot, and each
/// of its contributions' shares of the versions' pools that inferences paid into.
#[derive(Debug, Default, serde::Serialize)]
pub struct Claimable {
	pub rewards: String,
	/// (datanet, version, contribution, amount)
	pub contributions: Vec<(u32, u32, u32, String)>,
}

/// Finds what `account` may claim: the pools are few (one per version a paid model was trained
/// on), and each version lists its contributions.
pub async fn claimable(
	chain: &Chain,
	account: &openledger_runtime::AccountId,
) -> Result<Claimable> {
	use frame_support::storage::StoragePrefixedMap;
	use openledger_runtime::Runtime;
	let rewards: u128 = chain.runtime_call("InferenceApi_rewards", account).await?;
	let prefix = pallet_inference::ContributorPools::<Runtime>::final_prefix();
	let mut contributions = Vec::new();
	for key in chain.keys(&prefix).await? {
		// prefix, then twox64(datanet) ++ datanet, twox64(version) ++ version.
		let rest = &key[prefix.len()..];
		let (Some(datanet), Some(version)) = (rest.get(8..12), rest.get(20..24)) else { continue };
		let datanet = u32::from_le_bytes(datanet.try_into().unwrap_or_default());
		let version = u32::from_le_bytes(version.try_into().unwrap_or_default());
		let mut start = 0u32;
		loop {
			let page: Vec<pallet_datanets::VersionEntry> = chain
				.runtime_call(
					"DatanetsApi_version_contributions",
					(datanet, version, start, 1_000u32),
				)
				.await?;
			if page.is_empty() {
				break;
			}
			for entry in &page {
				start = entry.position.saturating_add(1);
				let record: Option<pallet_datanets::ContributionOf<Runtime>> = chain
					.runtime_call("DatanetsApi_contribution", (datanet, entry.contribution))
					.await?;
				if record.is_some_and(|r| &r.contributor == account) {
					let amount: u128 = chain
						.runtime_call(
							"InferenceApi_contribution_rewards",
							(datanet, version, entry.contribution),
						)
						.await?;
					if amount > 0 {
						contributions.push((
							datanet,
							version,
							entry.contribution,
							amount.to_string(),
						));
					}
				}
			}
		}
	}
	Ok(Claimable { rewards: rewards.to_string(), contributions })
}
