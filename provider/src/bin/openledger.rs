//! The contributor's command line.
//!
//! ```text
//! openledger contribute --datanet 0 --file data.jsonl --format json-lines --suri //Alice
//! openledger status --datanet 0 --contribution 3
//! ```

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use openledger_provider::{chain::Chain, client, store::content_hash};
use openledger_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent};
use pallet_datanets::{DataFormat, ValidationState};
use sp_core::{crypto::Pair as _, sr25519};
use std::{path::PathBuf, time::Duration};

#[derive(Parser)]
#[command(version, about = "OpenLedger: contribute data to datanets from the command line")]
struct Cli {
	/// The node's JSON-RPC endpoint.
	#[arg(long, global = true, default_value = "ws://127.0.0.1:9944")]
	rpc: String,
	/// Print one JSON object instead of text.
	#[arg(long, global = true)]
	json: bool,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Commits to a file, uploads it to the datanet's storage endpoint and contributes it.
	Contribute {
		#[arg(long)]
		datanet: u32,
		#[arg(long)]
		file: PathBuf,
		#[arg(long, value_enum)]
		format: Format,
		/// The contributor's secret URI (mnemonic, hex seed or dev path such as //Alice).
		#[arg(long, conflicts_with = "key_file")]
		suri: Option<String>,
		/// A file holding the contributor's secret URI.
		#[arg(long)]
		key_file: Option<PathBuf>,
		/// The storage endpoint to upload to; by default the datanet's first.
		#[arg(long)]
		endpoint: Option<String>,
		/// Wait up to this many seconds for the contribution's validation report.
		#[arg(long, default_value_t = 0)]
		wait: u64,
		/// The most OPEN the contribution may cost (deposit plus validation fee); by default what
		/// it costs when the command reads the datanet, so that a raise in the meantime fails it.
		#[arg(long)]
		max_cost: Option<String>,
	},
	/// Shows a contribution and its validation.
	Status {
		#[arg(long)]
		datanet: u32,
		#[arg(long)]
		contribution: u32,
	},
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
	Text,
	JsonLines,
	Csv,
	Json,
	Parquet,
	Png,
	Jpeg,
	Wav,
	Flac,
}

impl From<Format> for DataFormat {
	fn from(f: Format) -> Self {
		match f {
			Format::Text => DataFormat::PlainText,
			Format::JsonLines => DataFormat::JsonLines,
			Format::Csv => DataFormat::Csv,
			Format::Json => DataFormat::Json,
			Format::Parquet => DataFormat::Parquet,
			Format::Png => DataFormat::Png,
			Format::Jpeg => DataFormat::Jpeg,
			Format::Wav => DataFormat::Wav,
			Format::Flac => DataFormat::Flac,
		}
	}
}

/// What a contribution to `datanet` costs now: its deposit and, if it asks for validation, the
/// validation fee.
async fn current_cost(chain: &Chain, datanet: u32) -> Result<u128> {
	let key = pallet_datanets::Datanets::<Runtime>::hashed_key_for(datanet);
	let info: pallet_datanets::DatanetOf<Runtime> = chain
		.storage(&key)
		.await?
		.ok_or_else(|| anyhow!("there is no datanet {datanet}"))?;
	let key = pallet_datanets::DatanetServices::<Runtime>::hashed_key_for(datanet);
	let services: Option<pallet_datanets::ServicesOf<Runtime>> = chain.storage(&key).await?;
	let fee = services.and_then(|s| s.validation).map_or(0, |v| v.fee);
	Ok(info.rules.contribution_deposit.saturating_add(fee))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
	let cli = Cli::parse();
	match run(cli).await {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e:#}");
			std::process::ExitCode::FAILURE
		},
	}
}

