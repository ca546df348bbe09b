use crate::{
	bm25::Bm25,
	index::{CorpusIndex, IndexBuilder, IndexError},
	influence::{write_features, Features, FeaturesError, Quantized},
	spans::{self, log2_fixed, SpanParams, TokenClasses},
	ContributionRef, Method, BILLION,
};

/// A small deterministic generator for test corpora.
struct Lcg(u64);

impl Lcg {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		self.0 >> 33
	}

	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
}

fn c(datanet: u32, contribution: u32) -> ContributionRef {
	ContributionRef { datanet, contribution }
}

fn build(vocab: u32, contributions: &[(ContributionRef, Vec<Vec<u32>>)]) -> Vec<u8> {
	let mut builder = IndexBuilder::new(vocab).unwrap();
	for (contribution, documents) in contributions {
		builder.add(*contribution, documents).unwrap();
	}
	let mut bytes = Vec::new();
	let summary = builder.write(&mut bytes).unwrap();
	assert_eq!(summary.bytes, bytes.len() as u64);
	assert_eq!(
		crate::index::index_size(
			vocab,
			summary.positions,
			summary.documents,
			summary.contributions
		),
		summary.bytes
	);
	assert_eq!(summary.hash, crate::content_hash(&bytes));
	bytes
}

fn bytes_of(text: &str) -> Vec<u32> {
	text.bytes().map(u32::from).collect()
}

/// Every position where `query` occurs inside one document.
fn brute_force(documents: &[Vec<u32>], query: &[u32]) -> Vec<(usize, usize)> {
	let mut found = Vec::new();
	for (d, doc) in documents.iter().enumerate() {
		for p in 0..doc.len() {
			if doc.len() - p >= query.len() && doc[p..p + query.len()] == *query {
				found.push((d, p));
			}
		}
	}
	found
}

#[test]
fn suffix_array_search_agrees_with_a_brute_force_scan_on_random_corpora() {
	let mut rng = Lcg(1);
	for round in 0..40 {
		// Small vocabularies make repeats, large ones make unique tokens.
		let vocab = [2u32, 3, 5, 17, 300, 40_000][round % 6];
		let documents: Vec<Vec<u32>> = (0..1 + rng.below(8))
			.map(|_| (0..rng.below(400)).map(|_| rng.below(u64::from(vocab)) as u32).collect())
			.collect();
		let contributions: Vec<_> = documents
			.iter()
			.enumerate()
			.map(|(i, d)| (c(1, i as u32), vec![d.clone()]))
			.collect();
		let bytes = build(vocab, &contributions);
		let index = CorpusIndex::open(&bytes[..]).unwrap();
		for _ in 0..60 {
			// Half the queries are taken from the corpus, half are random.
			let query: Vec<u32> = match documents.iter().find(|d| d.len() > 8) {
				Some(doc) if rng.below(2) == 0 => {
					let start = rng.below(doc.len() as u64 - 1) as usize;
					let len = 1 + rng.below((doc.len() - start).min(12) as u64) as usize;
					doc[start..start + len].to_vec()
				},
				_ => (0..1 + rng.below(6)).map(|_| rng.below(u64::from(vocab)) as u32).collect(),
			};
			let expected = brute_force(&documents, &query);
			let range = index.find(&query);
			assert_eq!(range.len(), expected.len(), "vocab {vocab}, query {query:?}");
			let mut found: Vec<(usize, usize)> = range
				.map(|k| {
					let position = index.suffix(k);
					let doc = index.contribution_at(position) as usize;
					let start = index.segments().nth(doc).unwrap().0;
					(doc, position - start)
				})
				.collect();
			found.sort();
			assert_eq!(found, expected);
			// The longest prefix that occurs, against the scan.
			let mut ranges = Vec::new();
			let longest = index.longest_prefix(&query, &mut ranges);
			let scanned = (0..=query.len())
				.rev()
				.find(|&l| l == 0 || !brute_force(&documents, &query[..l]).is_empty());
			assert_eq!(Some(longest), scanned);
			for (d, range) in ranges.iter().enumerate() {
				assert_eq!(range.len(), brute_force(&documents, &query[..d + 1]).len());
			}
		}
	}
}

