//! The engine against its slow, obvious twins: merged weights for the adapter kernels, the
//! training forward pass without a cache for incremental decoding, a request alone for a request
//! inside a batch.

use super::{adapter::AdapterCache, *};
use crate::{
	llama::tests::{gguf_path, smollm2},
	lora::{Lora, LoraConfig},
	rng::Rng,
	tests::max_difference,
	tiny::{TinyByteGpt, TinyConfig},
	LanguageModel,
};
use candle_core::{DType, Device, Tensor};
use std::sync::{Arc, OnceLock};

pub(super) fn tiny() -> &'static TinyByteGpt {
	static MODEL: OnceLock<TinyByteGpt> = OnceLock::new();
	MODEL.get_or_init(|| {
		TinyByteGpt::init(TinyConfig::small(), 21, DType::F32, &Device::Cpu).unwrap()
	})
}

fn targets(names: &[&str]) -> Vec<String> {
	names.iter().map(|s| s.to_string()).collect()
}

fn normal(rng: &mut Rng, shape: (usize, usize), std: f64) -> Tensor {
	let values: Vec<f32> = (0..shape.0 * shape.1).map(|_| rng.normal(std) as f32).collect();
	Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
}

/// The bytes of a random PEFT `adapter_model.safetensors` for `model`, and its configuration.
pub(super) fn random_adapter_bytes(
	model: &ServingModel,
	rank: usize,
	alpha: f64,
	kinds: &[&str],
	seed: u64,
) -> (Vec<u8>, LoraConfig) {
	let mut rng = Rng::new(seed);
	let mut tensors = std::collections::HashMap::new();
	for index in 0..model.modules() {
		let (parent, name) = PROJECTIONS[index % 7];
		let Some((out, input)) = model.module_shape(index) else { continue };
		if !kinds.contains(&name) {
			continue;
		}
		let path = format!("model.layers.{}.{parent}.{name}", index / 7);
		let a = normal(&mut rng, (rank, input), 1.0 / (input as f64).sqrt());
		let b = normal(&mut rng, (out, rank), 0.5 / (rank as f64).sqrt());
		tensors.insert(format!("base_model.model.{path}.lora_A.weight"), a);
		tensors.insert(format!("base_model.model.{path}.lora_B.weight"), b);
	}
	let file = tempfile::NamedTempFile::new().unwrap();
	candle_core::safetensors::save(&tensors, file.path()).unwrap();
	let config = LoraConfig { rank, alpha, targets: targets(kinds) };
	(std::fs::read(file.path()).unwrap(), config)
}

fn random_adapter(
	model: &ServingModel,
	rank: usize,
	alpha: f64,
	kinds: &[&str],
	seed: u64,
) -> Arc<Adapter> {
	let (bytes, config) = random_adapter_bytes(model, rank, alpha, kinds, seed);
	Arc::new(Adapter::from_bytes(model, &bytes, config).unwrap())
}

