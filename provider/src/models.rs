//! The model builder's flows, shared by the `openledger` command line: request training, follow
//! it to its model, read a model's lineage down to the contributions, and fetch its artifact by
//! hash.

use crate::{
	chain::{Chain, ChainError},
	client::{HttpClient, HttpError},
	store::content_hash,
	training::{version_contributions, Progress},
};
use openledger_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent};
use pallet_models::{
	BaseModel, BaseModelId, Hyperparameters, Lineage, Method, ModelId, ModelOf, TrainingRequestOf,
};
use sp_core::{sr25519, H256};
use std::{path::Path, time::Duration};

/// What can go wrong in a model builder's flow.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
	#[error(transparent)]
	Chain(#[from] ChainError),
	#[error("no base model is named {0:?}")]
	UnknownBaseModel(String),
	#[error("no model has id {0}")]
	UnknownModel(ModelId),
	#[error("the chain did not report the training job")]
	NoJob,
	#[error("training job {0} was abandoned: no provider delivered it in time; its fee, access fees and deposit went back")]
	Abandoned(u64),
	#[error("training job {job} is still running after {waited:?}")]
	StillRunning { job: u64, waited: Duration },
	#[error("the provider {0} is not registered any more")]
	NoProvider(AccountId),
	#[error("fetching the artifact from {url}")]
	Fetch { url: String, source: HttpError },
	#[error("{url} does not have the artifact")]
	Missing { url: String },
	#[error("the model records an artifact of {length} bytes, more than the {limit} this command downloads")]
	ArtifactTooLarge { length: u64, limit: u64 },
	#[error("the artifact from {url} hashes to {found:?}, the model records {recorded:?}")]
	HashMismatch { url: String, found: H256, recorded: H256 },
	#[error("writing {path}")]
	Write { path: String, source: std::io::Error },
	#[error("writing the adapter configuration")]
	Config(#[from] openledger_ml::MlError),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Every registered base model.
pub async fn base_models(chain: &Chain) -> Result<Vec<(BaseModelId, BaseModel)>> {
	let next: BaseModelId = chain
		.storage(&pallet_models::NextBaseModelId::<Runtime>::hashed_key())
		.await?
		.unwrap_or_default();
	let keys: Vec<Vec<u8>> =
		(0..next).map(pallet_models::BaseModels::<Runtime>::hashed_key_for).collect();
	let records: Vec<Option<BaseModel>> = chain.storage_many(&keys).await?;
	Ok((0..next).zip(records).filter_map(|(id, r)| r.map(|r| (id, r))).collect())
}

/// The base model named `name`, or numbered `name`.
pub async fn base_model_by_name(chain: &Chain, name: &str) -> Result<BaseModelId> {
	let all = base_models(chain).await?;
	all.iter()
		.find(|(id, b)| b.name.as_slice() == name.as_bytes() || id.to_string() == name)
		.map(|(id, _)| *id)
		.ok_or_else(|| ModelError::UnknownBaseModel(name.into()))
}

/// What to train.
pub struct TrainRequest {
	pub base_model: BaseModelId,
	pub sources: Vec<(u32, u32)>,
	pub hyperparameters: Hyperparameters,
	pub max_fee: u128,
	pub name: Vec<u8>,
	pub description: Vec<u8>,
}

/// Submits a training request; returns the job's id and the block it was requested in.
pub async fn request_training(
	chain: &Chain,
	signer: &sr25519::Pair,
	request: TrainRequest,
) -> Result<(u64, H256)> {
	let call = RuntimeCall::Models(pallet_models::Call::train {
		base_model: request.base_model,
		sources: request.sources,
		hyperparameters: request.hyperparameters,
		max_fee: request.max_fee,
		name: request.name,
		description: request.description,
	});
	let included = chain.submit(signer, call).await?;
	let job = included
		.events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Models(pallet_models::Event::TrainingRequested { job, .. }) => Some(*job),
			_ => None,
		})
		.ok_or(ModelError::NoJob)?;
	Ok((job, included.block))
}

/// Where a training job stands.
#[derive(Debug)]
pub enum TrainingState {
	/// Waiting for its result; the provider's report of its progress, if it gave one.
	Running {
		provider: Option<AccountId>,
		progress: Option<Progress>,
	},
	/// Delivered: the model it registered.
	Trained(ModelId),
	Abandoned,
}

/// The open training request of `job`.
pub async fn training_request(
	chain: &Chain,
	job: u64,
) -> Result<Option<TrainingRequestOf<Runtime>>> {
	Ok(chain
		.storage(&pallet_models::TrainingRequests::<Runtime>::hashed_key_for(job))
		.await?)
}

