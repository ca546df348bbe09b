//! A small HTTP client for blob stores: download with a size limit and a timeout, upload.

use anyhow::{anyhow, Context, Result};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Bytes, Request, StatusCode};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);

fn client() -> Client<HttpConnector, Full<Bytes>> {
	Client::builder(TokioExecutor::new()).build_http()
}

/// Downloads `url`: `Ok(None)` on 404, the bytes on 200 if they are at most `limit`.
pub async fn get(url: &str, limit: usize) -> Result<Option<Vec<u8>>> {
	let uri: hyper::Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
	let response = tokio::time::timeout(TIMEOUT, client().get(uri))
		.await
		.map_err(|_| anyhow!("{url} did not answer within {TIMEOUT:?}"))?
		.with_context(|| format!("GET {url}"))?;
	match response.status() {
		StatusCode::OK => {},
		StatusCode::NOT_FOUND => return Ok(None),
		status => return Err(anyhow!("GET {url} answered {status}")),
	}
	let body = tokio::time::timeout(TIMEOUT, Limited::new(response.into_body(), limit).collect())
		.await
		.map_err(|_| anyhow!("{url} did not send its body within {TIMEOUT:?}"))?
		.map_err(|e| anyhow!("reading {url}: {e}"))?;
	Ok(Some(body.to_bytes().to_vec()))
}

/// Sends `body` to `url` with `method`; the status and the answer's text.
pub async fn send(method: &str, url: &str, body: Vec<u8>) -> Result<(StatusCode, String)> {
	let request = Request::builder()
		.method(method)
		.uri(url)
		.header("Content-Type", "application/octet-stream")
		.body(Full::new(Bytes::from(body)))?;
	let response = tokio::time::timeout(TIMEOUT, client().request(request))
		.await
		.map_err(|_| anyhow!("{url} did not answer within {TIMEOUT:?}"))?
		.with_context(|| format!("{method} {url}"))?;
	let status = response.status();
	let text = response.into_body().collect().await.map_err(|e| anyhow!("{e}"))?.to_bytes();
	Ok((status, String::from_utf8_lossy(&text).into_owned()))
}
