//! Gradient features for attribution: the gradient of a text's next-token loss with respect to
//! the weights a model trained (an adapter's `A` and `B`, or every weight of a fully trained
//! model), at its final weights (TracIn, Pruthi et al. 2020, at one checkpoint), randomly
//! projected to `dims` dimensions (TRAK, Park et al. 2023).
//!
//! The projection is a CountSketch (Charikar et al. 2002; a sparse Johnson-Lindenstrauss
//! transform): weight number `g` (counting through the trained tensors in their training order)
//! adds `±gradient[g]` to dimension `h(g) mod dims`, sign from the top bit of `h(g)`, where `h`
//! is splitmix64 of the seed and `g`. Inner products are preserved in expectation, it costs one
//! pass over the gradient, and it needs no stored matrix: the seed is all a verifier needs.

use crate::{lora::Lora, LanguageModel, MlError, Result};
use candle_core::{Tensor, Var};

/// splitmix64: the projection's hash of a weight's number.
fn mix(seed: u64, g: u64) -> u64 {
	let mut z = seed ^ g.wrapping_mul(0x9E37_79B9_7F4A_7C15);
	z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
	z ^ (z >> 31)
}

/// Adds the CountSketch of `values` (weights numbered from `first`) into `out`.
fn sketch(values: &[f32], first: u64, seed: u64, out: &mut [f32]) {
	let dims = out.len() as u64;
	for (i, v) in values.iter().enumerate() {
		let h = mix(seed, first + i as u64);
		let dim = (h % dims) as usize;
		if h >> 63 == 0 {
			out[dim] += v;
		} else {
			out[dim] -= v;
		}
	}
}

/// The trained weights: the adapter's, or the model's own.
fn trained(model: &(impl LanguageModel + ?Sized), lora: Option<&Lora>) -> Result<Vec<Var>> {
	let vars = match lora {
		Some(lora) => lora.vars(),
		None => model.trainable(),
	};
	if vars.is_empty() {
		return Err(MlError::Config(
			"the model has no trained weights to take gradients of".into(),
		));
	}
	Ok(vars)
}

/// The projected gradient of `loss` with respect to `vars`.
fn projected(loss: &Tensor, vars: &[Var], dims: usize, seed: u64) -> Result<Vec<f32>> {
	let grads = loss.backward()?;
	let mut out = vec![0f32; dims];
	let mut first = 0u64;
	for var in vars {
		let count = var.as_tensor().elem_count();
		if let Some(g) = grads.get(var.as_tensor()) {
			let values = g.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
			sketch(&values, first, seed, &mut out);
		}
		first += count as u64;
	}
	Ok(out)
}

/// The projected gradient of a training example's loss: the mean next-token loss over the first
/// `max_windows` consecutive windows of `window + 1` tokens of `tokens` (one shorter window if
/// the example is shorter), as training saw it.
pub fn example_gradient<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	tokens: &[u32],
	window: usize,
	max_windows: usize,
	dims: usize,
	seed: u64,
) -> Result<Vec<f32>> {
	if dims == 0 || window == 0 {
		return Err(MlError::Config("dimensions and window must be positive".into()));
	}
	if tokens.len() < 2 {
		return Err(MlError::NotEnoughData { tokens: tokens.len(), needed: 2 });
	}
	let vars = trained(model, lora)?;
	let len = window.min(tokens.len() - 1).min(model.context());
	let windows: Vec<&[u32]> = tokens.chunks_exact(len + 1).take(max_windows.max(1)).collect();
	let batch = Tensor::from_vec(windows.concat(), (windows.len(), len + 1), model.device())?;
	let loss = model.loss(&batch, lora)?;
	projected(&loss, &vars, dims, seed)
}

