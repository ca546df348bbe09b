//! The attribution engine's speed and size: index build time and bytes per token for corpora of
//! 1M, 10M and 40M tokens, span attribution of 200-token answers (p50, p99), gradient influence
//! top k over 10,000 contributions, and BM25 on the same corpus for comparison.
//!
//! `cargo run --release -p openledger-attribution --example bench [-- 1 10 40]` (millions of
//! tokens). The corpora are generated: tokens drawn from a Zipf distribution over a vocabulary of
//! SmolLM2's size (49,152), in documents of 300 to 700 tokens, ten documents per contribution;
//! about 70% of tokens start a word and 4% end a sentence, as in byte-level BPE on English. A third
//! of the answers copy a 40-token passage of the corpus into generated text, a third are made of
//! fragments of 2 to 6 tokens from all over the corpus (many short matches, the slowest case), a
//! third copy nothing.

use std::{io::BufWriter, time::Instant};

use openledger_attribution::{
	bm25::Bm25,
	influence::{write_features, Features, Quantized},
	spans, ContributionRef, CorpusIndex, IndexBuilder, SpanParams, TokenClasses,
};

const VOCAB: u32 = 49_152;

struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		// splitmix64
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
}

/// Draws tokens with probability proportional to 1 / (rank + 2.7), as word frequencies fall.
struct Zipf(Vec<u64>);

impl Zipf {
	fn new() -> Self {
		let mut total = 0f64;
		let weights: Vec<f64> = (0..VOCAB).map(|r| 1.0 / (f64::from(r) + 2.7)).collect();
		let sum: f64 = weights.iter().sum();
		Self(
			weights
				.iter()
				.map(|w| {
					total += w / sum;
					(total * u64::MAX as f64) as u64
				})
				.collect(),
		)
	}

	fn draw(&self, rng: &mut Rng) -> u32 {
		let x = rng.next();
		self.0.partition_point(|&c| c < x).min(VOCAB as usize - 1) as u32
	}
}

fn classes() -> TokenClasses {
	// Token ids are Zipf ranks: which of them start words or end sentences is fixed by the id.
	TokenClasses::from_texts((0..VOCAB).map(|t| match t % 100 {
		0..=3 => ".",
		4..=29 => "ing",
		_ => " word",
	}))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
	sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
	let sizes: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
	let sizes = if sizes.is_empty() { vec![1, 10, 40] } else { sizes };
	let zipf = Zipf::new();
	let classes = classes();
	let dir = tempfile::tempdir().expect("a temporary directory");
	println!("corpus (tokens) | build (s) | index (bytes/token) | spans p50 (ms) | spans p99 (ms) | bm25 p50 (ms) | spans found");
	for millions in sizes {
		let mut rng = Rng(millions);
		let target = millions * 1_000_000;
		let mut documents: Vec<Vec<u32>> = Vec::new();
		let mut total = 0u64;
		while total < target {
			let len = 300 + rng.below(400);
			documents.push((0..len).map(|_| zipf.draw(&mut rng)).collect());
			total += len;
		}
		let started = Instant::now();
		let mut builder = IndexBuilder::new(VOCAB).expect("vocabulary");
		for (i, chunk) in documents.chunks(10).enumerate() {
			builder
				.add(ContributionRef { datanet: 1, contribution: i as u32 }, chunk)
				.expect("tokens in the vocabulary");
		}
		let path = dir.path().join(format!("{millions}M.idx"));
		let file = std::fs::File::create(&path).expect("index file");
		let summary = builder.write(&mut BufWriter::new(file)).expect("index");
		let build_s = started.elapsed().as_secs_f64();
		let file = std::fs::File::open(&path).expect("index file");
		// SAFETY: the file is ours, in a private temporary directory, and not written again.
		let map = unsafe { memmap2::Mmap::map(&file) }.expect("map");
		let index = CorpusIndex::open(&map[..]).expect("a valid index");
		let params = SpanParams::default();
		let (mut times, mut bm25_times, mut found) = (Vec::new(), Vec::new(), 0);
		let bm25 = if millions <= 10 { Some(Bm25::new(&index)) } else { None };
		for answer in 0..400 {
			let mut output: Vec<u32> = (0..200).map(|_| zipf.draw(&mut rng)).collect();
			match answer % 3 {
				0 => {
					let doc = &documents[rng.below(documents.len() as u64) as usize];
					let from = rng.below(doc.len() as u64 - 40) as usize;
					let at = rng.below(160) as usize;
					output[at..at + 40].copy_from_slice(&doc[from..from + 40]);
				},
				1 => {
					// Fragments of 2 to 6 tokens from all over the corpus: many short matches,
					// each narrowed from a wide range.
					let mut at = 0;
					while at < 200 {
						let doc = &documents[rng.below(documents.len() as u64) as usize];
						let len = (2 + rng.below(5) as usize).min(200 - at);
						let from = rng.below((doc.len() - len) as u64) as usize;
						output[at..at + len].copy_from_slice(&doc[from..from + len]);
						at += len;
					}
				},
				_ => {},
			}
			let started = Instant::now();
			let attribution = spans::attribute(&index, &classes, &output, &params);
			times.push(started.elapsed().as_secs_f64() * 1e3);
			found += attribution.spans.len();
			if let Some(bm25) = &bm25 {
				let started = Instant::now();
				std::hint::black_box(bm25.rank(&output));
				bm25_times.push(started.elapsed().as_secs_f64() * 1e3);
			}
		}
		times.sort_by(f64::total_cmp);
		bm25_times.sort_by(f64::total_cmp);
		let bm25_p50 = if bm25_times.is_empty() {
			"-".into()
		} else {
			format!("{:.2}", percentile(&bm25_times, 0.5))
		};
		println!(
			"{:>13}M | {:>9.2} | {:>19.2} | {:>14.3} | {:>14.3} | {:>13} | {found}",
			millions,
			build_s,
			summary.bytes as f64 / summary.positions as f64,
			percentile(&times, 0.5),
			percentile(&times, 0.99),
			bm25_p50,
		);
	}
	// Influence: 10,000 contributions' features against one answer's gradient, on one core.
	println!("\ncontributions | dims | features (MB) | influence top 8 p50 (ms) | p99 (ms)");
	for dims in [1_024u32, 4_096] {
		let mut rng = Rng(u64::from(dims));
		let mut gaussian = || (rng.next() >> 11) as f32 / (1u64 << 53) as f32 - 0.5;
		let rows: Vec<(ContributionRef, Quantized)> = (0..10_000u32)
			.map(|i| {
				let values: Vec<f32> = (0..dims).map(|_| gaussian() * 1e-3).collect();
				(ContributionRef { datanet: 1, contribution: i }, Quantized::from_f32(&values))
			})
			.collect();
		let bytes = write_features(dims, 7, &rows);
		let features = Features::open(&bytes[..]).expect("features");
		let mut times = Vec::new();
		for _ in 0..50 {
			let query: Vec<f32> = (0..dims).map(|_| gaussian()).collect();
			let started = Instant::now();
			let attribution =
				features.attribute(&Quantized::from_f32(&query), 8).expect("dimensions match");
			times.push(started.elapsed().as_secs_f64() * 1e3);
			assert_eq!(attribution.contributions.len(), 8);
		}
		times.sort_by(f64::total_cmp);
		println!(
			"{:>13} | {dims:>4} | {:>13.1} | {:>24.2} | {:>8.2}",
			10_000,
			bytes.len() as f64 / 1e6,
			percentile(&times, 0.5),
			percentile(&times, 0.99)
		);
	}
}
