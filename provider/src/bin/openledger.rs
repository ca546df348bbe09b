//! The contributor's command line.
//!
//! ```text
//! openledger contribute --datanet 0 --file data.jsonl --format json-lines --suri //Alice
//! openledger status --datanet 0 --contribution 3
//! ```

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use openledger_provider::{
	chain::Chain,
	client::HttpClient,
	contribute::{self, contribute, Contributed, Report, Request, Step},
	Open,
};
use openledger_runtime::Runtime;
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
		max_cost: Option<Open>,
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
			let request = Request {
				datanet,
				bytes,
				format: format.into(),
				endpoint,
				max_cost,
				wait: Duration::from_secs(wait),
			};
			// The contributor uploads where it chooses, its own machine included.
			let http = HttpClient::new(true);
			let json = cli.json;
			let done =
				contribute(&chain, &http, &signer, request, |step| {
					if json {
						return;
					}
					match step {
						Step::Committed { hash, commitment } => {
							println!("committed to {hash:?} as {commitment:?}")
						},
						Step::Uploaded { hash, size, endpoint } => println!(
							"uploaded {} ({size} bytes) as {hash:?} to {endpoint}",
							file.display()
						),
						Step::Contributed { contribution, block, job } => {
							println!("contribution {contribution} of datanet {datanet} in block {block:?}");
							match job {
								Some(j) => println!("validation job {j}"),
								None => println!("no validation job"),
							}
						},
					}
				})
				.await?;
			let Contributed { hash, contribution, job, report } = done;
			show(&chain, cli.json, datanet, contribution, Some(hash), job, report).await
		},
		Command::Status { datanet, contribution } => {
			show(&chain, cli.json, datanet, contribution, None, None, None).await
		},
	}
}

async fn show(
	chain: &Chain,
	json: bool,
	datanet: u32,
	contribution: u32,
	hash: Option<sp_core::H256>,
	job: Option<u64>,
	reported: Option<Report>,
) -> Result<()> {
	let key = pallet_datanets::Contributions::<Runtime>::hashed_key_for(datanet, contribution);
	let item: Option<pallet_datanets::ContributionOf<Runtime>> = chain.storage(&key).await?;
	let state = contribute::validation(chain, datanet, contribution).await?;
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
