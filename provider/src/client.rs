//! The HTTP(S) client for blob stores, shared by the daemon and the command line: downloads with
//! a size limit and a timeout, uploads.
//!
//! Downloads are what a provider does for someone else: a datanet's owner names the storage
//! endpoints that a validation job fetches from. So the daemon's [`HttpClient`] connects only to
//! public addresses unless the provider's operator allows private ones: a host name is resolved, and refused if
//! any of its addresses is loopback, private, link-local or otherwise not public, and the
//! connection goes to the addresses that were checked, so a name cannot be re-pointed between the
//! check and the connection. Otherwise a datanet could make providers probe their own networks.

use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Bytes, Request, StatusCode};
use hyper_util::{
	client::legacy::{
		connect::{dns::Name, HttpConnector},
		Client,
	},
	rt::TokioExecutor,
};
use std::{
	future::Future,
	net::{IpAddr, SocketAddr},
	pin::Pin,
	task::{Context as TaskContext, Poll},
	time::Duration,
};

const TIMEOUT: Duration = Duration::from_secs(30);
/// The slowest a download may be, in bytes per second, after [`TIMEOUT`] of grace.
pub const MIN_DOWNLOAD_RATE: u64 = 64 * 1024;

/// The most bytes of an answer to an upload that are read: a status message, not data.
pub const ANSWER_LIMIT: usize = 64 << 10;

/// Whether `ip` is an address of the public internet: not loopback, private, link-local,
/// shared (carrier-grade NAT), documentation, multicast, broadcast, reserved, unspecified or an
/// IETF protocol assignment (192.0.0.0/24); in IPv6 neither unique-local, link-local nor
/// site-local (fec0::/10), nor one that carries an IPv4 address whose route the gateway decides
/// (IPv4-mapped ones are judged by that address; IPv4-compatible ones, NAT64's 64:ff9b::/96 and
/// 64:ff9b:1::/48 and 6to4's 2002::/16 are refused whole, since they reach private IPv4 through
/// a translator).
pub fn is_public(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(a) => {
			let [first, second, ..] = a.octets();
			!(a.is_private()
				|| a.is_loopback()
				|| a.is_link_local()
				|| a.is_broadcast()
				|| a.is_documentation()
				|| a.is_unspecified()
				|| a.is_multicast()
				|| first == 0
				|| first >= 240
				|| (first == 100 && (second & 0xc0) == 64)
				|| (first == 198 && (second & 0xfe) == 18)
				|| (first == 192 && second == 0 && a.octets()[2] == 0))
		},
		IpAddr::V6(a) => {
			if let Some(v4) = a.to_ipv4_mapped() {
				return is_public(IpAddr::V4(v4));
			}
			let s = a.segments();
			// IPv4-compatible (::a.b.c.d): deprecated, and routed as the host decides.
			if s[..6] == [0; 6] {
				return false;
			}
			let first = s[0];
			!(a.is_loopback()
				|| a.is_unspecified()
				|| a.is_multicast()
				|| (first & 0xfe00) == 0xfc00
				|| (first & 0xffc0) == 0xfe80
				|| (first & 0xffc0) == 0xfec0
				|| first == 0x2002
				|| (first == 0x0064 && s[1] == 0xff9b)
				|| first == 0x2001 && s[1] == 0x0db8)
		},
	}
}

/// Resolves host names like the system does, and refuses names with a non-public address
/// unless private addresses are allowed.
#[derive(Clone)]
pub struct GuardedResolver {
	allow_private: bool,
}

impl tower_service::Service<Name> for GuardedResolver {
	type Response = std::vec::IntoIter<SocketAddr>;
	type Error = std::io::Error;
	type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

	fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
		Poll::Ready(Ok(()))
	}

	fn call(&mut self, name: Name) -> Self::Future {
		let allow_private = self.allow_private;
		Box::pin(async move {
			let host = name.as_str().to_string();
			let addresses: Vec<SocketAddr> =
				tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
			if !allow_private && addresses.iter().any(|a| !is_public(a.ip())) {
				return Err(std::io::Error::other(NotPublic(host)));
			}
			Ok(addresses.into_iter())
		})
	}
}

