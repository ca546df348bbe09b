//! # OpenLedger attribution
//!
//! Proof of Attribution with no chain dependencies: given what a model was trained on and one of
//! its outputs, which contributions shaped that output, and by how much. Providers compute it for
//! every answer they serve; anyone holding the published files recomputes it and gets the same
//! bytes.
//!
//! | module        | what it does                                                                     |
//! |---------------|----------------------------------------------------------------------------------|
//! | [`index`]     | the corpus index: tokens, bit-packed suffix array, positions to contributions   |
//! | [`spans`]     | span attribution (OLMoTrace's rules), integer scores                             |
//! | [`influence`] | gradient influence (TracIn/TRAK) over published, quantized gradient features     |
//! | [`manifest`]  | what training records: the contributions trained on, held out and skipped       |
//! | [`bm25`]      | Okapi BM25 over the same corpus, the lexical baseline attribution is measured by |
//! | [`weights`]   | the top k contributions in parts per billion that sum to exactly one billion     |
//!
//! An attribution names its method and parameters; one that finds nothing says so with no
//! weights, it never invents a contributor.

pub mod bm25;
pub mod index;
pub mod influence;
pub mod manifest;
pub mod spans;
pub mod weights;

pub use index::{ContributionRef, CorpusIndex, IndexBuilder, IndexError, IndexSummary, SEPARATOR};
pub use influence::InfluenceParams;
pub use spans::{Span, SpanParams, TokenClasses};
pub use weights::{Weight, BILLION, MAX_TOP_K};

use serde::Serialize;

/// How an attribution was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Method {
	Spans(SpanParams),
	Influence(InfluenceParams),
}

/// The contributions that shaped an output, and for spans, where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attribution {
	pub method: Method,
	/// The top contributions, highest first, in parts per billion summing to one billion (or
	/// none, when nothing was found).
	pub contributions: Vec<Weight>,
	/// For span attribution: the spans kept, by start.
	#[serde(skip_serializing_if = "Vec::is_empty")]
	pub spans: Vec<Span>,
}

/// blake2b-256, the hash the blob store and the chain name files by.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
	let mut hash = [0u8; 32];
	hash.copy_from_slice(blake2b_simd::Params::new().hash_length(32).hash(bytes).as_bytes());
	hash
}

#[cfg(test)]
mod tests;
