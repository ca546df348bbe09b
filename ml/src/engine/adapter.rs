//! LoRA adapters for serving, and the kernels that apply many of them in one step.
//!
//! A row of a step names an [`AdapterSet`]: no adapter (the base model), one, or an ensemble of
//! several with weights. The base projection of a module runs once for the whole step; each
//! token then gets its set's update `Σ_i w_i (alpha_i / r_i) B_i A_i x`. An ensemble is one low
//! rank update of the summed rank: its `A`s stacked (`[Σ r_i, in]`) and its `B`s side by side
//! with each adapter's scale and weight folded in, so every set is applied like one adapter.
//!
//! Two kernels, after Punica (Chen et al. 2023) and S-LoRA (Sheng et al. 2023):
//! - **BGMV** (batched gather matrix-vector) for decode rows (one token each): the step's sets
//!   are stacked per module as `A: [n, r_max, in]` and `Bᵀ: [n, r_max, out]`, ranks padded with
//!   zeros to the largest (a multiple of [`RANK_ALIGN`]); each token gathers its set's slice and
//!   one batched matmul gives every token's update. The stacks are kept while the step's sets
//!   stay the same, as they do from one decode step to the next.
//! - **SGMV** (segmented gather) for prefill rows (many tokens of one set): the row's tokens
//!   times its own set's `A` then `Bᵀ`, unpadded.
//!
//! The updates of every row are then added to the base output in one `index_add`. An adapter is
//! never merged into the base weights for a request.

use super::model::{ServingModel, PROJECTIONS};
use crate::{
	lora::{Lora, LoraConfig},
	MlError, Result,
};
use candle_core::{DType, Device, Tensor};
use std::{
	collections::{HashMap, HashSet},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
};

/// The largest rank of one adapter the engine serves.
pub const MAX_RANK: usize = 64;

/// The largest summed rank of an ensemble.
pub const MAX_SET_RANK: usize = 256;

/// Stacked ranks are padded to a multiple of this many, so that the zero padding a set gets
/// from the other sets of a step fills whole SIMD lanes: see the batch-invariance rule in
/// [`crate::engine`].
pub const RANK_ALIGN: usize = 8;

static NEXT_ADAPTER: AtomicU64 = AtomicU64::new(0);

/// A LoRA adapter checked against a served model, its matrices resolved to the model's module
/// indices.
pub struct Adapter {
	id: u64,
	pub config: LoraConfig,
	/// By module index: `A` (`[rank, in]`) and `B` (`[out, rank]`), f32, without the scale.
	modules: Vec<Option<(Tensor, Tensor)>>,
}

impl std::fmt::Debug for Adapter {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("Adapter")
			.field("id", &self.id)
			.field("config", &self.config)
			.field("modules", &self.adapted())
			.finish()
	}
}

impl Adapter {
	/// An adapter from the bytes of a PEFT `adapter_model.safetensors` (tensors named
	/// `base_model.model.{module}.lora_A.weight` / `lora_B.weight`) and its shape, checked
	/// against `model`: every tensor names a projection of the model whose kind is among the
	/// targets, `A` is `[rank, in]` and `B` is `[out, rank]` for that projection, the values are
	/// finite, and the rank is at most [`MAX_RANK`].
	pub fn from_bytes(
		model: &ServingModel,
		safetensors: &[u8],
		config: LoraConfig,
	) -> Result<Self> {
		let tensors = candle_core::safetensors::load_buffer(safetensors, model.device())
			.map_err(|e| MlError::Format(format!("adapter_model.safetensors: {e}")))?;
		let mut pairs: HashMap<String, (Option<Tensor>, Option<Tensor>)> = HashMap::new();
		for (name, tensor) in tensors {
			let module = name.strip_prefix("base_model.model.");
			let (module, is_a) = match module {
				Some(rest) => {
					match (rest.strip_suffix(".lora_A.weight"), rest.strip_suffix(".lora_B.weight"))
					{
						(Some(m), _) => (m, true),
						(_, Some(m)) => (m, false),
						_ => {
							return Err(MlError::Format(format!(
								"unexpected adapter tensor `{name}`"
							)))
						},
					}
				},
				None => return Err(MlError::Format(format!("unexpected adapter tensor `{name}`"))),
			};
			let entry = pairs.entry(module.to_string()).or_default();
			if is_a {
				entry.0 = Some(tensor);
			} else {
				entry.1 = Some(tensor);
			}
		}
		let mut matrices = Vec::with_capacity(pairs.len());
		for (module, pair) in pairs {
			match pair {
				(Some(a), Some(b)) => matrices.push((module, a, b)),
				_ => {
					return Err(MlError::Format(format!(
						"`{module}` has only one of lora_A and lora_B"
					)))
				},
			}
		}
		Self::from_matrices(model, config, matrices)
	}

