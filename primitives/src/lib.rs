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

/// Whether `url` is an `http://` or `https://` URL with a host, of printable ASCII: what an
/// endpoint of a provider or a datanet's storage must be.
pub fn is_http_url(url: &[u8]) -> bool {
	(url.starts_with(b"http://") || url.starts_with(b"https://"))
		&& url.len() > "https://".len()
		&& url.iter().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
	use super::is_http_url;

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
