//! The provider's HTTP connections: how many, from whom, and how slow each may be.
//!
//! [`serve`] accepts TCP connections and serves each with hyper's HTTP/1.1 under [`Limits`]:
//!
//! - at most `connections` at once, and at most `per_client` from one client (an IPv4 address,
//!   or an IPv6 /64, the block one subscriber is usually given, and four times that from one
//!   IPv6 /48, a site's); a connection beyond either is answered 503 or 429 at once and closed,
//!   so that one host cannot take every connection and file handle of the daemon;
//! - a request's headers must arrive within `header_timeout`; hyper starts the same timer while
//!   a kept-alive connection waits for its next request, so an idle connection ends then too;
//! - a request body is read through [`Pace`]: a body that stops for `body_idle`, or that after
//!   `grace` averages less than `min_rate` bytes a second, is answered 408 and its connection
//!   closed, so that uploads sending a byte a second hold nothing for long;
//! - an answer the client reads too slowly ends its connection: once one write has waited
//!   `write_stall` for room in the socket, or once the time writes have waited, beyond `grace`,
//!   comes to more than a second for every `min_rate` bytes written.
//!
//! Nothing bounds how long an answer that keeps flowing may last: a streaming answer (a model's
//! tokens as they come) lives as long as the client takes its bytes, since only time spent
//! waiting on the client counts, never time spent waiting on the answer.

use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::{
	body::{Bytes, Incoming},
	Request, Response, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{
	collections::HashMap,
	future::Future,
	io,
	net::{IpAddr, Ipv4Addr},
	pin::Pin,
	sync::Arc,
	task::{Context, Poll},
	time::Duration,
};
use tokio::{
	io::{AsyncRead, AsyncWrite, ReadBuf},
	net::{TcpListener, TcpStream},
	sync::Semaphore,
	time::{Instant, Sleep},
};

/// The body of every answer: bytes, streamed or whole.
pub type Body = BoxBody<Bytes, io::Error>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
	Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// What a connection may take and how slow it may be; see the [module](self).
#[derive(Clone, Debug)]
pub struct Limits {
	/// Connections served at once.
	pub connections: usize,
	/// Connections served at once from one [`Client`].
	pub per_client: usize,
	/// Time to send a request's headers, and the longest a kept-alive connection stays idle.
	pub header_timeout: Duration,
	/// The longest a request body may pause.
	pub body_idle: Duration,
	/// The time a request body, or an answer's writes, have before [`min_rate`](Self::min_rate)
	/// applies.
	pub grace: Duration,
	/// The slowest average, in bytes a second, at which a request body may arrive and a client
	/// may read an answer.
	pub min_rate: u64,
	/// The longest one write may wait for the client to read.
	pub write_stall: Duration,
}

impl Default for Limits {
	fn default() -> Self {
		Self {
			connections: 256,
			per_client: 16,
			header_timeout: Duration::from_secs(5),
			body_idle: Duration::from_secs(10),
			grace: Duration::from_secs(10),
			// 128 kbit/s: a 64 MiB blob in under 70 minutes on the slowest link accepted.
			min_rate: 16 * 1024,
			write_stall: Duration::from_secs(30),
		}
	}
}

/// A group of addresses whose connections count together: an IPv4 address; the /64 of an IPv6
/// address, and its /48 (an IPv4 address mapped into IPv6 counts as that IPv4 address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Client {
	V4(Ipv4Addr),
	V6Subnet64(u64),
	V6Site48(u64),
}

impl Client {
	/// The groups `ip` belongs to, with the most connections each may have when one client may
	/// have `per_client`.
	pub fn groups(ip: IpAddr, per_client: usize) -> Vec<(Client, usize)> {
		let v6 = match ip {
			IpAddr::V4(v4) => return vec![(Client::V4(v4), per_client)],
			IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
				Some(v4) => return vec![(Client::V4(v4), per_client)],
				None => u128::from(v6),
			},
		};
		// The shifts leave 64 and 48 bits.
		vec![
			(Client::V6Subnet64((v6 >> 64) as u64), per_client),
			(Client::V6Site48((v6 >> 80) as u64), per_client.saturating_mul(4)),
		]
	}
}

