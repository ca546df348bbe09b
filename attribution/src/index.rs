//! The corpus index: the tokens of every contribution a model was trained on, a suffix array over
//! them, and the table from positions to contributions.
//!
//! One file, little-endian, every section starting at a multiple of 8 bytes:
//!
//! | section        | bytes                         | what                                               |
//! |----------------|-------------------------------|----------------------------------------------------|
//! | header         | 64                            | magic, vocabulary, counts, bits per array entry    |
//! | tokens         | 2 n                           | the corpus: each document's tokens, then [`SEPARATOR`] |
//! | buckets        | 4 (vocab + 1)                 | where the suffixes starting with each token begin  |
//! | suffix array   | ceil(n b / 8) + 8             | suffix start positions, `b = bits(n)` bits each    |
//! | segments       | 8 s                           | (first position, contribution) of each document    |
//! | contributions  | 16 c                          | (datanet, contribution, tokens) in training order  |
//!
//! The separator is a token no tokenizer produces (`u16::MAX`, outside every vocabulary the index
//! takes), so no match with a model's output crosses from one document into the next. Bit-packing
//! the suffix array keeps the index near `2 + log2(n) / 8` bytes per token (5.25 at 40M tokens;
//! infini-gram stores 7): the buckets (the unigram counts, from which rarity is computed) add
//! `4 vocab` bytes whatever the corpus size.
//!
//! The suffix array is built by libsais (single-threaded, so the same tokens always give the same
//! bytes) and sorts a suffix that ends the text before every longer one sharing its tokens. Search
//! narrows a range of the suffix array one token at a time, starting from the token's bucket.
//! [`CorpusIndex::open`] checks every count and position against the file's length and every array
//! entry against the corpus, so a malformed file is an error, never a panic or a read out of
//! bounds; that it is the index a model names is checked by its hash, by whoever fetched it.

use std::{io::Write, ops::Range};

use serde::Serialize;

/// The token that separates documents; no vocabulary the index takes contains it.
pub const SEPARATOR: u16 = u16::MAX;
/// The largest vocabulary: token ids below it fit in 16 bits beside the separator.
pub const MAX_VOCAB: u32 = SEPARATOR as u32;
/// The most tokens an index holds (separators included): libsais sorts with 32-bit positions.
pub const MAX_TOKENS: u64 = i32::MAX as u64;

const MAGIC: &[u8; 8] = b"OLCIDX01";
const HEADER: usize = 64;

/// A contribution to a datanet, as the chain names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ContributionRef {
	pub datanet: u32,
	pub contribution: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexError {
	#[error("a vocabulary of {0} tokens is larger than the index takes ({MAX_VOCAB})")]
	VocabularyTooLarge(u32),
	#[error("token {token} is outside the vocabulary of {vocab}")]
	TokenOutOfVocabulary { token: u32, vocab: u32 },
	#[error("the corpus would hold more than {MAX_TOKENS} tokens")]
	TooManyTokens,
	#[error("contribution {0:?} is already in the index")]
	DuplicateContribution(ContributionRef),
	#[error("the suffix array could not be built: {0}")]
	Construction(String),
	#[error("not a corpus index: {0}")]
	Malformed(&'static str),
	#[error("writing the index: {0}")]
	Io(String),
}

/// What was written, for the provider's records and the benchmarks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexSummary {
	/// Corpus positions, one separator per document included.
	pub positions: u64,
	pub documents: u64,
	pub contributions: u64,
	pub bytes: u64,
	/// blake2b-256 of the file, the hash the blob store keys it by.
	pub hash: [u8; 32],
}

/// Collects contributions' documents, already tokenized, then sorts and writes the index.
pub struct IndexBuilder {
	vocab: u32,
	tokens: Vec<u16>,
	segments: Vec<(u32, u32)>,
	contributions: Vec<(ContributionRef, u64)>,
	seen: std::collections::BTreeSet<ContributionRef>,
}

impl IndexBuilder {
	pub fn new(vocab: u32) -> Result<Self, IndexError> {
		if vocab > MAX_VOCAB {
			return Err(IndexError::VocabularyTooLarge(vocab));
		}
		Ok(Self {
			vocab,
			tokens: Vec::new(),
			segments: Vec::new(),
			contributions: Vec::new(),
			seen: Default::default(),
		})
	}

