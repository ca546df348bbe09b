//! The adapter pool and the scheduler against their slow, obvious twins: each request run alone
//! by [`Engine::generate`], capacities counted by hand.

use super::{
	tests::{bytes, random_adapter_bytes, tiny, ALL},
	*,
};
use crate::lora::LoraConfig;
use std::{
	collections::{HashMap, HashSet},
	sync::{mpsc, Arc, Mutex},
	time::Duration,
};

type Key = u32;

/// Adapters by key: their file's bytes and configuration.
type Sources = HashMap<Key, (Vec<u8>, LoraConfig)>;

fn sources(model: &ServingModel, count: u32) -> Sources {
	(0..count)
		.map(|key| {
			let rank = 1 + key as usize % 4;
			let kinds: &[&str] = if key % 2 == 0 { &["q_proj", "v_proj"] } else { &ALL };
			(
				key,
				random_adapter_bytes(model, rank, 2.0 * rank as f64, kinds, 1000 + u64::from(key)),
			)
		})
		.collect()
}

fn pool(model: &ServingModel, max_adapters: usize, max_bytes: usize) -> Arc<AdapterPool<Key>> {
	Arc::new(AdapterPool::new(model.clone(), PoolConfig { max_adapters, max_bytes }).unwrap())
}

fn load(
	pool: &AdapterPool<Key>,
	sources: &Sources,
	key: Key,
) -> std::result::Result<Arc<Adapter>, PoolError> {
	let (bytes, config) = &sources[&key];
	pool.get_or_load(&key, adapter_hash(bytes), config.clone(), || Ok(bytes.clone()))
}

/// What a request's sink received.
type Log = Arc<Mutex<Vec<Event>>>;

fn sink() -> (Sink, Log) {
	let log = Log::default();
	let events = log.clone();
	(Box::new(move |e| events.lock().unwrap().push(e)), log)
}

fn tokens_of(log: &Log) -> (Vec<u32>, Vec<f32>) {
	log.lock()
		.unwrap()
		.iter()
		.filter_map(|e| match e {
			Event::Token { token, logprob } => Some((*token, *logprob)),
			_ => None,
		})
		.unzip()
}

fn finish_of(log: &Log) -> Option<(FinishReason, Usage, Timing)> {
	match log.lock().unwrap().last() {
		Some(Event::Finished { reason, usage, timing }) => Some((*reason, *usage, *timing)),
		_ => None,
	}
}

/// Loads what the queue wants (as a loader thread would), then steps.
fn step(scheduler: &mut Scheduler<Key>, sources: &Sources) -> StepReport {
	for key in scheduler.wanted(8) {
		let (bytes, config) = &sources[&key];
		scheduler
			.pool()
			.prefetch(&key, adapter_hash(bytes), config.clone(), || Ok(bytes.clone()))
			.unwrap();
	}
	scheduler.step().unwrap()
}

fn request(prompt: &[u8], adapters: Vec<(Key, f32)>, max_tokens: usize) -> GenerationRequest<Key> {
	GenerationRequest {
		prompt: bytes(prompt),
		adapters,
		sampling: SamplingParams { ignore_stop_tokens: true, ..SamplingParams::greedy(max_tokens) },
		stop_tokens: Vec::new(),
	}
}

fn scheduler(
	model: &ServingModel,
	cache: KvCacheConfig,
	config: SchedulerConfig,
) -> Scheduler<Key> {
	let engine = Engine::new(model.clone(), cache).unwrap();
	Scheduler::new(engine, pool(model, 64, 1 << 24), config).unwrap()
}

