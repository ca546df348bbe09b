//! The provider daemon: registers on chain, serves the HTTP API, and runs the job loop.
//!
//! The daemon watches the chain for its work: on every new best block it reads its job list on
//! chain (`Compute::ProviderJobs`), and it reads it again every `poll_interval_ms` in case the
//! subscription to new blocks stalls; the same read picks up, after a restart, the jobs accepted
//! before it. Nobody needs to reach the daemon to give it work.
//! For each job the loop reads the job from chain state, accepts it if it is still assigned,
//! executes it and submits the result, one job at most once at a time and at most
//! `concurrency` jobs together. Accepts and results of concurrent jobs share transactions
//! ([`Batcher`]). On SIGINT or SIGTERM the daemon stops taking connections and
//! new jobs, lets running jobs finish for up to [`SHUTDOWN_GRACE`], and exits.

use crate::{
	batch::{BatchError, Batcher},
	chain::{Chain, ChainError},
	client::{HttpClient, HttpError},
	config::Config,
	store::BlobStore,
	training::{self, Progress, ProgressCell, TrainingError},
	validate,
};
use codec::{Decode, Encode};
use frame_support::storage::StoragePrefixedMap;
use openledger_runtime::{AccountId, Runtime, RuntimeCall};
use pallet_compute::{JobId, JobKind, JobStatus, ProviderStatus, Requester};
use pallet_datanets::{ValidationOutcome, ValidationReport, ValidationRequest};
use sp_core::{crypto::Pair as _, sr25519, H256};
use std::{
	collections::{BTreeMap, BTreeSet},
	net::SocketAddr,
	path::{Path, PathBuf},
	sync::Arc,
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{mpsc, Mutex, Semaphore};

/// How long running jobs may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// On what grounds the chain lets a blob into the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
	/// The datanet records the hash.
	Recorded,
	/// The contributor's commitment to it stands.
	Committed,
	/// Neither (any more).
	Dropped,
}

/// How many job records `/v1/status` keeps; older jobs are forgotten first.
pub const MAX_RECORDS: usize = 4_096;

/// Room in the job queue: every job the chain may have assigned at once, found twice.
fn queue_capacity(concurrency: u32) -> usize {
	(concurrency as usize).saturating_mul(2).max(16)
}