async fn run(cli: Cli) -> Result<()> {
	let chain = Chain::connect(&cli.rpc).await?;
	match cli.command {
		Command::Contribute { datanet, file, format, suri, key_file, endpoint, wait, max_cost } => {
			let secret = match (suri, key_file) {
				(Some(s), _) => s,
				(None, Some(path)) => std::fs::read_to_string(&path)
					.with_context(|| format!("reading {}", path.display()))?,
				(None, None) => bail!("name the contributor with --suri or --key-file"),
			};
			let signer = sr25519::Pair::from_string(secret.trim(), None)
				.map_err(|e| anyhow!("not a valid secret URI: {e:?}"))?;
			let bytes =
				std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
			let hash = content_hash(&bytes);
			let size = bytes.len() as u64;
			let endpoint = match endpoint {
				Some(e) => e,
				None => {
					let key = pallet_datanets::DatanetServices::<Runtime>::hashed_key_for(datanet);
					let services: Option<pallet_datanets::ServicesOf<Runtime>> =
						chain.storage(&key).await?;
					let first = services.and_then(|s| s.endpoints.first().map(|e| e.to_vec()));
					String::from_utf8(first.ok_or_else(|| {
						anyhow!("datanet {datanet} names no storage endpoint; pass --endpoint")
					})?)?
				},
			};
			let max_cost = match max_cost {
				Some(text) => openledger_provider::parse_open(&text).context("--max-cost")?,
				None => current_cost(&chain, datanet).await?,
			};
			// First the commitment, which shows nothing of the bytes; only once it is on chain
			// do the bytes go public, so no one who sees them can contribute them first.
			let contributor: AccountId = signer.public().into();
			let commitment = pallet_datanets::commitment_of(&contributor, datanet, &hash);
			let commit = RuntimeCall::Datanets(pallet_datanets::Call::commit { commitment });
			chain.submit(&signer, commit).await.context("committing")?;
			if !cli.json {
				println!("committed to {hash:?} as {commitment:?}");
			}
			let url = format!(
				"{}/v1/blobs/{hash:?}?datanet={datanet}&contributor={contributor}",
				endpoint.trim_end_matches('/')
			);
			let uploaded = match client::send("PUT", &url, bytes).await {
				Ok((status, _)) if status.is_success() => Ok(()),
				Ok((status, answer)) => {
					Err(anyhow!("the storage endpoint refused the upload ({status}): {answer}"))
				},
				Err(e) => Err(e),
			};
			if let Err(e) = uploaded {
				// Nothing will be revealed: the commitment's deposit comes back.
				let withdraw = RuntimeCall::Datanets(pallet_datanets::Call::withdraw_commitment {
					commitment,
				});
				chain.submit(&signer, withdraw).await.context("withdrawing the commitment")?;
				return Err(e);
			}
			if !cli.json {
				println!("uploaded {} ({size} bytes) as {hash:?} to {endpoint}", file.display());
			}
			let call = RuntimeCall::Datanets(pallet_datanets::Call::contribute {
				datanet,
				content_hash: hash,
				size,
				format: format.into(),
				max_cost,
			});
			let included = chain.submit(&signer, call).await.context("contributing")?;
			let mut contribution = None;
			let mut job = None;
			for event in &included.events {
				match event {
					RuntimeEvent::Datanets(pallet_datanets::Event::Contributed {
						contribution: c,
						..
					}) => contribution = Some(*c),
					RuntimeEvent::Datanets(pallet_datanets::Event::ValidationRequested {
						job: j,
						..
					}) => job = Some(*j),
					_ => {},
				}
			}
			let contribution =
				contribution.ok_or_else(|| anyhow!("the block has no Contributed event"))?;
			if !cli.json {
				println!(
					"contribution {contribution} of datanet {datanet} in block {:?}",
					included.block
				);
				match job {
					Some(j) => println!("validation job {j}"),
					None => println!("no validation job"),
				}
			}
			// The report is in the chain's events; the state only while the contribution stays.
			let deadline = std::time::Instant::now() + Duration::from_secs(wait);
			let mut next = chain.block_number(included.block).await?;
			let mut reported = None;
			while job.is_some() && reported.is_none() {
				let best = chain.best_number().await?;
				while next <= best && reported.is_none() {
					if let Some(hash) = chain.block_hash(next).await? {
						reported =
							chain.events_at(hash).await?.into_iter().find_map(|(_, e)| match e {
								RuntimeEvent::Datanets(pallet_datanets::Event::Validated {
									datanet: d,
									contribution: c,
									outcome,
									score,
									reason,
								}) if d == datanet && c == contribution => Some(Reported {
									outcome: format!("{outcome:?}"),
									score,
									reason: String::from_utf8_lossy(&reason).into_owned(),
									block: next,
								}),
								_ => None,
							});
					}
					next += 1;
				}
				let state = validation(&chain, datanet, contribution).await?;
				let waiting = matches!(state, Some(ValidationState::Requested { .. }));
				if reported.is_some() || !waiting || std::time::Instant::now() >= deadline {
					break;
				}
				tokio::time::sleep(Duration::from_millis(250)).await;
			}
			show(&chain, cli.json, datanet, contribution, Some(hash), job, reported).await
		},
		Command::Status { datanet, contribution } => {
			show(&chain, cli.json, datanet, contribution, None, None, None).await
		},
	}
}

