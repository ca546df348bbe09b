//! The served transformer: a base model's frozen weights, resolved at load into one struct per
//! block, and the forward pass of a step over a batch of rows with the paged KV cache.
//!
//! Both architectures the crate trains are served by this one forward pass: pre-norm blocks
//! (RMS norm, Zhang & Sennrich 2019), causal self-attention with grouped-query heads (Ainslie et
//! al. 2023; tiny-byte-gpt has as many key heads as query heads), and a SiLU feed-forward layer
//! (llama's gated SwiGLU, Shazeer 2020, or tiny-byte-gpt's ungated one). Positions are llama's
//! rotary embeddings (RoFormer, Su et al. 2021) or tiny-byte-gpt's learned table. The inference
//! path uses candle's fused kernels (`rms_norm`, `softmax_last_dim`, `rope`), which have no
//! backward pass; training keeps the differentiable forward passes of [`crate::tiny`] and
//! [`crate::llama`], and the tests hold the two to the same logits.

use super::{
	adapter::{AdapterSet, LoraPlan},
	cache::PagedKvCache,
};
use crate::{
	llama::{self, Llama, LlamaConfig},
	tiny::{self, TinyByteGpt},
	MlError, Result,
};
use candle_core::{
	quantized::{gguf_file, GgmlDType, QMatMul},
	DType, Device, Module, Tensor,
};
use candle_nn::{
	ops::{rms_norm, softmax_last_dim},
	rotary_emb::{rope, rope_i},
};
use std::path::Path;

/// The projections of a block, in module-index order: module `layer * 7 + i` is projection `i`
/// of layer `layer`, `(parent, name)` as in `model.layers.{layer}.{parent}.{name}`.
pub const PROJECTIONS: [(&str, &str); 7] = [
	("self_attn", "q_proj"),
	("self_attn", "k_proj"),
	("self_attn", "v_proj"),
	("self_attn", "o_proj"),
	("mlp", "gate_proj"),
	("mlp", "up_proj"),
	("mlp", "down_proj"),
];

/// f32 matmuls over a step's tokens run on a multiple of this many rows (padded with zeros):
/// the batch-invariance rule of [`crate::engine`].
pub const ROW_TILE: usize = 8;

/// How the base projections are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Precision {
	/// Dequantized to f32 (what training uses).
	F32,
	/// The GGUF file's own quantized blocks (Q4_1 for SmolLM2's projections, Q8_0 for its
	/// embeddings), multiplied by candle's `QMatMul`.
	Quantized,
	/// The GGUF file's blocks requantized to Q8_0 (8 bits per weight and a scale per 32), the
	/// block type candle's CPU kernels multiply fastest: its Q4_1 dot product has no SIMD path
	/// (candle 0.11), and a Q4_1 matrix-vector product takes 5.7 times as long as a Q8_0 one
	/// (`examples/bench_openlora.rs`). Each weight moves by at most half a step of its block's
	/// 8-bit scale from the file's value.
	Q8_0,
}

/// A served model's shape.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServingConfig {
	/// `tiny-byte-gpt` or `llama`.
	pub architecture: String,
	pub vocabulary: usize,
	pub hidden: usize,
	pub layers: usize,
	pub heads: usize,
	pub kv_heads: usize,
	pub head_dim: usize,
	/// The longest sequence, in tokens.
	pub context: usize,
	pub norm_eps: f64,
	pub precision: Precision,
}

impl ServingConfig {
	/// Keys or values per position and layer: `kv_heads * head_dim`.
	pub fn kv_dim(&self) -> usize {
		self.kv_heads * self.head_dim
	}
}

/// A frozen base projection.
#[derive(Clone, Debug)]
enum BaseLinear {
	/// weight: [out, in], f32.
	Dense(Tensor),
	/// A GGUF tensor of `out` rows; `unpermute` is the head count of a query or key projection
	/// stored in llama.cpp's interleaved layout, whose output columns are put back in Hugging
	/// Face's order (where the adapters' `B` rows are).
	Quantized { weight: QMatMul, out: usize, input: usize, unpermute: Option<usize> },
}

