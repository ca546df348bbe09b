//! The scheduler: which requests run each step of an [`Engine`], with continuous batching
//! (Orca, Yu et al. 2022; vLLM), per-adapter fairness and limits. The second of serving's three
//! parts: the engine runs steps, the scheduler decides them, a server turns HTTP requests into
//! [`GenerationRequest`]s and [`Event`]s into responses.
//!
//! ## A step
//!
//! Each [`Scheduler::step`]:
//! 1. ends the requests cancelled since the last step, freeing their cache blocks;
//! 2. **admits** queued requests while the limits allow (below);
//! 3. runs one engine step with a row for every running request: its next prompt chunk (at
//!    most [`SchedulerConfig::prefill_chunk`] tokens) while its prompt is not all cached, else
//!    the one token it sampled last. Requests join and leave between any two steps;
//! 4. samples each row whose prompt is all cached, sends [`Event::Token`] to its sink, and
//!    retires the finished ones ([`Event::Finished`], with usage and timing), freeing their
//!    blocks and unpinning their adapters.
//!
//! A request's tokens are those [`Engine::generate`] gives it alone whenever its prompt fits in
//! one chunk (the engine's batch invariance); a prompt prefilled in several chunks may differ in
//! the last bits of its logits.
//!
//! ## Admission and fairness
//!
//! Queued requests wait in one lane per adapter set (the keys and weights they name; the base
//! model is a lane too), oldest first within a lane. Admission visits the lanes round-robin,
//! taking at most the oldest request of a lane per turn, then moving that lane to the back: a
//! flood on one adapter gets one admission per turn like any other lane, so a request on another
//! adapter is admitted at the first free slot after at most one request of each other lane. The
//! ring keeps its place from one step to the next.
//!
//! A lane's oldest request is admitted when its adapters are held by the [`AdapterPool`] (it
//! pins them for as long as it runs), a running slot is free ([`SchedulerConfig::max_running`]),
//! a new adapter set stays within [`SchedulerConfig::max_adapter_sets`] per step, and the KV
//! cache can hold it. Cache room is **reserved** at admission for the request's longest
//! possible sequence (`min(prompt + max_tokens - 1, context)` positions), so a running request
//! never runs out of blocks and nothing is pre-empted (vLLM instead admits on the prompt and
//! pre-empts under pressure; reservation trades some cache use for never recomputing).
//!
//! So that no request starves behind a stream of smaller ones or of other adapter sets: when the
//! oldest queued request of all has its adapters but is held back by the cache or the adapter
//! set limit, admission stops for that step, and the running requests drain until it fits.
//! Requests waiting for their adapters to load do not hold others back.
//!
//! ## Adapters and prefetch
//!
//! Requests name adapters by pool key. [`Scheduler::wanted`] lists the keys that queued
//! requests need and the pool neither holds nor is loading, in the order the lanes will be
//! visited; the caller loads them ([`AdapterPool::prefetch`], with the hash and configuration
//! the chain registered), typically on a loader thread, while the scheduler goes on stepping the
//! other lanes. A key that cannot be loaded is refused to its queued requests with
//! [`Scheduler::fail_adapter`].
//!
//! ## Limits
//!
//! [`Submitter::submit`] refuses at once, each with its own [`SubmitError`] (and the HTTP status
//! it maps to): an empty prompt, a prompt over [`SchedulerConfig::max_prompt_tokens`] or the
//! context, `max_tokens` of 0 or over [`SchedulerConfig::max_tokens`], bad sampling parameters
//! or tokens, a request whose reserved cache need exceeds the whole pool, and a full queue
//! ([`SchedulerConfig::max_queued`], with a retry hint). A request that fits but not now waits.
//!
//! ## Threads
//!
//! The scheduler (with its engine) lives on one thread that calls [`Scheduler::step`]. A
//! [`Submitter`] (`Clone + Send + Sync`) submits from any thread; a [`CancelToken`] cancels from
//! any thread (a client that disconnected); a request's [`Sink`] is called on the scheduler's
//! thread and may forward events into an async channel.

use super::{
	pool::{AdapterPool, PoolKey, Residency},
	AdapterSet, Engine, FinishReason, Row, Sampler, SamplingParams, SequenceId,
};
use crate::{MlError, Result};
use std::{
	collections::{HashMap, HashSet, VecDeque},
	sync::{
		atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
		Arc, Mutex, MutexGuard,
	},
	time::{Duration, Instant},
};

