//! OpenLoRA serving: every published model on the base models the configuration names, served
//! from one resident copy of each base through an OpenAI-compatible API ([`api`]).
//!
//! - **Which models**: [`Serving::refresh`] reads the chain's models through the models runtime
//!   API (`ModelsApi_models`, a page at a time) every poll interval and serves each one that is
//!   published, is a LoRA adapter, and was trained on a configured base. A model retired or
//!   removed on chain is no longer served (404) and leaves the adapter pool.
//! - **The engine**: one thread per base model runs the scheduler of `openledger-ml`'s engine
//!   (continuous batching over one resident base, adapters applied per row). HTTP handlers submit
//!   requests from any task and wake the thread; a request's tokens come back through a channel.
//! - **Adapters**: the engine thread asks for the adapters queued requests need; a loader task
//!   fetches each artifact (this provider's blob store first, then the blob store of the provider
//!   that trained it, then every other registered provider's), checks it against the hash the
//!   chain registered, keeps it in the blob store (so that `GET /v1/blobs/0x{hash}` re-serves it
//!   and the model outlives its trainer) with PEFT's `adapter_config.json` beside it in
//!   `{data_dir}/models/{id}/`, and loads it into the pool. Requests on other adapters go on
//!   while one loads; one whose adapter cannot be had is answered with the reason.
//! - **Attribution**: each answer carries the span attribution of its text under each model's
//!   corpus index ([`crate::attribution`]), computed off the async runtime once the answer's
//!   text is whole. The index is fetched (by the hash its training recorded, from the trainer's
//!   blob store first) when the model's adapter is, kept in the blob store and memory-mapped.
//! - **Fully trained tiny-byte-gpt models** (`Method::Full`) are not adapters: each would need an
//!   engine of its own, and they are not served. `/v1/models` lists adapters only.

pub mod api;
pub mod metrics;
pub mod openai;
pub mod text;