#[test]
fn a_thousand_adapters_cycling_keep_the_pool_within_its_capacity() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 1000);
	// 64 slots, and fewer bytes than 64 adapters of the mix take: the bytes bind first.
	let sizes: HashMap<Key, usize> = (0..4)
		.map(|k| (k, load(&pool(&model, 1, 1 << 20), &sources, k).unwrap().bytes()))
		.collect();
	let largest = *sizes.values().max().unwrap();
	let max_bytes = 25 * largest;
	let pool = pool(&model, 64, max_bytes);
	let fetches = std::cell::Cell::new(0);
	let use_key = |key: Key| {
		let (bytes, config) = &sources[&key];
		let adapter = pool
			.get_or_load(&key, adapter_hash(bytes), config.clone(), || {
				fetches.set(fetches.get() + 1);
				Ok(bytes.clone())
			})
			.unwrap();
		let stats = pool.stats();
		assert!(stats.adapters <= 64 && stats.bytes <= max_bytes, "{stats:?}");
		assert_eq!(stats.evictions, stats.loads - stats.adapters as u64);
		assert_eq!(adapter.bytes(), sizes[&(key % 4)]);
	};
	for key in 0..1000 {
		use_key(key);
	}
	let stats = pool.stats();
	println!("1,000 adapters through 64 slots and {max_bytes} bytes: {stats:?}");
	assert_eq!((stats.loads, stats.misses, stats.hits, stats.pinned), (1000, 1000, 0, 0));
	assert!(stats.adapters < 64 && stats.bytes > max_bytes - largest, "{stats:?}");
	assert!(stats.evictions >= 1000 - 64);
	// The most recent is held: a hit, no fetch.
	use_key(999);
	assert_eq!((pool.stats().hits, fetches.get()), (1, 1000));
	// The first was evicted: it is loaded again on its next use.
	assert_eq!(pool.residency(&0), Residency::Absent);
	use_key(0);
	let again = pool.stats();
	assert_eq!((again.loads, again.misses, fetches.get()), (1001, 1001, 1001));
	assert_eq!(pool.residency(&0), Residency::Held);
	// Back through them in reverse, then through the smallest only: there the slots bind.
	for key in (0..1000).rev() {
		use_key(key);
	}
	for key in (0..1000).step_by(4) {
		use_key(key);
	}
	let end = pool.stats();
	assert_eq!((end.adapters, end.bytes), (64, 64 * sizes[&0]));
	assert_eq!(end.loads, end.misses);
}

#[test]
fn an_adapter_whose_bytes_do_not_match_the_registered_hash_is_refused() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 2);
	let pool = pool(&model, 4, 1 << 20);
	let (bytes, config) = &sources[&0];
	let registered = adapter_hash(&sources[&1].0);
	let err = pool
		.get_or_load(&0, registered, config.clone(), || Ok(bytes.clone()))
		.unwrap_err();
	assert!(
		matches!(err, PoolError::HashMismatch { expected, actual }
			if expected == registered && actual == adapter_hash(bytes)),
		"{err}"
	);
	assert!(err.to_string().contains("registered"), "{err}");
	// Nothing cached: the next use fetches again.
	assert_eq!(pool.residency(&0), Residency::Absent);
	let stats = pool.stats();
	assert_eq!((stats.adapters, stats.bytes, stats.loads, stats.refused), (0, 0, 0, 1));
	// A tampered byte is refused the same way.
	let mut tampered = bytes.clone();
	let last = tampered.len() - 1;
	tampered[last] ^= 1;
	let err = pool
		.get_or_load(&0, adapter_hash(bytes), config.clone(), || Ok(tampered.clone()))
		.unwrap_err();
	assert!(matches!(err, PoolError::HashMismatch { .. }), "{err}");
	// A failed fetch is refused, and caches nothing either.
	let err = pool
		.get_or_load(&0, adapter_hash(bytes), config.clone(), || {
			Err(MlError::Config("the blob store is down".into()))
		})
		.unwrap_err();
	assert!(matches!(err, PoolError::Fetch(_)), "{err}");
	assert_eq!(pool.residency(&0), Residency::Absent);
	// The right bytes load.
	load(&pool, &sources, 0).unwrap();
	assert_eq!(pool.residency(&0), Residency::Held);
	// Bytes registered anew under the same key replace the old ones.
	let other = &sources[&1].0;
	pool.get_or_load(&0, adapter_hash(other), sources[&1].1.clone(), || Ok(other.clone()))
		.unwrap();
	assert_eq!((pool.stats().adapters, pool.stats().loads), (1, 2));
}

