//! Measures the serving engine on the CPU: decode tokens/s of tiny-byte-gpt and SmolLM2 at
//! batches of 1, 8, 32 and 64 rows, all on one adapter or on distinct adapters; SmolLM2 with f32
//! against quantized (`QMatMul`) base weights, with the largest logit difference; and, for
//! comparison, merging each request's adapter into the weights before serving it alone.
//!
//!   cargo run --release -p openledger-ml --example bench_engine [-- STEPS]
//!
//! SmolLM2 is read from the model cache (`scripts/fetch-models.sh`); without it only
//! tiny-byte-gpt is measured.

use candle_core::{Device, Tensor};
use openledger_ml::{
	engine::{
		Adapter, AdapterSet, Engine, KvCacheConfig, Precision, Row, ServingModel, PROJECTIONS,
	},
	llama::{model_cache, Llama, SMOLLM2_FILE},
	lora::LoraConfig,
	rng::Rng,
	tiny::TinyByteGpt,
	LanguageModel,
};
use std::{sync::Arc, time::Instant};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
	let steps: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(8);
	println!("CPU threads: {}", candle_core::utils::get_num_threads());
	padding_cost()?;
	let tiny = ServingModel::from_tiny(&TinyByteGpt::base(&Device::Cpu)?)?;
	let prompt: Vec<u32> = b"tiny-byte-gpt serves adapters".iter().map(|&b| u32::from(b)).collect();
	decode_table("tiny-byte-gpt", &tiny, &prompt, 4, steps * 4)?;
	merged_per_request("tiny-byte-gpt", &tiny, &prompt, 4, 8, steps * 4)?;

	let path = model_cache().join(SMOLLM2_FILE);
	if !path.exists() {
		println!("{} is missing: run scripts/fetch-models.sh for SmolLM2", path.display());
		return Ok(());
	}
	let llama = Llama::load_gguf(&path, &Device::Cpu)?;
	let prompt = llama.encode(b"OpenLedger pays the people whose data trained a model")?;
	let dense = ServingModel::from_llama(&llama)?;
	let start = Instant::now();
	let quantized = ServingModel::load_gguf(&path, Precision::Quantized, &Device::Cpu)?;
	println!("SmolLM2 quantized base loaded in {:.2} s", start.elapsed().as_secs_f64());
	compare_precisions(&dense, &quantized, &prompt, steps)?;
	decode_table("SmolLM2 f32", &dense, &prompt, 8, steps)?;
	decode_table("SmolLM2 Q4_1", &quantized, &prompt, 8, steps)?;
	merged_per_request("SmolLM2 f32", &dense, &prompt, 8, 4, steps)?;
	Ok(())
}

/// What padding a one-row f32 product to `ROW_TILE` rows costs (the batch-invariance rule).
fn padding_cost() -> Result<(), Error> {
	let mut rng = Rng::new(1);
	let mut normal = |shape: (usize, usize)| -> Result<Tensor, Error> {
		let v: Vec<f32> = (0..shape.0 * shape.1).map(|_| rng.normal(1.0) as f32).collect();
		Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
	};
	let w = normal((1536, 576))?;
	for rows in [1, 8] {
		let x = normal((rows, 576))?;
		let start = Instant::now();
		for _ in 0..200 {
			x.matmul(&w.t()?)?;
		}
		let us = start.elapsed().as_secs_f64() / 200.0 * 1e6;
		println!("x[{rows}, 576] Wᵀ (W 1536x576 f32): {us:.0} us");
	}
	Ok(())
}

/// A random rank-`rank` adapter on the attention projections, through PEFT's bytes.
fn adapter(model: &ServingModel, rank: usize, seed: u64) -> Result<Arc<Adapter>, Error> {
	let kinds = ["q_proj", "k_proj", "v_proj", "o_proj"];
	let mut rng = Rng::new(seed);
	let mut tensors = std::collections::HashMap::new();
	for index in 0..model.modules() {
		let (parent, name) = PROJECTIONS[index % 7];
		let Some((out, input)) = model.module_shape(index) else { continue };
		if !kinds.contains(&name) {
			continue;
		}
		let path = format!("base_model.model.model.layers.{}.{parent}.{name}", index / 7);
		let mut random =
			|n: usize, std: f64| -> Vec<f32> { (0..n).map(|_| rng.normal(std) as f32).collect() };
		let a = Tensor::from_vec(random(rank * input, 0.05), (rank, input), &Device::Cpu)?;
		let b = Tensor::from_vec(random(out * rank, 0.05), (out, rank), &Device::Cpu)?;
		tensors.insert(format!("{path}.lora_A.weight"), a);
		tensors.insert(format!("{path}.lora_B.weight"), b);
	}
	let file = std::env::temp_dir()
		.join(format!("bench-engine-adapter-{}.safetensors", std::process::id()));
	candle_core::safetensors::save(&tensors, &file)?;
	let bytes = std::fs::read(&file)?;
	std::fs::remove_file(&file)?;
	let config = LoraConfig {
		rank,
		alpha: 2.0 * rank as f64,
		targets: kinds.iter().map(|s| s.to_string()).collect(),
	};
	Ok(Arc::new(Adapter::from_bytes(model, &bytes, config)?))
}

