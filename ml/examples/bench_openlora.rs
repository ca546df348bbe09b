//! The OpenLoRA serving benchmark: one process serving a thousand adapters on one base model
//! through the real [`AdapterPool`] and [`Scheduler`], on the CPU. For tiny-byte-gpt and for
//! SmolLM2-135M (its GGUF's blocks requantized to Q8_0, its own Q4_1 blocks, and dequantized
//! to f32) it measures:
//!
//! 1. `pool`: bytes per adapter, cold load time (bytes hashed against the registered
//!    blake2b-256, checked and parsed) and the hit rate of a seeded stream of uses, Zipf (s = 1)
//!    then uniform over the adapters, with fewer slots than adapters (after a warm-up of one use
//!    per adapter);
//! 2. `concurrent`: 64 requests submitted at once on 64 distinct adapters through the scheduler
//!    (continuous batching, adapters loaded before the clock starts), the same 64 on one
//!    adapter, and the baseline of merging each request's adapter into the f32 weights
//!    ([`ServingModel::merged`]) then serving it alone, one request after another: output
//!    tokens/s from the first submission to the last token, prefill included;
//! 3. `decode`: tokens/s of the steps whose rows are all decode tokens, at batches of 1, 8, 32
//!    and 64 requests on distinct adapters;
//! 4. `poisson`: time to first token and per output token (the scheduler's [`Timing`]) under
//!    seeded Poisson arrivals at a fraction (`--load`) of the 64-adapter throughput, adapters
//!    drawn Zipf over all of them, a loader thread loading what [`Scheduler::wanted`] lists;
//! 5. `single`: single-stream decode of the base model after the prompt llama.cpp is given, to
//!    set against `--llama-cpp` (measured by `scripts/bench/llama_cpp_peer.py`);
//! 6. the memory bound: a streaming read and copy measured here, the weight bytes one decode
//!    step reads (see [`gguf_step_bytes`]) and the tokens/s they allow;
//! 7. `kernels`: the base projection's kernels (f32 gemm, Q4_1, Q4_0, Q8_0) at 1, 8 and 64 rows.
//!
//! It ends with a Markdown table. Figures are printed, not checked.
//!
//!   scripts/bench-openlora.sh
//!   cargo run --release -p openledger-ml --example bench_openlora -- [OPTIONS]
//!
//! Options (defaults): `--adapters 1000 --pool 256 --stream 4000 --tokens 32 --decode-tokens 16
//! --merged 8 --single 128 --poisson-seconds 45 --arrivals 256 --load 0.5 --bandwidth-mib 512
//! --models all|tiny|smollm2 --parts kernels,pool,concurrent,decode,single,poisson --prompt TEXT
//! --llama-cpp TOKENS_PER_S --precisions q8_0,q4_1,f32`. `--merged` is how many of the 64 requests the merged
//! baseline serves (its rate is the same for all; tiny-byte-gpt serves all 64).

use candle_core::{
	quantized::{gguf_file, GgmlDType},
	Device,
};
use openledger_ml::{
	engine::{
		adapter_hash, Adapter, AdapterPool, AdapterSet, Engine, Event, GenerationRequest,
		KvCacheConfig, PoolConfig, Precision, Request, SamplingParams, Scheduler, SchedulerConfig,
		ServingModel, Timing, DEFAULT_BLOCK_SIZE, PROJECTIONS,
	},
	llama::{model_cache, read_tokenizer, SMOLLM2_FILE},
	lora::LoraConfig,
	rng::Rng,
	tiny::TinyByteGpt,
};
use std::{
	collections::{BTreeSet, HashSet},
	path::Path,
	sync::{
		atomic::{AtomicUsize, Ordering},
		mpsc, Arc, Mutex,
	},
	time::{Duration, Instant},
};

type Error = Box<dyn std::error::Error>;

/// Adapters are keyed by their index in the registry.
type Key = u32;

/// The 64 concurrent requests of the throughput figures.
const CONCURRENT: usize = 64;

/// The single-stream prompt, the same text `llama_cpp_peer.py` is given.
const PROMPT: &str = "OpenLedger pays the people whose data trained a model";

/// What `--parts` may name.
const PARTS: [&str; 6] = ["kernels", "pool", "concurrent", "decode", "single", "poisson"];

/// The Zipf exponent of the adapter streams.
const ZIPF_S: f64 = 1.0;

struct Options {
	adapters: usize,
	pool: usize,
	stream: usize,
	tokens: usize,
	decode_tokens: usize,
	merged: usize,
	single: usize,
	arrivals: usize,
	poisson_seconds: f64,
	load: f64,
	llama_cpp: Option<f64>,
	models: String,
	/// The SmolLM2 bases measured: `q8_0`, `q4_1` (the GGUF's own blocks), `f32`.
	precisions: Vec<String>,
	bandwidth_mib: usize,
	prompt: String,
	/// The parts to run: pool, concurrent, decode, single, poisson.
	parts: Vec<String>,
}

