//! Trains `tiny-byte-gpt` (in full, then a LoRA adapter) on generated text and prints what it
//! measured: `cargo run --release -p openledger-ml --example train_tiny [steps]`.

use candle_core::{DType, Device};
use openledger_ml::{
	lora::{Lora, LoraConfig},
	tiny::{TinyByteGpt, TinyConfig},
	train::{evaluate, train, TrainConfig},
};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let steps: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(200);
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
	let settings = TrainConfig { steps, ..TrainConfig::default() };
	let before = evaluate(&model, None, eval_docs, settings.seq_len)?;
	let start = Instant::now();
	let report = train(&model, None, train_docs, &settings)?;
	let seconds = start.elapsed().as_secs_f64();
	let after = evaluate(&model, None, eval_docs, settings.seq_len)?;
	println!(
		"full training: {steps} steps in {seconds:.2} s ({:.0} tokens/s); train loss {:.3} -> {:.3}; held-out loss {before:.3} -> {after:.3}",
		report.tokens as f64 / seconds,
		report.first_loss,
		report.last_loss
	);

	let lora_config = LoraConfig {
		rank: 8,
		alpha: 16.0,
		targets: ["q_proj", "v_proj"].map(String::from).to_vec(),
	};
	let lora = Lora::new(&model, lora_config, 2)?;
	let shifted: Vec<Vec<u8>> = train_docs
		.iter()
		.map(|d| String::from_utf8_lossy(d).to_uppercase().into_bytes())
		.collect();
	let before = evaluate(&model, Some(&lora), &shifted, settings.seq_len)?;
	let start = Instant::now();
	let report = train(&model, Some(&lora), &shifted, &settings)?;
	let seconds = start.elapsed().as_secs_f64();
	let after = evaluate(&model, Some(&lora), &shifted, settings.seq_len)?;
	println!(
		"LoRA (rank 8 on q_proj, v_proj: {} parameters): {steps} steps in {seconds:.2} s ({:.0} tokens/s); loss on upper-case text {before:.3} -> {after:.3}",
		lora.parameters(),
		report.tokens as f64 / seconds
	);
	Ok(())
}