/// The scheduler's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchedulerConfig {
	/// The most requests running at once: rows of a step.
	pub max_running: usize,
	/// The most requests waiting to be admitted.
	pub max_queued: usize,
	/// The longest prompt, in tokens (also at most the model's context).
	pub max_prompt_tokens: usize,
	/// The largest `max_tokens` a request may ask for.
	pub max_tokens: usize,
	/// The most distinct adapter sets (the base model not counted) among a step's rows.
	pub max_adapter_sets: usize,
	/// The most prompt tokens of one request in one step.
	pub prefill_chunk: usize,
}

impl Default for SchedulerConfig {
	fn default() -> Self {
		Self {
			max_running: 32,
			max_queued: 256,
			max_prompt_tokens: 4096,
			max_tokens: 1024,
			max_adapter_sets: 16,
			prefill_chunk: 512,
		}
	}
}

/// A request to generate.
#[derive(Clone, Debug)]
pub struct GenerationRequest<K> {
	pub prompt: Vec<u32>,
	/// The adapters, by pool key, with their ensemble weights: none for the base model, one at
	/// weight 1 for a single adapter.
	pub adapters: Vec<(K, f32)>,
	/// How tokens are chosen, and `max_tokens`.
	pub sampling: SamplingParams,
	/// Tokens that end the request besides the model's own (unless
	/// [`SamplingParams::ignore_stop_tokens`]); the stop token is not emitted.
	pub stop_tokens: Vec<u32>,
}

/// A submitted request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

/// Tokens a request used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
	pub prompt_tokens: usize,
	pub completion_tokens: usize,
}

/// How long a request took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
	/// From submission to admission.
	pub queued: Duration,
	/// From submission to its first token (none if it gave none).
	pub time_to_first_token: Option<Duration>,
	/// The mean time between its tokens after the first (none below two tokens).
	pub time_per_output_token: Option<Duration>,
	/// From submission to its end.
	pub total: Duration,
}

/// What a request's sink receives: tokens, then one [`Event::Finished`] or [`Event::Failed`].
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
	Token {
		token: u32,
		logprob: f32,
	},
	Finished {
		reason: FinishReason,
		usage: Usage,
		timing: Timing,
	},
	/// The request could not go on (its adapter could not be loaded, or the engine failed).
	Failed {
		error: String,
	},
}

/// Where a request's events go; called on the scheduler's thread.
pub type Sink = Box<dyn FnMut(Event) + Send>;

/// Why a request was refused at submission.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
	#[error("the queue is full ({limit} requests); retry after {retry_after:?}")]
	QueueFull { limit: usize, retry_after: Duration },
	#[error("a prompt of {tokens} tokens; at most {limit} are served")]
	PromptTooLong { tokens: usize, limit: usize },
	#[error("the prompt is empty")]
	EmptyPrompt,
	#[error("max_tokens {requested}; at most {limit} are served")]
	MaxTokensTooLarge { requested: usize, limit: usize },
	#[error("the request needs {blocks} KV cache blocks; the whole cache has {capacity}")]
	NeverFits { blocks: usize, capacity: usize },
	#[error("{0}")]
	InvalidRequest(String),
}

impl SubmitError {
	/// The HTTP status a server answers with: 429 (with `Retry-After`) for a full queue, 413 for
	/// a prompt too long, 400 for the rest.
	pub fn status(&self) -> u16 {
		match self {
			Self::QueueFull { .. } => 429,
			Self::PromptTooLong { .. } => 413,
			_ => 400,
		}
	}
}

/// Cancels a request from any thread; the scheduler ends it at its next step, freeing its
/// blocks, and sends [`FinishReason::Cancelled`].
#[derive(Clone, Debug)]
pub struct CancelToken {
	flag: Arc<AtomicBool>,
	pending: Arc<AtomicUsize>,
}

impl CancelToken {
	pub fn cancel(&self) {
		if !self.flag.swap(true, Ordering::AcqRel) {
			self.pending.fetch_add(1, Ordering::AcqRel);
		}
	}

	pub fn is_cancelled(&self) -> bool {
		self.flag.load(Ordering::Acquire)
	}
}

/// An accepted request.
#[derive(Clone, Debug)]
pub struct Ticket {
	pub id: RequestId,
	pub cancel: CancelToken,
}