/// The model trained by `job`, among the latest 1,000 models.
pub async fn model_of_job(chain: &Chain, job: u64) -> Result<Option<ModelId>> {
	let next: ModelId = chain
		.storage(&pallet_models::NextModelId::<Runtime>::hashed_key())
		.await?
		.unwrap_or_default();
	let ids: Vec<ModelId> = (next.saturating_sub(1_000)..next).rev().collect();
	let keys: Vec<Vec<u8>> =
		ids.iter().map(pallet_models::ModelInfo::<Runtime>::hashed_key_for).collect();
	let models: Vec<Option<ModelOf<Runtime>>> = chain.storage_many(&keys).await?;
	Ok(ids
		.into_iter()
		.zip(models)
		.find_map(|(id, m)| m.filter(|m| m.provenance.job == job).map(|_| id)))
}

/// The registered endpoint of `provider`.
pub async fn provider_endpoint(
	chain: &Chain,
	provider: &AccountId,
) -> Result<Option<String>, ChainError> {
	let record: Option<pallet_compute::ProviderOf<Runtime>> = chain
		.storage(&pallet_compute::Providers::<Runtime>::hashed_key_for(provider))
		.await?;
	Ok(record.map(|p| String::from_utf8_lossy(&p.endpoint).trim_end_matches('/').to_string()))
}

/// Every registered provider's account and endpoint, without a trailing `/`.
pub async fn providers(chain: &Chain) -> Result<Vec<(AccountId, String)>, ChainError> {
	use frame_support::storage::StoragePrefixedMap;
	let prefix = pallet_compute::Providers::<Runtime>::final_prefix();
	let keys = chain.keys(&prefix).await?;
	let records: Vec<Option<pallet_compute::ProviderOf<Runtime>>> =
		chain.storage_many(&keys).await?;
	Ok(keys
		.iter()
		.zip(records)
		.filter_map(|(key, record)| {
			// The map's key ends with the account, after its blake2-128 hash.
			let account = <[u8; 32]>::try_from(key.get(key.len().checked_sub(32)?..)?).ok()?;
			let endpoint =
				String::from_utf8_lossy(&record?.endpoint).trim_end_matches('/').to_string();
			Some((AccountId::from(account), endpoint))
		})
		.collect())
}

/// The registered endpoint of every provider, without a trailing `/`.
pub async fn provider_endpoints(chain: &Chain) -> Result<Vec<String>, ChainError> {
	Ok(providers(chain).await?.into_iter().map(|(_, endpoint)| endpoint).collect())
}

/// The blob stores that may hold a model's files: its trainer's first, then every registered
/// provider's, this provider's own (`own`) left out.
pub async fn blob_endpoints(chain: &Chain, trainer: &AccountId, own: Option<&str>) -> Vec<String> {
	let mut endpoints = Vec::new();
	if let Ok(Some(endpoint)) = provider_endpoint(chain, trainer).await {
		endpoints.push(endpoint);
	}
	endpoints.extend(provider_endpoints(chain).await.unwrap_or_default());
	if let Some(own) = own {
		endpoints.retain(|e| e != own.trim_end_matches('/'));
	}
	let mut seen = std::collections::BTreeSet::new();
	endpoints.retain(|e| seen.insert(e.clone()));
	endpoints
}

/// The PEFT shape of a model trained with `method`; `None` for full training.
pub fn lora_config(method: &Method) -> Option<openledger_ml::lora::LoraConfig> {
	match method {
		Method::Lora { rank, alpha, targets } => Some(openledger_ml::lora::LoraConfig {
			rank: *rank as usize,
			alpha: f64::from(*alpha),
			targets: targets.iter().map(|t| t.peft_name().to_string()).collect(),
		}),
		Method::Full => None,
	}
}