pub(super) const ALL: [&str; 7] =
	["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

/// Adapter sets of mixed ranks (1 to 64), scales, targets, and two ensembles.
fn mixed_sets(model: &ServingModel) -> Vec<AdapterSet> {
	let a1 = random_adapter(model, 1, 4.0, &["q_proj", "v_proj"], 1);
	let a3 = random_adapter(model, 3, 3.0, &ALL, 2);
	let a8 = random_adapter(model, 8, 32.0, &["up_proj", "down_proj"], 3);
	let a64 = random_adapter(model, 64, 16.0, &["q_proj", "k_proj", "o_proj"], 4);
	let a16 = random_adapter(model, 16, 16.0, &["v_proj", "gate_proj", "down_proj"], 5);
	vec![
		AdapterSet::base(),
		AdapterSet::single(a1.clone()),
		AdapterSet::single(a3.clone()),
		AdapterSet::single(a8.clone()),
		AdapterSet::single(a64.clone()),
		AdapterSet::single(a16.clone()),
		AdapterSet::ensemble(vec![(a1.clone(), 0.5), (a3.clone(), -1.25), (a64, 2.0)]).unwrap(),
		AdapterSet::ensemble(vec![(a8, 1.0), (a3, 0.3), (a16, 0.7)]).unwrap(),
	]
}

pub(super) fn bytes(text: &[u8]) -> Vec<u32> {
	text.iter().map(|&b| u32::from(b)).collect()
}

#[test]
fn engine_batched_adapter_kernels_match_merged_weights() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sets = mixed_sets(&model);
	// Rows: each set decoding one token, then prefill rows of several tokens with adapters.
	let mut rows: Vec<(&AdapterSet, usize, usize)> = Vec::new();
	let mut first = 0;
	for set in &sets {
		rows.push((set, first, 1));
		first += 1;
	}
	for (set, count) in [(&sets[2], 5), (&sets[6], 7), (&sets[0], 3), (&sets[7], 4), (&sets[4], 2)]
	{
		rows.push((set, first, count));
		first += count;
	}
	// Two decode rows of one set in the same step.
	rows.push((&sets[6], first, 1));
	rows.push((&sets[1], first + 1, 1));
	let tokens = first + 2;
	let plan = AdapterCache::default().plan(&model, &rows).unwrap();
	let mut rng = Rng::new(9);
	let mut worst = 0f64;
	for index in 0..model.modules() {
		let Some(w) = model.dense_weight(index) else { continue };
		let (_, input) = w.dims2().unwrap();
		let h = normal(&mut rng, (tokens, input), 1.0);
		let got = plan.apply(index, &h, h.matmul(&w.t().unwrap()).unwrap()).unwrap();
		for &(set, first, count) in &rows {
			// W + Σ_i w_i (alpha_i / r_i) B_i A_i, the slow obvious way.
			let mut merged = w.to_dtype(DType::F64).unwrap();
			for (adapter, weight) in set.members() {
				if let Some((a, b)) = adapter.matrices(index) {
					let (a, b) = (a.to_dtype(DType::F64).unwrap(), b.to_dtype(DType::F64).unwrap());
					let update =
						(b.matmul(&a).unwrap() * (f64::from(*weight) * adapter.scale())).unwrap();
					merged = (merged + update).unwrap();
				}
			}
			let x = h.narrow(0, first, count).unwrap().to_dtype(DType::F64).unwrap();
			let expected = x.matmul(&merged.t().unwrap()).unwrap();
			let row = got.narrow(0, first, count).unwrap().to_dtype(DType::F64).unwrap();
			worst = worst.max(max_difference(&row, &expected));
		}
	}
	println!("batched adapter kernels vs merged weights: max abs error {worst:.3e}");
	assert!(worst < 1e-4, "{worst}");
}

#[test]
fn engine_mixed_step_matches_each_rows_merged_model() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sets = mixed_sets(&model);
	let prompts: Vec<Vec<u32>> = (0..sets.len())
		.map(|i| bytes(format!("row {i}: adapters {}", "x".repeat(i)).as_bytes()))
		.collect();
	let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(64)).unwrap();
	let ids: Vec<_> = sets.iter().map(|_| engine.create_sequence()).collect();
	let rows: Vec<Row<'_>> = (0..sets.len())
		.map(|i| Row { sequence: ids[i], tokens: &prompts[i], start: 0, adapters: &sets[i] })
		.collect();
	engine.step(&rows).unwrap();
	let next: Vec<Vec<u32>> = (0..sets.len()).map(|i| vec![b'a' as u32 + i as u32]).collect();
	let rows: Vec<Row<'_>> = (0..sets.len())
		.map(|i| Row {
			sequence: ids[i],
			tokens: &next[i],
			start: prompts[i].len(),
			adapters: &sets[i],
		})
		.collect();
	let logits = engine.step(&rows).unwrap();
	let mut worst = 0f64;
	for (i, set) in sets.iter().enumerate() {
		let mut alone = Engine::new(model.merged(set).unwrap(), KvCacheConfig::blocks(8)).unwrap();
		let mut sequence = prompts[i].clone();
		sequence.extend(&next[i]);
		let request = Request {
			prompt: sequence,
			adapters: AdapterSet::base(),
			sampling: SamplingParams::greedy(1),
		};
		let id = alone.create_sequence();
		let reference = alone
			.step(&[Row {
				sequence: id,
				tokens: &request.prompt,
				start: 0,
				adapters: &request.adapters,
			}])
			.unwrap();
		worst = worst.max(max_difference(&logits.get(i).unwrap(), &reference.get(0).unwrap()));
	}
	println!("mixed step vs merged models: max abs logit error {worst:.3e}");
	assert!(worst < 1e-4, "{worst}");
}