use crate::{
	attribution::{
		self as attribution, Cache, Contributors, InfluenceOutcome, LoadedFeatures, LoadedIndex,
		ModelAttribution, Outcome,
	},
	chain::{Chain, ChainError},
	config::{Precision, ServingConfig},
	daemon::Shared,
	models::{blob_endpoints, lora_config},
	store::content_hash,
	training::BaseModels as BaseWeights,
};
use metrics::{Ended, Metrics};
use openai::{ApiError, Generation, Prompt};
use openledger_ml::{
	engine::{
		AdapterPool, Event, FinishReason, GenerationRequest, KvCacheConfig, PoolConfig,
		SamplingParams, Scheduler, SchedulerConfig, ServingModel, SubmitError, Submitter,
		DEFAULT_BLOCK_SIZE,
	},
	lora::LoraConfig,
	tiny::TinyByteGpt,
};
use openledger_runtime::{AccountId, Balance, Runtime};
use pallet_models::{
	Architecture, BaseModel, BaseModelId, ModelId, ModelOf, ModelStatus, TrainingRecords,
};
use sp_core::H256;
use std::{
	collections::{BTreeMap, HashSet},
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		mpsc, Arc, RwLock,
	},
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use text::Codec;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Adapter loads under way at once, per base model.
const PARALLEL_LOADS: usize = 4;
/// A page of the models runtime API.
const PAGE: u32 = 100;

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServingError {
	#[error("reading the base models")]
	Chain(#[from] ChainError),
	#[error("`serving.base_models` names {0:?}, which is not a base model on chain")]
	UnknownBase(String),
	#[error("base model {name:?}: its weights file (hash {hash:?}) is not in `base_models_dir`")]
	NoWeights { name: String, hash: H256 },
	#[error("base model {name:?}: the built-in tiny-byte-gpt hashes to {found:?}, the chain registers {registered:?}")]
	TinyMismatch { name: String, found: H256, registered: H256 },
	#[error("base model {name:?}")]
	Model { name: String, source: openledger_ml::MlError },
}

/// A model served: what the chain records of it.
#[derive(Clone, Debug)]
pub struct Served {
	pub id: ModelId,
	pub base: BaseModelId,
	pub name: String,
	pub owner: AccountId,
	/// The provider that trained it.
	pub trainer: AccountId,
	pub artifact: H256,
	pub length: u64,
	pub lora: LoraConfig,
	/// Unix seconds when this provider first served it.
	pub listed: u64,
	/// Its owner's price per 1,000 tokens.
	pub price: Balance,
	/// What its training recorded for attribution (none for models trained before records).
	pub records: Option<TrainingRecords>,
}

/// What the engine thread is told.
enum Command {
	/// A request was submitted.
	Wake,
	/// An adapter load ended.
	Loaded(ModelId, Result<(), String>),
}

/// One base model, resident, with its engine thread.
pub struct BaseServer {
	pub id: BaseModelId,
	pub name: String,
	pub codec: Codec,
	/// What span attribution needs to know of each token of `codec`'s vocabulary.
	pub classes: openledger_attribution::TokenClasses,
	pub context: usize,
	pub metrics: Arc<Metrics>,
	submitter: Submitter<ModelId>,
	pool: Arc<AdapterPool<ModelId>>,
	commands: std::sync::Mutex<mpsc::Sender<Command>>,
	/// Whether the engine thread runs; false once it ended (a panic), so that new requests are
	/// refused at once rather than queued for nothing.
	alive: Arc<AtomicBool>,
}

/// Marks its engine as stopped when the engine thread ends, however it ends.
struct Alive(Arc<AtomicBool>);

impl Drop for Alive {
	fn drop(&mut self) {
		self.0.store(false, Ordering::Release);
		if std::thread::panicking() {
			tracing::error!("an engine thread panicked; its base model is no longer served");
		}
	}
}

impl BaseServer {
	fn tell(&self, command: Command) {
		let sender = self.commands.lock().unwrap_or_else(|e| e.into_inner());
		let _ = sender.send(command);
	}
}

/// Serving's state: the base models, the models served on them, the limits.
pub struct Serving {
	pub config: ServingConfig,
	pub bases: BTreeMap<BaseModelId, Arc<BaseServer>>,
	catalog: RwLock<BTreeMap<ModelId, Arc<Served>>>,
	/// This provider's offers on chain: the base models it serves and its price per 1,000
	/// tokens for each. Only the published models on these bases are served.
	offers: RwLock<BTreeMap<BaseModelId, Balance>>,
	/// Makes response ids and default seeds.
	counter: AtomicU64,
	/// The corpus indexes of the models served, and the contributors attributions name.
	indexes: Cache<LoadedIndex>,
	features: Cache<LoadedFeatures>,
	contributors: Contributors,
	/// The tiny-byte-gpt base, for the gradient influence of its adapters' answers.
	tiny: std::sync::OnceLock<Arc<TinyByteGpt>>,
}

/// The adapters each base model's engine asks for, for [`run_loaders`].
pub type LoadRequests = Vec<(BaseModelId, UnboundedReceiver<ModelId>)>;

/// A request under way: its events, and a guard that cancels it when dropped (its client went
/// away, or a stop sequence ended it).
pub struct Started {
	pub base: Arc<BaseServer>,
	pub events: UnboundedReceiver<Event>,
	pub prompt_tokens: usize,
	/// The models of the request, whose answer is attributed under each's corpus index.
	pub models: Vec<ModelId>,
	/// The prompt's tokens, which an answer's gradient influence is computed after.
	pub prompt: Vec<u32>,
	/// Whether the request asked for gradient influence.
	pub influence: bool,
	/// The stop sequences, the request's and the template's.
	pub stops: Vec<String>,
	guard: CancelOnDrop,
}

impl Started {
	/// Ends the request now because a stop sequence ended its text.
	pub fn stop(&self) {
		self.guard.by_stop.store(true, Ordering::Release);
		self.guard.cancel.cancel();
	}
}

struct CancelOnDrop {
	cancel: openledger_ml::engine::CancelToken,
	by_stop: Arc<AtomicBool>,
}

impl Drop for CancelOnDrop {
	fn drop(&mut self) {
		self.cancel.cancel();
	}
}

fn unix_now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Serving {
	/// Loads the configured base models and starts an engine thread for each.
	pub async fn start(
		config: ServingConfig,
		chain: &Chain,
		weights: &BaseWeights,
	) -> Result<(Self, LoadRequests), ServingError> {
		let registered: Vec<(BaseModelId, BaseModel)> =
			chain.runtime_call("ModelsApi_base_models", ()).await?;
		let mut bases = BTreeMap::new();
		let mut loads = Vec::new();
		for name in &config.base_models {
			let (id, base) = registered
				.iter()
				.find(|(_, b)| b.name.as_slice() == name.as_bytes())
				.ok_or_else(|| ServingError::UnknownBase(name.clone()))?;
			let model_error = |source| ServingError::Model { name: name.clone(), source };
			let hash = base.weights.content_hash;
			let (model, codec) = match base.architecture {
				Architecture::TinyByteGpt => {
					if weights.tiny() != hash {
						return Err(ServingError::TinyMismatch {
							name: name.clone(),
							found: weights.tiny(),
							registered: hash,
						});
					}
					let tiny = TinyByteGpt::base(&candle_core::Device::Cpu).map_err(model_error)?;
					(ServingModel::from_tiny(&tiny).map_err(model_error)?, Codec::Bytes)
				},
				Architecture::Llama => {
					let path = weights
						.files()
						.get(&hash)
						.ok_or_else(|| ServingError::NoWeights { name: name.clone(), hash })?;
					let precision = match config.precision {
						Precision::Q8_0 => openledger_ml::engine::Precision::Q8_0,
						Precision::Quantized => openledger_ml::engine::Precision::Quantized,
						Precision::F32 => openledger_ml::engine::Precision::F32,
					};
					let model = ServingModel::load_gguf(path, precision, &candle_core::Device::Cpu)
						.map_err(model_error)?;
					let tokenizer =
						openledger_ml::llama::read_tokenizer(path).map_err(model_error)?;
					(model, Codec::bpe(tokenizer).map_err(model_error)?)
				},
			};
			let (server, requests) =
				BaseServer::start(*id, name.clone(), model, codec, &config).map_err(model_error)?;
			tracing::info!(base = %name, id, context = server.context, "serving base model");
			bases.insert(*id, Arc::new(server));
			loads.push((*id, requests));
		}
		let serving = Self {
			config,
			bases,
			catalog: RwLock::new(BTreeMap::new()),
			offers: RwLock::new(BTreeMap::new()),
			counter: AtomicU64::new(unix_now() << 20),
			indexes: Cache::default(),
			features: Cache::default(),
			contributors: Contributors::default(),
			tiny: std::sync::OnceLock::new(),
		};
		Ok((serving, loads))
	}

	/// The models served now, by id.
	pub fn models(&self) -> Vec<Arc<Served>> {
		self.catalog
			.read()
			.unwrap_or_else(|e| e.into_inner())
			.values()
			.cloned()
			.collect()
	}

	pub fn model(&self, id: ModelId) -> Option<Arc<Served>> {
		self.catalog.read().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
	}

	/// The artifacts of the models served and their corpus indexes, which the blob store keeps.
	pub fn artifacts(&self) -> Vec<H256> {
		let mut out = Vec::new();
		for model in self.models() {
			out.push(model.artifact);
			if let Some(records) = &model.records {
				out.push(records.corpus_index.content_hash);
				out.extend(records.features.map(|f| f.content_hash));
			}
		}
		out
	}

	/// The attribution of an answer's `text` under the corpus index of each model in `models`
	/// and, when `influence` is asked for, for tiny-byte-gpt adapters whose training published
	/// gradient features, its gradient influence after `prompt`.
	pub async fn attribute(
		&self,
		shared: &Arc<Shared>,
		base: &Arc<BaseServer>,
		models: &[ModelId],
		prompt: &[u32],
		text: &str,
		influence: bool,
	) -> Vec<ModelAttribution> {
		let started = std::time::Instant::now();
		let mut out = Vec::with_capacity(models.len());
		for &model in models {
			let outcome = match self.attribute_one(shared, base, model, text).await {
				Ok(outcome) => outcome,
				Err(error) => Outcome::Unavailable { error },
			};
			let influence = match influence {
				true => self.influence(shared, base, model, prompt, text).await,
				false => None,
			};
			out.push(ModelAttribution { model, outcome, influence });
		}
		base.metrics.attributed(started.elapsed());
		out
	}

	async fn influence(
		&self,
		shared: &Arc<Shared>,
		base: &Arc<BaseServer>,
		model: ModelId,
		prompt: &[u32],
		text: &str,
	) -> Option<InfluenceOutcome> {
		let served = self.model(model)?;
		let file = served.records.as_ref()?.features?;
		if !matches!(base.codec, Codec::Bytes) {
			return None;
		}
		let result = async {
			let features = self.features_file(shared, &served, file)?;
			let tiny = match self.tiny.get() {
				Some(tiny) => tiny.clone(),
				None => {
					let tiny =
						TinyByteGpt::base(&candle_core::Device::Cpu).map_err(|e| e.to_string())?;
					self.tiny.get_or_init(|| Arc::new(tiny)).clone()
				},
			};
			let dir = peft_dir(&shared.config.data_dir, model);
			let (prompt, answer) = (prompt.to_vec(), base.codec.encode(text)?);
			let features_ = features.clone();
			let found = tokio::task::spawn_blocking(move || {
				let lora = openledger_ml::lora::Lora::load(&dir, &candle_core::Device::Cpu)
					.map_err(|e| format!("the adapter's PEFT files: {e}"))?;
				attribution::influence(&features_, &tiny, Some(&lora), &prompt, &answer)
			})
			.await
			.map_err(|e| e.to_string())??;
			let contributors = self
				.contributors
				.of(&shared.chain, found.contributions.iter().map(|w| w.contribution))
				.await;
			Ok::<_, String>(attribution::influence_outcome(&features, found, &contributors))
		}
		.await;
		Some(result.unwrap_or_else(|error| InfluenceOutcome::Unavailable { error }))
	}

	async fn attribute_one(
		&self,
		shared: &Arc<Shared>,
		base: &Arc<BaseServer>,
		model: ModelId,
		text: &str,
	) -> Result<Outcome, String> {
		let served = self.model(model).ok_or_else(|| format!("model {model} is not served"))?;
		let index = self.corpus_index(shared, &served)?;
		let (base, text) = (base.clone(), text.to_string());
		let (result, index) = tokio::task::spawn_blocking(move || {
			let params = attribution::span_params(matches!(base.codec, Codec::Bytes));
			let result = attribution::attribute_text(
				&index,
				&base.classes,
				&text,
				|t| base.codec.encode_with_offsets(t),
				&params,
			);
			(result, index)
		})
		.await
		.map_err(|e| e.to_string())?;
		let (found, spans) = result?;
		let contributors = self
			.contributors
			.of(&shared.chain, found.contributions.iter().map(|w| w.contribution))
			.await;
		Ok(attribution::outcome(&index, found, spans, &contributors))
	}

	/// The gradient features `file` of a served model, loaded in the background on first use.
	fn features_file(
		&self,
		shared: &Arc<Shared>,
		served: &Served,
		file: pallet_models::FileRef,
	) -> Result<Arc<LoadedFeatures>, String> {
		let (owner, trainer) = (shared.clone(), served.trainer.clone());
		let rows = served.records.as_ref().map_or(0, |r| r.trained as usize);
		let load = async move {
			let own = owner.config.public_url.as_str();
			let endpoints = blob_endpoints(&owner.chain, &trainer, Some(own));
			let open = move |path: &std::path::Path, hash| LoadedFeatures::open(path, hash, rows);
			attribution::load_file(&owner.http, &owner.store, endpoints, file, open).await
		};
		self.features.get_or_start(file.content_hash, load)
	}

	/// The corpus index of a served model, loaded (fetched and mapped) in the background on
	/// first use.
	fn corpus_index(
		&self,
		shared: &Arc<Shared>,
		served: &Served,
	) -> Result<Arc<LoadedIndex>, String> {
		let records = served.records.as_ref().ok_or(
			"the model's training recorded no corpus index (it was trained before records were kept)",
		)?;
		let (owner, trainer) = (shared.clone(), served.trainer.clone());
		let file = records.corpus_index;
		let load = async move {
			let own = owner.config.public_url.as_str();
			let endpoints = blob_endpoints(&owner.chain, &trainer, Some(own));
			attribution::load_file(&owner.http, &owner.store, endpoints, file, LoadedIndex::open)
				.await
		};
		self.indexes.get_or_start(file.content_hash, load)
	}

	/// A number for a response id or a default seed, new each call.
	pub fn next(&self) -> u64 {
		self.counter.fetch_add(1, Ordering::Relaxed)
	}

	/// This provider's price per 1,000 tokens for a base model it offers.
	pub fn serving_price(&self, base: BaseModelId) -> Option<Balance> {
		self.offers.read().unwrap_or_else(|e| e.into_inner()).get(&base).copied()
	}

	/// Reads this provider's offers, then the published models on the base models it loaded
	/// and offers, from the chain, a page at a time. A model no longer served leaves the adapter pool and its PEFT directory
	/// (`{data_dir}/models/{id}`, see [`load`]) is removed, so that its hard link does not keep
	/// the bytes on disk once the blob store lets them go.
	pub async fn refresh(
		&self,
		chain: &Chain,
		account: &AccountId,
		data_dir: &std::path::Path,
	) -> Result<(), ChainError> {
		let offers: Vec<(BaseModelId, Balance)> =
			chain.runtime_call("InferenceApi_offers", account).await?;
		let offers: BTreeMap<BaseModelId, Balance> =
			offers.into_iter().filter(|(base, _)| self.bases.contains_key(base)).collect();
		*self.offers.write().unwrap_or_else(|e| e.into_inner()) = offers;
		let mut found: BTreeMap<ModelId, Arc<Served>> = BTreeMap::new();
		let mut start: ModelId = 0;
		loop {
			let page: Vec<(ModelId, ModelOf<Runtime>)> =
				chain.runtime_call("ModelsApi_models", (start, PAGE)).await?;
			let full = page.len() as u32 >= PAGE;
			for (id, model) in page {
				start = id.saturating_add(1);
				if let Some(served) = self.servable(id, model) {
					found.insert(id, Arc::new(served));
				}
			}
			if !full {
				break;
			}
		}
		let mut catalog = self.catalog.write().unwrap_or_else(|e| e.into_inner());
		for (id, old) in catalog.iter() {
			if !found.contains_key(id) {
				tracing::info!(model = id, "no longer served");
				if let Some(base) = self.bases.get(&old.base) {
					base.pool.evict(id);
				}
				let _ = std::fs::remove_dir_all(peft_dir(data_dir, *id));
			}
		}
		for (id, served) in found.iter_mut() {
			match catalog.get(id) {
				Some(old) if old.artifact == served.artifact => *served = old.clone(),
				_ => tracing::info!(model = id, name = %served.name, "serving"),
			}
		}
		let records = || found.values().filter_map(|m| m.records.as_ref());
		self.indexes.retain(&records().map(|r| r.corpus_index.content_hash).collect());
		self.features
			.retain(&records().filter_map(|r| Some(r.features?.content_hash)).collect());
		*catalog = found;
		Ok(())
	}

	fn servable(&self, id: ModelId, model: ModelOf<Runtime>) -> Option<Served> {
		let ModelStatus::Published { price_per_1k_tokens, .. } = model.status else {
			return None;
		};
		let base = model.provenance.base_model;
		if !self.bases.contains_key(&base) || self.serving_price(base).is_none() {
			return None;
		}
		let lora = lora_config(&model.hyperparameters.method)?;
		Some(Served {
			id,
			base,
			name: String::from_utf8_lossy(&model.name).into_owned(),
			owner: model.owner,
			trainer: model.provenance.provider,
			artifact: model.artifact.content_hash,
			length: model.artifact.length,
			lora,
			listed: unix_now(),
			price: price_per_1k_tokens,
			records: model.provenance.records,
		})
	}

	/// Submits a generation; its tokens come as [`Started::events`].
	pub fn start_generation(&self, generation: &Generation) -> Result<Started, ApiError> {
		let mut members = Vec::with_capacity(generation.spec.members.len());
		for (id, weight) in &generation.spec.members {
			let served = self.model(*id).ok_or_else(|| {
				if generation.spec.members.len() == 1 {
					ApiError::model_not_found(&generation.model)
				} else {
					ApiError::model_not_found(&id.to_string())
				}
			})?;
			members.push((served, *weight));
		}
		let base_id = members[0].0.base;
		if members.iter().any(|(m, _)| m.base != base_id) {
			return Err(ApiError::invalid(
				"model",
				"the models of an ensemble are adapters of one base model",
			));
		}
		let base = self
			.bases
			.get(&base_id)
			.cloned()
			.ok_or_else(|| ApiError::model_not_found(&generation.model))?;
		if !base.alive.load(Ordering::Acquire) {
			return Err(ApiError::new(
				503,
				"server_error",
				format!(
					"the engine of base model {} stopped; the provider's log says why",
					base.name
				),
			));
		}
		let chat = matches!(generation.prompt, Prompt::Chat(_));
		let prompt = match &generation.prompt {
			Prompt::Text(text) => base.codec.encode(text),
			Prompt::Tokens(tokens) => Ok(tokens.clone()),
			Prompt::Chat(messages) => base.codec.encode(&text::chat_prompt(messages)),
		}
		.map_err(|e| ApiError::invalid("prompt", e))?;
		let limit = self.config.max_tokens;
		let max_tokens = match generation.max_tokens {
			Some(n) => n,
			// OpenAI's defaults: 16 for a completion; for a chat answer, what the context leaves.
			None if !chat => 16.min(limit),
			None => limit.min(base.context.saturating_sub(prompt.len())).max(1),
		};
		let seed = generation
			.seed
			.unwrap_or_else(|| content_hash(&self.next().to_le_bytes()).to_low_u64_le());
		let sampling = SamplingParams {
			temperature: generation.temperature,
			top_p: if generation.temperature == 0.0 { 1.0 } else { generation.top_p },
			seed,
			max_tokens,
			ignore_stop_tokens: false,
		};
		let mut stops = generation.stop.clone();
		let stop_tokens = if chat {
			stops.extend(base.codec.chat_stop_texts());
			base.codec.chat_stop_tokens()
		} else {
			Vec::new()
		};
		let prompt_tokens = prompt.len();
		let prompt_ids = prompt.clone();
		let request = GenerationRequest {
			prompt,
			adapters: members.iter().map(|(m, w)| (m.id, *w)).collect(),
			sampling,
			stop_tokens,
		};
		let (events, receiver) = unbounded_channel();
		let by_stop = Arc::new(AtomicBool::new(false));
		let sink = {
			let metrics = base.metrics.clone();
			let by_stop = by_stop.clone();
			Box::new(move |event: Event| {
				if let Event::Finished { reason, timing, .. } = &event {
					let how = match reason {
						FinishReason::Stop => Ended::Stop,
						FinishReason::Length => Ended::Length,
						FinishReason::Cancelled if by_stop.load(Ordering::Acquire) => Ended::Stop,
						FinishReason::Cancelled => Ended::Abort,
					};
					metrics.ended(
						how,
						timing.time_to_first_token,
						timing.time_per_output_token,
						timing.total,
					);
				}
				let _ = events.send(event);
			})
		};
		let ticket = base.submitter.submit(request, sink).map_err(submit_error)?;
		base.tell(Command::Wake);
		Ok(Started {
			base,
			events: receiver,
			prompt_tokens,
			models: members.iter().map(|(m, _)| m.id).collect(),
			prompt: prompt_ids,
			influence: generation.influence,
			stops,
			guard: CancelOnDrop { cancel: ticket.cancel, by_stop },
		})
	}
}

/// The API error of a refused submission.
fn submit_error(error: SubmitError) -> ApiError {
	let status = error.status();
	match &error {
		SubmitError::QueueFull { retry_after, .. } => ApiError {
			code: Some("rate_limit_exceeded"),
			retry_after: Some(retry_after.as_secs_f64().ceil().max(1.0) as u64),
			..ApiError::new(status, "requests", error.to_string())
		},
		SubmitError::PromptTooLong { .. } => ApiError {
			code: Some("context_length_exceeded"),
			param: Some("messages".into()),
			..ApiError::new(status, "invalid_request_error", error.to_string())
		},
		SubmitError::MaxTokensTooLarge { .. } | SubmitError::NeverFits { .. } => {
			ApiError::invalid("max_tokens", error.to_string())
		},
		_ => ApiError::new(status, "invalid_request_error", error.to_string()),
	}
}

impl BaseServer {
	fn start(
		id: BaseModelId,
		name: String,
		model: ServingModel,
		codec: Codec,
		config: &ServingConfig,
	) -> Result<(Self, UnboundedReceiver<ModelId>), openledger_ml::MlError> {
		let shape = model.config().clone();
		// Keys and values of every layer, in f32, per position.
		let per_position = 2 * shape.layers * shape.kv_dim() * 4;
		let blocks = (config.kv_cache_mib << 20) / (per_position * DEFAULT_BLOCK_SIZE).max(1);
		let pool = Arc::new(AdapterPool::new(
			model.clone(),
			PoolConfig { max_adapters: config.max_adapters, max_bytes: config.max_adapter_bytes },
		)?);
		let engine =
			openledger_ml::engine::Engine::new(model, KvCacheConfig::blocks(blocks.max(1)))?;
		let scheduler = Scheduler::new(
			engine,
			pool.clone(),
			SchedulerConfig {
				max_running: config.max_running,
				max_queued: config.max_queued,
				max_prompt_tokens: config.max_prompt_tokens,
				max_tokens: config.max_tokens,
				max_adapter_sets: config.max_adapter_sets,
				prefill_chunk: config.prefill_chunk,
			},
		)?;
		let submitter = scheduler.submitter();
		let metrics = Arc::new(Metrics::default());
		let (commands, receiver) = mpsc::channel();
		let (loads, requests) = unbounded_channel();
		let alive = Arc::new(AtomicBool::new(true));
		{
			let metrics = metrics.clone();
			let alive = Alive(alive.clone());
			std::thread::Builder::new()
				.name(format!("engine-{id}"))
				.spawn(move || {
					let _alive = alive;
					engine_loop(scheduler, receiver, loads, metrics)
				})
				.map_err(|e| openledger_ml::MlError::Config(format!("starting the engine: {e}")))?;
		}
		let classes = codec.token_classes();
		Ok((
			Self {
				id,
				name,
				codec,
				classes,
				context: shape.context,
				metrics,
				submitter,
				pool,
				commands: std::sync::Mutex::new(commands),
				alive,
			},
			requests,
		))
	}
}

/// The engine thread: steps while there is work, waits for a command when there is none.
fn engine_loop(
	mut scheduler: Scheduler<ModelId>,
	commands: mpsc::Receiver<Command>,
	loads: UnboundedSender<ModelId>,
	metrics: Arc<Metrics>,
) {
	let mut loading: HashSet<ModelId> = HashSet::new();
	let mut stalled = false;
	loop {
		// Idle: wait for a request. Stalled (every queued request waits for an adapter): wait
		// for a load, briefly. Otherwise take what has come and step.
		let mut wait = if scheduler.is_idle() {
			Some(Duration::from_secs(1))
		} else if stalled {
			Some(Duration::from_millis(20))
		} else {
			None
		};
		loop {
			let command = match wait.take() {
				Some(timeout) => commands.recv_timeout(timeout).map_err(|e| match e {
					mpsc::RecvTimeoutError::Timeout => mpsc::TryRecvError::Empty,
					mpsc::RecvTimeoutError::Disconnected => mpsc::TryRecvError::Disconnected,
				}),
				None => commands.try_recv(),
			};
			match command {
				Ok(Command::Wake) => {},
				Ok(Command::Loaded(key, result)) => {
					loading.remove(&key);
					if let Err(error) = result {
						let failed = scheduler.fail_adapter(&key, &error);
						tracing::warn!(model = key, failed, %error, "an adapter could not be loaded");
					}
				},
				Err(mpsc::TryRecvError::Empty) => break,
				Err(mpsc::TryRecvError::Disconnected) => return,
			}
		}
		for key in scheduler.wanted(PARALLEL_LOADS * 2) {
			if loading.insert(key) && loads.send(key).is_err() {
				return;
			}
		}
		match scheduler.step() {
			Ok(report) => {
				stalled = report.rows.is_empty();
				metrics.step(report.rows.len(), scheduler.stats(), scheduler.pool().stats());
			},
			Err(error) => {
				stalled = true;
				tracing::error!(%error, "an engine step failed; its requests were ended");
			},
		}
	}
}

/// Loads the adapters each engine asks for, [`PARALLEL_LOADS`] at a time per base model.
pub fn run_loaders(shared: Arc<Shared>, requests: LoadRequests) {
	for (base, mut requests) in requests {
		let shared = shared.clone();
		tokio::spawn(async move {
			let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL_LOADS));
			while let Some(key) = requests.recv().await {
				let Ok(permit) = permits.clone().acquire_owned().await else { return };
				let shared = shared.clone();
				tokio::spawn(async move {
					let result = load(&shared, base, key).await;
					if let Some(server) = shared.serving.as_ref().and_then(|s| s.bases.get(&base)) {
						server.tell(Command::Loaded(key, result));
					}
					drop(permit);
				});
			}
		});
	}
}

