//! # OpenLedger compute provider
//!
//! The daemon a compute provider runs next to an OpenLedger node, and the library the
//! contributor command line shares with it.
//!
//! - [`config`]: the daemon's TOML configuration.
//! - [`chain`]: a chain client over JSON-RPC: reads storage, signs and submits extrinsics with
//!   the runtime's own types, and reports their outcome from the block's events.
//! - [`batch`]: puts the job loop's many calls into few `utility.force_batch` transactions.
//! - [`store`]: the content-addressed blob store: the key of a blob is the blake2-256 hash of its
//!   bytes, checked on upload and on every read.
//! - [`validate`]: the contribution-validation job: hash, size and format checks and the score.
//! - [`server`]: the HTTP API (blob upload and download, status).
//! - [`daemon`]: registration, the job loop (new blocks and a poll find the jobs; accept,
//!   execute, submit), restart and shutdown.
//!
//! ## HTTP API
//!
//! | method and path | what it does |
//! |---|---|
//! | `PUT /v1/blobs/0x{hash}` | store the body if its blake2-256 hash is `hash`; 201, or 400 / 413 |
//! | `GET /v1/blobs/0x{hash}` | the bytes, checked against the hash; 404 if absent |
//! | `GET /v1/status` | the provider's account and its jobs with their timings |

pub mod batch;
pub mod chain;
pub mod client;
pub mod config;
pub mod daemon;
pub mod server;
pub mod store;
pub mod validate;

/// The smallest units of OPEN in one OPEN.
pub const OPEN: u128 = 1_000_000_000_000_000_000;

/// Parses an amount of OPEN written in decimal, such as `1000` or `0.25`, into its smallest
/// units.
pub fn parse_open(text: &str) -> anyhow::Result<u128> {
	let text = text.trim();
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	anyhow::ensure!(
		!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()),
		"`{text}` is not an amount of OPEN"
	);
	anyhow::ensure!(
		fraction.len() <= 18 && fraction.bytes().all(|b| b.is_ascii_digit()),
		"`{text}` has more than 18 decimals or is not a number"
	);
	let whole: u128 = whole.parse()?;
	let fraction: u128 =
		if fraction.is_empty() { 0 } else { format!("{fraction:0<18}").parse()? };
	whole
		.checked_mul(OPEN)
		.and_then(|w| w.checked_add(fraction))
		.ok_or_else(|| anyhow::anyhow!("`{text}` is too large"))
}

/// Writes an amount in smallest units as OPEN, e.g. `1.5 OPEN`.
pub fn format_open(amount: u128) -> String {
	let fraction = amount % OPEN;
	if fraction == 0 {
		return format!("{} OPEN", amount / OPEN);
	}
	let digits = format!("{fraction:018}");
	format!("{}.{} OPEN", amount / OPEN, digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn open_amounts_parse_and_print() {
		assert_eq!(parse_open("1000").unwrap(), 1000 * OPEN);
		assert_eq!(parse_open("0.25").unwrap(), OPEN / 4);
		assert_eq!(parse_open("1.000000000000000001").unwrap(), OPEN + 1);
		assert!(parse_open("1.0000000000000000001").is_err());
		assert!(parse_open("-1").is_err());
		assert!(parse_open("").is_err());
		assert!(parse_open("1e3").is_err());
		assert_eq!(format_open(OPEN + OPEN / 2), "1.5 OPEN");
		assert_eq!(format_open(3 * OPEN), "3 OPEN");
	}
}
