//! Proof of Attribution for answers: the corpus index a model's training recorded, fetched by its
//! hash and kept in the blob store, memory-mapped; the span attribution of an answer's text
//! (`openledger-attribution`), with the contributor the chain records for each contribution.
//!
//! An attribution is a function of the index and the text alone: the text is tokenized as the
//! index's corpus was, so that the provider's attribution of an answer and anyone's
//! `openledger attribute --model N --text "..."` of the same text are the same bytes.
//!
//! What an answer carries (`openledger_attribution`, one entry per model of the request):
//!
//! ```json
//! { "model": 3, "corpus_index": "0x…",
//!   "method": { "name": "spans", "min_tokens": 8, "max_density_ppm": 50000, … },
//!   "contributions": [ { "datanet": 0, "contribution": 4, "contributor": "5F…", "ppb": 1000000000 } ],
//!   "spans": [ { "start": 10, "end": 52, "text": "…", "occurrences": 1,
//!                "contributions": [ { "datanet": 0, "contribution": 4 } ] } ] }
//! ```
//!
//! With `openledger_influence: true` in the request, an entry also carries `influence`: the
//! features file's hash, the method and the contributions by gradient influence, for models whose
//! training published features (tiny-byte-gpt's).
//!
//! `start` and `end` are byte offsets of the answer's text. A model whose training recorded
//! nothing (trained before records existed), or whose index is not loaded yet or cannot be had,
//! has an `error` instead, and no contributions: an attribution never names a contributor it did
//! not find. Files load in the background ([`Cache`]): no answer waits for a download.

use crate::training::FEATURE_DIMS;
use crate::{
	chain::Chain,
	client::{HttpClient, HttpError},
	models::blob_endpoints,
	serving::text::Codec,
	store::{BlobStore, Hasher},
};
use openledger_attribution::{
	influence::{Features, Quantized},
	spans, Attribution, ContributionRef, CorpusIndex, Method, SpanParams, TokenClasses,
};
use openledger_runtime::{AccountId, Runtime};
use pallet_datanets::ContributionOf;
use pallet_models::{Architecture, FileRef, Lineage, ModelId};
use serde::Serialize;
use sp_core::H256;
use std::{
	collections::BTreeMap,
	path::Path,
	sync::{Arc, Mutex},
};

/// A memory-mapped corpus index, checked against its hash.
pub struct LoadedIndex {
	pub hash: H256,
	pub index: CorpusIndex<memmap2::Mmap>,
}

impl LoadedIndex {
	/// Maps the file at `path` and checks that it hashes to `hash` and is a corpus index.
	pub fn open(path: &Path, hash: H256) -> Result<Self, String> {
		let file = std::fs::File::open(path).map_err(|e| format!("opening the index: {e}"))?;
		// SAFETY: blob store files are written once under a temporary name and renamed into
		// place; nothing writes to them after. One removed while mapped stays readable.
		let map =
			unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("mapping the index: {e}"))?;
		let mut hasher = Hasher::default();
		for piece in map.chunks(1 << 20) {
			hasher.update(piece);
		}
		if hasher.finish() != hash {
			return Err(format!("the index file does not hash to {hash:?}: refused"));
		}
		let index = CorpusIndex::open(map).map_err(|e| e.to_string())?;
		Ok(Self { hash, index })
	}
}

/// The attribution of one model's part in an answer, as the answer carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelAttribution {
	pub model: ModelId,
	#[serde(flatten)]
	pub outcome: Outcome,
	/// Gradient influence, for models whose training published gradient features.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub influence: Option<InfluenceOutcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum InfluenceOutcome {
	Attributed { features: String, method: Method, contributions: Vec<Payee> },
	Unavailable { error: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
	Attributed {
		corpus_index: String,
		method: Method,
		contributions: Vec<Payee>,
		spans: Vec<TextSpan>,
	},
	Unavailable {
		error: String,
	},
}

/// A contribution named by an attribution, with its contributor and weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payee {
	pub datanet: u32,
	pub contribution: u32,
	/// SS58; empty if the chain no longer records the contribution.
	pub contributor: String,
	/// Parts per billion; the weights of an attribution sum to 1,000,000,000.
	pub ppb: u32,
}

