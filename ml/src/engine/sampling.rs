//! Choosing the next token from a row's logits: greedy, or drawn at a temperature from the
//! smallest set of tokens whose probability reaches `top_p` (nucleus sampling, Holtzman et al.
//! 2020), with the request's own seeded generator, so that a request gives the same tokens
//! whatever else the engine serves. Each chosen token comes with its log-probability under the
//! model, the log-softmax of the unmodified logits.

use crate::{rng::Rng, MlError, Result};

/// How a request chooses its tokens.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingParams {
	/// 0 is greedy decoding.
	pub temperature: f32,
	/// The probability mass to draw from, in `(0, 1]`; 0 is greedy decoding.
	pub top_p: f32,
	/// The seed of this request's generator.
	pub seed: u64,
	/// The most tokens to generate.
	pub max_tokens: usize,
	/// Go on past the model's stop tokens.
	pub ignore_stop_tokens: bool,
}

impl Default for SamplingParams {
	fn default() -> Self {
		Self { temperature: 0.0, top_p: 1.0, seed: 0, max_tokens: 16, ignore_stop_tokens: false }
	}
}

impl SamplingParams {
	/// Greedy decoding of up to `max_tokens` tokens.
	pub fn greedy(max_tokens: usize) -> Self {
		Self { max_tokens, ..Self::default() }
	}

	pub fn is_greedy(&self) -> bool {
		self.temperature <= 0.0 || self.top_p <= 0.0
	}

	fn check(&self) -> Result<()> {
		if !self.temperature.is_finite() || self.temperature < 0.0 {
			return Err(MlError::Config(format!("temperature {}", self.temperature)));
		}
		if !(0.0..=1.0).contains(&self.top_p) {
			return Err(MlError::Config(format!("top_p {} is not in [0, 1]", self.top_p)));
		}
		Ok(())
	}
}

/// A chosen token and its log-probability under the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampled {
	pub token: u32,
	pub logprob: f32,
}

/// One request's sampler: its settings and its generator.
#[derive(Clone, Debug)]
pub struct Sampler {
	params: SamplingParams,
	rng: Rng,
}

impl Sampler {
	pub fn new(params: SamplingParams) -> Result<Self> {
		params.check()?;
		let rng = Rng::new(params.seed);
		Ok(Self { params, rng })
	}

	pub fn params(&self) -> &SamplingParams {
		&self.params
	}

	/// The next token of a row whose next-token logits are `logits` (`[vocabulary]`).
	pub fn sample(&mut self, logits: &[f32]) -> Result<Sampled> {
		if logits.is_empty() {
			return Err(MlError::Config("no logits to sample from".into()));
		}
		let token = if self.params.is_greedy() { argmax(logits) } else { self.nucleus(logits) };
		Ok(Sampled { token: token as u32, logprob: log_prob(logits, token) })
	}

	/// Draws from `softmax(logits / temperature)` cut to its top-`p` nucleus.
	fn nucleus(&mut self, logits: &[f32]) -> usize {
		let t = f64::from(self.params.temperature);
		let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
		let weights: Vec<f64> = logits.iter().map(|&l| (f64::from(l - max) / t).exp()).collect();
		let total: f64 = weights.iter().sum();
		// Most probable first; ties by token id, so that the order is fixed.
		let mut order: Vec<usize> = (0..logits.len()).collect();
		order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
		let target = f64::from(self.params.top_p) * total;
		let mut kept = 0.0;
		let mut nucleus = 0;
		for &i in &order {
			kept += weights[i];
			nucleus += 1;
			if kept >= target {
				break;
			}
		}
		let mut draw = self.rng.uniform() * kept;
		for &i in &order[..nucleus] {
			draw -= weights[i];
			if draw < 0.0 {
				return i;
			}
		}
		order[nucleus - 1]
	}
}

/// The index of the largest logit (the first of equals).
pub fn argmax(logits: &[f32]) -> usize {
	let mut best = 0;
	for (i, &l) in logits.iter().enumerate() {
		if l > logits[best] {
			best = i;
		}
	}
	best
}

/// Element `token` of [`log_softmax`], computed alone (the same value, without the vector).
fn log_prob(logits: &[f32], token: usize) -> f32 {
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
	let chosen = logits.get(token).copied().unwrap_or(f32::NEG_INFINITY);
	(f64::from(chosen - max) - sum.ln()) as f32
}

/// `log softmax(logits)`, in f64 then rounded: `l_i - max - ln Σ_j exp(l_j - max)`.
pub fn log_softmax(logits: &[f32]) -> Vec<f32> {
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
	let log_sum = sum.ln();
	logits.iter().map(|&l| (f64::from(l - max) - log_sum) as f32).collect()
}

/// Where the first of `stops` begins in `text`, if any: the caller cuts its reply there.
pub fn find_stop(text: &str, stops: &[&str]) -> Option<usize> {
	stops.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s)).min()
}

/// How many bytes at the end of `text` could still begin a stop sequence, and so must be held
/// back from a stream until the next token decides.
pub fn held_back(text: &str, stops: &[&str]) -> usize {
	let mut longest = 0;
	for stop in stops {
		for (i, _) in stop.char_indices().skip(1) {
			if text.ends_with(&stop[..i]) {
				longest = longest.max(i);
			}
		}
	}
	longest
}