impl Options {
	fn parse() -> Result<Self, Error> {
		let mut o = Self {
			adapters: 1000,
			pool: 256,
			stream: 4000,
			tokens: 32,
			decode_tokens: 16,
			merged: 8,
			single: 128,
			arrivals: 256,
			poisson_seconds: 45.0,
			load: 0.5,
			llama_cpp: None,
			models: "all".into(),
			precisions: ["q8_0", "q4_1", "f32"].map(String::from).to_vec(),
			bandwidth_mib: 512,
			prompt: PROMPT.into(),
			parts: PARTS.iter().map(|p| p.to_string()).collect(),
		};
		let mut args = std::env::args().skip(1);
		while let Some(flag) = args.next() {
			let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
			match flag.as_str() {
				"--adapters" => o.adapters = value.parse()?,
				"--pool" => o.pool = value.parse()?,
				"--stream" => o.stream = value.parse()?,
				"--tokens" => o.tokens = value.parse()?,
				"--decode-tokens" => o.decode_tokens = value.parse()?,
				"--merged" => o.merged = value.parse()?,
				"--single" => o.single = value.parse()?,
				"--arrivals" => o.arrivals = value.parse()?,
				"--poisson-seconds" => o.poisson_seconds = value.parse()?,
				"--load" => o.load = value.parse()?,
				"--llama-cpp" if value.is_empty() => {},
				"--llama-cpp" => o.llama_cpp = Some(value.parse()?),
				"--models" => o.models = value,
				"--bandwidth-mib" => o.bandwidth_mib = value.parse()?,
				"--prompt" => o.prompt = value,
				"--parts" => o.parts = value.split(',').map(String::from).collect(),
				"--precisions" => o.precisions = value.split(',').map(String::from).collect(),
				_ => return Err(format!("unknown option {flag}").into()),
			}
		}
		if o.adapters < CONCURRENT || o.tokens.min(o.decode_tokens) < 2 || o.pool < CONCURRENT {
			return Err(format!(
				"need at least {CONCURRENT} adapters and pool slots, and 2 tokens per request"
			)
			.into());
		}
		if let Some(p) = o.parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
			return Err(format!("unknown part {p}; the parts are {}", PARTS.join(",")).into());
		}
		Ok(o)
	}

	fn has(&self, part: &str) -> bool {
		self.parts.iter().any(|p| p == part)
	}
}

fn main() -> Result<(), Error> {
	let o = Options::parse()?;
	let threads = candle_core::utils::get_num_threads();
	println!("CPU threads: {threads}");
	let bandwidth = bandwidth(o.bandwidth_mib, threads);
	println!(
		"memory bandwidth ({} MiB buffers, {threads} threads, best of 5): copy {:.1} GB/s (bytes read + written), read {:.1} GB/s (a streaming sum)",
		o.bandwidth_mib, bandwidth.copy, bandwidth.read
	);
	if o.has("kernels") {
		kernels()?;
	}
	let mut columns = Vec::new();
	if o.models == "all" || o.models == "tiny" {
		let base = TinyByteGpt::base(&Device::Cpu)?;
		let model = ServingModel::from_tiny(&base)?;
		let targets = ["q_proj", "k_proj", "v_proj", "o_proj"];
		let registry = Arc::new(registry(&model, o.adapters, 8, 16.0, &targets)?);
		let prompts: Vec<Vec<u32>> = (0..CONCURRENT)
			.map(|i| bytes(format!("request {i}: tiny-byte-gpt serves adapters").as_bytes()))
			.collect();
		let bench = Bench {
			name: "tiny-byte-gpt".into(),
			model: model.clone(),
			dense: model,
			registry,
			pool: None,
			prompts,
			single_prompt: bytes(b"tiny-byte-gpt serves adapters"),
			step_bytes: tiny_step_bytes(&base),
		};
		columns.push(bench.run(&o, CONCURRENT, &bandwidth)?);
	}
	let path = model_cache().join(SMOLLM2_FILE);
	if (o.models == "all" || o.models == "smollm2") && !path.exists() {
		println!("{} is missing: run scripts/fetch-models.sh for SmolLM2", path.display());
	} else if o.models == "all" || o.models == "smollm2" {
		let tokenizer = read_tokenizer(&path)?;
		let encode = |text: &str| -> Result<Vec<u32>, Error> {
			Ok(tokenizer.encode(text, false).map_err(|e| e.to_string())?.get_ids().to_vec())
		};
		let prompts = (0..CONCURRENT)
			.map(|i| encode(&format!("Request {i}: {}.", o.prompt)))
			.collect::<Result<Vec<_>, _>>()?;
		let start = Instant::now();
		let dense = ServingModel::load_gguf(&path, Precision::F32, &Device::Cpu)?;
		println!("SmolLM2 f32 base loaded in {:.2} s", start.elapsed().as_secs_f64());
		let start = Instant::now();
		let quantized = ServingModel::load_gguf(&path, Precision::Quantized, &Device::Cpu)?;
		println!("SmolLM2 Q4_1 base loaded in {:.2} s", start.elapsed().as_secs_f64());
		let start = Instant::now();
		let q8 = ServingModel::load_gguf(&path, Precision::Q8_0, &Device::Cpu)?;
		println!("SmolLM2 Q8_0 base loaded in {:.2} s", start.elapsed().as_secs_f64());
		let targets = ["q_proj", "v_proj"];
		let registry = Arc::new(registry(&quantized, o.adapters, 8, 16.0, &targets)?);
		let measured = |name: &str| o.precisions.iter().any(|p| p == name);
		if measured("q8_0") {
			let bench = Bench {
				name: "SmolLM2-135M Q8_0".into(),
				model: q8,
				dense: dense.clone(),
				registry: registry.clone(),
				pool: None,
				prompts: prompts.clone(),
				single_prompt: encode(&o.prompt)?,
				step_bytes: gguf_step_bytes(&path, Precision::Q8_0)?,
			};
			columns.push(bench.run(&o, o.merged, &bandwidth)?);
		}
		if measured("q4_1") {
			let bench = Bench {
				name: "SmolLM2-135M Q4_1".into(),
				model: quantized,
				dense: dense.clone(),
				registry: registry.clone(),
				pool: None,
				prompts: prompts.clone(),
				single_prompt: encode(&o.prompt)?,
				step_bytes: gguf_step_bytes(&path, Precision::Quantized)?,
			};
			columns.push(bench.run(&o, o.merged, &bandwidth)?);
		}
		if measured("f32") {
			let bench = Bench {
				name: "SmolLM2-135M f32".into(),
				model: dense.clone(),
				dense,
				registry,
				pool: None,
				prompts,
				single_prompt: encode(&o.prompt)?,
				step_bytes: gguf_step_bytes(&path, Precision::F32)?,
			};
			columns.push(bench.run(&o, o.merged, &bandwidth)?);
		}
	}
	summary(&o, &bandwidth, threads, &columns);
	Ok(())
}

