//! From scores to weights: the top k contributions, in integer parts per billion that sum to
//! exactly one billion, the same on every machine.

use serde::Serialize;

use crate::ContributionRef;

/// One billion: the weights of an attribution sum to it.
pub const BILLION: u32 = 1_000_000_000;
/// The most contributions an attribution names.
pub const MAX_TOP_K: u32 = 32;

/// A contribution's share of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Weight {
	#[serde(flatten)]
	pub contribution: ContributionRef,
	/// Parts per billion.
	pub ppb: u32,
}

/// The `k` highest positive scores (ties broken by the contribution, lower first), each given
/// `floor(score * 1e9 / total)` and the parts still missing handed out one each by the largest
/// remainders (ties by rank), so the weights sum to exactly [`BILLION`]. No positive score, no
/// weights.
pub fn top_k(mut scores: Vec<(ContributionRef, u128)>, k: u32) -> Vec<Weight> {
	scores.retain(|(_, score)| *score > 0);
	scores.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
	scores.truncate(k.min(MAX_TOP_K) as usize);
	let total: u128 = scores.iter().map(|(_, s)| *s).sum();
	if total == 0 {
		return Vec::new();
	}
	let billion = u128::from(BILLION);
	let mut weights: Vec<(Weight, u128)> = scores
		.iter()
		.map(|&(contribution, score)| {
			// score <= total, and scores stay far below 2^96: no overflow.
			let scaled = score * billion;
			(Weight { contribution, ppb: (scaled / total) as u32 }, scaled % total)
		})
		.collect();
	let given: u128 = weights.iter().map(|(w, _)| u128::from(w.ppb)).sum();
	let missing = (billion - given) as usize;
	let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
	by_remainder.sort_by(|&a, &b| weights[b].1.cmp(&weights[a].1).then(a.cmp(&b)));
	for &i in by_remainder.iter().take(missing) {
		weights[i].0.ppb += 1;
	}
	weights.into_iter().map(|(w, _)| w).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn c(contribution: u32) -> ContributionRef {
		ContributionRef { datanet: 1, contribution }
	}

	#[test]
	fn weights_sum_to_exactly_one_billion_whatever_the_scores() {
		let mut seed = 7u64;
		for round in 0..500 {
			let n = 1 + round % 40;
			let scores: Vec<_> = (0..n)
				.map(|i| {
					seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
					(c(i as u32), u128::from(seed >> (seed % 60)) + 1)
				})
				.collect();
			let weights = top_k(scores.clone(), 32);
			assert_eq!(weights.len(), n.min(32));
			assert_eq!(weights.iter().map(|w| u64::from(w.ppb)).sum::<u64>(), 1_000_000_000);
			// The highest scores are kept, in order.
			let mut sorted = scores;
			sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
			for (w, (contribution, _)) in weights.iter().zip(&sorted) {
				assert_eq!(w.contribution, *contribution);
			}
		}
	}

	#[test]
	fn thirds_give_the_missing_part_to_the_first() {
		let weights = top_k(vec![(c(3), 1), (c(1), 1), (c(2), 1)], 8);
		let ppb: Vec<_> = weights.iter().map(|w| (w.contribution.contribution, w.ppb)).collect();
		assert_eq!(ppb, vec![(1, 333_333_334), (2, 333_333_333), (3, 333_333_333)]);
	}

	#[test]
	fn no_positive_score_names_no_one() {
		assert!(top_k(vec![(c(1), 0), (c(2), 0)], 8).is_empty());
		assert!(top_k(Vec::new(), 8).is_empty());
		assert_eq!(
			top_k(vec![(c(1), 0), (c(2), 5)], 8),
			vec![Weight { contribution: c(2), ppb: BILLION }]
		);
	}

	#[test]
	fn k_is_capped_at_thirty_two() {
		let scores = (0..100).map(|i| (c(i), 100 + u128::from(i))).collect();
		assert_eq!(top_k(scores, 1_000).len(), 32);
	}
}