#[test]
fn a_pinned_adapter_is_not_evicted() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 4);
	let pool = pool(&model, 2, 1 << 20);
	let a = load(&pool, &sources, 0).unwrap(); // held: pinned
	drop(load(&pool, &sources, 1).unwrap());
	assert_eq!(pool.stats().pinned, 1);
	// 0 is the least recently used, but pinned: 1 goes.
	let c = load(&pool, &sources, 2).unwrap();
	assert_eq!(pool.residency(&0), Residency::Held);
	assert_eq!(pool.residency(&1), Residency::Absent);
	assert_eq!(pool.stats().evictions, 1);
	// Everything pinned: no room, refused, nothing evicted.
	let err = load(&pool, &sources, 3).unwrap_err();
	assert!(matches!(err, PoolError::Full { pinned_adapters: 2, .. }), "{err}");
	assert_eq!((pool.stats().adapters, pool.stats().evictions), (2, 1));
	// Once its request lets go, the least recently used is evicted.
	drop(a);
	load(&pool, &sources, 3).unwrap();
	assert_eq!(pool.residency(&0), Residency::Absent);
	assert_eq!(pool.residency(&2), Residency::Held);
	drop(c);
}

#[test]
fn an_adapter_larger_than_the_pool_is_refused() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 2);
	let size = load(&pool(&model, 1, 1 << 20), &sources, 1).unwrap().bytes();
	let pool = pool(&model, 8, size - 1);
	let err = load(&pool, &sources, 1).unwrap_err();
	assert!(
		matches!(err, PoolError::TooLarge { bytes, capacity } if bytes >= size - 64 && capacity == size - 1),
		"{err}"
	);
	let stats = pool.stats();
	assert_eq!((stats.adapters, stats.bytes, stats.loads, stats.refused), (0, 0, 0, 1));
	// A smaller one fits.
	load(&pool, &sources, 0).unwrap();
	assert!(AdapterPool::<Key>::new(model, PoolConfig { max_adapters: 0, max_bytes: 1 }).is_err());
}

#[test]
fn an_adapter_loading_does_not_hold_up_other_adapters() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = Arc::new(sources(&model, 2));
	let pool = pool(&model, 4, 1 << 20);
	load(&pool, &sources, 1).unwrap();
	let (started_tx, started) = mpsc::channel();
	let (release, release_rx) = mpsc::channel::<()>();
	let loader = {
		let (pool, sources) = (pool.clone(), sources.clone());
		std::thread::spawn(move || {
			let (bytes, config) = &sources[&0];
			pool.prefetch(&0, adapter_hash(bytes), config.clone(), || {
				started_tx.send(()).unwrap();
				release_rx.recv().unwrap();
				Ok(bytes.clone())
			})
		})
	};
	started.recv().unwrap();
	// While 0 loads (its fetch blocked), 1 is served and 0 shows as loading.
	assert_eq!(pool.residency(&0), Residency::Loading);
	assert!(pool.get(&1).is_some());
	// A second caller of 0 waits for that load instead of fetching again.
	let waiter = {
		let (pool, sources) = (pool.clone(), sources.clone());
		std::thread::spawn(move || {
			let (bytes, config) = &sources[&0];
			pool.get_or_load(&0, adapter_hash(bytes), config.clone(), || panic!("fetched twice"))
				.map(|a| a.bytes())
		})
	};
	std::thread::sleep(Duration::from_millis(50));
	release.send(()).unwrap();
	assert!(loader.join().unwrap().unwrap());
	assert!(waiter.join().unwrap().is_ok());
	let stats = pool.stats();
	assert_eq!((stats.loads, stats.misses, stats.hits), (2, 2, 2));
}