#[test]
fn the_index_lists_its_contributions_and_counts_its_tokens() {
	let bytes = build(
		256,
		&[
			(c(1, 0), vec![bytes_of("abc"), bytes_of("abd")]),
			(c(1, 5), vec![]),
			(c(2, 0), vec![bytes_of("b")]),
		],
	);
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	assert_eq!(index.len(), 4 + 4 + 2);
	assert_eq!(index.tokens_total(), 7);
	assert_eq!(index.count(u32::from(b'b')), 3);
	assert_eq!(index.count(1_000), 0);
	assert_eq!(
		(0..3).map(|i| index.contribution(i)).collect::<Vec<_>>(),
		vec![(c(1, 0), 6), (c(1, 5), 0), (c(2, 0), 1)]
	);
	let segments: Vec<_> = index.segments().collect();
	assert_eq!(segments, vec![(0, 3, 0), (4, 7, 0), (8, 9, 2)]);
	assert_eq!(index.find(&bytes_of("ab")).len(), 2);
	// No match crosses a separator.
	assert_eq!(index.find(&bytes_of("cab")).len(), 0);
	assert_eq!(index.find(&bytes_of("db")).len(), 0);
}

#[test]
fn the_same_contributions_give_the_same_index_bytes() {
	let contributions =
		[(c(3, 1), vec![bytes_of("one two three")]), (c(3, 2), vec![bytes_of("four")])];
	assert_eq!(build(256, &contributions), build(256, &contributions));
}

#[test]
fn a_builder_refuses_what_the_index_cannot_hold() {
	assert_eq!(IndexBuilder::new(70_000).err(), Some(IndexError::VocabularyTooLarge(70_000)));
	let mut builder = IndexBuilder::new(256).unwrap();
	assert_eq!(
		builder.add(c(1, 1), &[vec![1, 256]]),
		Err(IndexError::TokenOutOfVocabulary { token: 256, vocab: 256 })
	);
	let mut builder = IndexBuilder::new(256).unwrap();
	builder.add(c(1, 1), &[vec![1]]).unwrap();
	assert_eq!(builder.add(c(1, 1), &[vec![2]]), Err(IndexError::DuplicateContribution(c(1, 1))));
}

#[test]
fn an_empty_corpus_opens_and_matches_nothing() {
	let bytes = build(256, &[]);
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	assert!(index.is_empty());
	assert_eq!(index.find(&[1, 2]).len(), 0);
	let output = bytes_of("nothing to find here");
	let attribution =
		spans::attribute(&index, &TokenClasses::bytes(), &output, &SpanParams::default());
	assert!(attribution.contributions.is_empty() && attribution.spans.is_empty());
}

#[test]
fn a_malformed_index_is_an_error_never_a_panic() {
	let bytes = build(
		300,
		&[(c(1, 0), vec![vec![1, 2, 3, 299, 7]]), (c(1, 1), vec![vec![2, 3, 4], vec![9, 9]])],
	);
	assert!(CorpusIndex::open(&bytes[..]).is_ok());
	assert!(CorpusIndex::open(&bytes[..bytes.len() - 1]).is_err());
	assert!(CorpusIndex::open(&bytes[..10]).is_err());
	let mut rng = Lcg(9);
	let mut refused = 0;
	for _ in 0..3_000 {
		let mut tampered = bytes.clone();
		for _ in 0..1 + rng.below(3) {
			let at = rng.below(tampered.len() as u64) as usize;
			tampered[at] ^= 1 << rng.below(8);
		}
		match CorpusIndex::open(&tampered[..]) {
			Ok(index) => {
				// Whatever it opened as, searching it stays in bounds.
				for q in [vec![2, 3], vec![9], vec![1, 2, 3, 299]] {
					for k in index.find(&q) {
						index.contribution_at(index.suffix(k));
					}
				}
			},
			Err(_) => refused += 1,
		}
	}
	// Padding and reserved bytes aside, nearly every flipped bit is noticed.
	assert!(refused > 2_000, "{refused}");
}