// ---------------------------------------------------------------------------------------------
// Adapters

/// An adapter as the chain registers it: its file's bytes, their hash and its shape.
struct Source {
	bytes: Vec<u8>,
	hash: [u8; 32],
	config: LoraConfig,
}

/// `count` distinct random adapters of `rank` on `targets` of every layer, as PEFT's
/// `adapter_model.safetensors` bytes (`base_model.model.{module}.lora_A.weight` `[rank, in]`,
/// `lora_B.weight` `[out, rank]`, f32), each from its own seed.
fn registry(
	model: &ServingModel,
	count: usize,
	rank: usize,
	alpha: f64,
	targets: &[&str],
) -> Result<Vec<Source>, Error> {
	let start = Instant::now();
	let config =
		LoraConfig { rank, alpha, targets: targets.iter().map(|s| s.to_string()).collect() };
	let sources: Vec<Source> = (0..count)
		.map(|i| {
			let mut rng = Rng::new(10_000 + i as u64);
			let mut tensors = Vec::new();
			for index in 0..model.modules() {
				let (parent, name) = PROJECTIONS[index % PROJECTIONS.len()];
				let Some((out, input)) = model.module_shape(index) else { continue };
				if !targets.contains(&name) {
					continue;
				}
				let path = format!(
					"base_model.model.model.layers.{}.{parent}.{name}",
					index / PROJECTIONS.len()
				);
				let mut uniform = |n: usize, scale: f64| -> Vec<f32> {
					(0..n).map(|_| ((rng.uniform() * 2.0 - 1.0) * scale) as f32).collect()
				};
				let a = uniform(rank * input, 1.0 / (input as f64).sqrt());
				let b = uniform(out * rank, 0.1 / (rank as f64).sqrt());
				tensors.push((format!("{path}.lora_A.weight"), vec![rank, input], a));
				tensors.push((format!("{path}.lora_B.weight"), vec![out, rank], b));
			}
			let bytes = safetensors(&tensors);
			Source { hash: adapter_hash(&bytes), bytes, config: config.clone() }
		})
		.collect();
	println!(
		"{count} adapters generated (rank {rank}, alpha {alpha}, {}): {} bytes each as safetensors, {:.1} s",
		targets.join(","),
		sources[0].bytes.len(),
		start.elapsed().as_secs_f64()
	);
	Ok(sources)
}

/// A safetensors file: an 8-byte little-endian header length, the JSON header, the data.
fn safetensors(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
	let mut header = serde_json::Map::new();
	let mut offset = 0;
	for (name, shape, values) in tensors {
		let end = offset + values.len() * 4;
		header.insert(
			name.clone(),
			serde_json::json!({ "dtype": "F32", "shape": shape, "data_offsets": [offset, end] }),
		);
		offset = end;
	}
	let mut json = serde_json::Value::Object(header).to_string().into_bytes();
	json.resize(json.len().next_multiple_of(8), b' ');
	let mut out = Vec::with_capacity(8 + json.len() + offset);
	out.extend_from_slice(&(json.len() as u64).to_le_bytes());
	out.extend_from_slice(&json);
	for (_, _, values) in tensors {
		out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
	}
	out
}

fn bytes(text: &[u8]) -> Vec<u32> {
	text.iter().map(|&b| u32::from(b)).collect()
}

/// Zipf's law over `n` ranks: rank `k` (from 0) drawn with probability ∝ `1 / (k + 1)^s`.
struct Zipf {
	cumulative: Vec<f64>,
}

impl Zipf {
	fn new(n: usize, s: f64) -> Self {
		let mut total = 0.0;
		let mut cumulative: Vec<f64> = (0..n)
			.map(|k| {
				total += 1.0 / ((k + 1) as f64).powf(s);
				total
			})
			.collect();
		cumulative.iter_mut().for_each(|c| *c /= total);
		Self { cumulative }
	}

	fn draw(&self, rng: &mut Rng) -> usize {
		let u = rng.uniform();
		self.cumulative.partition_point(|&c| c <= u).min(self.cumulative.len() - 1)
	}
}

// ---------------------------------------------------------------------------------------------
// Serving

/// One served base model and its registered adapters.
struct Bench {
	name: String,
	model: ServingModel,
	/// The f32 weights that adapters are merged into for the merged baseline.
	dense: ServingModel,
	registry: Arc<Vec<Source>>,
	/// Made by [`Bench::run`].
	pool: Option<Arc<AdapterPool<Key>>>,
	/// One prompt per concurrent request.
	prompts: Vec<Vec<u32>>,
	/// The single-stream prompt (the text llama.cpp is given).
	single_prompt: Vec<u32>,
	/// The weight bytes a single-stream decode step reads, and what is counted.
	step_bytes: (usize, String),
}

/// One closed-loop run: every request submitted at once, stepped until all finished.
#[derive(Default)]
struct Run {
	/// From the first submission to the last token.
	seconds: f64,
	tokens: u64,
	/// Steps whose rows were all one decode token each.
	decode_tokens: usize,
	decode_seconds: f64,
	failed: usize,
}

impl Run {
	fn throughput(&self) -> f64 {
		self.tokens as f64 / self.seconds
	}

	fn decode_rate(&self) -> f64 {
		self.decode_tokens as f64 / self.decode_seconds
	}
}

/// What [`summary`] prints for one model.
#[derive(Default)]
struct Column {
	name: String,
	adapters: usize,
	pool: usize,
	adapter_bytes: usize,
	file_bytes: usize,
	load_ms: Option<(f64, f64)>,
	hit_zipf: Option<f64>,
	hit_uniform: Option<f64>,
	mixed: Option<f64>,
	one: Option<f64>,
	mixed_decode: Option<f64>,
	merged: Option<f64>,
	merged_measured: usize,
	decode: Vec<(usize, f64)>,
	rate: Option<f64>,
	arrivals: usize,
	ttft_ms: Option<(f64, f64)>,
	tpot_ms: Option<(f64, f64)>,
	single_base: Option<f64>,
	single_tokens: usize,
	step_bytes: usize,
	step_bytes_what: String,
}