impl BaseLinear {
	// x: [tokens, in] -> [tokens, out]
	fn forward(&self, x: &Tensor) -> Result<Tensor> {
		match self {
			Self::Dense(w) => Ok(x.matmul(&w.t()?)?),
			Self::Quantized { weight, unpermute, out, .. } => {
				let y = weight.forward(x)?;
				match unpermute {
					// In each head, output 2 i + j of the GGUF layout is output j * half + i.
					Some(heads) => {
						let tokens = y.dim(0)?;
						Ok(y.reshape((tokens, *heads, out / heads / 2, 2))?
							.transpose(2, 3)?
							.contiguous()?
							.reshape((tokens, *out))?)
					},
					None => Ok(y),
				}
			},
		}
	}

	/// `(out, in)`.
	fn shape(&self) -> Result<(usize, usize)> {
		match self {
			Self::Dense(w) => Ok(w.dims2()?),
			Self::Quantized { out, input, .. } => Ok((*out, *input)),
		}
	}
}

/// One transformer block's weights.
#[derive(Clone, Debug)]
struct Block {
	attn_norm: Tensor,
	/// q, k, v, o, gate (none in tiny-byte-gpt), up, down: in [`PROJECTIONS`] order.
	projections: [Option<BaseLinear>; 7],
	mlp_norm: Tensor,
}

/// How positions enter the model.
#[derive(Clone, Debug)]
enum Positions {
	/// tiny-byte-gpt's learned table, `[context, hidden]`, added to the token embeddings.
	Learned(Tensor),
	/// Rotary embeddings: cosines and sines, `[context, head_dim / 2]`; `interleaved` rotates
	/// pairs of neighbouring dimensions (llama.cpp's layout, `rope_i`) instead of the two halves
	/// of each head (Hugging Face's, `rope`).
	Rotary { cos: Tensor, sin: Tensor, interleaved: bool },
}

/// A base model held for serving: weights frozen and resolved to module indices.
#[derive(Clone, Debug)]
pub struct ServingModel {
	config: ServingConfig,
	/// [vocabulary, hidden]
	embed: Tensor,
	positions: Positions,
	blocks: Vec<Block>,
	norm: Tensor,
	/// [vocabulary, hidden]
	lm_head: BaseLinear,
	stop_tokens: Vec<u32>,
	device: Device,
}

/// One row of a step, as the forward pass needs it.
pub(crate) struct RowInput {
	/// Its first token's index in the step's token matrix, and its number of tokens.
	pub first: usize,
	pub count: usize,
	/// The position of its first token.
	pub start: usize,
	/// Its sequence's block table (`u32 [blocks]`), and the same on the host.
	pub table: Tensor,
	pub blocks: Vec<u32>,
	/// For rows of several tokens, the causal mask over the row's keys: `[count, start +
	/// count]`, 0 where query `i` may look (key `j <= start + i`), -inf elsewhere.
	pub mask: Option<Tensor>,
}

/// A step's tokens, flattened into one matrix.
pub(crate) struct StepInput {
	/// u32 [padded]: the rows' tokens one after another, then padding.
	pub tokens: Tensor,
	/// u32 [padded]: each token's position.
	pub positions: Tensor,
	/// The number of real tokens.
	pub real: usize,
	/// u32 [real, kv_dim]: each token's cache slot, repeated along the row.
	pub slots: Tensor,
	pub rows: Vec<RowInput>,
	/// u32 [rows, padded to the row tile]: each row's last token.
	pub last: Tensor,
}

fn dense(model: &Llama, name: &str) -> Result<Option<BaseLinear>> {
	Ok(Some(BaseLinear::Dense(model.w(name)?.clone())))
}