/// Prefill of `prompt`, then one token per step, each step's logits against the training
/// forward pass over the whole sequence; returns the largest difference.
fn incremental_against_full<M: LanguageModel>(
	engine: &mut Engine,
	reference: &M,
	lora: Option<&Lora>,
	adapters: &AdapterSet,
	prompt: &[u32],
	steps: usize,
) -> f64 {
	let id = engine.create_sequence();
	let mut sequence = prompt.to_vec();
	let mut worst = 0f64;
	let mut new = prompt.to_vec();
	let mut start = 0;
	for _ in 0..=steps {
		let logits = engine.step(&[Row { sequence: id, tokens: &new, start, adapters }]).unwrap();
		let input = Tensor::from_vec(sequence.clone(), (1, sequence.len()), &Device::Cpu).unwrap();
		let full = reference.forward(&input, lora).unwrap();
		let last = full.get(0).unwrap().get(sequence.len() - 1).unwrap();
		let got = logits.get(0).unwrap();
		worst = worst.max(max_difference(&got, &last));
		let token = got.argmax(0).unwrap().to_scalar::<u32>().unwrap();
		start = sequence.len();
		sequence.push(token);
		new = vec![token];
	}
	engine.free_sequence(id).unwrap();
	worst
}

/// A tiny-byte-gpt adapter whose `B` is not zero, so that it changes the logits.
fn trained_looking_lora<M: LanguageModel>(
	model: &M,
	rank: usize,
	kinds: &[&str],
	seed: u64,
) -> Lora {
	let lora = Lora::new(
		model,
		LoraConfig { rank, alpha: 2.0 * rank as f64, targets: targets(kinds) },
		seed,
	)
	.unwrap();
	let mut rng = Rng::new(seed + 100);
	for var in lora.vars() {
		let (rows, cols) = var.as_tensor().dims2().unwrap();
		if cols == rank {
			var.set(&normal(&mut rng, (rows, cols), 0.05)).unwrap();
		}
	}
	lora
}

#[test]
fn engine_incremental_decoding_matches_the_full_forward_pass_tiny() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(32)).unwrap();
	let prompt = bytes(b"incremental decoding with a paged cache");
	let base =
		incremental_against_full(&mut engine, tiny(), None, &AdapterSet::base(), &prompt, 40);
	let lora = trained_looking_lora(
		tiny(),
		4,
		&["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
		3,
	);
	let adapter = AdapterSet::single(Arc::new(Adapter::from_lora(&model, &lora).unwrap()));
	let adapted = incremental_against_full(&mut engine, tiny(), Some(&lora), &adapter, &prompt, 40);
	println!(
		"tiny-byte-gpt, paged incremental vs full forward: base {base:.3e}, adapter {adapted:.3e}"
	);
	assert!(base < 1e-4 && adapted < 1e-4, "{base} {adapted}");
	assert_eq!(engine.cache().used_blocks(), 0);
}

#[test]
fn engine_incremental_decoding_matches_the_full_forward_pass_smollm2() {
	let llama = smollm2();
	let model = ServingModel::from_llama(llama).unwrap();
	let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(16)).unwrap();
	let prompt = llama.encode(b"The paged KV cache of the OpenLedger engine holds").unwrap();
	let base = incremental_against_full(&mut engine, llama, None, &AdapterSet::base(), &prompt, 6);
	let lora = trained_looking_lora(
		llama,
		8,
		&["q_proj", "k_proj", "v_proj", "gate_proj", "down_proj"],
		5,
	);
	let adapter = AdapterSet::single(Arc::new(Adapter::from_lora(&model, &lora).unwrap()));
	let adapted = incremental_against_full(&mut engine, llama, Some(&lora), &adapter, &prompt, 6);
	println!("SmolLM2, paged incremental vs full forward: base {base:.3e}, adapter {adapted:.3e}");
	assert!(base < 1e-4 && adapted < 1e-4, "{base} {adapted}");
}

/// `target` generated alone, then inside a batch with `others`: the same tokens and
/// log-probabilities, to the bit.
fn alone_equals_batched(model: &ServingModel, target: Request, others: Vec<Request>) -> Vec<u32> {
	let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(512)).unwrap();
	let alone = engine.generate(std::slice::from_ref(&target)).unwrap().remove(0);
	let mut batch = others;
	let middle = batch.len() / 2;
	batch.insert(middle, target);
	let together = engine.generate(&batch).unwrap().remove(middle);
	assert_eq!(alone.tokens, together.tokens);
	assert_eq!(
		alone.logprobs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
		together.logprobs.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
	);
	assert_eq!(engine.cache().used_blocks(), 0);
	alone.tokens
}