#[test]
fn an_index_with_tokens_but_no_segments_is_refused() {
	let bytes = build(256, &[(c(1, 0), vec![bytes_of("abc")])]);
	// The same file with its one segment taken out and the header saying so: every count
	// agrees with the length, and no position maps to a contribution.
	let mut tampered = bytes.clone();
	tampered[24..32].copy_from_slice(&0u64.to_le_bytes());
	let segments = bytes.len() - 16 - 8;
	tampered.drain(segments..segments + 8);
	assert_eq!(
		CorpusIndex::open(&tampered[..]).err(),
		Some(IndexError::Malformed("the corpus does not start with a segment"))
	);
	// A segment that starts inside a document.
	let mut inside = bytes.clone();
	inside[segments..segments + 4].copy_from_slice(&1u32.to_le_bytes());
	assert!(CorpusIndex::open(&inside[..]).is_err());
}

#[test]
fn log2_in_fixed_point_is_exact_at_powers_of_two_and_close_elsewhere() {
	assert_eq!(log2_fixed(1), 0);
	assert_eq!(log2_fixed(2), 1 << 16);
	assert_eq!(log2_fixed(1 << 40), 40 << 16);
	for x in [3u64, 10, 1_000, 49_152, 40_000_000, u64::MAX] {
		let exact = (x as f64).log2() * 65_536.0;
		assert!((log2_fixed(x) as f64 - exact).abs() <= 1.0, "{x}");
	}
}

/// A byte-level corpus of two contributors.
fn two_contributors() -> Vec<u8> {
	build(
		256,
		&[
			(
				c(1, 0),
				vec![bytes_of(
					"The heron waits in the shallow reeds at dawn. It strikes at silver fish.",
				)],
			),
			(
				c(1, 1),
				vec![bytes_of(
					"A comet's tail points away from the sun. Ice turns to gas near it.",
				)],
			),
			(c(2, 7), vec![bytes_of("Shared line: the sun rises in the east.")]),
			(c(2, 8), vec![bytes_of("Another copy: the sun rises in the east.")]),
		],
	)
}

fn params(min_tokens: u32) -> SpanParams {
	SpanParams { min_tokens, max_density_ppm: 1_000_000, max_occurrences: 16, top_k: 8 }
}

fn span_texts(output: &str, attribution: &crate::Attribution) -> Vec<String> {
	attribution
		.spans
		.iter()
		.map(|s| output[s.start as usize..s.end as usize].to_string())
		.collect()
}

#[test]
fn a_copied_passage_is_attributed_to_its_contributor_with_its_span() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let output = "I read that the heron waits in the shallow reeds at dawn, they say.";
	let attribution =
		spans::attribute(&index, &TokenClasses::bytes(), &bytes_of(output), &params(12));
	assert_eq!(span_texts(output, &attribution), vec![" heron waits in the shallow reeds at dawn"]);
	assert_eq!(attribution.contributions.len(), 1);
	assert_eq!(attribution.contributions[0].contribution, c(1, 0));
	assert_eq!(attribution.contributions[0].ppb, BILLION);
	assert_eq!(attribution.spans[0].contributions, vec![c(1, 0)]);
	assert!(matches!(attribution.method, Method::Spans(p) if p.min_tokens == 12));
}

#[test]
fn spans_neither_split_words_nor_cross_a_sentence_end() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	// "eron waits" starts inside a word of the output ("Heron" is not in the corpus, "eron" is).
	let output = "Xheron waits in the shallow reeds at dawn. It strikes at silver fish.";
	let attribution =
		spans::attribute(&index, &TokenClasses::bytes(), &bytes_of(output), &params(8));
	// The corpus holds the whole text after "X", but no span starts inside "Xheron" and none
	// reaches across the full stop.
	assert_eq!(
		span_texts(output, &attribution),
		vec![" waits in the shallow reeds at dawn.", " It strikes at silver fish."]
	);
	// The end of a match inside a word is trimmed back to the word's start.
	let output = "the shallow reedsmen";
	let attribution =
		spans::attribute(&index, &TokenClasses::bytes(), &bytes_of(output), &params(8));
	assert_eq!(span_texts(output, &attribution), vec!["the shallow"]);
}