/// The mean loss of predicting each of `answer`'s tokens after `prompt` (the prompt's own tokens
/// are not scored), the input cut to the model's context from the left.
fn answer_loss_tensor<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	prompt: &[u32],
	answer: &[u32],
) -> Result<Tensor> {
	if prompt.is_empty() || answer.is_empty() {
		return Err(MlError::NotEnoughData { tokens: prompt.len() + answer.len(), needed: 2 });
	}
	let all: Vec<u32> = prompt.iter().chain(answer).copied().collect();
	let start = all.len().saturating_sub(model.context() + 1);
	let all = &all[start..];
	let scored = answer.len().min(all.len() - 1);
	let time = all.len() - 1;
	let input = Tensor::from_vec(all[..time].to_vec(), (1, time), model.device())?;
	let logits = model.forward(&input, lora)?;
	let vocabulary = logits.dim(2)?;
	let logits = logits.narrow(1, time - scored, scored)?.reshape((scored, vocabulary))?;
	let target = Tensor::from_vec(all[all.len() - scored..].to_vec(), scored, model.device())?;
	Ok(candle_nn::loss::cross_entropy(&logits, &target)?)
}

/// The mean loss of `answer` after `prompt`, in nats per token.
pub fn answer_loss<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	prompt: &[u32],
	answer: &[u32],
) -> Result<f64> {
	Ok(answer_loss_tensor(model, lora, prompt, answer)?
		.to_dtype(candle_core::DType::F64)?
		.to_scalar::<f64>()?)
}

/// The projected gradient of an answer's loss ([`answer_loss`]).
pub fn answer_gradient<M: LanguageModel + ?Sized>(
	model: &M,
	lora: Option<&Lora>,
	prompt: &[u32],
	answer: &[u32],
	dims: usize,
	seed: u64,
) -> Result<Vec<f32>> {
	if dims == 0 {
		return Err(MlError::Config("dimensions must be positive".into()));
	}
	let vars = trained(model, lora)?;
	let loss = answer_loss_tensor(model, lora, prompt, answer)?;
	projected(&loss, &vars, dims, seed)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::tiny::TinyByteGpt;
	use candle_core::Device;

	#[test]
	fn the_sketch_preserves_inner_products_in_expectation() {
		// Random vectors with a known inner product, sketched under many seeds.
		let n = 20_000;
		let a: Vec<f32> = (0..n).map(|i| ((mix(1, i) % 1000) as f32 / 1000.0) - 0.5).collect();
		let b: Vec<f32> = a
			.iter()
			.enumerate()
			.map(|(i, v)| v * 0.5 + ((mix(2, i as u64) % 1000) as f32 / 2000.0) - 0.25)
			.collect();
		let exact: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
		let mut estimates = Vec::new();
		for seed in 0..20 {
			let (mut pa, mut pb) = (vec![0f32; 1024], vec![0f32; 1024]);
			sketch(&a, 0, seed, &mut pa);
			sketch(&b, 0, seed, &mut pb);
			estimates
				.push(pa.iter().zip(&pb).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>());
		}
		let mean = estimates.iter().sum::<f64>() / estimates.len() as f64;
		assert!((mean - exact).abs() < 0.1 * exact.abs(), "{mean} against {exact}");
	}

	#[test]
	fn gradients_are_deterministic_and_point_to_what_lowers_the_loss() {
		let model = TinyByteGpt::base(&Device::Cpu).unwrap();
		let text: Vec<u32> =
			b"the heron waits in the reeds at dawn".iter().map(|&b| u32::from(b)).collect();
		let first = example_gradient(&model, None, &text, 16, 4, 256, 7).unwrap();
		assert_eq!(first, example_gradient(&model, None, &text, 16, 4, 256, 7).unwrap());
		assert_ne!(first, example_gradient(&model, None, &text, 16, 4, 256, 8).unwrap());
		assert!(first.iter().any(|v| *v != 0.0));
		// The same text as an answer: its gradient points the same way as the example's.
		let answer = answer_gradient(&model, None, &text[..8], &text[8..], 256, 7).unwrap();
		let dot: f32 = first.iter().zip(&answer).map(|(a, b)| a * b).sum();
		assert!(dot > 0.0, "{dot}");
	}
}