#[test]
fn engine_greedy_tokens_alone_equal_those_in_a_mixed_batch_tiny() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let sets = mixed_sets(&model);
	let target = Request {
		prompt: bytes(b"the request under test"),
		adapters: sets[6].clone(),
		sampling: SamplingParams::greedy(40),
	};
	// 20 other rows over other adapters (and none), prompts of other lengths, some with seeded
	// sampling, so that rows finish at different steps.
	let mut others = Vec::new();
	for i in 0..20 {
		let mut sampling = SamplingParams::greedy(10 + 3 * i);
		if i % 3 == 0 {
			sampling = SamplingParams { temperature: 0.9, top_p: 0.8, seed: i as u64, ..sampling };
		}
		let extra = random_adapter(&model, 1 + i % 9, 8.0, &ALL[(i % 4)..], 40 + i as u64);
		let adapters = match i % 4 {
			0 => sets[i % sets.len()].clone(),
			1 => AdapterSet::single(extra),
			2 => AdapterSet::ensemble(vec![
				(extra, 0.6),
				(random_adapter(&model, 2, 2.0, &ALL, 90 + i as u64), 0.4),
			])
			.unwrap(),
			_ => AdapterSet::base(),
		};
		others.push(Request {
			prompt: bytes(format!("other row {i} {}", "y".repeat(i * 2)).as_bytes()),
			adapters,
			sampling,
		});
	}
	let tokens = alone_equals_batched(&model, target, others);
	assert_eq!(tokens.len(), 40);
}

#[test]
fn engine_greedy_tokens_alone_equal_those_in_a_mixed_batch_smollm2() {
	let llama = smollm2();
	let model = ServingModel::from_llama(llama).unwrap();
	let adapter = |rank, seed| {
		random_adapter(&model, rank, 2.0 * rank as f64, &["q_proj", "v_proj", "down_proj"], seed)
	};
	let (a, b, c) = (adapter(8, 1), adapter(3, 2), adapter(16, 3));
	let target = Request {
		prompt: llama.encode(b"The capital of France is").unwrap(),
		adapters: AdapterSet::single(b.clone()),
		sampling: SamplingParams::greedy(6),
	};
	let others = vec![
		Request {
			prompt: llama.encode(b"Data contributors are paid").unwrap(),
			adapters: AdapterSet::single(a.clone()),
			sampling: SamplingParams::greedy(4),
		},
		Request {
			prompt: llama.encode(b"One two three").unwrap(),
			adapters: AdapterSet::base(),
			sampling: SamplingParams::greedy(8),
		},
		Request {
			prompt: llama.encode(b"An ensemble of adapters").unwrap(),
			adapters: AdapterSet::ensemble(vec![(a, 0.5), (c.clone(), 0.5)]).unwrap(),
			sampling: SamplingParams::greedy(5),
		},
		Request {
			prompt: llama.encode(b"Hello").unwrap(),
			adapters: AdapterSet::single(c),
			sampling: SamplingParams::greedy(7),
		},
	];
	alone_equals_batched(&model, target, others);
}

#[test]
fn engine_pool_returns_blocks_and_refuses_beyond_capacity() {
	let config = KvCacheConfig { block_size: 4, capacity_blocks: 5 };
	let mut cache = PagedKvCache::new(2, 8, config, &Device::Cpu).unwrap();
	let (a, b) = (cache.create(), cache.create());
	assert_eq!(cache.blocks(a).unwrap().len(), 0, "no block before the first position");
	cache.prepare(&[(a, 0, 10)]).unwrap();
	assert_eq!((cache.blocks(a).unwrap().len(), cache.free_blocks()), (3, 2));
	// 9 positions need 3 blocks: refused, and nothing changes.
	let err = cache.prepare(&[(b, 0, 9)]).unwrap_err();
	assert!(matches!(err, MlError::CacheFull { needed: 3, free: 2 }), "{err}");
	assert_eq!((cache.len(b), cache.free_blocks()), (Some(0), 2));
	// Both rows of one step, all or nothing.
	assert!(cache.prepare(&[(a, 10, 2), (b, 0, 9)]).is_err());
	assert_eq!(cache.len(a), Some(10));
	cache.prepare(&[(a, 10, 2), (b, 0, 4)]).unwrap();
	assert_eq!(cache.free_blocks(), 1);
	// Rewriting from position 4 gives back the blocks after it.
	cache.prepare(&[(a, 4, 1)]).unwrap();
	assert_eq!((cache.blocks(a).unwrap().len(), cache.free_blocks()), (2, 2));
	cache.free(a).unwrap();
	cache.free(b).unwrap();
	assert_eq!((cache.free_blocks(), cache.used_blocks(), cache.sequences()), (5, 0, 0));
	assert!(cache.free(a).is_err());

	// Through the engine: a full pool refuses the step, and the engine goes on.
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let mut engine =
		Engine::new(model, KvCacheConfig { block_size: 4, capacity_blocks: 3 }).unwrap();
	let base = AdapterSet::base();
	let s = engine.create_sequence();
	let long = bytes(b"thirteen byte");
	let err = engine
		.step(&[Row { sequence: s, tokens: &long, start: 0, adapters: &base }])
		.unwrap_err();
	assert!(matches!(err, MlError::CacheFull { .. }), "{err}");
	assert_eq!(engine.cache().len(s), Some(0));
	let short = bytes(b"twelve bytes");
	engine
		.step(&[Row { sequence: s, tokens: &short, start: 0, adapters: &base }])
		.unwrap();
	assert_eq!(engine.cache().free_blocks(), 0);
	engine.free_sequence(s).unwrap();
	assert_eq!(engine.cache().free_blocks(), 3);
}