/// The resolver's refusal of a host name with a non-public address.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to an address that is not public")]
struct NotPublic(String);

/// Whether a connection error comes from [`GuardedResolver`]'s refusal.
fn refused_as_not_public(error: &(dyn std::error::Error + 'static)) -> bool {
	let mut next = Some(error);
	while let Some(e) = next {
		if e.downcast_ref::<NotPublic>().is_some() {
			return true;
		}
		if let Some(io) = e.downcast_ref::<std::io::Error>() {
			if io.get_ref().is_some_and(|inner| inner.is::<NotPublic>()) {
				return true;
			}
		}
		next = e.source();
	}
	false
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>;

/// Downloads and uploads blobs over HTTP or HTTPS (the system's root certificates), to and from
/// public addresses only unless built to allow private ones. Clones share one connection pool.
#[derive(Clone)]
pub struct HttpClient {
	client: Client<Connector, Full<Bytes>>,
	allow_private: bool,
}

/// A GET's status: `true` for 200, `false` for 404, an error for anything else.
fn found(status: StatusCode) -> Result<bool, HttpError> {
	match status {
		StatusCode::OK => Ok(true),
		StatusCode::NOT_FOUND => Ok(false),
		status => Err(HttpError::Unreachable(format!("answered {status}"))),
	}
}

impl HttpClient {
	/// A client for public addresses only, or for private ones too: the daemon's operator
	/// decides for the endpoints datanets name; a contributor uploads where it chose to.
	pub fn new(allow_private: bool) -> Self {
		let mut http = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
		http.enforce_http(false);
		http.set_connect_timeout(Some(Duration::from_secs(10)));
		let tls = rustls::ClientConfig::builder()
			.with_root_certificates(native_roots())
			.with_no_client_auth();
		let https = hyper_rustls::HttpsConnectorBuilder::new()
			.with_tls_config(tls)
			.https_or_http()
			.enable_http1()
			.wrap_connector(http);
		Self { client: Client::builder(TokioExecutor::new()).build(https), allow_private }
	}

	/// Downloads `url`: `Ok(None)` on 404, the bytes on 200 if they are at most `limit`.
	pub async fn get(&self, url: &str, limit: usize) -> Result<Option<Vec<u8>>, HttpError> {
		let uri = self.checked(url)?;
		let response = self.request(Request::get(uri).body(Full::default())).await?;
		if !found(response.status())? {
			return Ok(None);
		}
		Ok(Some(read_body(response, limit).await?.to_vec()))
	}

	/// Downloads `url` a piece at a time, each frame handed to `piece` as it arrives, so that a
	/// large file never sits whole in memory: `Ok(false)` on 404, `Ok(true)` once the body (at
	/// most `limit` bytes, each frame within the timeout, the whole at [`MIN_DOWNLOAD_RATE`]
	/// or faster after the timeout's grace) has been handed over. A server that trickles is cut
	/// off.
	pub async fn download(
		&self,
		url: &str,
		limit: u64,
		mut piece: impl FnMut(&[u8]) -> Result<(), String>,
	) -> Result<bool, HttpError> {
		let uri = self.checked(url)?;
		let response = self.request(Request::get(uri).body(Full::default())).await?;
		if !found(response.status())? {
			return Ok(false);
		}
		let mut body = response.into_body();
		let mut total = 0u64;
		let deadline =
			tokio::time::Instant::now() + TIMEOUT + Duration::from_secs(limit / MIN_DOWNLOAD_RATE);
		loop {
			if tokio::time::Instant::now() > deadline {
				return Err(HttpError::Unreachable(format!(
					"slower than {MIN_DOWNLOAD_RATE} bytes/s: cut off after {total} bytes"
				)));
			}
			let frame = tokio::time::timeout(TIMEOUT, body.frame())
				.await
				.map_err(|_| HttpError::Unreachable(format!("nothing for {TIMEOUT:?}")))?;
			let Some(frame) = frame else { return Ok(true) };
			let frame =
				frame.map_err(|e| HttpError::Unreachable(format!("reading the body: {e}")))?;
			if let Ok(data) = frame.into_data() {
				total = total.saturating_add(data.len() as u64);
				if total > limit {
					return Err(HttpError::TooLarge);
				}
				piece(&data).map_err(HttpError::Kept)?;
			}
		}
	}

	/// Sends `body` to `url` with `method`: the status and the answer's text, at most
	/// [`ANSWER_LIMIT`] bytes of it.
	pub async fn send(
		&self,
		method: hyper::Method,
		url: &str,
		body: Vec<u8>,
	) -> Result<(StatusCode, String), HttpError> {
		let uri = self.checked(url)?;
		let request = Request::builder()
			.method(method)
			.uri(uri)
			.header("Content-Type", "application/octet-stream")
			.body(Full::new(Bytes::from(body)));
		let response = self.request(request).await?;
		let status = response.status();
		let text = read_body(response, ANSWER_LIMIT).await?;
		Ok((status, String::from_utf8_lossy(&text).into_owned()))
	}

	/// Posts the JSON `body` to `url`: the status and the answer's body, to be read as it
	/// streams (server-sent events), each frame within the timeout.
	pub async fn post_json_stream(
		&self,
		url: &str,
		body: &serde_json::Value,
		bearer: Option<&str>,
	) -> Result<(StatusCode, hyper::body::Incoming), HttpError> {
		let uri = self.checked(url)?;
		let mut request = Request::post(uri).header("Content-Type", "application/json");
		if let Some(key) = bearer {
			request = request.header("Authorization", format!("Bearer {key}"));
		}
		let request = request.body(Full::new(Bytes::from(body.to_string())));
		let response = self.request(request).await?;
		Ok((response.status(), response.into_body()))
	}

	/// `url` if it is an `http://` or `https://` URL with a host this client may reach.
	fn checked(&self, url: &str) -> Result<hyper::Uri, HttpError> {
		let uri: hyper::Uri = url.parse().map_err(|_| HttpError::BadUrl)?;
		match uri.scheme_str() {
			Some("http" | "https") => {},
			_ => return Err(HttpError::BadUrl),
		}
		let host = uri.host().ok_or(HttpError::BadUrl)?;
		// Addresses written as such are not resolved, so they are checked here.
		if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
			if !self.allow_private && !is_public(ip) {
				return Err(HttpError::NotPublic);
			}
		}
		Ok(uri)
	}

	/// Sends a request and waits for the answer's head, within the timeout.
	async fn request(
		&self,
		request: Result<Request<Full<Bytes>>, hyper::http::Error>,
	) -> Result<hyper::Response<hyper::body::Incoming>, HttpError> {
		let request = request.map_err(|_| HttpError::BadUrl)?;
		tokio::time::timeout(TIMEOUT, self.client.request(request))
			.await
			.map_err(|_| HttpError::Unreachable(format!("no answer within {TIMEOUT:?}")))?
			.map_err(|e| {
				if refused_as_not_public(&e) {
					HttpError::NotPublic
				} else {
					HttpError::Unreachable(crate::error_chain(&e))
				}
			})
	}
}

/// Reads a response's body, of at most `limit` bytes, within the timeout.
async fn read_body(
	response: hyper::Response<hyper::body::Incoming>,
	limit: usize,
) -> Result<Bytes, HttpError> {
	tokio::time::timeout(TIMEOUT, Limited::new(response.into_body(), limit).collect())
		.await
		.map_err(|_| HttpError::Unreachable(format!("no body within {TIMEOUT:?}")))?
		.map(|body| body.to_bytes())
		.map_err(|e| {
			if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
				HttpError::TooLarge
			} else {
				HttpError::Unreachable(format!("reading the body: {e}"))
			}
		})
}