impl ServingModel {
	/// A tiny-byte-gpt's weights, copied (so that training it further does not change what is
	/// served) and converted to f32.
	pub fn from_tiny(model: &TinyByteGpt) -> Result<Self> {
		let c = model.config;
		let w = |name: &str| -> Result<Tensor> {
			let var = model.named().get(name).ok_or_else(|| MlError::MissingWeight(name.into()))?;
			Ok(var.as_tensor().to_dtype(DType::F32)?.copy()?)
		};
		let mut blocks = Vec::with_capacity(c.n_layers);
		for i in 0..c.n_layers {
			let p = format!("model.layers.{i}");
			let mut projections: [Option<BaseLinear>; 7] = Default::default();
			for (slot, (parent, name)) in projections.iter_mut().zip(PROJECTIONS) {
				if name != "gate_proj" {
					*slot = Some(BaseLinear::Dense(w(&format!("{p}.{parent}.{name}.weight"))?));
				}
			}
			blocks.push(Block {
				attn_norm: w(&format!("{p}.input_layernorm.weight"))?,
				projections,
				mlp_norm: w(&format!("{p}.post_attention_layernorm.weight"))?,
			});
		}
		Ok(Self {
			config: ServingConfig {
				architecture: "tiny-byte-gpt".into(),
				vocabulary: tiny::VOCAB,
				hidden: c.d_model,
				layers: c.n_layers,
				heads: c.n_heads,
				kv_heads: c.n_heads,
				head_dim: c.d_model / c.n_heads,
				context: c.context,
				norm_eps: tiny::NORM_EPS,
				precision: Precision::F32,
			},
			embed: w("model.embed_tokens.weight")?,
			positions: Positions::Learned(w("model.embed_positions.weight")?),
			blocks,
			norm: w("model.norm.weight")?,
			lm_head: BaseLinear::Dense(w("lm_head.weight")?),
			stop_tokens: Vec::new(),
			device: model.device().clone(),
		})
	}

	/// A llama model's f32 weights, shared with `model` (no copy); it stops at the model's
	/// end-of-sequence and end-of-document tokens.
	pub fn from_llama(model: &Llama) -> Result<Self> {
		let c = &model.config;
		let mut blocks = Vec::with_capacity(c.layers);
		for i in 0..c.layers {
			let p = format!("model.layers.{i}");
			let mut projections: [Option<BaseLinear>; 7] = Default::default();
			for (slot, (parent, name)) in projections.iter_mut().zip(PROJECTIONS) {
				*slot = dense(model, &format!("{p}.{parent}.{name}.weight"))?;
			}
			blocks.push(Block {
				attn_norm: model.w(&format!("{p}.input_layernorm.weight"))?.clone(),
				projections,
				mlp_norm: model.w(&format!("{p}.post_attention_layernorm.weight"))?.clone(),
			});
		}
		let device = crate::LanguageModel::device(model).clone();
		let (cos, sin) = llama::rotary_tables(c, c.context, &device)?;
		let mut stop_tokens = vec![model.end_of_sequence()];
		if crate::LanguageModel::end_of_document(model) != model.end_of_sequence() {
			stop_tokens.push(crate::LanguageModel::end_of_document(model));
		}
		Ok(Self {
			config: llama_config(c, Precision::F32),
			embed: model.w("model.embed_tokens.weight")?.clone(),
			positions: Positions::Rotary { cos, sin, interleaved: model.interleaved() },
			blocks,
			norm: model.w("model.norm.weight")?.clone(),
			lm_head: BaseLinear::Dense(model.output_weight()?.clone()),
			stop_tokens,
			device,
		})
	}