/// The connections open per group of addresses; an entry lives while its group has one.
#[derive(Default)]
struct Clients(std::sync::Mutex<HashMap<Client, usize>>);

/// One connection, counted in each of its client's groups until dropped.
struct ClientSlot {
	clients: Arc<Clients>,
	groups: Vec<Client>,
}

impl Clients {
	fn admit(self: &Arc<Self>, groups: Vec<(Client, usize)>) -> Option<ClientSlot> {
		let mut counts = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if groups
			.iter()
			.any(|(group, most)| counts.get(group).copied().unwrap_or(0) >= *most)
		{
			return None;
		}
		for (group, _) in &groups {
			*counts.entry(*group).or_default() += 1;
		}
		Some(ClientSlot {
			clients: self.clone(),
			groups: groups.into_iter().map(|(g, _)| g).collect(),
		})
	}
}

impl Drop for ClientSlot {
	fn drop(&mut self) {
		let mut counts = self.clients.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		for group in &self.groups {
			if let Some(count) = counts.get_mut(group) {
				*count = count.saturating_sub(1);
				if *count == 0 {
					counts.remove(group);
				}
			}
		}
	}
}

/// Answers a connection that is not served and closes it, without waiting on the client: the
/// answer goes into the socket's buffer or is lost.
fn refuse(stream: TcpStream, status: StatusCode, message: &str) {
	let body = serde_json::json!({ "error": message }).to_string();
	let answer = format!(
		"HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
		 connection: close\r\n\r\n{body}",
		status.as_u16(),
		status.canonical_reason().unwrap_or_default(),
		body.len()
	);
	let _ = stream.try_write(answer.as_bytes());
}

/// Serves the connections of `listener` with `handler` under `limits`, until the task is dropped.
pub async fn serve<H, F, B>(listener: TcpListener, limits: Limits, handler: H)
where
	H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
	F: Future<Output = Response<B>> + Send + 'static,
	B: hyper::body::Body<Data = Bytes> + Send + 'static,
	B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
	let open = Arc::new(Semaphore::new(limits.connections));
	let clients = Arc::new(Clients::default());
	loop {
		let (stream, peer) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(e) => {
				// Out of file handles, most often: waiting lets connections end.
				tracing::warn!(error = %e, "accepting a connection");
				tokio::time::sleep(Duration::from_millis(50)).await;
				continue;
			},
		};
		let Ok(permit) = open.clone().try_acquire_owned() else {
			refuse(
				stream,
				StatusCode::SERVICE_UNAVAILABLE,
				"this provider serves no more connections now",
			);
			continue;
		};
		let Some(slot) = clients.admit(Client::groups(peer.ip(), limits.per_client)) else {
			refuse(
				stream,
				StatusCode::TOO_MANY_REQUESTS,
				&format!("at most {} connections at once from one client", limits.per_client),
			);
			continue;
		};
		let handler = handler.clone();
		let limits = limits.clone();
		tokio::spawn(async move {
			let service = hyper::service::service_fn(move |request| {
				let answer = handler(request);
				async move { Ok::<_, std::convert::Infallible>(answer.await) }
			});
			let io = TokioIo::new(Watched::new(stream, &limits));
			let _ = hyper::server::conn::http1::Builder::new()
				.timer(TokioTimer::new())
				.header_read_timeout(limits.header_timeout)
				.serve_connection(io, service)
				.await;
			drop((permit, slot));
		});
	}
}