/// Where a served model's PEFT files are: `adapter_config.json` and `adapter_model.safetensors`.
fn peft_dir(data_dir: &std::path::Path, model: ModelId) -> std::path::PathBuf {
	data_dir.join("models").join(model.to_string())
}

/// Fetches, keeps and loads the adapter of model `key`.
async fn load(shared: &Arc<Shared>, base: BaseModelId, key: ModelId) -> Result<(), String> {
	let serving = shared.serving.as_ref().ok_or("serving is off")?;
	let server = serving.bases.get(&base).ok_or("unknown base model")?.clone();
	let served = serving.model(key).ok_or_else(|| format!("model {key} is not served"))?;
	let bytes = adapter_bytes(shared, &served).await?;
	// Its attribution files start loading in the background with it, so that its first answers
	// find them (until they are loaded, answers say so in their attribution).
	let _ = serving.corpus_index(shared, &served);
	if let Some(file) = served.records.as_ref().and_then(|r| r.features) {
		let _ = serving.features_file(shared, &served, file);
	}
	let dir = peft_dir(&shared.config.data_dir, key);
	let blob = shared.store.path(&served.artifact);
	let base_name = server.name.clone();
	let lora = served.lora.clone();
	tokio::task::spawn_blocking(move || {
		// PEFT's directory beside the blob, so that the adapter loads with Hugging Face PEFT too.
		let written = std::fs::create_dir_all(&dir)
			.and_then(|_| {
				let config = lora.peft_json(&base_name).map_err(std::io::Error::other)?;
				std::fs::write(dir.join("adapter_config.json"), config)
			})
			.and_then(|_| {
				let link = dir.join("adapter_model.safetensors");
				let _ = std::fs::remove_file(&link);
				std::fs::hard_link(&blob, &link).or_else(|_| std::fs::write(&link, &bytes))
			});
		if let Err(e) = written {
			tracing::warn!(model = key, error = %e, "writing the adapter's PEFT directory");
		}
		server
			.pool
			.prefetch(&key, served.artifact.0, lora, move || Ok(bytes))
			.map(|_| ())
			.map_err(|e| e.to_string())
	})
	.await
	.map_err(|e| e.to_string())?
}

