//! The model user's flows, shared by `openledger complete` and `openledger chat`: find a
//! provider that serves a model, and stream an answer from its OpenAI-compatible API.

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
}

/// The endpoint of the first registered provider whose `GET /v1/models` lists every model that
/// `model` names (`"3"`, or an ensemble such as `"3+5"`).
pub async fn find_provider(chain: &Chain, http: &HttpClient, model: &str) -> Result<String> {
	let wanted: Vec<String> = model
		.split('+')
		.map(|term| term.rsplit('*').next().unwrap_or_default().trim().to_string())
		.collect();
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
	mut on_text: impl FnMut(&str),
) -> Result<Ended> {
	request["stream"] = Value::Bool(true);
	request["stream_options"] = serde_json::json!({ "include_usage": true });
	let url = format!("{}{path}", endpoint.trim_end_matches('/'));
	let (status, mut body) = http
		.post_json_stream(&url, &request)
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
