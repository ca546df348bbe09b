//! The daemon's configuration, read from a TOML file.
//!
//! [`EXAMPLE`] (`provider/provider.example.toml`) documents every field; a test loads it.
//!
//! The daemon offers only the job kinds it runs ([`RUNNABLE`]): a configuration that offers
//! another kind is refused, since every job of that kind assigned to it would fail.

use crate::amount::Open;
use pallet_compute::JobKind;
use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf};

/// The documented example configuration.
pub const EXAMPLE: &str = include_str!("../provider.example.toml");

/// The job kinds this daemon runs.
pub const RUNNABLE: [KindConfig; 2] = [KindConfig::ContributionValidation, KindConfig::Training];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
	pub chain_rpc: String,
	pub key_file: PathBuf,
	pub listen: SocketAddr,
	pub public_url: String,
	pub data_dir: PathBuf,
	pub bond: Open,
	#[serde(default = "default_max_blob_bytes")]
	pub max_blob_bytes: u64,
	/// The most bytes the blob store holds in all.
	#[serde(default = "default_max_store_bytes")]
	pub max_store_bytes: u64,
	#[serde(default = "default_poll_interval_ms")]
	pub poll_interval_ms: u64,
	/// How long a blob uploaded on a commitment alone may wait for its contribution: once its
	/// commitment is withdrawn and this has passed, the blob is removed.
	#[serde(default = "default_claim_grace_secs")]
	pub claim_grace_secs: u64,
	#[serde(default)]
	pub log_format: LogFormat,
	/// Whether datanets' storage endpoints on loopback or private addresses are fetched from
	/// (for a network on one machine or a private network); by default only public addresses
	/// are, so that no datanet can make the provider reach into its own network.
	#[serde(default)]
	pub allow_private_storage: bool,
	#[serde(default = "default_concurrency")]
	pub concurrency: u32,
	/// A directory of base model weights files (SmolLM2's GGUF, from `scripts/fetch-models.sh`):
	/// training jobs on a llama base model find its weights here by the hash the chain registers.
	/// Without it, such jobs are given up.
	#[serde(default)]
	pub base_models_dir: Option<PathBuf>,
	#[serde(default)]
	pub hardware: Hardware,
	pub offers: Vec<OfferConfig>,
	/// OpenLoRA serving of published models; off without this section.
	#[serde(default)]
	pub serving: Option<ServingConfig>,
}

/// What the OpenAI-compatible server serves, and its limits (see [`crate::serving`]).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServingConfig {
	/// The base models served, by their name on chain (`SmolLM2-135M-Instruct`,
	/// `tiny-byte-gpt`): every published adapter on them is served. A llama base's weights are
	/// found in `base_models_dir` by the hash the chain registers.
	pub base_models: Vec<String>,
	/// The serving price per 1,000 tokens, in OPEN, that the daemon offers on chain for each
	/// base model (`pallet-inference`'s offers); users pay it besides each model's own price.
	#[serde(default)]
	pub price_per_1k_tokens: Open,
	/// How often served inferences are settled on chain, in seconds; sooner when
	/// `settle_batch` of them wait.
	#[serde(default = "default_settle_interval")]
	pub settle_interval_secs: u64,
	/// Served inferences that start a settlement at once.
	#[serde(default = "default_settle_batch")]
	pub settle_batch: usize,
	/// Adapters held in memory at once, per base model.
	#[serde(default = "default_max_adapters")]
	pub max_adapters: usize,
	/// Bytes of adapters held in memory at once, per base model.
	#[serde(default = "default_max_adapter_bytes")]
	pub max_adapter_bytes: usize,
	/// Requests decoded together (the batch), per base model.
	#[serde(default = "default_max_running")]
	pub max_running: usize,
	/// Requests waiting, per base model; beyond, 429 with `Retry-After`.
	#[serde(default = "default_max_queued")]
	pub max_queued: usize,
	/// The longest prompt, in tokens; beyond, 413.
	#[serde(default = "default_max_prompt_tokens")]
	pub max_prompt_tokens: usize,
	/// The largest `max_tokens`.
	#[serde(default = "default_max_tokens")]
	pub max_tokens: usize,
	/// Distinct adapters (or ensembles) in one batch.
	#[serde(default = "default_max_adapter_sets")]
	pub max_adapter_sets: usize,
	/// Prompt tokens of one request prefilled per step.
	#[serde(default = "default_prefill_chunk")]
	pub prefill_chunk: usize,
	/// The KV cache of each base model, in MiB.
	#[serde(default = "default_kv_cache_mib")]
	pub kv_cache_mib: usize,
	/// How a llama base's projections are held: `q8_0` (the GGUF's blocks requantized to 8 bits,
	/// the fastest on the CPU), `quantized` (the GGUF's own blocks) or `f32`.
	#[serde(default)]
	pub precision: Precision,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
	#[default]
	#[serde(rename = "q8_0")]
	Q8_0,
	Quantized,
	F32,
}

fn default_settle_interval() -> u64 {
	30
}

