//! The OpenLedger node: a validator and full node of the OpenLedger appchain.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