/// The system's root certificates; none if they cannot be read (HTTPS then fails to verify,
/// which the caller reports).
fn native_roots() -> rustls::RootCertStore {
	let mut roots = rustls::RootCertStore::empty();
	let found = rustls_native_certs::load_native_certs();
	for error in &found.errors {
		tracing::warn!(%error, "reading the system's root certificates");
	}
	roots.add_parsable_certificates(found.certs);
	roots
}

/// Why a download or an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
	/// Not an `http://` or `https://` URL with a host.
	#[error("not an http(s) URL with a host")]
	BadUrl,
	/// The host is, or resolves to, an address that is not public.
	#[error("the host is not a public address")]
	NotPublic,
	/// The body is larger than the limit.
	#[error("the body is larger than the limit")]
	TooLarge,
	/// The endpoint could not be reached, or answered with an error.
	#[error("unreachable: {0}")]
	Unreachable(String),
	/// What was downloaded could not be kept.
	#[error("keeping the download: {0}")]
	Kept(String),
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn public_addresses_are_told_from_the_rest() {
		for public in ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "192.1.0.1"]
		{
			assert!(is_public(public.parse().unwrap()), "{public}");
		}
		for private in [
			"127.0.0.1",
			"10.1.2.3",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.169.254",
			"100.64.0.1",
			"0.0.0.0",
			"255.255.255.255",
			"224.0.0.1",
			"198.18.0.1",
			"240.0.0.1",
			"::1",
			"::",
			"fc00::1",
			"fe80::1",
			"::ffff:127.0.0.1",
			"::ffff:10.0.0.1",
			"2001:db8::1",
			// NAT64 and 6to4 reach private IPv4 through a translator; site-local and the IETF's
			// protocol assignments are not the public internet either.
			"64:ff9b::a00:1",
			"64:ff9b::7f00:1",
			"64:ff9b:1::a00:1",
			"2002:a00:1::1",
			"2002:7f00:1::1",
			"fec0::1",
			"192.0.0.1",
			"192.0.0.170",
			"::10.0.0.1",
			"::127.0.0.1",
			"::8.8.8.8",
		] {
			assert!(!is_public(private.parse().unwrap()), "{private}");
		}
	}

	/// A listener on loopback that counts the connections it receives.
	async fn counting_listener() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let port = listener.local_addr().unwrap().port();
		let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
		let seen = count.clone();
		tokio::spawn(async move {
			while let Ok((_stream, _)) = listener.accept().await {
				seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
			}
		});
		(format!("127.0.0.1:{port}"), count)
	}

	#[tokio::test]
	async fn a_datanet_cannot_make_a_provider_reach_its_own_network() {
		let (address, count) = counting_listener().await;
		let port = address.rsplit(':').next().unwrap();
		let fetcher = HttpClient::new(false);
		for url in [
			format!("http://{address}/v1/blobs/0x00"),
			format!("http://localhost:{port}/v1/blobs/0x00"),
			format!("http://[::ffff:127.0.0.1]:{port}/v1/blobs/0x00"),
			format!("https://{address}/v1/blobs/0x00"),
		] {
			let error = fetcher.get(&url, 100).await.unwrap_err();
			assert!(matches!(error, HttpError::NotPublic), "{url}: {error}");
		}
		assert!(matches!(fetcher.get("ftp://example.com/x", 100).await, Err(HttpError::BadUrl)));
		tokio::time::sleep(Duration::from_millis(100)).await;
		assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 0);
	}

	#[tokio::test]
	async fn a_storage_endpoint_cannot_flood_a_contributor_with_its_answer() {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = listener.local_addr().unwrap();
		tokio::spawn(async move {
			while let Ok((mut stream, _)) = listener.accept().await {
				tokio::spawn(async move {
					let mut request = [0u8; 1024];
					let _ = stream.read(&mut request).await;
					let body = vec![b'x'; 4 * ANSWER_LIMIT];
					let head = format!(
						"HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\n\r\n",
						body.len()
					);
					let _ = stream.write_all(head.as_bytes()).await;
					let _ = stream.write_all(&body).await;
				});
			}
		});
		let client = HttpClient::new(true);
		let url = format!("http://{address}/v1/blobs/0x00");
		let error = client.send(hyper::Method::PUT, &url, b"bytes".to_vec()).await.unwrap_err();
		assert!(matches!(error, HttpError::TooLarge), "{error}");
	}

	#[tokio::test]
	async fn an_operator_may_allow_private_addresses_and_https_is_spoken() {
		let (address, count) = counting_listener().await;
		let fetcher = HttpClient::new(true);
		// The listener accepts and says nothing: the TLS handshake fails, after connecting.
		let error =
			fetcher.get(&format!("https://{address}/v1/blobs/0x00"), 100).await.unwrap_err();
		assert!(matches!(error, HttpError::Unreachable(_)), "{error}");
		assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
	}
}
