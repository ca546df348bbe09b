//! # Engine
//!
//! The chain-free inference engine behind OpenLoRA serving: many LoRA adapters served from one
//! resident base model on the CPU. It holds the first two of serving's three parts (vLLM's
//! cut): the engine runs steps; the [`scheduler`] decides which requests run in each (continuous
//! batching, fairness between adapters, limits), with the [`pool`] of adapters held in memory;
//! a server (HTTP, OpenAI's shapes, streaming) is built on them elsewhere.
//!
//! ## Overview
//!
//! - [`model`]: [`ServingModel`], a base model's frozen weights (tiny-byte-gpt, or llama from a
//!   GGUF file in f32 or in its own quantized blocks) and the forward pass of a step.
//! - [`cache`]: [`PagedKvCache`], keys and values in a pool of fixed-size blocks with a block
//!   table per sequence (vLLM's PagedAttention).
//! - [`adapter`]: [`Adapter`] (PEFT's `adapter_model.safetensors` bytes plus a [`LoraConfig`],
//!   checked against the model), [`AdapterSet`] (none, one, or a weighted ensemble) and the
//!   BGMV / SGMV kernels that apply a step's adapters (Punica, S-LoRA).
//! - [`sampling`]: greedy, temperature and top-p sampling with a per-request seed,
//!   log-probabilities, stop-sequence helpers.
//! - [`pool`]: [`AdapterPool`], adapters in host memory within a capacity in count and bytes,
//!   loaded on first use from bytes checked against their registered blake2b-256, evicted least
//!   recently used unless a running request pins them.
//! - [`scheduler`]: [`Scheduler`], continuous batching over [`Engine::step`]: per-adapter
//!   queues admitted round-robin, limits answered with their own errors, events per request,
//!   cancellation, timing.
//!
//! ### Terminology
//!
//! - A **sequence** is one request's tokens so far, whose keys and values the cache holds.
//! - A **row** is one sequence's part of a step: its new tokens (a prompt chunk, or the one
//!   token sampled last), the position of the first, and the adapter set it runs with.
//! - A **step** runs any mix of rows at once: their tokens are flattened into one
//!   `[tokens, hidden]` matrix for every projection, feed-forward and LoRA matmul, so that each
//!   base weight is read once per step; attention runs per row against that row's cached keys
//!   and values. [`Engine::step`] returns the next-token logits of each row's last token.
//!
//! ## Batch invariance
//!
//! Greedy decoding gives a request the same tokens alone as inside a batch of other rows and
//! adapters. What was measured (candle 0.11.1, gemm 0.19, this x86-64 CPU): the result of one
//! row of `x Wᵀ` does not depend on the thread count, but it does depend on how many rows the
//! matrix has: one row goes through gemm's matrix-vector kernel, products of at most 16 x 16
//! outputs through its "horizontal" kernel, larger ones through its tiled micro-kernel, and the
//! three sum in different orders. Within the micro-kernel (its depth blocking depends on the
//! inner dimension only), a row's result is the same for any row count and position in the
//! matrix. Hence the rules, each held by a test:
//!
//! 1. Every f32 matmul over a step's tokens runs on a multiple of [`ROW_TILE`] rows (at least 8,
//!    which keeps products of 64 or more columns out of the small kernels): the token matrix is
//!    padded with zero rows, and the base weights are still read once per step. The quantized
//!    kernel computes each row's dot products on their own and needs no padding.
//! 2. Attention runs per query token on the host, straight over the cache's blocks: dot products
//!    with the keys of the token's own positions, a softmax, a weighted sum of the values, each in
//!    a fixed order. The SGMV update of a prefill row runs per row: its shapes are the row's own.
//! 3. A decode token's BGMV update runs per token on the host: `u = A x` (a dot product per rank)
//!    then `Bᵀ u` (the output updated rank by rank), whatever the batch. Stacked ranks are padded
//!    with zeros to a multiple of [`RANK_ALIGN`]; a zero rank adds exact zeros. An ensemble's
//!    summed rank is at most [`MAX_SET_RANK`] (256). (On a GPU the same steps run as tensor
//!    operations: a `1 x in` by `in x r` product then `1 x r` by `r x out` per token.)
//! 4. Each token's update is added to its base output once (`index_add`), in the same order
//!    whatever its neighbours.
//!
//! So a row's arithmetic depends on its own tokens, adapters and cache alone; the same prompt
//! split into different chunks may still differ in the last bits (its projections' rows).
//!
//! The host loops also make a step cheap in the rows it has: a decode row's attention and
//! adapter update cost a few passes over its own numbers, where a dozen tensor operations per
//! row and layer cost more than their arithmetic.
//!
//! ## Quantized base
//!
//! [`Precision::Quantized`] keeps SmolLM2's Q4_1 projections (and its Q8_0 tied output
//! projection) as candle `QMatMul`s instead of dequantized f32; [`Precision::Q8_0`] requantizes
//! the Q4_1 blocks to Q8_0, whose dot product candle vectorises (its Q4_1 one it does not). The
//! GGUF query and key rows are in llama.cpp's interleaved layout; their outputs are put back in
//! Hugging Face's order, where the adapters' `B` rows are, before the rotary embedding.
//! `examples/bench_openlora.rs` measures the three (tokens/s at each batch), and a test bounds
//! their logits' distance from f32's.
//!
//! ## Fully trained tiny-byte-gpt models
//!
//! A tiny-byte-gpt trained in full (every weight moved) is not an adapter: it has no base to be
//! a low-rank update of. It is served as its own base model: load its weights
//! ([`TinyByteGpt::load`]), build a [`ServingModel::from_tiny`] and an [`Engine`] on it; it
//! then serves its own adapters like any base. One engine serves one base model, so each fully
//! trained model costs its own (small: 123,200 weights) resident copy.
//!
//! [`LoraConfig`]: crate::lora::LoraConfig
//! [`TinyByteGpt::load`]: crate::tiny::TinyByteGpt::load

