//! `tiny-byte-gpt`: a small decoder-only transformer over bytes.
//!
//! Its vocabulary is the 256 byte values, so it needs no tokenizer file and trains from scratch in
//! seconds: the model the tests and small datanets use. Each block is pre-norm (RMS norm), causal
//! multi-head self-attention with learned absolute positions, and a SiLU feed-forward layer. The
//! weights carry Hugging Face llama's names (`model.layers.{i}.self_attn.q_proj.weight`, ...), so
//! that LoRA adapters trained on it are named as PEFT names them.

use crate::{
	lora::Lora,
	ops::{causal_mask, rms_norm, silu, softmax_last},
	rng::Rng,
	LanguageModel, MlError, Result,
};
use candle_core::{DType, Device, Tensor, Var};
use std::collections::BTreeMap;

/// The byte vocabulary.
pub const VOCAB: usize = 256;

pub(crate) const NORM_EPS: f64 = 1e-5;

/// The shape of a `tiny-byte-gpt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TinyConfig {
	pub d_model: usize,
	pub n_layers: usize,
	pub n_heads: usize,
	pub d_ff: usize,
	/// The longest input, in bytes.
	pub context: usize,
}

/// The seed of the canonical base model's initial weights: every provider generates the same
/// `tiny-byte-gpt` base from it, byte for byte, and the chain registers its hash.
pub const BASE_SEED: u64 = 0;

impl TinyConfig {
	/// 123,200 parameters: trains on a CPU core in seconds.
	pub fn small() -> Self {
		Self { d_model: 64, n_layers: 2, n_heads: 4, d_ff: 192, context: 128 }
	}

	/// The number of weights.
	pub fn parameters(&self) -> usize {
		let (d, f) = (self.d_model, self.d_ff);
		let block = 4 * d * d + 2 * d * f + 2 * d;
		VOCAB * d + self.context * d + self.n_layers * block + d + VOCAB * d
	}

	fn check(&self) -> Result<()> {
		if self.d_model == 0 || self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
			return Err(MlError::Config("d_model must be a positive multiple of n_heads".into()));
		}
		if self.n_layers == 0 || self.d_ff == 0 || self.context == 0 {
			return Err(MlError::Config("every dimension must be positive".into()));
		}
		Ok(())
	}
}

/// The names and shapes of a model's weights, in a fixed order.
fn shapes(c: &TinyConfig) -> Vec<(String, Vec<usize>)> {
	let (d, f) = (c.d_model, c.d_ff);
	let mut out = vec![
		("model.embed_tokens.weight".to_string(), vec![VOCAB, d]),
		("model.embed_positions.weight".to_string(), vec![c.context, d]),
	];
	for i in 0..c.n_layers {
		let p = format!("model.layers.{i}");
		out.push((format!("{p}.input_layernorm.weight"), vec![d]));
		for m in ["q_proj", "k_proj", "v_proj", "o_proj"] {
			out.push((format!("{p}.self_attn.{m}.weight"), vec![d, d]));
		}
		out.push((format!("{p}.post_attention_layernorm.weight"), vec![d]));
		out.push((format!("{p}.mlp.up_proj.weight"), vec![f, d]));
		out.push((format!("{p}.mlp.down_proj.weight"), vec![d, f]));
	}
	out.push(("model.norm.weight".to_string(), vec![d]));
	out.push(("lm_head.weight".to_string(), vec![VOCAB, d]));
	out
}

/// A `tiny-byte-gpt` and its weights.
pub struct TinyByteGpt {
	pub config: TinyConfig,
	weights: BTreeMap<String, Var>,
	device: Device,
}

impl TinyByteGpt {
	/// A model with weights drawn from `seed`: norms at 1, embeddings and projections normal
	/// with standard deviation 0.02, the output projections of each block scaled down by the
	/// depth (as GPT-2 does).
	pub fn init(config: TinyConfig, seed: u64, dtype: DType, device: &Device) -> Result<Self> {
		config.check()?;
		let mut rng = Rng::new(seed);
		let mut weights = BTreeMap::new();
		let residual = 0.02 / (2.0 * config.n_layers as f64).sqrt();
		for (name, shape) in shapes(&config) {
			let n: usize = shape.iter().product();
			let values: Vec<f64> = if name.ends_with("norm.weight") {
				vec![1.0; n]
			} else {
				let std = if name.ends_with("o_proj.weight") || name.ends_with("down_proj.weight") {
					residual
				} else {
					0.02
				};
				(0..n).map(|_| rng.normal(std)).collect()
			};
			let tensor = Tensor::from_vec(values, shape, device)?.to_dtype(dtype)?;
			weights.insert(name, Var::from_tensor(&tensor)?);
		}
		Ok(Self { config, weights, device: device.clone() })
	}

