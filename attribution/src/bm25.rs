//! Okapi BM25 (Robertson and Zaragoza, 2009) over the contributions of a corpus index: the
//! lexical baseline that attribution quality is measured against (FTRACE and DATE-LM find it hard
//! to beat at locating the passage that states a fact). Each contribution is one document of its
//! tokens; the query is the output's tokens. Floating point: it is a baseline, never a payment.

use std::collections::HashMap;

use crate::{index::CorpusIndex, ContributionRef};

/// An inverted index of a corpus's contributions.
pub struct Bm25 {
	contributions: Vec<ContributionRef>,
	lengths: Vec<f64>,
	average: f64,
	postings: HashMap<u32, Vec<(u32, u32)>>,
	k1: f64,
	b: f64,
}

impl Bm25 {
	/// With the usual `k1 = 1.2`, `b = 0.75`.
	pub fn new<B: AsRef<[u8]>>(index: &CorpusIndex<B>) -> Self {
		let contributions: Vec<ContributionRef> =
			(0..index.contribution_count()).map(|i| index.contribution(i).0).collect();
		let mut counts: Vec<HashMap<u32, u32>> = vec![HashMap::new(); contributions.len()];
		let mut lengths = vec![0f64; contributions.len()];
		for (start, end, c) in index.segments() {
			let terms = &mut counts[c as usize];
			for p in start..end {
				*terms.entry(u32::from(index.token(p))).or_default() += 1;
			}
			lengths[c as usize] += (end - start) as f64;
		}
		let mut postings: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
		for (c, terms) in counts.into_iter().enumerate() {
			for (term, tf) in terms {
				postings.entry(term).or_default().push((c as u32, tf));
			}
		}
		let average = lengths.iter().sum::<f64>() / lengths.len().max(1) as f64;
		Self { contributions, lengths, average, postings, k1: 1.2, b: 0.75 }
	}

	/// Every contribution with a positive score, highest first.
	pub fn rank(&self, query: &[u32]) -> Vec<(ContributionRef, f64)> {
		let n = self.contributions.len() as f64;
		let mut terms: Vec<u32> = query.to_vec();
		terms.sort_unstable();
		let mut scores = vec![0f64; self.contributions.len()];
		for group in terms.chunk_by(|a, b| a == b) {
			let Some(postings) = self.postings.get(&group[0]) else { continue };
			let df = postings.len() as f64;
			let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
			for &(c, tf) in postings {
				let tf = f64::from(tf);
				let norm =
					self.k1 * (1.0 - self.b + self.b * self.lengths[c as usize] / self.average);
				scores[c as usize] += group.len() as f64 * idf * tf * (self.k1 + 1.0) / (tf + norm);
			}
		}
		let mut ranked: Vec<(ContributionRef, f64)> = self
			.contributions
			.iter()
			.zip(scores)
			.filter(|(_, s)| *s > 0.0)
			.map(|(c, s)| (*c, s))
			.collect();
		ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
		ranked
	}
}