#[test]
fn engine_a_long_sequence_spans_many_blocks_and_matches_the_full_forward() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let mut engine =
		Engine::new(model, KvCacheConfig { block_size: 4, capacity_blocks: 80 }).unwrap();
	let base = AdapterSet::base();
	// Two sequences grow in turns, so that each one's blocks are scattered over the pool.
	let (a, b) = (engine.create_sequence(), engine.create_sequence());
	let text: Vec<u32> = bytes(&b"a long sequence over many blocks of the pool. ".repeat(3)[..128]);
	let other: Vec<u32> = text.iter().rev().copied().collect();
	let mut logits = None;
	for chunk in 0..16 {
		let range = chunk * 8..chunk * 8 + 8;
		let rows = [
			Row { sequence: a, tokens: &text[range.clone()], start: range.start, adapters: &base },
			Row { sequence: b, tokens: &other[range.clone()], start: range.start, adapters: &base },
		];
		logits = Some(engine.step(&rows).unwrap());
	}
	let blocks = engine.cache().blocks(a).unwrap().to_vec();
	assert_eq!(blocks.len(), 32);
	assert!(blocks.windows(2).any(|w| w[1] != w[0] + 1), "{blocks:?}");
	let full = tiny()
		.forward(&Tensor::from_vec(text.clone(), (1, 128), &Device::Cpu).unwrap(), None)
		.unwrap();
	let difference =
		max_difference(&logits.unwrap().get(0).unwrap(), &full.get(0).unwrap().get(127).unwrap());
	println!("128 positions over 32 blocks vs full forward: {difference:.3e}");
	assert!(difference < 1e-4, "{difference}");
	// Past the context is refused.
	let one = [1u32];
	assert!(engine
		.step(&[Row { sequence: a, tokens: &one, start: 128, adapters: &base }])
		.is_err());
}

#[test]
fn engine_sampling_is_seeded_greedy_at_zero_and_reports_log_softmax() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let mut engine = Engine::new(model, KvCacheConfig::blocks(32)).unwrap();
	let request =
		|sampling| Request { prompt: bytes(b"sample me"), adapters: AdapterSet::base(), sampling };
	let hot = SamplingParams {
		temperature: 1.0,
		top_p: 0.95,
		seed: 7,
		max_tokens: 24,
		ignore_stop_tokens: false,
	};
	let first = engine.generate(&[request(hot.clone())]).unwrap().remove(0);
	let again = engine.generate(&[request(hot.clone())]).unwrap().remove(0);
	assert_eq!(first, again);
	let other = engine
		.generate(&[request(SamplingParams { seed: 8, ..hot.clone() })])
		.unwrap()
		.remove(0);
	assert_ne!(first.tokens, other.tokens);
	let greedy = engine.generate(&[request(SamplingParams::greedy(24))]).unwrap().remove(0);
	assert_ne!(first.tokens, greedy.tokens, "an untrained model's samples are not its argmax");
	for params in [
		SamplingParams { temperature: 0.0, ..hot.clone() },
		SamplingParams { top_p: 0.0, ..hot.clone() },
	] {
		assert_eq!(engine.generate(&[request(params)]).unwrap().remove(0).tokens, greedy.tokens);
	}
	// A tiny nucleus holds only the most likely token: greedy again.
	let narrow = SamplingParams { top_p: 1e-6, ..hot };
	assert_eq!(engine.generate(&[request(narrow)]).unwrap().remove(0).tokens, greedy.tokens);

	// Log-probabilities are the log-softmax of the logits, at most 0.
	let s = engine.create_sequence();
	let base = AdapterSet::base();
	let prompt = bytes(b"sample me");
	let logits = engine
		.step(&[Row { sequence: s, tokens: &prompt, start: 0, adapters: &base }])
		.unwrap();
	let expected = candle_nn::ops::log_softmax(&logits, 1)
		.unwrap()
		.get(0)
		.unwrap()
		.to_vec1::<f32>()
		.unwrap();
	let row = logits.get(0).unwrap().to_vec1::<f32>().unwrap();
	let mut sampler =
		Sampler::new(SamplingParams { temperature: 0.7, seed: 3, ..SamplingParams::default() })
			.unwrap();
	for _ in 0..20 {
		let sampled = sampler.sample(&row).unwrap();
		assert!(sampled.logprob <= 0.0);
		assert!((sampled.logprob - expected[sampled.token as usize]).abs() < 1e-5);
	}
	let ours = sampling::log_softmax(&row);
	let worst = ours.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
	assert!(worst < 1e-5, "{worst}");
	assert_eq!(greedy.logprobs[0], expected[greedy.tokens[0] as usize]);
	assert!(greedy.logprobs.iter().all(|&l| l <= 0.0));
	assert!(Sampler::new(SamplingParams { top_p: 1.5, ..SamplingParams::default() }).is_err());
}