pub mod adapter;
pub mod cache;
mod host;
pub mod model;
pub mod pool;
pub mod sampling;
pub mod scheduler;

#[cfg(test)]
mod scheduling_tests;
#[cfg(test)]
mod tests;

pub use adapter::{Adapter, AdapterSet, MAX_RANK, MAX_SET_RANK, RANK_ALIGN};
pub use cache::{KvCacheConfig, PagedKvCache, SequenceId, DEFAULT_BLOCK_SIZE};
pub use model::{Precision, ServingConfig, ServingModel, PROJECTIONS, ROW_TILE};
pub use pool::{adapter_hash, AdapterPool, PoolConfig, PoolError, PoolKey, PoolStats, Residency};
pub use sampling::{Sampled, Sampler, SamplingParams};
pub use scheduler::{
	CancelToken, Event, GenerationRequest, RequestId, Scheduler, SchedulerConfig, SchedulerStats,
	Sink, StepReport, SubmitError, Submitter, Ticket, Timing, Usage,
};

use crate::{MlError, Result};
use adapter::AdapterCache;
use candle_core::Tensor;
use model::{RowInput, StepInput};

/// One row of a step.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
	pub sequence: SequenceId,
	/// The row's new tokens: a prompt (or a chunk of one), or the one token sampled last.
	pub tokens: &'a [u32],
	/// The position of `tokens[0]`: the number of the sequence's tokens already cached (or
	/// fewer, to rewrite from there).
	pub start: usize,
	pub adapters: &'a AdapterSet,
}

/// A request for [`Engine::generate`].
#[derive(Clone, Debug)]
pub struct Request {
	pub prompt: Vec<u32>,
	pub adapters: AdapterSet,
	pub sampling: SamplingParams,
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FinishReason {
	/// A stop token (not included in the tokens).
	Stop,
	/// `max_tokens`, or the model's context.
	Length,
	/// Cancelled (its client went away): given by the [`Scheduler`] only.
	Cancelled,
}

/// What [`Engine::generate`] returns for a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
	pub tokens: Vec<u32>,
	/// The log-probability of each token under the model (the log-softmax of the logits).
	pub logprobs: Vec<f32>,
	pub finish: FinishReason,
}

