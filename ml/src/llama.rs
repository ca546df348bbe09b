//! The llama architecture (the SmolLM2 family), loaded from a GGUF file: the weights
//! dequantized to f32 and the byte-level BPE tokenizer built from the file's metadata.
//!
//! GGUF files store the query and key projections permuted for rotary embeddings that rotate
//! interleaved pairs of dimensions (llama.cpp's layout). [`Llama::load_gguf`] undoes that
//! permutation, so that the weights, and the LoRA adapters trained on them, are in Hugging Face's
//! layout and carry its names (`model.layers.{i}.self_attn.q_proj`, ...): PEFT and
//! `transformers` load the adapters this crate trains onto the original model. The forward pass
//! then rotates the two halves of each head, as Hugging Face's llama does. The base weights are
//! frozen; only adapters train.

use crate::{
	lora::Lora,
	ops::{causal_mask, rms_norm, silu, softmax_last},
	LanguageModel, MlError, Result,
};
use candle_core::{
	quantized::{gguf_file, tokenizer::TokenizerFromGguf},
	DType, Device, Tensor, Var,
};
use std::{collections::BTreeMap, path::Path};
use tokenizers::{
	pre_tokenizers::{byte_level::ByteLevel, digits::Digits, sequence::Sequence},
	Tokenizer,
};

/// The directory `scripts/fetch-models.sh` fetches base models into: `$MODEL_CACHE`, by default
/// `~/.cache/openledger/models`.
pub fn model_cache() -> std::path::PathBuf {
	match std::env::var_os("MODEL_CACHE") {
		Some(dir) => dir.into(),
		None => std::path::Path::new(&std::env::var_os("HOME").unwrap_or_default())
			.join(".cache/openledger/models"),
	}
}

/// The file name of SmolLM2-135M-Instruct in the model cache.
pub const SMOLLM2_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// A llama model's shape, as its GGUF metadata gives it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlamaConfig {
	pub vocabulary: usize,
	pub hidden: usize,
	pub intermediate: usize,
	pub layers: usize,
	pub heads: usize,
	pub kv_heads: usize,
	pub context: usize,
	pub rope_theta: f64,
	pub norm_eps: f64,
}

impl LlamaConfig {
	pub fn head_dim(&self) -> usize {
		self.hidden / self.heads
	}

	/// The number of weights (the output projection shares the token embeddings).
	pub fn parameters(&self) -> usize {
		let (d, f, kv) = (self.hidden, self.intermediate, self.kv_heads * self.head_dim());
		let block = 2 * d * d + 2 * d * kv + 3 * d * f + 2 * d;
		self.vocabulary * d + self.layers * block + d
	}

	/// The shape of the llama GGUF file at `path`, read from its metadata without loading its
	/// weights: what a provider needs to know of a model before it loads it.
	pub fn from_gguf(path: &Path) -> Result<Self> {
		let mut file = std::fs::File::open(path)?;
		let content = gguf_file::Content::read(&mut file)
			.map_err(|e| MlError::Format(format!("{}: {e}", path.display())))?;
		Self::from_metadata(&content)
	}

	pub(crate) fn from_metadata(content: &gguf_file::Content) -> Result<Self> {
		let architecture = metadata(content, "general.architecture")?.to_string()?;
		if architecture != "llama" {
			return Err(MlError::Format(format!("a `{architecture}` model, not llama")));
		}
		let count = |key: &str| -> Result<usize> {
			Ok(metadata(content, &format!("llama.{key}"))?.to_u32()? as usize)
		};
		let float = |key: &str| -> Result<f64> {
			Ok(f64::from(metadata(content, &format!("llama.{key}"))?.to_f32()?))
		};
		let tokens = metadata(content, "tokenizer.ggml.tokens")?.to_vec()?.len();
		let config = LlamaConfig {
			vocabulary: tokens,
			hidden: count("embedding_length")?,
			intermediate: count("feed_forward_length")?,
			layers: count("block_count")?,
			heads: count("attention.head_count")?,
			kv_heads: count("attention.head_count_kv")?,
			context: count("context_length")?,
			rope_theta: float("rope.freq_base").unwrap_or(10_000.0),
			norm_eps: float("attention.layer_norm_rms_epsilon")?,
		};
		if config.heads == 0
			|| config.kv_heads == 0
			|| !config.hidden.is_multiple_of(config.heads)
			|| !config.heads.is_multiple_of(config.kv_heads)
			|| !config.head_dim().is_multiple_of(2)
		{
			return Err(MlError::Format(format!("an impossible llama shape: {config:?}")));
		}
		Ok(config)
	}

