//! The provider's HTTP API on hyper: blob upload and download, status.

use crate::{daemon::Shared, store::StoreError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Bytes, Method, Request, Response, StatusCode};
use sp_core::H256;
use std::sync::Arc;

type Body = Full<Bytes>;

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
	Response::builder()
		.status(status)
		.header("Content-Type", "application/json")
		.body(Full::new(Bytes::from(value.to_string())))
		.unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
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

/// Reads a request body of at most `limit` bytes; `Err` answers 413 or 400.
async fn read_body(
	request: Request<hyper::body::Incoming>,
	limit: usize,
) -> Result<Bytes, Response<Body>> {
	if let Some(length) = request
		.headers()
		.get(hyper::header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<u64>().ok())
	{
		if length > limit as u64 {
			return Err(error(
				StatusCode::PAYLOAD_TOO_LARGE,
				format!("the body has {length} bytes, more than the limit of {limit}"),
			));
		}
	}
	match Limited::new(request.into_body(), limit).collect().await {
		Ok(collected) => Ok(collected.to_bytes()),
		Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(error(
			StatusCode::PAYLOAD_TOO_LARGE,
			format!("the body is larger than the limit of {limit} bytes"),
		)),
		Err(e) => Err(error(StatusCode::BAD_REQUEST, format!("reading the body: {e}"))),
	}
}

/// Answers one request.
pub async fn handle(
	shared: Arc<Shared>,
	request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
	let method = request.method().clone();
	let path = request.uri().path().to_string();
	let response = route(&shared, request).await;
	tracing::info!(%method, %path, status = response.status().as_u16(), "http");
	Ok(response)
}

async fn route(shared: &Arc<Shared>, request: Request<hyper::body::Incoming>) -> Response<Body> {
	let path = request.uri().path().to_string();
	match (request.method().clone(), path.as_str()) {
		(Method::GET, "/v1/status") => json(StatusCode::OK, shared.status().await),
		(method, p) if p.starts_with("/v1/blobs/") => {
			let Some(hash) = parse_hash(&p["/v1/blobs/".len()..]) else {
				return error(StatusCode::BAD_REQUEST, "a blob is named by 0x and 64 hex digits");
			};
			match method {
				Method::PUT => put_blob(shared, hash, request).await,
				Method::GET => get_blob(shared, hash),
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
	let limit = shared.store.limit() as usize;
	let bytes = match read_body(request, limit).await {
		Ok(bytes) => bytes,
		Err(response) => return response,
	};
	match shared.store.put(hash, &bytes) {
		Ok(()) => json(
			StatusCode::CREATED,
			serde_json::json!({ "hash": format!("{hash:?}"), "size": bytes.len() }),
		),
		Err(e @ StoreError::HashMismatch { .. }) => error(StatusCode::BAD_REQUEST, e),
		Err(e @ StoreError::TooLarge { .. }) => error(StatusCode::PAYLOAD_TOO_LARGE, e),
		Err(e @ StoreError::Full { .. }) => error(StatusCode::INSUFFICIENT_STORAGE, e),
		Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
	}
}

fn get_blob(shared: &Arc<Shared>, hash: H256) -> Response<Body> {
	match shared.store.get(hash) {
		Ok(Some(bytes)) => Response::builder()
			.status(StatusCode::OK)
			.header("Content-Type", "application/octet-stream")
			.body(Full::new(Bytes::from(bytes)))
			.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
		Ok(None) => error(StatusCode::NOT_FOUND, format!("no blob {hash:?}")),
		Err(e) => {
			tracing::error!(%e, "serving a blob");
			error(StatusCode::INTERNAL_SERVER_ERROR, e)
		},
	}
}