/// A TCP stream whose writes fail once the client reads too slowly: once one write has waited
/// `stall` for room in the socket, or once all writes have waited longer than `grace` and a
/// second for every `rate` bytes written.
struct Watched {
	stream: TcpStream,
	stall: Duration,
	grace: Duration,
	rate: u64,
	/// Bytes the socket took.
	written: u64,
	/// The time writes waited for room, the one waiting now excepted.
	waited: Duration,
	/// Since when the write now waiting waits, and until when it may.
	waiting: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl Watched {
	fn new(stream: TcpStream, limits: &Limits) -> Self {
		Self {
			stream,
			stall: limits.write_stall,
			grace: limits.grace,
			rate: limits.min_rate.max(1),
			written: 0,
			waited: Duration::ZERO,
			waiting: None,
		}
	}

	/// Passes a write's outcome on, failing it once the client is too slow.
	fn watch(
		&mut self,
		cx: &mut Context<'_>,
		poll: Poll<io::Result<usize>>,
	) -> Poll<io::Result<usize>> {
		if let Poll::Ready(outcome) = &poll {
			if let Some((since, _)) = self.waiting.take() {
				self.waited = self.waited.saturating_add(since.elapsed());
			}
			if let Ok(bytes) = outcome {
				self.written = self.written.saturating_add(*bytes as u64);
			}
			return poll;
		}
		let (stall, grace, rate, written, waited) =
			(self.stall, self.grace, self.rate, self.written, self.waited);
		let (_, deadline) = self.waiting.get_or_insert_with(|| {
			let earned =
				grace.saturating_add(Duration::from_secs_f64(written as f64 / rate as f64));
			let left = earned.saturating_sub(waited).min(stall);
			(Instant::now(), Box::pin(tokio::time::sleep(left)))
		});
		match deadline.as_mut().poll(cx) {
			Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
				io::ErrorKind::TimedOut,
				format!("the client reads too slowly: {written} bytes, at least {rate} a second are asked"),
			))),
			Poll::Pending => Poll::Pending,
		}
	}
}

impl AsyncRead for Watched {
	fn poll_read(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &mut ReadBuf<'_>,
	) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
	}
}

impl AsyncWrite for Watched {
	fn poll_write(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
		this.watch(cx, poll)
	}

	fn poll_write_vectored(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		bufs: &[io::IoSlice<'_>],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
		this.watch(cx, poll)
	}

	fn is_write_vectored(&self) -> bool {
		self.stream.is_write_vectored()
	}

	fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		// A TCP stream has nothing to flush: writes are where the client's pace shows.
		Pin::new(&mut self.get_mut().stream).poll_flush(cx)
	}

	fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
	}
}

/// Why a request body was not read to its end.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
	#[error("the body arrived too slowly: {received} bytes in {elapsed:?}, at least {rate} bytes a second after {grace:?} and no pause of {idle:?} are asked")]
	TooSlow { received: u64, elapsed: Duration, rate: u64, grace: Duration, idle: Duration },
	#[error("reading the body: {0}")]
	Read(String),
}

/// Reads a request body under the limits' pace; see the [module](self).
pub struct Pace {
	started: Instant,
	received: u64,
	idle: Duration,
	grace: Duration,
	rate: u64,
}

impl Pace {
	pub fn new(limits: &Limits) -> Self {
		Self {
			started: Instant::now(),
			received: 0,
			idle: limits.body_idle,
			grace: limits.grace,
			rate: limits.min_rate.max(1),
		}
	}

	/// By when the next bytes must come: the end of the pause allowed, or earlier, the time at
	/// which what came so far falls below the minimum rate.
	fn deadline(&self) -> Instant {
		let earned = Duration::from_secs_f64(self.received as f64 / self.rate as f64);
		(Instant::now() + self.idle).min(self.started + self.grace + earned)
	}