	/// The memory training adapters on this model takes, in bytes, with batches of `batch`
	/// sequences of `seq_len` tokens (see [`LanguageModel::training_memory`]).
	pub fn training_memory(&self, batch: usize, seq_len: usize) -> u64 {
		crate::transformer_training_memory(
			(self.layers, self.hidden, self.intermediate, self.heads, self.vocabulary),
			// The base weights are frozen; adapters are small.
			self.parameters() as u64,
			batch,
			seq_len,
		)
	}
}

/// Which way the query and key weights are laid out, and so which rotation they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
	/// Hugging Face's: each head's dimensions in two halves, rotated against each other.
	HuggingFace,
	/// llama.cpp's, as stored in GGUF files: interleaved pairs of dimensions (the tests check
	/// that both layouts compute the same function).
	#[cfg_attr(not(test), allow(dead_code))]
	Gguf,
}

/// A llama model with frozen f32 weights and its tokenizer.
pub struct Llama {
	pub config: LlamaConfig,
	weights: BTreeMap<String, Tensor>,
	tokenizer: Tokenizer,
	end_of_document: u32,
	end_of_sequence: u32,
	layout: Layout,
	device: Device,
}

pub(crate) fn metadata<'a>(
	content: &'a gguf_file::Content,
	key: &str,
) -> Result<&'a gguf_file::Value> {
	content
		.metadata
		.get(key)
		.ok_or_else(|| MlError::Format(format!("no `{key}` in the GGUF file")))
}

/// The Hugging Face name of a GGUF tensor of block `i`.
fn block_name(i: usize, gguf: &str) -> Option<String> {
	let module = match gguf {
		"attn_norm" => "input_layernorm",
		"attn_q" => "self_attn.q_proj",
		"attn_k" => "self_attn.k_proj",
		"attn_v" => "self_attn.v_proj",
		"attn_output" => "self_attn.o_proj",
		"ffn_norm" => "post_attention_layernorm",
		"ffn_gate" => "mlp.gate_proj",
		"ffn_up" => "mlp.up_proj",
		"ffn_down" => "mlp.down_proj",
		_ => return None,
	};
	Some(format!("model.layers.{i}.{module}.weight"))
}

/// Undoes llama.cpp's permutation of a query or key projection (`[heads * head_dim, in]`): in
/// each head, row `2 i + j` of the GGUF layout is row `j * head_dim / 2 + i` of Hugging Face's.
fn unpermute(weight: &Tensor, heads: usize) -> Result<Tensor> {
	let (rows, cols) = weight.dims2()?;
	let half = rows / heads / 2;
	Ok(weight.reshape((heads, half, 2, cols))?.transpose(1, 2)?.reshape((rows, cols))?)
}

/// The rotary embedding's tables for positions `0..time` (RoFormer, Su et al. 2021): the angle of
/// position `p` and frequency `i` is `p / theta^(2 i / head_dim)`; cosines and sines,
/// `[time, head_dim / 2]`.
pub(crate) fn rotary_tables(
	config: &LlamaConfig,
	time: usize,
	device: &Device,
) -> Result<(Tensor, Tensor)> {
	let half = config.head_dim() / 2;
	let theta = config.rope_theta;
	let angles: Vec<f32> = (0..time)
		.flat_map(|p| {
			(0..half)
				.map(move |i| (p as f64 / theta.powf(2.0 * i as f64 / (2 * half) as f64)) as f32)
		})
		.collect();
	let angles = Tensor::from_vec(angles, (time, half), device)?;
	Ok((angles.cos()?, angles.sin()?))
}

