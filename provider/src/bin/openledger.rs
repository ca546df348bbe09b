//! The command line of contributors, model builders and model users.
//!
//! ```text
//! openledger contribute --datanet 0 --file data.jsonl --format json-lines --suri //Alice
//! openledger status --datanet 0 --contribution 3
//! openledger train --base tiny-byte-gpt --source 0:0 --rank 8 --max-fee 50 --suri //Bob --wait
//! openledger model show 3
//! openledger model fetch 3 -o adapter/
//! openledger deposit 100 --provider http://10.0.0.7:9100 --suri //Bob
//! openledger key --provider http://10.0.0.7:9100 --model 3 --max 5 --expires 1d --suri //Bob
//! openledger complete --model 3 --key olk_… "Datanets are"
//! openledger infer --model 3 --prompt "Datanets are" --suri //Bob
//! openledger chat --model 3 --key olk_…
//! openledger rewards --account 5Grw…
//! openledger claim --suri //Alice
//! ```

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use openledger_provider::{
	chain::Chain,
	client::HttpClient,
	contribute::{self, contribute, Contributed, Report, Request, Step},
	inference, models, Open,
};
use openledger_runtime::Runtime;
use pallet_datanets::{DataFormat, ValidationState};
use sp_core::{crypto::Pair as _, sr25519};
use std::{path::PathBuf, time::Duration};