/// Where `job` stands: on chain, and at its provider's `GET /v1/jobs/{id}`.
pub async fn training_state(chain: &Chain, http: &HttpClient, job: u64) -> Result<TrainingState> {
	if training_request(chain, job).await?.is_none() {
		return Ok(match model_of_job(chain, job).await? {
			Some(model) => TrainingState::Trained(model),
			None => TrainingState::Abandoned,
		});
	}
	let info: Option<pallet_compute::JobOf<Runtime>> =
		chain.storage(&pallet_compute::Jobs::<Runtime>::hashed_key_for(job)).await?;
	let provider = info.map(|j| j.status.provider().clone());
	let mut progress = None;
	if let Some(provider) = &provider {
		if let Some(endpoint) = provider_endpoint(chain, provider).await? {
			if let Ok(Some(body)) = http.get(&format!("{endpoint}/v1/jobs/{job}"), 64 << 10).await {
				progress = serde_json::from_slice::<serde_json::Value>(&body)
					.ok()
					.and_then(|v| v.get("progress").cloned())
					.and_then(|p| serde_json::from_value::<ProgressView>(p).ok())
					.map(Into::into);
			}
		}
	}
	Ok(TrainingState::Running { provider, progress })
}

/// [`Progress`] as the provider's JSON shows it.
#[derive(serde::Deserialize)]
struct ProgressView {
	phase: String,
	step: u32,
	steps: u32,
	loss: Option<f64>,
	tokens_per_second: Option<f64>,
	eta_seconds: Option<f64>,
}

impl From<ProgressView> for Progress {
	fn from(v: ProgressView) -> Self {
		Progress {
			phase: v.phase,
			step: v.step,
			steps: v.steps,
			loss: v.loss,
			tokens_per_second: v.tokens_per_second,
			eta_seconds: v.eta_seconds,
		}
	}
}