#[test]
fn engine_stops_at_stop_tokens_and_helps_with_stop_sequences() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(32)).unwrap();
	let request = Request {
		prompt: bytes(b"stop"),
		adapters: AdapterSet::base(),
		sampling: SamplingParams::greedy(12),
	};
	let free = engine.generate(std::slice::from_ref(&request)).unwrap().remove(0);
	assert_eq!((free.tokens.len(), free.finish), (12, FinishReason::Length));
	// Stop at the fourth token greedy decoding gives.
	let stop = free.tokens[3];
	let first = free.tokens.iter().position(|&t| t == stop).unwrap();
	let mut engine =
		Engine::new(model.with_stop_tokens(vec![stop]), KvCacheConfig::blocks(32)).unwrap();
	let stopped = engine.generate(std::slice::from_ref(&request)).unwrap().remove(0);
	assert_eq!(stopped.tokens, free.tokens[..first]);
	assert_eq!(stopped.finish, FinishReason::Stop);
	let ignoring = Request {
		sampling: SamplingParams { ignore_stop_tokens: true, ..request.sampling.clone() },
		..request
	};
	assert_eq!(engine.generate(&[ignoring]).unwrap().remove(0).tokens, free.tokens);

	assert_eq!(sampling::find_stop("hello world\nUser:", &["\nUser:", "world"]), Some(6));
	assert_eq!(sampling::find_stop("hello", &["bye", ""]), None);
	assert_eq!(sampling::held_back("the answer\nUs", &["\nUser:"]), 3);
	assert_eq!(sampling::held_back("the answer", &["\nUser:"]), 0);
}