/// The GGUF file's end-of-sequence token, if it names one.
pub(crate) fn end_of_sequence(content: &gguf_file::Content) -> Option<u32> {
	metadata(content, "tokenizer.ggml.eos_token_id").ok()?.to_u32().ok()
}

/// The byte-level BPE tokenizer a GGUF file's metadata describes.
fn tokenizer(content: &gguf_file::Content) -> Result<Tokenizer> {
	let mut tokenizer = Tokenizer::from_gguf(content)?;
	let pre = metadata(content, "tokenizer.ggml.pre").and_then(|v| Ok(v.to_string()?.clone()));
	if pre.as_deref().ok() == Some("smollm") {
		// SmolLM2's tokenizer.json: digits one by one, then GPT-2's byte-level split.
		tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
			Digits::new(true).into(),
			ByteLevel::new(false, true, true).into(),
		])));
	}
	Ok(tokenizer)
}

/// The tokenizer of the llama GGUF file at `path`, without its weights: what a server that keeps
/// the quantized weights (see [`crate::engine`]) encodes and decodes with.
pub fn read_tokenizer(path: &Path) -> Result<Tokenizer> {
	let mut file = std::fs::File::open(path)?;
	let content = gguf_file::Content::read(&mut file)
		.map_err(|e| MlError::Format(format!("{}: {e}", path.display())))?;
	tokenizer(&content)
}

impl Llama {
	/// Loads a llama GGUF file: its shape and tokenizer from the metadata, its weights
	/// dequantized to f32, the query and key projections in Hugging Face's layout.
	pub fn load_gguf(path: &Path, device: &Device) -> Result<Self> {
		Self::load(path, device, Layout::HuggingFace)
	}

	pub(crate) fn load(path: &Path, device: &Device, layout: Layout) -> Result<Self> {
		let mut file = std::fs::File::open(path)?;
		let content = gguf_file::Content::read(&mut file)
			.map_err(|e| MlError::Format(format!("{}: {e}", path.display())))?;
		let config = LlamaConfig::from_metadata(&content)?;

		let mut weights = BTreeMap::new();
		let names: Vec<String> = content.tensor_infos.keys().cloned().collect();
		for gguf in names {
			let name = match gguf.as_str() {
				"token_embd.weight" => "model.embed_tokens.weight".to_string(),
				"output_norm.weight" => "model.norm.weight".to_string(),
				"output.weight" => "lm_head.weight".to_string(),
				other => {
					let mut parts = other.splitn(3, '.');
					match (parts.next(), parts.next(), parts.next()) {
						(Some("blk"), Some(i), Some(rest)) => {
							let i: usize = i
								.parse()
								.map_err(|_| MlError::Format(format!("tensor `{other}`")))?;
							let Some(module) = rest.strip_suffix(".weight") else { continue };
							let Some(name) = block_name(i, module) else { continue };
							name
						},
						_ => continue,
					}
				},
			};
			let mut tensor = content.tensor(&mut file, &gguf, device)?.dequantize(device)?;
			if layout == Layout::HuggingFace {
				if name.ends_with("q_proj.weight") {
					tensor = unpermute(&tensor, config.heads)?;
				} else if name.ends_with("k_proj.weight") {
					tensor = unpermute(&tensor, config.kv_heads)?;
				}
			}
			weights.insert(name, tensor.to_dtype(DType::F32)?.contiguous()?);
		}

		let tokenizer = tokenizer(&content)?;
		let end_of_document = match tokenizer.token_to_id("<|endoftext|>") {
			Some(id) => id,
			None => metadata(&content, "tokenizer.ggml.eos_token_id")?.to_u32()?,
		};
		let end_of_sequence = end_of_sequence(&content).unwrap_or(end_of_document);
		let model = Self {
			config,
			weights,
			tokenizer,
			end_of_document,
			end_of_sequence,
			layout,
			device: device.clone(),
		};
		model.check_weights()?;
		Ok(model)
	}

