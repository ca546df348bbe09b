//! The OpenLedger node: a validator and full node of the OpenLedger appchain.

// The node returns Substrate's own `sc_cli::Error` and `sc_service::Error`, whose size is theirs,
// on paths taken once at start-up.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
