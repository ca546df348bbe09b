//! Training jobs: the data of a job's datanet versions, checked against their Merkle roots and
//! content hashes before a step is taken; training with `openledger-ml`; the artifact in the
//! blob store and the result the chain checks.
//!
//! A job runs only if the model registry asked for it: the daemon finds its request on chain and
//! [`check_spec`] holds the payload to it and to the registry's bounds, so that no count or size
//! someone wrote into a payload decides what the daemon allocates. Its memory, the model's and
//! the data's ([`BaseModels::job_memory`]), is known from the chain's figures before the first
//! byte is fetched.
//!
//! [`gather`] reads each datanet's contributions from the chain once (a job may name several
//! versions of one datanet), in pages, and streams their bytes from the local store or the
//! datanet's storage endpoints into the job's work directory, each checked against its hash;
//! [`train`] (blocking, no chain) splits, tokenizes one contribution at a time, trains and
//! evaluates; the daemon posts [`train`]'s [`TrainingResult`]. Anyone holding the same data can
//! run [`train`] with the same job and thread count and get the same artifact, byte for byte.
//!
//! Training also leaves what attribution needs (`openledger-attribution`), each file
//! content-addressed in the blob store with its hash in the result: the **manifest** of exactly
//! the contributions trained on (once each, however many named versions hold them), with their
//! token counts and offsets in the training stream, those held out and those skipped with why
//! (slashed, not text, unreadable: a contribution that does not parse is listed, not trained on,
//! and does not fail the job); and the **corpus index** of the trained contributions' tokens. Both
//! are checked against the store's limit before the first step, and reserved with the artifact
//! (and the gradient features, when they fit) in the store's quota ([`Limits::space`]).

use crate::{
	chain::{Chain, ChainError},
	client::HttpClient,
	store::{self, content_hash, BlobStore, Hasher, Space, StoreError},
};
use candle_core::Device;
use openledger_attribution::{
	index::index_size,
	influence::{write_features, Quantized},
	manifest::{self, Hash32, HeldOut, Manifest, Skipped},
	ContributionRef, IndexBuilder,
};
use openledger_ml::{
	data::{documents, is_held_out, TextFormat},
	llama::{Llama, LlamaConfig},
	lora::{Lora, LoraConfig},
	tiny::TinyByteGpt,
	train::{evaluate, train_observed, TrainConfig},
	LanguageModel, MlError,
};
use openledger_runtime::Runtime;
use pallet_datanets::{ContributionOf, ContributionStatus, DataFormat};
use pallet_models::{
	Architecture, FileRef, Method, Metrics, SourceVersion, TrainingRecords, TrainingRequestOf,
	TrainingResult, TrainingSetCommitment, TrainingSpec,
};
use sp_core::H256;
use std::{
	collections::{BTreeMap, BTreeSet},
	io::Write,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::Instant,
};

/// Where a training job stands, as `GET /v1/jobs/{id}` shows it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Progress {
	/// `fetching`, `training`, `evaluating`, `storing` or `done`.
	pub phase: String,
	pub step: u32,
	pub steps: u32,
	/// The last step's loss.
	pub loss: Option<f64>,
	pub tokens_per_second: Option<f64>,
	/// Seconds left at the current pace.
	pub eta_seconds: Option<f64>,
}

/// Shares a job's progress between the training thread and the HTTP API.
pub type ProgressCell = Arc<Mutex<Progress>>;

fn report(cell: &ProgressCell, update: impl FnOnce(&mut Progress)) {
	if let Ok(mut progress) = cell.lock() {
		update(&mut progress);
	}
}