	/// Every weight, in name order.
	pub fn vars(&self) -> Vec<Var> {
		self.weights.values().cloned().collect()
	}

	/// Every weight by name.
	pub fn named(&self) -> &BTreeMap<String, Var> {
		&self.weights
	}

	pub fn device(&self) -> &Device {
		&self.device
	}

	pub fn dtype(&self) -> DType {
		self.weights.values().next().map_or(DType::F32, |v| v.dtype())
	}

	fn w(&self, name: &str) -> Result<&Tensor> {
		self.weights
			.get(name)
			.map(|v| v.as_tensor())
			.ok_or_else(|| MlError::MissingWeight(name.into()))
	}

	/// `x` times the transpose of the weight `module.weight`, plus the adapter's update if
	/// `lora` adapts `module`.
	fn linear(&self, module: &str, x: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		let w = self.w(&format!("{module}.weight"))?;
		let y = x.broadcast_matmul(&w.t()?)?;
		match lora {
			Some(lora) => lora.apply(module, x, y),
			None => Ok(y),
		}
	}

	/// The next-byte logits for each position of `tokens` (`u32`, `[batch, time]`, time at most
	/// the context): `[batch, time, 256]`.
	pub fn forward(&self, tokens: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		let (batch, time) = tokens.dims2()?;
		let c = &self.config;
		if time == 0 || time > c.context {
			return Err(MlError::Config(format!("{time} positions; the context is {}", c.context)));
		}
		let (d, heads) = (c.d_model, c.n_heads);
		let head = d / heads;
		let embedded =
			self.w("model.embed_tokens.weight")?.index_select(&tokens.flatten_all()?, 0)?;
		let positions = self.w("model.embed_positions.weight")?.narrow(0, 0, time)?;
		let mut x = embedded.reshape((batch, time, d))?.broadcast_add(&positions)?;
		let mask = causal_mask(time, x.dtype(), &self.device)?;
		for i in 0..c.n_layers {
			let p = format!("model.layers.{i}");
			let h = rms_norm(&x, self.w(&format!("{p}.input_layernorm.weight"))?, NORM_EPS)?;
			let split = |t: Tensor| -> Result<Tensor> {
				Ok(t.reshape((batch, time, heads, head))?.transpose(1, 2)?.contiguous()?)
			};
			let q = split(self.linear(&format!("{p}.self_attn.q_proj"), &h, lora)?)?;
			let k = split(self.linear(&format!("{p}.self_attn.k_proj"), &h, lora)?)?;
			let v = split(self.linear(&format!("{p}.self_attn.v_proj"), &h, lora)?)?;
			let scores = (q.matmul(&k.t()?.contiguous()?)? / (head as f64).sqrt())?;
			let probs = softmax_last(&scores.broadcast_add(&mask)?)?;
			let attended = probs.matmul(&v)?.transpose(1, 2)?.reshape((batch, time, d))?;
			x = (x + self.linear(&format!("{p}.self_attn.o_proj"), &attended, lora)?)?;
			let h =
				rms_norm(&x, self.w(&format!("{p}.post_attention_layernorm.weight"))?, NORM_EPS)?;
			let up = silu(&self.linear(&format!("{p}.mlp.up_proj"), &h, lora)?)?;
			x = (x + self.linear(&format!("{p}.mlp.down_proj"), &up, lora)?)?;
		}
		let x = rms_norm(&x, self.w("model.norm.weight")?, NORM_EPS)?;
		self.linear("lm_head", &x, lora)
	}