/// The scheduler's gauges and counters, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedulerStats {
	/// Requests waiting now.
	pub queued: usize,
	/// Requests running now (the batch).
	pub running: usize,
	pub steps: u64,
	pub admitted: u64,
	pub finished: u64,
	pub cancelled: u64,
	pub failed: u64,
	/// Prompt tokens prefilled.
	pub prompt_tokens: u64,
	/// Tokens generated.
	pub tokens_generated: u64,
	pub cache_free_blocks: usize,
	pub cache_used_blocks: usize,
}

/// What one step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
	/// Each row's request and its number of tokens, in row order.
	pub rows: Vec<(RequestId, usize)>,
	pub admitted: Vec<RequestId>,
	/// Requests that ended this step (finished, cancelled or failed).
	pub ended: Vec<RequestId>,
}

/// A lane's key: its adapter keys and weights (as bits).
type Lane<K> = Vec<(K, u32)>;

struct Queued<K> {
	id: RequestId,
	request: GenerationRequest<K>,
	sampler: Sampler,
	sink: Sink,
	cancel: Arc<AtomicBool>,
	submitted: Instant,
	/// The cache blocks reserved for it.
	blocks: usize,
}

struct Queue<K> {
	lanes: HashMap<Lane<K>, VecDeque<Queued<K>>>,
	/// The lanes with requests, in the order admission visits them.
	ring: VecDeque<Lane<K>>,
	len: usize,
	next_id: u64,
}

impl<K: PoolKey> Queue<K> {
	/// The oldest queued request of all.
	fn oldest(&self) -> Option<RequestId> {
		self.lanes.values().filter_map(|l| l.front()).map(|q| q.id).min()
	}

	/// Takes out the queued requests `take` selects.
	fn extract(&mut self, mut take: impl FnMut(&Queued<K>) -> bool) -> Vec<Queued<K>> {
		let mut out = Vec::new();
		for lane in self.lanes.values_mut() {
			let (gone, kept): (VecDeque<_>, VecDeque<_>) = lane.drain(..).partition(|q| take(q));
			*lane = kept;
			out.extend(gone);
		}
		self.lanes.retain(|_, l| !l.is_empty());
		let lanes = &self.lanes;
		self.ring.retain(|l| lanes.contains_key(l));
		self.len -= out.len();
		out
	}
}

/// What submission checks against, fixed when the scheduler is made.
#[derive(Clone, Copy, Debug)]
struct Limits {
	config: SchedulerConfig,
	context: usize,
	vocabulary: usize,
	block_size: usize,
	capacity_blocks: usize,
}

struct Shared<K> {
	limits: Limits,
	queue: Mutex<Queue<K>>,
	/// Cancellations not yet seen by the scheduler.
	cancels: Arc<AtomicUsize>,
	/// The retry hint for a full queue, in milliseconds.
	retry_after_ms: AtomicU64,
}

impl<K> Shared<K> {
	fn lock(&self) -> MutexGuard<'_, Queue<K>> {
		self.queue.lock().unwrap_or_else(|e| e.into_inner())
	}
}

/// Submits requests to a [`Scheduler`] from any thread.
pub struct Submitter<K> {
	shared: Arc<Shared<K>>,
}

impl<K> Clone for Submitter<K> {
	fn clone(&self) -> Self {
		Self { shared: self.shared.clone() }
	}
}

