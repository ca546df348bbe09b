//! The OpenAI-compatible endpoints: `GET /v1/models`, `POST /v1/completions`,
//! `POST /v1/chat/completions` (whole or as server-sent events ending in `data: [DONE]`), and
//! `GET /metrics`.

use super::{
	openai::{self, ApiError, Generation, TokenLogprob, Usage},
	text::Detokenizer,
	Started,
};
use crate::daemon::Shared;
use crate::settlement::{Receipt, Ticket};
use axum::{
	body::{Body, Bytes},
	extract::State,
	http::{header, HeaderMap, HeaderValue, StatusCode},
	response::{IntoResponse, Response},
};
use openledger_ml::engine::{Event, FinishReason};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, H256};
use std::{convert::Infallible, sync::Arc};

impl IntoResponse for ApiError {
	fn into_response(self) -> Response {
		let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
		let mut response = (status, axum::Json(self.body())).into_response();
		if let Some(seconds) = self.retry_after {
			response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
		}
		response
	}
}

/// `GET /v1/models`: the published models served here, OpenAI's list with OpenLedger's fields.
pub async fn models(State(shared): State<Arc<Shared>>) -> Response {
	let data: Vec<Value> = match &shared.serving {
		None => Vec::new(),
		Some(serving) => serving
			.models()
			.iter()
			.map(|m| {
				let base = serving.bases.get(&m.base).map(|b| b.name.clone()).unwrap_or_default();
				json!({
					"id": m.id.to_string(),
					"object": "model",
					"created": m.listed,
					"owned_by": m.owner.to_ss58check(),
					"name": m.name,
					"base_model": base,
					"artifact": format!("{:?}", m.artifact),
					"lora": { "rank": m.lora.rank, "alpha": m.lora.alpha, "targets": m.lora.targets },
					// In OPEN's smallest units, as decimal strings: what a key must pin.
					"pricing": {
						"model_per_1k_tokens": m.price.to_string(),
						"serving_per_1k_tokens": serving.serving_price(m.base).unwrap_or_default().to_string(),
					},
				})
			})
			.collect(),
	};
	axum::Json(json!({ "object": "list", "data": data })).into_response()
}

