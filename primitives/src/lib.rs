//! What OpenLedger's pallets share without depending on each other.
//!
//! - [`jobs`]: the job market's interface. `pallet-compute` implements [`JobMarket`] and runs the
//!   jobs; a pallet that needs off-chain work (datanets' validation, the model registry's training)
//!   asks for it through [`JobMarket`] and receives the outcome through [`JobConsumer`], so it
//!   depends on this interface and not on the market's pallet.
//! - [`datanets`]: what the model registry reads of datanets' versions, and how training pays
//!   a datanet's access fee to its contributors ([`DatanetAccess`], implemented by
//!   `pallet-datanets`).
//! - [`models`]: what the inference market reads of the model registry ([`ModelRegistry`],
//!   implemented by `pallet-models`).
//! - [`is_http_url`]: what an endpoint of a provider or of a datanet's storage must look like.
//! - [`pro_rata`]: a part's share of an amount, as the contributors' pools pay each contribution.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod datanets;
pub mod jobs;
pub mod models;

pub use datanets::{
	ContributionId, DatanetAccess, DatanetId, PublishedVersion, VersionId, VersionUnavailable,
};
pub use jobs::{Creation, JobConsumer, JobId, JobKind, JobMarket};

pub use models::{
	BaseModelId, MaxModelSources, ModelId, ModelRegistry, ModelUnavailable, ServedModel,
};

/// `amount` times `part` over `whole` (`part` capped at `whole`), rounded down, so that the shares
/// of all parts never sum above `amount`; zero when `whole` is zero.
pub fn pro_rata<Balance: sp_runtime::traits::AtLeast32BitUnsigned>(
	amount: Balance,
	part: u64,
	whole: u64,
) -> Balance {
	if whole == 0 {
		return Balance::zero();
	}
	sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		amount.unique_saturated_into(),
		u128::from(part.min(whole)),
		u128::from(whole),
		sp_runtime::Rounding::Down,
	)
	.and_then(|share| Balance::try_from(share).ok())
	.unwrap_or_else(Balance::zero)
}

/// Whether `url` is an `http://` or `https://` URL with a host, of printable ASCII: what an
/// endpoint of a provider or a datanet's storage must be.
pub fn is_http_url(url: &[u8]) -> bool {
	(url.starts_with(b"http://") || url.starts_with(b"https://"))
		&& url.len() > "https://".len()
		&& url.iter().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
	use super::{is_http_url, pro_rata};

	#[test]
	fn pro_rata_shares_round_down_and_never_exceed_the_amount() {
		assert_eq!(pro_rata(270u64, 300, 400), 202);
		assert_eq!(pro_rata(270u64, 100, 400), 67);
		assert_eq!(pro_rata(10u64, 500, 100), 10);
		assert_eq!(pro_rata(10u64, 5, 0), 0);
		assert_eq!(pro_rata(u128::MAX, u64::MAX, u64::MAX), u128::MAX);
		let parts = [1u64, 2, 3, 5, 8, 13];
		let whole: u64 = parts.iter().sum();
		assert!(parts.iter().map(|p| pro_rata(1_000_003u64, *p, whole)).sum::<u64>() <= 1_000_003);
	}

	#[test]
	fn endpoints_are_http_urls_with_a_host_in_printable_ascii() {
		assert!(is_http_url(b"http://10.0.0.1:8080"));
		assert!(is_http_url(b"https://store.example"));
		assert!(!is_http_url(b"https://"));
		assert!(!is_http_url(b"ftp://store.example"));
		assert!(!is_http_url(b"http://store example"));
		assert!(!is_http_url("http://störe.example".as_bytes()));
	}
}