	/// An adapter from PEFT's two files: `adapter_model.safetensors` bytes and the text of
	/// `adapter_config.json`.
	pub fn from_peft(model: &ServingModel, safetensors: &[u8], config_json: &str) -> Result<Self> {
		Self::from_bytes(model, safetensors, LoraConfig::from_peft_json(config_json)?)
	}

	/// An adapter from one trained in this process.
	pub fn from_lora(model: &ServingModel, lora: &Lora) -> Result<Self> {
		let matrices = lora
			.matrices()
			.map(|(module, a, b)| (module.to_string(), a.clone(), b.clone()))
			.collect();
		Self::from_matrices(model, lora.config.clone(), matrices)
	}

	fn from_matrices(
		model: &ServingModel,
		config: LoraConfig,
		matrices: Vec<(String, Tensor, Tensor)>,
	) -> Result<Self> {
		config.check()?;
		let rank = config.rank;
		if rank > MAX_RANK {
			return Err(MlError::Config(format!(
				"rank {rank}: the engine serves ranks up to {MAX_RANK}"
			)));
		}
		if !config.alpha.is_finite() {
			return Err(MlError::Config(format!("alpha {} is not finite", config.alpha)));
		}
		if matrices.is_empty() {
			return Err(MlError::Format("the adapter has no LoRA matrices".into()));
		}
		let mut modules = vec![None; model.modules()];
		for (module, a, b) in matrices {
			let index = model.module_index(&module).ok_or_else(|| {
				MlError::Format(format!("`{module}` is not a projection of this model"))
			})?;
			let leaf = PROJECTIONS[index % PROJECTIONS.len()].1;
			if !config.targets.iter().any(|t| t == leaf) {
				return Err(MlError::Format(format!(
					"`{module}` is adapted but `{leaf}` is not among the targets {:?}",
					config.targets
				)));
			}
			let (out, input) = model.module_shape(index).ok_or_else(|| {
				MlError::Format(format!("`{module}` is not a projection of this model"))
			})?;
			if a.dims() != [rank, input] {
				return Err(MlError::Format(format!(
					"{module}.lora_A is {:?}; rank {rank} on this model needs [{rank}, {input}]",
					a.dims()
				)));
			}
			if b.dims() != [out, rank] {
				return Err(MlError::Format(format!(
					"{module}.lora_B is {:?}; rank {rank} on this model needs [{out}, {rank}]",
					b.dims()
				)));
			}
			let a = a.to_dtype(DType::F32)?.to_device(model.device())?.contiguous()?;
			let b = b.to_dtype(DType::F32)?.to_device(model.device())?.contiguous()?;
			for (name, t) in [("lora_A", &a), ("lora_B", &b)] {
				let finite = t.flatten_all()?.to_vec1::<f32>()?.iter().all(|x| x.is_finite());
				if !finite {
					return Err(MlError::Format(format!(
						"{module}.{name} has values that are not finite"
					)));
				}
			}
			modules[index] = Some((a, b));
		}
		let id = NEXT_ADAPTER.fetch_add(1, Ordering::Relaxed);
		Ok(Self { id, config, modules })
	}

	/// A number no other adapter of this process has.
	pub fn id(&self) -> u64 {
		self.id
	}

	/// `alpha / rank`.
	pub fn scale(&self) -> f64 {
		self.config.scale()
	}

	/// How many modules it adapts.
	pub fn adapted(&self) -> usize {
		self.modules.iter().filter(|m| m.is_some()).count()
	}

	/// The bytes its matrices hold (f32): what an [`AdapterPool`](super::AdapterPool) counts.
	pub fn bytes(&self) -> usize {
		self.modules
			.iter()
			.flatten()
			.map(|(a, b)| (a.elem_count() + b.elem_count()) * DType::F32.size_in_bytes())
			.sum()
	}

