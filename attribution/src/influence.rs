//! Gradient influence (TracIn, Pruthi et al. 2020; TRAK, Park et al. 2023): how much training on a
//! contribution lowered the loss of an output, estimated by the dot product of their loss
//! gradients, each randomly projected to a few thousand dimensions.
//!
//! The trainer publishes one projected gradient per trained contribution (the **features**). The
//! gradients are floating point, and floating point differs between CPUs (kernels chosen at run
//! time, thread counts), so every vector is stored in block floating point: 16-bit integer
//! mantissas and one power-of-two exponent per vector, rounded to nearest. The dot products are
//! then exact integers. Two honest machines still round a few mantissas differently (SSE against
//! AVX2+FMA kernels: about 1% of them, by one unit, in `scripts/bench-attribution.sh`), and since
//! an influence score is often a small difference of large products, that moves weights by up to
//! a few percent. So the scores are truncated to [`SCORE_BITS`] significant bits below the largest
//! before weighting: a step far coarser than what those mantissas change, so that two machines
//! give the same weights bit for bit unless a score lies that close to a step's edge.
//!
//! Features file, little-endian: `"OLGFEAT1"`, dims (u32), rows (u32), projection seed (u64),
//! then per row the contribution (datanet u32, contribution u32), the exponent (i32), 4 bytes of
//! padding and `dims` i16 mantissas.

use serde::Serialize;

use crate::{
	weights::{top_k, MAX_TOP_K},
	Attribution, ContributionRef, Method,
};

const MAGIC: &[u8; 8] = b"OLGFEAT1";
const HEADER: usize = 24;
/// The most dimensions a features file has.
pub const MAX_DIMS: u32 = 1 << 16;
/// Exponents further than this below the largest row's count as zero: it keeps scores in u128.
const EXPONENT_SPREAD: i32 = 40;
/// Influence scores are truncated to this many significant bits, counted from the largest: steps
/// of about 0.1% of the top score.
pub const SCORE_BITS: u32 = 10;
/// The range of exponents a file may hold: f32's, less the mantissas' 14 bits, and then some.
const MAX_EXPONENT: i32 = 200;

/// How influence was computed: part of every attribution made with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InfluenceParams {
	/// Projected dimensions.
	pub dims: u32,
	/// The seed of the random projection, as the features file records it.
	pub projection_seed: u64,
	pub top_k: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeaturesError {
	#[error("not a features file: {0}")]
	Malformed(&'static str),
	#[error("a gradient of {found} dimensions against features of {expected}")]
	Dimensions { expected: u32, found: u32 },
}

/// A vector in block floating point: `mantissas[i] * 2^exponent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantized {
	pub exponent: i32,
	pub mantissas: Vec<i16>,
}

impl Quantized {
	/// Rounds `values` to 15 significant bits under one exponent, from the bits of the largest
	/// magnitude (no floating-point logarithm, so every machine picks the same exponent).
	pub fn from_f32(values: &[f32]) -> Self {
		let largest = values.iter().filter(|v| v.is_finite()).fold(0f32, |m, v| m.max(v.abs()));
		if largest == 0.0 {
			return Self { exponent: 0, mantissas: vec![0; values.len()] };
		}
		// largest < 2^(e + 1) where e is its binary exponent: dividing by 2^(e - 14) leaves
		// magnitudes below 2^15.
		let biased = ((largest.to_bits() >> 23) & 0xff) as i32;
		let exponent = if biased == 0 { -126 - 14 - 23 } else { biased - 127 - 14 };
		let scale = (2f64).powi(-exponent);
		let mantissas = values
			.iter()
			.map(|v| {
				let v = if v.is_finite() { f64::from(*v) } else { 0.0 };
				(v * scale).round_ties_even().clamp(-32767.0, 32767.0) as i16
			})
			.collect();
		Self { exponent, mantissas }
	}

	pub fn to_f32(&self) -> Vec<f32> {
		let scale = (2f64).powi(self.exponent);
		self.mantissas.iter().map(|&m| (f64::from(m) * scale) as f32).collect()
	}
}

/// Writes a features file.
pub fn write_features(dims: u32, seed: u64, rows: &[(ContributionRef, Quantized)]) -> Vec<u8> {
	let mut out = Vec::with_capacity(HEADER + rows.len() * (16 + 2 * dims as usize));
	out.extend(MAGIC);
	out.extend(dims.to_le_bytes());
	out.extend((rows.len() as u32).to_le_bytes());
	out.extend(seed.to_le_bytes());
	for (c, q) in rows {
		out.extend(c.datanet.to_le_bytes());
		out.extend(c.contribution.to_le_bytes());
		out.extend(q.exponent.to_le_bytes());
		out.extend([0u8; 4]);
		out.extend(q.mantissas.iter().flat_map(|m| m.to_le_bytes()));
	}
	out
}

/// A features file read from bytes.
pub struct Features<B> {
	bytes: B,
	dims: u32,
	rows: u32,
	seed: u64,
}