	/// The mean cross-entropy of predicting each next byte of `tokens` (`[batch, time + 1]`).
	pub fn loss(&self, tokens: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		let time = tokens.dim(1)?;
		let input = tokens.narrow(1, 0, time - 1)?;
		let target = tokens.narrow(1, 1, time - 1)?;
		let logits = self.forward(&input, lora)?;
		let logits = logits.reshape(((), VOCAB))?;
		Ok(candle_nn::loss::cross_entropy(&logits, &target.flatten_all()?)?)
	}

	/// Continues `prompt` by `count` bytes, each the most likely next byte (greedy decoding),
	/// looking back at most the context.
	pub fn generate(&self, prompt: &[u8], count: usize, lora: Option<&Lora>) -> Result<Vec<u8>> {
		if prompt.is_empty() {
			return Err(MlError::Config("generation needs a prompt".into()));
		}
		let mut bytes = prompt.to_vec();
		for _ in 0..count {
			let start = bytes.len().saturating_sub(self.config.context);
			let window: Vec<u32> = bytes[start..].iter().map(|&b| u32::from(b)).collect();
			let time = window.len();
			let input = Tensor::from_vec(window, (1, time), &self.device)?;
			let logits = self.forward(&input, lora)?.get(0)?.get(time - 1)?;
			let next = logits.argmax(0)?.to_scalar::<u32>()?;
			bytes.push(u8::try_from(next).unwrap_or(0));
		}
		Ok(bytes.split_off(prompt.len()))
	}

	/// The canonical base model: [`TinyConfig::small`] initialised from [`BASE_SEED`] in f32.
	pub fn base(device: &Device) -> Result<Self> {
		Self::init(TinyConfig::small(), BASE_SEED, DType::F32, device)
	}

	/// Saves the weights as safetensors.
	pub fn save(&self, path: &std::path::Path) -> Result<()> {
		let tensors: std::collections::HashMap<String, Tensor> =
			self.weights.iter().map(|(k, v)| (k.clone(), v.as_tensor().clone())).collect();
		candle_core::safetensors::save(&tensors, path)?;
		Ok(())
	}

	/// Loads weights saved by [`TinyByteGpt::save`] for a model of `config`.
	pub fn load(config: TinyConfig, path: &std::path::Path, device: &Device) -> Result<Self> {
		config.check()?;
		let mut tensors = candle_core::safetensors::load(path, device)?;
		let mut weights = BTreeMap::new();
		for (name, shape) in shapes(&config) {
			let tensor =
				tensors.remove(&name).ok_or_else(|| MlError::MissingWeight(name.clone()))?;
			if tensor.dims() != shape.as_slice() {
				return Err(MlError::Config(format!("{name} has shape {:?}", tensor.dims())));
			}
			weights.insert(name, Var::from_tensor(&tensor)?);
		}
		Ok(Self { config, weights, device: device.clone() })
	}
}

impl LanguageModel for TinyByteGpt {
	fn linear_modules(&self) -> Result<Vec<(String, (usize, usize))>> {
		let mut out = Vec::new();
		for (name, weight) in &self.weights {
			if let (Some(module), [rows, cols]) = (name.strip_suffix(".weight"), weight.dims()) {
				out.push((module.to_string(), (*rows, *cols)));
			}
		}
		Ok(out)
	}

	fn trainable(&self) -> Vec<Var> {
		self.vars()
	}

	fn device(&self) -> &Device {
		&self.device
	}

	fn dtype(&self) -> DType {
		TinyByteGpt::dtype(self)
	}

	fn context(&self) -> usize {
		self.config.context
	}

	fn vocabulary(&self) -> usize {
		VOCAB
	}

	fn encode(&self, text: &[u8]) -> Result<Vec<u32>> {
		Ok(text.iter().map(|&b| u32::from(b)).collect())
	}

	fn end_of_document(&self) -> u32 {
		u32::from(b'\n')
	}

	fn training_memory(&self, batch: usize, seq_len: usize) -> u64 {
		let c = &self.config;
		// Full training keeps a gradient and two moments per weight.
		crate::transformer_training_memory(
			(c.n_layers, c.d_model, c.d_ff, c.n_heads, VOCAB),
			4 * c.parameters() as u64,
			batch,
			seq_len,
		)
	}

	fn forward(&self, tokens: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		TinyByteGpt::forward(self, tokens, lora)
	}
}