	/// Every weight a forward pass reads is there, with its shape.
	fn check_weights(&self) -> Result<()> {
		let c = &self.config;
		let (d, f, kv) = (c.hidden, c.intermediate, c.kv_heads * c.head_dim());
		let mut expected = vec![
			("model.embed_tokens.weight".to_string(), vec![c.vocabulary, d]),
			("model.norm.weight".to_string(), vec![d]),
		];
		for i in 0..c.layers {
			let p = format!("model.layers.{i}");
			expected.extend([
				(format!("{p}.input_layernorm.weight"), vec![d]),
				(format!("{p}.self_attn.q_proj.weight"), vec![d, d]),
				(format!("{p}.self_attn.k_proj.weight"), vec![kv, d]),
				(format!("{p}.self_attn.v_proj.weight"), vec![kv, d]),
				(format!("{p}.self_attn.o_proj.weight"), vec![d, d]),
				(format!("{p}.post_attention_layernorm.weight"), vec![d]),
				(format!("{p}.mlp.gate_proj.weight"), vec![f, d]),
				(format!("{p}.mlp.up_proj.weight"), vec![f, d]),
				(format!("{p}.mlp.down_proj.weight"), vec![d, f]),
			]);
		}
		for (name, shape) in expected {
			let tensor = self.w(&name)?;
			if tensor.dims() != shape.as_slice() {
				return Err(MlError::Format(format!("{name} has shape {:?}", tensor.dims())));
			}
		}
		Ok(())
	}

	pub(crate) fn w(&self, name: &str) -> Result<&Tensor> {
		self.weights.get(name).ok_or_else(|| MlError::MissingWeight(name.into()))
	}

	/// The output projection's weight (`[vocabulary, hidden]`): the token embeddings when the
	/// file ties them, as SmolLM2's does.
	pub(crate) fn output_weight(&self) -> Result<&Tensor> {
		match self.weights.get("lm_head.weight") {
			Some(w) => Ok(w),
			None => self.w("model.embed_tokens.weight"),
		}
	}

	/// Whether the query and key weights are in llama.cpp's interleaved layout.
	pub(crate) fn interleaved(&self) -> bool {
		self.layout == Layout::Gguf
	}

	/// The token that ends a reply, where generation stops: the GGUF file's
	/// `tokenizer.ggml.eos_token_id` (SmolLM2-Instruct's `<|im_end|>`).
	pub fn end_of_sequence(&self) -> u32 {
		self.end_of_sequence
	}

	fn linear(&self, module: &str, x: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		let y = x.broadcast_matmul(&self.w(&format!("{module}.weight"))?.t()?)?;
		match lora {
			Some(lora) => lora.apply(module, x, y),
			None => Ok(y),
		}
	}

	/// The rotary tables for positions `0..time`: cosines and sines, `[time, head_dim / 2]`.
	fn rotary(&self, time: usize) -> Result<(Tensor, Tensor)> {
		rotary_tables(&self.config, time, &self.device)
	}

	fn rotate(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
		Ok(match self.layout {
			Layout::HuggingFace => candle_nn::rotary_emb::rope_slow(x, cos, sin)?,
			Layout::Gguf => candle_nn::rotary_emb::rope_i_slow(x, cos, sin)?,
		})
	}