	/// Adds a contribution: each of its documents becomes a segment of the corpus. A contribution
	/// with no tokens is listed, with no segment.
	pub fn add<D: AsRef<[u32]>>(
		&mut self,
		contribution: ContributionRef,
		documents: &[D],
	) -> Result<(), IndexError> {
		if !self.seen.insert(contribution) {
			return Err(IndexError::DuplicateContribution(contribution));
		}
		let index = self.contributions.len() as u32;
		let added: u64 = documents.iter().map(|d| d.as_ref().len() as u64 + 1).sum();
		if self.tokens.len() as u64 + added > MAX_TOKENS {
			return Err(IndexError::TooManyTokens);
		}
		let mut count = 0u64;
		for document in documents.iter().map(AsRef::as_ref).filter(|d| !d.is_empty()) {
			self.segments.push((self.tokens.len() as u32, index));
			for &token in document {
				if token >= self.vocab {
					return Err(IndexError::TokenOutOfVocabulary { token, vocab: self.vocab });
				}
				self.tokens.push(token as u16);
			}
			self.tokens.push(SEPARATOR);
			count += document.len() as u64;
		}
		self.contributions.push((contribution, count));
		Ok(())
	}

	/// Sorts the suffixes and writes the index to `out`.
	pub fn write(self, out: &mut impl Write) -> Result<IndexSummary, IndexError> {
		let n = self.tokens.len();
		let suffixes: Vec<i32> = if n == 0 {
			Vec::new()
		} else {
			libsais::SuffixArrayConstruction::for_text(&self.tokens)
				.in_owned_buffer32()
				.single_threaded()
				.run()
				.map_err(|e| IndexError::Construction(format!("{e:?}")))?
				.into_vec()
		};
		let bits = bits_for(n as u64);
		let mut buckets = vec![0u32; self.vocab as usize + 1];
		for &t in &self.tokens {
			if t != SEPARATOR {
				buckets[t as usize] += 1;
			}
		}
		// Exclusive prefix sums: the suffixes starting with token t are [buckets[t], buckets[t+1]),
		// and those starting with the separator follow the last token's.
		let mut total = 0u32;
		for b in buckets.iter_mut() {
			let count = *b;
			*b = total;
			total += count;
		}
		let mut writer = Hashed::new(out);
		let mut header = [0u8; HEADER];
		header[..8].copy_from_slice(MAGIC);
		header[8..12].copy_from_slice(&self.vocab.to_le_bytes());
		header[12..16].copy_from_slice(&bits.to_le_bytes());
		header[16..24].copy_from_slice(&(n as u64).to_le_bytes());
		header[24..32].copy_from_slice(&(self.segments.len() as u64).to_le_bytes());
		header[32..40].copy_from_slice(&(self.contributions.len() as u64).to_le_bytes());
		writer.write(&header)?;
		let mut buffer = Vec::with_capacity(1 << 16);
		for chunk in self.tokens.chunks(1 << 15) {
			buffer.clear();
			buffer.extend(chunk.iter().flat_map(|t| t.to_le_bytes()));
			writer.write(&buffer)?;
		}
		writer.pad()?;
		buffer.clear();
		buffer.extend(buckets.iter().flat_map(|b| b.to_le_bytes()));
		writer.write(&buffer)?;
		writer.pad()?;
		let mut packer = Packer::new(bits);
		for chunk in suffixes.chunks(1 << 15) {
			buffer.clear();
			for &s in chunk {
				packer.push(s as u64, &mut buffer);
			}
			writer.write(&buffer)?;
		}
		buffer.clear();
		packer.finish(&mut buffer);
		// Eight bytes of padding: an entry is read as one unaligned 64-bit word.
		buffer.extend([0u8; 8]);
		writer.write(&buffer)?;
		writer.pad()?;
		buffer.clear();
		for (start, contribution) in &self.segments {
			buffer.extend(start.to_le_bytes());
			buffer.extend(contribution.to_le_bytes());
		}
		for (c, tokens) in &self.contributions {
			buffer.extend(c.datanet.to_le_bytes());
			buffer.extend(c.contribution.to_le_bytes());
			buffer.extend(tokens.to_le_bytes());
		}
		writer.write(&buffer)?;
		let (bytes, hash) = writer.finish();
		Ok(IndexSummary {
			positions: n as u64,
			documents: self.segments.len() as u64,
			contributions: self.contributions.len() as u64,
			bytes,
			hash,
		})
	}
}