fn default_settle_batch() -> usize {
	4_096
}

fn default_max_adapters() -> usize {
	64
}
fn default_max_adapter_bytes() -> usize {
	512 << 20
}
fn default_max_running() -> usize {
	32
}
fn default_max_queued() -> usize {
	256
}
fn default_max_prompt_tokens() -> usize {
	2048
}
fn default_max_tokens() -> usize {
	512
}
fn default_max_adapter_sets() -> usize {
	16
}
fn default_prefill_chunk() -> usize {
	512
}
fn default_kv_cache_mib() -> usize {
	512
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
	#[default]
	Json,
	Text,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
	#[serde(default)]
	pub cpu_cores: u32,
	#[serde(default)]
	pub memory_mib: u32,
	#[serde(default)]
	pub gpus: u32,
	#[serde(default)]
	pub gpu_memory_mib: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferConfig {
	pub kind: KindConfig,
	/// OPEN per job.
	pub price: Open,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum KindConfig {
	ContributionValidation,
	Training,
	Inference,
}

impl From<KindConfig> for JobKind {
	fn from(kind: KindConfig) -> Self {
		match kind {
			KindConfig::ContributionValidation => JobKind::ContributionValidation,
			KindConfig::Training => JobKind::Training,
			KindConfig::Inference => JobKind::Inference,
		}
	}
}

/// The machine's memory in MiB (`MemTotal` of `/proc/meminfo`): what a configuration that
/// declares none registers, and what its training jobs share. 4 GiB where it cannot be read.
pub fn machine_memory_mib() -> u32 {
	let kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
		let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
		line.split_whitespace().nth(1)?.parse::<u64>().ok()
	});
	kib.map_or(4_096, |kib| u32::try_from(kib / 1024).unwrap_or(u32::MAX))
}