	/// A llama GGUF file, its projections either dequantized to f32 ([`Llama::load_gguf`]) or
	/// kept in the file's quantized blocks for candle's `QMatMul` (the embeddings, needed row by
	/// row, are dequantized either way; the output projection stays quantized).
	pub fn load_gguf(path: &Path, precision: Precision, device: &Device) -> Result<Self> {
		if precision == Precision::F32 {
			return Self::from_llama(&Llama::load_gguf(path, device)?);
		}
		let mut file = std::fs::File::open(path)?;
		let content = gguf_file::Content::read(&mut file)
			.map_err(|e| MlError::Format(format!("{}: {e}", path.display())))?;
		let c = LlamaConfig::from_metadata(&content)?;
		let mut tensor = |name: &str| -> Result<candle_core::quantized::QTensor> {
			if !content.tensor_infos.contains_key(name) {
				return Err(MlError::MissingWeight(name.into()));
			}
			Ok(content.tensor(&mut file, name, device)?)
		};
		let quantized = |q: candle_core::quantized::QTensor, unpermute: Option<usize>| {
			let (out, input) = q.shape().dims2()?;
			let q = if precision == Precision::Q8_0 && q.dtype() != GgmlDType::Q8_0 {
				candle_core::quantized::QTensor::quantize(&q.dequantize(device)?, GgmlDType::Q8_0)?
			} else {
				q
			};
			Ok::<_, MlError>(BaseLinear::Quantized {
				weight: QMatMul::from_qtensor(q)?,
				out,
				input,
				unpermute,
			})
		};
		let gguf = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
		let mut blocks = Vec::with_capacity(c.layers);
		for i in 0..c.layers {
			let mut projections: [Option<BaseLinear>; 7] = Default::default();
			for (k, (slot, name)) in projections.iter_mut().zip(gguf).enumerate() {
				let unpermute = match k {
					0 => Some(c.heads),
					1 => Some(c.kv_heads),
					_ => None,
				};
				*slot = Some(quantized(tensor(&format!("blk.{i}.{name}.weight"))?, unpermute)?);
			}
			blocks.push(Block {
				attn_norm: tensor(&format!("blk.{i}.attn_norm.weight"))?.dequantize(device)?,
				projections,
				mlp_norm: tensor(&format!("blk.{i}.ffn_norm.weight"))?.dequantize(device)?,
			});
		}
		let embed = tensor("token_embd.weight")?.dequantize(device)?;
		let lm_head = if content.tensor_infos.contains_key("output.weight") {
			quantized(tensor("output.weight")?, None)?
		} else {
			quantized(tensor("token_embd.weight")?, None)?
		};
		let norm = tensor("output_norm.weight")?.dequantize(device)?;
		let (cos, sin) = llama::rotary_tables(&c, c.context, device)?;
		let mut stop_tokens: Vec<u32> = llama::end_of_sequence(&content).into_iter().collect();
		if let Some(id) = token_id(&content, "<|endoftext|>") {
			if !stop_tokens.contains(&id) {
				stop_tokens.push(id);
			}
		}
		let model = Self {
			config: llama_config(&c, precision),
			embed,
			positions: Positions::Rotary { cos, sin, interleaved: false },
			blocks,
			norm,
			lm_head,
			stop_tokens,
			device: device.clone(),
		};
		model.check()?;
		Ok(model)
	}

	/// Every projection has the shape the configuration gives.
	fn check(&self) -> Result<()> {
		let c = &self.config;
		if self.embed.dims() != [c.vocabulary, c.hidden] {
			return Err(MlError::Format(format!("the embeddings are {:?}", self.embed.dims())));
		}
		for index in 0..self.modules() {
			if let Some((out, input)) = self.module_shape(index) {
				let (parent, name) = PROJECTIONS[index % 7];
				let ok = match name {
					"q_proj" | "o_proj" => (out, input) == (c.hidden, c.hidden),
					"k_proj" | "v_proj" => (out, input) == (c.kv_dim(), c.hidden),
					"down_proj" => out == c.hidden,
					_ => input == c.hidden,
				};
				if !ok {
					let layer = index / 7;
					return Err(MlError::Format(format!(
						"model.layers.{layer}.{parent}.{name} is [{out}, {input}]"
					)));
				}
			}
		}
		Ok(())
	}

	pub fn config(&self) -> &ServingConfig {
		&self.config
	}

	pub fn device(&self) -> &Device {
		&self.device
	}

	/// The tokens generation stops at (none for tiny-byte-gpt unless set).
	pub fn stop_tokens(&self) -> &[u32] {
		&self.stop_tokens
	}

	/// Stops generation at `tokens` instead (e.g. `b'\n'` for tiny-byte-gpt).
	pub fn with_stop_tokens(mut self, tokens: Vec<u32>) -> Self {
		self.stop_tokens = tokens;
		self
	}

	/// The number of module indices: layers times [`PROJECTIONS`].
	pub fn modules(&self) -> usize {
		self.blocks.len() * PROJECTIONS.len()
	}