/// A span of the answer found verbatim in the corpus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextSpan {
	/// Byte offsets in the answer's text.
	pub start: usize,
	pub end: usize,
	pub text: String,
	pub occurrences: u32,
	pub contributions: Vec<ContributionRef>,
}

/// The span attribution of `text` under `index`: tokenized by `encode` (tokens and their byte
/// ranges of `text`), spans mapped back to byte ranges.
pub fn attribute_text(
	index: &LoadedIndex,
	classes: &TokenClasses,
	text: &str,
	encode: impl Fn(&str) -> Result<crate::serving::text::Encoded, String>,
	params: &SpanParams,
) -> Result<(Attribution, Vec<TextSpan>), String> {
	let (tokens, offsets) = encode(text)?;
	let attribution = spans::attribute(&index.index, classes, &tokens, params);
	let spans = attribution
		.spans
		.iter()
		.filter_map(|s| {
			let start = offsets.get(s.start as usize)?.0;
			let end = offsets.get((s.end as usize).checked_sub(1)?)?.1;
			Some(TextSpan {
				start,
				end,
				text: text.get(start..end)?.to_string(),
				occurrences: s.occurrences,
				contributions: s.contributions.clone(),
			})
		})
		.collect();
	Ok((attribution, spans))
}

/// The span parameters for a base model's tokens: OLMoTrace's for subword vocabularies; for
/// bytes, spans of at least 24 (about four words), since eight bytes match by chance.
pub fn span_params(bytes: bool) -> SpanParams {
	if bytes {
		SpanParams { min_tokens: 24, ..SpanParams::default() }
	} else {
		SpanParams::default()
	}
}

/// The contributors of contributions, as the chain records them; cached, since a contribution's
/// contributor never changes.
#[derive(Default)]
pub struct Contributors(Mutex<BTreeMap<ContributionRef, Option<AccountId>>>);

impl Contributors {
	/// Each contribution's contributor, read through the datanets runtime API where not cached.
	pub async fn of(
		&self,
		chain: &Chain,
		contributions: impl Iterator<Item = ContributionRef>,
	) -> BTreeMap<ContributionRef, AccountId> {
		let mut found = BTreeMap::new();
		for c in contributions {
			// A contribution the chain does not record is remembered as such: an index naming
			// made-up contributions costs one lookup each, not one per answer.
			let cached = self.0.lock().ok().and_then(|m| m.get(&c).cloned());
			let account = match cached {
				Some(account) => account,
				None => match chain
					.runtime_call::<Option<ContributionOf<Runtime>>>(
						"DatanetsApi_contribution",
						(c.datanet, c.contribution),
					)
					.await
				{
					Ok(record) => {
						let account = record.map(|record| record.contributor);
						if let Ok(mut cache) = self.0.lock() {
							// Bounded: contributions of the models served, a few words each.
							if cache.len() >= 1 << 20 {
								cache.clear();
							}
							cache.insert(c, account.clone());
						}
						account
					},
					// Not remembered: a chain that did not answer is asked again next time,
					// rather than the contributor left out of every later answer.
					Err(e) => {
						tracing::warn!(?c, error = %crate::error_chain(&e), "reading a contributor");
						None
					},
				},
			};
			if let Some(account) = account {
				found.insert(c, account);
			}
		}
		found
	}
}

/// Turns an attribution into what the answer carries.
pub fn outcome(
	index: &LoadedIndex,
	attribution: Attribution,
	spans: Vec<TextSpan>,
	contributors: &BTreeMap<ContributionRef, AccountId>,
) -> Outcome {
	Outcome::Attributed {
		corpus_index: format!("{:?}", index.hash),
		method: attribution.method,
		contributions: payees(&attribution, contributors),
		spans,
	}
}

fn payees(
	attribution: &Attribution,
	contributors: &BTreeMap<ContributionRef, AccountId>,
) -> Vec<Payee> {
	attribution
		.contributions
		.iter()
		.map(|w| Payee {
			datanet: w.contribution.datanet,
			contribution: w.contribution.contribution,
			contributor: contributors
				.get(&w.contribution)
				.map(ToString::to_string)
				.unwrap_or_default(),
			ppb: w.ppb,
		})
		.collect()
}