	/// The next-token logits for each position of `tokens` (`[batch, time]`):
	/// `[batch, time, vocabulary]`.
	pub fn forward(&self, tokens: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		let (batch, time) = tokens.dims2()?;
		let c = &self.config;
		if time == 0 || time > c.context {
			return Err(MlError::Config(format!("{time} positions; the context is {}", c.context)));
		}
		let (d, heads, kv_heads, head) = (c.hidden, c.heads, c.kv_heads, c.head_dim());
		let repeat = heads / kv_heads;
		let embeddings = self.w("model.embed_tokens.weight")?;
		let mut x =
			embeddings.index_select(&tokens.flatten_all()?, 0)?.reshape((batch, time, d))?;
		let (cos, sin) = self.rotary(time)?;
		let mask = causal_mask(time, DType::F32, &self.device)?;
		let scale = 1.0 / (head as f64).sqrt();
		for i in 0..c.layers {
			let p = format!("model.layers.{i}");
			let h = rms_norm(&x, self.w(&format!("{p}.input_layernorm.weight"))?, c.norm_eps)?;
			let split = |t: Tensor, n: usize| -> Result<Tensor> {
				Ok(t.reshape((batch, time, n, head))?.transpose(1, 2)?.contiguous()?)
			};
			let q = split(self.linear(&format!("{p}.self_attn.q_proj"), &h, lora)?, heads)?;
			let k = split(self.linear(&format!("{p}.self_attn.k_proj"), &h, lora)?, kv_heads)?;
			let v = split(self.linear(&format!("{p}.self_attn.v_proj"), &h, lora)?, kv_heads)?;
			let q = self.rotate(&q, &cos, &sin)?;
			let k = self.rotate(&k, &cos, &sin)?;
			// Each key and value head serves `repeat` query heads (grouped-query attention).
			let share = |t: Tensor| -> Result<Tensor> {
				Ok(t.unsqueeze(2)?
					.broadcast_as((batch, kv_heads, repeat, time, head))?
					.contiguous()?
					.reshape((batch, heads, time, head))?)
			};
			let (k, v) = (share(k)?, share(v)?);
			let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?;
			let probs = softmax_last(&scores.broadcast_add(&mask)?)?;
			let attended = probs.matmul(&v)?.transpose(1, 2)?.reshape((batch, time, d))?;
			x = (x + self.linear(&format!("{p}.self_attn.o_proj"), &attended, lora)?)?;
			let h =
				rms_norm(&x, self.w(&format!("{p}.post_attention_layernorm.weight"))?, c.norm_eps)?;
			let gate = silu(&self.linear(&format!("{p}.mlp.gate_proj"), &h, lora)?)?;
			let up = self.linear(&format!("{p}.mlp.up_proj"), &h, lora)?;
			x = (x + self.linear(&format!("{p}.mlp.down_proj"), &(gate * up)?, lora)?)?;
		}
		let x = rms_norm(&x, self.w("model.norm.weight")?, c.norm_eps)?;
		let head_weights = match self.weights.get("lm_head.weight") {
			Some(w) => w,
			None => embeddings,
		};
		Ok(x.broadcast_matmul(&head_weights.t()?)?)
	}

	/// The text of `tokens`.
	pub fn decode(&self, tokens: &[u32]) -> Result<String> {
		self.tokenizer.decode(tokens, false).map_err(|e| MlError::Format(e.to_string()))
	}

	/// Continues `prompt` by `count` tokens, each the most likely next one (greedy decoding).
	pub fn generate(&self, prompt: &str, count: usize, lora: Option<&Lora>) -> Result<String> {
		let mut tokens = self.encode(prompt.as_bytes())?;
		let start = tokens.len();
		for _ in 0..count {
			let time = tokens.len();
			let input = Tensor::from_vec(tokens.clone(), (1, time), &self.device)?;
			let logits = self.forward(&input, lora)?.get(0)?.get(time - 1)?;
			tokens.push(logits.argmax(0)?.to_scalar::<u32>()?);
		}
		self.decode(&tokens[start..])
	}
}

impl LanguageModel for Llama {
	fn linear_modules(&self) -> Result<Vec<(String, (usize, usize))>> {
		let mut out = Vec::new();
		for (name, weight) in &self.weights {
			if let (Some(module), [rows, cols]) = (name.strip_suffix(".weight"), weight.dims()) {
				if module.starts_with("model.layers.") {
					out.push((module.to_string(), (*rows, *cols)));
				}
			}
		}
		Ok(out)
	}