impl<B: AsRef<[u8]>> Features<B> {
	pub fn open(bytes: B) -> Result<Self, FeaturesError> {
		let data = bytes.as_ref();
		if data.len() < HEADER || &data[..8] != MAGIC {
			return Err(FeaturesError::Malformed("no features header"));
		}
		let word =
			|at: usize| u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
		let (dims, rows) = (word(8), word(12));
		let seed = u64::from(word(16)) | u64::from(word(20)) << 32;
		if dims == 0 || dims > MAX_DIMS {
			return Err(FeaturesError::Malformed("dimensions out of range"));
		}
		if data.len() as u64 != HEADER as u64 + u64::from(rows) * (16 + 2 * u64::from(dims)) {
			return Err(FeaturesError::Malformed("length does not match its counts"));
		}
		let features = Self { bytes, dims, rows, seed };
		if (0..features.len()).any(|r| !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&features.row(r).1))
		{
			return Err(FeaturesError::Malformed("an exponent out of range"));
		}
		Ok(features)
	}

	pub fn dims(&self) -> u32 {
		self.dims
	}

	pub fn seed(&self) -> u64 {
		self.seed
	}

	pub fn len(&self) -> usize {
		self.rows as usize
	}

	pub fn is_empty(&self) -> bool {
		self.rows == 0
	}

	/// Row `r`'s contribution and vector.
	pub fn vector(&self, r: usize) -> (ContributionRef, Quantized) {
		let (contribution, exponent, mantissas) = self.row(r);
		let mantissas =
			mantissas.chunks_exact(2).map(|m| i16::from_le_bytes([m[0], m[1]])).collect();
		(contribution, Quantized { exponent, mantissas })
	}

	fn row(&self, r: usize) -> (ContributionRef, i32, &[u8]) {
		let size = 16 + 2 * self.dims as usize;
		let row = &self.bytes.as_ref()[HEADER + r * size..HEADER + (r + 1) * size];
		let word = |at: usize| [row[at], row[at + 1], row[at + 2], row[at + 3]];
		(
			ContributionRef {
				datanet: u32::from_le_bytes(word(0)),
				contribution: u32::from_le_bytes(word(4)),
			},
			i32::from_le_bytes(word(8)),
			&row[16..],
		)
	}

	/// Each row's contribution and its exact integer dot product with `query`, with the row's
	/// exponent.
	pub fn dots(
		&self,
		query: &Quantized,
	) -> Result<Vec<(ContributionRef, i64, i32)>, FeaturesError> {
		if query.mantissas.len() != self.dims as usize {
			return Err(FeaturesError::Dimensions {
				expected: self.dims,
				found: query.mantissas.len() as u32,
			});
		}
		Ok((0..self.len())
			.map(|r| {
				let (contribution, exponent, mantissas) = self.row(r);
				(contribution, dot(&query.mantissas, mantissas), exponent)
			})
			.collect())
	}

	/// The influence attribution of an output whose projected loss gradient is `query`: the
	/// `top_k` contributions whose training gradients point most along it (positive proponents).
	pub fn attribute(&self, query: &Quantized, top: u32) -> Result<Attribution, FeaturesError> {
		let dots = self.dots(query)?;
		let largest = dots.iter().filter(|d| d.1 > 0).map(|d| d.2).max();
		let mut scores = Vec::new();
		if let Some(largest) = largest {
			let base = largest.saturating_sub(EXPONENT_SPREAD);
			for (contribution, dot, exponent) in dots {
				if dot > 0 && exponent >= base {
					// dot < 2^30 * 2^16 and the shift is at most 40: below 2^86.
					scores.push((contribution, (dot as u128) << (exponent - base)));
				}
			}
		}
		if let Some(max) = scores.iter().map(|s| s.1).max() {
			// Truncated to SCORE_BITS, then scores equal at that precision ordered by a hash of
			// the projection seed and the contribution (in bits far below a score's step, at
			// most 2^-32 of it), not by the contribution's id: the last places of the top k do
			// not go to the oldest contributions.
			let shift = (u128::BITS - max.leading_zeros()).saturating_sub(SCORE_BITS);
			scores.retain(|s| s.1 >> shift > 0);
			for (contribution, score) in &mut scores {
				*score = (*score >> shift) << 64 | u128::from(tie_break(self.seed, *contribution));
			}
		}
		Ok(Attribution {
			method: Method::Influence(InfluenceParams {
				dims: self.dims,
				projection_seed: self.seed,
				top_k: top.min(MAX_TOP_K),
			}),
			contributions: top_k(scores, top),
			spans: Vec::new(),
		})
	}
}

/// 32 bits of splitmix64 over the seed and the contribution.
fn tie_break(seed: u64, c: ContributionRef) -> u32 {
	let mut z = seed ^ (u64::from(c.datanet) << 32 | u64::from(c.contribution));
	z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
	z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
	((z ^ (z >> 31)) >> 32) as u32
}

/// Sum of `a[i] * b[i]`, `b` as little-endian i16 bytes; exact in i64 (each product is below
/// 2^30 in magnitude, mantissas being within +-32767).
fn dot(a: &[i16], b: &[u8]) -> i64 {
	a.iter()
		.zip(b.chunks_exact(2))
		.map(|(x, y)| i64::from(i32::from(*x) * i32::from(i16::from_le_bytes([y[0], y[1]]))))
		.sum()
}