/// Follows `job` until it delivers a model, for up to `wait`, calling `on_progress` with each
/// report.
pub async fn wait_for_model(
	chain: &Chain,
	http: &HttpClient,
	job: u64,
	wait: Duration,
	mut on_progress: impl FnMut(&Progress),
) -> Result<ModelId> {
	let start = std::time::Instant::now();
	loop {
		match training_state(chain, http, job).await? {
			TrainingState::Trained(model) => return Ok(model),
			TrainingState::Abandoned => return Err(ModelError::Abandoned(job)),
			TrainingState::Running { progress, .. } => {
				if let Some(p) = progress {
					on_progress(&p);
				}
			},
		}
		if start.elapsed() >= wait {
			return Err(ModelError::StillRunning { job, waited: wait });
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// A model and its lineage down to the contributions.
#[derive(Debug, serde::Serialize)]
pub struct ModelView {
	pub id: ModelId,
	pub name: String,
	pub owner: String,
	pub status: String,
	pub artifact: String,
	pub artifact_size: u64,
	pub method: String,
	pub metrics: serde_json::Value,
	pub base_model: serde_json::Value,
	pub job: u64,
	pub provider: String,
	pub split_seed: u64,
	pub sources: Vec<SourceView>,
}

/// A datanet version of a model's lineage, with its contributions.
#[derive(Debug, serde::Serialize)]
pub struct SourceView {
	pub datanet: u32,
	pub version: u32,
	pub root: String,
	pub contributions: Vec<ContributionView>,
}

#[derive(Debug, serde::Serialize)]
pub struct ContributionView {
	pub position: u32,
	pub contribution: u32,
	pub contributor: String,
	pub hash: String,
	pub size: u64,
}

/// A model and its lineage, read through the runtime's storage as `ModelsApi` and `DatanetsApi`
/// return them.
pub async fn model_view(chain: &Chain, id: ModelId) -> Result<ModelView> {
	let model: ModelOf<Runtime> = chain
		.storage(&pallet_models::ModelInfo::<Runtime>::hashed_key_for(id))
		.await?
		.ok_or(ModelError::UnknownModel(id))?;
	let lineage: Lineage<AccountId> = {
		let base: BaseModel = chain
			.storage(&pallet_models::BaseModels::<Runtime>::hashed_key_for(
				model.provenance.base_model,
			))
			.await?
			.ok_or(ModelError::UnknownModel(id))?;
		Lineage {
			model: id,
			owner: model.owner.clone(),
			artifact: model.artifact,
			base_model: model.provenance.base_model,
			base,
			job: model.provenance.job,
			provider: model.provenance.provider.clone(),
			sources: model.provenance.sources.to_vec(),
			split_seed: model.provenance.split_seed,
			records: model.provenance.records.clone(),
		}
	};
	let mut sources = Vec::new();
	for s in &lineage.sources {
		let contributions = version_contributions(chain, s.datanet, s.contributions)
			.await?
			.into_iter()
			.enumerate()
			.filter_map(|(position, found)| {
				let (contribution, item) = found?;
				Some(ContributionView {
					position: position as u32,
					contribution,
					contributor: item.contributor.to_string(),
					hash: format!("{:?}", item.content_hash),
					size: item.size,
				})
			})
			.collect();
		sources.push(SourceView {
			datanet: s.datanet,
			version: s.version,
			root: format!("{:?}", s.root),
			contributions,
		});
	}
	let method = match &model.hyperparameters.method {
		Method::Lora { rank, alpha, targets } => format!(
			"LoRA rank {rank}, alpha {alpha} on {}",
			targets.iter().map(|t| t.peft_name()).collect::<Vec<_>>().join(", ")
		),
		Method::Full => "full fine-tuning".into(),
	};
	let m = &model.metrics;
	let loss = |v: u32| f64::from(v) / 1e6;
	Ok(ModelView {
		id,
		name: String::from_utf8_lossy(&model.name).into_owned(),
		owner: lineage.owner.to_string(),
		status: format!("{:?}", model.status),
		artifact: format!("{:?}", model.artifact.content_hash),
		artifact_size: model.artifact.length,
		method,
		metrics: serde_json::json!({
			"train_loss_first": loss(m.train_loss_first),
			"train_loss_last": loss(m.train_loss_last),
			"eval_loss_base": loss(m.eval_loss_base),
			"eval_loss_trained": loss(m.eval_loss_trained),
			"tokens": m.tokens,
			"steps": m.steps,
			"wall_time_ms": m.wall_time_ms,
		}),
		base_model: serde_json::json!({
			"id": lineage.base_model,
			"name": String::from_utf8_lossy(&lineage.base.name),
			"architecture": format!("{:?}", lineage.base.architecture),
			"weights": format!("{:?}", lineage.base.weights.content_hash),
		}),
		job: lineage.job,
		provider: lineage.provider.to_string(),
		split_seed: lineage.split_seed,
		sources,
	})
}

/// The largest artifact [`fetch_artifact`] downloads: the length a model records is the one its
/// provider posted, so it is capped here too (a rank-64 adapter on every module of SmolLM2 is
/// under 100 MB).
pub const MAX_ARTIFACT_BYTES: u64 = 1 << 30;

/// Downloads a model's artifact from the provider that trained it, checks its hash, and writes
/// it into `dir`: `adapter_model.safetensors` with PEFT's `adapter_config.json` for an adapter,
/// `model.safetensors` for fully trained weights. Returns the files written.
pub async fn fetch_artifact(
	chain: &Chain,
	http: &HttpClient,
	id: ModelId,
	dir: &Path,
) -> Result<Vec<String>> {
	let model: ModelOf<Runtime> = chain
		.storage(&pallet_models::ModelInfo::<Runtime>::hashed_key_for(id))
		.await?
		.ok_or(ModelError::UnknownModel(id))?;
	let base: Option<BaseModel> = chain
		.storage(&pallet_models::BaseModels::<Runtime>::hashed_key_for(model.provenance.base_model))
		.await?;
	let provider = model.provenance.provider.clone();
	let endpoint = provider_endpoint(chain, &provider)
		.await?
		.ok_or(ModelError::NoProvider(provider))?;
	let url = format!("{endpoint}/v1/blobs/{:?}", model.artifact.content_hash);
	let length = model.artifact.length;
	if length > MAX_ARTIFACT_BYTES {
		return Err(ModelError::ArtifactTooLarge { length, limit: MAX_ARTIFACT_BYTES });
	}
	// Read up to the recorded length: a provider that sends more is refused, not read on.
	let limit = usize::try_from(length).unwrap_or(usize::MAX);
	let bytes = http
		.get(&url, limit)
		.await
		.map_err(|source| ModelError::Fetch { url: url.clone(), source })?
		.ok_or_else(|| ModelError::Missing { url: url.clone() })?;
	let found = content_hash(&bytes);
	if found != model.artifact.content_hash {
		return Err(ModelError::HashMismatch { url, found, recorded: model.artifact.content_hash });
	}
	let write = |name: &str, contents: &[u8]| {
		let path = dir.join(name);
		std::fs::create_dir_all(dir)
			.and_then(|_| std::fs::write(&path, contents))
			.map_err(|source| ModelError::Write { path: path.display().to_string(), source })?;
		Ok::<_, ModelError>(path.display().to_string())
	};
	let base = base.map(|b| String::from_utf8_lossy(&b.name).into_owned()).unwrap_or_default();
	Ok(match lora_config(&model.hyperparameters.method) {
		Some(config) => vec![
			write("adapter_model.safetensors", &bytes)?,
			write("adapter_config.json", config.peft_json(&base)?.as_bytes())?,
		],
		None => vec![write("model.safetensors", &bytes)?],
	})
}