	/// The next data of `body`, `None` at its end.
	pub async fn next<B>(&mut self, body: &mut B) -> Result<Option<Bytes>, BodyError>
	where
		B: hyper::body::Body<Data = Bytes> + Unpin,
		B::Error: std::fmt::Display,
	{
		loop {
			let frame = match tokio::time::timeout_at(self.deadline(), body.frame()).await {
				Ok(frame) => frame,
				Err(_) => {
					return Err(BodyError::TooSlow {
						received: self.received,
						elapsed: self.started.elapsed(),
						rate: self.rate,
						grace: self.grace,
						idle: self.idle,
					})
				},
			};
			let Some(frame) = frame else { return Ok(None) };
			// Trailers carry no data.
			let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
			if let Ok(data) = frame.into_data() {
				self.received = self.received.saturating_add(data.len() as u64);
				return Ok(Some(data));
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{net::SocketAddr, time::Duration};
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	fn quick() -> Limits {
		Limits {
			connections: 8,
			per_client: 2,
			header_timeout: Duration::from_secs(30),
			body_idle: Duration::from_millis(500),
			grace: Duration::from_millis(300),
			min_rate: 2_000,
			write_stall: Duration::from_millis(300),
		}
	}

	/// `GET /` answers "ok"; `PUT /` reads the body under the pace and answers its length, or
	/// 408; `GET /big` answers 64 MiB; `GET /stream` sends a chunk each 100 ms for 2 s.
	async fn start(limits: Limits) -> SocketAddr {
		let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = listener.local_addr().unwrap();
		let pace = limits.clone();
		tokio::spawn(serve(listener, limits, move |request: Request<Incoming>| {
			let pace = pace.clone();
			async move {
				let path = request.uri().path().to_string();
				let answer = |status: StatusCode, body: Body| {
					Response::builder().status(status).body(body).unwrap()
				};
				match (request.method().clone(), path.as_str()) {
					(hyper::Method::PUT, _) => {
						let mut body = request.into_body();
						let mut pace = Pace::new(&pace);
						let mut length = 0;
						loop {
							match pace.next(&mut body).await {
								Ok(Some(data)) => length += data.len(),
								Ok(None) => break answer(StatusCode::OK, full(length.to_string())),
								Err(e) => {
									break answer(StatusCode::REQUEST_TIMEOUT, full(e.to_string()))
								},
							}
						}
					},
					(_, "/big") => answer(StatusCode::OK, full(vec![0u8; 64 << 20])),
					(_, "/stream") => {
						let chunks = futures::stream::unfold(0, |i| async move {
							if i == 20 {
								return None;
							}
							tokio::time::sleep(Duration::from_millis(100)).await;
							Some((
								Ok::<_, io::Error>(hyper::body::Frame::data(Bytes::from("tick\n"))),
								i + 1,
							))
						});
						answer(
							StatusCode::OK,
							BodyExt::boxed(http_body_util::StreamBody::new(chunks)),
						)
					},
					_ => answer(StatusCode::OK, full("ok")),
				}
			}
		}));
		address
	}

	async fn connect_from(source: [u8; 4], to: SocketAddr) -> TcpStream {
		let socket = tokio::net::TcpSocket::new_v4().unwrap();
		socket.bind(SocketAddr::from((source, 0))).unwrap();
		socket.connect(to).await.unwrap()
	}

	/// Everything the server sends until it closes the connection (or `within` passes).
	async fn read_all(stream: &mut TcpStream, within: Duration) -> String {
		let mut answer = Vec::new();
		let _ = tokio::time::timeout(within, stream.read_to_end(&mut answer)).await;
		String::from_utf8_lossy(&answer).into_owned()
	}

	async fn get(stream: &mut TcpStream, path: &str) -> String {
		let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
		// A refused connection may be closed before the request is written.
		let _ = stream.write_all(request.as_bytes()).await;
		read_all(stream, Duration::from_secs(10)).await
	}

	/// Whether a new connection from 127.0.0.1 is served (not refused 429) within 5 s.
	async fn served_again_within_5s(address: SocketAddr) -> bool {
		for _ in 0..50 {
			tokio::time::sleep(Duration::from_millis(100)).await;
			let mut next = connect_from([127, 0, 0, 1], address).await;
			let answer = get(&mut next, "/").await;
			if answer.starts_with("HTTP/1.1 200") {
				return true;
			}
			assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 429"), "{answer}");
		}
		false
	}

	#[test]
	fn an_ipv6_client_is_its_64_and_its_48_and_a_mapped_ipv4_its_address() {
		let groups = |ip: &str| Client::groups(ip.parse().unwrap(), 16);
		let a = groups("2001:db8:1:2::1");
		assert_eq!(a.len(), 2);
		assert_eq!((a[0].1, a[1].1), (16, 64));
		// The same /64.
		assert_eq!(groups("2001:db8:1:2:ffff::9"), a);
		// Another /64 of the same /48: the site counts all of them together.
		let b = groups("2001:db8:1:3::1");
		assert_ne!(b[0], a[0]);
		assert_eq!(b[1], a[1]);
		assert_ne!(groups("2001:db8:2::1")[1], a[1]);
		assert_eq!(groups("::ffff:192.0.2.7"), vec![(Client::V4(Ipv4Addr::new(192, 0, 2, 7)), 16)]);
	}

	#[test]
	fn the_subnets_of_one_ipv6_site_cannot_take_every_connection() {
		let clients = Arc::new(Clients::default());
		let mut slots = Vec::new();
		// 64 connections from 64 /64s of one /48 (one each): the site's share.
		for subnet in 0..64u16 {
			let ip: IpAddr = format!("2001:db8:1:{subnet:x}::1").parse().unwrap();
			slots.push(clients.admit(Client::groups(ip, 16)).expect("within the site's share"));
		}
		let next: IpAddr = "2001:db8:1:ff::1".parse().unwrap();
		assert!(clients.admit(Client::groups(next, 16)).is_none());
		let elsewhere: IpAddr = "2001:db8:2::1".parse().unwrap();
		assert!(clients.admit(Client::groups(elsewhere, 16)).is_some());
		slots.pop();
		assert!(clients.admit(Client::groups(next, 16)).is_some());
	}

	#[tokio::test]
	async fn one_client_cannot_take_every_connection() {
		let address = start(quick()).await;
		// Two idle connections: this client's share.
		let _first = connect_from([127, 0, 0, 1], address).await;
		let _second = connect_from([127, 0, 0, 1], address).await;
		tokio::time::sleep(Duration::from_millis(100)).await;
		let mut third = connect_from([127, 0, 0, 1], address).await;
		let refused = read_all(&mut third, Duration::from_secs(5)).await;
		assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
		assert!(refused.contains("at most 2 connections"), "{refused}");
		// Another client is served all the same.
		let mut other = connect_from([127, 0, 0, 2], address).await;
		let answer = get(&mut other, "/").await;
		assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
	}

	#[tokio::test]
	async fn a_client_whose_connections_ended_is_served_again() {
		let address = start(quick()).await;
		for _ in 0..5 {
			let mut stream = connect_from([127, 0, 0, 1], address).await;
			let answer = get(&mut stream, "/").await;
			assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
		}
	}

	#[tokio::test]
	async fn connections_beyond_the_total_are_answered_503_at_once() {
		let address = start(Limits { connections: 2, per_client: 8, ..quick() }).await;
		let _first = connect_from([127, 0, 0, 1], address).await;
		let _second = connect_from([127, 0, 0, 2], address).await;
		tokio::time::sleep(Duration::from_millis(100)).await;
		let mut third = connect_from([127, 0, 0, 3], address).await;
		let refused = read_all(&mut third, Duration::from_secs(5)).await;
		assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
	}

	#[tokio::test]
	async fn an_upload_sending_a_byte_at_a_time_is_cut_off() {
		let address = start(quick()).await;
		let mut stream = connect_from([127, 0, 0, 1], address).await;
		stream
			.write_all(b"PUT / HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n")
			.await
			.unwrap();
		let started = Instant::now();
		// A byte each 100 ms: 10 bytes a second against the 2,000 asked.
		let trickle = async {
			loop {
				if stream.write_all(b"x").await.is_err() {
					break;
				}
				tokio::time::sleep(Duration::from_millis(100)).await;
			}
		};
		let _ = tokio::time::timeout(Duration::from_secs(5), trickle).await;
		let answer = read_all(&mut stream, Duration::from_secs(5)).await;
		assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
		assert!(answer.contains("too slowly"), "{answer}");
		assert!(
			started.elapsed() < Duration::from_secs(5),
			"cut off after {:?}",
			started.elapsed()
		);
	}

	#[tokio::test]
	async fn an_upload_that_stops_is_cut_off_after_the_pause_allowed() {
		let address = start(quick()).await;
		let mut stream = connect_from([127, 0, 0, 1], address).await;
		// Fast enough for seconds of the minimum rate, then silence.
		let mut request = b"PUT / HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n".to_vec();
		request.extend([b'x'; 50_000]);
		stream.write_all(&request).await.unwrap();
		let started = Instant::now();
		let answer = read_all(&mut stream, Duration::from_secs(10)).await;
		assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
		let waited = started.elapsed();
		assert!(
			waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
			"{waited:?}"
		);
	}

	#[tokio::test]
	async fn an_upload_at_a_fair_pace_is_read_whole() {
		let address = start(quick()).await;
		let mut stream = connect_from([127, 0, 0, 1], address).await;
		stream
			.write_all(
				b"PUT / HTTP/1.1\r\nhost: x\r\ncontent-length: 30000\r\nconnection: close\r\n\r\n",
			)
			.await
			.unwrap();
		// 1,000 bytes each 100 ms, 10,000 a second, for three seconds: beyond every timeout.
		for _ in 0..30 {
			stream.write_all(&[b'x'; 1_000]).await.unwrap();
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
		let answer = read_all(&mut stream, Duration::from_secs(5)).await;
		assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
		assert!(answer.ends_with("30000"), "{answer}");
	}

	#[tokio::test]
	async fn an_idle_kept_alive_connection_is_closed() {
		let address = start(Limits { header_timeout: Duration::from_millis(300), ..quick() }).await;
		let mut stream = connect_from([127, 0, 0, 1], address).await;
		stream.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
		let mut buffer = [0u8; 1024];
		let read = stream.read(&mut buffer).await.unwrap();
		assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
		// Kept alive, then idle: the server closes it within the header timeout.
		let started = Instant::now();
		let rest = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await;
		assert!(
			matches!(rest, Ok(Ok(0)) | Ok(Err(_))),
			"the idle connection stayed open: {rest:?}"
		);
		assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
	}

	#[tokio::test]
	async fn a_client_that_stops_reading_an_answer_loses_its_connection() {
		let address = start(Limits { per_client: 1, ..quick() }).await;
		let mut reader = connect_from([127, 0, 0, 1], address).await;
		reader.write_all(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
		// It reads nothing: once the socket's buffers are full, the write stalls and the
		// connection ends, so that this client's one slot is free again.
		let admitted = served_again_within_5s(address).await;
		assert!(admitted, "the stalled connection kept its slot");
		drop(reader);
	}

	#[tokio::test]
	async fn a_client_that_reads_an_answer_too_slowly_loses_its_connection() {
		// 200 KB/s against 10 MB/s asked: the writes wait longer than the bytes allow.
		let limits = Limits {
			per_client: 1,
			write_stall: Duration::from_secs(30),
			min_rate: 10_000_000,
			..quick()
		};
		let address = start(limits).await;
		let mut slow = connect_from([127, 0, 0, 1], address).await;
		slow.write_all(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
		let reader = tokio::spawn(async move {
			let mut buffer = vec![0u8; 20_000];
			while let Ok(read) = slow.read(&mut buffer).await {
				if read == 0 {
					break;
				}
				tokio::time::sleep(Duration::from_millis(100)).await;
			}
		});
		// The client's one slot comes free while it still reads what the sockets buffered.
		let admitted = served_again_within_5s(address).await;
		assert!(!reader.is_finished(), "the reader was done before the test could tell");
		reader.abort();
		assert!(admitted, "the slow reader kept its connection");
	}

	#[tokio::test]
	async fn a_client_that_reads_at_its_pace_gets_the_whole_answer() {
		let limits =
			Limits { write_stall: Duration::from_secs(30), min_rate: 10_000_000, ..quick() };
		let address = start(limits).await;
		let mut stream = connect_from([127, 0, 0, 1], address).await;
		let answer = get(&mut stream, "/big").await;
		assert!(answer.starts_with("HTTP/1.1 200"));
		assert!(answer.len() > 64 << 20);
	}

	#[tokio::test]
	async fn a_streaming_answer_that_keeps_flowing_outlives_every_timeout() {
		let limits = Limits {
			header_timeout: Duration::from_millis(300),
			body_idle: Duration::from_millis(300),
			..quick()
		};
		let address = start(limits).await;
		let mut stream = connect_from([127, 0, 0, 1], address).await;
		let started = Instant::now();
		// Kept alive: the header timeout does not run while the answer streams.
		stream.write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
		let mut answer = Vec::new();
		let mut buffer = [0u8; 4096];
		while !answer.ends_with(b"0\r\n\r\n") {
			let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
				.await
				.expect("the stream stalled")
				.unwrap();
			assert!(read > 0, "closed before the end: {}", String::from_utf8_lossy(&answer));
			answer.extend_from_slice(&buffer[..read]);
		}
		let answer = String::from_utf8_lossy(&answer);
		assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
		assert_eq!(answer.matches("tick").count(), 20, "{answer}");
		assert!(started.elapsed() >= Duration::from_secs(2));
	}
}