impl Bench {
	fn pool(&self) -> &Arc<AdapterPool<Key>> {
		self.pool.as_ref().expect("the pool is made first")
	}

	/// Loads `key` into the pool unless held (what a loader thread does for
	/// [`Scheduler::wanted`]).
	fn prefetch(&self, key: Key) -> Result<bool, Error> {
		let s = &self.registry[key as usize];
		Ok(self.pool().prefetch(&key, s.hash, s.config.clone(), || Ok(s.bytes.clone()))?)
	}

	fn request(
		&self,
		prompt: &[u32],
		adapter: Option<Key>,
		tokens: usize,
	) -> GenerationRequest<Key> {
		GenerationRequest {
			prompt: prompt.to_vec(),
			adapters: adapter.map(|k| vec![(k, 1.0)]).unwrap_or_default(),
			sampling: SamplingParams { ignore_stop_tokens: true, ..SamplingParams::greedy(tokens) },
			stop_tokens: Vec::new(),
		}
	}

	/// A scheduler over a fresh engine whose cache holds `requests` of the longest prompt and
	/// `tokens` each.
	fn scheduler(&self, requests: usize, tokens: usize) -> Result<Scheduler<Key>, Error> {
		let longest = self.prompts.iter().chain([&self.single_prompt]).map(|p| p.len()).max();
		let per_request = (longest.unwrap_or(0) + tokens).div_ceil(DEFAULT_BLOCK_SIZE);
		let engine =
			Engine::new(self.model.clone(), KvCacheConfig::blocks(requests * per_request + 4))?;
		let config = SchedulerConfig {
			max_running: CONCURRENT,
			max_adapter_sets: CONCURRENT,
			max_queued: 100_000,
			..SchedulerConfig::default()
		};
		Ok(Scheduler::new(engine, self.pool().clone(), config)?)
	}

	/// Every request submitted at once (their adapters loaded first), stepped to the end.
	fn closed(&self, requests: Vec<GenerationRequest<Key>>) -> Result<Run, Error> {
		let tokens = requests.iter().map(|r| r.sampling.max_tokens).max().unwrap_or(1);
		let mut scheduler = self.scheduler(requests.len(), tokens)?;
		let keys: BTreeSet<Key> =
			requests.iter().flat_map(|r| r.adapters.iter().map(|(k, _)| *k)).collect();
		for key in keys {
			self.prefetch(key)?;
		}
		let failed = Arc::new(AtomicUsize::new(0));
		let submitter = scheduler.submitter();
		let mut run = Run::default();
		let start = Instant::now();
		for request in requests {
			let failed = failed.clone();
			let sink = Box::new(move |e: Event| {
				if let Event::Failed { error } = e {
					eprintln!("request failed: {error}");
					failed.fetch_add(1, Ordering::Relaxed);
				}
			});
			submitter.submit(request, sink)?;
		}
		while !scheduler.is_idle() {
			for key in scheduler.wanted(8) {
				self.prefetch(key)?;
			}
			let t = Instant::now();
			let report = scheduler.step()?;
			let seconds = t.elapsed().as_secs_f64();
			if !report.rows.is_empty() && report.rows.iter().all(|&(_, n)| n == 1) {
				run.decode_tokens += report.rows.len();
				run.decode_seconds += seconds;
			}
		}
		run.seconds = start.elapsed().as_secs_f64();
		run.tokens = scheduler.stats().tokens_generated;
		run.failed = failed.load(Ordering::Relaxed);
		Ok(run)
	}

	/// `batch` concurrent requests, each on its own adapter (keys `first..first + batch`), or
	/// all on adapter `first`.
	fn batch(&self, batch: usize, first: Key, distinct: bool, tokens: usize) -> Result<Run, Error> {
		let requests = (0..batch)
			.map(|i| {
				let key = if distinct { first + i as Key } else { first };
				self.request(&self.prompts[i % self.prompts.len()], Some(key), tokens)
			})
			.collect();
		self.closed(requests)
	}

