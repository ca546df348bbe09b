//! The provider's HTTP API: an axum router over the daemon's capabilities.
//!
//! - blobs: `PUT /v1/blobs/0x{hash}?datanet={id}&contributor={account}` stores a blob if the
//!   datanet names this provider among its storage endpoints ([`Shared::stores_for`]) and the
//!   chain lets that contributor put it there ([`Shared::may_upload`]); the body streams to disk
//!   while it is hashed, at the pace [`crate::http`] asks. `GET /v1/blobs/0x{hash}` streams a
//!   stored blob back.
//! - jobs: `GET /v1/status`, `GET /v1/jobs/{id}`.
//! - serving ([`crate::serving::api`]): `GET /v1/models`, `POST /v1/completions`,
//!   `POST /v1/chat/completions`, `GET /metrics`.
//!
//! Request bodies of the JSON endpoints are capped at [`JSON_BODY_LIMIT`] (413 beyond, by
//! tower-http), and their answers must begin within [`ANSWER_TIMEOUT`] (408 after it); a streamed
//! answer has begun once its headers are sent, so neither cuts it. Blob uploads are bounded by
//! the store's limit and [`crate::http::Pace`] instead. Every request is traced.

use crate::{
	daemon::Shared,
	http::{BodyError, Pace},
	serving::api,
	store::StoreError,
};
use axum::{
	body::{Body, Bytes},
	extract::{Path, Query, Request, State},
	http::{header, HeaderValue, StatusCode},
	response::{IntoResponse, Response},
	routing::get,
	Router,
};
use openledger_runtime::AccountId;
use sp_core::{crypto::Ss58Codec, H256};
use std::{sync::Arc, time::Duration};
use tower_http::{
	limit::RequestBodyLimitLayer,
	timeout::TimeoutLayer,
	trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

/// The largest body of a JSON request.
pub const JSON_BODY_LIMIT: usize = 1 << 20;
/// How long a JSON endpoint may take to begin its answer (a whole completion of the longest
/// `max_tokens` included).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// The routes, with their layers.
pub fn router(shared: Arc<Shared>) -> Router {
	let json_api = Router::new()
		.route("/v1/status", get(status))
		.route("/v1/jobs/:job", get(job))
		.route("/v1/models", get(api::models))
		.route("/v1/completions", axum::routing::post(api::completions))
		.route("/v1/chat/completions", axum::routing::post(api::chat_completions))
		.route("/metrics", get(api::metrics))
		.layer(RequestBodyLimitLayer::new(JSON_BODY_LIMIT))
		.layer(TimeoutLayer::new(ANSWER_TIMEOUT));
	let blobs = Router::new().route("/v1/blobs/:hash", get(get_blob).put(put_blob));
	json_api
		.merge(blobs)
		.fallback(|request: Request| async move {
			error(StatusCode::NOT_FOUND, format!("no route {}", request.uri().path()))
		})
		.layer(
			TraceLayer::new_for_http()
				.make_span_with(DefaultMakeSpan::new().level(Level::INFO))
				.on_response(DefaultOnResponse::new().level(Level::INFO)),
		)
		.with_state(shared)
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
	(status, axum::Json(value)).into_response()
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
	json(status, serde_json::json!({ "error": message.to_string() }))
}

/// Parses `0x` and 64 hex digits.
fn parse_hash(text: &str) -> Option<H256> {
	let hex = text.strip_prefix("0x")?;
	let bytes = hex::decode(hex).ok()?;
	(bytes.len() == 32).then(|| H256::from_slice(&bytes))
}

/// Parses an SS58 address or `0x` and 64 hex digits.
fn parse_account(text: &str) -> Option<AccountId> {
	match parse_hash(text) {
		Some(raw) => Some(AccountId::new(raw.0)),
		None => AccountId::from_ss58check(text).ok(),
	}
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
	json(StatusCode::OK, shared.status().await)
}

async fn job(State(shared): State<Arc<Shared>>, Path(job): Path<String>) -> Response {
	let Ok(job) = job.parse::<u64>() else {
		return error(StatusCode::BAD_REQUEST, "a job id is a number");
	};
	match shared.job(job).await {
		Some(value) => json(StatusCode::OK, value),
		None => error(StatusCode::NOT_FOUND, format!("this provider has not seen job {job}")),
	}
}

#[derive(serde::Deserialize)]
struct UploadQuery {
	datanet: Option<String>,
	contributor: Option<String>,
}

async fn put_blob(
	State(shared): State<Arc<Shared>>,
	Path(hash): Path<String>,
	query: Option<Query<UploadQuery>>,
	request: Request,
) -> Response {
	let Some(hash) = parse_hash(&hash) else {
		return error(StatusCode::BAD_REQUEST, "a blob is named by 0x and 64 hex digits");
	};
	let query = query.map(|q| q.0);
	let datanet = query.as_ref().and_then(|q| q.datanet.as_deref()?.parse::<u32>().ok());
	let contributor = query.as_ref().and_then(|q| parse_account(q.contributor.as_deref()?));
	let (Some(datanet), Some(contributor)) = (datanet, contributor) else {
		return error(
			StatusCode::BAD_REQUEST,
			"an upload names its datanet and contributor: ?datanet=<id>&contributor=<account>",
		);
	};
	let limit = shared.store.limit();
	if let Some(length) = request
		.headers()
		.get(header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<u64>().ok())
	{
		if length > limit {
			return error(
				StatusCode::PAYLOAD_TOO_LARGE,
				format!("the body has {length} bytes, more than the limit of {limit}"),
			);
		}
	}
	match shared.stores_for(datanet).await {
		Ok(true) => {},
		Ok(false) => {
			return error(
				StatusCode::FORBIDDEN,
				format!(
					"datanet {datanet} does not name this provider ({}) among its storage \
					 endpoints: upload to the endpoints it names (datanets.setServices)",
					shared.config.public_url.trim_end_matches('/')
				),
			)
		},
		Err(e) => {
			tracing::warn!(error = %crate::error_chain(&e), "reading the chain for an upload");
			return error(StatusCode::SERVICE_UNAVAILABLE, "the chain could not be read");
		},
	}
	let committed_only = match shared.may_upload(datanet, &contributor, hash).await {
		Ok(Some(upload)) => upload == crate::daemon::Upload::Committed,
		Ok(None) => {
			return error(
				StatusCode::FORBIDDEN,
				format!(
					"datanet {datanet} has no commitment of {contributor} to {hash:?} nor the \
					 contribution itself: commit first (datanets.commit)"
				),
			)
		},
		Err(e) => {
			tracing::warn!(error = %crate::error_chain(&e), "reading the chain for an upload");
			return error(StatusCode::SERVICE_UNAVAILABLE, "the chain could not be read");
		},
	};
	// Held already: taken again on this commitment, so that it stays as long as that does.
	let held = if committed_only {
		shared.store.claim_held(&hash, datanet, contributor.as_ref())
	} else {
		Ok(shared.store.contains(&hash))
	};
	match held {
		Ok(true) => {
			return json(StatusCode::OK, serde_json::json!({ "hash": format!("{hash:?}") }))
		},
		Ok(false) => {},
		Err(e) => return store_error(e),
	}
	let mut upload = match shared.store.upload(hash) {
		Ok(upload) => upload,
		Err(e) => return store_error(e),
	};
	let mut body = request.into_body();
	let mut pace = Pace::new(&shared.limits);
	loop {
		match pace.next(&mut body).await {
			Ok(Some(data)) => {
				if let Err(e) = upload.write(&data) {
					return store_error(e);
				}
			},
			Ok(None) => break,
			// The connection closes with the answer: the rest of the body is not read.
			Err(e @ BodyError::TooSlow { .. }) => {
				let mut answer = error(StatusCode::REQUEST_TIMEOUT, e);
				answer
					.headers_mut()
					.insert(header::CONNECTION, HeaderValue::from_static("close"));
				return answer;
			},
			Err(e) => return error(StatusCode::BAD_REQUEST, e),
		}
	}
	let size = upload.size();
	// Kept only while the commitment stands or once the datanet records it: see
	// `daemon::Shared::sweep`.
	let claim = committed_only.then_some((datanet, contributor.as_ref()));
	let stored = crate::store::blocking(|| upload.finish_claimed(hash, claim));
	match stored {
		Ok(()) => json(
			StatusCode::CREATED,
			serde_json::json!({ "hash": format!("{hash:?}"), "size": size }),
		),
		Err(e) => store_error(e),
	}
}

fn store_error(e: StoreError) -> Response {
	match e {
		e @ StoreError::HashMismatch { .. } => error(StatusCode::BAD_REQUEST, e),
		e @ StoreError::TooLarge { .. } => error(StatusCode::PAYLOAD_TOO_LARGE, e),
		e @ StoreError::Full { .. } => error(StatusCode::INSUFFICIENT_STORAGE, e),
		e @ StoreError::Busy(_) => error(StatusCode::CONFLICT, e),
		e => error(StatusCode::INTERNAL_SERVER_ERROR, e),
	}
}

async fn get_blob(State(shared): State<Arc<Shared>>, Path(hash): Path<String>) -> Response {
	use futures::TryStreamExt;
	let Some(hash) = parse_hash(&hash) else {
		return error(StatusCode::BAD_REQUEST, "a blob is named by 0x and 64 hex digits");
	};
	match shared.store.open_blob(&hash) {
		Ok(Some((file, size))) => {
			let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
			Response::builder()
				.status(StatusCode::OK)
				.header(header::CONTENT_TYPE, "application/octet-stream")
				.header(header::CONTENT_LENGTH, size)
				.body(Body::from_stream(stream.map_ok(Bytes::from)))
				.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
		},
		Ok(None) => error(StatusCode::NOT_FOUND, format!("no blob {hash:?}")),
		Err(e) => {
			tracing::error!(%e, "serving a blob");
			error(StatusCode::INTERNAL_SERVER_ERROR, e)
		},
	}
}