	/// `A` (`[rank, in]`) and `B` (`[out, rank]`) of module `index`, if it adapts it.
	pub fn matrices(&self, index: usize) -> Option<(&Tensor, &Tensor)> {
		self.modules.get(index)?.as_ref().map(|(a, b)| (a, b))
	}

	/// The number of module slots (the model's layers times [`PROJECTIONS`]).
	pub(crate) fn slots(&self) -> usize {
		self.modules.len()
	}
}

/// The adapters a row runs with: none (the base model), one, or a weighted ensemble whose
/// update is the weighted sum of its members' updates.
#[derive(Clone, Debug, Default)]
pub struct AdapterSet {
	members: Vec<(Arc<Adapter>, f32)>,
}

/// What identifies a set: its members' ids and weights.
type SetKey = Vec<(u64, u32)>;

impl AdapterSet {
	/// The base model.
	pub fn base() -> Self {
		Self::default()
	}

	/// One adapter, at weight 1.
	pub fn single(adapter: Arc<Adapter>) -> Self {
		Self { members: vec![(adapter, 1.0)] }
	}

	/// An ensemble: `Σ_i weight_i * update_i`. The weights are finite; the ranks sum to at most
	/// [`MAX_SET_RANK`].
	pub fn ensemble(members: Vec<(Arc<Adapter>, f32)>) -> Result<Self> {
		if let Some((_, w)) = members.iter().find(|(_, w)| !w.is_finite()) {
			return Err(MlError::Config(format!("ensemble weight {w} is not finite")));
		}
		let rank: usize = members.iter().map(|(a, _)| a.config.rank).sum();
		if rank > MAX_SET_RANK {
			return Err(MlError::Config(format!(
				"the ensemble's ranks sum to {rank}; at most {MAX_SET_RANK} are served"
			)));
		}
		Ok(Self { members })
	}

	pub fn members(&self) -> &[(Arc<Adapter>, f32)] {
		&self.members
	}

	pub fn is_base(&self) -> bool {
		self.members.is_empty()
	}

	fn key(&self) -> SetKey {
		self.members.iter().map(|(a, w)| (a.id, w.to_bits())).collect()
	}

	/// One adapter of summed rank: per module, the members' `A`s stacked (`[Σ r_i, in]`) and
	/// their `Bᵀ`s stacked with `w_i * alpha_i / r_i` folded in (`[Σ r_i, out]`).
	fn pack(&self, modules: usize) -> Result<PackedSet> {
		let mut packed = Vec::with_capacity(modules);
		for index in 0..modules {
			let (mut a_parts, mut bt_parts) = (Vec::new(), Vec::new());
			for (adapter, weight) in &self.members {
				if let Some((a, b)) = adapter.matrices(index) {
					a_parts.push(a.clone());
					let factor = f64::from(*weight) * adapter.scale();
					bt_parts.push((b.t()? * factor)?.contiguous()?);
				}
			}
			packed.push(if a_parts.is_empty() {
				None
			} else {
				Some((Tensor::cat(&a_parts, 0)?, Tensor::cat(&bt_parts, 0)?))
			});
		}
		Ok(PackedSet { modules: packed })
	}
}

/// A set packed as one adapter: per module, `A` (`[r, in]`) and the scaled `Bᵀ` (`[r, out]`).
struct PackedSet {
	modules: Vec<Option<(Tensor, Tensor)>>,
}

/// One module's stack over the sets of a step's decode rows.
struct ModuleStack {
	// a: [n, r_max, in]; bt: [n, r_max, out]
	a: Tensor,
	bt: Tensor,
	/// The stack index of each of the step's sets, if the set adapts this module.
	slot_of: Vec<Option<u32>>,
}

/// The stacks of every module for one list of sets.
struct Stacks {
	key: Vec<SetKey>,
	modules: Vec<Option<ModuleStack>>,
}

