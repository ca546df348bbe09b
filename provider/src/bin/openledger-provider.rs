//! The compute-provider daemon: `openledger-provider --config provider.toml`.

use clap::Parser;
use openledger_provider::config::{Config, LogFormat};
use std::path::PathBuf;

/// Runs an OpenLedger compute provider: registers it on chain, serves its HTTP API and blob
/// store, and executes the jobs the chain assigns to it.
#[derive(Parser)]
#[command(version)]
struct Args {
	/// The TOML configuration file.
	#[arg(long, short)]
	config: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
	let args = Args::parse();
	let config = match Config::load(&args.config) {
		Ok(config) => config,
		Err(e) => {
			eprintln!("error: {:#}", anyhow::Error::from(e));
			return std::process::ExitCode::from(2);
		},
	};
	let filter = tracing_subscriber::EnvFilter::try_from_default_env()
		.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
	match config.log_format {
		LogFormat::Json => tracing_subscriber::fmt().json().with_env_filter(filter).init(),
		LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
	}
	match openledger_provider::daemon::run(config).await {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			tracing::error!(error = %format!("{:#}", anyhow::Error::from(e)), "the daemon stopped");
			std::process::ExitCode::FAILURE
		},
	}
}