	/// The index of a projection's module path (`model.layers.3.self_attn.q_proj`), resolved
	/// once when an adapter loads, never inside a forward pass.
	pub fn module_index(&self, path: &str) -> Option<usize> {
		let rest = path.strip_prefix("model.layers.")?;
		let (digits, rest) = rest.split_once('.')?;
		let layer: usize = digits.parse().ok()?;
		if layer >= self.blocks.len() || layer.to_string() != digits {
			return None;
		}
		let (parent, name) = rest.split_once('.')?;
		let kind = PROJECTIONS.iter().position(|&(p, n)| p == parent && n == name)?;
		let index = layer * PROJECTIONS.len() + kind;
		self.module_shape(index).map(|_| index)
	}

	/// `(out, in)` of module `index`, if the model has that projection.
	pub fn module_shape(&self, index: usize) -> Option<(usize, usize)> {
		let block = self.blocks.get(index / PROJECTIONS.len())?;
		block.projections[index % PROJECTIONS.len()].as_ref()?.shape().ok()
	}

	/// The f32 weight (`[out, in]`) of module `index`, if it has one.
	#[cfg(test)]
	pub(crate) fn dense_weight(&self, index: usize) -> Option<&Tensor> {
		match self.blocks.get(index / 7)?.projections[index % 7].as_ref()? {
			BaseLinear::Dense(w) => Some(w),
			BaseLinear::Quantized { .. } => None,
		}
	}

	/// The row tile of this model's matmuls: [`ROW_TILE`] for f32 weights, 1 for quantized ones
	/// (whose kernel computes each row on its own).
	pub(crate) fn row_tile(&self) -> usize {
		match self.config.precision {
			Precision::F32 => ROW_TILE,
			Precision::Quantized | Precision::Q8_0 => 1,
		}
	}

	/// This model with `set` merged into its weights, `W + Σ_i w_i (alpha_i / r_i) B_i A_i`:
	/// the slow, obvious twin of the batched adapter kernels (and what serving without them
	/// would do per request). f32 weights only.
	pub fn merged(&self, set: &AdapterSet) -> Result<Self> {
		let mut merged = self.clone();
		for (index, slot) in
			merged.blocks.iter_mut().flat_map(|b| b.projections.iter_mut()).enumerate()
		{
			let Some(BaseLinear::Dense(w)) = slot else {
				if slot.is_some() {
					return Err(MlError::Config("only f32 weights can be merged".into()));
				}
				continue;
			};
			let mut weight = w.clone();
			for (adapter, scale) in set.members() {
				if let Some((a, b)) = adapter.matrices(index) {
					let factor = f64::from(*scale) * adapter.scale();
					weight = (weight + (b.matmul(a)? * factor)?)?;
				}
			}
			*slot = Some(BaseLinear::Dense(weight));
		}
		Ok(merged)
	}