/// Fetches `file` into the blob store a piece at a time, from the first endpoint that serves it
/// with its hash; nothing if the store already holds it.
pub async fn fetch_into_store(
	http: &HttpClient,
	store: &BlobStore,
	endpoints: &[String],
	file: &FileRef,
) -> Result<(), String> {
	if store.contains(&file.content_hash) {
		return Ok(());
	}
	if file.length > store.limit() {
		return Err(format!(
			"the file has {} bytes, more than this provider's max_blob_bytes",
			file.length
		));
	}
	let hash = file.content_hash;
	let mut tried = Vec::new();
	for endpoint in endpoints {
		let url = format!("{endpoint}/v1/blobs/{hash:?}");
		let mut upload = store.upload(hash).map_err(|e| e.to_string())?;
		let fetched = http
			.download(&url, file.length, |piece| upload.write(piece).map_err(|e| e.to_string()))
			.await;
		match fetched {
			Ok(true) => match crate::store::blocking(|| upload.finish(hash)) {
				Ok(()) => return Ok(()),
				Err(e) => tried.push(format!("{url}: {e}")),
			},
			Ok(false) => tried.push(format!("{url}: absent")),
			Err(e) => tried.push(format!("{url}: {}", crate::error_chain(&e))),
		}
	}
	Err(format!("no blob store has {hash:?} ({})", tried.join("; ")))
}

/// Fetches `file` into the file at `path` a piece at a time, from the first endpoint that
/// serves it with its hash: for `openledger attribute`, which has no blob store. A file the
/// chain records as longer than `max_bytes` is not fetched.
pub async fn fetch_to_file(
	http: &HttpClient,
	endpoints: &[String],
	file: &FileRef,
	path: &Path,
	max_bytes: u64,
) -> Result<(), String> {
	use std::io::Write;
	if file.length > max_bytes {
		return Err(format!(
			"{:?} has {} bytes, more than the {max_bytes} this fetches (--max-bytes)",
			file.content_hash, file.length
		));
	}
	let mut tried = Vec::new();
	for endpoint in endpoints {
		let url = format!("{endpoint}/v1/blobs/{:?}", file.content_hash);
		let mut out = std::io::BufWriter::new(
			std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
		);
		let mut hasher = Hasher::default();
		let fetched = http
			.download(&url, file.length, |piece| {
				hasher.update(piece);
				out.write_all(piece).map_err(|e| e.to_string())
			})
			.await;
		out.flush().map_err(|e| e.to_string())?;
		match fetched {
			Ok(true) if hasher.finish() == file.content_hash => return Ok(()),
			Ok(true) => tried.push(format!("{url}: the bytes do not match the registered hash")),
			Ok(false) => tried.push(format!("{url}: absent")),
			Err(HttpError::TooLarge) => tried.push(format!("{url}: longer than registered")),
			Err(e) => tried.push(format!("{url}: {}", crate::error_chain(&e))),
		}
	}
	Err(format!("no blob store has {:?} ({})", file.content_hash, tried.join("; ")))
}