/// The exact size in bytes of the index of `positions` corpus positions (tokens and one separator
/// per document), `documents` documents and `contributions` contributions: what a trainer checks
/// against its store's limit before training.
pub fn index_size(vocab: u32, positions: u64, documents: u64, contributions: u64) -> u64 {
	let align = |x: u64| x.div_ceil(8) * 8;
	let tokens = align(HEADER as u64 + 2 * positions);
	let buckets = align(tokens + 4 * (u64::from(vocab) + 1));
	let suffixes = align(buckets + (positions * u64::from(bits_for(positions))).div_ceil(8) + 8);
	suffixes + 8 * documents + 16 * contributions
}

/// Bits per suffix array entry for a corpus of `n` positions.
fn bits_for(n: u64) -> u32 {
	(u64::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// Packs entries of `bits` bits, least significant first.
struct Packer {
	bits: u32,
	word: u64,
	used: u32,
}

impl Packer {
	fn new(bits: u32) -> Self {
		Self { bits, word: 0, used: 0 }
	}

	fn push(&mut self, value: u64, out: &mut Vec<u8>) {
		self.word |= value << self.used;
		self.used += self.bits;
		if self.used >= 64 {
			out.extend(self.word.to_le_bytes());
			self.used -= 64;
			let shift = self.bits - self.used;
			self.word = if shift >= 64 { 0 } else { value >> shift };
		}
	}

	fn finish(self, out: &mut Vec<u8>) {
		if self.used > 0 {
			out.extend(&self.word.to_le_bytes()[..self.used.div_ceil(8) as usize]);
		}
	}
}

/// A writer that hashes what it writes and pads sections to 8 bytes.
struct Hashed<'a, W: Write> {
	out: &'a mut W,
	hasher: blake2b_simd::State,
	written: u64,
}

impl<'a, W: Write> Hashed<'a, W> {
	fn new(out: &'a mut W) -> Self {
		Self { out, hasher: blake2b_simd::Params::new().hash_length(32).to_state(), written: 0 }
	}

	fn write(&mut self, bytes: &[u8]) -> Result<(), IndexError> {
		self.out.write_all(bytes).map_err(|e| IndexError::Io(e.to_string()))?;
		self.hasher.update(bytes);
		self.written += bytes.len() as u64;
		Ok(())
	}

	fn pad(&mut self) -> Result<(), IndexError> {
		let pad = (8 - self.written % 8) % 8;
		self.write(&[0u8; 8][..pad as usize])
	}

	fn finish(self) -> (u64, [u8; 32]) {
		let mut hash = [0u8; 32];
		hash.copy_from_slice(self.hasher.finalize().as_bytes());
		(self.written, hash)
	}
}

/// A corpus index read from bytes (a memory map, or a buffer).
pub struct CorpusIndex<B> {
	bytes: B,
	vocab: u32,
	bits: u32,
	n: usize,
	tokens: Range<usize>,
	buckets: Range<usize>,
	suffixes: Range<usize>,
	segments: Range<usize>,
	contributions: Range<usize>,
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
	let mut word = [0u8; 8];
	word.copy_from_slice(&bytes[at..at + 8]);
	u64::from_le_bytes(word)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
	let mut word = [0u8; 4];
	word.copy_from_slice(&bytes[at..at + 4]);
	u32::from_le_bytes(word)
}

fn align8(at: usize) -> usize {
	at.div_ceil(8) * 8
}

impl<B: AsRef<[u8]>> CorpusIndex<B> {
	/// Reads and checks an index. Linear in its size: open it once per model.
	pub fn open(bytes: B) -> Result<Self, IndexError> {
		let data = bytes.as_ref();
		if data.len() < HEADER || &data[..8] != MAGIC {
			return Err(IndexError::Malformed("no corpus index header"));
		}
		let vocab = read_u32(data, 8);
		let bits = read_u32(data, 12);
		let (n, segments, contributions) =
			(read_u64(data, 16), read_u64(data, 24), read_u64(data, 32));
		if vocab > MAX_VOCAB {
			return Err(IndexError::VocabularyTooLarge(vocab));
		}
		if n > MAX_TOKENS || segments > n || contributions > MAX_TOKENS {
			return Err(IndexError::Malformed("counts out of range"));
		}
		if bits != bits_for(n) {
			return Err(IndexError::Malformed("suffix array width"));
		}
		let n = n as usize;
		let tokens = HEADER..HEADER + 2 * n;
		let buckets = align8(tokens.end)..align8(tokens.end) + 4 * (vocab as usize + 1);
		let sa_start = align8(buckets.end);
		let suffixes = sa_start..sa_start + (n * bits as usize).div_ceil(8) + 8;
		let seg_start = align8(suffixes.end);
		let segments = seg_start..seg_start + 8 * segments as usize;
		let contributions = segments.end..segments.end + 16 * contributions as usize;
		if data.len() != contributions.end {
			return Err(IndexError::Malformed("length does not match its counts"));
		}
		let index =
			Self { bytes, vocab, bits, n, tokens, buckets, suffixes, segments, contributions };
		index.check()?;
		Ok(index)
	}

	fn check(&self) -> Result<(), IndexError> {
		let mut counts = vec![0u32; self.vocab as usize + 1];
		for p in 0..self.n {
			let t = self.token(p);
			if t != SEPARATOR {
				*counts
					.get_mut(t as usize)
					.filter(|_| u32::from(t) < self.vocab)
					.ok_or(IndexError::Malformed("token outside the vocabulary"))? += 1;
			}
		}
		if self.n > 0 && self.token(self.n - 1) != SEPARATOR {
			return Err(IndexError::Malformed("the corpus does not end with a separator"));
		}
		let mut total = 0u32;
		for (t, count) in counts.iter().enumerate() {
			if self.bucket(t) != total {
				return Err(IndexError::Malformed("buckets do not match the tokens"));
			}
			total += count;
		}
		for k in 0..self.n {
			if self.suffix(k) >= self.n {
				return Err(IndexError::Malformed("suffix array entry outside the corpus"));
			}
		}
		// Every position belongs to a segment: the first starts the corpus, each starts after a
		// separator.
		if self.n > 0 && (self.segment_count() == 0 || self.segment(0).0 != 0) {
			return Err(IndexError::Malformed("the corpus does not start with a segment"));
		}
		let mut previous = None;
		for s in 0..self.segment_count() {
			let (start, contribution) = self.segment(s);
			if previous.is_some_and(|p| p >= start) || start >= self.n {
				return Err(IndexError::Malformed("segments out of order"));
			}
			if start > 0 && self.token(start - 1) != SEPARATOR {
				return Err(IndexError::Malformed("a segment starts inside a document"));
			}
			if contribution as usize >= self.contribution_count() {
				return Err(IndexError::Malformed("segment of an unknown contribution"));
			}
			previous = Some(start);
		}
		Ok(())
	}

	pub fn vocab(&self) -> u32 {
		self.vocab
	}

	/// Corpus positions, separators included.
	pub fn len(&self) -> usize {
		self.n
	}

	pub fn is_empty(&self) -> bool {
		self.n == 0
	}

	/// The token at `position`; the separator past the end.
	#[inline]
	pub fn token(&self, position: usize) -> u16 {
		if position >= self.n {
			return SEPARATOR;
		}
		let at = self.tokens.start + 2 * position;
		let bytes = self.bytes.as_ref();
		u16::from_le_bytes([bytes[at], bytes[at + 1]])
	}

	/// The first position of the `k`-th smallest suffix.
	#[inline]
	pub fn suffix(&self, k: usize) -> usize {
		let bit = k * self.bits as usize;
		let word = read_u64(self.bytes.as_ref(), self.suffixes.start + bit / 8);
		let mask = if self.bits == 64 { u64::MAX } else { (1u64 << self.bits) - 1 };
		((word >> (bit % 8)) & mask) as usize
	}

	#[inline]
	fn bucket(&self, token: usize) -> u32 {
		read_u32(self.bytes.as_ref(), self.buckets.start + 4 * token)
	}

	/// How many times `token` occurs in the corpus.
	pub fn count(&self, token: u32) -> u64 {
		if token >= self.vocab {
			return 0;
		}
		u64::from(self.bucket(token as usize + 1) - self.bucket(token as usize))
	}

	/// Tokens of the corpus, separators left out.
	pub fn tokens_total(&self) -> u64 {
		u64::from(self.bucket(self.vocab as usize))
	}

	pub fn segment_count(&self) -> usize {
		self.segments.len() / 8
	}

	fn segment(&self, s: usize) -> (usize, u32) {
		let at = self.segments.start + 8 * s;
		let bytes = self.bytes.as_ref();
		(read_u32(bytes, at) as usize, read_u32(bytes, at + 4))
	}

	pub fn contribution_count(&self) -> usize {
		self.contributions.len() / 16
	}

	/// The `i`-th contribution in training order, with its token count.
	pub fn contribution(&self, i: usize) -> (ContributionRef, u64) {
		let at = self.contributions.start + 16 * i;
		let bytes = self.bytes.as_ref();
		(
			ContributionRef { datanet: read_u32(bytes, at), contribution: read_u32(bytes, at + 4) },
			read_u64(bytes, at + 8),
		)
	}

	/// The contribution (its index in training order) whose document holds `position`.
	pub fn contribution_at(&self, position: usize) -> u32 {
		// The last segment starting at or before `position`; positions before the first
		// segment do not exist (the corpus starts with one).
		let (mut lo, mut hi) = (0usize, self.segment_count());
		while hi - lo > 1 {
			let mid = lo + (hi - lo) / 2;
			if self.segment(mid).0 <= position {
				lo = mid;
			} else {
				hi = mid;
			}
		}
		self.segment(lo).1
	}

	/// The documents of the corpus: (first position, end position, contribution index).
	pub fn segments(&self) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
		(0..self.segment_count()).map(move |s| {
			let (start, contribution) = self.segment(s);
			let end = if s + 1 < self.segment_count() { self.segment(s + 1).0 } else { self.n };
			// The document's own tokens, its separator left out.
			(start, end - 1, contribution)
		})
	}

	/// The token at `depth` into the `k`-th suffix, or -1 where that suffix has ended.
	#[inline]
	fn key(&self, k: usize, depth: usize) -> i32 {
		let position = self.suffix(k) + depth;
		if position >= self.n {
			-1
		} else {
			i32::from(self.token(position))
		}
	}

	/// Narrows `range`, the suffixes that share a first `depth` tokens, to those whose next token
	/// is `token`.
	pub fn narrow(&self, range: Range<usize>, depth: usize, token: u16) -> Range<usize> {
		let token = i32::from(token);
		if range.len() == 1 {
			return if self.key(range.start, depth) == token {
				range
			} else {
				range.start..range.start
			};
		}
		let partition = |mut lo: usize, mut hi: usize, above: bool| {
			while lo < hi {
				let mid = lo + (hi - lo) / 2;
				let key = self.key(mid, depth);
				if key < token || (above && key == token) {
					lo = mid + 1;
				} else {
					hi = mid;
				}
			}
			lo
		};
		let start = partition(range.start, range.end, false);
		let end = partition(start, range.end, true);
		start..end
	}

	/// The suffixes that start with `token`.
	pub fn bucket_range(&self, token: u32) -> Range<usize> {
		if token >= self.vocab {
			return 0..0;
		}
		self.bucket(token as usize) as usize..self.bucket(token as usize + 1) as usize
	}

	/// The suffixes that start with `query`: their count is its number of occurrences.
	pub fn find(&self, query: &[u32]) -> Range<usize> {
		let Some((&first, rest)) = query.split_first() else { return 0..self.n };
		let mut range = self.bucket_range(first);
		for (depth, &token) in rest.iter().enumerate() {
			if range.is_empty() {
				break;
			}
			if token >= self.vocab {
				return 0..0;
			}
			range = self.narrow(range, depth + 1, token as u16);
		}
		range
	}

	/// The longest prefix of `query` that occurs in the corpus: its length, and the suffix
	/// ranges of each of its prefixes (`ranges[d]` for the first `d + 1` tokens).
	pub fn longest_prefix(&self, query: &[u32], ranges: &mut Vec<Range<usize>>) -> usize {
		ranges.clear();
		let mut range = match query.first() {
			Some(&first) => self.bucket_range(first),
			None => return 0,
		};
		for (depth, &token) in query.iter().enumerate() {
			if depth > 0 {
				if token >= self.vocab {
					break;
				}
				range = self.narrow(range, depth, token as u16);
			}
			if range.is_empty() {
				break;
			}
			ranges.push(range.clone());
		}
		ranges.len()
	}
}
