//! The provider's HTTP API on hyper: blob upload and download, status.
//!
//! `PUT /v1/blobs/0x{hash}?datanet={id}&contributor={account}` stores a blob if the datanet names
//! this provider among its storage endpoints ([`Shared::stores_for`]) and the chain lets that
//! contributor put it there ([`Shared::may_upload`]); the body streams to disk while it is hashed,
//! at the pace [`crate::http`] asks. `GET /v1/blobs/0x{hash}` streams a stored blob back.

use crate::{
	daemon::Shared,
	http::{full, Body, BodyError, Pace},
	store::StoreError,
};
use http_body_util::{BodyExt, StreamBody};
use hyper::{
	body::{Bytes, Frame},
	Method, Request, Response, StatusCode,
};
use openledger_runtime::AccountId;
use sp_core::{crypto::Ss58Codec, H256};
use std::sync::Arc;

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
	Response::builder()
		.status(status)
		.header("Content-Type", "application/json")
		.body(full(value.to_string()))
		.unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Body> {
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

/// The value of `name` in a query string.
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
	query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Answers one request.
pub async fn handle(
	shared: Arc<Shared>,
	request: Request<hyper::body::Incoming>,
) -> Response<Body> {
	let method = request.method().clone();
	let path = request.uri().path().to_string();
	let response = route(&shared, request).await;
	tracing::info!(%method, %path, status = response.status().as_u16(), "http");
	response
}

async fn route(shared: &Arc<Shared>, request: Request<hyper::body::Incoming>) -> Response<Body> {
	let path = request.uri().path().to_string();
	match (request.method().clone(), path.as_str()) {
		(Method::GET, "/v1/status") => json(StatusCode::OK, shared.status().await),
		(Method::GET, p) if p.starts_with("/v1/jobs/") => {
			let Ok(job) = p["/v1/jobs/".len()..].parse::<u64>() else {
				return error(StatusCode::BAD_REQUEST, "a job id is a number");
			};
			match shared.job(job).await {
				Some(value) => json(StatusCode::OK, value),
				None => {
					error(StatusCode::NOT_FOUND, format!("this provider has not seen job {job}"))
				},
			}
		},
		(method, p) if p.starts_with("/v1/blobs/") => {
			let Some(hash) = parse_hash(&p["/v1/blobs/".len()..]) else {
				return error(StatusCode::BAD_REQUEST, "a blob is named by 0x and 64 hex digits");
			};
			match method {
				Method::PUT => put_blob(shared, hash, request).await,
				Method::GET => get_blob(shared, hash).await,
				_ => error(StatusCode::METHOD_NOT_ALLOWED, "blobs take GET and PUT"),
			}
		},
		_ => error(StatusCode::NOT_FOUND, format!("no route {path}")),
	}
}

async fn put_blob(
	shared: &Arc<Shared>,
	hash: H256,
	request: Request<hyper::body::Incoming>,
) -> Response<Body> {
	let query = request.uri().query().unwrap_or_default();
	let datanet = query_value(query, "datanet").and_then(|d| d.parse::<u32>().ok());
	let contributor = query_value(query, "contributor").and_then(parse_account);
	let (Some(datanet), Some(contributor)) = (datanet, contributor) else {
		return error(
			StatusCode::BAD_REQUEST,
			"an upload names its datanet and contributor: ?datanet=<id>&contributor=<account>",
		);
	};
	let limit = shared.store.limit();
	if let Some(length) = request
		.headers()
		.get(hyper::header::CONTENT_LENGTH)
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
				answer.headers_mut().insert(
					hyper::header::CONNECTION,
					hyper::header::HeaderValue::from_static("close"),
				);
				return answer;
			},
			Err(e) => return error(StatusCode::BAD_REQUEST, e),
		}
	}
	let size = upload.size();
	// Kept only while the commitment stands or once the datanet records it: see
	// `daemon::Shared::sweep`.
	let claim = committed_only.then_some((datanet, contributor.as_ref()));
	let stored = upload.finish_claimed(hash, claim);
	match stored {
		Ok(()) => json(
			StatusCode::CREATED,
			serde_json::json!({ "hash": format!("{hash:?}"), "size": size }),
		),
		Err(e) => store_error(e),
	}
}

fn store_error(e: StoreError) -> Response<Body> {
	match e {
		e @ StoreError::HashMismatch { .. } => error(StatusCode::BAD_REQUEST, e),
		e @ StoreError::TooLarge { .. } => error(StatusCode::PAYLOAD_TOO_LARGE, e),
		e @ StoreError::Full { .. } => error(StatusCode::INSUFFICIENT_STORAGE, e),
		e @ StoreError::Busy(_) => error(StatusCode::CONFLICT, e),
		e => error(StatusCode::INTERNAL_SERVER_ERROR, e),
	}
}

async fn get_blob(shared: &Arc<Shared>, hash: H256) -> Response<Body> {
	use futures::TryStreamExt;
	match shared.store.open_blob(&hash) {
		Ok(Some((file, size))) => {
			let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
			let body = StreamBody::new(stream.map_ok(Frame::data));
			Response::builder()
				.status(StatusCode::OK)
				.header("Content-Type", "application/octet-stream")
				.header("Content-Length", size)
				.body(BodyExt::boxed(body))
				.unwrap_or_else(|_| Response::new(full(Bytes::new())))
		},
		Ok(None) => error(StatusCode::NOT_FOUND, format!("no blob {hash:?}")),
		Err(e) => {
			tracing::error!(%e, "serving a blob");
			error(StatusCode::INTERNAL_SERVER_ERROR, e)
		},
	}
}