	fn trainable(&self) -> Vec<Var> {
		Vec::new()
	}

	fn device(&self) -> &Device {
		&self.device
	}

	fn dtype(&self) -> DType {
		DType::F32
	}

	fn context(&self) -> usize {
		self.config.context
	}

	fn vocabulary(&self) -> usize {
		self.config.vocabulary
	}

	fn encode(&self, text: &[u8]) -> Result<Vec<u32>> {
		let text = std::str::from_utf8(text)
			.map_err(|e| MlError::Format(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
		let encoding =
			self.tokenizer.encode(text, false).map_err(|e| MlError::Format(e.to_string()))?;
		Ok(encoding.get_ids().to_vec())
	}

	fn end_of_document(&self) -> u32 {
		self.end_of_document
	}

	fn training_memory(&self, batch: usize, seq_len: usize) -> u64 {
		self.config.training_memory(batch, seq_len)
	}

	fn forward(&self, tokens: &Tensor, lora: Option<&Lora>) -> Result<Tensor> {
		Llama::forward(self, tokens, lora)
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use crate::{
		lora::LoraConfig,
		tests::max_difference,
		train::{evaluate, stream, train, TrainConfig},
	};
	use std::sync::OnceLock;

	/// SmolLM2-135M-Instruct, as `scripts/fetch-models.sh` leaves it in the model cache.
	pub(crate) fn gguf_path() -> std::path::PathBuf {
		let path = model_cache().join(SMOLLM2_FILE);
		assert!(path.exists(), "{} is missing: run scripts/fetch-models.sh", path.display());
		path
	}

	/// SmolLM2 loaded once for every test of the crate.
	pub(crate) fn smollm2() -> &'static Llama {
		static MODEL: OnceLock<Llama> = OnceLock::new();
		MODEL.get_or_init(|| Llama::load_gguf(&gguf_path(), &Device::Cpu).unwrap())
	}

	fn logits(model: &Llama, text: &str, lora: Option<&Lora>) -> Tensor {
		let tokens = model.encode(text.as_bytes()).unwrap();
		let input = Tensor::from_vec(tokens.clone(), (1, tokens.len()), &Device::Cpu).unwrap();
		model.forward(&input, lora).unwrap()
	}

	const ENGLISH: &str = "The licenses for most software and other practical works are designed \
		to take away your freedom to share and change the works. By contrast, the GNU General \
		Public License is intended to guarantee your freedom to share and change all versions \
		of a program, to make sure it remains free software for all its users.";

	#[test]
	fn the_gguf_metadata_gives_smollm2_135m() {
		let config = &smollm2().config;
		assert_eq!(
			(config.vocabulary, config.hidden, config.layers, config.heads, config.kv_heads),
			(49_152, 576, 30, 9, 3)
		);
		assert_eq!(config.context, 8_192);
		assert_eq!(config.parameters(), 134_515_008);
		// Frozen f32 weights (538 MB) and activations: a small step fits in 2 GiB; batches of
		// 4 x 256 tokens took 10.4 GiB at the peak (scripts/bench-training.sh).
		let gib = 1u64 << 30;
		assert!(smollm2().training_memory(2, 32) < 2 * gib);
		let (estimate, measured) = (smollm2().training_memory(4, 256), 10_686u64 << 20);
		assert!(estimate > measured && estimate < 2 * measured, "{}", estimate >> 20);
	}

	#[test]
	fn the_shape_and_memory_estimate_are_known_before_the_weights_are_loaded() {
		let config = LlamaConfig::from_gguf(&gguf_path()).unwrap();
		assert_eq!(&config, &smollm2().config);
		assert_eq!(config.training_memory(4, 256), smollm2().training_memory(4, 256));
		let not_gguf = tempfile::NamedTempFile::new().unwrap();
		std::fs::write(not_gguf.path(), b"not a model").unwrap();
		assert!(matches!(LlamaConfig::from_gguf(not_gguf.path()), Err(MlError::Format(_))));
	}

	#[test]
	fn hugging_face_layout_gives_the_logits_of_the_gguf_layout() {
		// The stored layout with interleaved rotation is what llama.cpp runs; undoing the
		// permutation and rotating halves must compute the same function.
		let stored = Llama::load(&gguf_path(), &Device::Cpu, Layout::Gguf).unwrap();
		let text = "Data contributors are paid for each inference.";
		let (a, b) = (logits(smollm2(), text, None), logits(&stored, text, None));
		let scale = a.abs().unwrap().flatten_all().unwrap().max(0).unwrap();
		let difference = max_difference(&a, &b);
		assert!(difference < 1e-3, "{difference} (logits up to {scale})");
		// Without the un-permutation, the rotation pairs the wrong dimensions.
		let mut wrong = Llama::load(&gguf_path(), &Device::Cpu, Layout::Gguf).unwrap();
		wrong.layout = Layout::HuggingFace;
		assert!(max_difference(&a, &logits(&wrong, text, None)) > 1.0);
	}

	#[test]
	fn smollm2_knows_english() {
		let model = smollm2();
		let completion = model.generate("The capital of France is", 3, None).unwrap();
		assert!(completion.contains("Paris"), "{completion:?}");
		let tokens = stream(model, &[ENGLISH.as_bytes().to_vec()]).unwrap();
		let loss = evaluate(model, None, &tokens, tokens.len() - 1, 1).unwrap();
		// Uniform guessing is ln 49,152 = 10.8 nats; a model that read the text through the wrong
		// tokenizer or rotation is far above this bound.
		assert!(loss < 4.5, "{loss}");
	}

	#[test]
	fn the_tokenizer_round_trips_and_reads_digits_one_by_one() {
		let model = smollm2();
		let text = "Version 2609 of the chain: 12 datanets, naïve café.";
		let tokens = model.encode(text.as_bytes()).unwrap();
		assert_eq!(model.decode(&tokens).unwrap(), text);
		let digits = model.encode(b"2609").unwrap();
		assert_eq!(digits.len(), 4, "{digits:?}");
		assert_eq!(model.decode(&[model.end_of_document()]).unwrap(), "<|endoftext|>");
		assert!(model.encode(&[0xff, 0xfe]).is_err());
	}

	#[test]
	fn a_fresh_adapter_leaves_the_logits_as_they_were_and_then_learns() {
		let model = smollm2();
		let config = LoraConfig {
			rank: 4,
			alpha: 8.0,
			targets: ["q_proj", "k_proj", "v_proj", "gate_proj"].map(String::from).to_vec(),
		};
		let lora = Lora::new(model, config, 1).unwrap();
		assert_eq!(lora.modules().count(), 4 * 30);
		let text = "OpenLedger pays the people whose data trained a model.";
		assert_eq!(
			max_difference(&logits(model, text, None), &logits(model, text, Some(&lora))),
			0.0
		);

		let documents = vec![b"zebra quartz jumps: the OpenLedger token is OPEN.".to_vec(); 4];
		let tokens = stream(model, &documents).unwrap();
		let before = evaluate(model, Some(&lora), &tokens, 16, 4).unwrap();
		let settings = TrainConfig {
			steps: 6,
			batch_size: 2,
			seq_len: 16,
			learning_rate: 5e-3,
			warmup_steps: 1,
			seed: 2,
			..TrainConfig::default()
		};
		train(model, Some(&lora), &documents, &settings).unwrap();
		let after = evaluate(model, Some(&lora), &tokens, 16, 4).unwrap();
		assert!(after < before * 0.8, "{before} -> {after}");
		// Only adapters train on llama.
		let err = train(model, None, &documents, &settings).unwrap_err();
		assert!(err.to_string().contains("adapters only"), "{err}");
	}
}