impl<K: PoolKey> Submitter<K> {
	/// Queues `request`, whose events go to `sink`; refused at once, with nothing queued, when
	/// a limit forbids it.
	pub fn submit(
		&self,
		request: GenerationRequest<K>,
		sink: Sink,
	) -> std::result::Result<Ticket, SubmitError> {
		let limits = self.shared.limits;
		let config = limits.config;
		let prompt = request.prompt.len();
		if prompt == 0 {
			return Err(SubmitError::EmptyPrompt);
		}
		let longest = config.max_prompt_tokens.min(limits.context);
		if prompt > longest {
			return Err(SubmitError::PromptTooLong { tokens: prompt, limit: longest });
		}
		let max_tokens = request.sampling.max_tokens;
		if max_tokens == 0 {
			return Err(SubmitError::InvalidRequest("max_tokens must be at least 1".into()));
		}
		if max_tokens > config.max_tokens {
			return Err(SubmitError::MaxTokensTooLarge {
				requested: max_tokens,
				limit: config.max_tokens,
			});
		}
		let sampler = Sampler::new(request.sampling.clone())
			.map_err(|e| SubmitError::InvalidRequest(e.to_string()))?;
		if let Some(t) = request.prompt.iter().find(|&&t| t as usize >= limits.vocabulary) {
			return Err(SubmitError::InvalidRequest(format!(
				"token {t}; the vocabulary has {}",
				limits.vocabulary
			)));
		}
		if let Some((_, w)) = request.adapters.iter().find(|(_, w)| !w.is_finite()) {
			return Err(SubmitError::InvalidRequest(format!("adapter weight {w} is not finite")));
		}
		// The last token sampled is never written to the cache.
		let positions = (prompt + max_tokens - 1).min(limits.context);
		let blocks = positions.div_ceil(limits.block_size);
		if blocks > limits.capacity_blocks {
			return Err(SubmitError::NeverFits { blocks, capacity: limits.capacity_blocks });
		}
		let mut queue = self.shared.lock();
		if queue.len >= config.max_queued {
			let retry_after =
				Duration::from_millis(self.shared.retry_after_ms.load(Ordering::Relaxed));
			return Err(SubmitError::QueueFull { limit: config.max_queued, retry_after });
		}
		let id = RequestId(queue.next_id);
		queue.next_id += 1;
		let flag = Arc::new(AtomicBool::new(false));
		let cancel = CancelToken { flag: flag.clone(), pending: self.shared.cancels.clone() };
		let lane: Lane<K> =
			request.adapters.iter().map(|(k, w)| (k.clone(), w.to_bits())).collect();
		let queued =
			Queued { id, request, sampler, sink, cancel: flag, submitted: Instant::now(), blocks };
		match queue.lanes.get_mut(&lane) {
			Some(requests) => requests.push_back(queued),
			None => {
				queue.lanes.insert(lane.clone(), VecDeque::from([queued]));
				queue.ring.push_back(lane);
			},
		}
		queue.len += 1;
		Ok(Ticket { id, cancel })
	}

	/// Requests waiting now.
	pub fn queued(&self) -> usize {
		self.shared.lock().len
	}
}

struct Running<K> {
	id: RequestId,
	lane: Lane<K>,
	sequence: SequenceId,
	/// Holds (pins) its adapters.
	adapters: AdapterSet,
	sampler: Sampler,
	/// The model's and the request's stop tokens, or none.
	stops: Vec<u32>,
	prompt: Vec<u32>,
	/// Positions in the cache.
	cached: usize,
	/// The token sampled last, the next decode row.
	last: [u32; 1],
	completion: usize,
	max_tokens: usize,
	blocks: usize,
	sink: Sink,
	cancel: Arc<AtomicBool>,
	submitted: Instant,
	admitted: Instant,
	first_token: Option<Instant>,
	last_token: Option<Instant>,
}

impl<K> Running<K> {
	fn prefilling(&self) -> bool {
		self.cached < self.prompt.len()
	}

	/// Steps it still needs at most: prompt chunks, then tokens.
	fn remaining_steps(&self, chunk: usize) -> usize {
		let prompt = self.prompt.len().saturating_sub(self.cached).div_ceil(chunk);
		prompt + self.max_tokens.saturating_sub(self.completion)
	}
}

/// Continuous batching over an [`Engine`], with adapters from an [`AdapterPool`]: see the
/// module documentation.
pub struct Scheduler<K> {
	engine: Engine,
	pool: Arc<AdapterPool<K>>,
	shared: Arc<Shared<K>>,
	running: Vec<Running<K>>,
	stats: SchedulerStats,
	/// A moving average of a step's duration.
	step_time: Option<Duration>,
}

impl<K: PoolKey> Scheduler<K> {
	/// A scheduler of `engine`'s steps, its requests' adapters from `pool` (for the same model).
	pub fn new(engine: Engine, pool: Arc<AdapterPool<K>>, config: SchedulerConfig) -> Result<Self> {
		if config.max_running == 0 || config.prefill_chunk == 0 {
			return Err(MlError::Config(
				"a scheduler runs at least one request and one prompt token a step".into(),
			));
		}
		let model = engine.model().config();
		let cache = engine.cache().config();
		let limits = Limits {
			config,
			context: model.context,
			vocabulary: model.vocabulary,
			block_size: cache.block_size,
			capacity_blocks: cache.capacity_blocks,
		};
		let shared = Arc::new(Shared {
			limits,
			queue: Mutex::new(Queue {
				lanes: HashMap::new(),
				ring: VecDeque::new(),
				len: 0,
				next_id: 0,
			}),
			cancels: Arc::new(AtomicUsize::new(0)),
			retry_after_ms: AtomicU64::new(1000),
		});
		Ok(Self {
			engine,
			pool,
			shared,
			running: Vec::new(),
			stats: SchedulerStats::default(),
			step_time: None,
		})
	}

