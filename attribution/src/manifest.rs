//! The training manifest: exactly which contributions a model was trained on, where each sits in
//! the training stream, and which were held out or skipped and why. The trainer writes it as JSON
//! (fields in this order, no whitespace: the same run always gives the same bytes) and stores it
//! content-addressed; the chain records its hash, and the Merkle root over [`leaf`]s of the
//! trained entries, in manifest order.

use serde::{Deserialize, Serialize};

/// A blake2-256 hash, written `0x` and 64 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash32(pub [u8; 32]);

impl Serialize for Hash32 {
	fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
		s.serialize_str(&format!("0x{}", hex::encode(self.0)))
	}
}

impl<'de> Deserialize<'de> for Hash32 {
	fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
		let text = String::deserialize(d)?;
		let digits = text.strip_prefix("0x").unwrap_or(&text);
		let mut hash = [0u8; 32];
		hex::decode_to_slice(digits, &mut hash).map_err(serde::de::Error::custom)?;
		Ok(Self(hash))
	}
}

/// A contribution trained on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trained {
	pub datanet: u32,
	pub contribution: u32,
	pub content_hash: Hash32,
	/// Its documents (lines of JSON, rows of CSV, or one plain text).
	pub documents: u32,
	/// Its tokens in the training stream, each document's end-of-document token included.
	pub tokens: u64,
	/// Where its first token sits in the training stream.
	pub offset: u64,
}

/// A contribution put aside for evaluation by the job's split seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldOut {
	pub datanet: u32,
	pub contribution: u32,
	pub content_hash: Hash32,
	pub tokens: u64,
}

/// A contribution of the versions that was not trained on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
	pub datanet: u32,
	pub contribution: u32,
	pub content_hash: Hash32,
	/// `slashed` (no longer accepted), `not text` (a format training does not read), or
	/// `unreadable: ...` with what was wrong.
	pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
	/// The format's version: 1.
	pub version: u32,
	pub trained: Vec<Trained>,
	pub held_out: Vec<HeldOut>,
	pub skipped: Vec<Skipped>,
}

impl Manifest {
	pub fn to_json(&self) -> Vec<u8> {
		serde_json::to_vec(self).unwrap_or_default()
	}

	pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
		serde_json::from_slice(bytes)
	}
}

/// A trained entry's leaf of the Merkle tree the chain records the root of: blake2-256 of the
/// datanet, the contribution, the content hash, the tokens and the offset (integers
/// little-endian, as SCALE encodes them).
pub fn leaf(entry: &Trained) -> [u8; 32] {
	let mut bytes = Vec::with_capacity(56);
	bytes.extend(entry.datanet.to_le_bytes());
	bytes.extend(entry.contribution.to_le_bytes());
	bytes.extend(entry.content_hash.0);
	bytes.extend(entry.tokens.to_le_bytes());
	bytes.extend(entry.offset.to_le_bytes());
	crate::content_hash(&bytes)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_manifest_reads_back_as_written_with_hashes_in_hex() {
		let manifest = Manifest {
			version: 1,
			trained: vec![Trained {
				datanet: 1,
				contribution: 4,
				content_hash: Hash32([0xab; 32]),
				documents: 2,
				tokens: 90,
				offset: 0,
			}],
			held_out: vec![HeldOut {
				datanet: 1,
				contribution: 5,
				content_hash: Hash32([1; 32]),
				tokens: 12,
			}],
			skipped: vec![Skipped {
				datanet: 1,
				contribution: 6,
				content_hash: Hash32([2; 32]),
				reason: "slashed".into(),
			}],
		};
		let json = manifest.to_json();
		let text = String::from_utf8(json.clone()).unwrap();
		assert!(text.starts_with("{\"version\":1,\"trained\":[{\"datanet\":1,\"contribution\":4,\"content_hash\":\"0xabab"), "{text}");
		assert_eq!(Manifest::from_json(&json).unwrap(), manifest);
		assert!(Manifest::from_json(text.replace("0xabab", "0xzz").as_bytes()).is_err());
		assert_ne!(
			leaf(&manifest.trained[0]),
			leaf(&Trained { offset: 1, ..manifest.trained[0].clone() })
		);
	}
}