#[test]
fn engine_adapters_are_checked_against_the_model() {
	let model = ServingModel::from_tiny(tiny()).unwrap();
	let (bytes_ok, config) = random_adapter_bytes(&model, 4, 8.0, &["q_proj", "v_proj"], 1);
	let adapter = Adapter::from_bytes(&model, &bytes_ok, config.clone()).unwrap();
	assert_eq!(adapter.adapted(), 2 * 2);
	let peft = config.peft_json("tiny-byte-gpt").unwrap();
	assert_eq!(Adapter::from_peft(&model, &bytes_ok, &peft).unwrap().adapted(), 4);
	let refused = |bytes: &[u8], config: LoraConfig, needle: &str| {
		let err = Adapter::from_bytes(&model, bytes, config).unwrap_err().to_string();
		assert!(err.contains(needle), "{err:?} does not say {needle:?}");
	};
	// The rank the file has is not the configuration's.
	refused(&bytes_ok, LoraConfig { rank: 8, ..config.clone() }, "needs [8, 64]");
	// A module the configuration does not target.
	refused(
		&bytes_ok,
		LoraConfig { targets: targets(&["q_proj"]), ..config.clone() },
		"not among the targets",
	);
	refused(
		&bytes_ok,
		LoraConfig { targets: targets(&["gate"]), ..config.clone() },
		"not a LoRA target",
	);
	refused(b"not safetensors", config.clone(), "adapter_model.safetensors");
	// tiny-byte-gpt has no gate_proj.
	let mut tensors = std::collections::HashMap::new();
	let mut rng = Rng::new(1);
	tensors.insert(
		"base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight".to_string(),
		normal(&mut rng, (4, 64), 0.1),
	);
	tensors.insert(
		"base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight".to_string(),
		normal(&mut rng, (192, 4), 0.1),
	);
	let save = |tensors: &std::collections::HashMap<String, Tensor>| {
		let file = tempfile::NamedTempFile::new().unwrap();
		candle_core::safetensors::save(tensors, file.path()).unwrap();
		std::fs::read(file.path()).unwrap()
	};
	refused(
		&save(&tensors),
		LoraConfig { targets: targets(&["gate_proj"]), ..config.clone() },
		"not a projection",
	);
	// A layer the model does not have, an unpaired matrix, a rank above the limit.
	let mut layer9 = std::collections::HashMap::new();
	layer9.insert(
		"base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight".to_string(),
		normal(&mut rng, (4, 64), 0.1),
	);
	layer9.insert(
		"base_model.model.model.layers.9.self_attn.q_proj.lora_B.weight".to_string(),
		normal(&mut rng, (64, 4), 0.1),
	);
	refused(&save(&layer9), config.clone(), "not a projection");
	let mut unpaired = std::collections::HashMap::new();
	unpaired.insert(
		"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".to_string(),
		normal(&mut rng, (4, 64), 0.1),
	);
	refused(&save(&unpaired), config.clone(), "only one of");
	let (big, big_config) = random_adapter_bytes(&model, 65, 8.0, &["q_proj"], 2);
	refused(&big, big_config, "up to 64");
	let mut nan = std::collections::HashMap::new();
	nan.insert(
		"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".to_string(),
		normal(&mut rng, (4, 64), 0.1),
	);
	nan.insert(
		"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight".to_string(),
		Tensor::full(f32::NAN, (64, 4), &Device::Cpu).unwrap(),
	);
	refused(&save(&nan), config.clone(), "not finite");
	// An adapter of another model is refused when it runs.
	let other = ServingModel::from_tiny(
		&TinyByteGpt::init(
			TinyConfig { n_layers: 3, ..TinyConfig::small() },
			0,
			DType::F32,
			&Device::Cpu,
		)
		.unwrap(),
	)
	.unwrap();
	let foreign = AdapterSet::single(random_adapter(&other, 2, 2.0, &["q_proj"], 3));
	let mut engine = Engine::new(model, KvCacheConfig::blocks(4)).unwrap();
	let s = engine.create_sequence();
	let prompt = bytes(b"x");
	assert!(engine
		.step(&[Row { sequence: s, tokens: &prompt, start: 0, adapters: &foreign }])
		.is_err());
	assert_eq!(engine.cache().len(s), Some(0));
}

#[test]
fn engine_a_rows_f32_product_does_not_depend_on_its_neighbours() {
	// Rule 1 of the module documentation: a row's result is the same bits for any multiple of
	// ROW_TILE rows and any position, for the shapes the served models use.
	let mut rng = Rng::new(4);
	for (k, n) in [
		(64, 64),
		(64, 192),
		(192, 64),
		(64, 256),
		(576, 576),
		(576, 192),
		(576, 1536),
		(1536, 576),
	] {
		let w = normal(&mut rng, (n, k), 1.0);
		let rows = normal(&mut rng, (200, k), 1.0);
		let product = |m: usize, at: usize| -> Vec<f32> {
			// Row 0 of `rows` placed at position `at` among `m`.
			let others = rows.narrow(0, 1, m - 1).unwrap();
			let x = Tensor::cat(
				&[
					&others.narrow(0, 0, at).unwrap(),
					&rows.narrow(0, 0, 1).unwrap(),
					&others.narrow(0, at, m - 1 - at).unwrap(),
				],
				0,
			)
			.unwrap();
			x.matmul(&w.t().unwrap()).unwrap().get(at).unwrap().to_vec1().unwrap()
		};
		let reference = product(ROW_TILE, 0);
		for m in (1..=24).map(|i| i * ROW_TILE) {
			for at in [0, m / 2, m - 1] {
				assert_eq!(product(m, at), reference, "k={k} n={n} m={m} at={at}");
			}
		}
		let single = rows
			.narrow(0, 0, 1)
			.unwrap()
			.matmul(&w.t().unwrap())
			.unwrap()
			.get(0)
			.unwrap()
			.to_vec1::<f32>()
			.unwrap();
		println!(
			"k={k} n={n}: one row alone (matrix-vector kernel) {} the tiled result",
			if single == reference { "equals" } else { "differs from" }
		);
	}
}