	fn run(
		mut self,
		o: &Options,
		merged_requests: usize,
		bandwidth: &Bandwidth,
	) -> Result<Column, Error> {
		let name = self.name.clone();
		println!("\n== {name}");
		let config = PoolConfig { max_adapters: o.pool, max_bytes: 1 << 40 };
		self.pool = Some(Arc::new(AdapterPool::new(self.model.clone(), config)?));
		let mut c = Column {
			name: name.clone(),
			adapters: self.registry.len(),
			pool: o.pool,
			file_bytes: self.registry[0].bytes.len(),
			merged_measured: merged_requests.min(CONCURRENT),
			step_bytes: self.step_bytes.0,
			step_bytes_what: self.step_bytes.1.clone(),
			..Column::default()
		};
		// 1. The pool.
		self.prefetch(0)?;
		c.adapter_bytes = self.pool().stats().bytes;
		if o.has("pool") {
			let zipf = Zipf::new(self.registry.len(), ZIPF_S);
			let mut rng = Rng::new(7);
			let (hits, loads) = self.stream(o.stream, |r| zipf.draw(r), &mut rng)?;
			c.hit_zipf = Some(hits);
			let n = self.registry.len();
			let (uniform, more) = self.stream(o.stream / 2, |r| r.below(n), &mut rng)?;
			c.hit_uniform = Some(uniform);
			let mut loads: Vec<f64> = loads.into_iter().chain(more).collect();
			c.load_ms = Some((percentile(&mut loads, 50.0), percentile(&mut loads, 99.0)));
			let stats = self.pool().stats();
			println!(
				"pool of {} slots over {} adapters: {} bytes per adapter held (f32 matrices), {} bytes per file; cold load (hash, check, parse) p50 {:.2} ms, p99 {:.2} ms over {} loads; hit rate Zipf(s={ZIPF_S}) {:.1}%, uniform {:.1}%; {stats:?}",
				o.pool,
				n,
				c.adapter_bytes,
				c.file_bytes,
				c.load_ms.unwrap_or_default().0,
				c.load_ms.unwrap_or_default().1,
				loads.len(),
				hits * 100.0,
				uniform * 100.0,
			);
		}
		// 2. 64 concurrent requests: distinct adapters, one adapter, merged per request.
		let tokens = self.room(o.tokens);
		if o.has("concurrent") || o.has("poisson") {
			let mixed = self.batch(CONCURRENT, 0, true, tokens)?;
			c.mixed = Some(mixed.throughput());
			c.mixed_decode = Some(mixed.decode_rate());
			println!(
				"{CONCURRENT} requests x {tokens} tokens, {CONCURRENT} distinct adapters: {:.1} tok/s end to end ({:.2} s, prefill included), decode steps {:.1} tok/s; failed {}",
				mixed.throughput(),
				mixed.seconds,
				mixed.decode_rate(),
				mixed.failed
			);
		}
		if o.has("concurrent") {
			let one = self.batch(CONCURRENT, 0, false, tokens)?;
			c.one = Some(one.throughput());
			println!(
				"{CONCURRENT} requests x {tokens} tokens, all on one adapter: {:.1} tok/s end to end ({:.2} s), decode steps {:.1} tok/s; failed {}",
				one.throughput(),
				one.seconds,
				one.decode_rate(),
				one.failed
			);
			c.merged = Some(self.merged(c.merged_measured, tokens)?);
		}
		// 3. Decode at batches of 1, 8, 32 and 64 distinct adapters.
		if o.has("decode") {
			for batch in [1, 8, 32, CONCURRENT] {
				let rate = match c.mixed_decode {
					Some(rate) if batch == CONCURRENT => rate,
					_ => self.batch(batch, 0, true, self.room(o.decode_tokens))?.decode_rate(),
				};
				println!("decode, batch {batch:>2}, distinct adapters: {rate:.1} tok/s");
				c.decode.push((batch, rate));
			}
		}
		// 5. Single stream, base model, as llama.cpp runs it; 6. the bound.
		if o.has("single") {
			let single = self.room(o.single);
			let run = self.closed(vec![self.request(&self.single_prompt, None, single)])?;
			c.single_base = Some(run.decode_rate());
			c.single_tokens = single;
			println!(
				"single stream, base model, {} prompt tokens then {single} greedy tokens: decode {:.1} tok/s",
				self.single_prompt.len(),
				run.decode_rate()
			);
			let bound = bandwidth.read * 1e9 / c.step_bytes as f64;
			println!(
				"a single-stream decode step reads {:.1} MB of weights ({}): at {:.1} GB/s at most {bound:.0} tok/s; ours is {:.1}% of it",
				c.step_bytes as f64 / 1e6,
				c.step_bytes_what,
				bandwidth.read,
				run.decode_rate() / bound * 100.0
			);
		}
		// 4. Poisson arrivals at a fraction of the measured throughput, for about
		// `--poisson-seconds`.
		if let (true, Some(mixed)) = (o.has("poisson"), c.mixed) {
			let rate = o.load * mixed / tokens as f64;
			let count = ((rate * o.poisson_seconds) as usize).clamp(16, o.arrivals.max(16));
			let timings = self.open(rate, count, tokens)?;
			let mut ttft: Vec<f64> = timings
				.iter()
				.filter_map(|t| t.time_to_first_token)
				.map(|d| d.as_secs_f64() * 1e3)
				.collect();
			let mut tpot: Vec<f64> = timings
				.iter()
				.filter_map(|t| t.time_per_output_token)
				.map(|d| d.as_secs_f64() * 1e3)
				.collect();
			c.rate = Some(rate);
			c.arrivals = timings.len();
			c.ttft_ms = Some((percentile(&mut ttft, 50.0), percentile(&mut ttft, 99.0)));
			c.tpot_ms = Some((percentile(&mut tpot, 50.0), percentile(&mut tpot, 99.0)));
			println!(
				"Poisson arrivals at {rate:.2} requests/s ({:.0}% of the {CONCURRENT}-adapter throughput), {} requests x {tokens} tokens, adapters Zipf(s={ZIPF_S}) over {}: time to first token p50 {:.0} ms, p99 {:.0} ms; per output token p50 {:.1} ms, p99 {:.1} ms",
				o.load * 100.0,
				timings.len(),
				self.registry.len(),
				c.ttft_ms.unwrap_or_default().0,
				c.ttft_ms.unwrap_or_default().1,
				c.tpot_ms.unwrap_or_default().0,
				c.tpot_ms.unwrap_or_default().1,
			);
		}
		Ok(c)
	}

	/// Tokens a request may generate after the longest prompt within the model's context.
	fn room(&self, wanted: usize) -> usize {
		let longest = self.prompts.iter().chain([&self.single_prompt]).map(|p| p.len()).max();
		wanted
			.min(self.model.config().context.saturating_sub(longest.unwrap_or(0) + 1))
			.max(2)
	}

	/// After a warm-up of one use per registered adapter, `count` uses of keys that `draw`
	/// picks: the hit rate, and each load's milliseconds.
	fn stream(
		&self,
		count: usize,
		draw: impl Fn(&mut Rng) -> usize,
		rng: &mut Rng,
	) -> Result<(f64, Vec<f64>), Error> {
		let use_key = |key: Key| -> Result<bool, Error> {
			let s = &self.registry[key as usize];
			let misses = self.pool().stats().misses;
			self.pool()
				.get_or_load(&key, s.hash, s.config.clone(), || Ok(s.bytes.clone()))?;
			Ok(self.pool().stats().misses > misses)
		};
		for _ in 0..self.registry.len() {
			use_key(draw(rng) as Key)?;
		}
		let (mut hits, mut loads) = (0, Vec::new());
		for _ in 0..count {
			let key = draw(rng) as Key;
			let t = Instant::now();
			if use_key(key)? {
				loads.push(t.elapsed().as_secs_f64() * 1e3);
			} else {
				hits += 1;
			}
		}
		Ok((hits as f64 / count as f64, loads))
	}