#[test]
fn a_flood_on_one_adapter_does_not_starve_another() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 2);
	let config = SchedulerConfig { max_running: 4, max_queued: 100, ..SchedulerConfig::default() };
	let mut s = scheduler(&model, KvCacheConfig::blocks(64), config);
	let max_tokens = 8;
	let mut logs = HashMap::new();
	for i in 0..50 {
		let (sink, log) = sink();
		let ticket =
			s.submit(request(format!("flood {i}").as_bytes(), vec![(0, 1.0)], max_tokens), sink);
		logs.insert(ticket.unwrap().id, log);
	}
	for _ in 0..3 {
		step(&mut s, &sources);
	}
	assert_eq!((s.stats().running, s.stats().queued), (4, 46));
	let (sink, b_log) = sink();
	let b = s
		.submit(request(b"the other adapter", vec![(1, 1.0)], max_tokens), sink)
		.unwrap()
		.id;
	logs.insert(b, b_log.clone());
	// First come, first served would admit B after the 46 queued before it: about 46 / 4 * 8
	// steps. Round-robin over the adapters admits it at the first free slot, after at most one
	// more request of the flood.
	let mut waited = 0;
	let mut flood_admitted_first = 0;
	loop {
		waited += 1;
		let report = step(&mut s, &sources);
		if report.admitted.contains(&b) {
			break;
		}
		flood_admitted_first += report.admitted.len();
		assert!(waited <= max_tokens, "B still waits after {waited} steps");
	}
	println!("B admitted after {waited} steps, {flood_admitted_first} flood requests before it");
	assert!(flood_admitted_first <= 1);
	while !s.is_idle() {
		step(&mut s, &sources);
	}
	for log in logs.values() {
		let (reason, usage, _) = finish_of(log).unwrap();
		assert_eq!((reason, usage.completion_tokens), (FinishReason::Length, max_tokens));
	}
	let stats = s.stats();
	assert_eq!((stats.finished, stats.tokens_generated), (51, 51 * max_tokens as u64));
	assert_eq!(stats.cache_free_blocks, 64);
}

#[test]
fn every_limit_is_answered_with_its_own_error() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let config = SchedulerConfig {
		max_running: 1,
		max_queued: 3,
		max_prompt_tokens: 32,
		max_tokens: 16,
		..SchedulerConfig::default()
	};
	// 24 positions in the whole cache.
	let s = scheduler(&model, KvCacheConfig { block_size: 4, capacity_blocks: 6 }, config);
	let submit = |r: GenerationRequest<Key>| s.submit(r, sink().0).map(|t| t.id);
	let ok = |prompt: &[u8], max_tokens| request(prompt, Vec::new(), max_tokens);

	let err = submit(ok(b"", 4)).unwrap_err();
	assert_eq!((err.clone(), err.status()), (SubmitError::EmptyPrompt, 400));
	let err = submit(ok(&[b'x'; 33], 4)).unwrap_err();
	assert_eq!(
		(err.clone(), err.status()),
		(SubmitError::PromptTooLong { tokens: 33, limit: 32 }, 413)
	);
	let err = submit(ok(b"hello", 17)).unwrap_err();
	assert_eq!(
		(err.clone(), err.status()),
		(SubmitError::MaxTokensTooLarge { requested: 17, limit: 16 }, 400)
	);
	let err = submit(ok(b"hello", 0)).unwrap_err();
	assert!(matches!(err, SubmitError::InvalidRequest(_)) && err.status() == 400, "{err}");
	let mut hot = ok(b"hello", 4);
	hot.sampling.temperature = -1.0;
	assert!(matches!(submit(hot).unwrap_err(), SubmitError::InvalidRequest(_)));
	let mut foreign = ok(b"hello", 4);
	foreign.prompt.push(256);
	assert!(matches!(submit(foreign).unwrap_err(), SubmitError::InvalidRequest(_)));
	let nan = request(b"hello", vec![(0, f32::NAN)], 4);
	assert!(matches!(submit(nan).unwrap_err(), SubmitError::InvalidRequest(_)));
	// 20 + 16 - 1 positions need 9 blocks of 4; the cache has 6.
	let err = submit(ok(&[b'x'; 20], 16)).unwrap_err();
	assert_eq!(
		(err.clone(), err.status()),
		(SubmitError::NeverFits { blocks: 9, capacity: 6 }, 400)
	);
	// 20 + 5 - 1 fit exactly.
	submit(ok(&[b'x'; 20], 5)).unwrap();
	submit(ok(b"two", 4)).unwrap();
	submit(ok(b"three", 4)).unwrap();
	let err = submit(ok(b"four", 4)).unwrap_err();
	assert_eq!(err.status(), 429);
	assert!(
		matches!(err, SubmitError::QueueFull { limit: 3, retry_after } if retry_after >= Duration::from_secs(1)),
		"{err}"
	);
	assert_eq!(s.stats().queued, 3);
}