#[derive(Parser)]
#[command(version, about = "OpenLedger: contribute data to datanets and train models on them")]
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
	/// Holds OPEN on the signer's account to pay for inference with a provider
	/// (`pallet-inference`): only that provider's settlements take from it.
	Deposit {
		/// The amount, in OPEN.
		amount: Open,
		/// The provider: its account (SS58) or its registered endpoint.
		#[arg(long)]
		provider: String,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Withdraws prepaid OPEN from a provider: asks for `amount`, or with `--complete`
	/// completes a withdrawal asked for before, once its delay passed.
	Withdraw {
		/// The amount, in OPEN.
		amount: Option<Open>,
		#[arg(long, conflicts_with = "amount")]
		complete: bool,
		/// The provider: its account (SS58) or its registered endpoint.
		#[arg(long)]
		provider: String,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Signs an API key: a spending authorisation of the signer's prepaid OPEN for one provider
	/// on one to four models, at today's prices, for any OpenAI client's `Authorization: Bearer`.
	Key {
		/// The provider: its account (SS58) or its registered endpoint.
		#[arg(long)]
		provider: String,
		/// A model the key may be spent on; one to four.
		#[arg(long = "model", required = true)]
		models: Vec<u32>,
		/// The most the key may spend, in OPEN.
		#[arg(long)]
		max: Open,
		/// How long the key lives: `30m`, `12h`, `7d`, or a number of blocks.
		#[arg(long, default_value = "1d", value_parser = parse_lifetime)]
		expires: u32,
		/// Tells apart keys that are otherwise the same.
		#[arg(long, default_value_t = 0)]
		nonce: u64,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Revokes an API key: providers stop serving it at once; it settles what was served for
	/// the settlement window (an hour).
	Revoke {
		/// The API key (`olk_…`).
		#[arg(long)]
		key: String,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Completes a prompt, paying as it goes: deposits what the key needs if the prepaid funds
	/// fall short, signs a key for the provider, streams the answer and prints its fee.
	Infer {
		#[command(flatten)]
		ask: AskArgs,
		#[arg(long)]
		prompt: String,
		/// The most this key may spend, in OPEN.
		#[arg(long, default_value = "1")]
		max: Open,
		/// Waits up to this many seconds for the provider to settle the answer on chain.
		#[arg(long, default_value_t = 0)]
		wait_settled: u64,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// What an account may claim from paid inference: as a provider, a model's owner or the
	/// protocol pot, and as a contributor of the data of paid models.
	Rewards {
		/// The account (SS58); by default the signer's.
		#[arg(long)]
		account: Option<String>,
		#[command(flatten)]
		signer: OptionalSigner,
	},
	/// Claims everything `rewards` lists for the signer.
	Claim {
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Shows a contribution and its validation.
	Status {
		#[arg(long)]
		datanet: u32,
		#[arg(long)]
		contribution: u32,
	},
	/// Asks a provider to train a model on datanet versions, and follows the job.
	Train(TrainArgs),
	/// Reads and fetches trained models.
	#[command(subcommand)]
	Model(ModelCommand),
	/// Prints the attribution of a text under a model's published corpus index, as a provider
	/// serving the model computes it (the same as `openledger model attribute`).
	Attribute {
		#[arg(long)]
		model: u32,
		#[command(flatten)]
		args: AttributeArgs,
	},
	/// Completes a prompt with a published model, streaming the answer.
	Complete {
		#[command(flatten)]
		ask: AskArgs,
		/// The text to complete.
		prompt: String,
	},
	/// Chats with a published model: each line read is a message, each answer streams back.
	Chat {
		#[command(flatten)]
		ask: AskArgs,
		/// The system message; by default the model's template's.
		#[arg(long)]
		system: Option<String>,
	},
}

#[derive(clap::Args)]
struct SignerArgs {
	/// The signer's secret URI (mnemonic, hex seed or dev path such as //Alice).
	#[arg(long, conflicts_with = "key_file")]
	suri: Option<String>,
	/// A file holding the signer's secret URI.
	#[arg(long)]
	key_file: Option<PathBuf>,
}

#[derive(clap::Args)]
struct OptionalSigner {
	/// The signer's secret URI, to name its account.
	#[arg(long)]
	suri: Option<String>,
}

/// A lifetime in blocks, from `30m`, `12h`, `7d` or a number of blocks.
fn parse_lifetime(text: &str) -> Result<u32, String> {
	use openledger_runtime::time::{DAYS, HOURS, MINUTES};
	let (number, unit) = match text.char_indices().last() {
		Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], Some(c)),
		_ => (text, None),
	};
	let n: u32 = number.trim().parse().map_err(|_| format!("`{text}` is not a lifetime"))?;
	let per = match unit {
		None => 1,
		Some('m') => MINUTES,
		Some('h') => HOURS,
		Some('d') => DAYS,
		Some(other) => return Err(format!("`{other}` is not m, h or d")),
	};
	n.checked_mul(per).ok_or_else(|| format!("`{text}` is too long"))
}

#[derive(clap::Args)]
struct AskArgs {
	/// The API key (`openledger key` makes one).
	#[arg(long)]
	key: Option<String>,
	/// The model's id on chain, or an ensemble such as `3+5` or `0.7*3+0.3*5`.
	#[arg(long)]
	model: String,
	/// The provider's URL; by default the first registered provider that serves the model.
	#[arg(long)]
	provider: Option<String>,
	#[arg(long, default_value_t = 128)]
	max_tokens: u32,
	/// 0 is greedy decoding.
	#[arg(long, default_value_t = 0.0)]
	temperature: f32,
	#[arg(long, default_value_t = 1.0)]
	top_p: f32,
	#[arg(long)]
	seed: Option<u64>,
	/// Ends the answer before this text (up to four).
	#[arg(long)]
	stop: Vec<String>,
}

#[derive(clap::Args)]
struct TrainArgs {
	/// The base model, by name (`tiny-byte-gpt`, `SmolLM2-135M-Instruct`) or id.
	#[arg(long)]
	base: String,
	/// A datanet version as `datanet:version`; 1 to 8 of them.
	#[arg(long = "source", required = true, value_parser = parse_source)]
	sources: Vec<(u32, u32)>,
	/// The LoRA rank; `--full` trains every weight instead (tiny-byte-gpt only).
	#[arg(long, default_value_t = 8, conflicts_with = "full")]
	rank: u32,
	/// The LoRA alpha; by default twice the rank.
	#[arg(long)]
	alpha: Option<u32>,
	/// The modules the adapter targets, by PEFT name.
	#[arg(long, value_delimiter = ',', default_value = "q_proj,v_proj")]
	targets: Vec<String>,
	/// Train every weight rather than an adapter.
	#[arg(long)]
	full: bool,
	#[arg(long, default_value_t = 1)]
	epochs: u32,
	#[arg(long, default_value_t = 200)]
	max_steps: u32,
	/// The peak learning rate.
	#[arg(long, default_value_t = 0.003)]
	learning_rate: f64,
	#[arg(long, default_value_t = 10)]
	warmup_steps: u32,
	#[arg(long, default_value_t = 8)]
	batch_size: u32,
	#[arg(long, default_value_t = 64)]
	sequence_length: u32,
	/// The share of contributions held out for evaluation, in percent.
	#[arg(long, default_value_t = 10)]
	eval_percent: u32,
	#[arg(long, default_value_t = 0)]
	seed: u64,
	/// The most OPEN the provider may be paid.
	#[arg(long)]
	max_fee: Open,
	/// The model's name.
	#[arg(long, default_value = "model")]
	name: String,
	#[arg(long, default_value = "")]
	description: String,
	/// The builder's secret URI (mnemonic, hex seed or dev path such as //Bob).
	#[arg(long, conflicts_with = "key_file")]
	suri: Option<String>,
	/// A file holding the builder's secret URI.
	#[arg(long)]
	key_file: Option<PathBuf>,
	/// Follow the job until its model is registered, for up to this many seconds (600 without a
	/// value).
	#[arg(long, num_args = 0..=1, default_missing_value = "600")]
	wait: Option<u64>,
}

/// What attribution of a text needs beside the model.
#[derive(clap::Args)]
struct AttributeArgs {
	/// The text; `-` reads it from standard input.
	#[arg(long)]
	text: String,
	/// The prompt the text answered: with it, a model whose training published gradient
	/// features (tiny-byte-gpt's) is also attributed by gradient influence.
	#[arg(long)]
	prompt: Option<String>,
	/// Where the base model's weights file is, for a llama base's tokenizer ($MODEL_CACHE, or
	/// ~/.cache/openledger/models, where scripts/fetch-models.sh puts SmolLM2, by default).
	#[arg(long)]
	base_models_dir: Option<PathBuf>,
	/// The largest file (corpus index, features, adapter) fetched, in bytes: a model whose
	/// training recorded a larger one is refused rather than filling the disk.
	#[arg(long, default_value_t = 1 << 30)]
	max_bytes: u64,
}

#[derive(Subcommand)]
enum ModelCommand {
	/// Shows a model and its lineage down to the contributions.
	Show { model: u32 },
	/// Prints the attribution of a text under a model's published corpus index, as a provider
	/// serving the model computes it for an answer: the contributions whose data the text
	/// matches, with their contributors, weights and spans (also `openledger attribute --model`).
	Attribute {
		model: u32,
		#[command(flatten)]
		args: AttributeArgs,
	},
	/// Downloads a model's artifact from its provider and checks its hash.
	Fetch {
		model: u32,
		/// The directory to write into.
		#[arg(short, long)]
		out: PathBuf,
	},
	/// Lists the base models.
	Bases,
}

fn parse_source(text: &str) -> Result<(u32, u32), String> {
	let (datanet, version) =
		text.split_once(':').ok_or_else(|| format!("`{text}` is not datanet:version"))?;
	let number = |s: &str| s.trim().parse::<u32>().map_err(|_| format!("`{s}` is not a number"));
	Ok((number(datanet)?, number(version)?))
}

fn signer(suri: Option<String>, key_file: Option<PathBuf>) -> Result<sr25519::Pair> {
	let secret = match (suri, key_file) {
		(Some(s), _) => s,
		(None, Some(path)) => {
			std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
		},
		(None, None) => bail!("name the signer with --suri or --key-file"),
	};
	sr25519::Pair::from_string(secret.trim(), None)
		.map_err(|e| anyhow!("not a valid secret URI: {e:?}"))
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
			let signer = signer(suri, key_file)?;
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
		Command::Train(args) => train(&chain, cli.json, args).await,
		Command::Complete { ask: args, prompt } => {
			let (http, endpoint) = provider_for(&chain, &args).await?;
			let mut request = ask_request(&args);
			request["prompt"] = prompt.into();
			let mut text = String::new();
			let json = cli.json;
			let key = args.key.as_deref();
			let ended =
				inference::stream(&http, &endpoint, "/v1/completions", request, key, |piece| {
					text.push_str(piece);
					if !json {
						print!("{piece}");
						let _ = std::io::Write::flush(&mut std::io::stdout());
					}
				})
				.await?;
			if json {
				println!(
					"{}",
					serde_json::json!({
						"provider": endpoint, "text": text,
						"finish_reason": ended.finish_reason, "usage": ended.usage,
						"receipt": ended.receipt,
					})
				);
			} else {
				println!();
			}
			Ok(())
		},
		Command::Chat { ask: args, system } => chat(&chain, cli.json, args, system).await,
		Command::Deposit { amount, provider, signer: s } => {
			let signer = signer(s.suri, s.key_file)?;
			let (provider, _) = inference::provider_account(&chain, &provider).await?;
			let call =
				openledger_runtime::RuntimeCall::Inference(pallet_inference::Call::deposit {
					provider: provider.clone(),
					amount: amount.units(),
				});
			chain.submit(&signer, call).await?;
			print_prepaid(&chain, cli.json, &signer.public().into(), &provider).await
		},
		Command::Withdraw { amount, complete, provider, signer: s } => {
			let signer = signer(s.suri, s.key_file)?;
			let (provider, _) = inference::provider_account(&chain, &provider).await?;
			let call = match (amount, complete) {
				(Some(amount), _) => pallet_inference::Call::request_withdrawal {
					provider: provider.clone(),
					amount: amount.units(),
				},
				(None, true) => pallet_inference::Call::withdraw { provider: provider.clone() },
				(None, false) => bail!("name an amount, or --complete"),
			};
			chain.submit(&signer, openledger_runtime::RuntimeCall::Inference(call)).await?;
			print_prepaid(&chain, cli.json, &signer.public().into(), &provider).await
		},
		Command::Key { provider, models, max, expires, nonce, signer: s } => {
			let signer = signer(s.suri, s.key_file)?;
			let (account, _) = inference::provider_account(&chain, &provider).await?;
			let key = inference::make_key(
				&chain,
				&signer,
				&account,
				&models,
				max.units(),
				expires,
				nonce,
			)
			.await?;
			let text = openledger_provider::settlement::key_text(&key);
			if cli.json {
				let id = pallet_inference::Pallet::<Runtime>::key_id(&key.authorisation);
				println!(
					"{}",
					serde_json::json!({
						"key": text, "id": format!("{id:?}"), "expires": key.authorisation.expires,
						"models": key.authorisation.models.iter().map(|m| serde_json::json!({
							"model": m.model, "model_price": m.model_price.to_string(),
							"serving_price": m.serving_price.to_string(),
						})).collect::<Vec<_>>(),
					})
				);
			} else {
				println!("{text}");
			}
			Ok(())
		},
		Command::Revoke { key, signer: s } => {
			use codec::Decode;
			let signer = signer(s.suri, s.key_file)?;
			let bytes = openledger_provider::settlement::key_bytes(&key)
				.ok_or_else(|| anyhow!("not an API key: it starts with olk_, then hex"))?;
			let key = openledger_provider::settlement::Key::decode(&mut &bytes[..])
				.map_err(|e| anyhow!("not an API key: {e}"))?;
			let id = pallet_inference::Pallet::<Runtime>::key_id(&key.authorisation);
			let call = pallet_inference::Call::revoke { authorisation: key.authorisation };
			chain.submit(&signer, openledger_runtime::RuntimeCall::Inference(call)).await?;
			if cli.json {
				println!("{}", serde_json::json!({ "revoked": format!("{id:?}") }));
			} else {
				println!("revoked {id:?}");
			}
			Ok(())
		},
		Command::Infer { ask: args, prompt, max, wait_settled, signer: s } => {
			infer(&chain, cli.json, args, prompt, max, wait_settled, signer(s.suri, s.key_file)?)
				.await
		},
		Command::Rewards { account, signer: s } => {
			let account = match (account, s.suri) {
				(Some(a), _) => {
					use sp_core::crypto::Ss58Codec;
					openledger_runtime::AccountId::from_ss58check(&a)
						.map_err(|e| anyhow!("`{a}` is not an account: {e:?}"))?
				},
				(None, Some(suri)) => signer(Some(suri), None)?.public().into(),
				(None, None) => bail!("name the account with --account or --suri"),
			};
			let claimable = inference::claimable(&chain, &account).await?;
			if cli.json {
				println!("{}", serde_json::to_string(&claimable)?);
			} else {
				println!("rewards: {} OPEN", Open(claimable.rewards.parse().unwrap_or_default()));
				for (datanet, version, contribution, amount) in &claimable.contributions {
					println!(
						"contribution {contribution} of datanet {datanet}, version {version}: {} OPEN",
						Open(amount.parse().unwrap_or_default())
					);
				}
			}
			Ok(())
		},
		Command::Claim { signer: s } => {
			let signer = signer(s.suri, s.key_file)?;
			let account: openledger_runtime::AccountId = signer.public().into();
			let claimable = inference::claimable(&chain, &account).await?;
			let mut claimed: u128 = 0;
			if claimable.rewards != "0" {
				let call = pallet_inference::Call::claim_rewards { account: account.clone() };
				chain.submit(&signer, openledger_runtime::RuntimeCall::Inference(call)).await?;
				claimed += claimable.rewards.parse::<u128>().unwrap_or_default();
			}
			for (datanet, version, contribution, amount) in &claimable.contributions {
				let call = pallet_inference::Call::claim_contribution_rewards {
					datanet: *datanet,
					version: *version,
					contribution: *contribution,
				};
				chain.submit(&signer, openledger_runtime::RuntimeCall::Inference(call)).await?;
				claimed += amount.parse::<u128>().unwrap_or_default();
			}
			if cli.json {
				println!("{}", serde_json::json!({ "claimed": claimed.to_string() }));
			} else {
				println!("claimed {} OPEN", Open(claimed));
			}
			Ok(())
		},
		Command::Model(ModelCommand::Show { model }) => {
			let view = models::model_view(&chain, model).await?;
			if cli.json {
				println!("{}", serde_json::to_string(&view)?);
			} else {
				print_model(&view);
			}
			Ok(())
		},
		Command::Model(ModelCommand::Fetch { model, out }) => {
			// The provider's endpoint is whatever it registered, its own machine included.
			let http = HttpClient::new(true);
			let files = models::fetch_artifact(&chain, &http, model, &out).await?;
			if cli.json {
				println!("{}", serde_json::json!({ "model": model, "files": files }));
			} else {
				for file in files {
					println!("wrote {file}");
				}
			}
			Ok(())
		},
		Command::Model(ModelCommand::Attribute { model, args })
		| Command::Attribute { model, args } => {
			let AttributeArgs { text, prompt, base_models_dir, max_bytes } = args;
			let text = if text == "-" { std::io::read_to_string(std::io::stdin())? } else { text };
			let http = HttpClient::new(true);
			let scratch = tempfile::tempdir()?;
			let base_models_dir = base_models_dir.or_else(|| {
				std::env::var_os("MODEL_CACHE").map(PathBuf::from).or_else(|| {
					std::env::var_os("HOME")
						.map(|h| PathBuf::from(h).join(".cache/openledger/models"))
				})
			});
			let found = openledger_provider::attribution::attribute_model(
				&chain,
				&http,
				model,
				&text,
				prompt.as_deref(),
				base_models_dir.as_deref(),
				scratch.path(),
				max_bytes,
			)
			.await
			.map_err(|e| anyhow!(e))?;
			if cli.json {
				println!("{}", serde_json::to_string(&found)?);
			} else {
				print_attribution(&found);
			}
			Ok(())
		},
		Command::Model(ModelCommand::Bases) => {
			for (id, b) in models::base_models(&chain).await? {
				println!(
					"{id}: {} ({:?}, {} parameters, context {}, {:?}) weights {:?}",
					String::from_utf8_lossy(&b.name),
					b.architecture,
					b.parameters,
					b.context_length,
					b.status,
					b.weights.content_hash
				);
			}
			Ok(())
		},
	}
}

fn print_attribution(found: &openledger_provider::attribution::ModelAttribution) {
	use openledger_provider::attribution::{InfluenceOutcome, Outcome, Payee};
	let payees = |contributions: &[Payee]| {
		for c in contributions {
			println!(
				"  {:>6.2}%  datanet {} contribution {}  {}",
				f64::from(c.ppb) / 1e7,
				c.datanet,
				c.contribution,
				c.contributor
			);
		}
	};
	match &found.outcome {
		Outcome::Unavailable { error } => {
			println!("model {}: no attribution: {error}", found.model)
		},
		Outcome::Attributed { contributions, spans, method, corpus_index } => {
			println!("model {} (corpus index {corpus_index}), {method:?}", found.model);
			if contributions.is_empty() {
				println!("no span of the text occurs in the training data: no contribution named");
			}
			payees(contributions);
			for s in spans {
				let from: Vec<String> = s
					.contributions
					.iter()
					.map(|c| format!("{}/{}", c.datanet, c.contribution))
					.collect();
				println!("  [{}..{}] {:?} from {}", s.start, s.end, s.text, from.join(", "));
			}
		},
	}
	match &found.influence {
		None => {},
		Some(InfluenceOutcome::Unavailable { error }) => println!("no gradient influence: {error}"),
		Some(InfluenceOutcome::Attributed { features, contributions, .. }) => {
			println!("gradient influence (features {features}):");
			payees(contributions);
		},
	}
}

async fn train(chain: &Chain, json: bool, args: TrainArgs) -> Result<()> {
	use pallet_models::{Hyperparameters, Method, TargetModule};
	let base_model = models::base_model_by_name(chain, &args.base).await?;
	let method = if args.full {
		Method::Full
	} else {
		let targets = args
			.targets
			.iter()
			.map(|t| {
				[
					TargetModule::Query,
					TargetModule::Key,
					TargetModule::Value,
					TargetModule::Output,
					TargetModule::Gate,
					TargetModule::Up,
					TargetModule::Down,
				]
				.into_iter()
				.find(|m| m.peft_name() == t)
				.ok_or_else(|| anyhow!("`{t}` is not a LoRA target (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"))
			})
			.collect::<Result<Vec<_>>>()?;
		Method::Lora {
			rank: args.rank,
			alpha: args.alpha.unwrap_or(args.rank.saturating_mul(2)),
			targets: targets.try_into().map_err(|_| anyhow!("at most 7 targets"))?,
		}
	};
	let hyperparameters = Hyperparameters {
		method,
		epochs: args.epochs,
		max_steps: args.max_steps,
		learning_rate: (args.learning_rate * 1e6).round() as u32,
		warmup_steps: args.warmup_steps,
		batch_size: args.batch_size,
		sequence_length: args.sequence_length,
		eval_fraction: sp_runtime::Permill::from_percent(args.eval_percent),
		seed: args.seed,
	};
	let signer = signer(args.suri, args.key_file)?;
	let request = models::TrainRequest {
		base_model,
		sources: args.sources,
		hyperparameters,
		max_fee: args.max_fee.units(),
		name: args.name.into_bytes(),
		description: args.description.into_bytes(),
	};
	let (job, block) = models::request_training(chain, &signer, request).await?;
	if !json {
		println!("training job {job} requested in block {block:?}");
	}
	let Some(wait) = args.wait else {
		if json {
			println!("{}", serde_json::json!({ "job": job }));
		}
		return Ok(());
	};
	let http = HttpClient::new(true);
	let mut last = None;
	let model = models::wait_for_model(chain, &http, job, Duration::from_secs(wait), |p| {
		if json || last.as_ref() == Some(p) {
			return;
		}
		let bar = |done: u32, all: u32| {
			let filled = (done as usize * 30).checked_div(all as usize).unwrap_or(0).min(30);
			format!("[{}{}]", "#".repeat(filled), ".".repeat(30 - filled))
		};
		let mut line = format!("{:<10} {} {}/{}", p.phase, bar(p.step, p.steps), p.step, p.steps);
		if let Some(loss) = p.loss {
			line.push_str(&format!(" loss {loss:.3}"));
		}
		if let Some(rate) = p.tokens_per_second {
			line.push_str(&format!(" {rate:.0} tokens/s"));
		}
		if let Some(eta) = p.eta_seconds {
			line.push_str(&format!(" ETA {eta:.0} s"));
		}
		println!("{line}");
		last = Some(p.clone());
	})
	.await?;
	let view = models::model_view(chain, model).await?;
	if json {
		println!("{}", serde_json::json!({ "job": job, "model": view }));
	} else {
		println!("model {model} registered");
		print_model(&view);
	}
	Ok(())
}

fn print_model(v: &models::ModelView) {
	println!("model {}: {} ({})", v.id, v.name, v.status);
	println!("  owner     {}", v.owner);
	println!("  artifact  {} ({} bytes)", v.artifact, v.artifact_size);
	println!("  method    {}", v.method);
	println!(
		"  metrics   train loss {} -> {}, held-out loss {} (base) -> {} (trained), {} steps, {} tokens, {} ms",
		v.metrics["train_loss_first"],
		v.metrics["train_loss_last"],
		v.metrics["eval_loss_base"],
		v.metrics["eval_loss_trained"],
		v.metrics["steps"],
		v.metrics["tokens"],
		v.metrics["wall_time_ms"]
	);
	println!("  lineage");
	println!(
		"  ├─ base model {} {} ({}), weights {}",
		v.base_model["id"],
		v.base_model["name"],
		v.base_model["architecture"],
		v.base_model["weights"]
	);
	println!("  ├─ training job {} by provider {}, split seed {}", v.job, v.provider, v.split_seed);
	for (i, s) in v.sources.iter().enumerate() {
		let last = i + 1 == v.sources.len();
		println!(
			"  {} datanet {} version {} root {} ({} contributions)",
			if last { "└─" } else { "├─" },
			s.datanet,
			s.version,
			s.root,
			s.contributions.len()
		);
		for (j, c) in s.contributions.iter().enumerate() {
			println!(
				"  {}  {} #{} by {}: {} ({} bytes)",
				if last { " " } else { "│" },
				if j + 1 == s.contributions.len() { "└─" } else { "├─" },
				c.contribution,
				c.contributor,
				c.hash,
				c.size
			);
		}
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

/// The HTTP client and the endpoint of the provider that answers `args`.
async fn provider_for(chain: &Chain, args: &AskArgs) -> Result<(HttpClient, String)> {
	// A provider's endpoint is whatever it registered, its own machine included.
	let http = HttpClient::new(true);
	let endpoint = match &args.provider {
		Some(url) => url.trim_end_matches('/').to_string(),
		None => inference::find_provider(chain, &http, &args.model).await?,
	};
	Ok((http, endpoint))
}

/// Prints an account's prepaid funds.
async fn print_prepaid(
	chain: &Chain,
	json: bool,
	account: &openledger_runtime::AccountId,
	provider: &openledger_runtime::AccountId,
) -> Result<()> {
	type Funds = (Option<pallet_inference::Prepaid<u128, u32>>, u128);
	let (funds, available): Funds =
		chain.runtime_call("InferenceApi_prepaid", (account, provider)).await?;
	let held = funds.map_or(0, |f| f.held);
	let withdrawal = funds.and_then(|f| f.withdrawal);
	if json {
		println!(
			"{}",
			serde_json::json!({
				"held": held.to_string(), "available": available.to_string(),
				"withdrawal": withdrawal.map(|w| serde_json::json!({ "amount": w.amount.to_string(), "due": w.due })),
			})
		);
	} else {
		println!("prepaid: {} OPEN, {} available", Open(held), Open(available));
		if let Some(w) = withdrawal {
			println!("withdrawing {} OPEN from block {}", Open(w.amount), w.due);
		}
	}
	Ok(())
}

/// `openledger infer`: deposit if needed, a key for the provider, the answer, its fee.
async fn infer(
	chain: &Chain,
	json: bool,
	mut args: AskArgs,
	prompt: String,
	max: Open,
	wait_settled: u64,
	signer: sr25519::Pair,
) -> Result<()> {
	let (http, endpoint) = provider_for(chain, &args).await?;
	let user: openledger_runtime::AccountId = signer.public().into();
	if args.key.is_none() {
		let (provider, _) = inference::provider_account(chain, &endpoint).await?;
		type Funds = (Option<pallet_inference::Prepaid<u128, u32>>, u128);
		let (_, available): Funds =
			chain.runtime_call("InferenceApi_prepaid", (&user, &provider)).await?;
		if available < max.units() {
			let amount = max.units() - available;
			let call = pallet_inference::Call::deposit { provider: provider.clone(), amount };
			chain.submit(&signer, openledger_runtime::RuntimeCall::Inference(call)).await?;
			if !json {
				eprintln!("deposited {} OPEN for inference", Open(amount));
			}
		}
		let models: Vec<u32> =
			inference::spec_models(&args.model).filter_map(|id| id.parse().ok()).collect();
		let nonce = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map_or(0, |d| d.as_nanos() as u64);
		let lifetime = openledger_runtime::time::DAYS;
		let key =
			inference::make_key(chain, &signer, &provider, &models, max.units(), lifetime, nonce)
				.await?;
		args.key = Some(openledger_provider::settlement::key_text(&key));
	}
	let mut request = ask_request(&args);
	request["prompt"] = prompt.into();
	let mut text = String::new();
	let ended = inference::stream(
		&http,
		&endpoint,
		"/v1/completions",
		request,
		args.key.as_deref(),
		|piece| {
			text.push_str(piece);
			if !json {
				print!("{piece}");
				let _ = std::io::Write::flush(&mut std::io::stdout());
			}
		},
	)
	.await?;
	let receipt = ended.receipt.clone().unwrap_or_default();
	let mut settled = serde_json::Value::Null;
	if wait_settled > 0 {
		let key_id: sp_core::H256 = receipt["key"]
			.as_str()
			.and_then(|k| openledger_provider::chain::from_hex(k).ok())
			.filter(|b| b.len() == 32)
			.map(|b| sp_core::H256::from_slice(&b))
			.ok_or_else(|| anyhow!("the answer carries no receipt"))?;
		let last = receipt["seq"]
			.as_array()
			.and_then(|s| s.last())
			.and_then(|s| s.as_u64())
			.unwrap_or(0);
		let deadline = std::time::Instant::now() + Duration::from_secs(wait_settled);
		loop {
			let state: Option<pallet_inference::KeyState<u128, u32>> =
				chain.runtime_call("InferenceApi_key", key_id).await?;
			if let Some(state) = state.filter(|s| s.last_seq >= last) {
				let split = answer_split(chain, args.key.as_deref(), &receipt).await?;
				settled = serde_json::json!({
					"spent": state.spent.to_string(), "last_seq": state.last_seq, "split": split,
				});
				break;
			}
			if std::time::Instant::now() > deadline {
				bail!("the provider did not settle the answer within {wait_settled} s");
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}
	if json {
		println!(
			"{}",
			serde_json::json!({
				"provider": endpoint, "text": text, "finish_reason": ended.finish_reason,
				"usage": ended.usage, "receipt": receipt, "settled": settled, "key": args.key,
			})
		);
	} else {
		println!();
		let fee: u128 = receipt["fee"].as_str().and_then(|f| f.parse().ok()).unwrap_or(0);
		eprintln!("fee: {} OPEN", Open(fee));
		if !settled.is_null() {
			eprintln!(
				"settled on chain: the key spent {} OPEN in all",
				Open(settled["spent"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0))
			);
		}
	}
	Ok(())
}

/// Where an answer's fee went: each of its records split as settlement splits it (settlement
/// splits a batch's sum per model, which may differ from this by rounding's units).
async fn answer_split(
	chain: &Chain,
	key: Option<&str>,
	receipt: &serde_json::Value,
) -> Result<serde_json::Value> {
	use codec::Decode;
	let bytes = key
		.and_then(openledger_provider::settlement::key_bytes)
		.ok_or_else(|| anyhow!("no API key"))?;
	let key = openledger_provider::settlement::Key::decode(&mut &bytes[..])?;
	let share: sp_runtime::Perbill = chain.runtime_call("InferenceApi_protocol_share", ()).await?;
	let tokens = receipt["prompt_tokens"].as_u64().unwrap_or(0)
		+ receipt["completion_tokens"].as_u64().unwrap_or(0);
	let mut total = pallet_inference::Split::<u128>::default();
	let served: Vec<u64> = receipt["models"]
		.as_array()
		.into_iter()
		.flatten()
		.filter_map(|m| m.as_u64())
		.collect();
	for pinned in key.authorisation.models.iter().filter(|m| served.contains(&u64::from(m.model))) {
		let model: Option<pallet_models::ModelOf<Runtime>> =
			chain.runtime_call("ModelsApi_model", pinned.model).await?;
		let contributor_share = match model.map(|m| m.status) {
			Some(pallet_models::ModelStatus::Published { contributor_share, .. }) => {
				contributor_share
			},
			_ => continue,
		};
		let parts = pallet_inference::split(
			pallet_inference::fee_for(tokens, pinned.model_price),
			pallet_inference::fee_for(tokens, pinned.serving_price),
			share,
			contributor_share,
		);
		total.protocol += parts.protocol;
		total.provider += parts.provider;
		total.owner += parts.owner;
		total.contributors += parts.contributors;
	}
	Ok(serde_json::json!({
		"protocol": total.protocol.to_string(), "provider": total.provider.to_string(),
		"owner": total.owner.to_string(), "contributors": total.contributors.to_string(),
	}))
}

/// The fields of a request that `args` sets.
fn ask_request(args: &AskArgs) -> serde_json::Value {
	let mut request = serde_json::json!({
		"model": args.model,
		"max_tokens": args.max_tokens,
		"temperature": args.temperature,
		"top_p": args.top_p,
	});
	if let Some(seed) = args.seed {
		request["seed"] = seed.into();
	}
	if !args.stop.is_empty() {
		request["stop"] = args.stop.clone().into();
	}
	request
}

/// Reads messages from standard input, one a line, and streams each answer, keeping the
/// conversation.
async fn chat(chain: &Chain, json: bool, args: AskArgs, system: Option<String>) -> Result<()> {
	use std::io::{BufRead, Write};
	let (http, endpoint) = provider_for(chain, &args).await?;
	let mut messages: Vec<serde_json::Value> = Vec::new();
	if let Some(system) = system {
		messages.push(serde_json::json!({ "role": "system", "content": system }));
	}
	if !json {
		eprintln!("model {} at {endpoint}; a line is a message, end of input ends", args.model);
	}
	let stdin = std::io::stdin();
	let mut lines = stdin.lock().lines();
	loop {
		if !json {
			eprint!("> ");
		}
		let Some(line) = lines.next() else { break };
		let line = line.context("reading standard input")?;
		if line.trim().is_empty() {
			continue;
		}
		messages.push(serde_json::json!({ "role": "user", "content": line }));
		let mut request = ask_request(&args);
		request["messages"] = messages.clone().into();
		let mut answer = String::new();
		let key = args.key.as_deref();
		let ended =
			inference::stream(&http, &endpoint, "/v1/chat/completions", request, key, |piece| {
				answer.push_str(piece);
				if !json {
					print!("{piece}");
					let _ = std::io::stdout().flush();
				}
			})
			.await?;
		if json {
			println!(
				"{}",
				serde_json::json!({
					"content": answer, "finish_reason": ended.finish_reason, "usage": ended.usage,
				})
			);
		} else {
			println!();
		}
		messages.push(serde_json::json!({ "role": "assistant", "content": answer }));
	}
	Ok(())
}