/// `openledger attribute`: the attribution of `text` under model `model`'s published corpus
/// index, computed here as a provider serving the model computes it for an answer. The index is
/// fetched from the blob stores of the providers (its trainer's first) into `scratch`, checked
/// against the hash the chain records; a model on a llama base needs its weights file in
/// `base_models_dir` for the tokenizer.
#[allow(clippy::too_many_arguments)]
pub async fn attribute_model(
	chain: &Chain,
	http: &HttpClient,
	model: ModelId,
	text: &str,
	prompt: Option<&str>,
	base_models_dir: Option<&Path>,
	scratch: &Path,
	max_bytes: u64,
) -> Result<ModelAttribution, String> {
	let lineage: Lineage<AccountId> = chain
		.runtime_call::<Option<Lineage<AccountId>>>("ModelsApi_provenance", model)
		.await
		.map_err(|e| crate::error_chain(&e))?
		.ok_or_else(|| format!("model {model} is not registered"))?;
	let Some(records) = lineage.records.clone() else {
		return Ok(ModelAttribution {
			model,
			outcome: Outcome::Unavailable {
				error: "the model's training recorded no corpus index (it was trained before records were kept)".into(),
			},
			influence: None,
		});
	};
	let codec = match lineage.base.architecture {
		Architecture::TinyByteGpt => Codec::Bytes,
		Architecture::Llama => {
			let bases = crate::training::BaseModels::load(base_models_dir, &scratch.join("bases"))
				.map_err(|e| crate::error_chain(&e))?;
			let hash = lineage.base.weights.content_hash;
			let path = bases.files().get(&hash).ok_or_else(|| {
				format!("no file in the base models directory has the base model's hash {hash:?} (its tokenizer is in it)")
			})?;
			let tokenizer =
				openledger_ml::llama::read_tokenizer(path).map_err(|e| e.to_string())?;
			Codec::bpe(tokenizer).map_err(|e| e.to_string())?
		},
	};
	let path = scratch.join("corpus.idx");
	let endpoints = blob_endpoints(chain, &lineage.provider, None).await;
	fetch_to_file(http, &endpoints, &records.corpus_index, &path, max_bytes).await?;
	let hash = records.corpus_index.content_hash;
	let index = LoadedIndex::open(&path, hash)?;
	let params = span_params(matches!(codec, Codec::Bytes));
	let (found, spans) = attribute_text(
		&index,
		&codec.token_classes(),
		text,
		|t| codec.encode_with_offsets(t),
		&params,
	)?;
	// Influence, for a model whose training published features, given the prompt the answer
	// followed.
	let influenced = match (prompt, &records.features) {
		(Some(prompt), Some(file)) => Some(
			influence_of_model(
				chain, http, &endpoints, &lineage, model, file, &codec, prompt, text, scratch,
				max_bytes,
			)
			.await,
		),
		_ => None,
	};
	let named = found.contributions.iter().map(|w| w.contribution);
	let by_influence = influenced
		.iter()
		.flatten()
		.flat_map(|(_, a)| a.contributions.iter().map(|w| w.contribution));
	let contributors = Contributors::default().of(chain, named.chain(by_influence)).await;
	let influence = influenced.map(|result| match result {
		Ok((features, attribution)) => influence_outcome(&features, attribution, &contributors),
		Err(error) => InfluenceOutcome::Unavailable { error },
	});
	Ok(ModelAttribution { model, outcome: outcome(&index, found, spans, &contributors), influence })
}

/// The gradient influence of `text` after `prompt` under a tiny-byte-gpt model (an adapter, or
/// fully trained weights), fetched with its features into `scratch`.
#[allow(clippy::too_many_arguments)]
async fn influence_of_model(
	chain: &Chain,
	http: &HttpClient,
	endpoints: &[String],
	lineage: &Lineage<AccountId>,
	model: ModelId,
	file: &FileRef,
	codec: &Codec,
	prompt: &str,
	text: &str,
	scratch: &Path,
	max_bytes: u64,
) -> Result<(LoadedFeatures, Attribution), String> {
	use openledger_ml::tiny::{TinyByteGpt, TinyConfig};
	let path = scratch.join("features");
	fetch_to_file(http, endpoints, file, &path, max_bytes).await?;
	let rows = lineage.records.as_ref().map_or(0, |r| r.trained as usize);
	let features = LoadedFeatures::open(&path, file.content_hash, rows)?;
	let dir = scratch.join("peft");
	std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
	let weights = dir.join("adapter_model.safetensors");
	fetch_to_file(http, endpoints, &lineage.artifact, &weights, max_bytes).await?;
	let record: Option<pallet_models::ModelOf<Runtime>> = chain
		.runtime_call("ModelsApi_model", model)
		.await
		.map_err(|e| crate::error_chain(&e))?;
	let method = record.map(|m| m.hyperparameters.method);
	let device = candle_core::Device::Cpu;
	let (tiny, lora) = match method.as_ref().and_then(crate::models::lora_config) {
		Some(config) => {
			let json = config
				.peft_json(&String::from_utf8_lossy(&lineage.base.name))
				.map_err(|e| e.to_string())?;
			std::fs::write(dir.join("adapter_config.json"), json).map_err(|e| e.to_string())?;
			let lora = openledger_ml::lora::Lora::load(&dir, &device).map_err(|e| e.to_string())?;
			(TinyByteGpt::base(&device).map_err(|e| e.to_string())?, Some(lora))
		},
		None => (
			TinyByteGpt::load(TinyConfig::small(), &weights, &device).map_err(|e| e.to_string())?,
			None,
		),
	};
	let (prompt, answer) = (codec.encode(prompt)?, codec.encode(text)?);
	let found = influence(&features, &tiny, lora.as_ref(), &prompt, &answer)?;
	Ok((features, found))
}