	/// The baseline: for each of `requests` requests (distinct adapters), merge its adapter into
	/// the f32 weights ([`ServingModel::merged`]) and generate its tokens alone, one request after
	/// another. Parsing the adapter and allocating the cache are not counted.
	fn merged(&self, requests: usize, tokens: usize) -> Result<f64, Error> {
		let (mut merging, mut serving) = (0.0, 0.0);
		for i in 0..requests {
			let s = &self.registry[i];
			let adapter = Arc::new(Adapter::from_bytes(&self.dense, &s.bytes, s.config.clone())?);
			let set = AdapterSet::single(adapter);
			let t = Instant::now();
			let merged = self.dense.merged(&set)?;
			merging += t.elapsed().as_secs_f64();
			let prompt = &self.prompts[i % self.prompts.len()];
			let blocks = (prompt.len() + tokens).div_ceil(DEFAULT_BLOCK_SIZE) + 1;
			let mut engine = Engine::new(merged, KvCacheConfig::blocks(blocks))?;
			let request = Request {
				prompt: prompt.clone(),
				adapters: AdapterSet::base(),
				sampling: SamplingParams {
					ignore_stop_tokens: true,
					..SamplingParams::greedy(tokens)
				},
			};
			let t = Instant::now();
			engine.generate(&[request])?;
			serving += t.elapsed().as_secs_f64();
		}
		let rate = (requests * tokens) as f64 / (merging + serving);
		let extrapolated = if requests < CONCURRENT {
			format!(" (measured on {requests} of the {CONCURRENT} requests; the rate is the same for all)")
		} else {
			String::new()
		};
		println!(
			"merged per request (f32 weights), one after another: {rate:.1} tok/s; {:.1} ms merging and {:.1} ms serving each{extrapolated}",
			merging / requests as f64 * 1e3,
			serving / requests as f64 * 1e3,
		);
		Ok(rate)
	}

	/// `count` requests arriving as a seeded Poisson process of `rate` per second, adapters
	/// drawn Zipf over the registry; a loader thread loads what the scheduler wants while the
	/// main thread steps. Returns each finished request's timing.
	fn open(&self, rate: f64, count: usize, tokens: usize) -> Result<Vec<Timing>, Error> {
		let mut rng = Rng::new(99);
		let zipf = Zipf::new(self.registry.len(), ZIPF_S);
		let mut at = 0.0;
		let plan: Vec<(Duration, GenerationRequest<Key>)> = (0..count)
			.map(|i| {
				at += -(1.0 - rng.uniform()).ln() / rate;
				let key = zipf.draw(&mut rng) as Key;
				let prompt = &self.prompts[i % self.prompts.len()];
				(Duration::from_secs_f64(at), self.request(prompt, Some(key), tokens))
			})
			.collect();
		let mut scheduler = self.scheduler(CONCURRENT, tokens)?;
		let submitter = scheduler.submitter();
		let timings: Arc<Mutex<Vec<Timing>>> = Arc::default();
		let ended = Arc::new(AtomicUsize::new(0));
		let loading: Arc<Mutex<HashSet<Key>>> = Arc::default();
		let (to_loader, keys) = mpsc::channel::<Key>();
		std::thread::scope(|scope| -> Result<(), Error> {
			let loader_set = loading.clone();
			scope.spawn(move || {
				for key in keys {
					if let Err(e) = self.prefetch(key) {
						eprintln!("adapter {key}: {e}");
					}
					loader_set.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
				}
			});
			let (timings_in, ended_in) = (timings.clone(), ended.clone());
			scope.spawn(move || {
				let start = Instant::now();
				for (at, request) in plan {
					if let Some(wait) = at.checked_sub(start.elapsed()) {
						std::thread::sleep(wait);
					}
					let (timings, ended) = (timings_in.clone(), ended_in.clone());
					let sink = Box::new(move |e: Event| match e {
						Event::Finished { timing, .. } => {
							timings.lock().unwrap_or_else(|e| e.into_inner()).push(timing);
							ended.fetch_add(1, Ordering::Relaxed);
						},
						Event::Failed { error } => {
							eprintln!("request failed: {error}");
							ended.fetch_add(1, Ordering::Relaxed);
						},
						Event::Token { .. } => {},
					});
					if let Err(e) = submitter.submit(request, sink) {
						eprintln!("refused: {e}");
						ended_in.fetch_add(1, Ordering::Relaxed);
					}
				}
			});
			while ended.load(Ordering::Relaxed) < count {
				for key in scheduler.wanted(16) {
					// A key stays marked from here until the loader has tried it.
					if loading.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
						to_loader.send(key)?;
					}
				}
				if scheduler.step()?.rows.is_empty() {
					std::thread::sleep(Duration::from_micros(200));
				}
			}
			drop(to_loader);
			Ok(())
		})?;
		let timings = timings.lock().unwrap_or_else(|e| e.into_inner()).clone();
		Ok(timings)
	}
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
	if values.is_empty() {
		return f64::NAN;
	}
	values.sort_by(f64::total_cmp);
	let index = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
	values[index.min(values.len() - 1)]
}

// ---------------------------------------------------------------------------------------------
// The memory limit