	pub fn config(&self) -> SchedulerConfig {
		self.shared.limits.config
	}

	pub fn engine(&self) -> &Engine {
		&self.engine
	}

	pub fn pool(&self) -> &Arc<AdapterPool<K>> {
		&self.pool
	}

	/// A handle that submits from any thread.
	pub fn submitter(&self) -> Submitter<K> {
		Submitter { shared: self.shared.clone() }
	}

	/// [`Submitter::submit`].
	pub fn submit(
		&self,
		request: GenerationRequest<K>,
		sink: Sink,
	) -> std::result::Result<Ticket, SubmitError> {
		self.submitter().submit(request, sink)
	}

	/// Whether nothing is queued or running.
	pub fn is_idle(&self) -> bool {
		self.running.is_empty() && self.shared.lock().len == 0
	}

	/// The gauges and counters now.
	pub fn stats(&self) -> SchedulerStats {
		let cache = self.engine.cache();
		SchedulerStats {
			queued: self.shared.lock().len,
			running: self.running.len(),
			cache_free_blocks: cache.free_blocks(),
			cache_used_blocks: cache.used_blocks(),
			..self.stats
		}
	}

	/// Cancels `id`, queued or running, at once: its blocks are freed and its sink gets
	/// [`FinishReason::Cancelled`]. Returns whether it was found.
	pub fn cancel(&mut self, id: RequestId) -> bool {
		let flag = match self.running.iter().find(|r| r.id == id) {
			Some(r) => Some(r.cancel.clone()),
			None => self
				.shared
				.lock()
				.lanes
				.values()
				.flatten()
				.find(|q| q.id == id)
				.map(|q| q.cancel.clone()),
		};
		let Some(flag) = flag else { return false };
		CancelToken { flag, pending: self.shared.cancels.clone() }.cancel();
		self.reap_cancelled(&mut StepReport::default());
		true
	}

	/// The adapter keys that queued requests need and the pool neither holds nor is loading,
	/// at most `limit`, in the order admission will reach them: for the caller to load with
	/// [`AdapterPool::prefetch`].
	pub fn wanted(&self, limit: usize) -> Vec<K> {
		let queue = self.shared.lock();
		let mut wanted: Vec<K> = Vec::new();
		for lane in &queue.ring {
			for (key, _) in lane {
				if wanted.len() >= limit {
					return wanted;
				}
				if !wanted.contains(key) && self.pool.residency(key) == Residency::Absent {
					wanted.push(key.clone());
				}
			}
		}
		wanted
	}

	/// Ends every queued request that names `key` with [`Event::Failed`] (its adapter could
	/// not be loaded: unknown, bytes that do not match the registered hash, too large).
	/// Returns how many.
	pub fn fail_adapter(&mut self, key: &K, error: &str) -> usize {
		let failed =
			self.shared.lock().extract(|q| q.request.adapters.iter().any(|(k, _)| k == key));
		let count = failed.len();
		for mut q in failed {
			(q.sink)(Event::Failed { error: format!("adapter {key:?}: {error}") });
			self.stats.failed += 1;
		}
		count
	}

