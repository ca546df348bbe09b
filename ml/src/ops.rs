//! The transformer's pieces, built from differentiable tensor operations (candle's fused kernels
//! for these have no backward pass).

use crate::Result;
use candle_core::{DType, Device, Tensor, D};

/// 0 where a position may look (itself and before), a large negative number after.
pub(crate) fn causal_mask(time: usize, dtype: DType, device: &Device) -> Result<Tensor> {
	let values: Vec<f32> = (0..time)
		.flat_map(|i| (0..time).map(move |j| if j <= i { 0.0 } else { -1e9 }))
		.collect();
	Ok(Tensor::from_vec(values, (time, time), device)?.to_dtype(dtype)?)
}

/// RMS norm over the last dimension, scaled by `weight`.
pub(crate) fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
	let mean_square = x.sqr()?.mean_keepdim(D::Minus1)?;
	let normed = x.broadcast_div(&(mean_square + eps)?.sqrt()?)?;
	Ok(normed.broadcast_mul(weight)?)
}

/// Softmax over the last dimension.
pub(crate) fn softmax_last(x: &Tensor) -> Result<Tensor> {
	// The maximum only keeps the exponentials finite; no gradient flows through it.
	let max = x.max_keepdim(D::Minus1)?.detach();
	let e = x.broadcast_sub(&max)?.exp()?;
	Ok(e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?)
}

/// `x * sigmoid(x)`.
pub(crate) fn silu(x: &Tensor) -> Result<Tensor> {
	Ok(x.broadcast_div(&(x.neg()?.exp()? + 1.0)?)?)
}
