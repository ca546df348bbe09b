//! The daemon's configuration, read from a TOML file.
//!
//! ```toml
//! chain_rpc = "ws://127.0.0.1:9944"   # the node's JSON-RPC
//! key_file = "provider.key"           # a secret URI: a mnemonic, a hex seed or a dev path like //Alice
//! listen = "127.0.0.1:9100"           # where the HTTP API listens
//! public_url = "http://127.0.0.1:9100" # the endpoint registered on chain
//! data_dir = "provider-data"          # the blob store lives in {data_dir}/blobs
//! bond = "1000"                       # OPEN held as bond when registering
//! max_blob_bytes = 67108864           # the largest blob accepted or fetched
//! poll_interval_ms = 2000             # how often the chain is checked for jobs besides notifications
//! log_format = "json"                 # or "text"
//!
//! [hardware]
//! cpu_cores = 2
//! memory_mib = 4096
//! gpus = 0
//! gpu_memory_mib = 0
//!
//! concurrency = 4                     # jobs run at once
//!
//! [[offers]]
//! kind = "contribution-validation"    # or "training", "inference"
//! price = "0.5"                       # OPEN per job
//! ```

use anyhow::{Context, Result};
use pallet_compute::JobKind;
use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
	pub chain_rpc: String,
	pub key_file: PathBuf,
	pub listen: SocketAddr,
	pub public_url: String,
	pub data_dir: PathBuf,
	pub bond: String,
	#[serde(default = "default_max_blob_bytes")]
	pub max_blob_bytes: u64,
	#[serde(default = "default_poll_interval_ms")]
	pub poll_interval_ms: u64,
	#[serde(default)]
	pub log_format: LogFormat,
	#[serde(default = "default_concurrency")]
	pub concurrency: u32,
	#[serde(default)]
	pub hardware: Hardware,
	pub offers: Vec<OfferConfig>,
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
	/// OPEN per job, in decimal.
	pub price: String,
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

fn default_max_blob_bytes() -> u64 {
	64 << 20
}
fn default_poll_interval_ms() -> u64 {
	2_000
}
fn default_concurrency() -> u32 {
	4
}

impl Config {
	/// Reads and checks a configuration file; relative paths in it are taken from the file's
	/// directory.
	pub fn load(path: &std::path::Path) -> Result<Self> {
		let text = std::fs::read_to_string(path)
			.with_context(|| format!("reading the configuration {}", path.display()))?;
		let mut config: Config = toml::from_str(&text)
			.with_context(|| format!("parsing the configuration {}", path.display()))?;
		let base = path.parent().unwrap_or_else(|| std::path::Path::new("."));
		config.key_file = base.join(&config.key_file);
		config.data_dir = base.join(&config.data_dir);
		config.check()?;
		Ok(config)
	}

	fn check(&self) -> Result<()> {
		crate::parse_open(&self.bond).context("`bond`")?;
		anyhow::ensure!(
			self.public_url.starts_with("http://") || self.public_url.starts_with("https://"),
			"`public_url` must be an http:// or https:// URL"
		);
		anyhow::ensure!(self.concurrency > 0, "`concurrency` must be at least 1");
		anyhow::ensure!(!self.offers.is_empty(), "`offers` must name at least one job kind");
		for offer in &self.offers {
			crate::parse_open(&offer.price)
				.with_context(|| format!("price of {:?}", offer.kind))?;
		}
		Ok(())
	}

	/// The bond in OPEN's smallest units.
	pub fn bond(&self) -> u128 {
		crate::parse_open(&self.bond).unwrap_or_default()
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
				.map(|o| pallet_compute::Offer {
					kind: o.kind.into(),
					price: crate::parse_open(&o.price).unwrap_or_default(),
				})
				.collect(),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const EXAMPLE: &str = r#"
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
		std::fs::write(&path, EXAMPLE).unwrap();
		let config = Config::load(&path).unwrap();
		assert_eq!(config.key_file, dir.path().join("key"));
		assert_eq!(config.bond(), 1000 * crate::OPEN);
		let input = config.provider_input();
		assert_eq!(input.endpoint, b"http://127.0.0.1:9100".to_vec());
		assert_eq!(input.offers[0].price, crate::OPEN / 2);
		assert_eq!(input.concurrency, 2);
		assert_eq!(config.log_format, LogFormat::Json);
	}

	#[test]
	fn refuses_bad_files() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("provider.toml");
		for (bad, why) in [
			(EXAMPLE.replace("1000", "lots"), "`bond`"),
			(EXAMPLE.replace("concurrency = 2", "concurrency = 0"), "concurrency"),
			(EXAMPLE.replace("contribution-validation", "mining"), "unknown variant"),
			(EXAMPLE.replace("http://127.0.0.1:9100/", "127.0.0.1"), "public_url"),
			(format!("{EXAMPLE}\nsurprise = 1"), "unknown field"),
		] {
			std::fs::write(&path, bad).unwrap();
			let error = format!("{:#}", Config::load(&path).unwrap_err());
			assert!(error.contains(why), "{error}");
		}
	}
}