/// A served base model, its KV cache and the adapters in use.
pub struct Engine {
	model: ServingModel,
	cache: PagedKvCache,
	adapters: AdapterCache,
}

impl Engine {
	/// An engine for `model` with a KV cache pool of `cache`'s shape.
	pub fn new(model: ServingModel, cache: KvCacheConfig) -> Result<Self> {
		let c = model.config();
		let cache = PagedKvCache::new(c.layers, c.kv_dim(), cache, model.device())?;
		Ok(Self { model, cache, adapters: AdapterCache::default() })
	}

	pub fn model(&self) -> &ServingModel {
		&self.model
	}

	pub fn cache(&self) -> &PagedKvCache {
		&self.cache
	}

	/// A new, empty sequence.
	pub fn create_sequence(&mut self) -> SequenceId {
		self.cache.create()
	}

	/// Forgets a sequence and returns its blocks to the pool.
	pub fn free_sequence(&mut self, sequence: SequenceId) -> Result<()> {
		self.cache.free(sequence)
	}

	/// Runs one step over `rows` (each sequence at most once): writes their keys and values to
	/// the cache and returns the next-token logits of each row's last token,
	/// `[rows, vocabulary]`. Refused with [`MlError::CacheFull`], changing nothing, when the
	/// pool has too few free blocks.
	pub fn step(&mut self, rows: &[Row<'_>]) -> Result<Tensor> {
		let c = self.model.config();
		if rows.is_empty() {
			return Err(MlError::Config("a step needs at least one row".into()));
		}
		for row in rows {
			if row.tokens.is_empty() {
				return Err(MlError::Config(format!("{:?}: a row needs a token", row.sequence)));
			}
			if let Some(t) = row.tokens.iter().find(|&&t| t as usize >= c.vocabulary) {
				return Err(MlError::Config(format!(
					"token {t}; the vocabulary has {}",
					c.vocabulary
				)));
			}
			if row.start + row.tokens.len() > c.context {
				return Err(MlError::Config(format!(
					"{:?}: {} positions; the context is {}",
					row.sequence,
					row.start + row.tokens.len(),
					c.context
				)));
			}
		}
		let spans: Vec<_> = rows.iter().map(|r| (r.sequence, r.start, r.tokens.len())).collect();
		self.cache.prepare(&spans)?;
		let result = self.run(rows);
		if result.is_err() {
			for row in rows {
				self.cache.truncate(row.sequence, row.start);
			}
		}
		result
	}

	fn run(&mut self, rows: &[Row<'_>]) -> Result<Tensor> {
		let device = self.model.device().clone();
		let tile = self.model.row_tile();
		let kv_dim = self.model.config().kv_dim();
		let real: usize = rows.iter().map(|r| r.tokens.len()).sum();
		let padded = real.next_multiple_of(tile);
		let (mut tokens, mut positions) = (Vec::with_capacity(padded), Vec::with_capacity(padded));
		let mut slots = Vec::with_capacity(real * kv_dim);
		let mut inputs = Vec::with_capacity(rows.len());
		let mut last = Vec::with_capacity(rows.len().next_multiple_of(tile));
		let mut spans = Vec::with_capacity(rows.len());
		for row in rows {
			let (first, count) = (tokens.len(), row.tokens.len());
			for (i, &token) in row.tokens.iter().enumerate() {
				tokens.push(token);
				positions.push((row.start + i) as u32);
				let slot = self.cache.slot(row.sequence, row.start + i)?;
				slots.extend(std::iter::repeat_n(slot, kv_dim));
			}
			let mask = if count > 1 {
				let len = row.start + count;
				let values: Vec<f32> = (0..count)
					.flat_map(|i| {
						(0..len)
							.map(move |j| if j <= row.start + i { 0.0 } else { f32::NEG_INFINITY })
					})
					.collect();
				Some(Tensor::from_vec(values, (count, len), &device)?)
			} else {
				None
			};
			inputs.push(RowInput {
				first,
				count,
				start: row.start,
				table: self.cache.table(row.sequence, &device)?,
				blocks: self.cache.blocks(row.sequence).unwrap_or_default().to_vec(),
				mask,
			});
			last.push((first + count - 1) as u32);
			spans.push((row.adapters, first, count));
		}
		tokens.resize(padded, 0);
		positions.resize(padded, 0);
		last.resize(rows.len().next_multiple_of(tile), 0);
		let last_len = last.len();
		let input = StepInput {
			tokens: Tensor::from_vec(tokens, padded, &device)?,
			positions: Tensor::from_vec(positions, padded, &device)?,
			real,
			slots: Tensor::from_vec(slots, (real, kv_dim), &device)?,
			rows: inputs,
			last: Tensor::from_vec(last, last_len, &device)?,
		};
		let lora = self.adapters.plan(&self.model, &spans)?;
		self.model.forward(&input, &lora, &self.cache)
	}

	/// Generates each request to its end, all in one batch: one step prefills every prompt,
	/// then each step decodes one token of every unfinished request. Its sequences are freed at
	/// the end, whatever happens. (A scheduler with requests arriving and leaving calls
	/// [`Engine::step`] itself.)
	pub fn generate(&mut self, requests: &[Request]) -> Result<Vec<Completion>> {
		let ids: Vec<SequenceId> = requests.iter().map(|_| self.cache.create()).collect();
		let result = self.generate_in(requests, &ids);
		for id in ids {
			let _ = self.cache.free(id);
		}
		result
	}

	fn generate_in(&mut self, requests: &[Request], ids: &[SequenceId]) -> Result<Vec<Completion>> {
		let context = self.model.config().context;
		let stops = self.model.stop_tokens().to_vec();
		let mut samplers = requests
			.iter()
			.map(|r| Sampler::new(r.sampling.clone()))
			.collect::<Result<Vec<_>>>()?;
		let mut done: Vec<Completion> = requests
			.iter()
			.map(|_| Completion {
				tokens: Vec::new(),
				logprobs: Vec::new(),
				finish: FinishReason::Length,
			})
			.collect();
		// (request, new tokens, start)
		let mut pending: Vec<(usize, Vec<u32>, usize)> = Vec::new();
		for (i, request) in requests.iter().enumerate() {
			if request.prompt.is_empty() {
				return Err(MlError::Config(format!("request {i} has an empty prompt")));
			}
			if request.prompt.len() > context {
				return Err(MlError::Config(format!(
					"request {i}: a prompt of {} tokens; the context is {context}",
					request.prompt.len()
				)));
			}
			if request.sampling.max_tokens > 0 {
				pending.push((i, request.prompt.clone(), 0));
			}
		}
		while !pending.is_empty() {
			let rows: Vec<Row<'_>> = pending
				.iter()
				.map(|(i, tokens, start)| Row {
					sequence: ids[*i],
					tokens,
					start: *start,
					adapters: &requests[*i].adapters,
				})
				.collect();
			let logits = self.step(&rows)?.to_vec2::<f32>()?;
			let mut next = Vec::with_capacity(pending.len());
			for ((i, tokens, start), logits) in pending.iter().zip(&logits) {
				let sampled = samplers[*i].sample(logits)?;
				let params = samplers[*i].params();
				let completion = &mut done[*i];
				if !params.ignore_stop_tokens && stops.contains(&sampled.token) {
					completion.finish = FinishReason::Stop;
					continue;
				}
				completion.tokens.push(sampled.token);
				completion.logprobs.push(sampled.logprob);
				let position = start + tokens.len();
				if completion.tokens.len() < params.max_tokens && position < context {
					next.push((*i, vec![sampled.token], position));
				}
			}
			pending = next;
		}
		Ok(done)
	}
}