async fn validation(
	chain: &Chain,
	datanet: u32,
	contribution: u32,
) -> Result<Option<ValidationState<u32>>> {
	let key = pallet_datanets::Validations::<Runtime>::hashed_key_for(datanet, contribution);
	chain.storage(&key).await
}

/// A validation report found in the events.
struct Reported {
	outcome: String,
	score: u8,
	reason: String,
	block: u32,
}

async fn show(
	chain: &Chain,
	json: bool,
	datanet: u32,
	contribution: u32,
	hash: Option<sp_core::H256>,
	job: Option<u64>,
	reported: Option<Reported>,
) -> Result<()> {
	let key = pallet_datanets::Contributions::<Runtime>::hashed_key_for(datanet, contribution);
	let item: Option<pallet_datanets::ContributionOf<Runtime>> = chain.storage(&key).await?;
	let state = validation(chain, datanet, contribution).await?;
	let status = match &item {
		None => "removed (rejected or withdrawn)".to_string(),
		Some(c) => match &c.status {
			pallet_datanets::ContributionStatus::Pending { approvals, rejections } => {
				format!("pending ({} approvals, {} rejections)", approvals.len(), rejections.len())
			},
			pallet_datanets::ContributionStatus::Accepted { position, .. } => {
				format!("accepted at position {position}")
			},
			pallet_datanets::ContributionStatus::Slashed { reason, .. } => {
				format!("slashed ({reason:?})")
			},
		},
	};
	let (validation_text, outcome, score, reason) = match (&state, reported) {
		// A contribution rejected on its report keeps no state: the event tells.
		(None, Some(r)) => (
			format!("{}, score {} at block {}: {}", r.outcome, r.score, r.block, r.reason),
			Some(r.outcome),
			Some(r.score),
			Some(r.reason),
		),
		(None, None) => ("none".to_string(), None, None, None),
		(Some(ValidationState::Requested { job }), _) => {
			(format!("waiting for job {job}"), None, None, None)
		},
		(Some(ValidationState::Unavailable), _) => ("unavailable".to_string(), None, None, None),
		(Some(ValidationState::Done { report, at }), _) => {
			let reason = String::from_utf8_lossy(&report.reason).into_owned();
			(
				format!("{:?}, score {} at block {at}: {reason}", report.outcome, report.score),
				Some(format!("{:?}", report.outcome)),
				Some(report.score),
				Some(reason),
			)
		},
	};
	let hash = hash.or(item.as_ref().map(|c| c.content_hash));
	if json {
		println!(
			"{}",
			serde_json::json!({
				"datanet": datanet,
				"contribution": contribution,
				"hash": hash.map(|h| format!("{h:?}")),
				"job": job,
				"status": status,
				"validation": validation_text,
				"outcome": outcome,
				"score": score,
				"reason": reason,
			})
		);
	} else {
		println!("status: {status}");
		println!("validation: {validation_text}");
	}
	Ok(())
}
