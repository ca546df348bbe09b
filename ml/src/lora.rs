//! LoRA adapters: a trained low-rank update `scale * B A` beside a frozen weight `W`, so that a
//! layer computes `x Wᵀ + scale * (x Aᵀ) Bᵀ` with `scale = alpha / rank`.
//!
//! `A` starts small and random, `B` at zero, so a fresh adapter leaves the model's outputs exactly
//! as they were. Adapters are saved as PEFT saves them (`adapter_model.safetensors` with tensors
//! named `base_model.model.{module}.lora_A.weight` / `lora_B.weight`, and `adapter_config.json`),
//! so that the Python ecosystem's tools load the adapters this chain trains.

use crate::{rng::Rng, LanguageModel, MlError, Result};
use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};

/// The projections of a transformer block an adapter may target, by their PEFT module names.
/// (`tiny-byte-gpt` has no `gate_proj`.)
pub const TARGETS: [&str; 7] =
	["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

/// An adapter's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
	pub rank: usize,
	pub alpha: f64,
	/// Module names from [`TARGETS`], e.g. `["q_proj", "v_proj"]`.
	pub targets: Vec<String>,
}

impl LoraConfig {
	pub(crate) fn check(&self) -> Result<()> {
		if self.rank == 0 {
			return Err(MlError::Config("the LoRA rank must be at least 1".into()));
		}
		if self.targets.is_empty() {
			return Err(MlError::Config("a LoRA adapter needs at least one target".into()));
		}
		if let Some(t) = self.targets.iter().find(|t| !TARGETS.contains(&t.as_str())) {
			return Err(MlError::Config(format!("`{t}` is not a LoRA target")));
		}
		Ok(())
	}

	/// `alpha / rank`.
	pub fn scale(&self) -> f64 {
		self.alpha / self.rank as f64
	}

	/// The shape an `adapter_config.json` written by PEFT (or [`Lora::save`]) gives.
	pub fn from_peft_json(text: &str) -> Result<Self> {
		let peft: PeftConfig =
			serde_json::from_str(text).map_err(|e| MlError::Format(e.to_string()))?;
		let config =
			LoraConfig { rank: peft.r, alpha: peft.lora_alpha, targets: peft.target_modules };
		config.check()?;
		Ok(config)
	}

	/// The `adapter_config.json` PEFT reads beside an adapter of this shape.
	pub fn peft_json(&self, base_model: &str) -> Result<String> {
		let config = PeftConfig {
			peft_type: "LORA".into(),
			task_type: "CAUSAL_LM".into(),
			base_model_name_or_path: base_model.into(),
			r: self.rank,
			lora_alpha: self.alpha,
			lora_dropout: 0.0,
			target_modules: self.targets.clone(),
			bias: "none".into(),
			fan_in_fan_out: false,
			inference_mode: true,
		};
		serde_json::to_string_pretty(&config).map_err(|e| MlError::Format(e.to_string()))
	}
}

/// The `adapter_config.json` PEFT writes for a LoRA adapter.
#[derive(Debug, Serialize, Deserialize)]
struct PeftConfig {
	peft_type: String,
	task_type: String,
	base_model_name_or_path: String,
	r: usize,
	lora_alpha: f64,
	lora_dropout: f64,
	target_modules: Vec<String>,
	bias: String,
	fan_in_fan_out: bool,
	inference_mode: bool,
}

/// An adapter: `A` (`[rank, in]`) and `B` (`[out, rank]`) for each adapted module.
pub struct Lora {
	pub config: LoraConfig,
	/// By module path, e.g. `model.layers.0.self_attn.q_proj`.
	a: BTreeMap<String, Var>,
	b: BTreeMap<String, Var>,
}

