//! # OpenLedger ML
//!
//! The models OpenLedger's providers train, with no chain dependencies, so that anyone can run
//! the same training and check a provider's result.
//!
//! - [`tiny`]: `tiny-byte-gpt`, a small decoder-only transformer over bytes, and greedy
//!   generation.
//! - [`lora`]: LoRA adapters, saved as PEFT saves them.
//! - [`train`]: AdamW with warm-up and cosine decay, gradient clipping, evaluation.
//! - [`data`]: the held-out split of a datanet version's contributions.
//! - [`rng`]: the seeded generator behind initial weights and batches.
//!
//! Everything runs on the CPU by default; the `cuda` feature builds candle's CUDA backend.

pub mod data;
pub mod lora;
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
	#[error("{bytes} bytes of training data; at least {needed} are needed")]
	NotEnoughData { bytes: usize, needed: usize },
	#[error("training was stopped after step {step}")]
	Stopped { step: usize },
}

pub type Result<T, E = MlError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