/// How long a file that could not be had (or opened) is not tried again.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

enum Entry<T> {
	Loading,
	Ready(Arc<T>),
	Failed { at: std::time::Instant, error: String },
}

/// Files of the models served (corpus indexes, gradient features), by hash, each loaded once in
/// the background: an answer never waits for a download (a trickling blob store cannot hold
/// answers up), and a file that could not be had is not fetched again for every answer (no
/// answer can make this provider send requests to every other one) but after [`RETRY_AFTER`].
pub struct Cache<T>(Arc<Mutex<BTreeMap<H256, Entry<T>>>>);

impl<T> Default for Cache<T> {
	fn default() -> Self {
		Self(Arc::new(Mutex::new(BTreeMap::new())))
	}
}

impl<T: Send + Sync + 'static> Cache<T> {
	/// The file `hash` if it is loaded. If not, starts `load` in the background unless a load
	/// runs or failed less than [`RETRY_AFTER`] ago, and says why the file is not there.
	pub fn get_or_start(
		&self,
		hash: H256,
		load: impl std::future::Future<Output = Result<T, String>> + Send + 'static,
	) -> Result<Arc<T>, String> {
		let mut entries = self.0.lock().map_err(|_| "file cache poisoned")?;
		match entries.get(&hash) {
			Some(Entry::Ready(loaded)) => return Ok(loaded.clone()),
			Some(Entry::Loading) => return Err(format!("{hash:?} is being fetched")),
			Some(Entry::Failed { at, error }) if at.elapsed() < RETRY_AFTER => {
				return Err(error.clone())
			},
			_ => {},
		}
		entries.insert(hash, Entry::Loading);
		let entries = self.0.clone();
		tokio::spawn(async move {
			let entry = match load.await {
				Ok(loaded) => Entry::Ready(Arc::new(loaded)),
				Err(error) => {
					tracing::warn!(?hash, %error, "a file for attribution could not be had");
					Entry::Failed { at: std::time::Instant::now(), error }
				},
			};
			if let Ok(mut entries) = entries.lock() {
				// Unless the model stopped being served meanwhile.
				if let Some(slot) = entries.get_mut(&hash) {
					*slot = entry;
				}
			}
		});
		Err(format!("{hash:?} is being fetched"))
	}

	/// Forgets the files not in `keep` (of models no longer served).
	pub fn retain(&self, keep: &std::collections::BTreeSet<H256>) {
		if let Ok(mut entries) = self.0.lock() {
			entries.retain(|hash, _| keep.contains(hash));
		}
	}
}

/// Fetches `file` into `store` if it lacks it, then opens it with `open` off the async runtime.
pub async fn load_file<T: Send + 'static>(
	http: &HttpClient,
	store: &BlobStore,
	endpoints: impl std::future::Future<Output = Vec<String>>,
	file: FileRef,
	open: impl FnOnce(&Path, H256) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
	if !store.contains(&file.content_hash) {
		fetch_into_store(http, store, &endpoints.await, &file).await?;
	}
	let path = store.path(&file.content_hash);
	tokio::task::spawn_blocking(move || open(&path, file.content_hash))
		.await
		.map_err(|e| e.to_string())?
}

/// A gradient features file, checked against its hash.
pub struct LoadedFeatures {
	pub hash: H256,
	features: Features<Vec<u8>>,
}