#[test]
fn only_maximal_spans_are_kept() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let output = bytes_of("A comet's tail points away from the sun");
	let found = spans::maximal_spans(&index, &TokenClasses::bytes(), &output, 4);
	assert_eq!(found.len(), 1);
	assert_eq!((found[0].start, found[0].end), (0, output.len()));
}

#[test]
fn a_span_in_several_contributions_is_shared_equally() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let output = "Today the sun rises in the east, as always.";
	let attribution =
		spans::attribute(&index, &TokenClasses::bytes(), &bytes_of(output), &params(10));
	assert_eq!(span_texts(output, &attribution), vec![" the sun rises in the east"]);
	let weights: Vec<_> =
		attribution.contributions.iter().map(|w| (w.contribution, w.ppb)).collect();
	assert_eq!(weights, vec![(c(2, 7), 500_000_000), (c(2, 8), 500_000_000)]);
}

#[test]
fn short_and_common_spans_are_dropped_and_nothing_found_names_no_one() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let classes = TokenClasses::bytes();
	let output = bytes_of("the sun rises in the east");
	assert!(!spans::attribute(&index, &classes, &output, &params(10))
		.contributions
		.is_empty());
	// Longer than the span: dropped.
	assert!(spans::attribute(&index, &classes, &output, &params(40))
		.contributions
		.is_empty());
	// More frequent than allowed: dropped.
	let common = SpanParams { max_occurrences: 1, ..params(10) };
	let attribution = spans::attribute(&index, &classes, &output, &common);
	assert!(attribution.contributions.is_empty() && attribution.spans.is_empty());
	let unrelated = bytes_of("Zebras graze quietly beyond Kilimanjaro");
	assert!(spans::attribute(&index, &classes, &unrelated, &params(6))
		.contributions
		.is_empty());
}

#[test]
fn the_density_limit_keeps_the_rarest_spans() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let output =
		"the sun rises in the east and the heron waits in the shallow reeds at dawn".to_string();
	let tokens = bytes_of(&output);
	// One span allowed for this output: the heron's, rarer than the twice-seen sun.
	let one = SpanParams { max_density_ppm: 1_000_000 / tokens.len() as u32, ..params(10) };
	let attribution = spans::attribute(&index, &TokenClasses::bytes(), &tokens, &one);
	assert_eq!(
		span_texts(&output, &attribution),
		vec![" heron waits in the shallow reeds at dawn"]
	);
	let all = spans::attribute(&index, &TokenClasses::bytes(), &tokens, &params(10));
	assert_eq!(all.spans.len(), 2);
	assert_eq!(all.contributions[0].contribution, c(1, 0));
	assert_eq!(all.contributions.iter().map(|w| u64::from(w.ppb)).sum::<u64>(), 1_000_000_000);
}

#[test]
fn span_attribution_is_the_same_from_every_thread() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let output = bytes_of("the sun rises in the east and the heron waits in the shallow reeds");
	let expected = spans::attribute(&index, &TokenClasses::bytes(), &output, &params(8));
	std::thread::scope(|s| {
		let handles: Vec<_> = (0..4)
			.map(|_| {
				s.spawn(|| spans::attribute(&index, &TokenClasses::bytes(), &output, &params(8)))
			})
			.collect();
		for h in handles {
			assert_eq!(h.join().unwrap(), expected);
		}
	});
}