#[test]
fn requests_that_fit_but_not_now_wait_for_room() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 3);
	// Two adapter sets a step at most, a cache for two requests of 8 + 8 positions.
	let config =
		SchedulerConfig { max_running: 8, max_adapter_sets: 2, ..SchedulerConfig::default() };
	let mut s = scheduler(&model, KvCacheConfig { block_size: 4, capacity_blocks: 8 }, config);
	let mut ids = Vec::new();
	for key in 0..3 {
		ids.push(s.submit(request(b"8 tokens", vec![(key, 1.0)], 9), sink().0).unwrap().id);
	}
	ids.push(s.submit(request(b"base 8 t", Vec::new(), 9), sink().0).unwrap().id);
	let report = step(&mut s, &sources);
	// The cache holds two; the third adapter set would have been one too many anyway.
	assert_eq!(report.admitted, ids[..2]);
	let mut admitted: Vec<RequestId> = report.admitted;
	while !s.is_idle() {
		let report = step(&mut s, &sources);
		assert!(s.stats().running <= 2);
		assert!(s.engine().cache().used_blocks() <= 8);
		admitted.extend(report.admitted);
	}
	assert_eq!(admitted, ids);
}

#[test]
fn the_scheduler_gives_each_request_what_it_gets_alone() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 4);
	let adapter = |key: Key| {
		let (bytes, config) = &sources[&key];
		Arc::new(Adapter::from_bytes(&model, bytes, config.clone()).unwrap())
	};
	// (step at which it is submitted, request)
	let mut plan: Vec<(usize, GenerationRequest<Key>)> = vec![
		(0, request(b"the first request", vec![(0, 1.0)], 12)),
		(0, request(b"base model", Vec::new(), 6)),
		(0, request(b"an ensemble of two", vec![(1, 0.7), (2, -0.4)], 9)),
		(2, request(b"joins at step two", vec![(0, 1.0)], 10)),
		(3, request(b"x", vec![(3, 1.0)], 15)),
		(5, request(b"five", vec![(1, 1.0)], 4)),
		(5, request(b"also five, longer prompt here", vec![(2, 1.0)], 7)),
		(9, request(b"late", Vec::new(), 5)),
		(9, request(b"late again", vec![(3, 1.0)], 20)),
	];
	// A seeded sampled request, and one that stops at a token of its own.
	let mut sampled = request(b"sampled", vec![(2, 1.0)], 11);
	sampled.sampling = SamplingParams { temperature: 0.8, top_p: 0.9, seed: 4, ..sampled.sampling };
	plan.push((1, sampled));
	let mut stopping = request(b"stops early", vec![(0, 1.0)], 20);
	stopping.sampling.ignore_stop_tokens = false;
	plan.push((4, stopping));

	let reference = |r: &GenerationRequest<Key>| {
		let set = match r.adapters.len() {
			0 => AdapterSet::base(),
			_ => AdapterSet::ensemble(r.adapters.iter().map(|(k, w)| (adapter(*k), *w)).collect())
				.unwrap(),
		};
		let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(16)).unwrap();
		let request =
			Request { prompt: r.prompt.clone(), adapters: set, sampling: r.sampling.clone() };
		engine.generate(&[request]).unwrap().remove(0)
	};
	// The stopping request stops at the third token it would give.
	let free = reference(&plan[10].1);
	let stop = free.tokens[2];
	plan[10].1.stop_tokens = vec![stop];
	let cut = free.tokens.iter().position(|&t| t == stop).unwrap();

	let config = SchedulerConfig { max_running: 4, ..SchedulerConfig::default() };
	let mut s = scheduler(&model, KvCacheConfig::blocks(64), config);
	// By the request's place in the plan.
	let mut logs: Vec<Option<Log>> = vec![None; plan.len()];
	let mut admitted_at: HashMap<RequestId, usize> = HashMap::new();
	let (mut mixed, mut joined) = (0, 0);
	let mut at = 0;
	while at < 10 || !s.is_idle() {
		for (i, (_, r)) in plan.iter().enumerate().filter(|(_, (when, _))| *when == at) {
			let (sink, log) = sink();
			s.submit(r.clone(), sink).unwrap();
			logs[i] = Some(log);
		}
		let report = step(&mut s, &sources);
		for id in &report.admitted {
			admitted_at.insert(*id, at);
		}
		let steps: HashSet<usize> = report.rows.iter().map(|(id, _)| admitted_at[id]).collect();
		if steps.len() >= 2 {
			mixed += 1;
			// A prompt prefilled beside requests already decoding.
			if report.rows.iter().any(|(id, n)| *n > 1 && admitted_at[id] == at) {
				joined += 1;
			}
		}
		assert!(report.rows.len() <= 4);
		at += 1;
	}
	println!(
		"{at} steps; {mixed} ran requests admitted at different steps, {joined} of them a new \
		 prompt beside earlier requests' decoding"
	);
	assert!(mixed >= 1 && joined >= 1, "no continuous batching");
	let logs: Vec<Log> = logs.into_iter().map(Option::unwrap).collect();
	for ((_, r), log) in plan.iter().zip(&logs) {
		let mut expected = reference(r);
		if let Some(at) = expected.tokens.iter().position(|t| r.stop_tokens.contains(t)) {
			expected.tokens.truncate(at);
			expected.logprobs.truncate(at);
			expected.finish = FinishReason::Stop;
		}
		let (tokens, logprobs) = tokens_of(log);
		assert_eq!(tokens, expected.tokens);
		assert_eq!(
			logprobs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
			expected.logprobs.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
		);
		let (reason, usage, timing) = finish_of(log).unwrap();
		assert_eq!(reason, expected.finish);
		assert_eq!(usage, Usage { prompt_tokens: r.prompt.len(), completion_tokens: tokens.len() });
		if let Some(first) = timing.time_to_first_token {
			assert!(timing.queued <= first && first <= timing.total);
		}
		assert_eq!(timing.time_to_first_token.is_some(), !tokens.is_empty());
		assert_eq!(timing.time_per_output_token.is_some(), tokens.len() >= 2);
	}
	assert_eq!(tokens_of(&logs[10]).0.len(), cut);
	assert_eq!(finish_of(&logs[10]).unwrap().0, FinishReason::Stop);
	let stats = s.stats();
	assert_eq!((stats.finished, stats.running, stats.queued), (plan.len() as u64, 0, 0));
	assert_eq!(stats.cache_free_blocks, 64);
	assert_eq!(s.pool().stats().pinned, 0);
}