fn default_max_blob_bytes() -> u64 {
	64 << 20
}
fn default_max_store_bytes() -> u64 {
	10 << 30
}
fn default_poll_interval_ms() -> u64 {
	2_000
}
fn default_claim_grace_secs() -> u64 {
	60
}
fn default_concurrency() -> u32 {
	4
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
	#[error("reading the configuration {path}")]
	Read { path: PathBuf, source: std::io::Error },
	#[error("parsing the configuration {path}")]
	Parse { path: PathBuf, source: toml::de::Error },
	#[error("`public_url` must be an http:// or https:// URL")]
	PublicUrl,
	#[error("`concurrency` must be at least 1")]
	ZeroConcurrency,
	#[error("`offers` must name at least one job kind")]
	NoOffers,
	#[error("`offers` names {0:?}, which this daemon does not run (it runs {RUNNABLE:?})")]
	NotRunnable(KindConfig),
	#[error("`serving.{0}` must be at least 1")]
	ZeroServingLimit(&'static str),
	#[error("`serving.base_models` must name at least one base model")]
	NoServedBase,
	#[error("`max_store_bytes` ({store}) must exceed `concurrency` times `max_blob_bytes` ({own}): that much is kept for the artifacts of the jobs that run at once")]
	StoreTooSmall { store: u64, own: u64 },
}

impl Config {
	/// Reads and checks a configuration file; relative paths in it are taken from the file's
	/// directory.
	pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
		let text = std::fs::read_to_string(path)
			.map_err(|source| ConfigError::Read { path: path.into(), source })?;
		let mut config: Config = toml::from_str(&text)
			.map_err(|source| ConfigError::Parse { path: path.into(), source })?;
		let base = path.parent().unwrap_or_else(|| std::path::Path::new("."));
		config.key_file = base.join(&config.key_file);
		config.data_dir = base.join(&config.data_dir);
		config.base_models_dir = config.base_models_dir.map(|dir| base.join(dir));
		if config.hardware.memory_mib == 0 {
			config.hardware.memory_mib = machine_memory_mib();
		}
		config.check()?;
		Ok(config)
	}

	fn check(&self) -> Result<(), ConfigError> {
		if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
			return Err(ConfigError::PublicUrl);
		}
		if self.concurrency == 0 {
			return Err(ConfigError::ZeroConcurrency);
		}
		if self.offers.is_empty() {
			return Err(ConfigError::NoOffers);
		}
		if self.own_store_bytes() >= self.max_store_bytes {
			return Err(ConfigError::StoreTooSmall {
				store: self.max_store_bytes,
				own: self.own_store_bytes(),
			});
		}
		if let Some(serving) = &self.serving {
			if serving.base_models.is_empty() {
				return Err(ConfigError::NoServedBase);
			}
			for (name, value) in [
				("max_adapters", serving.max_adapters),
				("max_adapter_bytes", serving.max_adapter_bytes),
				("max_running", serving.max_running),
				("max_queued", serving.max_queued),
				("max_prompt_tokens", serving.max_prompt_tokens),
				("max_tokens", serving.max_tokens),
				("max_adapter_sets", serving.max_adapter_sets),
				("prefill_chunk", serving.prefill_chunk),
				("kv_cache_mib", serving.kv_cache_mib),
				("settle_interval_secs", serving.settle_interval_secs as usize),
				("settle_batch", serving.settle_batch),
			] {
				if value == 0 {
					return Err(ConfigError::ZeroServingLimit(name));
				}
			}
		}
		match self.offers.iter().find(|o| !RUNNABLE.contains(&o.kind)) {
			Some(offer) => Err(ConfigError::NotRunnable(offer.kind)),
			None => Ok(()),
		}
	}

	/// The part of the blob store kept for the provider's own results: an artifact of the
	/// largest size for each job that may run at once.
	pub fn own_store_bytes(&self) -> u64 {
		self.max_blob_bytes.saturating_mul(u64::from(self.concurrency))
	}

	/// The declaration registered on chain.
	pub fn provider_input(&self) -> pallet_compute::ProviderInput<u128> {
		pallet_compute::ProviderInput {
			endpoint: self.public_url.trim_end_matches('/').as_bytes().to_vec(),
			hardware: pallet_compute::Hardware {
				cpu_cores: self.hardware.cpu_cores,
				memory_mib: self.hardware.memory_mib,
				gpus: self.hardware.gpus,
				gpu_memory_mib: self.hardware.gpu_memory_mib,
			},
			concurrency: self.concurrency,
			offers: self
				.offers
				.iter()
				.map(|o| pallet_compute::Offer { kind: o.kind.into(), price: o.price.units() })
				.collect(),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const MINIMAL: &str = r#"
chain_rpc = "ws://127.0.0.1:9944"
key_file = "key"
listen = "127.0.0.1:9100"
public_url = "http://127.0.0.1:9100/"
data_dir = "data"
bond = "1000"
concurrency = 2
[hardware]
cpu_cores = 2
[[offers]]
kind = "contribution-validation"
price = "0.5"
"#;

	#[test]
	fn parses_the_example_and_resolves_paths() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("provider.toml");
		std::fs::write(&path, MINIMAL).unwrap();
		let config = Config::load(&path).unwrap();
		assert_eq!(config.key_file, dir.path().join("key"));
		assert_eq!(config.bond, Open(1000 * crate::OPEN));
		let input = config.provider_input();
		assert_eq!(input.endpoint, b"http://127.0.0.1:9100".to_vec());
		assert_eq!(input.offers[0].price, crate::OPEN / 2);
		assert_eq!(input.concurrency, 2);
		assert_eq!(config.log_format, LogFormat::Json);
	}

	#[test]
	fn a_configuration_without_memory_declares_and_shares_the_machines_not_unlimited() {
		// Zero would let training jobs reserve memory without bound; the machine's is the limit.
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("provider.toml");
		std::fs::write(&path, MINIMAL).unwrap();
		let config = Config::load(&path).unwrap();
		let machine = machine_memory_mib();
		assert!(machine > 0);
		assert_eq!(config.hardware.memory_mib, machine);
		assert_eq!(config.provider_input().hardware.memory_mib, machine);
		std::fs::write(&path, MINIMAL.replace("cpu_cores = 2", "cpu_cores = 2\nmemory_mib = 0"))
			.unwrap();
		assert_eq!(Config::load(&path).unwrap().hardware.memory_mib, machine);
	}

	#[test]
	fn the_documented_example_loads() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("provider.toml");
		std::fs::write(&path, super::EXAMPLE).unwrap();
		let config = Config::load(&path).unwrap();
		assert_eq!(config.concurrency, 4);
		assert_eq!(config.hardware.memory_mib, 4096);
		assert_eq!(config.key_file, dir.path().join("provider.key"));
		let kinds: Vec<_> = config.offers.iter().map(|o| o.kind).collect();
		assert_eq!(kinds, vec![KindConfig::ContributionValidation, KindConfig::Training]);
	}

	#[test]
	fn refuses_bad_files() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("provider.toml");
		for (bad, why) in [
			(MINIMAL.replace("1000", "lots"), "`lots` is not an amount of OPEN"),
			(MINIMAL.replace("concurrency = 2", "concurrency = 0"), "concurrency"),
			(MINIMAL.replace("contribution-validation", "mining"), "unknown variant"),
			(MINIMAL.replace("http://127.0.0.1:9100/", "127.0.0.1"), "public_url"),
			(format!("{MINIMAL}\nsurprise = 1"), "unknown field"),
			(MINIMAL.replace("contribution-validation", "inference"), "does not run"),
			// Two jobs' artifacts of 64 MiB would leave uploads no room at all.
			(
				MINIMAL.replace("concurrency = 2", "concurrency = 2\nmax_store_bytes = 134217728"),
				"must exceed `concurrency` times `max_blob_bytes` (134217728)",
			),
		] {
			std::fs::write(&path, bad).unwrap();
			let error = Config::load(&path).unwrap_err();
			// The whole chain of causes, as the daemon logs it.
			let error = anyhow::Error::new(error);
			let error = format!("{error:#}");
			assert!(error.contains(why), "{error}");
		}
	}
}
