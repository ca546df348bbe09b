//! Training: AdamW with a linear warm-up and a cosine decay, gradients clipped by their global
//! norm, batches of token windows drawn from the training stream with a seeded generator.
//!
//! For a given seed, configuration and thread count, training on the CPU is deterministic: the
//! same inputs give the same weights, to the byte.

use crate::{lora::Lora, rng::Rng, LanguageModel, MlError, Result};
use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

/// How to train.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
	pub steps: usize,
	pub batch_size: usize,
	/// Tokens per training window.
	pub seq_len: usize,
	pub learning_rate: f64,
	pub warmup_steps: usize,
	pub weight_decay: f64,
	/// The most the global gradient norm may be; larger gradients are scaled down to it.
	pub max_grad_norm: f64,
	pub seed: u64,
}

impl Default for TrainConfig {
	fn default() -> Self {
		Self {
			steps: 100,
			batch_size: 8,
			seq_len: 64,
			learning_rate: 3e-3,
			warmup_steps: 10,
			weight_decay: 0.0,
			max_grad_norm: 1.0,
			seed: 0,
		}
	}
}

/// What a training run measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
	pub first_loss: f64,
	pub last_loss: f64,
	pub steps: usize,
	pub tokens: u64,
}

/// The learning rate at `step`: linear from 0 over the warm-up, then a cosine down to a tenth.
pub fn learning_rate(config: &TrainConfig, step: usize) -> f64 {
	let peak = config.learning_rate;
	if step < config.warmup_steps {
		return peak * (step + 1) as f64 / config.warmup_steps as f64;
	}
	let decay = (config.steps.saturating_sub(config.warmup_steps)).max(1) as f64;
	let progress = ((step - config.warmup_steps) as f64 / decay).min(1.0);
	let floor = peak / 10.0;
	floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// The documents as one token stream, each followed by the model's end-of-document token.
pub fn stream<M: LanguageModel + ?Sized>(model: &M, documents: &[Vec<u8>]) -> Result<Vec<u32>> {
	let mut out = Vec::new();
	for d in documents {
		out.extend(model.encode(d)?);
		out.push(model.end_of_document());
	}
	Ok(out)
}

/// A batch of `batch` windows of `len + 1` tokens starting at random offsets of `data`.
fn batch(data: &[u32], batch: usize, len: usize, rng: &mut Rng, device: &Device) -> Result<Tensor> {
	let span = data.len() - len - 1;
	let mut tokens = Vec::with_capacity(batch * (len + 1));
	for _ in 0..batch {
		let start = rng.below(span + 1);
		tokens.extend_from_slice(&data[start..start + len + 1]);
	}
	Ok(Tensor::from_vec(tokens, (batch, len + 1), device)?)
}

/// Trains `lora` (or, without one, every weight of `model`) on `documents`.
pub fn train<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	documents: &[Vec<u8>],
	config: &TrainConfig,
) -> Result<TrainReport> {
	train_observed(model, lora, &stream(model, documents)?, config, |_, _| true)
}

/// Trains on a token stream (see [`stream`]), calling `observe(step, loss)` after each step
/// (from 1); training stops with [`MlError::Stopped`] when it returns `false`.
pub fn train_observed<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	data: &[u32],
	config: &TrainConfig,
	mut observe: impl FnMut(usize, f64) -> bool,
) -> Result<TrainReport> {
	if config.steps == 0 || config.batch_size == 0 || config.seq_len == 0 {
		return Err(MlError::Config(
			"steps, batch size and sequence length must be positive".into(),
		));
	}
	if config.seq_len > model.context() {
		return Err(MlError::Config(format!(
			"sequence length {} is above the model's context {}",
			config.seq_len,
			model.context()
		)));
	}
	if data.len() < config.seq_len + 2 {
		return Err(MlError::NotEnoughData { tokens: data.len(), needed: config.seq_len + 2 });
	}
	let vars: Vec<Var> = match lora {
		Some(lora) => lora.vars(),
		None => model.trainable(),
	};
	if vars.is_empty() {
		return Err(MlError::Config("this model trains adapters only".into()));
	}
	let params = ParamsAdamW {
		lr: learning_rate(config, 0),
		weight_decay: config.weight_decay,
		..ParamsAdamW::default()
	};
	let mut optimizer = AdamW::new(vars.clone(), params)?;
	let mut rng = Rng::new(config.seed);
	let mut first_loss = None;
	let mut last_loss = 0.0;
	for step in 0..config.steps {
		optimizer.set_learning_rate(learning_rate(config, step));
		let tokens = batch(data, config.batch_size, config.seq_len, &mut rng, model.device())?;
		let loss = model.loss(&tokens, lora)?;
		let mut grads = loss.backward()?;
		clip(&mut grads, &vars, config.max_grad_norm)?;
		optimizer.step(&grads)?;
		last_loss = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
		first_loss.get_or_insert(last_loss);
		if !observe(step + 1, last_loss) {
			return Err(MlError::Stopped { step: step + 1 });
		}
	}
	Ok(TrainReport {
		first_loss: first_loss.unwrap_or(last_loss),
		last_loss,
		steps: config.steps,
		tokens: (config.steps * config.batch_size * config.seq_len) as u64,
	})
}

/// Scales the gradients of `vars` down so that their global norm is at most `max`.
fn clip(grads: &mut candle_core::backprop::GradStore, vars: &[Var], max: f64) -> Result<()> {
	let mut square = 0.0;
	for var in vars {
		if let Some(g) = grads.get(var.as_tensor()) {
			square += g.sqr()?.sum_all()?.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
		}
	}
	let norm = square.sqrt();
	if norm > max && norm > 0.0 {
		let factor = max / norm;
		for var in vars {
			if let Some(g) = grads.remove(var.as_tensor()) {
				grads.insert(var.as_tensor(), (g * factor)?);
			}
		}
	}
	Ok(())
}

/// The mean next-token loss over consecutive windows of `seq_len + 1` tokens of a token stream
/// (see [`stream`]), `batch` windows at a time.
pub fn evaluate<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	data: &[u32],
	seq_len: usize,
	batch: usize,
) -> Result<f64> {
	let windows: Vec<&[u32]> = data.chunks_exact(seq_len + 1).collect();
	if windows.is_empty() {
		return Err(MlError::NotEnoughData { tokens: data.len(), needed: seq_len + 1 });
	}
	let mut total = 0.0;
	for chunk in windows.chunks(batch.max(1)) {
		let tokens: Vec<u32> = chunk.concat();
		let tokens = Tensor::from_vec(tokens, (chunk.len(), seq_len + 1), model.device())?;
		let loss = model.loss(&tokens, lora)?.to_dtype(candle_core::DType::F64)?;
		total += loss.to_scalar::<f64>()? * chunk.len() as f64;
	}
	Ok(total / windows.len() as f64)
}