/// The artifact of `served`, from this provider's store or from a provider that holds it,
/// checked against the registered hash and kept in the store.
async fn adapter_bytes(shared: &Arc<Shared>, served: &Served) -> Result<Vec<u8>, String> {
	let hash = served.artifact;
	let path = shared.store.path(&hash);
	if let Ok(bytes) = tokio::fs::read(&path).await {
		if content_hash(&bytes) == hash {
			return Ok(bytes);
		}
	}
	if served.length > shared.store.limit() {
		return Err(format!(
			"the artifact has {} bytes, more than this provider's max_blob_bytes",
			served.length
		));
	}
	let endpoints =
		blob_endpoints(&shared.chain, &served.trainer, Some(&shared.config.public_url)).await;
	let limit = usize::try_from(served.length).unwrap_or(usize::MAX);
	let mut tried = Vec::new();
	for endpoint in endpoints {
		let url = format!("{endpoint}/v1/blobs/{hash:?}");
		match shared.http.get(&url, limit).await {
			Ok(Some(bytes)) if content_hash(&bytes) == hash => {
				let kept = crate::store::blocking(|| {
					let mut upload = shared.store.upload(hash)?;
					upload.write(&bytes)?;
					upload.finish(hash)
				});
				if let Err(e) = kept {
					tracing::warn!(model = served.id, error = %e, "keeping a served adapter");
				}
				tracing::info!(model = served.id, %url, bytes = bytes.len(), "fetched an adapter");
				return Ok(bytes);
			},
			Ok(Some(_)) => tried.push(format!("{url}: the bytes do not match the registered hash")),
			Ok(None) => tried.push(format!("{url}: absent")),
			Err(e) => tried.push(format!("{url}: {}", crate::error_chain(&e))),
		}
	}
	Err(format!("no blob store has the artifact {hash:?} ({})", tried.join("; ")))
}
