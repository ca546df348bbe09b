//! Measures training: `tiny-byte-gpt` (in full and with a LoRA adapter) on generated text, then,
//! given a SmolLM2 GGUF file and a directory of English text files, a SmolLM2 LoRA adapter
//! (rank 8 on the attention projections, sequences of 256 tokens) with its held-out loss before
//! and after. `scripts/bench-training.sh` runs it on the Debian license texts:
//!
//!   cargo run --release -p openledger-ml --example bench_training -- [GGUF TEXT_DIR [STEPS]]

use candle_core::{DType, Device};
use openledger_ml::{
	data::is_held_out,
	llama::Llama,
	lora::{Lora, LoraConfig},
	tiny::{TinyByteGpt, TinyConfig},
	train::{evaluate, stream, train, train_observed, TrainConfig},
	LanguageModel,
};
use std::{path::Path, time::Instant};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
	let args: Vec<String> = std::env::args().skip(1).collect();
	tiny()?;
	if let [gguf, texts, rest @ ..] = args.as_slice() {
		let steps = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(30);
		smollm2(Path::new(gguf), Path::new(texts), steps)?;
	}
	Ok(())
}

fn tiny() -> Result<(), Error> {
	let device = Device::Cpu;
	let words = ["data", "model", "chain", "proof", "token", "train", "curate", "reward"];
	let documents: Vec<Vec<u8>> = (0..400)
		.map(|i| {
			let pick = |k: usize| words[(i * 7 + k * 3) % words.len()];
			format!("{i}: {} the {} to {} each {}.", pick(0), pick(1), pick(2), pick(3))
				.into_bytes()
		})
		.collect();
	let (train_docs, eval_docs) = documents.split_at(360);
	let config = TinyConfig::small();
	println!("tiny-byte-gpt {config:?}: {} parameters", config.parameters());
	let model = TinyByteGpt::init(config, 1, DType::F32, &device)?;
	let settings = TrainConfig { steps: 200, ..TrainConfig::default() };
	let held_out = stream(&model, eval_docs)?;
	let before = evaluate(&model, None, &held_out, settings.seq_len, 16)?;
	let start = Instant::now();
	let report = train(&model, None, train_docs, &settings)?;
	let seconds = start.elapsed().as_secs_f64();
	let after = evaluate(&model, None, &held_out, settings.seq_len, 16)?;
	println!(
		"tiny-byte-gpt, full training: {} steps of {}x{} bytes in {seconds:.2} s = {:.0} tokens/s; held-out loss {before:.3} -> {after:.3}",
		settings.steps,
		settings.batch_size,
		settings.seq_len,
		report.tokens as f64 / seconds,
	);

	let lora = Lora::new(&model, attention(8), 2)?;
	let start = Instant::now();
	let report = train(&model, Some(&lora), train_docs, &settings)?;
	let seconds = start.elapsed().as_secs_f64();
	println!(
		"tiny-byte-gpt, LoRA rank 8 on q/k/v/o ({} parameters): {} steps in {seconds:.2} s = {:.0} tokens/s",
		lora.parameters(),
		settings.steps,
		report.tokens as f64 / seconds,
	);
	Ok(())
}

fn attention(rank: usize) -> LoraConfig {
	LoraConfig {
		rank,
		alpha: 2.0 * rank as f64,
		targets: ["q_proj", "k_proj", "v_proj", "o_proj"].map(String::from).to_vec(),
	}
}

/// The paragraphs of every regular file in `dir` (links skipped, so no text counts twice).
fn paragraphs(dir: &Path) -> Result<Vec<Vec<u8>>, Error> {
	let mut files: Vec<_> = std::fs::read_dir(dir)?
		.filter_map(|e| e.ok())
		.filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
		.map(|e| e.path())
		.collect();
	files.sort();
	let mut out = Vec::new();
	for file in files {
		let Ok(text) = std::fs::read_to_string(&file) else { continue };
		for paragraph in text.split("\n\n") {
			let words: Vec<&str> = paragraph.split_whitespace().collect();
			if words.len() >= 8 {
				out.push(words.join(" ").into_bytes());
			}
		}
	}
	Ok(out)
}

fn smollm2(gguf: &Path, texts: &Path, steps: usize) -> Result<(), Error> {
	let device = Device::Cpu;
	let start = Instant::now();
	let model = Llama::load_gguf(gguf, &device)?;
	println!(
		"SmolLM2: {} parameters, loaded and dequantized to f32 in {:.2} s",
		model.config.parameters(),
		start.elapsed().as_secs_f64()
	);
	let documents = paragraphs(texts)?;
	let (mut train_docs, mut eval_docs) = (Vec::new(), Vec::new());
	for d in documents {
		let hash: [u8; 32] = blake2b_simd::Params::new()
			.hash_length(32)
			.hash(&d)
			.as_bytes()
			.try_into()
			.expect("32 bytes");
		if is_held_out(&hash, 0, 100_000) {
			eval_docs.push(d);
		} else {
			train_docs.push(d);
		}
	}
	let (train_tokens, eval_tokens) = (stream(&model, &train_docs)?, stream(&model, &eval_docs)?);
	println!(
		"corpus {}: {} paragraphs ({} tokens) to train on, {} ({} tokens) held out",
		texts.display(),
		train_docs.len(),
		train_tokens.len(),
		eval_docs.len(),
		eval_tokens.len()
	);
	let seq_len = 256;
	let lora = Lora::new(&model, attention(8), 0)?;
	let start = Instant::now();
	let before = evaluate(&model, Some(&lora), &eval_tokens, seq_len, 4)?;
	let eval_seconds = start.elapsed().as_secs_f64();
	let settings = TrainConfig {
		steps,
		batch_size: 4,
		seq_len,
		learning_rate: 1e-3,
		warmup_steps: steps / 10,
		seed: 0,
		..TrainConfig::default()
	};
	let start = Instant::now();
	let report = train_observed(&model, Some(&lora), &train_tokens, &settings, |step, loss| {
		if step % 5 == 0 || step == steps {
			println!(
				"  step {step}/{steps}: loss {loss:.3}, {:.1} s",
				start.elapsed().as_secs_f64()
			);
		}
		true
	})?;
	let seconds = start.elapsed().as_secs_f64();
	let after = evaluate(&model, Some(&lora), &eval_tokens, seq_len, 4)?;
	println!(
		"SmolLM2 LoRA rank 8 on q/k/v/o ({} parameters), batch {} x {seq_len} tokens: {steps} steps in {seconds:.1} s = {:.2} s/step, {:.0} tokens/s; train loss {:.3} -> {:.3}; held-out loss {before:.3} -> {after:.3} (evaluation {eval_seconds:.1} s)",
		lora.parameters(),
		settings.batch_size,
		seconds / steps as f64,
		report.tokens as f64 / seconds,
		report.first_loss,
		report.last_loss,
	);
	println!(
		"peak resident memory {} MiB; the provider's estimate for this step {} MiB",
		peak_mib().map_or("?".into(), |m| m.to_string()),
		model.training_memory(settings.batch_size, seq_len) >> 20
	);
	Ok(())
}

/// The process's peak resident memory (Linux).
fn peak_mib() -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
	let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
	Some(kib >> 10)
}
