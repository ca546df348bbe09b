//! # OpenLedger ML
//!
//! The models OpenLedger's providers train, with no chain dependencies, so that anyone can run
//! the same training and check a provider's result.
//!
//! - [`tiny`]: `tiny-byte-gpt`, a small decoder-only transformer over bytes, and greedy
//!   generation.
//! - [`llama`]: the llama architecture (SmolLM2), loaded from a GGUF file with its tokenizer.
//! - [`lora`]: LoRA adapters, saved as PEFT saves them.
//! - [`train`]: AdamW with warm-up and cosine decay, gradient clipping, evaluation.
//! - [`data`]: the held-out split of a datanet version's contributions.
//! - [`influence`]: gradient features for attribution: an example's or an answer's loss gradient
//!   with respect to the trained weights, randomly projected (CountSketch).
//! - [`rng`]: the seeded generator behind initial weights and batches.
//! - [`engine`]: serving: many LoRA adapters over one resident base model, with a paged KV
//!   cache, batched multi-adapter kernels and sampling.
//!
//! Everything runs on the CPU by default; the `cuda` feature builds candle's CUDA backend.

pub mod data;
pub mod engine;
pub mod influence;
pub mod llama;
pub mod lora;
mod ops;
pub mod rng;
pub mod tiny;
pub mod train;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
	#[error(transparent)]
	Candle(#[from] candle_core::Error),
	#[error(transparent)]
	Io(#[from] std::io::Error),
	#[error("{0}")]
	Config(String),
	#[error("the weights have no `{0}`")]
	MissingWeight(String),
	#[error("bad file: {0}")]
	Format(String),
	#[error("{tokens} tokens of data; at least {needed} are needed")]
	NotEnoughData { tokens: usize, needed: usize },
	#[error("training was stopped after step {step}")]
	Stopped { step: usize },
	#[error("the KV cache is full: {needed} more blocks are needed, {free} are free")]
	CacheFull { needed: usize, free: usize },
}

pub type Result<T, E = MlError> = std::result::Result<T, E>;

/// [`LanguageModel::training_memory`] of a transformer of this shape (layers, hidden size,
/// feed-forward size, heads, vocabulary) with f32 values, `resident` of them held throughout
/// (weights, and the gradients and moments of those that train).
pub(crate) fn transformer_training_memory(
	shape: (usize, usize, usize, usize, usize),
	resident: u64,
	batch: usize,
	seq_len: usize,
) -> u64 {
	let (layers, hidden, intermediate, heads, vocabulary) = shape;
	let tokens = (batch * seq_len) as u64;
	// Each layer keeps, per token, the intermediate values of its operations and, during the
	// backward pass, their gradients: about 48 vectors of the hidden size, 12 of the
	// feed-forward size and, per head, 16 rows of attention scores. Calibrated on SmolLM2-135M
	// (batches of 4 x 256 tokens: 10.4 GiB measured at the peak, 12.3 GiB estimated).
	let layer = tokens * (48 * hidden + 12 * intermediate + 16 * heads * seq_len) as u64;
	// The logits, their softmax and its gradient, with copies along the way.
	let logits = 8 * tokens * vocabulary as u64;
	4 * (resident + layers as u64 * layer + logits)
}

/// What training, evaluation and adapters need of a causal language model.
pub trait LanguageModel {
	/// The linear layers, by module path (`model.layers.0.self_attn.q_proj`) with their weight's
	/// shape `(out, in)`, in path order: what a LoRA adapter may adapt.
	fn linear_modules(&self) -> Result<Vec<(String, (usize, usize))>>;

	/// The weights full fine-tuning trains; none for a model that only trains adapters.
	fn trainable(&self) -> Vec<candle_core::Var>;

	fn device(&self) -> &candle_core::Device;

	fn dtype(&self) -> candle_core::DType;

	/// The longest input, in tokens.
	fn context(&self) -> usize;

	/// The tokens of a text.
	fn encode(&self, text: &[u8]) -> Result<Vec<u32>>;

	/// How many token ids there are: every token is below it.
	fn vocabulary(&self) -> usize;

	/// The token that ends each document of a training stream.
	fn end_of_document(&self) -> u32;

	/// About the most memory, in bytes, that a training step on `batch` sequences of `seq_len`
	/// tokens takes: the weights, what the backward pass keeps of each layer and the logits. A
	/// provider compares it with the memory it has before it takes a step.
	fn training_memory(&self, batch: usize, seq_len: usize) -> u64;

	/// The next-token logits for each position of `tokens` (`u32`, `[batch, time]`):
	/// `[batch, time, vocabulary]`, with `lora`'s updates where it adapts a layer.
	fn forward(
		&self,
		tokens: &candle_core::Tensor,
		lora: Option<&lora::Lora>,
	) -> Result<candle_core::Tensor>;

	/// The mean cross-entropy of predicting each next token of `tokens` (`[batch, time + 1]`).
	fn loss(
		&self,
		tokens: &candle_core::Tensor,
		lora: Option<&lora::Lora>,
	) -> Result<candle_core::Tensor> {
		let time = tokens.dim(1)?;
		let logits = self.forward(&tokens.narrow(1, 0, time - 1)?, lora)?;
		let vocabulary = logits.dim(2)?;
		let target = tokens.narrow(1, 1, time - 1)?.flatten_all()?;
		Ok(candle_nn::loss::cross_entropy(&logits.reshape(((), vocabulary))?, &target)?)
	}
}

#[cfg(test)]
mod tests;
