//! The contributor's flow, as the `openledger contribute` command runs it: commit to the bytes,
//! upload them to a storage endpoint, contribute their hash, and follow the validation.
//!
//! The commitment (see `pallet_datanets::Pallet::commit`) shows nothing of the bytes, and only
//! once it is on chain do the bytes go public, so that no one who sees them on their way can
//! contribute them first. A refused upload takes the commitment back, returning its deposit.

use crate::{
	chain::{Chain, ChainError},
	client::{HttpClient, HttpError},
	store::content_hash,
	Open,
};
use hyper::{Method, StatusCode};
use openledger_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent};
use pallet_compute::JobId;
use pallet_datanets::{ContributionId, DataFormat, DatanetId, ValidationState};
use sp_core::{crypto::Pair as _, sr25519, H256};
use std::time::{Duration, Instant};

/// What to contribute, and how.
pub struct Request {
	pub datanet: DatanetId,
	pub bytes: Vec<u8>,
	pub format: DataFormat,
	/// The storage endpoint to upload to; by default the datanet's first.
	pub endpoint: Option<String>,
	/// The most the contribution may cost (deposit plus validation fee); by default what it
	/// costs when the flow reads the datanet, so that a raise in the meantime fails it.
	pub max_cost: Option<Open>,
	/// How long to wait for the validation report once the contribution is on chain.
	pub wait: Duration,
}

/// A step of the flow, as it is taken.
pub enum Step<'a> {
	Committed { hash: H256, commitment: H256 },
	Uploaded { hash: H256, size: u64, endpoint: &'a str },
	Contributed { contribution: ContributionId, block: H256, job: Option<JobId> },
}

/// A validation report, as the chain's events told it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
	pub outcome: String,
	pub score: u8,
	pub reason: String,
	pub block: u32,
}

/// Where the flow ended.
#[derive(Debug)]
pub struct Contributed {
	pub hash: H256,
	pub contribution: ContributionId,
	pub job: Option<JobId>,
	/// The validation report, if one came within the wait.
	pub report: Option<Report>,
}

