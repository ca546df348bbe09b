//! Span attribution: the maximal spans of an output that occur verbatim in the training corpus,
//! as OLMoTrace finds them (Liu et al., 2025, on infini-gram), and a score per contribution.
//!
//! A span is **self-contained**: it splits no word at either end (a span starting inside "training"
//! at "aining" is not one), does not end in whitespace, and no sentence end or newline lies inside
//! it (one may end it). It is
//! **maximal**: no longer self-contained span of the output that occurs in the corpus contains it.
//! Spans shorter than `min_tokens`, or occurring more than `max_occurrences` times (common
//! phrases, which say nothing about who taught the model), are dropped; of the rest, the
//! `ceil(max_density * output tokens)` rarest are kept, rarity being the span's self-information
//! under the corpus's unigram distribution, `sum over its tokens of log2(N / count(token))`, in
//! fixed point with 16 fractional bits. A kept span adds its rarity to the score of each distinct
//! contribution it occurs in, shared equally among them; the top k scores become the weights.
//!
//! Everything is integer arithmetic, so the same index and output give the same attribution, bit
//! for bit, on any machine.

use serde::Serialize;

use crate::{
	index::CorpusIndex,
	weights::{top_k, Weight, MAX_TOP_K},
	Attribution, ContributionRef, Method,
};

/// How spans are found and kept: part of every attribution made with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SpanParams {
	/// The shortest span kept, in tokens.
	pub min_tokens: u32,
	/// At most `ceil(max_density_ppm * output tokens / 1e6)` spans are kept.
	pub max_density_ppm: u32,
	/// Spans occurring more often than this in the corpus are dropped.
	pub max_occurrences: u32,
	/// The most contributions named, at most [`MAX_TOP_K`].
	pub top_k: u32,
}

impl Default for SpanParams {
	/// OLMoTrace's density (5%) and a minimum length of 8 tokens for subword vocabularies.
	fn default() -> Self {
		Self { min_tokens: 8, max_density_ppm: 50_000, max_occurrences: 16, top_k: 8 }
	}
}

/// One span of the output found in the corpus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
	/// Token positions in the output, `start..end`.
	pub start: u32,
	pub end: u32,
	/// Times it occurs in the corpus.
	pub occurrences: u32,
	/// Self-information in bits, times 2^16.
	pub rarity: u64,
	/// The distinct contributions it occurs in, in order.
	pub contributions: Vec<ContributionRef>,
}

/// The longest span found, in tokens.
pub const MAX_SPAN: usize = 512;

const ALNUM_FIRST: u8 = 1;
const ALNUM_LAST: u8 = 2;
const BREAK: u8 = 4;
const SPACE_LAST: u8 = 8;

/// What the span rules need to know of each token of a vocabulary: whether its text begins or
/// ends inside a word, and whether it ends a sentence or a line.
#[derive(Clone, Debug)]
pub struct TokenClasses(Vec<u8>);

impl TokenClasses {
	/// From each token's text, in token id order.
	pub fn from_texts<S: AsRef<str>>(texts: impl IntoIterator<Item = S>) -> Self {
		Self(texts.into_iter().map(|t| Self::of(t.as_ref())).collect())
	}

	/// A byte-level vocabulary: token `b` is the byte `b`. Bytes of multi-byte characters count
	/// as letters.
	pub fn bytes() -> Self {
		Self(
			(0..=255u8)
				.map(
					|b| if b >= 0x80 { ALNUM_FIRST | ALNUM_LAST } else { Self::of_char(b as char) },
				)
				.collect(),
		)
	}

	fn of_char(c: char) -> u8 {
		let mut class = 0;
		if c.is_alphanumeric() {
			class |= ALNUM_FIRST | ALNUM_LAST;
		}
		if matches!(c, '.' | '!' | '?' | '\n') {
			class |= BREAK;
		}
		if c.is_whitespace() {
			class |= SPACE_LAST;
		}
		class
	}

	fn of(text: &str) -> u8 {
		let mut class = 0;
		if text.chars().next().is_some_and(char::is_alphanumeric) {
			class |= ALNUM_FIRST;
		}
		if text.chars().last().is_some_and(char::is_alphanumeric) {
			class |= ALNUM_LAST;
		}
		if text.contains(['.', '!', '?', '\n']) {
			class |= BREAK;
		}
		if text.chars().last().is_some_and(char::is_whitespace) {
			class |= SPACE_LAST;
		}
		class
	}

	fn class(&self, token: u32) -> u8 {
		self.0.get(token as usize).copied().unwrap_or(0)
	}

	/// Whether a span may start at `i` of `output` (it does not split a word).
	fn starts(&self, output: &[u32], i: usize) -> bool {
		i == 0
			|| self.class(output[i - 1]) & ALNUM_LAST == 0
			|| self.class(output[i]) & ALNUM_FIRST == 0
	}