#[test]
fn subword_classes_follow_the_token_texts() {
	// A vocabulary in the manner of byte-level BPE after decoding: " the" starts a word.
	let classes = TokenClasses::from_texts([" the", "her", "on", ".", "\n", " sun"]);
	let bytes = build(6, &[(c(1, 0), vec![vec![0, 1, 2, 5, 3, 0, 5]])]);
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	// " sun" "her" "on" " sun" ".": the corpus holds "her" "on" " sun" ".", but "her" continues
	// " sun" in the output, so no span starts there; the last two tokens are one.
	let found = spans::maximal_spans(&index, &classes, &[5, 1, 2, 5, 3], 2);
	let bounds: Vec<_> = found.iter().map(|s| (s.start, s.end)).collect();
	assert_eq!(bounds, vec![(3, 5)]);
	let found = spans::maximal_spans(&index, &classes, &[0, 1, 2, 5, 3, 0, 5], 2);
	let bounds: Vec<_> = found.iter().map(|s| (s.start, s.end)).collect();
	assert_eq!(bounds, vec![(0, 5), (5, 7)]);
}

#[test]
fn quantized_gradients_keep_fifteen_bits_and_multiply_exactly() {
	let mut rng = Lcg(5);
	let values: Vec<f32> = (0..512).map(|_| (rng.below(2_000_001) as f32 - 1e6) * 1e-9).collect();
	let q = Quantized::from_f32(&values);
	assert!(q.mantissas.iter().any(|m| m.unsigned_abs() >= 16_384));
	let largest = values.iter().fold(0f32, |m, v| m.max(v.abs()));
	for (v, back) in values.iter().zip(q.to_f32()) {
		assert!((v - back).abs() <= largest / 32_768.0, "{v} {back}");
	}
	assert_eq!(Quantized::from_f32(&[0.0, 0.0]).mantissas, vec![0, 0]);
	assert_eq!(Quantized::from_f32(&[f32::NAN, 1.0]).mantissas[0], 0);
}

#[test]
fn influence_names_the_positive_proponents_only() {
	let dims = 64;
	let mut rng = Lcg(11);
	let query: Vec<f32> = (0..dims).map(|_| rng.below(1000) as f32 / 1000.0 - 0.5).collect();
	let scaled = |k: f32| Quantized::from_f32(&query.iter().map(|v| v * k).collect::<Vec<_>>());
	let rows = vec![
		(c(1, 0), scaled(1.0)),
		(c(1, 1), scaled(3.0)),
		(c(1, 2), scaled(-2.0)),
		(c(1, 3), Quantized::from_f32(&vec![0.0; dims])),
		(c(1, 4), scaled(1e-2)),
		// Below the scores' precision (a thousandth of the largest): not named.
		(c(1, 5), scaled(1e-4)),
	];
	let bytes = write_features(dims as u32, 42, &rows);
	let features = Features::open(&bytes[..]).unwrap();
	let attribution = features.attribute(&Quantized::from_f32(&query), 8).unwrap();
	let named: Vec<_> = attribution.contributions.iter().map(|w| w.contribution).collect();
	assert_eq!(named, vec![c(1, 1), c(1, 0), c(1, 4)]);
	// Weights in proportion to the dot products, to the scores' ten bits: 3 : 1 : 0.01.
	let ppb: Vec<u32> = attribution.contributions.iter().map(|w| w.ppb).collect();
	assert_eq!(ppb.iter().map(|&p| u64::from(p)).sum::<u64>(), 1_000_000_000);
	assert!((i64::from(ppb[0]) - 748_129_676).abs() < 2_000_000, "{ppb:?}");
	assert!((i64::from(ppb[2]) - 2_493_766).abs() < 1_000_000, "{ppb:?}");
	assert!(matches!(attribution.method, Method::Influence(p) if p.projection_seed == 42));
	assert_eq!(
		features.attribute(&Quantized::from_f32(&[1.0; 3]), 8).err(),
		Some(FeaturesError::Dimensions { expected: 64, found: 3 })
	);
	assert!(Features::open(&bytes[..bytes.len() - 2]).is_err());
	// An output no contribution pushed towards is attributed to no one.
	let against = Quantized::from_f32(&vec![0.0; dims]);
	assert!(features.attribute(&against, 8).unwrap().contributions.is_empty());
}