/// The base projection's kernels on one SmolLM2-sized weight (`[1536, 576]`, an MLP projection):
/// microseconds per product of `rows` rows, f32 (gemm) against candle's quantized formats. Q4_1
/// is SmolLM2's GGUF format; which formats have SIMD dot products decides what batching buys.
fn kernels() -> Result<(), Error> {
	use candle_core::{
		quantized::{QMatMul, QTensor},
		Module, Tensor,
	};
	let mut rng = Rng::new(3);
	let mut normal = |rows: usize, cols: usize| -> Result<Tensor, Error> {
		let v: Vec<f32> = (0..rows * cols).map(|_| rng.normal(0.05) as f32).collect();
		Ok(Tensor::from_vec(v, (rows, cols), &Device::Cpu)?)
	};
	let w = normal(1536, 576)?;
	let inputs = [1, 8, 64].map(|rows| normal(rows, 576));
	let time = |f: &dyn Fn(&Tensor) -> Result<Tensor, Error>, x: &Tensor| -> Result<f64, Error> {
		f(x)?;
		let reps = 20;
		let t = Instant::now();
		for _ in 0..reps {
			f(x)?;
		}
		Ok(t.elapsed().as_secs_f64() / reps as f64 * 1e6)
	};
	let line = |name: &str, f: &dyn Fn(&Tensor) -> Result<Tensor, Error>| -> Result<(), Error> {
		let mut cells = Vec::new();
		for x in &inputs {
			let x = x.as_ref().map_err(|e| e.to_string())?;
			cells.push(format!("{} rows {:.0} us", x.dim(0)?, time(f, x)?));
		}
		println!("x Wᵀ, W [1536, 576] {name}: {}", cells.join(", "));
		Ok(())
	};
	let wt = w.t()?;
	line("f32 (gemm)", &|x| Ok(x.matmul(&wt)?))?;
	for dtype in [GgmlDType::Q4_1, GgmlDType::Q4_0, GgmlDType::Q8_0] {
		let q = QMatMul::from_qtensor(QTensor::quantize(&w, dtype)?)?;
		line(&format!("{dtype:?} (QMatMul)"), &|x| Ok(q.forward(x)?))?;
	}
	Ok(())
}

struct Bandwidth {
	/// GB/s of bytes read plus bytes written by a streaming copy.
	copy: f64,
	/// GB/s of bytes read by a streaming sum.
	read: f64,
}

/// Streams buffers of `mib` MiB on `threads` threads (each its own contiguous part), best of 5
/// after a warm-up that faults the pages in.
fn bandwidth(mib: usize, threads: usize) -> Bandwidth {
	let words = mib * (1 << 20) / 8;
	let src: Vec<u64> = (0..words as u64).collect();
	let mut dst = vec![0u64; words];
	let part = words.div_ceil(threads.max(1));
	let mut copy = f64::MAX;
	for _ in 0..6 {
		let t = Instant::now();
		std::thread::scope(|s| {
			for (d, from) in dst.chunks_mut(part).zip(src.chunks(part)) {
				s.spawn(move || d.copy_from_slice(from));
			}
		});
		copy = copy.min(t.elapsed().as_secs_f64());
	}
	let mut read = f64::MAX;
	for _ in 0..5 {
		let t = Instant::now();
		let sum: u64 = std::thread::scope(|s| {
			let handles: Vec<_> = src
				.chunks(part)
				.map(|from| s.spawn(move || from.iter().fold(0u64, |a, &x| a.wrapping_add(x))))
				.collect();
			handles.into_iter().map(|h| h.join().unwrap_or(0)).fold(0, u64::wrapping_add)
		});
		std::hint::black_box(sum);
		read = read.min(t.elapsed().as_secs_f64());
	}
	std::hint::black_box(&dst);
	let bytes = (words * 8) as f64;
	Bandwidth { copy: 2.0 * bytes / copy / 1e9, read: bytes / read / 1e9 }
}

/// The weight bytes a single-stream decode step of SmolLM2 reads, from the GGUF's tensors: every
/// projection as the engine stores it (the file's quantized blocks for [`Precision::Quantized`],
/// f32 otherwise), the output projection (the tied token embeddings in Q8_0, or f32), the norms
/// (f32 in both), and one f32 row of the embeddings. The KV cache and activations are not
/// counted.
fn gguf_step_bytes(path: &Path, precision: Precision) -> Result<(usize, String), Error> {
	let mut file = std::fs::File::open(path)?;
	let content = gguf_file::Content::read(&mut file)?;
	let stored = |name: &str| -> usize {
		let Some(info) = content.tensor_infos.get(name) else { return 0 };
		let elements = info.shape.elem_count();
		match precision {
			Precision::Quantized => {
				elements / info.ggml_dtype.block_size() * info.ggml_dtype.type_size()
			},
			Precision::Q8_0 => {
				elements / GgmlDType::Q8_0.block_size() * GgmlDType::Q8_0.type_size()
			},
			Precision::F32 => elements * 4,
		}
	};
	let f32_of = |name: &str| -> usize {
		content.tensor_infos.get(name).map(|i| i.shape.elem_count() * 4).unwrap_or(0)
	};
	let (mut projections, mut norms) = (0, 0);
	for name in content.tensor_infos.keys() {
		if !name.starts_with("blk.") {
			continue;
		}
		if name.ends_with("_norm.weight") {
			norms += f32_of(name);
		} else if name.ends_with(".weight") {
			projections += stored(name);
		}
	}
	norms += f32_of("output_norm.weight");
	let output = if content.tensor_infos.contains_key("output.weight") {
		stored("output.weight")
	} else {
		stored("token_embd.weight")
	};
	let embed = content.tensor_infos.get("token_embd.weight");
	let row = embed.map(|i| i.shape.dims().first().copied().unwrap_or(0) * 4).unwrap_or(0);
	let total = projections + output + norms + row;
	let what = format!(
		"projections {:.1} MB + output {:.1} MB + norms and an embedding row {:.3} MB",
		projections as f64 / 1e6,
		output as f64 / 1e6,
		(norms + row) as f64 / 1e6
	);
	Ok((total, what))
}