impl LoadedFeatures {
	/// Reads the file at `path` and checks that it hashes to `hash` and is a features file of
	/// one row of [`FEATURE_DIMS`] per trained contribution (`rows`): a file of another shape,
	/// however it hashes, would make each answer's scoring as costly as its trainer wished.
	pub fn open(path: &Path, hash: H256, rows: usize) -> Result<Self, String> {
		let bytes = std::fs::read(path).map_err(|e| format!("reading the features: {e}"))?;
		if crate::store::content_hash(&bytes) != hash {
			return Err(format!("the features file does not hash to {hash:?}: refused"));
		}
		let features = Features::open(bytes).map_err(|e| e.to_string())?;
		if features.dims() as usize != FEATURE_DIMS || features.len() != rows {
			return Err(format!(
				"the features file has {} rows of {} dimensions, not one of {FEATURE_DIMS} per trained contribution ({rows})",
				features.len(),
				features.dims()
			));
		}
		Ok(Self { hash, features })
	}

	pub fn features(&self) -> &Features<Vec<u8>> {
		&self.features
	}
}

/// The gradient influence of `answer` (after `prompt`) under a tiny-byte-gpt adapter: the
/// answer's loss gradient with respect to the adapter, projected as the features were, against
/// each trained contribution's feature.
pub fn influence(
	features: &LoadedFeatures,
	base: &openledger_ml::tiny::TinyByteGpt,
	lora: Option<&openledger_ml::lora::Lora>,
	prompt: &[u32],
	answer: &[u32],
) -> Result<Attribution, String> {
	let f = features.features();
	let gradient = openledger_ml::influence::answer_gradient(
		base,
		lora,
		prompt,
		answer,
		f.dims() as usize,
		f.seed(),
	)
	.map_err(|e| e.to_string())?;
	f.attribute(&Quantized::from_f32(&gradient), SpanParams::default().top_k)
		.map_err(|e| e.to_string())
}