	/// One step: every row's new tokens through the model, their keys and values written to the
	/// cache, and the next-token logits of each row's last token: `[rows, vocabulary]`.
	pub(crate) fn forward(
		&self,
		input: &StepInput,
		lora: &LoraPlan,
		cache: &PagedKvCache,
	) -> Result<Tensor> {
		let c = &self.config;
		let eps = c.norm_eps as f32;
		let tokens = input.tokens.dim(0)?;
		// x: [tokens, hidden]
		let mut x = self.embed.index_select(&input.tokens, 0)?;
		let rotary = match &self.positions {
			Positions::Learned(table) => {
				x = (x + table.index_select(&input.positions, 0)?)?;
				None
			},
			Positions::Rotary { cos, sin, interleaved } => {
				// Each token its own position: [tokens, 1, head_dim / 2].
				let half = c.head_dim / 2;
				let cos = cos.index_select(&input.positions, 0)?.reshape((tokens, 1, half))?;
				let sin = sin.index_select(&input.positions, 0)?.reshape((tokens, 1, half))?;
				Some((cos, sin, *interleaved))
			},
		};
		let rotate = |t: Tensor, heads: usize| -> Result<Tensor> {
			let Some((cos, sin, interleaved)) = &rotary else { return Ok(t) };
			// t: [tokens, heads * head_dim] -> [tokens, heads, 1, head_dim], one position each.
			let t = t.reshape((tokens, heads, 1, c.head_dim))?;
			let t = if *interleaved { rope_i(&t, cos, sin)? } else { rope(&t, cos, sin)? };
			Ok(t.reshape((tokens, heads * c.head_dim))?)
		};
		for (layer, block) in self.blocks.iter().enumerate() {
			let module = layer * PROJECTIONS.len();
			let project = |kind: usize, h: &Tensor| -> Result<Tensor> {
				let base = block.projections[kind]
					.as_ref()
					.ok_or_else(|| MlError::MissingWeight(PROJECTIONS[kind].1.into()))?;
				lora.apply(module + kind, h, base.forward(h)?)
			};
			let h = rms_norm(&x, &block.attn_norm, eps)?;
			let q = rotate(project(0, &h)?, c.heads)?;
			let k = rotate(project(1, &h)?, c.kv_heads)?;
			let v = project(2, &h)?;
			cache.write(
				layer,
				&k.narrow(0, 0, input.real)?,
				&v.narrow(0, 0, input.real)?,
				&input.slots,
			)?;
			let attended = self.attend(layer, &q, input, cache)?;
			x = (x + project(3, &attended)?)?;
			let h = rms_norm(&x, &block.mlp_norm, eps)?;
			let hidden = if block.projections[4].is_some() {
				(project(4, &h)?.silu()? * project(5, &h)?)?
			} else {
				project(5, &h)?.silu()?
			};
			x = (x + project(6, &hidden)?)?;
		}
		let last = rms_norm(&x.index_select(&input.last, 0)?, &self.norm, eps)?;
		let logits = self.lm_head.forward(&last)?;
		Ok(logits.narrow(0, 0, input.rows.len())?)
	}

	/// Scaled dot-product attention (Vaswani et al. 2017) of each row's queries against its
	/// sequence's cached keys and values, causal within the row's new tokens. Rows attend one
	/// at a time, so that a row's arithmetic depends on it alone: on the host, each query token
	/// in a loop over the cache's memory ([`Self::attend_host`]); elsewhere with tensor ops.
	// q: [tokens, heads * head_dim] -> [tokens, heads * head_dim] (padding rows zero)
	fn attend(
		&self,
		layer: usize,
		q: &Tensor,
		input: &StepInput,
		cache: &PagedKvCache,
	) -> Result<Tensor> {
		if let Some(attended) = self.attend_host(layer, q, input, cache)? {
			return Ok(attended);
		}
		self.attend_tensors(layer, q, input, cache)
	}

	/// [`Self::attend`] on the host: each query token against the keys of its own positions
	/// (0 to its position), read in place through the block table. A decode row costs a few
	/// passes over its cached keys and values instead of a dozen tensor operations per layer,
	/// and a token's result is the same whatever chunk of its prompt it was prefilled in.
	fn attend_host(
		&self,
		layer: usize,
		q: &Tensor,
		input: &StepInput,
		cache: &PagedKvCache,
	) -> Result<Option<Tensor>> {
		if !self.device.is_cpu() {
			return Ok(None);
		}
		let c = &self.config;
		let (heads, kv_heads, head_dim) = (c.heads, c.kv_heads, c.head_dim);
		let repeat = heads / kv_heads;
		let (width, kv_dim) = (heads * head_dim, kv_heads * head_dim);
		let block = cache.config().block_size;
		let scale = 1.0 / (head_dim as f32).sqrt();
		let tokens = q.dim(0)?;
		let queries: Vec<f32> = q.flatten_all()?.to_vec1()?;
		let mut out = vec![0f32; tokens * width];
		let done = cache.with_host_layer(layer, |keys, values| {
			let mut scores: Vec<f32> = Vec::new();
			let slot = |blocks: &[u32], j: usize| blocks[j / block] as usize * block + j % block;
			for row in &input.rows {
				for i in 0..row.count {
					let (token, len) = (row.first + i, row.start + i + 1);
					for h in 0..heads {
						let offset = (h / repeat) * head_dim;
						let query = &queries[token * width + h * head_dim..][..head_dim];
						scores.clear();
						let mut max = f32::NEG_INFINITY;
						for j in 0..len {
							let at = slot(&row.blocks, j) * kv_dim + offset;
							let score = super::host::dot(query, &keys[at..at + head_dim]) * scale;
							max = max.max(score);
							scores.push(score);
						}
						let mut sum = 0f32;
						for score in scores.iter_mut() {
							*score = (*score - max).exp();
							sum += *score;
						}
						let attended = &mut out[token * width + h * head_dim..][..head_dim];
						for (j, score) in scores.iter().enumerate() {
							let at = slot(&row.blocks, j) * kv_dim + offset;
							super::host::axpy(score / sum, &values[at..at + head_dim], attended);
						}
					}
				}
			}
		});
		match done {
			Some(()) => Ok(Some(Tensor::from_vec(out, (tokens, width), &self.device)?)),
			None => Ok(None),
		}
	}

