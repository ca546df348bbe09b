//! The provider daemon: registers on chain, serves the HTTP API, and runs the job loop.
//!
//! Jobs reach the loop two ways: a notification from a validator's offchain worker, checked
//! against chain state before anything is done, and a poll of the provider's job list on chain
//! every `poll_interval_ms`, which also picks up, after a restart, the jobs accepted before it.
//! For each job the loop reads the job from chain state, accepts it if it is still assigned,
//! executes it and submits the result, one job at most once at a time and at most
//! `concurrency` jobs together. Accepts and results of concurrent jobs share transactions
//! ([`Batcher`]). On SIGINT or SIGTERM the daemon stops taking connections and
//! new jobs, lets running jobs finish for up to [`SHUTDOWN_GRACE`], and exits.

use crate::{batch::Batcher, chain::Chain, config::Config, store::BlobStore, validate};
use anyhow::{Context, Result};
use codec::{Decode, Encode};
use hyper_util::rt::TokioIo;
use openledger_runtime::{AccountId, Runtime, RuntimeCall};
use pallet_compute::{JobId, JobKind, JobStatus, ProviderStatus};
use pallet_datanets::{ValidationOutcome, ValidationReport, ValidationRequest};
use sp_core::{crypto::Pair as _, sr25519};
use std::{
	collections::{BTreeMap, BTreeSet},
	sync::Arc,
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{mpsc, Mutex, Semaphore};

/// How long running jobs may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

fn now_ms() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What the daemon remembers of a job, for `/v1/status`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct JobRecord {
	pub state: String,
	/// When the first notification for it arrived (ms since the epoch).
	pub notified_ms: Option<u64>,
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
	pub config: Config,
	jobs: Mutex<BTreeMap<JobId, JobRecord>>,
	counters: Mutex<BTreeMap<&'static str, u64>>,
	queue: mpsc::UnboundedSender<JobId>,
}

impl Shared {
	async fn count(&self, what: &'static str) {
		*self.counters.lock().await.entry(what).or_default() += 1;
	}

	async fn record(&self, job: JobId, update: impl FnOnce(&mut JobRecord)) {
		update(self.jobs.lock().await.entry(job).or_default());
	}

	/// A notification named `jobs`: queues those that chain state has open and assigned to this
	/// provider, and returns them.
	pub async fn notified(&self, jobs: &[JobId]) -> Result<Vec<JobId>> {
		let keys: Vec<_> =
			jobs.iter().map(pallet_compute::Jobs::<Runtime>::hashed_key_for).collect();
		let infos: Vec<Option<pallet_compute::JobOf<Runtime>>> =
			self.chain.storage_many(&keys).await?;
		let at = now_ms();
		let mut ours = Vec::new();
		for (&job, info) in jobs.iter().zip(infos) {
			if !info.is_some_and(|j| j.status.provider() == &self.account) {
				self.count("notifications_refused").await;
				tracing::warn!(job, "notification for a job not assigned to this provider");
				continue;
			}
			self.count("notifications").await;
			self.record(job, |r| {
				r.notified_ms.get_or_insert(at);
			})
			.await;
			let _ = self.queue.send(job);
			ours.push(job);
		}
		Ok(ours)
	}

	pub async fn status(&self) -> serde_json::Value {
		serde_json::json!({
			"account": self.account.to_string(),
			"jobs": *self.jobs.lock().await,
			"counters": *self.counters.lock().await,
		})
	}

	/// The ids of the open jobs assigned to this provider on chain.
	async fn assigned_jobs(&self) -> Result<Vec<JobId>> {
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
	async fn register(&self) -> Result<()> {
		let input = self.config.provider_input();
		let key = pallet_compute::Providers::<Runtime>::hashed_key_for(&self.account);
		let existing: Option<pallet_compute::ProviderOf<Runtime>> =
			self.chain.storage(&key).await?;
		let call = |c| RuntimeCall::Compute(c);
		match existing {
			None => {
				let bond = self.config.bond();
				self.chain
					.submit(&self.signer, call(pallet_compute::Call::register { input, bond }))
					.await
					.context("registering")?;
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
						.context("updating the registration")?;
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
							Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not resume"),
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

	/// Takes one job as far as it goes: accept, execute, submit.
	async fn process(&self, job: JobId) -> Result<()> {
		let key = pallet_compute::Jobs::<Runtime>::hashed_key_for(job);
		let Some(info) = self.chain.storage::<pallet_compute::JobOf<Runtime>>(&key).await? else {
			return Ok(());
		};
		if info.status.provider() != &self.account {
			return Ok(());
		}
		if let JobStatus::Assigned { .. } = info.status {
			self.batcher
				.submit(RuntimeCall::Compute(pallet_compute::Call::accept_job { job }))
				.await
				.context("accepting")?;
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
			kind => {
				tracing::warn!(job, ?kind, "this daemon does not run this kind: giving it up");
				self.batcher
					.submit(RuntimeCall::Compute(pallet_compute::Call::fail_job { job }))
					.await?;
				return Ok(());
			},
		};
		self.batcher
			.submit(RuntimeCall::Compute(pallet_compute::Call::submit_result { job, result }))
			.await
			.context("submitting the result")?;
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

	/// Runs a validation job: fetches the contribution's bytes from its datanet's storage
	/// endpoints and checks them.
	async fn validate(&self, payload: &[u8]) -> Result<ValidationReport> {
		let ValidationRequest { datanet, contribution } =
			ValidationRequest::decode(&mut &payload[..]).context("a validation payload")?;
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
		// One byte past the declared size is enough to tell a size mismatch.
		let limit = (item.size.saturating_add(1)).min(self.store.limit()) as usize;
		let mut problems = Vec::new();
		for endpoint in endpoints {
			let base = String::from_utf8_lossy(&endpoint).trim_end_matches('/').to_string();
			let url = format!("{base}/v1/blobs/{:?}", item.content_hash);
			match crate::client::get(&url, limit).await {
				Ok(Some(bytes)) => {
					return Ok(validate::validate(
						item.content_hash,
						item.size,
						item.format,
						&bytes,
					))
				},
				Ok(None) => problems.push(format!("{base}: not found")),
				Err(e) => problems.push(format!("{base}: {e:#}")),
			}
		}
		Ok(validate::report(
			ValidationOutcome::Missing,
			0,
			format!("no storage endpoint served {:?}: {}", item.content_hash, problems.join("; ")),
		))
	}
}

/// Reads the account key: a secret URI (mnemonic, hex seed or dev path such as `//Alice`).
pub fn load_key(path: &std::path::Path) -> Result<sr25519::Pair> {
	let text = std::fs::read_to_string(path)
		.with_context(|| format!("reading the key file {}", path.display()))?;
	sr25519::Pair::from_string(text.trim(), None).map_err(|e| {
		anyhow::anyhow!("the key file {} holds no valid secret: {e:?}", path.display())
	})
}

/// Runs the daemon until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<()> {
	let signer = load_key(&config.key_file)?;
	let account: AccountId = signer.public().into();
	let store = BlobStore::open(&config.data_dir, config.max_blob_bytes)
		.with_context(|| format!("opening the blob store in {}", config.data_dir.display()))?;
	let chain = Arc::new(Chain::connect(&config.chain_rpc).await?);
	let batcher = Batcher::start(chain.clone(), signer.clone());
	let (queue, mut jobs_in) = mpsc::unbounded_channel();
	let listener = tokio::net::TcpListener::bind(config.listen)
		.await
		.with_context(|| format!("listening on {}", config.listen))?;
	let concurrency = config.concurrency as usize;
	let poll = Duration::from_millis(config.poll_interval_ms);
	let shared = Arc::new(Shared {
		chain,
		batcher,
		signer,
		account,
		store,
		config,
		jobs: Mutex::new(BTreeMap::new()),
		counters: Mutex::new(BTreeMap::new()),
		queue,
	});
	tracing::info!(account = %shared.account, listen = %shared.config.listen, "starting");

	let server = {
		let shared = shared.clone();
		tokio::spawn(async move {
			loop {
				let Ok((stream, _)) = listener.accept().await else { continue };
				let shared = shared.clone();
				tokio::spawn(async move {
					let service = hyper::service::service_fn(move |request| {
						crate::server::handle(shared.clone(), request)
					});
					let _ = hyper::server::conn::http1::Builder::new()
						.serve_connection(TokioIo::new(stream), service)
						.await;
				});
			}
		})
	};

	shared.register().await?;

	let poller = {
		let shared = shared.clone();
		tokio::spawn(async move {
			loop {
				match shared.assigned_jobs().await {
					Ok(jobs) => jobs.into_iter().for_each(|j| {
						let _ = shared.queue.send(j);
					}),
					Err(e) => tracing::warn!(error = %format!("{e:#}"), "polling the chain"),
				}
				tokio::time::sleep(poll).await;
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
						let error = format!("{e:#}");
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