/// What an answer carries of its influence attribution.
pub fn influence_outcome(
	features: &LoadedFeatures,
	attribution: Attribution,
	contributors: &BTreeMap<ContributionRef, AccountId>,
) -> InfluenceOutcome {
	InfluenceOutcome::Attributed {
		features: format!("{:?}", features.hash),
		method: attribution.method,
		contributions: payees(&attribution, contributors),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use openledger_attribution::IndexBuilder;

	fn index_file(dir: &Path) -> (std::path::PathBuf, H256) {
		let mut builder = IndexBuilder::new(256).unwrap();
		let text: Vec<u32> = b"contributors are paid when their data is used"
			.iter()
			.map(|&b| u32::from(b))
			.collect();
		builder.add(ContributionRef { datanet: 0, contribution: 3 }, &[text]).unwrap();
		let mut bytes = Vec::new();
		let summary = builder.write(&mut bytes).unwrap();
		let path = dir.join("index");
		std::fs::write(&path, &bytes).unwrap();
		(path, H256(summary.hash))
	}

	#[test]
	fn a_tampered_index_is_refused_by_its_hash() {
		let dir = tempfile::tempdir().unwrap();
		let (path, hash) = index_file(dir.path());
		assert!(LoadedIndex::open(&path, hash).is_ok());
		let mut bytes = std::fs::read(&path).unwrap();
		// One token changed: still a well-formed index, but not the one the chain records.
		bytes[64] ^= 1;
		std::fs::write(&path, &bytes).unwrap();
		let error = LoadedIndex::open(&path, hash).err().unwrap();
		assert!(error.contains("does not hash to"), "{error}");
	}

	#[test]
	fn a_tampered_features_file_is_refused_by_its_hash() {
		use openledger_attribution::influence::write_features;
		let dir = tempfile::tempdir().unwrap();
		let row = (
			ContributionRef { datanet: 0, contribution: 1 },
			Quantized::from_f32(&[0.5; FEATURE_DIMS]),
		);
		let mut bytes = write_features(FEATURE_DIMS as u32, 3, &[row]);
		let path = dir.path().join("features");
		std::fs::write(&path, &bytes).unwrap();
		let hash = crate::store::content_hash(&bytes);
		assert_eq!(LoadedFeatures::open(&path, hash, 1).unwrap().features().len(), 1);
		// Rows beyond the trained count: refused, however the file hashes.
		let error = LoadedFeatures::open(&path, hash, 0).err().unwrap();
		assert!(error.contains("not one of 1024 per trained contribution"), "{error}");
		// One mantissa changed: a well-formed file, not the one the chain records.
		let last = bytes.len() - 1;
		bytes[last] ^= 1;
		std::fs::write(&path, &bytes).unwrap();
		let error = LoadedFeatures::open(&path, hash, 1).err().unwrap();
		assert!(error.contains("does not hash to"), "{error}");
	}

	/// What the cache gives for `hash` once its load has ended.
	async fn settled<T: Send + Sync + 'static>(
		cache: &Cache<T>,
		hash: H256,
	) -> Result<Arc<T>, String> {
		for _ in 0..100 {
			tokio::time::sleep(std::time::Duration::from_millis(5)).await;
			match cache.get_or_start(hash, std::future::pending()) {
				Err(e) if e.contains("being fetched") => continue,
				other => return other,
			}
		}
		Err("never settled".into())
	}

	#[tokio::test]
	async fn an_answer_does_not_wait_for_its_index() {
		let cache = Cache::<u32>::default();
		let hash = H256::repeat_byte(1);
		// A download that never ends: the answer is told at once, and asking again starts
		// nothing more.
		let started = std::time::Instant::now();
		let error = cache.get_or_start(hash, std::future::pending()).err().unwrap();
		assert!(error.contains("is being fetched"), "{error}");
		assert!(cache.get_or_start(hash, async { Ok(7) }).is_err());
		assert!(started.elapsed() < std::time::Duration::from_secs(1));
	}

	#[tokio::test]
	async fn a_failed_load_is_not_retried_per_answer() {
		let cache = Cache::<u32>::default();
		let hash = H256::repeat_byte(2);
		let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
		let failing = |loads: Arc<std::sync::atomic::AtomicUsize>| async move {
			loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
			Err::<u32, _>("no blob store has it".to_string())
		};
		assert!(cache.get_or_start(hash, failing(loads.clone())).is_err());
		let error = settled(&cache, hash).await.err().unwrap();
		assert_eq!(error, "no blob store has it");
		for _ in 0..10 {
			assert_eq!(cache.get_or_start(hash, failing(loads.clone())).err().unwrap(), error);
		}
		tokio::time::sleep(std::time::Duration::from_millis(20)).await;
		assert_eq!(
			loads.load(std::sync::atomic::Ordering::SeqCst),
			1,
			"one fetch, not one per answer"
		);
		// A file that loads is kept.
		let other = H256::repeat_byte(3);
		assert!(cache.get_or_start(other, async { Ok(5) }).is_err());
		assert_eq!(*settled(&cache, other).await.unwrap(), 5);
	}

	#[test]
	fn spans_come_back_as_byte_ranges_of_the_text() {
		let dir = tempfile::tempdir().unwrap();
		let (path, hash) = index_file(dir.path());
		let index = LoadedIndex::open(&path, hash).unwrap();
		let text = "We know contributors are paid when their data is used, they say.";
		let codec = Codec::Bytes;
		let (found, spans) = attribute_text(
			&index,
			&TokenClasses::bytes(),
			text,
			|t| codec.encode_with_offsets(t),
			&span_params(true),
		)
		.unwrap();
		assert_eq!(found.contributions.len(), 1);
		assert_eq!(spans.len(), 1);
		assert_eq!(spans[0].text, "contributors are paid when their data is used");
		assert_eq!(&text[spans[0].start..spans[0].end], spans[0].text);
		let outcome = outcome(&index, found, spans, &BTreeMap::new());
		let json =
			serde_json::to_value(ModelAttribution { model: 3, outcome, influence: None }).unwrap();
		assert_eq!(json["contributions"][0]["ppb"], 1_000_000_000);
		assert_eq!(json["contributions"][0]["contribution"], 3);
		assert_eq!(json["method"]["name"], "spans");
	}
}