#[test]
fn influence_weights_agree_when_a_few_mantissas_round_the_other_way() {
	// As two machines' kernels round about 1% of a gradient's mantissas one unit apart.
	let (dims, rows) = (1024, 12);
	let mut rng = Lcg(17);
	let random = |rng: &mut Lcg| -> Vec<f32> {
		(0..dims).map(|_| rng.below(2_001) as f32 / 1000.0 - 1.0).collect()
	};
	let features: Vec<_> = (0..rows)
		.map(|r| (c(0, r as u32), Quantized::from_f32(&random(&mut rng))))
		.collect();
	let bytes = write_features(dims as u32, 1, &features);
	let features = Features::open(&bytes[..]).unwrap();
	let (mut same, trials) = (0, 100);
	for _ in 0..trials {
		let query = Quantized::from_f32(&random(&mut rng));
		let mut other = query.clone();
		for _ in 0..dims / 100 {
			let i = rng.below(dims as u64) as usize;
			other.mantissas[i] =
				other.mantissas[i].saturating_add(if rng.below(2) == 0 { 1 } else { -1 });
		}
		same += usize::from(
			features.attribute(&query, 8).unwrap() == features.attribute(&other, 8).unwrap(),
		);
	}
	assert!(same >= trials * 95 / 100, "{same} of {trials} the same");
}

#[test]
fn influence_ties_do_not_give_the_last_places_to_the_oldest_contributions() {
	// Nine contributions with the same gradient, eight places: which one is left out depends
	// on the projection seed, not on the contributions' ids.
	let gradient = Quantized::from_f32(&[0.5, -0.25, 1.0, 0.125]);
	let left_out: std::collections::BTreeSet<u32> = (1..=16u64)
		.map(|seed| {
			let rows: Vec<_> = (0..9).map(|i| (c(0, i), gradient.clone())).collect();
			let bytes = write_features(4, seed, &rows);
			let attribution = Features::open(&bytes[..]).unwrap().attribute(&gradient, 8).unwrap();
			let ppb: Vec<u32> = attribution.contributions.iter().map(|w| w.ppb).collect();
			assert!(ppb.iter().all(|&p| p.abs_diff(125_000_000) <= 1), "{ppb:?}");
			(0..9)
				.find(|&i| attribution.contributions.iter().all(|w| w.contribution != c(0, i)))
				.unwrap()
		})
		.collect();
	assert!(left_out.len() >= 4, "{left_out:?}");
}

#[test]
fn features_with_exponents_out_of_range_are_refused() {
	let row = |exponent| (c(1, 0), Quantized { exponent, mantissas: vec![1; 4] });
	assert!(Features::open(&write_features(4, 1, &[row(-120)])[..]).is_ok());
	for exponent in [i32::MIN, -201, 201, i32::MAX] {
		let bytes = write_features(4, 1, &[row(exponent)]);
		assert_eq!(
			Features::open(&bytes[..]).err(),
			Some(FeaturesError::Malformed("an exponent out of range"))
		);
	}
}

#[test]
fn bm25_ranks_the_contribution_that_shares_the_rare_words_first() {
	let bytes = two_contributors();
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let bm25 = Bm25::new(&index);
	assert!(bm25.rank(&[]).is_empty());
	// Word-level tokens: 0 "the", 1 "sun", 2 "comet", 3 "tail", 4 "heron".
	let bytes = build(
		5,
		&[
			(c(1, 0), vec![vec![0, 4, 0, 1, 0, 0]]),
			(c(1, 1), vec![vec![0, 2, 3, 0, 1]]),
			(c(1, 2), vec![vec![0, 1, 0, 1]]),
		],
	);
	let index = CorpusIndex::open(&bytes[..]).unwrap();
	let ranked = Bm25::new(&index).rank(&[0, 2, 0, 3]);
	assert_eq!(ranked[0].0, c(1, 1));
	assert_eq!(ranked.len(), 3, "\"the\" is in every contribution");
}