/// Decode tokens/s of `batch` rows: prefill every prompt in one step, then `steps` steps of
/// one token per row (greedy). Returns tokens/s and the last step's logits.
fn decode(
	model: &ServingModel,
	prompt: &[u32],
	sets: &[AdapterSet],
	batch: usize,
	steps: usize,
) -> Result<(f64, Tensor), Error> {
	let per_row = prompt.len() + steps + 1;
	let blocks = batch * per_row.div_ceil(16) + 4;
	let mut engine = Engine::new(model.clone(), KvCacheConfig::blocks(blocks))?;
	let ids: Vec<_> = (0..batch).map(|_| engine.create_sequence()).collect();
	let rows: Vec<Row<'_>> = (0..batch)
		.map(|i| Row {
			sequence: ids[i],
			tokens: prompt,
			start: 0,
			adapters: &sets[i % sets.len()],
		})
		.collect();
	let mut logits = engine.step(&rows)?;
	let start = Instant::now();
	for step in 0..steps {
		let next: Vec<Vec<u32>> =
			logits.argmax(1)?.to_vec1::<u32>()?.into_iter().map(|t| vec![t]).collect();
		let rows: Vec<Row<'_>> = (0..batch)
			.map(|i| Row {
				sequence: ids[i],
				tokens: &next[i],
				start: prompt.len() + step,
				adapters: &sets[i % sets.len()],
			})
			.collect();
		logits = engine.step(&rows)?;
	}
	let seconds = start.elapsed().as_secs_f64();
	Ok(((batch * steps) as f64 / seconds, logits))
}

fn decode_table(
	name: &str,
	model: &ServingModel,
	prompt: &[u32],
	rank: usize,
	steps: usize,
) -> Result<(), Error> {
	let distinct: Vec<AdapterSet> = (0..64)
		.map(|i| adapter(model, rank, 100 + i).map(AdapterSet::single))
		.collect::<Result<_, _>>()?;
	let one = vec![distinct[0].clone()];
	let base = vec![AdapterSet::base()];
	for batch in [1, 8, 32, 64] {
		let (base_rate, _) = decode(model, prompt, &base, batch, steps)?;
		let (one_rate, _) = decode(model, prompt, &one, batch, steps)?;
		let (many_rate, _) = decode(model, prompt, &distinct[..batch.max(1)], batch, steps)?;
		println!(
			"{name} decode, batch {batch:>2}: base {base_rate:>8.1} tok/s, one rank-{rank} adapter {one_rate:>8.1} tok/s, {batch} distinct adapters {many_rate:>8.1} tok/s"
		);
	}
	Ok(())
}

fn compare_precisions(
	dense: &ServingModel,
	quantized: &ServingModel,
	prompt: &[u32],
	steps: usize,
) -> Result<(), Error> {
	let a = adapter(dense, 8, 7)?;
	let sets = vec![AdapterSet::single(a)];
	for batch in [1, 8] {
		let (f32_rate, _) = decode(dense, prompt, &sets, batch, steps)?;
		let (q_rate, _) = decode(quantized, prompt, &sets, batch, steps)?;
		// The logits after the prompt, where both read the same tokens.
		let (_, f0) = decode(dense, prompt, &sets, 1, 0)?;
		let (_, q0) = decode(quantized, prompt, &sets, 1, 0)?;
		let diff = (&f0 - &q0)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
		let same = f0.argmax(1)?.to_vec1::<u32>()? == q0.argmax(1)?.to_vec1::<u32>()?;
		println!(
			"SmolLM2 batch {batch}, one adapter: f32 {f32_rate:.1} tok/s, QMatMul {q_rate:.1} tok/s; max abs logit difference after the prompt {diff:.3} (same next token: {same})"
		);
	}
	Ok(())
}

/// Serving each request by merging its adapter into a copy of the weights, then decoding it
/// alone: what the batched kernels replace.
fn merged_per_request(
	name: &str,
	model: &ServingModel,
	prompt: &[u32],
	rank: usize,
	requests: usize,
	steps: usize,
) -> Result<(), Error> {
	let sets: Vec<AdapterSet> = (0..requests)
		.map(|i| adapter(model, rank, 500 + i as u64).map(AdapterSet::single))
		.collect::<Result<_, _>>()?;
	// Merging, then decoding (prefill not counted, as in the batched figures).
	let (mut merging, mut decoding) = (0.0, 0.0);
	for set in &sets {
		let t = Instant::now();
		let merged = model.merged(set)?;
		merging += t.elapsed().as_secs_f64();
		let (rate, _) = decode(&merged, prompt, &[AdapterSet::base()], 1, steps)?;
		decoding += steps as f64 / rate;
	}
	let seconds = merging + decoding;
	let (batched, _) = decode(model, prompt, &sets, requests, steps)?;
	println!(
		"{name}: {requests} requests with distinct adapters, merged per request: {:.1} tok/s ({:.1} ms merging each); batched kernels: {batched:.1} tok/s",
		(requests * steps) as f64 / seconds,
		merging / requests as f64 * 1e3
	);
	Ok(())
}