#[test]
fn a_long_prompt_is_prefilled_in_chunks() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 1);
	let config = SchedulerConfig { prefill_chunk: 16, ..SchedulerConfig::default() };
	let mut s = scheduler(&model, KvCacheConfig::blocks(16), config);
	let prompt = [b"a prompt of more than one chunk ".as_slice(); 3].concat();
	let (long_sink, log) = sink();
	s.submit(request(&prompt, vec![(0, 1.0)], 5), long_sink).unwrap();
	let (short_sink, short) = sink();
	s.submit(request(b"short", Vec::new(), 5), short_sink).unwrap();
	let first = step(&mut s, &sources);
	assert_eq!(first.rows.iter().map(|r| r.1).collect::<Vec<_>>(), [16, 5]);
	let mut steps = 1;
	while !s.is_idle() {
		step(&mut s, &sources);
		steps += 1;
	}
	// 96 prompt tokens in six chunks, then four more tokens.
	assert_eq!(steps, 6 + 4);
	assert_eq!(tokens_of(&log).0.len(), 5);
	assert_eq!(finish_of(&short).unwrap().1.completion_tokens, 5);
	assert_eq!(s.stats().prompt_tokens, 96 + 5);
}

#[test]
fn cancellation_frees_the_cache_blocks() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 2);
	let config = SchedulerConfig { max_running: 2, ..SchedulerConfig::default() };
	let mut s = scheduler(&model, KvCacheConfig::blocks(32), config);
	let mut tickets = Vec::new();
	let mut logs = Vec::new();
	for i in 0..3 {
		let (sink, log) = sink();
		let r =
			request(format!("request {i} of a cancelled lot").as_bytes(), vec![(i % 2, 1.0)], 40);
		tickets.push(s.submit(r, sink).unwrap());
		logs.push(log);
	}
	for _ in 0..4 {
		step(&mut s, &sources);
	}
	assert_eq!((s.stats().running, s.stats().queued), (2, 1));
	assert!(s.engine().cache().used_blocks() > 0);
	assert_eq!(s.pool().stats().pinned, 2);
	// A client goes away: its token cancels it from another thread; the next step ends it.
	let token = tickets[0].cancel.clone();
	std::thread::spawn(move || token.cancel()).join().unwrap();
	let report = step(&mut s, &sources);
	assert!(report.ended.contains(&tickets[0].id));
	assert!(!report.rows.iter().any(|(id, _)| *id == tickets[0].id));
	let (reason, usage, _) = finish_of(&logs[0]).unwrap();
	// Cancelled at the start of step five, after four tokens.
	assert_eq!((reason, usage.completion_tokens), (FinishReason::Cancelled, 4));
	// The queued one took its place; cancel everything at once.
	assert!(report.admitted.contains(&tickets[2].id));
	assert!(s.cancel(tickets[1].id) && s.cancel(tickets[2].id));
	assert!(!s.cancel(tickets[2].id));
	assert_eq!(s.engine().cache().free_blocks(), 32);
	assert_eq!(s.engine().cache().sequences(), 0);
	assert_eq!(s.pool().stats().pinned, 0);
	assert!(s.is_idle());
	// A queued request cancelled before it runs ends without a token.
	let (sink, queued) = sink();
	let ticket = s.submit(request(b"never runs", Vec::new(), 4), sink).unwrap();
	ticket.cancel.cancel();
	assert!(step(&mut s, &sources).rows.is_empty());
	assert_eq!(finish_of(&queued).unwrap().0, FinishReason::Cancelled);
	assert_eq!(tokens_of(&queued).0.len(), 0);
	assert_eq!(s.stats().cancelled, 4);
}