	/// One step: see the module documentation. With nothing running after admission, runs no
	/// engine step. An engine failure ends the step's requests with [`Event::Failed`] and is
	/// returned.
	pub fn step(&mut self) -> Result<StepReport> {
		let started = Instant::now();
		let mut report = StepReport::default();
		self.reap_cancelled(&mut report);
		self.admit(&mut report);
		if self.running.is_empty() {
			return Ok(report);
		}
		self.stats.steps += 1;
		let chunk = self.shared.limits.config.prefill_chunk;
		let rows: Vec<Row<'_>> = self
			.running
			.iter()
			.map(|r| {
				let tokens: &[u32] = if r.prefilling() {
					let end = (r.cached + chunk).min(r.prompt.len());
					&r.prompt[r.cached..end]
				} else {
					&r.last
				};
				Row { sequence: r.sequence, tokens, start: r.cached, adapters: &r.adapters }
			})
			.collect();
		report.rows = self
			.running
			.iter()
			.zip(&rows)
			.map(|(r, row)| (r.id, row.tokens.len()))
			.collect();
		let logits = self.engine.step(&rows).and_then(|l| Ok(l.to_vec2::<f32>()?));
		drop(rows);
		let logits = match logits {
			Ok(logits) => logits,
			Err(e) => {
				let error = e.to_string();
				for r in std::mem::take(&mut self.running) {
					report.ended.push(r.id);
					self.fail(r, &error);
				}
				return Err(e);
			},
		};
		let context = self.engine.model().config().context;
		let mut ended: Vec<(usize, FinishReason)> = Vec::new();
		let mut failed: Vec<(usize, String)> = Vec::new();
		for (i, (r, logits)) in self.running.iter_mut().zip(&logits).enumerate() {
			let count = report.rows[i].1;
			if r.prefilling() {
				self.stats.prompt_tokens += count as u64;
			}
			r.cached += count;
			if r.prefilling() {
				continue;
			}
			let sampled = match r.sampler.sample(logits) {
				Ok(sampled) => sampled,
				Err(e) => {
					failed.push((i, e.to_string()));
					continue;
				},
			};
			if r.stops.contains(&sampled.token) {
				ended.push((i, FinishReason::Stop));
				continue;
			}
			let now = Instant::now();
			r.completion += 1;
			r.first_token.get_or_insert(now);
			r.last_token = Some(now);
			r.last = [sampled.token];
			self.stats.tokens_generated += 1;
			(r.sink)(Event::Token { token: sampled.token, logprob: sampled.logprob });
			if r.completion >= r.max_tokens || r.cached >= context {
				ended.push((i, FinishReason::Length));
			}
		}
		// Retire from the back, so that the indices stay valid; the others keep their order.
		let mut retire: Vec<(usize, Result<FinishReason, String>)> = ended
			.into_iter()
			.map(|(i, reason)| (i, Ok(reason)))
			.chain(failed.into_iter().map(|(i, e)| (i, Err(e))))
			.collect();
		retire.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
		for (i, outcome) in retire {
			let r = self.running.remove(i);
			report.ended.push(r.id);
			match outcome {
				Ok(reason) => self.finish(r, reason),
				Err(error) => self.fail(r, &error),
			}
		}
		self.update_retry_hint(started.elapsed());
		Ok(report)
	}

	/// Ends the requests cancelled since the last look.
	fn reap_cancelled(&mut self, report: &mut StepReport) {
		if self.shared.cancels.swap(0, Ordering::AcqRel) == 0 {
			return;
		}
		let mut i = 0;
		while i < self.running.len() {
			if self.running[i].cancel.load(Ordering::Acquire) {
				let r = self.running.remove(i);
				report.ended.push(r.id);
				self.finish(r, FinishReason::Cancelled);
			} else {
				i += 1;
			}
		}
		let cancelled = self.shared.lock().extract(|q| q.cancel.load(Ordering::Acquire));
		for mut q in cancelled {
			report.ended.push(q.id);
			self.stats.cancelled += 1;
			let total = q.submitted.elapsed();
			(q.sink)(Event::Finished {
				reason: FinishReason::Cancelled,
				usage: Usage { prompt_tokens: q.request.prompt.len(), completion_tokens: 0 },
				timing: Timing { queued: total, total, ..Timing::default() },
			});
		}
	}