	/// [`Self::attend`] with tensor operations, row by row.
	fn attend_tensors(
		&self,
		layer: usize,
		q: &Tensor,
		input: &StepInput,
		cache: &PagedKvCache,
	) -> Result<Tensor> {
		let c = &self.config;
		let (heads, kv_heads, head_dim) = (c.heads, c.kv_heads, c.head_dim);
		let repeat = heads / kv_heads;
		let scale = 1.0 / (head_dim as f64).sqrt();
		let mut out = Vec::with_capacity(input.rows.len() + 1);
		for row in &input.rows {
			let (n, len) = (row.count, row.start + row.count);
			// The query heads that share a key head side by side: [kv_heads, repeat * n, head_dim].
			let q = (q.narrow(0, row.first, n)? * scale)?
				.reshape((n, kv_heads, repeat, head_dim))?
				.permute((1, 2, 0, 3))?
				.contiguous()?
				.reshape((kv_heads, repeat * n, head_dim))?;
			let (k, v) = cache.read(layer, &row.table, len)?; // [len, kv_heads * head_dim]
			let k = k.reshape((len, kv_heads, head_dim))?.transpose(0, 1)?.contiguous()?;
			let v = v.reshape((len, kv_heads, head_dim))?.transpose(0, 1)?.contiguous()?;
			// scores: [kv_heads, repeat * n, len]
			let mut scores = q.matmul(&k.t()?)?;
			if let Some(mask) = &row.mask {
				scores = scores
					.reshape((kv_heads, repeat, n, len))?
					.broadcast_add(mask)?
					.reshape((kv_heads, repeat * n, len))?;
			}
			let probs = softmax_last_dim(&scores)?;
			let attended = probs
				.matmul(&v)? // [kv_heads, repeat * n, head_dim]
				.reshape((kv_heads, repeat, n, head_dim))?
				.permute((2, 0, 1, 3))?
				.contiguous()?
				.reshape((n, heads * head_dim))?;
			out.push(attended);
		}
		let padding = q.dim(0)? - input.real;
		if padding > 0 {
			out.push(Tensor::zeros((padding, heads * head_dim), DType::F32, &self.device)?);
		}
		Ok(Tensor::cat(&out, 0)?)
	}
}

fn llama_config(c: &LlamaConfig, precision: Precision) -> ServingConfig {
	ServingConfig {
		architecture: "llama".into(),
		vocabulary: c.vocabulary,
		hidden: c.hidden,
		layers: c.layers,
		heads: c.heads,
		kv_heads: c.kv_heads,
		head_dim: c.head_dim(),
		context: c.context,
		norm_eps: c.norm_eps,
		precision,
	}
}

/// The id of a token by its text, from a GGUF file's vocabulary.
fn token_id(content: &gguf_file::Content, text: &str) -> Option<u32> {
	let tokens = llama::metadata(content, "tokenizer.ggml.tokens").ok()?.to_vec().ok()?;
	let index = tokens.iter().position(|t| t.to_string().map(|s| s == text).unwrap_or(false))?;
	u32::try_from(index).ok()
}