impl Stacks {
	fn build(
		key: Vec<SetKey>,
		sets: &[Arc<PackedSet>],
		modules: usize,
		device: &Device,
	) -> Result<Self> {
		let mut stacks = Vec::with_capacity(modules);
		for index in 0..modules {
			let members: Vec<(usize, &(Tensor, Tensor))> = sets
				.iter()
				.enumerate()
				.filter_map(|(s, p)| p.modules[index].as_ref().map(|m| (s, m)))
				.collect();
			let Some((_, (a0, bt0))) = members.first() else {
				stacks.push(None);
				continue;
			};
			let (input, out) = (a0.dim(1)?, bt0.dim(1)?);
			let widest =
				members.iter().map(|(_, (a, _))| a.dim(0)).collect::<Result<Vec<_>, _>>()?;
			let r_max = widest.into_iter().max().unwrap_or(1).next_multiple_of(RANK_ALIGN);
			let n = members.len();
			let a = Tensor::zeros((n * r_max, input), DType::F32, device)?;
			let bt = Tensor::zeros((n * r_max, out), DType::F32, device)?;
			let mut slot_of = vec![None; sets.len()];
			for (slot, (s, (ma, mbt))) in members.iter().enumerate() {
				a.slice_set(ma, 0, slot * r_max)?;
				bt.slice_set(mbt, 0, slot * r_max)?;
				slot_of[*s] = Some(slot as u32);
			}
			stacks.push(Some(ModuleStack {
				a: a.reshape((n, r_max, input))?,
				bt: bt.reshape((n, r_max, out))?,
				slot_of,
			}));
		}
		Ok(Self { key, modules: stacks })
	}
}

/// What one step's rows need of the adapters: built by [`AdapterCache::plan`], read by the
/// forward pass once per module.
pub(crate) struct LoraPlan {
	/// Per module, the decode tokens it adapts, with the stacks.
	bgmv: Vec<Option<Gather>>,
	stacks: Option<Arc<Stacks>>,
	/// Prefill rows with adapters: first token, token count, token indices (`u32 [count]`) and
	/// the set.
	segments: Vec<(usize, usize, Tensor, Arc<PackedSet>)>,
}

/// The decode tokens of one module: token indices and stack slots, as tensors (`u32 [E]`) and
/// on the host.
#[derive(Clone)]
struct Gather {
	tokens: Tensor,
	slots: Tensor,
	host: Vec<(u32, u32)>,
}

/// BGMV on the host: for each token, `u = A x` (one dot product per rank) and then
/// `delta = Bᵀ u` (an update of the output per rank, in rank order): `[E, out]`. `None` off the
/// host.
// h: [tokens, in]
fn bgmv_host(h: &Tensor, gather: &Gather, stack: &ModuleStack) -> Result<Option<Tensor>> {
	if !h.device().is_cpu() {
		return Ok(None);
	}
	let (_, r_max, input) = stack.a.dims3()?;
	let out = stack.bt.dim(2)?;
	let x: Vec<f32> = h.flatten_all()?.to_vec1()?;
	let mut deltas = vec![0f32; gather.host.len() * out];
	let done = super::host::with_host2(&stack.a, &stack.bt, |a, bt| {
		let mut u = vec![0f32; r_max];
		for (delta, &(token, slot)) in deltas.chunks_exact_mut(out).zip(&gather.host) {
			let x = &x[token as usize * input..][..input];
			let a = &a[slot as usize * r_max * input..][..r_max * input];
			let bt = &bt[slot as usize * r_max * out..][..r_max * out];
			for (u, a) in u.iter_mut().zip(a.chunks_exact(input)) {
				*u = super::host::dot(x, a);
			}
			for (&u, bt) in u.iter().zip(bt.chunks_exact(out)) {
				super::host::axpy(u, bt, delta);
			}
		}
	});
	match done {
		Some(()) => Ok(Some(Tensor::from_vec(deltas, (gather.host.len(), out), h.device())?)),
		None => Ok(None),
	}
}

impl LoraPlan {
	/// `y` plus each token's update for module `index`.
	// h: [tokens, in] (the module's input), y: [tokens, out] (its base output) -> [tokens, out]
	pub(crate) fn apply(&self, index: usize, h: &Tensor, y: Tensor) -> Result<Tensor> {
		let mut rows = Vec::new();
		let mut deltas = Vec::new();
		if let (Some(Some(gather)), Some(stacks)) = (self.bgmv.get(index), &self.stacks) {
			if let Some(Some(stack)) = stacks.modules.get(index) {
				let d = match bgmv_host(h, gather, stack)? {
					Some(d) => d,
					None => {
						// BGMV: gather each token's input and its set's matrices, then one bmm
						// each way.
						let x = h.index_select(&gather.tokens, 0)?.unsqueeze(1)?; // [E, 1, in]
						let a = stack.a.index_select(&gather.slots, 0)?; // [E, r_max, in]
						let bt = stack.bt.index_select(&gather.slots, 0)?; // [E, r_max, out]
						let u = x.matmul(&a.transpose(1, 2)?)?; // [E, 1, r_max]
						u.matmul(&bt)?.squeeze(1)? // [E, out]
					},
				};
				rows.push(gather.tokens.clone());
				deltas.push(d);
			}
		}
		for (first, count, tokens, set) in &self.segments {
			if let Some((a, bt)) = &set.modules[index] {
				// SGMV: the row's tokens through its own set, unpadded.
				let x = h.narrow(0, *first, *count)?; // [count, in]
				let d = x.matmul(&a.t()?)?.matmul(bt)?; // [count, out]
				rows.push(tokens.clone());
				deltas.push(d);
			}
		}
		if deltas.is_empty() {
			return Ok(y);
		}
		let rows = Tensor::cat(&rows, 0)?;
		let deltas = Tensor::cat(&deltas, 0)?;
		Ok(y.index_add(&rows, &deltas, 0)?)
	}
}