	/// Admits queued requests while the limits allow: round-robin over the lanes, oldest first
	/// within a lane, the oldest of all holding admission back when only room stops it.
	fn admit(&mut self, report: &mut StepReport) {
		let config = self.shared.limits.config;
		let capacity = self.shared.limits.capacity_blocks;
		let mut reserved: usize = self.running.iter().map(|r| r.blocks).sum();
		let mut sets: HashSet<Lane<K>> = self
			.running
			.iter()
			.filter(|r| !r.lane.is_empty())
			.map(|r| r.lane.clone())
			.collect();
		let shared = self.shared.clone();
		let mut queue = shared.lock();
		// Lanes visited since the last admission: a whole turn without one ends admission.
		let mut visited = 0;
		while self.running.len() < config.max_running && visited < queue.ring.len() {
			let Some(lane) = queue.ring.pop_front() else { break };
			let Some((id, blocks)) =
				queue.lanes.get(&lane).and_then(|l| l.front()).map(|q| (q.id, q.blocks))
			else {
				continue;
			};
			let ready = lane.iter().all(|(k, _)| self.pool.residency(k) == Residency::Held);
			let new_set = !lane.is_empty() && !sets.contains(&lane);
			let no_room =
				(new_set && sets.len() >= config.max_adapter_sets) || reserved + blocks > capacity;
			let adapters = if ready && !no_room {
				lane.iter()
					.map(|(k, w)| self.pool.get(k).map(|a| (a, f32::from_bits(*w))))
					.collect::<Option<Vec<_>>>()
			} else {
				None
			};
			let Some(adapters) = adapters else {
				if ready && no_room && queue.oldest() == Some(id) {
					// The oldest request waits for room: nothing is admitted past it, and the
					// next step begins with it.
					queue.ring.push_front(lane);
					break;
				}
				queue.ring.push_back(lane);
				visited += 1;
				continue;
			};
			let Some(mut q) = queue.lanes.get_mut(&lane).and_then(|l| l.pop_front()) else {
				continue;
			};
			queue.len -= 1;
			if queue.lanes.get(&lane).is_some_and(|l| l.is_empty()) {
				queue.lanes.remove(&lane);
			} else {
				queue.ring.push_back(lane.clone());
			}
			visited = 0;
			let set = if adapters.is_empty() {
				Ok(AdapterSet::base())
			} else {
				AdapterSet::ensemble(adapters)
			};
			let set = match set {
				Ok(set) => set,
				Err(e) => {
					(q.sink)(Event::Failed { error: e.to_string() });
					self.stats.failed += 1;
					report.ended.push(q.id);
					continue;
				},
			};
			let stops = if q.request.sampling.ignore_stop_tokens {
				Vec::new()
			} else {
				let mut stops = self.engine.model().stop_tokens().to_vec();
				stops.extend(&q.request.stop_tokens);
				stops
			};
			if new_set {
				sets.insert(lane.clone());
			}
			reserved += blocks;
			self.stats.admitted += 1;
			report.admitted.push(q.id);
			self.running.push(Running {
				id: q.id,
				lane,
				sequence: self.engine.create_sequence(),
				adapters: set,
				sampler: q.sampler,
				stops,
				max_tokens: q.request.sampling.max_tokens,
				prompt: q.request.prompt,
				cached: 0,
				last: [0],
				completion: 0,
				blocks,
				sink: q.sink,
				cancel: q.cancel,
				submitted: q.submitted,
				admitted: Instant::now(),
				first_token: None,
				last_token: None,
			});
		}
	}

	fn finish(&mut self, mut r: Running<K>, reason: FinishReason) {
		let _ = self.engine.free_sequence(r.sequence);
		let now = Instant::now();
		let time_per_output_token = match (r.first_token, r.last_token) {
			(Some(first), Some(last)) if r.completion >= 2 => {
				Some((last - first) / (r.completion as u32 - 1))
			},
			_ => None,
		};
		let timing = Timing {
			queued: r.admitted - r.submitted,
			time_to_first_token: r.first_token.map(|t| t - r.submitted),
			time_per_output_token,
			total: now - r.submitted,
		};
		let usage = Usage { prompt_tokens: r.prompt.len(), completion_tokens: r.completion };
		if reason == FinishReason::Cancelled {
			self.stats.cancelled += 1;
		} else {
			self.stats.finished += 1;
		}
		(r.sink)(Event::Finished { reason, usage, timing });
	}

	fn fail(&mut self, mut r: Running<K>, error: &str) {
		let _ = self.engine.free_sequence(r.sequence);
		self.stats.failed += 1;
		(r.sink)(Event::Failed { error: error.to_string() });
	}

	/// The retry hint for a full queue: a queued request is admitted when a running one ends,
	/// so the fewest steps a running request still needs times the mean step time, at least a
	/// second.
	fn update_retry_hint(&mut self, elapsed: Duration) {
		let average = match self.step_time {
			Some(t) => (t * 7 + elapsed) / 8,
			None => elapsed,
		};
		self.step_time = Some(average);
		let chunk = self.shared.limits.config.prefill_chunk;
		let steps = self.running.iter().map(|r| r.remaining_steps(chunk)).min().unwrap_or(1);
		let hint = (average * steps as u32).max(Duration::from_secs(1));
		self.shared.retry_after_ms.store(hint.as_millis() as u64, Ordering::Relaxed);
	}
}