/// The same for tiny-byte-gpt (all f32): every weight but the two embedding tables, plus one
/// row of each.
fn tiny_step_bytes(model: &TinyByteGpt) -> (usize, String) {
	let (mut weights, mut rows) = (0, 0);
	for (name, var) in model.named() {
		let elements = var.as_tensor().elem_count();
		if name.starts_with("model.embed_") {
			rows += var.as_tensor().dims().last().copied().unwrap_or(0) * 4;
		} else {
			weights += elements * 4;
		}
	}
	let what = format!(
		"f32 weights {:.3} MB + a token and a position embedding row; fits in cache",
		weights as f64 / 1e6
	);
	(weights + rows, what)
}

// ---------------------------------------------------------------------------------------------
// The summary

fn summary(o: &Options, bandwidth: &Bandwidth, threads: usize, columns: &[Column]) {
	type Cell<'a> = &'a dyn Fn(&Column) -> Option<String>;
	let mut rows: Vec<(String, String)> = Vec::new();
	let mut row = |label: &str, f: Cell<'_>| {
		let cells: String = columns
			.iter()
			.map(|c| format!(" {} |", f(c).unwrap_or_else(|| "n/a".into())))
			.collect();
		rows.push((label.to_string(), cells));
	};
	let rate = |v: Option<f64>| v.map(|v| format!("{v:.1}"));
	let bound = |c: &Column| bandwidth.read * 1e9 / c.step_bytes as f64;
	let smollm2 = |c: &Column| c.name.starts_with("SmolLM2");
	row("Adapters registered (pool slots)", &|c| Some(format!("{} ({})", c.adapters, c.pool)));
	row("Bytes per adapter held, f32 (file)", &|c| {
		Some(format!("{} ({})", c.adapter_bytes, c.file_bytes))
	});
	row("Cold load p50 / p99 (hash, check, parse)", &|c| {
		c.load_ms.map(|(a, b)| format!("{a:.2} / {b:.2} ms"))
	});
	row(&format!("Pool hit rate, Zipf s={ZIPF_S} / uniform"), &|c| {
		c.hit_zipf
			.zip(c.hit_uniform)
			.map(|(z, u)| format!("{:.1}% / {:.1}%", z * 100.0, u * 100.0))
	});
	row(&format!("{CONCURRENT} requests on {CONCURRENT} adapters (tok/s)"), &|c| rate(c.mixed));
	row(&format!("{CONCURRENT} requests on one adapter (tok/s)"), &|c| rate(c.one));
	row("Merged per request, f32, one at a time (tok/s)", &|c| {
		let note = if c.merged_measured < CONCURRENT {
			format!(" (from {})", c.merged_measured)
		} else {
			String::new()
		};
		c.merged.map(|m| format!("{m:.1}{note}"))
	});
	row("Mixed / one adapter (goal ≥ 0.7)", &|c| {
		c.mixed.zip(c.one).map(|(m, one)| format!("{:.2}", m / one))
	});
	row("Mixed / merged (goal ≥ 30)", &|c| {
		c.mixed.zip(c.merged).map(|(m, merged)| format!("{:.1}", m / merged))
	});
	for batch in [1, 8, 32, CONCURRENT] {
		row(&format!("Decode, batch {batch}, distinct adapters (tok/s)"), &|c| {
			rate(c.decode.iter().find(|(b, _)| *b == batch).map(|(_, r)| *r))
		});
	}
	row("Poisson arrivals: requests/s (requests)", &|c| {
		c.rate.map(|r| format!("{r:.2} ({})", c.arrivals))
	});
	row("Time to first token p50 / p99", &|c| {
		c.ttft_ms.map(|(a, b)| format!("{a:.0} / {b:.0} ms"))
	});
	row("Time per output token p50 / p99", &|c| {
		c.tpot_ms.map(|(a, b)| format!("{a:.1} / {b:.1} ms"))
	});
	row("Single stream decode, base model (tok/s)", &|c| {
		let note = if c.single_tokens == o.single {
			String::new()
		} else {
			format!(" ({} tokens: the context)", c.single_tokens)
		};
		c.single_base.map(|r| format!("{r:.1}{note}"))
	});
	if let Some(peer) = o.llama_cpp {
		row("Single stream / llama.cpp (goal ≥ 0.5)", &|c| {
			c.single_base.filter(|_| smollm2(c)).map(|r| format!("{:.2}", r / peer))
		});
		row(&format!("{CONCURRENT} mixed / llama.cpp single stream"), &|c| {
			c.mixed.filter(|_| smollm2(c)).map(|r| format!("{:.2}", r / peer))
		});
	}
	row("Weight bytes read per decode step", &|c| {
		Some(format!("{:.2} MB", c.step_bytes as f64 / 1e6))
	});
	row("Bandwidth bound, single stream (tok/s)", &|c| {
		// Weights this small stay in the CPU's caches: memory does not bound them.
		let note = if c.step_bytes < 8 << 20 { " (in cache)" } else { "" };
		Some(format!("{:.0}{note}", bound(c)))
	});
	row("Single stream / bound", &|c| {
		c.single_base.map(|r| format!("{:.1}%", r / bound(c) * 100.0))
	});
	println!("\n## OpenLoRA serving benchmark\n");
	println!(
		"{threads} CPU threads; memory read {:.1} GB/s (streaming sum), copy {:.1} GB/s (read + written); llama.cpp (llama-cpp-python, same GGUF, {threads} threads, single stream, {} tokens): {}; {} output tokens per request; Zipf s={ZIPF_S} over the registered adapters.\n",
		bandwidth.read,
		bandwidth.copy,
		o.single,
		o.llama_cpp.map(|p| format!("{p:.1} tok/s")).unwrap_or_else(|| "not measured".into()),
		o.tokens,
	);
	let header: String = columns.iter().map(|c| format!(" {} |", c.name)).collect();
	let rule: String = columns.iter().map(|_| "---:|").collect();
	println!("| |{header}");
	println!("|---|{rule}");
	for (label, cells) in rows {
		println!("| {label} |{cells}");
	}
}