#[test]
fn an_adapter_that_cannot_be_loaded_fails_its_queued_requests_only() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sources = sources(&model, 2);
	let mut s = scheduler(&model, KvCacheConfig::blocks(32), SchedulerConfig::default());
	let (bad_sink, bad) = sink();
	s.submit(request(b"bad adapter", vec![(7, 1.0)], 4), bad_sink).unwrap();
	let (good_sink, good) = sink();
	s.submit(request(b"good adapter", vec![(1, 1.0)], 4), good_sink).unwrap();
	assert_eq!(s.wanted(8), vec![7, 1]);
	// The loader cannot fetch 7 (the chain does not know it); it loads 1.
	let (bytes, config) = &sources[&1];
	s.pool()
		.prefetch(&1, adapter_hash(bytes), config.clone(), || Ok(bytes.clone()))
		.unwrap();
	assert_eq!(s.wanted(8), vec![7]);
	let report = s.step().unwrap();
	assert_eq!(report.admitted.len(), 1);
	assert_eq!(s.fail_adapter(&7, "not registered"), 1);
	assert!(
		matches!(bad.lock().unwrap().last(), Some(Event::Failed { error }) if error.contains("not registered"))
	);
	while !s.is_idle() {
		s.step().unwrap();
	}
	assert_eq!(tokens_of(&good).0.len(), 4);
}