/// The packed sets and stacks of the sets in use, kept from one step to the next.
#[derive(Default)]
pub(crate) struct AdapterCache {
	packed: HashMap<SetKey, Arc<PackedSet>>,
	stacks: Option<Arc<Stacks>>,
}

impl AdapterCache {
	/// The plan of a step whose rows are `(set, first token, token count)`.
	pub(crate) fn plan(
		&mut self,
		model: &ServingModel,
		rows: &[(&AdapterSet, usize, usize)],
	) -> Result<LoraPlan> {
		let modules = model.modules();
		let device = model.device();
		let mut used = HashSet::new();
		let mut segments = Vec::new();
		let mut decode: Vec<(usize, SetKey)> = Vec::new();
		for &(set, first, count) in rows {
			if set.is_base() {
				continue;
			}
			if let Some((adapter, _)) = set.members.iter().find(|(a, _)| a.slots() != modules) {
				return Err(MlError::Config(format!(
					"adapter {} was loaded for another model",
					adapter.id
				)));
			}
			let key = set.key();
			let packed = match self.packed.get(&key) {
				Some(p) => p.clone(),
				None => {
					let p = Arc::new(set.pack(modules)?);
					self.packed.insert(key.clone(), p.clone());
					p
				},
			};
			used.insert(key.clone());
			if count == 1 {
				decode.push((first, key));
			} else {
				let tokens: Vec<u32> = (first..first + count).map(|t| t as u32).collect();
				segments.push((first, count, Tensor::from_vec(tokens, count, device)?, packed));
			}
		}
		// The stacks, rebuilt only when the decode rows' sets change.
		let mut keys: Vec<SetKey> = decode.iter().map(|(_, k)| k.clone()).collect();
		keys.sort();
		keys.dedup();
		let stacks = if keys.is_empty() {
			None
		} else if let Some(stacks) = self.stacks.as_ref().filter(|s| s.key == keys) {
			Some(stacks.clone())
		} else {
			let sets: Vec<Arc<PackedSet>> =
				keys.iter().filter_map(|k| self.packed.get(k).cloned()).collect();
			let stacks = Arc::new(Stacks::build(keys.clone(), &sets, modules, device)?);
			self.stacks = Some(stacks.clone());
			Some(stacks)
		};
		let mut bgmv = vec![None; modules];
		if let Some(stacks) = &stacks {
			let set_of: Vec<usize> =
				decode.iter().map(|(_, k)| stacks.key.binary_search(k).unwrap_or(0)).collect();
			for (index, stack) in stacks.modules.iter().enumerate() {
				let Some(stack) = stack else { continue };
				let (mut tokens, mut slots) = (Vec::new(), Vec::new());
				for ((token, _), set) in decode.iter().zip(&set_of) {
					if let Some(slot) = stack.slot_of[*set] {
						tokens.push(*token as u32);
						slots.push(slot);
					}
				}
				if !tokens.is_empty() {
					let n = tokens.len();
					let host = tokens.iter().copied().zip(slots.iter().copied()).collect();
					bgmv[index] = Some(Gather {
						tokens: Tensor::from_vec(tokens, n, device)?,
						slots: Tensor::from_vec(slots, n, device)?,
						host,
					});
				}
			}
		}
		// Sets no row used this step are let go.
		self.packed.retain(|k, _| used.contains(k));
		Ok(LoraPlan { bgmv, stacks, segments })
	}
}