fn now_ms() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Why the daemon could not start, or a step of a job failed.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
	#[error("reading the key file {path}")]
	ReadKey { path: PathBuf, source: std::io::Error },
	#[error(
		"the key file {path} is accessible to others (mode {mode:o}); make it private with `chmod 600`"
	)]
	KeyNotPrivate { path: PathBuf, mode: u32 },
	#[error("the key file {path} holds no valid secret")]
	BadKey { path: PathBuf },
	#[error("opening the blob store in {path}")]
	Store { path: PathBuf, source: std::io::Error },
	#[error("listening on {address}")]
	Listen { address: SocketAddr, source: std::io::Error },
	#[error("reading the chain")]
	Read(#[from] ChainError),
	#[error("{step}")]
	Submit { step: &'static str, source: ChainError },
	#[error("{step}")]
	Batch { step: &'static str, source: BatchError },
	#[error("decoding a validation payload")]
	Payload(#[source] codec::Error),
	#[error("training")]
	Training(#[from] TrainingError),
	#[error("starting OpenLoRA serving")]
	Serving(#[from] crate::serving::ServingError),
	#[error("opening the settlement of inferences")]
	Settlement(#[from] crate::settlement::SettlementError),
}

/// The steps of the daemon's own transactions, for [`DaemonError::Submit`] and
/// [`DaemonError::Batch`].
fn submitting(step: &'static str) -> impl FnOnce(ChainError) -> DaemonError {
	move |source| DaemonError::Submit { step, source }
}
fn batching(step: &'static str) -> impl FnOnce(BatchError) -> DaemonError {
	move |source| DaemonError::Batch { step, source }
}

/// What the daemon remembers of a job, for `/v1/status`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct JobRecord {
	pub state: String,
	/// When the daemon first saw it assigned to itself on chain (ms since the epoch).
	pub seen_ms: Option<u64>,
	pub accepted_ms: Option<u64>,
	pub completed_ms: Option<u64>,
	pub outcome: Option<String>,
	pub score: Option<u8>,
	pub error: Option<String>,
}

/// What the HTTP handlers and the job loop share.
pub struct Shared {
	pub chain: Arc<Chain>,
	/// Sends the job loop's accepts, results and give-ups, many to a transaction.
	batcher: Batcher,
	pub signer: sr25519::Pair,
	pub account: AccountId,
	pub store: BlobStore,
	/// Fetches contributions from datanets' storage endpoints, and adapters from blob stores.
	pub(crate) http: HttpClient,
	/// OpenLoRA serving, when configured.
	pub serving: Option<Arc<crate::serving::Serving>>,
	/// Paid inference: API keys, the journal of what was served, settlement. With serving.
	pub payments: Option<Arc<crate::settlement::Payments>>,
	pub config: Config,
	/// What each HTTP connection may take (see [`crate::http`]).
	pub limits: crate::http::Limits,
	jobs: Mutex<BTreeMap<JobId, JobRecord>>,
	/// The base models training jobs start from.
	bases: Arc<training::BaseModels>,
	/// The memory (the registered hardware's) that running training jobs share.
	memory: Arc<training::MemoryBudget>,
	/// The progress of the training jobs running or run since the start, for `/v1/jobs/{id}`.
	progress: std::sync::Mutex<BTreeMap<JobId, ProgressCell>>,
	counters: Mutex<BTreeMap<&'static str, u64>>,
	/// Jobs found on chain, for the job loop. Bounded: the chain assigns a provider at most
	/// `concurrency` jobs at once, and a job that finds the queue full is found again on the next
	/// read.
	queue: mpsc::Sender<JobId>,
}

impl Shared {
	async fn count(&self, what: &'static str) {
		*self.counters.lock().await.entry(what).or_default() += 1;
	}

	/// Updates the record of `job`, forgetting the oldest records beyond [`MAX_RECORDS`].
	async fn record(&self, job: JobId, update: impl FnOnce(&mut JobRecord)) {
		let mut jobs = self.jobs.lock().await;
		update(jobs.entry(job).or_default());
		while jobs.len() > MAX_RECORDS {
			jobs.pop_first();
		}
	}

	/// Reads the jobs assigned to this provider on chain and queues them; the job loop skips
	/// those already running.
	async fn look_for_jobs(&self) {
		match self.assigned_jobs().await {
			Ok(jobs) => {
				let at = now_ms();
				for job in jobs {
					self.record(job, |r| {
						r.seen_ms.get_or_insert(at);
					})
					.await;
					let _ = self.queue.try_send(job);
				}
			},
			Err(e) => tracing::warn!(error = %crate::error_chain(&e), "reading the jobs on chain"),
		}
	}

	/// A job's record and, for a training job, its progress; `None` for a job this daemon has not
	/// seen.
	pub async fn job(&self, job: JobId) -> Option<serde_json::Value> {
		let record = self.jobs.lock().await.get(&job).cloned()?;
		let progress = self
			.progress
			.lock()
			.ok()
			.and_then(|p| p.get(&job).and_then(|cell| cell.lock().ok().map(|p| p.clone())));
		Some(serde_json::json!({ "job": job, "record": record, "progress": progress }))
	}

	pub async fn status(&self) -> serde_json::Value {
		serde_json::json!({
			"account": self.account.to_string(),
			"jobs": *self.jobs.lock().await,
			"counters": *self.counters.lock().await,
		})
	}

	/// Whether `datanet` names this provider (its `public_url`) among its storage endpoints: the
	/// store takes uploads for such datanets only, so that no one fills it with the data of
	/// datanets it never agreed to keep.
	pub async fn stores_for(&self, datanet: u32) -> Result<bool, ChainError> {
		let key = pallet_datanets::DatanetServices::<Runtime>::hashed_key_for(datanet);
		let services: Option<pallet_datanets::ServicesOf<Runtime>> =
			self.chain.storage(&key).await?;
		Ok(services.is_some_and(|s| self.names_this_provider(&s)))
	}

	/// Whether `services` name this provider's `public_url` among their storage endpoints (a
	/// trailing `/` on either side ignored).
	fn names_this_provider(&self, services: &pallet_datanets::ServicesOf<Runtime>) -> bool {
		let ours = self.config.public_url.trim_end_matches('/').as_bytes();
		services.endpoints.iter().any(|e| {
			let e: &[u8] = e;
			e.strip_suffix(b"/").unwrap_or(e) == ours
		})
	}

	/// Whether the chain lets `contributor` put `hash` into this store for `datanet`: it holds a
	/// commitment to that contribution (see `pallet_datanets::Pallet::commit`), or the datanet
	/// already records the hash (a copy for another endpoint). Anything else is refused, so
	/// that the store holds only bytes someone paid a deposit for.
	pub async fn may_upload(
		&self,
		datanet: u32,
		contributor: &AccountId,
		hash: sp_core::H256,
	) -> Result<Option<Upload>, ChainError> {
		let key = pallet_datanets::ContentIndex::<Runtime>::hashed_key_for(datanet, hash);
		if self.chain.storage_raw(&key).await?.is_some() {
			return Ok(Some(Upload::Recorded));
		}
		Ok(self.committed(datanet, contributor, hash).await?.then_some(Upload::Committed))
	}

	/// Whether `contributor`'s commitment to `hash` in `datanet` stands.
	async fn committed(
		&self,
		datanet: u32,
		contributor: &AccountId,
		hash: sp_core::H256,
	) -> Result<bool, ChainError> {
		let commitment = pallet_datanets::commitment_of(contributor, datanet, &hash);
		let key = pallet_datanets::Commitments::<Runtime>::hashed_key_for(contributor, commitment);
		Ok(self.chain.storage_raw(&key).await?.is_some())
	}

	/// Removes the blobs taken on a commitment that was withdrawn without the contribution
	/// being made, once they are older than the configured grace; forgets the claims of those the
	/// chain now records. Otherwise a commitment, uploaded to and then withdrawn (its deposit
	/// returned), would keep its bytes in the store for nothing but transaction fees.
	pub async fn sweep(&self) {
		let now = SystemTime::now();
		let grace = Duration::from_secs(self.config.claim_grace_secs);
		for claim in self.store.claims() {
			if now.duration_since(claim.at).unwrap_or_default() < grace {
				continue;
			}
			let contributor = AccountId::from(claim.contributor);
			let key =
				pallet_datanets::ContentIndex::<Runtime>::hashed_key_for(claim.datanet, claim.hash);
			let state = match self.chain.storage_raw(&key).await {
				Ok(Some(_)) => Ok(Upload::Recorded),
				Ok(None) => self
					.committed(claim.datanet, &contributor, claim.hash)
					.await
					.map(|c| if c { Upload::Committed } else { Upload::Dropped }),
				Err(e) => Err(e),
			};
			match state {
				Ok(Upload::Recorded) => self.store.settle(&claim.hash),
				Ok(Upload::Committed) => {},
				Ok(Upload::Dropped) => {
					match self.store.remove_claimed(&claim.hash, claim.datanet, &claim.contributor)
					{
						Ok(Some(size)) => {
							tracing::info!(hash = ?claim.hash, size, "removed a blob whose commitment was withdrawn")
						},
						Ok(None) => {},
						Err(error) => tracing::warn!(hash = ?claim.hash, %error, "removing a blob"),
					}
				},
				Err(e) => {
					tracing::warn!(error = %crate::error_chain(&e), "reading the chain for a claim")
				},
			}
		}
	}

	/// Removes the blobs nothing asks this provider to keep, once they are older than the claim
	/// grace: those of datanets that no longer name it among their storage endpoints (or that
	/// no longer record them), and the artifacts of its training jobs that are neither a model
	/// on chain nor the result of a job still open. Blobs taken on a commitment alone are
	/// [`Shared::sweep`]'s. Nothing is removed when the chain cannot be read whole.
	pub async fn evict(&self) {
		let keep = match self.needed().await {
			Ok(Some(keep)) => keep,
			Ok(None) => {
				tracing::warn!(
					public_url = %self.config.public_url,
					"no datanet names this provider's public_url among its storage endpoints: \
					 nothing is removed (was public_url changed?)"
				);
				return;
			},
			Err(e) => {
				tracing::warn!(error = %crate::error_chain(&e), "reading what the store must keep");
				return;
			},
		};
		let before = SystemTime::now()
			.checked_sub(Duration::from_secs(self.config.claim_grace_secs))
			.unwrap_or(UNIX_EPOCH);
		for (hash, size, _) in self.store.blobs() {
			if keep.contains(&hash) {
				continue;
			}
			match self.store.remove_unclaimed(&hash, before) {
				Ok(Some(_)) => {
					tracing::info!(?hash, size, "removed a blob nothing asks this provider to keep")
				},
				Ok(None) => {},
				Err(error) => tracing::warn!(?hash, %error, "removing a blob"),
			}
		}
	}

	/// The blobs the chain asks this provider to keep: every contribution recorded by a datanet
	/// that names it among its storage endpoints, the artifact of every model it trained, and
	/// the artifacts of its jobs still open. `None` if no datanet names it: then its
	/// `public_url` more likely changed than every datanet left, and nothing is removed.
	async fn needed(&self) -> Result<Option<BTreeSet<H256>>, ChainError> {
		let mut keep = BTreeSet::new();
		// Jobs first: a job that closes after this read made its model before the read below.
		let open: BTreeSet<JobId> = self.assigned_jobs().await?.into_iter().collect();
		for (artifact, job) in self.store.owned() {
			if open.contains(&job) {
				keep.insert(artifact);
			} else {
				self.store.forget_owned(&artifact);
			}
		}
		let services = pallet_datanets::DatanetServices::<Runtime>::final_prefix();
		let keys = self.chain.keys(&services).await?;
		let values: Vec<Option<pallet_datanets::ServicesOf<Runtime>>> =
			self.chain.storage_many(&keys).await?;
		let mut named = false;
		for (key, services) in keys.iter().zip(values) {
			if !services.is_some_and(|s| self.names_this_provider(&s)) {
				continue;
			}
			// The key ends with twox64(datanet) ++ datanet.
			let Some(datanet) = key.get(key.len().saturating_sub(4)..) else { continue };
			let Ok(datanet) = u32::decode(&mut &datanet[..]) else { continue };
			named = true;
			// Each key ends with blake2_128(hash) ++ hash.
			let full =
				pallet_datanets::ContentIndex::<Runtime>::hashed_key_for(datanet, H256::zero());
			let prefix = &full[..full.len() - 48];
			for content in self.chain.keys(prefix).await? {
				if let Some(hash) = content.get(content.len().saturating_sub(32)..) {
					keep.insert(H256::from_slice(hash));
				}
			}
		}
		if !named {
			return Ok(None);
		}
		let models = pallet_models::ModelInfo::<Runtime>::final_prefix();
		let keys = self.chain.keys(&models).await?;
		let values: Vec<Option<pallet_models::ModelOf<Runtime>>> =
			self.chain.storage_many(&keys).await?;
		for model in values.into_iter().flatten() {
			if model.provenance.provider == self.account {
				keep.insert(model.artifact.content_hash);
				// And what its training recorded for attribution, which others fetch from here.
				if let Some(records) = &model.provenance.records {
					keep.insert(records.manifest.content_hash);
					keep.insert(records.corpus_index.content_hash);
					keep.extend(records.features.map(|f| f.content_hash));
				}
			}
		}
		// The adapters of the models it serves, which it re-serves to other providers.
		if let Some(serving) = &self.serving {
			keep.extend(serving.artifacts());
		}
		Ok(Some(keep))
	}

	/// The ids of the open jobs assigned to this provider on chain.
	async fn assigned_jobs(&self) -> Result<Vec<JobId>, ChainError> {
		let prefix = pallet_compute::ProviderJobs::<Runtime>::hashed_key_for(&self.account, 0u64);
		// The key ends with twox64(job) ++ job; the prefix is everything before.
		let prefix = &prefix[..prefix.len() - 16];
		let keys = self.chain.keys(prefix).await?;
		Ok(keys
			.iter()
			.filter_map(|k| k.get(k.len().checked_sub(8)?..))
			.filter_map(|mut id| JobId::decode(&mut id).ok())
			.collect())
	}

	/// Registers this provider, or brings its record in line with the configuration.
	async fn register(&self) -> Result<(), DaemonError> {
		let input = self.config.provider_input();
		let key = pallet_compute::Providers::<Runtime>::hashed_key_for(&self.account);
		let existing: Option<pallet_compute::ProviderOf<Runtime>> =
			self.chain.storage(&key).await?;
		let call = |c| RuntimeCall::Compute(c);
		match existing {
			None => {
				let bond = self.config.bond.units();
				self.chain
					.submit(&self.signer, call(pallet_compute::Call::register { input, bond }))
					.await
					.map_err(submitting("registering"))?;
				tracing::info!(account = %self.account, bond, "registered");
			},
			Some(p) => {
				let same = p.endpoint.to_vec() == input.endpoint
					&& p.offers.to_vec() == input.offers
					&& p.concurrency == input.concurrency
					&& p.hardware == input.hardware;
				if !same {
					self.chain
						.submit(&self.signer, call(pallet_compute::Call::update { input }))
						.await
						.map_err(submitting("updating the registration"))?;
					tracing::info!(account = %self.account, "registration updated");
				}
				match p.status {
					ProviderStatus::Paused => {
						match self
							.chain
							.submit(&self.signer, call(pallet_compute::Call::resume {}))
							.await
						{
							Ok(_) => tracing::info!("resumed"),
							Err(e) => {
								tracing::warn!(error = %crate::error_chain(&e), "could not resume")
							},
						}
					},
					ProviderStatus::Leaving { .. } => {
						tracing::warn!("this provider is leaving: it gets no new jobs")
					},
					ProviderStatus::Active => {
						tracing::info!(account = %self.account, "registered already")
					},
				}
			},
		}
		Ok(())
	}

	/// Offers on chain each base model served, at the configured price per 1,000 tokens, where
	/// the chain has another price or none.
	async fn offer(&self, serving: &crate::serving::Serving) -> Result<(), DaemonError> {
		let price = serving.config.price_per_1k_tokens.units();
		let offers: Vec<(pallet_models::BaseModelId, u128)> =
			self.chain.runtime_call("InferenceApi_offers", &self.account).await?;
		for base in serving.bases.keys() {
			if offers.iter().any(|(b, p)| b == base && *p == price) {
				continue;
			}
			let call = RuntimeCall::Inference(pallet_inference::Call::set_offer {
				base_model: *base,
				price_per_1k_tokens: price,
			});
			self.chain
				.submit(&self.signer, call)
				.await
				.map_err(submitting("offering serving"))?;
			tracing::info!(base, price, "offering serving");
		}
		Ok(())
	}

	/// Takes one job as far as it goes: accept, execute, submit.
	async fn process(&self, job: JobId) -> Result<(), DaemonError> {
		let key = pallet_compute::Jobs::<Runtime>::hashed_key_for(job);
		let Some(info) = self.chain.storage::<pallet_compute::JobOf<Runtime>>(&key).await? else {
			return Ok(());
		};
		if info.status.provider() != &self.account {
			return Ok(());
		}
		let deadline = match &info.status {
			JobStatus::Assigned { result_by, .. } => *result_by,
			JobStatus::Accepted { until, .. } => *until,
		};
		if let JobStatus::Assigned { .. } = info.status {
			self.batcher
				.submit(RuntimeCall::Compute(pallet_compute::Call::accept_job { job }))
				.await
				.map_err(batching("accepting"))?;
			let at = now_ms();
			self.record(job, |r| {
				r.state = "accepted".into();
				r.accepted_ms = Some(at);
			})
			.await;
			tracing::info!(job, "accepted");
		}
		let result = match info.kind {
			JobKind::ContributionValidation => {
				let report = self.validate(&info.payload).await?;
				let (outcome, score) = (format!("{:?}", report.outcome), report.score);
				tracing::info!(job, %outcome, score, reason = %String::from_utf8_lossy(&report.reason), "validated");
				self.record(job, |r| {
					r.outcome = Some(outcome);
					r.score = Some(score);
				})
				.await;
				report.encode()
			},
			JobKind::Training => match self.train(job, &info, deadline).await {
				Ok(result) => result,
				Err(error) => {
					let reason = crate::error_chain(&error);
					tracing::warn!(job, %reason, "giving the training job up");
					self.record(job, |r| {
						r.state = "given up".into();
						r.error = Some(reason);
					})
					.await;
					self.batcher
						.submit(RuntimeCall::Compute(pallet_compute::Call::fail_job { job }))
						.await
						.map_err(batching("giving the job up"))?;
					self.count("given up").await;
					return Ok(());
				},
			},
			kind => {
				tracing::warn!(job, ?kind, "this daemon does not run this kind: giving it up");
				self.batcher
					.submit(RuntimeCall::Compute(pallet_compute::Call::fail_job { job }))
					.await
					.map_err(batching("giving the job up"))?;
				return Ok(());
			},
		};
		self.batcher
			.submit(RuntimeCall::Compute(pallet_compute::Call::submit_result { job, result }))
			.await
			.map_err(batching("submitting the result"))?;
		let at = now_ms();
		self.record(job, |r| {
			r.state = "completed".into();
			r.completed_ms = Some(at);
		})
		.await;
		self.count("completed").await;
		tracing::info!(job, "completed");
		Ok(())
	}

	/// Runs a training job the model registry asked for: checks the payload against the
	/// registry's request and bounds and the job's memory against the provider's before anything
	/// is fetched, gathers and checks its data, trains off the async runtime, stores the artifact
	/// in the blob store and returns the encoded result. The job's work directory is removed
	/// however it ends.
	async fn train(
		&self,
		job: JobId,
		info: &pallet_compute::JobOf<Runtime>,
		deadline: u32,
	) -> Result<Vec<u8>, DaemonError> {
		let spec = pallet_models::TrainingSpec::decode(&mut &info.payload[..])
			.map_err(|e| DaemonError::Training(TrainingError::Payload(e)))?;
		let key = pallet_models::TrainingRequests::<Runtime>::hashed_key_for(job);
		let request: Option<pallet_models::TrainingRequestOf<Runtime>> =
			self.chain.storage(&key).await?;
		let request = match (info.requester, request) {
			(Requester::Runtime, Some(request)) => request,
			_ => return Err(TrainingError::NotRequested.into()),
		};
		training::check_spec(&spec, &request)?;
		self.memory.fits(self.bases.job_memory(&spec)?.div_ceil(1 << 20))?;
		let work_dir = self.config.data_dir.join("training").join(job.to_string());
		let trained = self.train_in(job, spec, &work_dir, deadline).await;
		if let Err(error) = std::fs::remove_dir_all(&work_dir) {
			if error.kind() != std::io::ErrorKind::NotFound {
				tracing::warn!(job, %error, "removing the job's work directory");
			}
		}
		trained
	}

	async fn train_in(
		&self,
		job: JobId,
		spec: pallet_models::TrainingSpec,
		work_dir: &std::path::Path,
		deadline: u32,
	) -> Result<Vec<u8>, DaemonError> {
		let cell: ProgressCell = Arc::new(std::sync::Mutex::new(Progress {
			phase: "fetching".into(),
			..Default::default()
		}));
		if let Ok(mut all) = self.progress.lock() {
			all.insert(job, cell.clone());
			while all.len() > MAX_RECORDS {
				all.pop_first();
			}
		}
		tracing::info!(job, base_model = spec.base_model, sources = spec.sources.len(), "training");
		let data =
			training::gather(&self.chain, &self.http, &self.store, &spec, &work_dir.join("data"))
				.await?;
		// The result must be included by the deadline block: keep two blocks for that.
		let blocks_left =
			deadline.saturating_sub(self.chain.best_number().await?).saturating_sub(2);
		let seconds_left =
			f64::from(blocks_left) * openledger_runtime::time::MILLISECS_PER_BLOCK as f64 / 1e3;
		let trained = {
			let (work_dir, bases) = (work_dir.to_path_buf(), self.bases.clone());
			let limits = training::Limits {
				seconds_left,
				memory: self.memory.clone(),
				max_artifact_bytes: self.store.limit(),
				space: self.store.own_space(),
			};
			tokio::task::spawn_blocking(move || {
				training::train(&spec, &data, &bases, &work_dir, limits, &cell)
			})
			.await
			.map_err(|e| DaemonError::Training(TrainingError::Io(std::io::Error::other(e))))??
		};
		// The space training reserved, released as its files take it.
		let reserved = trained.reserved;
		// Kept while the job is open, across restarts; then only as a model's (see `evict`).
		let records = &trained.result.records;
		let store_error = |e| DaemonError::Training(TrainingError::Store(e));
		for file in [&trained.result.artifact, &records.manifest, &records.corpus_index] {
			self.store.record_owned(&file.content_hash, job).map_err(store_error)?;
		}
		// Files of up to the store's limit, written and synced: off the async workers' loop.
		crate::store::blocking(|| {
			drop(reserved);
			self.store.put(trained.result.artifact.content_hash, &trained.artifact)?;
			self.store.put(records.manifest.content_hash, &trained.manifest)?;
			self.store.put_file(records.corpus_index.content_hash, &trained.corpus_index)?;
			if let (Some(file), Some(bytes)) = (&records.features, &trained.features) {
				self.store.record_owned(&file.content_hash, job)?;
				self.store.put(file.content_hash, bytes)?;
			}
			Ok(())
		})
		.map_err(store_error)?;
		let m = &trained.result.metrics;
		tracing::info!(
			job,
			artifact = ?trained.result.artifact.content_hash,
			size = trained.result.artifact.length,
			steps = m.steps,
			train_loss = m.train_loss_last as f64 / 1e6,
			eval_loss_base = m.eval_loss_base as f64 / 1e6,
			eval_loss = m.eval_loss_trained as f64 / 1e6,
			"trained"
		);
		Ok(trained.result.encode())
	}

	/// Runs a validation job: fetches the contribution's bytes from its datanet's storage
	/// endpoints and checks them.
	async fn validate(&self, payload: &[u8]) -> Result<ValidationReport, DaemonError> {
		let ValidationRequest { datanet, contribution } =
			ValidationRequest::decode(&mut &payload[..]).map_err(DaemonError::Payload)?;
		let key = pallet_datanets::Contributions::<Runtime>::hashed_key_for(datanet, contribution);
		let Some(item) =
			self.chain.storage::<pallet_datanets::ContributionOf<Runtime>>(&key).await?
		else {
			return Ok(validate::report(
				ValidationOutcome::Missing,
				0,
				"the contribution is no longer recorded",
			));
		};
		let key = pallet_datanets::DatanetServices::<Runtime>::hashed_key_for(datanet);
		let endpoints = self
			.chain
			.storage::<pallet_datanets::ServicesOf<Runtime>>(&key)
			.await?
			.map(|s| s.endpoints.into_iter().map(|e| e.to_vec()).collect::<Vec<_>>())
			.unwrap_or_default();
		// What goes on chain says what was found, never why an endpoint failed: that would
		// tell anyone what the provider's network can reach. The details go to the logs.
		if item.size > self.store.limit() {
			return Ok(validate::report(
				ValidationOutcome::Unverifiable,
				0,
				"the contribution is larger than this provider checks",
			));
		}
		// One byte past the declared size is enough to tell a size mismatch.
		let limit = item.size.saturating_add(1) as usize;
		let mut failed = false;
		for endpoint in endpoints {
			let base = String::from_utf8_lossy(&endpoint).trim_end_matches('/').to_string();
			let url = format!("{base}/v1/blobs/{:?}", item.content_hash);
			match self.http.get(&url, limit).await {
				Ok(Some(bytes)) => {
					return Ok(validate::validate(
						item.content_hash,
						item.size,
						item.format,
						&bytes,
					))
				},
				Ok(None) => {},
				Err(HttpError::TooLarge) => {
					return Ok(validate::report(
						ValidationOutcome::SizeMismatch,
						0,
						format!("the endpoint served more than the declared {} bytes", item.size),
					))
				},
				Err(error) => {
					tracing::warn!(datanet, contribution, %url, %error, "fetching a contribution");
					failed = true;
				},
			}
		}
		Ok(if failed {
			validate::report(
				ValidationOutcome::Unverifiable,
				0,
				"the provider could not fetch the bytes from the storage endpoints",
			)
		} else {
			validate::report(
				ValidationOutcome::Missing,
				0,
				format!("no storage endpoint has {:?}", item.content_hash),
			)
		})
	}
}

/// Reads the account key: a secret URI (mnemonic, hex seed or dev path such as `//Alice`).
///
/// Like ssh with a private key, it refuses a file that others than its owner may read or write:
/// the key controls the provider's bond and earnings.
pub fn load_key(path: &Path) -> Result<sr25519::Pair, DaemonError> {
	let unreadable = |source| DaemonError::ReadKey { path: path.into(), source };
	#[cfg(unix)]
	{
		use std::os::unix::fs::PermissionsExt;
		let mode = std::fs::metadata(path).map_err(unreadable)?.permissions().mode();
		if mode & 0o077 != 0 {
			return Err(DaemonError::KeyNotPrivate { path: path.into(), mode: mode & 0o777 });
		}
	}
	let text = std::fs::read_to_string(path).map_err(unreadable)?;
	sr25519::Pair::from_string(text.trim(), None)
		.map_err(|_| DaemonError::BadKey { path: path.into() })
}

/// Runs the daemon until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), DaemonError> {
	let signer = load_key(&config.key_file)?;
	let account: AccountId = signer.public().into();
	let store = BlobStore::open(&config.data_dir, config.max_blob_bytes, config.max_store_bytes)
		.map_err(|source| DaemonError::Store { path: config.data_dir.clone(), source })?
		.keep_for_own(config.own_store_bytes());
	let chain = Arc::new(Chain::connect(&config.chain_rpc).await?);
	let batcher = Batcher::start(chain.clone(), signer.clone());
	let (queue, mut jobs_in) = mpsc::channel(queue_capacity(config.concurrency));
	let listener = tokio::net::TcpListener::bind(config.listen)
		.await
		.map_err(|source| DaemonError::Listen { address: config.listen, source })?;
	let concurrency = config.concurrency as usize;
	let poll = Duration::from_millis(config.poll_interval_ms);
	let bases = training::BaseModels::load(
		config.base_models_dir.as_deref(),
		&config.data_dir.join("training"),
	)?;
	for (hash, path) in bases.files() {
		tracing::info!(?hash, path = %path.display(), "base model weights");
	}
	let memory = training::MemoryBudget::new(u64::from(config.hardware.memory_mib));
	let (serving, loads) = match &config.serving {
		Some(serving) => {
			let (serving, loads) =
				crate::serving::Serving::start(serving.clone(), &chain, &bases).await?;
			(Some(Arc::new(serving)), loads)
		},
		None => (None, Vec::new()),
	};
	let payments = match &config.serving {
		Some(serving) => Some(
			crate::settlement::Payments::open(
				chain.clone(),
				signer.clone(),
				account.clone(),
				&config.data_dir,
				serving.settle_batch,
			)
			.await?,
		),
		None => None,
	};
	let shared = Arc::new(Shared {
		serving,
		payments,
		bases: Arc::new(bases),
		memory: Arc::new(memory),
		chain,
		batcher,
		signer,
		account,
		store,
		http: HttpClient::new(config.allow_private_storage),
		config,
		limits: crate::http::Limits::default(),
		jobs: Mutex::new(BTreeMap::new()),
		progress: std::sync::Mutex::new(BTreeMap::new()),
		counters: Mutex::new(BTreeMap::new()),
		queue,
	});
	tracing::info!(account = %shared.account, listen = %shared.config.listen, "starting");

	if let Some(serving) = shared.serving.clone() {
		crate::serving::run_loaders(shared.clone(), loads);
		let shared = shared.clone();
		tokio::spawn(async move {
			loop {
				let refreshed =
					serving.refresh(&shared.chain, &shared.account, &shared.config.data_dir).await;
				if let Err(e) = refreshed {
					tracing::warn!(error = %crate::error_chain(&e), "reading the published models");
				}
				tokio::time::sleep(poll).await;
			}
		});
	}

	let server = {
		let router = crate::server::router(shared.clone());
		let limits = shared.limits.clone();
		tokio::spawn(crate::http::serve(listener, limits, move |request| {
			use tower_service::Service;
			let mut router = router.clone();
			async move {
				match router.call(request.map(axum::body::Body::new)).await {
					Ok(response) => response,
					Err(never) => match never {},
				}
			}
		}))
	};

	shared.register().await?;
	if let (Some(serving), Some(payments)) = (shared.serving.clone(), shared.payments.clone()) {
		// A provider the market does not count as active (paused, leaving) cannot offer: it
		// serves what it offered before, or nothing.
		if let Err(e) = shared.offer(&serving).await {
			tracing::warn!(error = %crate::error_chain(&e), "offering serving on chain");
		}
		if let Err(e) =
			serving.refresh(&shared.chain, &shared.account, &shared.config.data_dir).await
		{
			tracing::warn!(error = %crate::error_chain(&e), "reading the published models");
		}
		let every = Duration::from_secs(serving.config.settle_interval_secs);
		tokio::spawn(payments.run(every));
	}

	let poller = {
		let shared = shared.clone();
		tokio::spawn(async move {
			loop {
				shared.look_for_jobs().await;
				tokio::time::sleep(poll).await;
			}
		})
	};
	let watcher = {
		let shared = shared.clone();
		tokio::spawn(async move {
			loop {
				match shared.chain.new_heads().await {
					Ok(mut heads) => {
						while let Some(head) = heads.next().await {
							if head.is_err() {
								break;
							}
							shared.look_for_jobs().await;
						}
						tracing::warn!("the subscription to new blocks ended; subscribing again");
					},
					Err(e) => {
						tracing::warn!(error = %crate::error_chain(&e), "following the chain")
					},
				}
				tokio::time::sleep(poll).await;
			}
		})
	};

	let sweeper = {
		let shared = shared.clone();
		let every = Duration::from_secs(shared.config.claim_grace_secs.max(1));
		tokio::spawn(async move {
			// Eviction reads every content hash of the datanets this provider stores for: a
			// fifth as often as the claims are swept.
			for round in 1u64.. {
				tokio::time::sleep(every).await;
				shared.sweep().await;
				if round % 5 == 0 {
					shared.evict().await;
				}
			}
		})
	};

	let permits = Arc::new(Semaphore::new(concurrency));
	let running: Arc<Mutex<BTreeSet<JobId>>> = Arc::new(Mutex::new(BTreeSet::new()));
	let shutdown = shutdown_signal();
	tokio::pin!(shutdown);
	loop {
		tokio::select! {
			_ = &mut shutdown => break,
			Some(job) = jobs_in.recv() => {
				if !running.lock().await.insert(job) {
					continue;
				}
				let Ok(permit) = permits.clone().acquire_owned().await else { break };
				let (shared, running) = (shared.clone(), running.clone());
				tokio::spawn(async move {
					if let Err(e) = shared.process(job).await {
						let error = crate::error_chain(&e);
						tracing::warn!(job, %error, "job step failed; it is retried on the next poll");
						shared.record(job, |r| r.error = Some(error)).await;
					}
					running.lock().await.remove(&job);
					drop(permit);
				});
			}
		}
	}

	tracing::info!("shutting down: no new connections or jobs");
	server.abort();
	poller.abort();
	watcher.abort();
	sweeper.abort();
	let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
	match tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all)).await {
		Ok(_) => tracing::info!("stopped"),
		Err(_) => tracing::warn!("stopped with jobs still running; they resume on restart"),
	}
	Ok(())
}

async fn shutdown_signal() {
	use tokio::signal::unix::{signal, SignalKind};
	let mut term = match signal(SignalKind::terminate()) {
		Ok(s) => s,
		Err(_) => return std::future::pending().await,
	};
	tokio::select! {
		_ = tokio::signal::ctrl_c() => {},
		_ = term.recv() => {},
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::os::unix::fs::PermissionsExt;

	#[test]
	fn a_key_file_others_can_read_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("key");
		std::fs::write(&path, "//Ferdie\n").unwrap();
		for mode in [0o644, 0o640, 0o604, 0o660] {
			std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
			let Err(error) = load_key(&path) else { panic!("mode {mode:o} was accepted") };
			assert!(matches!(error, DaemonError::KeyNotPrivate { .. }), "{mode:o}: {error}");
			assert!(error.to_string().contains("chmod 600"), "{error}");
		}
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
		let pair = load_key(&path).unwrap();
		assert_eq!(pair.public(), sr25519::Pair::from_string("//Ferdie", None).unwrap().public());
	}
}