/// Why a contribution did not land.
#[derive(Debug, thiserror::Error)]
pub enum ContributeError {
	#[error("there is no datanet {0}")]
	UnknownDatanet(DatanetId),
	#[error("datanet {0} names no storage endpoint; pass one")]
	NoEndpoint(DatanetId),
	#[error("the datanet's storage endpoint is not UTF-8")]
	BadEndpoint,
	#[error("reading the chain")]
	Read(#[from] ChainError),
	#[error("{step}")]
	Submit { step: &'static str, source: ChainError },
	#[error("uploading to the storage endpoint")]
	Upload(#[source] HttpError),
	#[error("the storage endpoint refused the upload ({status}): {answer}")]
	UploadRefused { status: StatusCode, answer: String },
	#[error("the block has no Contributed event")]
	NoContributedEvent,
}

fn submitting(step: &'static str) -> impl FnOnce(ChainError) -> ContributeError {
	move |source| ContributeError::Submit { step, source }
}

type Services = pallet_datanets::ServicesOf<Runtime>;

/// A datanet's record, as the chain has it now.
async fn read_info(
	chain: &Chain,
	datanet: DatanetId,
) -> Result<pallet_datanets::DatanetOf<Runtime>, ContributeError> {
	let key = pallet_datanets::DatanetInfo::<Runtime>::hashed_key_for(datanet);
	chain.storage(&key).await?.ok_or(ContributeError::UnknownDatanet(datanet))
}

/// A datanet's record and its services, as the chain has them now.
async fn read_datanet(
	chain: &Chain,
	datanet: DatanetId,
) -> Result<(pallet_datanets::DatanetOf<Runtime>, Option<Services>), ContributeError> {
	let info = read_info(chain, datanet).await?;
	let key = pallet_datanets::DatanetServices::<Runtime>::hashed_key_for(datanet);
	Ok((info, chain.storage(&key).await?))
}

/// What a contribution costs under `info`: the deposit and, if the datanet asks for validation,
/// the validation fee.
fn cost(info: &pallet_datanets::DatanetOf<Runtime>) -> Open {
	let fee = info.validation.as_ref().map_or(0, |v| v.fee);
	Open(info.rules.contribution_deposit.saturating_add(fee))
}

/// What a contribution to `datanet` costs now.
pub async fn current_cost(chain: &Chain, datanet: DatanetId) -> Result<Open, ContributeError> {
	Ok(cost(&read_info(chain, datanet).await?))
}

/// The datanet's first storage endpoint.
fn first_endpoint(
	services: Option<&Services>,
	datanet: DatanetId,
) -> Result<String, ContributeError> {
	let first = services
		.and_then(|s| s.endpoints.first().map(|e| e.to_vec()))
		.ok_or(ContributeError::NoEndpoint(datanet))?;
	String::from_utf8(first).map_err(|_| ContributeError::BadEndpoint)
}

/// Runs the whole flow for `signer`, telling `on_step` of each step taken.
pub async fn contribute(
	chain: &Chain,
	http: &HttpClient,
	signer: &sr25519::Pair,
	request: Request,
	mut on_step: impl FnMut(Step<'_>),
) -> Result<Contributed, ContributeError> {
	let Request { datanet, bytes, format, endpoint, max_cost, wait } = request;
	let hash = content_hash(&bytes);
	let size = bytes.len() as u64;
	// The datanet is read once, for whatever the request leaves to it.
	let (endpoint, max_cost) = match (endpoint, max_cost) {
		(Some(endpoint), Some(max_cost)) => (endpoint, max_cost),
		(endpoint, max_cost) => {
			let (info, services) = read_datanet(chain, datanet).await?;
			let endpoint = match endpoint {
				Some(e) => e,
				None => first_endpoint(services.as_ref(), datanet)?,
			};
			(endpoint, max_cost.unwrap_or_else(|| cost(&info)))
		},
	};

	let contributor: AccountId = signer.public().into();
	let commitment = pallet_datanets::commitment_of(&contributor, datanet, &hash);
	let commit = RuntimeCall::Datanets(pallet_datanets::Call::commit { commitment });
	chain.submit(signer, commit).await.map_err(submitting("committing"))?;
	on_step(Step::Committed { hash, commitment });

	let url = format!(
		"{}/v1/blobs/{hash:?}?datanet={datanet}&contributor={contributor}",
		endpoint.trim_end_matches('/')
	);
	let uploaded = match http.send(Method::PUT, &url, bytes).await {
		Ok((status, _)) if status.is_success() => Ok(()),
		Ok((status, answer)) => Err(ContributeError::UploadRefused { status, answer }),
		Err(e) => Err(ContributeError::Upload(e)),
	};
	if let Err(e) = uploaded {
		// Nothing will be revealed: the commitment's deposit comes back.
		let withdraw =
			RuntimeCall::Datanets(pallet_datanets::Call::withdraw_commitment { commitment });
		chain
			.submit(signer, withdraw)
			.await
			.map_err(submitting("withdrawing the commitment"))?;
		return Err(e);
	}
	on_step(Step::Uploaded { hash, size, endpoint: &endpoint });

	let call = RuntimeCall::Datanets(pallet_datanets::Call::contribute {
		datanet,
		content_hash: hash,
		size,
		format,
		max_cost: max_cost.units(),
	});
	let included = chain.submit(signer, call).await.map_err(submitting("contributing"))?;
	let mut contribution = None;
	let mut job = None;
	for event in &included.events {
		match event {
			RuntimeEvent::Datanets(pallet_datanets::Event::Contributed {
				contribution: c, ..
			}) => contribution = Some(*c),
			RuntimeEvent::Datanets(pallet_datanets::Event::ValidationRequested {
				job: j, ..
			}) => job = Some(*j),
			_ => {},
		}
	}
	let contribution = contribution.ok_or(ContributeError::NoContributedEvent)?;
	on_step(Step::Contributed { contribution, block: included.block, job });

	let report = match job {
		Some(_) => {
			let from = chain.block_number(included.block).await?;
			wait_for_report(chain, datanet, contribution, from, wait).await?
		},
		None => None,
	};
	Ok(Contributed { hash, contribution, job, report })
}

/// The validation state of a contribution, while the contribution is recorded.
pub async fn validation(
	chain: &Chain,
	datanet: DatanetId,
	contribution: ContributionId,
) -> Result<Option<ValidationState<u32>>, ChainError> {
	let key = pallet_datanets::Validations::<Runtime>::hashed_key_for(datanet, contribution);
	chain.storage(&key).await
}

/// Follows the chain's events from block `from` for the validation report of a contribution,
/// for up to `wait`. The report is in the events; the state only while the contribution stays
/// (one rejected on its report is removed).
pub async fn wait_for_report(
	chain: &Chain,
	datanet: DatanetId,
	contribution: ContributionId,
	from: u32,
	wait: Duration,
) -> Result<Option<Report>, ChainError> {
	let deadline = Instant::now() + wait;
	let mut next = from;
	loop {
		let best = chain.best_number().await?;
		while next <= best {
			if let Some(hash) = chain.block_hash(next).await? {
				let report = chain.events_at(hash).await?.into_iter().find_map(|(_, e)| match e {
					RuntimeEvent::Datanets(pallet_datanets::Event::Validated {
						datanet: d,
						contribution: c,
						outcome,
						score,
						reason,
					}) if d == datanet && c == contribution => Some(Report {
						outcome: format!("{outcome:?}"),
						score,
						reason: String::from_utf8_lossy(&reason).into_owned(),
						block: next,
					}),
					_ => None,
				});
				if report.is_some() {
					return Ok(report);
				}
			}
			next += 1;
		}
		let waiting = matches!(
			validation(chain, datanet, contribution).await?,
			Some(ValidationState::Requested { .. })
		);
		if !waiting || Instant::now() >= deadline {
			return Ok(None);
		}
		tokio::time::sleep(Duration::from_millis(250)).await;
	}
}