/// `GET /metrics`: Prometheus' text format.
pub async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
	let mut out = String::new();
	if let Some(serving) = &shared.serving {
		for base in serving.bases.values() {
			base.metrics.write(&mut out, &base.name);
		}
		out.push_str("# TYPE openlora:models_served gauge\n");
		out.push_str(&format!("openlora:models_served {}\n", serving.models().len()));
	}
	if let Some(payments) = &shared.payments {
		out.push_str("# TYPE openledger:unsettled_inferences gauge\n");
		out.push_str(&format!("openledger:unsettled_inferences {}\n", payments.unsettled()));
	}
	([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// `POST /v1/completions`.
pub async fn completions(
	State(shared): State<Arc<Shared>>,
	headers: HeaderMap,
	body: Bytes,
) -> Response {
	match openai::completion_request(&body) {
		Ok(generation) => answer(&shared, &headers, &body, generation, Kind::Completion).await,
		Err(e) => e.into_response(),
	}
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
	State(shared): State<Arc<Shared>>,
	headers: HeaderMap,
	body: Bytes,
) -> Response {
	match openai::chat_request(&body) {
		Ok(generation) => answer(&shared, &headers, &body, generation, Kind::Chat).await,
		Err(e) => e.into_response(),
	}
}

/// The API key of `Authorization: Bearer`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
	let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
	value.strip_prefix("Bearer ").map(str::trim)
}

/// Checks the request's API key and reserves what the request may cost: each model of the
/// request at its owner's price and this provider's serving price.
async fn authorise(
	shared: &Arc<Shared>,
	headers: &HeaderMap,
	generation: &Generation,
) -> Result<Ticket, ApiError> {
	let (Some(serving), Some(payments)) = (&shared.serving, &shared.payments) else {
		return Err(ApiError::model_not_found(&generation.model));
	};
	let mut prices = Vec::new();
	for (id, _) in &generation.spec.members {
		let served =
			serving.model(*id).ok_or_else(|| ApiError::model_not_found(&generation.model))?;
		let serving_price = serving
			.serving_price(served.base)
			.ok_or_else(|| ApiError::model_not_found(&generation.model))?;
		prices.push((*id, served.price, serving_price));
	}
	let config = &serving.config;
	let most = config
		.max_prompt_tokens
		.saturating_add(generation.max_tokens.unwrap_or(config.max_tokens).min(config.max_tokens));
	payments.authorise(bearer(headers), &prices, most as u64).await
}

/// Writes what an answer served to the settlement journal.
fn settle_later(
	shared: &Arc<Shared>,
	ticket: Ticket,
	request: H256,
	usage: &Usage,
) -> Result<Receipt, ApiError> {
	let payments = shared
		.payments
		.as_ref()
		.ok_or_else(|| ApiError::new(500, "server_error", "payments are off"))?;
	payments.record(ticket, request, usage.prompt_tokens as u32, usage.completion_tokens as u32)
}

fn receipt_json(receipt: &Receipt) -> Value {
	serde_json::to_value(receipt).unwrap_or(Value::Null)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
	Completion,
	Chat,
}

/// What an answer is made of as its tokens come.
struct Answer {
	kind: Kind,
	id: String,
	created: u64,
	model: String,
	logprobs: bool,
	detok: Detokenizer,
	/// Log-probabilities of tokens whose text is not given out yet.
	pending: Vec<TokenLogprob>,
	/// Bytes of text given out, for the legacy `text_offset`.
	offset: usize,
}

/// One step of an answer.
enum Piece {
	Text(String, Vec<TokenLogprob>),
	Done(&'static str, Usage),
	Failed(String),
}

impl Answer {
	/// Turns the next event into a piece, ending the request when a stop sequence ends its text.
	fn next(&mut self, started: &Started, event: Event) -> Vec<Piece> {
		let codec = &started.base.codec;
		match event {
			Event::Token { token, logprob } => {
				if self.logprobs {
					self.pending.push(TokenLogprob { text: codec.decode(&[token]), logprob });
				}
				let (text, stopped) = self.detok.push(codec, token);
				let mut pieces = Vec::new();
				if !text.is_empty() {
					pieces.push(Piece::Text(text, std::mem::take(&mut self.pending)));
				}
				if stopped {
					started.stop();
					pieces.push(Piece::Done("stop", self.usage(started)));
				}
				pieces
			},
			Event::Finished { reason, .. } => {
				let rest = self.detok.finish(codec);
				let mut pieces = Vec::new();
				if !rest.is_empty() || !self.pending.is_empty() {
					pieces.push(Piece::Text(rest, std::mem::take(&mut self.pending)));
				}
				let reason = match reason {
					FinishReason::Length => "length",
					FinishReason::Stop | FinishReason::Cancelled => "stop",
				};
				pieces.push(Piece::Done(reason, self.usage(started)));
				pieces
			},
			Event::Failed { error } => vec![Piece::Failed(error)],
		}
	}

	fn usage(&self, started: &Started) -> Usage {
		Usage { prompt_tokens: started.prompt_tokens, completion_tokens: self.detok.tokens() }
	}

	fn logprobs_json(&mut self, tokens: &[TokenLogprob]) -> Value {
		if !self.logprobs {
			return Value::Null;
		}
		match self.kind {
			Kind::Completion => openai::completion_logprobs(tokens, self.offset),
			Kind::Chat => openai::chat_logprobs(tokens),
		}
	}

	/// A stream chunk: text with its tokens' log-probabilities, or the end with its reason.
	fn chunk(
		&mut self,
		text: Option<&str>,
		tokens: &[TokenLogprob],
		finish: Option<&str>,
	) -> Value {
		let logprobs = self.logprobs_json(tokens);
		self.offset += text.map_or(0, str::len);
		let choice = match self.kind {
			Kind::Completion => json!({
				"index": 0, "text": text.unwrap_or_default(), "logprobs": logprobs,
				"finish_reason": finish,
			}),
			Kind::Chat => json!({
				"index": 0,
				"delta": match text { Some(t) => json!({ "content": t }), None => json!({}) },
				"logprobs": logprobs, "finish_reason": finish,
			}),
		};
		json!({
			"id": self.id, "object": self.chunk_object(), "created": self.created,
			"model": self.model, "choices": [choice],
		})
	}

	/// The `object` of a stream chunk.
	fn chunk_object(&self) -> &'static str {
		match self.kind {
			Kind::Completion => "text_completion",
			Kind::Chat => "chat.completion.chunk",
		}
	}
}

async fn answer(
	shared: &Arc<Shared>,
	headers: &HeaderMap,
	body: &[u8],
	generation: Generation,
	kind: Kind,
) -> Response {
	let Some(serving) = &shared.serving else {
		return ApiError::model_not_found(&generation.model).into_response();
	};
	let ticket = match authorise(shared, headers, &generation).await {
		Ok(ticket) => ticket,
		Err(e) => return e.into_response(),
	};
	let mut started = match serving.start_generation(&generation) {
		Ok(started) => started,
		Err(e) => return e.into_response(),
	};
	let prefix = match kind {
		Kind::Completion => "cmpl",
		Kind::Chat => "chatcmpl",
	};
	let mut answer = Answer {
		kind,
		id: format!("{prefix}-{:016x}", serving.next()),
		created: super::unix_now(),
		model: generation.model.clone(),
		logprobs: generation.logprobs,
		detok: Detokenizer::new(started.stops.clone()),
		pending: Vec::new(),
		offset: 0,
	};
	let request = H256(sp_crypto_hashing::blake2_256(&[answer.id.as_bytes(), body].concat()));
	if generation.stream {
		return stream(shared.clone(), ticket, request, started, answer, generation.include_usage);
	}
	let mut ticket = Some(ticket);
	let mut text = String::new();
	let mut tokens = Vec::new();
	while let Some(event) = started.events.recv().await {
		for piece in answer.next(&started, event) {
			match piece {
				Piece::Text(t, logprobs) => {
					text.push_str(&t);
					tokens.extend(logprobs);
				},
				Piece::Done(reason, usage) => {
					let receipt =
						match ticket.take().map(|t| settle_later(shared, t, request, &usage)) {
							Some(Ok(receipt)) => receipt,
							Some(Err(e)) => return e.into_response(),
							None => return engine_failed("answered twice".into()).into_response(),
						};
					let logprobs = answer.logprobs_json(&tokens);
					let (object, choice) = match kind {
						Kind::Completion => (
							"text_completion",
							json!({ "index": 0, "text": text, "logprobs": logprobs, "finish_reason": reason }),
						),
						Kind::Chat => (
							"chat.completion",
							json!({
								"index": 0,
								"message": { "role": "assistant", "content": text, "refusal": null },
								"logprobs": logprobs, "finish_reason": reason,
							}),
						),
					};
					let attribution = serving
						.attribute(
							shared,
							&started.base,
							&started.models,
							&started.prompt,
							&text,
							started.influence,
						)
						.await;
					let mut response = axum::Json(json!({
						"id": answer.id, "object": object, "created": answer.created,
						"model": answer.model, "choices": [choice], "usage": usage.json(),
						"openledger_receipt": receipt_json(&receipt),
						"openledger_attribution": attribution,
					}))
					.into_response();
					if let Ok(value) = HeaderValue::from_str(&receipt_json(&receipt).to_string()) {
						response.headers_mut().insert("openledger-receipt", value);
					}
					return response;
				},
				Piece::Failed(error) => return engine_failed(error).into_response(),
			}
		}
	}
	engine_failed("the engine stopped".into()).into_response()
}

fn engine_failed(error: String) -> ApiError {
	ApiError::new(500, "server_error", format!("the request could not be served: {error}"))
}

fn sse(value: &Value) -> Bytes {
	Bytes::from(format!("data: {value}\n\n"))
}

/// Server-sent events: a chunk per piece of text, the end, the usage when asked, `[DONE]`. The
/// request is cancelled when the client goes away (the body, and with it the task's channel, is
/// dropped).
fn stream(
	shared: Arc<Shared>,
	ticket: Ticket,
	request: H256,
	mut started: Started,
	mut answer: Answer,
	include_usage: bool,
) -> Response {
	let (chunks, receiver) = tokio::sync::mpsc::channel::<Bytes>(16);
	let mut ticket = Some(ticket);
	tokio::spawn(async move {
		let with_usage = |mut chunk: Value| {
			if include_usage {
				chunk["usage"] = Value::Null;
			}
			sse(&chunk)
		};
		if answer.kind == Kind::Chat {
			let mut first = answer.chunk(Some(""), &[], None);
			first["choices"][0]["delta"]["role"] = json!("assistant");
			if chunks.send(with_usage(first)).await.is_err() {
				return;
			}
		}
		// The whole text, attributed once it ends.
		let mut full = String::new();
		while let Some(event) = started.events.recv().await {
			for piece in answer.next(&started, event) {
				let bytes = match piece {
					Piece::Text(text, tokens) => {
						full.push_str(&text);
						with_usage(answer.chunk(Some(&text), &tokens, None))
					},
					Piece::Done(reason, usage) => {
						// Recorded before the answer completes: a client that saw the end was
						// charged for it, and the journal has it.
						let receipt = match ticket
							.take()
							.map(|t| settle_later(&shared, t, request, &usage))
						{
							Some(Ok(receipt)) => receipt,
							Some(Err(e)) => {
								let _ = chunks.send(sse(&e.body())).await;
								return;
							},
							None => return,
						};
						let mut last = answer.chunk(None, &[], Some(reason));
						last["openledger_receipt"] = receipt_json(&receipt);
						if let Some(serving) = &shared.serving {
							let attribution = serving
								.attribute(
									&shared,
									&started.base,
									&started.models,
									&started.prompt,
									&full,
									started.influence,
								)
								.await;
							last["openledger_attribution"] = json!(attribution);
						}
						let _ = chunks.send(with_usage(last)).await;
						if include_usage {
							let last = json!({
								"id": answer.id, "object": answer.chunk_object(),
								"created": answer.created, "model": answer.model,
								"choices": [], "usage": usage.json(),
							});
							let _ = chunks.send(sse(&last)).await;
						}
						let _ = chunks.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
						return;
					},
					Piece::Failed(error) => {
						let _ = chunks.send(sse(&engine_failed(error).body())).await;
						return;
					},
				};
				if chunks.send(bytes).await.is_err() {
					// The client went away: what it was given is paid for.
					let usage = answer.usage(&started);
					if let Some(ticket) = ticket.take().filter(|_| usage.completion_tokens > 0) {
						if let Err(e) = settle_later(&shared, ticket, request, &usage) {
							tracing::error!(error = %e.message, "recording a cut-off answer");
						}
					}
					return;
				}
			}
		}
	});
	let body = futures::stream::unfold(receiver, |mut receiver| async move {
		receiver.recv().await.map(|chunk| (Ok::<_, Infallible>(chunk), receiver))
	});
	Response::builder()
		.status(StatusCode::OK)
		.header(header::CONTENT_TYPE, "text/event-stream")
		.header(header::CACHE_CONTROL, "no-cache")
		.body(Body::from_stream(body))
		.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