#[test]
fn engine_serves_a_fully_trained_tiny_model_as_its_own_base() {
	let device = Device::Cpu;
	let model = TinyByteGpt::init(TinyConfig::small(), 5, DType::F32, &device).unwrap();
	let corpus: Vec<Vec<u8>> = (0..40)
		.map(|i| format!("record {i}: the quick brown fox jumps over the lazy dog.").into_bytes())
		.collect();
	let config = crate::train::TrainConfig { steps: 80, seed: 6, ..Default::default() };
	crate::train::train(&model, None, &corpus, &config).unwrap();
	let dir = tempfile::tempdir().unwrap();
	model.save(&dir.path().join("model.safetensors")).unwrap();
	let loaded =
		TinyByteGpt::load(TinyConfig::small(), &dir.path().join("model.safetensors"), &device)
			.unwrap();
	let served = ServingModel::from_tiny(&loaded)
		.unwrap()
		.with_stop_tokens(vec![u32::from(b'.')]);
	let mut engine = Engine::new(served, KvCacheConfig::blocks(16)).unwrap();
	let request = Request {
		prompt: bytes(b"record 17: the quick"),
		adapters: AdapterSet::base(),
		sampling: SamplingParams::greedy(60),
	};
	let completion = engine.generate(&[request]).unwrap().remove(0);
	let text: Vec<u8> = completion.tokens.iter().map(|&t| t as u8).collect();
	assert_eq!(text, model.generate(b"record 17: the quick", text.len(), None).unwrap());
	assert!(text.starts_with(b" brown fox"), "{:?}", String::from_utf8_lossy(&text));
	assert_eq!(completion.finish, FinishReason::Stop);
}

#[test]
fn engine_quantized_bases_give_nearly_the_f32_logits() {
	let llama = smollm2();
	let dense = ServingModel::from_llama(llama).unwrap();
	for precision in [Precision::Quantized, Precision::Q8_0] {
		let quantized = ServingModel::load_gguf(&gguf_path(), precision, &Device::Cpu).unwrap();
		assert_eq!(quantized.stop_tokens(), dense.stop_tokens());
		assert_eq!(quantized.stop_tokens()[0], 2, "<|im_end|>");
		let adapter =
			random_adapter(&dense, 8, 16.0, &["q_proj", "k_proj", "v_proj", "up_proj"], 7);
		let (bytes, config) =
			random_adapter_bytes(&dense, 8, 16.0, &["q_proj", "k_proj", "v_proj", "up_proj"], 7);
		let adapter_q = Arc::new(Adapter::from_bytes(&quantized, &bytes, config).unwrap());
		let prompt = llama.encode(b"The capital of France is").unwrap();
		let logits = |model: &ServingModel, set: &AdapterSet| {
			let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(8)).unwrap();
			let s = engine.create_sequence();
			engine
				.step(&[Row { sequence: s, tokens: &prompt, start: 0, adapters: set }])
				.unwrap()
		};
		let base = max_difference(
			&logits(&dense, &AdapterSet::base()),
			&logits(&quantized, &AdapterSet::base()),
		);
		let adapted = max_difference(
			&logits(&dense, &AdapterSet::single(adapter)),
			&logits(&quantized, &AdapterSet::single(adapter_q)),
		);
		let scale = logits(&dense, &AdapterSet::base())
			.abs()
			.unwrap()
			.max_all()
			.unwrap()
			.to_scalar::<f32>()
			.unwrap();
		println!(
		"{precision:?} vs f32 logits: base {base:.3}, adapter {adapted:.3} (logits up to {scale:.1})"
	);
		// Only the activations are rounded (to 8 bits per block of 32) in the quantized kernel.
		assert!(base < 2.0 && adapted < 2.0, "{base} {adapted}");
		let mut engine = Engine::new(quantized, KvCacheConfig::blocks(32)).unwrap();
		let request =
			Request { prompt, adapters: AdapterSet::base(), sampling: SamplingParams::greedy(3) };
		let tokens = engine.generate(std::slice::from_ref(&request)).unwrap().remove(0).tokens;
		let text = llama.decode(&tokens).unwrap();
		assert!(text.contains("Paris"), "{text:?}");
		// Each row's quantized products are its own: the same tokens inside a batch of others.
		let others: Vec<Request> = ["Once upon a time", "1, 2, 3,", "def main():"]
			.iter()
			.map(|p| Request {
				prompt: llama.encode(p.as_bytes()).unwrap(),
				adapters: AdapterSet::base(),
				sampling: SamplingParams::greedy(3),
			})
			.collect();
		let batch: Vec<Request> = others.into_iter().chain([request]).collect();
		assert_eq!(engine.generate(&batch).unwrap().remove(3).tokens, tokens, "{precision:?}");
	}
}