	/// Whether a span may end before `e` of `output`: it splits no word and does not end in
	/// whitespace.
	fn ends(&self, output: &[u32], e: usize) -> bool {
		self.class(output[e - 1]) & SPACE_LAST == 0 && (e == output.len() || self.starts(output, e))
	}

	fn breaks(&self, token: u32) -> bool {
		self.class(token) & BREAK != 0
	}
}

/// `floor(log2(x) * 2^16)` for `x >= 1`, by repeated squaring in integers.
pub fn log2_fixed(x: u64) -> u64 {
	if x == 0 {
		return 0;
	}
	let whole = u64::from(63 - x.leading_zeros());
	// x / 2^whole in [1, 2), with 62 fractional bits.
	let mut z: u128 = (u128::from(x) << 62) >> whole;
	let mut fraction = 0u64;
	for bit in (0..16).rev() {
		z = (z * z) >> 62;
		if z >= 2u128 << 62 {
			z >>= 1;
			fraction |= 1 << bit;
		}
	}
	(whole << 16) | fraction
}

/// A self-contained, maximal span of the output found in the corpus, before it is kept or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
	pub start: usize,
	pub end: usize,
	/// Its suffix array range: its occurrences.
	pub suffixes: std::ops::Range<usize>,
}

/// Every self-contained, maximal span of `output` of at least `min_tokens` that occurs in the
/// corpus, by start.
pub fn maximal_spans<B: AsRef<[u8]>>(
	index: &CorpusIndex<B>,
	classes: &TokenClasses,
	output: &[u32],
	min_tokens: usize,
) -> Vec<Candidate> {
	let n = output.len();
	// limit[i]: a span starting at i ends at or before the first break at or after i.
	let mut limit = vec![n; n];
	let mut next = n;
	for i in (0..n).rev() {
		if classes.breaks(output[i]) {
			next = i + 1;
		}
		// A span is at most MAX_SPAN tokens: a corpus of one long repeated run cannot make
		// each start of a long answer search the whole run.
		limit[i] = next.min(i + MAX_SPAN);
	}
	let mut candidates = Vec::new();
	let mut ranges = Vec::new();
	// The furthest end of a span found so far: a span ending there or before is inside it.
	let mut furthest = 0;
	for i in 0..n {
		if limit[i] <= furthest || limit[i] - i < min_tokens.max(1) || !classes.starts(output, i) {
			continue;
		}
		let matched = index.longest_prefix(&output[i..limit[i]], &mut ranges);
		let Some(end) = (i + 1..=i + matched).rev().find(|&e| classes.ends(output, e)) else {
			continue;
		};
		if end <= furthest {
			continue;
		}
		furthest = end;
		if end - i >= min_tokens {
			candidates.push(Candidate { start: i, end, suffixes: ranges[end - i - 1].clone() });
		}
	}
	candidates
}

/// The span attribution of `output`, token ids of the model the index was built for.
pub fn attribute<B: AsRef<[u8]>>(
	index: &CorpusIndex<B>,
	classes: &TokenClasses,
	output: &[u32],
	params: &SpanParams,
) -> Attribution {
	let method = Method::Spans(*params);
	let total = log2_fixed(index.tokens_total().max(1));
	let rarity = |tokens: &[u32]| -> u64 {
		tokens
			.iter()
			.map(|&t| total.saturating_sub(log2_fixed(index.count(t).max(1))))
			.sum()
	};
	let mut spans: Vec<Span> = maximal_spans(index, classes, output, params.min_tokens as usize)
		.into_iter()
		.filter(|c| c.suffixes.len() <= params.max_occurrences as usize)
		.map(|c| Span {
			start: c.start as u32,
			end: c.end as u32,
			occurrences: c.suffixes.len() as u32,
			rarity: rarity(&output[c.start..c.end]),
			contributions: {
				let mut found: Vec<u32> =
					c.suffixes.map(|k| index.contribution_at(index.suffix(k))).collect();
				found.sort_unstable();
				found.dedup();
				found.into_iter().map(|i| index.contribution(i as usize).0).collect()
			},
		})
		.collect();
	let keep = (u64::from(params.max_density_ppm) * output.len() as u64).div_ceil(1_000_000);
	spans.sort_by(|a, b| b.rarity.cmp(&a.rarity).then(a.start.cmp(&b.start)));
	spans.truncate(keep.max(1) as usize);
	spans.sort_by_key(|s| s.start);
	let mut scores = std::collections::BTreeMap::<ContributionRef, u128>::new();
	for span in &spans {
		// Shares in units of 2^-20 bits: a rarity split among up to `max_occurrences` ways.
		let share = (u128::from(span.rarity) << 20) / span.contributions.len().max(1) as u128;
		for c in &span.contributions {
			*scores.entry(*c).or_default() += share;
		}
	}
	let contributions: Vec<Weight> =
		top_k(scores.into_iter().collect(), params.top_k.min(MAX_TOP_K));
	Attribution { method, contributions, spans }
}