/// Why a training job cannot be run; the daemon gives the job up and logs this.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
	#[error("decoding the training payload")]
	Payload(#[source] codec::Error),
	#[error("the model registry holds no training request for this job: it was not created by the registry, or has ended")]
	NotRequested,
	#[error("the job's payload differs from the model registry's request for it ({0})")]
	RequestMismatch(&'static str),
	#[error("{what} is {value}, beyond this daemon's bound of {limit}")]
	OutOfBounds { what: &'static str, value: u64, limit: u64 },
	#[error("no file in this daemon's base_models_dir has the base model's hash {0:?}")]
	NoWeights(H256),
	#[error("the base model's weights here hash to {found:?}, the chain registers {registered:?}")]
	BaseWeights { found: H256, registered: H256 },
	#[error("reading the chain")]
	Chain(#[from] ChainError),
	#[error("datanet {datanet} version {version}: the chain's contributions give root {found:?}, the job names {named:?}")]
	RootMismatch { datanet: u32, version: u32, found: H256, named: H256 },
	#[error("datanet {datanet} has no record of the contribution at position {position}")]
	MissingRecord { datanet: u32, position: u32 },
	#[error("no storage endpoint of datanet {datanet} serves {hash:?} with that hash")]
	Unavailable { datanet: u32, hash: H256 },
	#[error("contribution {hash:?} is larger than this provider fetches")]
	TooLarge { hash: H256 },
	#[error("the {0} split is empty or shorter than two tokens; another seed or evaluation fraction would split the data")]
	EmptySplit(&'static str),
	#[error("the job cannot finish before its deadline: about {needed_s:.0} s more are needed, {left_s:.0} s are left")]
	Deadline { needed_s: f64, left_s: f64 },
	#[error("the job needs about {needed_mib} MiB of memory to train; this provider has {available_mib} MiB")]
	Memory { needed_mib: u64, available_mib: u64 },
	#[error("other training jobs held the {needed_mib} MiB this job needs until its deadline")]
	MemoryBusy { needed_mib: u64 },
	#[error("the artifact would be about {bytes} bytes, more than this provider's blob store takes ({limit})")]
	ArtifactTooLarge { bytes: u64, limit: u64 },
	#[error("the corpus index of the trained data would be {bytes} bytes, more than this provider's blob store takes ({limit})")]
	IndexTooLarge { bytes: u64, limit: u64 },
	#[error("the job's files would take about {bytes} bytes; this provider's blob store has {free} free")]
	StoreFull { bytes: u64, free: u64 },
	#[error("building the corpus index")]
	Index(#[from] openledger_attribution::IndexError),
	#[error("training")]
	Ml(#[from] MlError),
	#[error("storing the artifact")]
	Store(#[from] StoreError),
	#[error("writing the artifact")]
	Io(#[from] std::io::Error),
}

/// The most contributions of one version this daemon reads (the registry's versions are far
/// smaller; a payload's count is never allocated without this cap).
pub const MAX_CONTRIBUTIONS: u32 = 1 << 20;
/// What a safetensors header takes at most per tensor (its name, dtype, shape and offsets, in
/// JSON), beyond the values.
const SAFETENSORS_HEADER_PER_TENSOR: u64 = 256;
/// The longest context a base model may declare here.
pub const MAX_CONTEXT: u32 = 1 << 16;
/// What the data of a job takes in memory per byte of its versions, at its peak while the corpus
/// index is built, in the worst case of one-byte documents (at most one token per byte, and one
/// document per byte): the token streams as `u32` with one end-of-document token per document (8),
/// each trained document's range in the stream (16), and the index builder's corpus of `u16`
/// tokens and separators (4) beside its suffix array of `i32` (8) while it is sorted: 36.
pub const DATA_MEMORY_PER_BYTE: u64 = 36;

/// Holds a job's payload to the model registry's request for it and to the registry's bounds,
/// checked again here so that nothing a payload claims is allocated unchecked.
pub fn check_spec(
	spec: &TrainingSpec,
	request: &TrainingRequestOf<Runtime>,
) -> Result<(), TrainingError> {
	if spec.base_model != request.base_model {
		return Err(TrainingError::RequestMismatch("base model"));
	}
	if spec.sources != request.sources {
		return Err(TrainingError::RequestMismatch("sources"));
	}
	if spec.hyperparameters != request.hyperparameters {
		return Err(TrainingError::RequestMismatch("hyperparameters"));
	}
	let h = &spec.hyperparameters;
	let bound = |what, value: u64, limit: u64| {
		if value > limit {
			Err(TrainingError::OutOfBounds { what, value, limit })
		} else {
			Ok(())
		}
	};
	if let Method::Lora { rank, alpha, targets } = &h.method {
		bound("the LoRA rank", u64::from(*rank), u64::from(pallet_models::MAX_RANK))?;
		bound("the LoRA alpha", u64::from(*alpha), u64::from(pallet_models::MAX_ALPHA))?;
		bound("the number of LoRA targets", targets.len() as u64, 7)?;
	}
	bound("the epochs", u64::from(h.epochs), u64::from(pallet_models::MAX_EPOCHS))?;
	bound("the steps", u64::from(h.max_steps), u64::from(pallet_models::MAX_STEPS))?;
	bound("the batch size", u64::from(h.batch_size), u64::from(pallet_models::MAX_BATCH_SIZE))?;
	bound("the context length", u64::from(spec.context_length), u64::from(MAX_CONTEXT))?;
	bound("the sequence length", u64::from(h.sequence_length), u64::from(spec.context_length))?;
	if h.sequence_length < pallet_models::MIN_SEQUENCE_LENGTH || h.batch_size == 0 {
		return Err(TrainingError::OutOfBounds {
			what: "the batch or sequence (at least 1 and 8)",
			value: u64::from(h.sequence_length.min(h.batch_size)),
			limit: u64::from(pallet_models::MIN_SEQUENCE_LENGTH),
		});
	}
	for source in spec.sources.iter() {
		bound(
			"a version's contributions",
			u64::from(source.contributions),
			u64::from(MAX_CONTRIBUTIONS),
		)?;
	}
	Ok(())
}

/// The memory a job's data takes once tokenized, from the chain's figure of each version's
/// bytes (a version named twice is trained on twice).
pub fn data_memory(spec: &TrainingSpec) -> u64 {
	spec.sources
		.iter()
		.fold(0u64, |sum, s| sum.saturating_add(s.total_bytes.saturating_mul(DATA_MEMORY_PER_BYTE)))
}

/// One contribution of a version: its bytes in a file of the job's work directory, or why it is
/// not trained on.
#[derive(Clone, Debug)]
pub struct Item {
	pub datanet: u32,
	pub contribution: u32,
	pub hash: H256,
	pub format: DataFormat,
	pub path: PathBuf,
	/// Why it is skipped, known before its bytes are fetched (then they are not).
	pub skip: Option<&'static str>,
}

/// A job's data: each version's text contributions, in version order.
pub type Data = Vec<(SourceVersion, Vec<Item>)>;

/// Reads each datanet's contributions from the chain once, checks that their content hashes
/// give each version's Merkle root, and streams the bytes of those still accepted (a slashed
/// contribution stays in the versions that hold it, and trainers skip it) from the local store or
/// the datanet's storage endpoints into `dir`, each checked against its hash and fetched once
/// however many versions hold it.
pub async fn gather(
	chain: &Chain,
	http: &HttpClient,
	store: &BlobStore,
	spec: &TrainingSpec,
	dir: &Path,
) -> Result<Data, TrainingError> {
	std::fs::create_dir_all(dir)?;
	// Versions of a datanet are prefixes of its accepted order: the longest one named is read.
	let mut longest = BTreeMap::<u32, u32>::new();
	for source in spec.sources.iter() {
		if source.contributions > MAX_CONTRIBUTIONS {
			return Err(TrainingError::OutOfBounds {
				what: "a version's contributions",
				value: u64::from(source.contributions),
				limit: u64::from(MAX_CONTRIBUTIONS),
			});
		}
		let count = longest.entry(source.datanet).or_default();
		*count = (*count).max(source.contributions);
	}
	let mut records = BTreeMap::new();
	for (&datanet, &count) in &longest {
		let mut contributions = Vec::new();
		for (position, found) in
			version_contributions(chain, datanet, count).await?.into_iter().enumerate()
		{
			contributions.push(
				found.ok_or(TrainingError::MissingRecord { datanet, position: position as u32 })?,
			);
		}
		records.insert(datanet, contributions);
	}
	let mut data = Vec::with_capacity(spec.sources.len());
	for source in spec.sources.iter() {
		let datanet = source.datanet;
		let all = records.get(&datanet).map(Vec::as_slice).unwrap_or_default();
		let contributions = all.get(..source.contributions as usize).unwrap_or(all);
		let leaves: Vec<H256> = contributions.iter().map(|(_, c)| c.content_hash).collect();
		let found = pallet_datanets::merkle::root(&leaves).unwrap_or_default();
		if found != source.root {
			return Err(TrainingError::RootMismatch {
				datanet,
				version: source.version,
				found,
				named: source.root,
			});
		}
		let key = pallet_datanets::DatanetServices::<Runtime>::hashed_key_for(datanet);
		let endpoints: Vec<String> = chain
			.storage::<pallet_datanets::ServicesOf<Runtime>>(&key)
			.await?
			.map(|s| {
				s.endpoints
					.iter()
					.map(|e| String::from_utf8_lossy(e).trim_end_matches('/').to_string())
					.collect()
			})
			.unwrap_or_default();
		let mut items = Vec::new();
		for (id, c) in contributions {
			let path = dir.join(format!("{:?}", c.content_hash));
			let skip = if !matches!(c.status, ContributionStatus::Accepted { .. }) {
				Some("slashed")
			} else if text_format(c.format).is_none() {
				Some("not text")
			} else {
				None
			};
			if skip.is_none() && !path.exists() {
				let bytes = fetch(http, store, &endpoints, datanet, c.content_hash, c.size).await?;
				std::fs::write(&path, bytes)?;
			}
			items.push(Item {
				datanet,
				contribution: *id,
				hash: c.content_hash,
				format: c.format,
				path,
				skip,
			});
		}
		data.push((*source, items));
	}
	Ok(data)
}

/// The first `count` contributions of a datanet's accepted order (a version holds a prefix of
/// it), by position: the contribution's id and record, or `None` where the chain has none.
pub async fn version_contributions(
	chain: &Chain,
	datanet: u32,
	count: u32,
) -> Result<Vec<Option<(u32, ContributionOf<Runtime>)>>, ChainError> {
	let keys: Vec<Vec<u8>> = (0..count)
		.map(|p| pallet_datanets::AcceptedByPosition::<Runtime>::hashed_key_for(datanet, p))
		.collect();
	let ids: Vec<Option<u32>> = chain.storage_many(&keys).await?;
	let keys: Vec<Vec<u8>> = ids
		.iter()
		.map(|id| {
			pallet_datanets::Contributions::<Runtime>::hashed_key_for(
				datanet,
				id.unwrap_or(u32::MAX),
			)
		})
		.collect();
	let records: Vec<Option<ContributionOf<Runtime>>> = chain.storage_many(&keys).await?;
	Ok(ids.into_iter().zip(records).map(|(id, record)| Some((id?, record?))).collect())
}

/// The bytes of `hash`, from the local store if it holds them, else from the first endpoint
/// that serves them with that hash.
async fn fetch(
	http: &HttpClient,
	store: &BlobStore,
	endpoints: &[String],
	datanet: u32,
	hash: H256,
	size: u64,
) -> Result<Vec<u8>, TrainingError> {
	if size > store.limit() {
		return Err(TrainingError::TooLarge { hash });
	}
	if let Some((file, _)) = store.open_blob(&hash)? {
		let mut bytes = Vec::new();
		std::io::Read::read_to_end(&mut std::io::BufReader::new(file), &mut bytes)?;
		if content_hash(&bytes) == hash {
			return Ok(bytes);
		}
	}
	for base in endpoints {
		let url = format!("{base}/v1/blobs/{hash:?}");
		match http.get(&url, size.saturating_add(1) as usize).await {
			Ok(Some(bytes)) if content_hash(&bytes) == hash => return Ok(bytes),
			Ok(_) => {},
			Err(error) => tracing::warn!(datanet, %url, %error, "fetching training data"),
		}
	}
	Err(TrainingError::Unavailable { datanet, hash })
}

/// How a contribution's format holds text, if it does. CSV contributions are read by their
/// `text` column.
pub fn text_format(format: DataFormat) -> Option<TextFormat> {
	match format {
		DataFormat::PlainText => Some(TextFormat::PlainText),
		DataFormat::JsonLines => Some(TextFormat::JsonLines),
		DataFormat::Csv => Some(TextFormat::Csv { column: "text".into() }),
		_ => None,
	}
}

/// The base models this daemon trains on: the canonical `tiny-byte-gpt`, which it generates, and
/// the weights files in its `base_models_dir`, each known by its content hash. A job names its
/// base model's weights by hash, so a file trains only the model the chain registers for it.
pub struct BaseModels {
	tiny: H256,
	files: BTreeMap<H256, PathBuf>,
}

/// A loaded base model.
pub enum Base {
	Tiny(TinyByteGpt),
	Llama(Box<Llama>),
}

impl Base {
	pub fn model(&self) -> &dyn LanguageModel {
		match self {
			Base::Tiny(model) => model,
			Base::Llama(model) => model.as_ref(),
		}
	}
}

impl BaseModels {
	/// Hashes the canonical tiny model (written once to `scratch`) and every regular file in
	/// `dir`.
	pub fn load(dir: Option<&Path>, scratch: &Path) -> Result<Self, TrainingError> {
		std::fs::create_dir_all(scratch)?;
		let path = scratch.join("tiny-byte-gpt.safetensors");
		TinyByteGpt::base(&Device::Cpu)?.save(&path)?;
		let tiny = content_hash(&std::fs::read(&path)?);
		std::fs::remove_file(&path)?;
		let mut files = BTreeMap::new();
		if let Some(dir) = dir {
			for entry in std::fs::read_dir(dir)? {
				let path = entry?.path();
				if path.is_file() {
					files.insert(file_hash(&path)?, path);
				}
			}
		}
		Ok(Self { tiny, files })
	}

	/// The hash of the canonical tiny-byte-gpt's weights.
	pub fn tiny(&self) -> H256 {
		self.tiny
	}

	/// The weights files found, by hash.
	pub fn files(&self) -> &BTreeMap<H256, PathBuf> {
		&self.files
	}

	/// The memory a job takes, in bytes: training its base model ([`Self::training_memory`]) and
	/// its data tokenized ([`data_memory`]), known from the chain's figures before anything is
	/// fetched or loaded.
	pub fn job_memory(&self, spec: &TrainingSpec) -> Result<u64, TrainingError> {
		Ok(self.training_memory(spec)?.saturating_add(data_memory(spec)))
	}

	/// The memory training a job's base model takes, in bytes, from the model's shape alone:
	/// reserved before the model is loaded, so that a job waiting for memory holds none.
	pub fn training_memory(&self, spec: &TrainingSpec) -> Result<u64, TrainingError> {
		let (batch, seq_len) = (
			spec.hyperparameters.batch_size as usize,
			spec.hyperparameters.sequence_length as usize,
		);
		Ok(match spec.architecture {
			// Built in a moment, and small.
			Architecture::TinyByteGpt => {
				TinyByteGpt::base(&Device::Cpu)?.training_memory(batch, seq_len)
			},
			Architecture::Llama => {
				let registered = spec.weights.content_hash;
				let path =
					self.files.get(&registered).ok_or(TrainingError::NoWeights(registered))?;
				LlamaConfig::from_gguf(path)?.training_memory(batch, seq_len)
			},
		})
	}

	/// The base model of a job, checked against the hash the chain registers for it. A weights
	/// file is hashed again before it is loaded: one replaced or changed since the daemon started
	/// is refused, not trained on under the hash it had.
	pub fn open(&self, spec: &TrainingSpec) -> Result<Base, TrainingError> {
		let registered = spec.weights.content_hash;
		match spec.architecture {
			Architecture::TinyByteGpt if registered == self.tiny => {
				Ok(Base::Tiny(TinyByteGpt::base(&Device::Cpu)?))
			},
			Architecture::TinyByteGpt => {
				Err(TrainingError::BaseWeights { found: self.tiny, registered })
			},
			Architecture::Llama => {
				let path =
					self.files.get(&registered).ok_or(TrainingError::NoWeights(registered))?;
				let found = file_hash(path)?;
				if found != registered {
					return Err(TrainingError::BaseWeights { found, registered });
				}
				Ok(Base::Llama(Box::new(Llama::load_gguf(path, &Device::Cpu)?)))
			},
		}
	}
}

/// The content hash of a file, read a piece at a time (weights files run to gigabytes).
fn file_hash(path: &Path) -> std::io::Result<H256> {
	let mut file = std::fs::File::open(path)?;
	let (mut hasher, mut buffer) = (Hasher::default(), vec![0u8; 1 << 20]);
	loop {
		let read = std::io::Read::read(&mut file, &mut buffer)?;
		if read == 0 {
			return Ok(hasher.finish());
		}
		hasher.update(buffer.get(..read).unwrap_or_default());
	}
}

/// What [`train`] produced: the artifact's and the manifest's bytes, the corpus index in a file
/// of the work directory (it may be large), and the result to post.
pub struct Trained {
	pub artifact: Vec<u8>,
	pub manifest: Vec<u8>,
	/// The gradient features of the trained contributions, for models small enough.
	pub features: Option<Vec<u8>>,
	pub corpus_index: PathBuf,
	pub result: TrainingResult,
	/// The store's space held for these files: drop it just before storing them.
	pub reserved: store::Reservation,
}

/// Held-out windows evaluated at once.
const EVAL_BATCH: usize = 4;

/// A loss in millionths of a nat, as the chain records it.
fn micro(loss: f64) -> u32 {
	(loss * 1e6).round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// The memory the training jobs of a daemon share: each reserves its estimate before its first
/// step and waits while the jobs already running hold too much, so that a builder who sends one
/// provider several jobs at once cannot make it run out of memory.
pub struct MemoryBudget {
	total_mib: u64,
	free_mib: Mutex<u64>,
	freed: std::sync::Condvar,
}

/// Memory held by a running job, given back when it ends.
pub struct Reservation<'a> {
	budget: &'a MemoryBudget,
	mib: u64,
}

impl Drop for Reservation<'_> {
	fn drop(&mut self) {
		if let Ok(mut free) = self.budget.free_mib.lock() {
			*free = free.saturating_add(self.mib);
		}
		self.budget.freed.notify_all();
	}
}

impl MemoryBudget {
	/// The memory the provider registered (the machine's, where its configuration names none).
	pub fn new(total_mib: u64) -> Self {
		Self { total_mib, free_mib: Mutex::new(total_mib), freed: std::sync::Condvar::new() }
	}

	/// Whether a job needing `mib` could ever run here; one that cannot is given up at once.
	pub fn fits(&self, mib: u64) -> Result<(), TrainingError> {
		if mib > self.total_mib {
			return Err(TrainingError::Memory { needed_mib: mib, available_mib: self.total_mib });
		}
		Ok(())
	}

	/// Reserves `mib`, waiting until `until` for other jobs to give memory back. A job that needs
	/// more than the whole budget is refused at once.
	pub fn reserve(&self, mib: u64, until: Instant) -> Result<Reservation<'_>, TrainingError> {
		if mib > self.total_mib {
			return Err(TrainingError::Memory { needed_mib: mib, available_mib: self.total_mib });
		}
		let poisoned = || TrainingError::Io(std::io::Error::other("memory budget poisoned"));
		let mut free = self.free_mib.lock().map_err(|_| poisoned())?;
		while *free < mib {
			let left = until.saturating_duration_since(Instant::now());
			if left.is_zero() {
				return Err(TrainingError::MemoryBusy { needed_mib: mib });
			}
			free = self.freed.wait_timeout(free, left).map_err(|_| poisoned())?.0;
		}
		*free -= mib;
		Ok(Reservation { budget: self, mib })
	}
}

/// What a training job may use.
#[derive(Clone)]
pub struct Limits {
	/// Until the job's deadline, less the time its result needs to be included.
	pub seconds_left: f64,
	/// The memory the daemon's training jobs share.
	pub memory: Arc<MemoryBudget>,
	/// The largest blob the provider's store takes: the artifact must fit.
	pub max_artifact_bytes: u64,
	/// The store's quota for the provider's own results: before the first step the job reserves
	/// the artifact, the manifest and the corpus index in it together (or gives up), and the
	/// gradient features beside them when they fit (else leaves them out). The reservation
	/// ([`Trained::reserved`]) is released just before the files are stored.
	pub space: Space,
}

/// Splits the data by the job's seed, trains as the job says, and evaluates the base and the
/// trained model on the held-out split. Gives up before loading the base model when training
/// would need more memory than the provider has (and waits while other jobs hold it, the model
/// not yet loaded), and before the first step or at any step when the pace says the job would end
/// after its deadline. Blocking: run it off the async runtime.
pub fn train(
	spec: &TrainingSpec,
	data: &Data,
	bases: &BaseModels,
	work_dir: &Path,
	limits: Limits,
	progress: &ProgressCell,
) -> Result<Trained, TrainingError> {
	let seconds_left = limits.seconds_left;
	let started = Instant::now();
	let h = &spec.hyperparameters;
	let needed_mib = bases.job_memory(spec)?.div_ceil(1 << 20);
	let until = started + std::time::Duration::from_secs_f64(seconds_left.max(0.0));
	let _memory = limits.memory.reserve(needed_mib, until)?;
	let base = bases.open(spec)?;
	let model = base.model();
	let corpus = Corpus::read(data, model, h.seed, h.eval_fraction.deconstruct())?;
	let (train_tokens, eval_tokens) = (&corpus.train, &corpus.eval);
	let vocabulary = model.vocabulary() as u32;
	let index_bytes = corpus.index_size(vocabulary);
	if index_bytes > limits.max_artifact_bytes {
		return Err(TrainingError::IndexTooLarge {
			bytes: index_bytes,
			limit: limits.max_artifact_bytes,
		});
	}
	let seq_len = h.sequence_length as usize;
	if train_tokens.len() < seq_len + 2 {
		return Err(TrainingError::EmptySplit("training"));
	}
	// Held-out data shorter than a training sequence is evaluated in one shorter window.
	let eval_len = seq_len.min(eval_tokens.len().saturating_sub(1));
	if eval_len < 2 {
		return Err(TrainingError::EmptySplit("held-out"));
	}
	let lora = match &h.method {
		Method::Lora { rank, alpha, targets } => Some(Lora::new(
			model,
			LoraConfig {
				rank: *rank as usize,
				alpha: f64::from(*alpha),
				targets: targets.iter().map(|t| t.peft_name().to_string()).collect(),
			},
			h.seed,
		)?),
		Method::Full => None,
	};
	// f32 values, as safetensors stores them, whatever trains.
	let values = match &lora {
		Some(lora) => lora.parameters(),
		None => model.trainable().iter().map(|v| v.as_tensor().elem_count()).sum(),
	};
	let bytes = 4 * values as u64;
	if bytes > limits.max_artifact_bytes {
		return Err(TrainingError::ArtifactTooLarge { bytes, limit: limits.max_artifact_bytes });
	}
	// Every file the job stores, reserved before the first step rather than refused after the
	// last: the artifact with its safetensors header, the manifest, the index, and the
	// features if they fit too.
	let tensors = match &lora {
		Some(lora) => 2 * lora.modules().count(),
		None => model.trainable().len(),
	};
	let manifest = corpus.manifest.to_json();
	let stored = bytes
		.saturating_add(SAFETENSORS_HEADER_PER_TENSOR * tensors as u64 + 1024)
		.saturating_add(manifest.len() as u64)
		.saturating_add(index_bytes);
	let features_bytes = match &base {
		Base::Tiny(_) => features_size(corpus.manifest.trained.len()),
		Base::Llama(_) => 0,
	};
	let reserved = match limits.space.reserve(stored.saturating_add(features_bytes)) {
		Ok(reserved) => reserved,
		Err(_) => limits.space.reserve(stored).map_err(|e| match e {
			StoreError::Full { free, .. } => TrainingError::StoreFull { bytes: stored, free },
			other => TrainingError::Store(other),
		})?,
	};
	let features_room = reserved.size() - stored;
	let per_step = h.batch_size as usize * seq_len;
	let steps = (h.epochs as usize)
		.saturating_mul(train_tokens.len().div_ceil(per_step))
		.clamp(1, h.max_steps as usize);
	let config = TrainConfig {
		steps,
		batch_size: h.batch_size as usize,
		seq_len,
		learning_rate: f64::from(h.learning_rate) / 1e6,
		warmup_steps: (h.warmup_steps as usize).min(steps),
		weight_decay: 0.0,
		max_grad_norm: 1.0,
		seed: h.seed,
	};
	report(progress, |p| {
		*p = Progress { phase: "evaluating".into(), steps: steps as u32, ..Default::default() }
	});
	let eval_base = evaluate(model, lora.as_ref(), eval_tokens, eval_len, EVAL_BATCH)?;
	report(progress, |p| p.phase = "training".into());
	let training = Instant::now();
	let mut deadline = None;
	let report_ = train_observed(model, lora.as_ref(), train_tokens, &config, |step, loss| {
		let elapsed = training.elapsed().as_secs_f64();
		let per = elapsed / step as f64;
		let eta = per * (steps - step) as f64;
		report(progress, |p| {
			p.step = step as u32;
			p.loss = Some(loss);
			p.tokens_per_second = Some((step * per_step) as f64 / elapsed.max(1e-9));
			p.eta_seconds = Some(eta);
		});
		if step % 50 == 0 || step == steps {
			tracing::info!(step, steps, loss, eta_s = eta, "training");
		}
		let left = seconds_left - started.elapsed().as_secs_f64();
		// Two steps give a pace to judge by; the evaluation after training takes about as
		// long as the one before.
		if step >= 2 && eta > left {
			deadline = Some((eta, left));
			return false;
		}
		true
	});
	let report_ = match (report_, deadline) {
		(Err(MlError::Stopped { .. }), Some((needed_s, left_s))) => {
			return Err(TrainingError::Deadline { needed_s, left_s })
		},
		(other, _) => other?,
	};
	report(progress, |p| p.phase = "evaluating".into());
	let eval_trained = evaluate(model, lora.as_ref(), eval_tokens, eval_len, EVAL_BATCH)?;
	let features = match &base {
		Base::Tiny(_) => {
			report(progress, |p| p.phase = "gradient features".into());
			// Half of what is left: the index, the artifact and the result need the rest.
			let left = (seconds_left - started.elapsed().as_secs_f64()).max(0.0) / 2.0;
			let until = Instant::now() + std::time::Duration::from_secs_f64(left);
			corpus.features(
				model,
				lora.as_ref(),
				seq_len,
				h.seed,
				limits.max_artifact_bytes.min(features_room),
				until,
			)?
		},
		// A backward pass of SmolLM2 per contribution is more than a provider's CPU does in a
		// job's time: no features for llama models.
		Base::Llama(_) => None,
	};
	report(progress, |p| p.phase = "storing".into());
	let out = work_dir.join("artifact");
	std::fs::create_dir_all(&out)?;
	let artifact = match (&lora, &base) {
		(Some(lora), _) => {
			lora.save(&out, "base")?;
			std::fs::read(out.join("adapter_model.safetensors"))?
		},
		(None, Base::Tiny(model)) => {
			model.save(&out.join("model.safetensors"))?;
			std::fs::read(out.join("model.safetensors"))?
		},
		(None, Base::Llama(_)) => {
			return Err(MlError::Config("this model trains adapters only".into()).into())
		},
	};
	std::fs::remove_dir_all(&out)?;
	let corpus_index = work_dir.join("corpus.idx");
	let index = corpus.write_index(vocabulary, &corpus_index)?;
	let leaves: Vec<H256> =
		corpus.manifest.trained.iter().map(|t| H256(manifest::leaf(t))).collect();
	let records = TrainingRecords {
		manifest: FileRef { content_hash: content_hash(&manifest), length: manifest.len() as u64 },
		trained_root: pallet_datanets::merkle::root(&leaves).unwrap_or_default(),
		trained: corpus.manifest.trained.len() as u32,
		corpus_index: FileRef { content_hash: H256(index.hash), length: index.bytes },
		features: features
			.as_ref()
			.map(|f| FileRef { content_hash: content_hash(f), length: f.len() as u64 }),
	};
	let versions: Vec<(u32, u32, H256)> =
		spec.sources.iter().map(|s| (s.datanet, s.version, s.root)).collect();
	let result = TrainingResult {
		artifact: FileRef { content_hash: content_hash(&artifact), length: artifact.len() as u64 },
		metrics: Metrics {
			train_loss_first: micro(report_.first_loss),
			train_loss_last: micro(report_.last_loss),
			eval_loss_base: micro(eval_base),
			eval_loss_trained: micro(eval_trained),
			tokens: report_.tokens,
			steps: report_.steps as u32,
			wall_time_ms: started.elapsed().as_millis() as u64,
		},
		training_set: TrainingSetCommitment {
			versions: versions.try_into().unwrap_or_default(),
			split_seed: h.seed,
		},
		records,
	};
	report(progress, |p| p.phase = "done".into());
	Ok(Trained { artifact, manifest, features, corpus_index, result, reserved })
}

/// Projected dimensions of gradient features.
pub const FEATURE_DIMS: usize = 1_024;
/// The bytes of a features file of `rows` trained contributions.
pub fn features_size(rows: usize) -> u64 {
	24 + rows as u64 * (16 + 2 * FEATURE_DIMS as u64)
}

/// The most windows of a contribution its gradient feature looks at.
pub const FEATURE_WINDOWS: usize = 8;

/// A job's data as training reads it: the training and held-out token streams (each document
/// followed by the model's end-of-document token), the manifest, and where each trained
/// contribution's documents sit in the training stream, for its corpus index.
pub struct Corpus {
	pub train: Vec<u32>,
	pub eval: Vec<u32>,
	pub manifest: Manifest,
	documents: Vec<(ContributionRef, Vec<std::ops::Range<usize>>)>,
}

impl Corpus {
	/// Reads and tokenizes one contribution at a time, in the job's order of versions, each
	/// contribution once; splits them by the job's seed.
	pub fn read(
		data: &Data,
		model: &dyn LanguageModel,
		seed: u64,
		eval_ppm: u32,
	) -> Result<Self, TrainingError> {
		let mut corpus = Corpus {
			train: Vec::new(),
			eval: Vec::new(),
			manifest: Manifest { version: 1, trained: vec![], held_out: vec![], skipped: vec![] },
			documents: Vec::new(),
		};
		let mut seen = BTreeSet::new();
		for item in data.iter().flat_map(|(_, items)| items) {
			if !seen.insert((item.datanet, item.contribution)) {
				continue;
			}
			let skip = |reason: String| Skipped {
				datanet: item.datanet,
				contribution: item.contribution,
				content_hash: Hash32(item.hash.0),
				reason,
			};
			let format = match (item.skip, text_format(item.format)) {
				(Some(reason), _) => {
					corpus.manifest.skipped.push(skip(reason.into()));
					continue;
				},
				(None, None) => {
					corpus.manifest.skipped.push(skip("not text".into()));
					continue;
				},
				(None, Some(format)) => format,
			};
			// The file is the provider's own copy: failing to read it fails the job; what is in
			// it is the contributor's, and a contribution that does not parse is skipped.
			let bytes = std::fs::read(&item.path)?;
			let texts = match documents(&format, &bytes) {
				Ok(texts) => texts,
				Err(e) => {
					corpus.manifest.skipped.push(skip(format!("unreadable: {e}")));
					continue;
				},
			};
			let held = is_held_out(&item.hash.0, seed, eval_ppm);
			let stream = if held { &mut corpus.eval } else { &mut corpus.train };
			let offset = stream.len();
			let mut ranges = Vec::with_capacity(texts.len());
			for text in &texts {
				let start = stream.len();
				stream.extend(model.encode(text)?);
				ranges.push(start..stream.len());
				stream.push(model.end_of_document());
			}
			let tokens = (stream.len() - offset) as u64;
			let (datanet, contribution) = (item.datanet, item.contribution);
			if held {
				corpus.manifest.held_out.push(HeldOut {
					datanet,
					contribution,
					content_hash: Hash32(item.hash.0),
					tokens,
				});
			} else {
				corpus.manifest.trained.push(manifest::Trained {
					datanet,
					contribution,
					content_hash: Hash32(item.hash.0),
					documents: texts.len() as u32,
					tokens,
					offset: offset as u64,
				});
				corpus.documents.push((ContributionRef { datanet, contribution }, ranges));
			}
		}
		Ok(corpus)
	}

	/// The gradient features of the trained contributions at the final weights
	/// (`openledger_ml::influence::example_gradient` over each's first [`FEATURE_WINDOWS`]
	/// windows of the training sequence length, [`FEATURE_DIMS`] dimensions, the job's seed as
	/// the projection's), each scaled to unit length, in manifest order, as
	/// `openledger-attribution`'s features file; `None` when the file would be larger than the
	/// store takes, or the features would not be done by `until`.
	pub fn features(
		&self,
		model: &dyn LanguageModel,
		lora: Option<&Lora>,
		window: usize,
		seed: u64,
		limit: u64,
		until: Instant,
	) -> Result<Option<Vec<u8>>, TrainingError> {
		let bytes = features_size(self.manifest.trained.len());
		if bytes > limit {
			tracing::warn!(bytes, limit, "gradient features larger than the store takes: none");
			return Ok(None);
		}
		let mut rows = Vec::with_capacity(self.manifest.trained.len());
		for entry in &self.manifest.trained {
			// Features are optional: a job with more contributions than its time allows gives
			// none rather than missing its deadline (one step over many contributions is the
			// cheapest job to ask for).
			if Instant::now() > until {
				tracing::warn!(
					contributions = self.manifest.trained.len(),
					"no time left for gradient features: none"
				);
				return Ok(None);
			}
			let (start, len) = (entry.offset as usize, entry.tokens as usize);
			let tokens = self.train.get(start..start + len).unwrap_or_default();
			let gradient = if tokens.len() < 2 {
				vec![0.0; FEATURE_DIMS]
			} else {
				openledger_ml::influence::example_gradient(
					model,
					lora,
					tokens,
					window,
					FEATURE_WINDOWS,
					FEATURE_DIMS,
					seed,
				)?
			};
			// At unit length: a contribution's influence is then the cosine of its gradient with
			// the answer's, not favouring the contributions the model fits worst, whose
			// gradients are longest.
			let norm = gradient.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
			let gradient: Vec<f32> = if norm > 0.0 {
				gradient.iter().map(|v| (f64::from(*v) / norm) as f32).collect()
			} else {
				gradient
			};
			let contribution =
				ContributionRef { datanet: entry.datanet, contribution: entry.contribution };
			rows.push((contribution, Quantized::from_f32(&gradient)));
		}
		Ok(Some(write_features(FEATURE_DIMS as u32, seed, &rows)))
	}

	/// The exact size of the trained contributions' corpus index.
	pub fn index_size(&self, vocabulary: u32) -> u64 {
		let documents = self.documents.iter().flat_map(|(_, r)| r).filter(|r| !r.is_empty());
		let (count, positions) =
			documents.fold((0u64, 0u64), |(n, p), r| (n + 1, p + r.len() as u64 + 1));
		index_size(vocabulary, positions, count, self.documents.len() as u64)
	}

	/// Writes the corpus index of the trained contributions to `path`.
	pub fn write_index(
		&self,
		vocabulary: u32,
		path: &Path,
	) -> Result<openledger_attribution::IndexSummary, TrainingError> {
		let mut builder = IndexBuilder::new(vocabulary)?;
		for (contribution, ranges) in &self.documents {
			let documents: Vec<&[u32]> = ranges.iter().map(|r| &self.train[r.clone()]).collect();
			builder.add(*contribution, &documents)?;
		}
		let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
		let summary = builder.write(&mut file)?;
		file.flush()?;
		file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
		Ok(summary)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_models::{Hyperparameters, TargetModule};
	use sp_runtime::Permill;

	fn spec(method: Method, seed: u64) -> TrainingSpec {
		let base = &openledger_runtime::genesis_config_presets::base_models()[0];
		TrainingSpec {
			base_model: 0,
			architecture: Architecture::TinyByteGpt,
			context_length: base.context_length,
			weights: base.weights,
			tokenizer: None,
			sources: vec![SourceVersion {
				datanet: 0,
				version: 0,
				root: H256::repeat_byte(7),
				contributions: 8,
				total_bytes: 0,
			}]
			.try_into()
			.unwrap(),
			hyperparameters: Hyperparameters {
				method,
				epochs: 2,
				max_steps: 12,
				learning_rate: 3_000,
				warmup_steps: 2,
				batch_size: 4,
				sequence_length: 32,
				eval_fraction: Permill::from_percent(25),
				seed,
			},
		}
	}

	/// Eight contributions, each in a file of a directory kept for the test run.
	fn data() -> Data {
		let dir = tempfile::tempdir().unwrap().keep();
		let items = (0..8)
			.map(|i| {
				let text = format!(
					"{{\"text\": \"contribution {i}: the model learns the data of datanet zero, line {i}.\"}}\n{{\"prompt\": \"Q{i}: \", \"completion\": \"A{i}.\"}}\n"
				);
				let bytes = text.into_bytes();
				let hash = content_hash(&bytes);
				let path = dir.join(format!("{hash:?}"));
				std::fs::write(&path, &bytes).unwrap();
				Item {
					datanet: 0,
					contribution: i,
					hash,
					format: DataFormat::JsonLines,
					path,
					skip: None,
				}
			})
			.collect();
		vec![(spec(Method::Full, 0).sources[0], items)]
	}

	/// The model registry's request for `spec`.
	fn request(spec: &TrainingSpec) -> TrainingRequestOf<Runtime> {
		pallet_models::TrainingRequest {
			requester: openledger_runtime::AccountId::new([1; 32]),
			base_model: spec.base_model,
			sources: spec.sources.clone(),
			access_fees: Default::default(),
			hyperparameters: spec.hyperparameters.clone(),
			name: b"m".to_vec().try_into().unwrap(),
			description: Default::default(),
			deposit: 0,
			max_fee: 0,
			requested_at: 0,
		}
	}

	#[test]
	fn a_payload_beyond_the_registrys_bounds_is_refused_before_anything_is_allocated() {
		// What a crafted job claimed: u32::MAX contributions (a `Vec::with_capacity` of 600 GB
		// in `gather`) and a LoRA rank of u32::MAX (as much in `Lora::new`).
		let mut crafted = spec(lora(), 0);
		crafted.sources[0].contributions = u32::MAX;
		assert!(matches!(
			check_spec(&crafted, &request(&crafted)),
			Err(TrainingError::OutOfBounds { what: "a version's contributions", .. })
		));
		let mut crafted = spec(
			Method::Lora {
				rank: u32::MAX,
				alpha: 8,
				targets: vec![TargetModule::Query].try_into().unwrap(),
			},
			0,
		);
		assert!(matches!(
			check_spec(&crafted, &request(&crafted)),
			Err(TrainingError::OutOfBounds { what: "the LoRA rank", .. })
		));
		crafted.hyperparameters.batch_size = 0;
		crafted.hyperparameters.method = lora();
		assert!(matches!(
			check_spec(&crafted, &request(&crafted)),
			Err(TrainingError::OutOfBounds { .. })
		));
		// A payload the registry did not write is refused whatever it holds.
		let honest = spec(lora(), 0);
		assert!(check_spec(&honest, &request(&honest)).is_ok());
		let mut other = honest.clone();
		other.hyperparameters.max_steps += 1;
		assert!(matches!(
			check_spec(&other, &request(&honest)),
			Err(TrainingError::RequestMismatch("hyperparameters"))
		));
		other = honest.clone();
		other.sources[0].total_bytes = 1;
		assert!(matches!(
			check_spec(&other, &request(&honest)),
			Err(TrainingError::RequestMismatch("sources"))
		));
	}

	#[test]
	fn the_data_of_a_job_counts_in_its_memory_before_its_first_byte_is_fetched() {
		// Eight versions of a datanet of a few GiB: the model is small, the data is not.
		let mut spec = spec(Method::Full, 5);
		let model = bases().training_memory(&spec).unwrap();
		spec.sources[0].total_bytes = 3 << 30;
		let job = bases().job_memory(&spec).unwrap();
		assert_eq!(job, model + (3 << 30) * DATA_MEMORY_PER_BYTE);
		let budget = MemoryBudget::new(4_096);
		assert!(matches!(budget.fits(job >> 20), Err(TrainingError::Memory { .. })));
		let dir = tempfile::tempdir().unwrap();
		let progress = cell();
		let error = train(&spec, &data(), &bases(), dir.path(), limits(600.0), &progress).err();
		assert!(matches!(error, Some(TrainingError::Memory { .. })), "{error:?}");
		assert_eq!(progress.lock().unwrap().step, 0);
	}

	fn lora() -> Method {
		Method::Lora {
			rank: 4,
			alpha: 8,
			targets: vec![TargetModule::Query, TargetModule::Value].try_into().unwrap(),
		}
	}

	fn cell() -> ProgressCell {
		Arc::new(Mutex::new(Progress::default()))
	}

	fn limits(seconds_left: f64) -> Limits {
		Limits {
			seconds_left,
			memory: Arc::new(MemoryBudget::new(4_096)),
			max_artifact_bytes: 1 << 20,
			space: Space::with_quota(1 << 30),
		}
	}

	fn bases() -> BaseModels {
		let scratch = tempfile::tempdir().unwrap();
		BaseModels::load(None, scratch.path()).unwrap()
	}

	#[test]
	fn the_canonical_tiny_base_model_hashes_as_genesis_registers_it() {
		let registered = openledger_runtime::genesis_config_presets::base_models()[0].weights;
		let mut spec = spec(lora(), 0);
		assert!(matches!(bases().open(&spec), Ok(Base::Tiny(_))));
		spec.weights = FileRef { content_hash: H256::repeat_byte(1), length: registered.length };
		assert!(matches!(bases().open(&spec), Err(TrainingError::BaseWeights { .. })));
	}

	#[test]
	fn a_lora_job_trains_and_commits_to_exactly_its_versions() {
		let dir = tempfile::tempdir().unwrap();
		let spec = spec(lora(), 5);
		let progress = cell();
		let trained =
			train(&spec, &data(), &bases(), dir.path(), limits(600.0), &progress).unwrap();
		let result = &trained.result;
		assert_eq!(result.artifact.content_hash, content_hash(&trained.artifact));
		assert_eq!(result.training_set.split_seed, 5);
		assert_eq!(result.training_set.versions.to_vec(), vec![(0, 0, H256::repeat_byte(7))]);
		assert!(result.metrics.steps >= 1 && result.metrics.steps <= 12);
		assert_eq!(result.metrics.tokens, u64::from(result.metrics.steps) * 4 * 32);
		assert!(result.metrics.eval_loss_base > 0);
		let p = progress.lock().unwrap().clone();
		assert_eq!(
			(p.phase.as_str(), p.step, p.steps),
			("done", result.metrics.steps, result.metrics.steps)
		);
		// The adapter is PEFT's safetensors file.
		let tensors =
			candle_core::safetensors::load_buffer(&trained.artifact, &Device::Cpu).unwrap();
		assert!(
			tensors.contains_key("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
		);
		// What it trained on: every contribution once, trained or held out, in the stream's
		// order, each where the previous ended.
		let records = &result.records;
		assert_eq!(records.manifest.content_hash, content_hash(&trained.manifest));
		let manifest = Manifest::from_json(&trained.manifest).unwrap();
		assert_eq!(manifest.trained.len() + manifest.held_out.len(), 8);
		assert!(!manifest.trained.is_empty() && manifest.skipped.is_empty());
		assert_eq!(records.trained, manifest.trained.len() as u32);
		let mut offset = 0;
		for entry in &manifest.trained {
			assert_eq!(entry.offset, offset);
			assert_eq!(entry.documents, 2);
			offset += entry.tokens;
		}
		let leaves: Vec<H256> = manifest.trained.iter().map(|t| H256(manifest::leaf(t))).collect();
		assert_eq!(Some(records.trained_root), pallet_datanets::merkle::root(&leaves));
		// The corpus index holds exactly the trained contributions' tokens, ends of documents
		// left out, and is the file the result names.
		let bytes = std::fs::read(&trained.corpus_index).unwrap();
		assert_eq!(records.corpus_index.content_hash, content_hash(&bytes));
		assert_eq!(records.corpus_index.length, bytes.len() as u64);
		let index = openledger_attribution::CorpusIndex::open(&bytes[..]).unwrap();
		assert_eq!(index.contribution_count(), manifest.trained.len());
		for (i, entry) in manifest.trained.iter().enumerate() {
			let (c, tokens) = index.contribution(i);
			assert_eq!((c.datanet, c.contribution), (entry.datanet, entry.contribution));
			assert_eq!(tokens, entry.tokens - u64::from(entry.documents));
		}
		// A tiny model's job leaves the gradient feature of each trained contribution, in the
		// manifest's order, projected with the job's seed.
		let bytes = trained.features.as_ref().unwrap();
		let file = records.features.unwrap();
		assert_eq!((file.content_hash, file.length), (content_hash(bytes), bytes.len() as u64));
		let features = openledger_attribution::influence::Features::open(&bytes[..]).unwrap();
		assert_eq!(
			(features.len(), features.dims(), features.seed()),
			(manifest.trained.len(), 1_024, 5)
		);
		let own = openledger_attribution::influence::Quantized::from_f32(&[1.0; 1_024]);
		let dots = features.dots(&own).unwrap();
		assert!(
			dots.iter().all(|(_, dot, _)| *dot != 0),
			"every trained contribution has a gradient"
		);
	}

	#[test]
	fn an_unreadable_slashed_or_repeated_contribution_is_listed_apart_and_the_rest_trains() {
		let dir = tempfile::tempdir().unwrap();
		let spec = spec(Method::Full, 5);
		let mut data = data();
		let mut items = data[0].1.clone();
		let broken = dir.path().join("broken");
		std::fs::write(&broken, b"{\"text\": \"fine\"}\n{not json}\n").unwrap();
		let hash = content_hash(b"broken");
		items.push(Item { contribution: 8, hash, path: broken, ..items[0].clone() });
		items.push(Item { contribution: 9, skip: Some("slashed"), ..items[0].clone() });
		data[0].1 = items.clone();
		// A second version of the same datanet holds the same contributions: each trains once.
		data.push((spec.sources[0], items));
		let trained = train(&spec, &data, &bases(), dir.path(), limits(600.0), &cell()).unwrap();
		let manifest = Manifest::from_json(&trained.manifest).unwrap();
		assert_eq!(manifest.trained.len() + manifest.held_out.len(), 8);
		let skipped: Vec<_> =
			manifest.skipped.iter().map(|s| (s.contribution, s.reason.as_str())).collect();
		assert_eq!(skipped, vec![(8, "unreadable: bad file: line 2: not JSON"), (9, "slashed")]);
		let alone = train(&spec, &self::data(), &bases(), dir.path(), limits(600.0), &cell());
		// The same stream as the job without them: the same model.
		assert_eq!(trained.artifact, alone.unwrap().artifact);
	}

	#[test]
	fn gradient_features_that_would_pass_the_deadline_are_left_out_not_the_job() {
		let model = TinyByteGpt::base(&Device::Cpu).unwrap();
		let corpus = Corpus::read(&data(), &model, 5, 250_000).unwrap();
		let limit = 1 << 30;
		let now = Instant::now();
		let late = corpus.features(&model, None, 32, 5, limit, now).unwrap();
		assert!(late.is_none(), "a deadline already passed leaves no features");
		let later = now + std::time::Duration::from_secs(600);
		assert!(corpus.features(&model, None, 32, 5, limit, later).unwrap().is_some());
	}

	#[test]
	fn a_job_whose_corpus_index_the_store_would_refuse_is_given_up_before_a_step() {
		let dir = tempfile::tempdir().unwrap();
		let spec = spec(Method::Full, 5);
		let mut data = data();
		let large = dir.path().join("large");
		let text: String =
			(0..6_000).map(|i| format!("line {i} of a long contribution. ")).collect();
		std::fs::write(&large, format!("{{\"text\": \"{text}\"}}\n")).unwrap();
		let item = Item {
			contribution: 100,
			hash: content_hash(b"large"),
			path: large,
			..data[0].1[0].clone()
		};
		data[0].1.push(item);
		// The artifact (492,800 bytes) fits; the index of about 200,000 tokens does not.
		let limit = Limits { max_artifact_bytes: 600_000, ..limits(600.0) };
		let progress = cell();
		let error = train(&spec, &data, &bases(), dir.path(), limit, &progress).err();
		assert!(
			matches!(error, Some(TrainingError::IndexTooLarge { limit: 600_000, .. })),
			"{error:?}"
		);
		assert_eq!(progress.lock().unwrap().step, 0);
	}

	#[test]
	fn a_job_whose_files_together_would_not_fit_the_store_is_given_up_before_a_step() {
		let dir = tempfile::tempdir().unwrap();
		let spec = spec(Method::Full, 5);
		let run = |quota: u64| {
			let limits = Limits { space: Space::with_quota(quota), ..limits(600.0) };
			let progress = cell();
			let outcome = train(&spec, &data(), &bases(), dir.path(), limits, &progress);
			let steps = progress.lock().unwrap().step;
			(outcome, steps)
		};
		// Each file fits the store's limit; together they do not fit its free space.
		let (refused, steps) = run(500_000);
		let Err(TrainingError::StoreFull { bytes: needed, free: 500_000 }) = refused else {
			panic!("{:?}", refused.err());
		};
		assert_eq!(steps, 0);
		// The artifact, the manifest and the index are all counted.
		let (roomy, _) = run(1 << 30);
		let trained = roomy.unwrap();
		let index = std::fs::metadata(&trained.corpus_index).unwrap().len();
		let files = (trained.artifact.len() + trained.manifest.len()) as u64 + index;
		assert!(needed >= files && needed < files + (64 << 10), "{needed} for {files}");
		assert!(trained.features.is_some());
		// With exactly that much free the job trains, leaving the features out.
		let (exact, _) = run(needed);
		let trained = exact.unwrap();
		assert!(trained.features.is_none());
		assert_eq!(trained.reserved.size(), needed);
		assert!(matches!(run(needed - 1).0, Err(TrainingError::StoreFull { .. })));
	}

	#[test]
	fn a_job_cannot_count_on_space_another_job_holds() {
		let dir = tempfile::tempdir().unwrap();
		let spec = spec(Method::Full, 5);
		let probe = train(&spec, &data(), &bases(), dir.path(), limits(600.0), &cell()).unwrap();
		let size = probe.reserved.size();
		// Room for one job's files, not two.
		let limits = Limits { space: Space::with_quota(size + size / 2), ..limits(600.0) };
		let first = train(&spec, &data(), &bases(), dir.path(), limits.clone(), &cell()).unwrap();
		// The first job's files are not stored yet: the second finds its space held.
		let second = train(&spec, &data(), &bases(), dir.path(), limits.clone(), &cell());
		assert!(matches!(second, Err(TrainingError::StoreFull { .. })), "{:?}", second.err());
		drop(first.reserved);
		train(&spec, &data(), &bases(), dir.path(), limits, &cell()).unwrap();
	}

	#[test]
	fn the_same_job_gives_the_same_artifact_bytes() {
		let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		let spec = spec(Method::Full, 5);
		let first = train(&spec, &data(), &bases(), a.path(), limits(600.0), &cell()).unwrap();
		let second = train(&spec, &data(), &bases(), b.path(), limits(600.0), &cell()).unwrap();
		assert_eq!(first.artifact, second.artifact);
		assert_eq!(first.result.artifact, second.result.artifact);
		// And the same records: manifest, trained set and corpus index, by hash.
		assert_eq!(first.manifest, second.manifest);
		assert_eq!(first.result.records, second.result.records);
		assert!(first.result.metrics.eval_loss_trained < first.result.metrics.eval_loss_base);
	}

	#[test]
	fn a_job_that_cannot_meet_its_deadline_is_given_up() {
		let dir = tempfile::tempdir().unwrap();
		let mut spec = spec(Method::Full, 5);
		spec.hyperparameters.max_steps = 10_000;
		spec.hyperparameters.epochs = 100;
		let error =
			train(&spec, &data(), &bases(), dir.path(), limits(0.5), &cell()).err().unwrap();
		assert!(matches!(error, TrainingError::Deadline { .. }), "{error}");
	}

	#[test]
	fn a_job_too_large_for_the_providers_memory_is_given_up_before_a_step() {
		// A builder cannot make a provider swap or be killed by asking for huge batches.
		let dir = tempfile::tempdir().unwrap();
		let mut spec = spec(Method::Full, 5);
		spec.hyperparameters.batch_size = 4_096;
		spec.hyperparameters.sequence_length = 128;
		let progress = cell();
		let error = train(&spec, &data(), &bases(), dir.path(), limits(600.0), &progress).err();
		assert!(
			matches!(error, Some(TrainingError::Memory { available_mib: 4_096, .. })),
			"{error:?}"
		);
		assert_eq!(progress.lock().unwrap().step, 0);
	}

	#[test]
	fn jobs_running_at_once_share_the_providers_memory() {
		// Several jobs sent to one provider at once wait for each other's memory.
		let budget = Arc::new(MemoryBudget::new(100));
		let far = Instant::now() + std::time::Duration::from_secs(60);
		let first = budget.reserve(60, far).unwrap();
		let (tx, rx) = std::sync::mpsc::channel();
		let waiting = {
			let budget = budget.clone();
			std::thread::spawn(move || {
				let _second = budget.reserve(60, far).unwrap();
				tx.send(()).unwrap();
			})
		};
		assert!(rx.recv_timeout(std::time::Duration::from_millis(200)).is_err(), "it waits");
		drop(first);
		rx.recv_timeout(std::time::Duration::from_secs(10))
			.expect("it runs once memory is free");
		waiting.join().unwrap();
		// Memory held past a job's deadline gives the job up; more than the whole is refused.
		let _held = budget.reserve(100, far).unwrap();
		let soon = Instant::now() + std::time::Duration::from_millis(50);
		assert!(matches!(budget.reserve(1, soon), Err(TrainingError::MemoryBusy { .. })));
		assert!(matches!(budget.reserve(101, far), Err(TrainingError::Memory { .. })));
	}

	#[test]
	fn a_job_whose_artifact_the_store_would_refuse_is_given_up_before_a_step() {
		let dir = tempfile::tempdir().unwrap();
		let spec = spec(Method::Full, 5);
		let small = Limits { max_artifact_bytes: 100_000, ..limits(600.0) };
		let progress = cell();
		let error = train(&spec, &data(), &bases(), dir.path(), small, &progress).err();
		// 123,200 f32 weights.
		assert!(
			matches!(error, Some(TrainingError::ArtifactTooLarge { bytes: 492_800, .. })),
			"{error:?}"
		);
		assert_eq!(progress.lock().unwrap().step, 0);
	}

	#[test]
	fn a_split_that_leaves_nothing_held_out_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let mut spec = spec(Method::Full, 5);
		spec.hyperparameters.eval_fraction = Permill::from_parts(1);
		let error = train(&spec, &data(), &bases(), dir.path(), limits(600.0), &cell())
			.err()
			.unwrap();
		assert!(matches!(error, TrainingError::EmptySplit("held-out")), "{error}");
	}

	fn llama_spec() -> TrainingSpec {
		let base = &openledger_runtime::genesis_config_presets::base_models()[1];
		let mut spec = spec(lora(), 5);
		spec.base_model = 1;
		spec.architecture = Architecture::Llama;
		spec.context_length = base.context_length;
		spec.weights = base.weights;
		spec.hyperparameters.max_steps = 2;
		spec.hyperparameters.batch_size = 2;
		spec.hyperparameters.sequence_length = 16;
		spec
	}

	#[test]
	fn a_weights_file_changed_after_the_daemon_started_is_refused_not_trained_on() {
		let (models, scratch) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		let path = models.path().join("base.gguf");
		std::fs::write(&path, b"the weights the chain registers").unwrap();
		let bases = BaseModels::load(Some(models.path()), scratch.path()).unwrap();
		let mut spec = llama_spec();
		spec.weights.content_hash = content_hash(b"the weights the chain registers");
		assert!(bases.files().contains_key(&spec.weights.content_hash));
		// Replaced while the daemon runs: the job names the old hash, the file has another.
		std::fs::write(&path, b"other weights").unwrap();
		let error = bases.open(&spec).err();
		let expected = content_hash(b"other weights");
		assert!(
			matches!(error, Some(TrainingError::BaseWeights { found, registered })
				if found == expected && registered == spec.weights.content_hash),
			"{error:?}"
		);
	}

	#[test]
	fn a_job_waiting_for_memory_has_not_loaded_its_base_model() {
		use std::io::Read;
		// SmolLM2's metadata without its weights: enough to know the memory training takes, not
		// enough to load. A job that loaded its model before reserving would fail on the missing
		// weights; one that waits for memory first gives up for memory held by other jobs.
		let (models, scratch) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		let gguf = openledger_ml::llama::model_cache().join(openledger_ml::llama::SMOLLM2_FILE);
		let file = std::fs::File::open(&gguf)
			.expect("SmolLM2 in the model cache: scripts/fetch-models.sh");
		let mut header = Vec::new();
		file.take(8 << 20).read_to_end(&mut header).unwrap();
		std::fs::write(models.path().join("header-only.gguf"), &header).unwrap();
		let bases = BaseModels::load(Some(models.path()), scratch.path()).unwrap();
		let mut spec = llama_spec();
		spec.weights.content_hash = content_hash(&header);
		let needed = bases.job_memory(&spec).unwrap().div_ceil(1 << 20);
		assert!(needed > 500, "SmolLM2's frozen weights alone take 538 MB: {needed} MiB");

		let budget = Arc::new(MemoryBudget::new(needed));
		let _other_job = budget.reserve(needed, Instant::now()).unwrap();
		let limits = Limits {
			seconds_left: 0.2,
			memory: budget.clone(),
			max_artifact_bytes: 1 << 20,
			space: Space::with_quota(1 << 30),
		};
		let dir = tempfile::tempdir().unwrap();
		let error = train(&spec, &data(), &bases, dir.path(), limits, &cell()).err();
		assert!(matches!(error, Some(TrainingError::MemoryBusy { .. })), "{error:?}");
	}

	#[test]
	fn a_llama_job_without_its_weights_file_is_given_up() {
		let dir = tempfile::tempdir().unwrap();
		let error =
			train(&llama_spec(), &data(), &bases(), dir.path(), limits(600.0), &cell()).err();
		assert!(matches!(error, Some(TrainingError::NoWeights(_))));
	}

	#[test]
	fn a_llama_job_trains_a_smollm2_adapter_that_peft_can_load_and_anyone_can_repeat() {
		// SmolLM2 as scripts/fetch-models.sh leaves it.
		let cache = openledger_ml::llama::model_cache();
		let (dir, scratch) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		let bases = BaseModels::load(Some(&cache), scratch.path()).unwrap();
		let spec = llama_spec();
		assert!(
			bases.files().contains_key(&spec.weights.content_hash),
			"no SmolLM2 in {}: run scripts/fetch-models.sh",
			cache.display()
		);
		let roomy = Limits { max_artifact_bytes: 64 << 20, ..limits(600.0) };
		let trained = train(&spec, &data(), &bases, dir.path(), roomy.clone(), &cell()).unwrap();
		let metrics = trained.result.metrics;
		assert_eq!((metrics.steps, metrics.tokens), (2, 2 * 2 * 16));
		// A real language model reads this English (windows of 16 tokens, each from scratch) far
		// better than chance (ln 49,152 = 10.8), and two steps on the data already help.
		assert!(metrics.eval_loss_base < 8_500_000, "{metrics:?}");
		assert!(metrics.eval_loss_trained < metrics.eval_loss_base, "{metrics:?}");
		let tensors =
			candle_core::safetensors::load_buffer(&trained.artifact, &Device::Cpu).unwrap();
		assert_eq!(tensors.len(), 2 * 2 * 30, "A and B of q_proj and v_proj in 30 layers");
		let b = &tensors["base_model.model.model.layers.29.self_attn.v_proj.lora_B.weight"];
		assert_eq!(b.dims(), &[192, 4]);
		// Whoever runs the same job on the same data gets the same adapter, byte for byte, and
		// so can check a provider's result.
		let again = tempfile::tempdir().unwrap();
		let repeated = train(&spec, &data(), &bases, again.path(), roomy, &cell()).unwrap();
		assert_eq!(repeated.artifact, trained.artifact);
		assert_eq!(repeated.result.metrics.eval_loss_trained, metrics.eval_loss_trained);
	}
}