impl Lora {
	/// A fresh adapter for `model`: `A` uniform in `±1/sqrt(in)` from `seed`, `B` zero.
	pub fn new<M: LanguageModel + ?Sized>(
		model: &M,
		config: LoraConfig,
		seed: u64,
	) -> Result<Self> {
		config.check()?;
		let mut rng = Rng::new(seed);
		let (dtype, device) = (model.dtype(), model.device());
		let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
		for (module, (out, input)) in model.linear_modules()? {
			let Some(leaf) = module.rsplit('.').next() else { continue };
			if !config.targets.iter().any(|t| t == leaf) {
				continue;
			}
			let bound = 1.0 / (input as f64).sqrt();
			let values: Vec<f64> =
				(0..config.rank * input).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect();
			let init = Tensor::from_vec(values, (config.rank, input), device)?.to_dtype(dtype)?;
			a.insert(module.clone(), Var::from_tensor(&init)?);
			b.insert(module, Var::zeros((out, config.rank), dtype, device)?);
		}
		if a.is_empty() {
			return Err(MlError::Config(format!(
				"the model has no {} layer to adapt",
				config.targets.join(" or ")
			)));
		}
		Ok(Self { config, a, b })
	}

	/// The base output `y` of `module` for input `x`, plus this adapter's update if it adapts
	/// `module`.
	pub fn apply(&self, module: &str, x: &Tensor, y: Tensor) -> Result<Tensor> {
		let (Some(a), Some(b)) = (self.a.get(module), self.b.get(module)) else { return Ok(y) };
		let update =
			x.broadcast_matmul(&a.as_tensor().t()?)?.broadcast_matmul(&b.as_tensor().t()?)?;
		Ok((y + (update * self.config.scale())?)?)
	}

	/// The trainable weights, `A` then `B` of each module in name order.
	pub fn vars(&self) -> Vec<Var> {
		self.a.values().chain(self.b.values()).cloned().collect()
	}

	/// The number of trainable weights.
	pub fn parameters(&self) -> usize {
		self.vars().iter().map(|v| v.as_tensor().elem_count()).sum()
	}

	/// The adapted modules.
	pub fn modules(&self) -> impl Iterator<Item = &str> {
		self.a.keys().map(String::as_str)
	}

	/// Each adapted module with its `A` (`[rank, in]`) and `B` (`[out, rank]`).
	pub fn matrices(&self) -> impl Iterator<Item = (&str, &Tensor, &Tensor)> {
		self.a.iter().filter_map(|(module, a)| {
			let b = self.b.get(module)?;
			Some((module.as_str(), a.as_tensor(), b.as_tensor()))
		})
	}

	/// Writes `adapter_model.safetensors` and `adapter_config.json` into `dir`.
	pub fn save(&self, dir: &Path, base_model: &str) -> Result<()> {
		std::fs::create_dir_all(dir)?;
		let mut tensors = std::collections::HashMap::new();
		for (module, a) in &self.a {
			tensors
				.insert(format!("base_model.model.{module}.lora_A.weight"), a.as_tensor().clone());
		}
		for (module, b) in &self.b {
			tensors
				.insert(format!("base_model.model.{module}.lora_B.weight"), b.as_tensor().clone());
		}
		candle_core::safetensors::save(&tensors, dir.join("adapter_model.safetensors"))?;
		let json = self.config.peft_json(base_model)?;
		std::fs::write(dir.join("adapter_config.json"), json)?;
		Ok(())
	}

	/// Reads an adapter written by [`Lora::save`] (or by PEFT, for the targets it knows).
	pub fn load(dir: &Path, device: &Device) -> Result<Self> {
		let text = std::fs::read_to_string(dir.join("adapter_config.json"))?;
		let config = LoraConfig::from_peft_json(&text)?;
		let tensors =
			candle_core::safetensors::load(dir.join("adapter_model.safetensors"), device)?;
		let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
		for (name, tensor) in tensors {
			let Some(rest) = name.strip_prefix("base_model.model.") else { continue };
			if let Some(module) = rest.strip_suffix(".lora_A.weight") {
				a.insert(module.to_string(), Var::from_tensor(&tensor)?);
			} else if let Some(module) = rest.strip_suffix(".lora_B.weight") {
				b.insert(module.to_string(), Var::from_tensor(&tensor)?);
			}
		}
		if a.is_empty() || a.keys().ne(b.keys()) {
			return Err(MlError::Format("the adapter's A and B matrices do not pair up".into()));
		}
		Ok(Self { config, a, b })
	}
}
