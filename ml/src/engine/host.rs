//! Arithmetic straight over tensors in host memory, for the per-row work of a step (attention,
//! BGMV) whose many small shapes cost more in tensor operations than in arithmetic. Each result
//! is computed in a fixed order from its own inputs alone, so a row's values do not depend on
//! the other rows of its step.

use candle_core::{CpuStorage, Storage, Tensor};

/// Calls `f` with the f32 values of `a` and `b` in host memory, row-major; `None` when either is
/// not a contiguous f32 tensor in host memory (a GPU device).
pub(crate) fn with_host2<R>(
	a: &Tensor,
	b: &Tensor,
	f: impl FnOnce(&[f32], &[f32]) -> R,
) -> Option<R> {
	let (a_storage, a_layout) = a.storage_and_layout();
	let (b_storage, b_layout) = b.storage_and_layout();
	let (a_start, a_end) = a_layout.contiguous_offsets()?;
	let (b_start, b_end) = b_layout.contiguous_offsets()?;
	match (&*a_storage, &*b_storage) {
		(Storage::Cpu(CpuStorage::F32(a)), Storage::Cpu(CpuStorage::F32(b))) => {
			Some(f(a.get(a_start..a_end)?, b.get(b_start..b_end)?))
		},
		_ => None,
	}
}

/// The dot product of two vectors, summed in eight lanes (which the compiler vectorises) and
/// then in a fixed order.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
	let mut lanes = [0f32; 8];
	let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
	let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, y)| x * y).sum();
	for (x, y) in a8.zip(b8) {
		for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
			*lane += x * y;
		}
	}
	lanes.iter().sum::<f32>() + tail
}

/// `y += alpha * x`.
pub(crate) fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
	for (y, x) in y.iter_mut().zip(x) {
		*y += alpha * x;
	}
}
