//! The paged KV cache (vLLM's PagedAttention, Kwon et al. 2023): one pool of fixed-size blocks,
//! each holding the keys and values of `block_size` consecutive positions of one sequence in
//! every layer, and a block table per sequence.
//!
//! The pool is one allocation made when the engine starts, sized by its capacity in blocks (as
//! vLLM sizes its GPU pool); a sequence takes a block from it only when its next position needs
//! one, so no sequence reserves room for its longest possible reply, and freeing a sequence
//! returns its blocks. When the pool has too few free blocks for a step, the step is refused
//! with [`MlError::CacheFull`] and nothing changes: the scheduler decides whom to pre-empt.

use crate::{MlError, Result};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;

/// The number of positions a block holds unless configured otherwise (vLLM's default).
pub const DEFAULT_BLOCK_SIZE: usize = 16;

/// The pool's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KvCacheConfig {
	/// Positions per block.
	pub block_size: usize,
	/// Blocks in the pool: at most `capacity_blocks * block_size` positions over all sequences.
	pub capacity_blocks: usize,
}

impl KvCacheConfig {
	/// A pool of `capacity_blocks` blocks of [`DEFAULT_BLOCK_SIZE`] positions.
	pub fn blocks(capacity_blocks: usize) -> Self {
		Self { block_size: DEFAULT_BLOCK_SIZE, capacity_blocks }
	}
}

/// A sequence whose keys and values the cache holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SequenceId(u64);

/// One sequence's block table and how many of its positions are cached.
#[derive(Clone, Debug, Default)]
struct Sequence {
	blocks: Vec<u32>,
	len: usize,
}

/// The pool of blocks and each sequence's block table.
pub struct PagedKvCache {
	config: KvCacheConfig,
	kv_dim: usize,
	/// Per layer, keys and values: `[capacity_blocks * block_size, kv_dim]`, slot `b * block_size
	/// + i` holding position `i` of block `b`.
	layers: Vec<(Tensor, Tensor)>,
	/// Free block ids; the next one taken is the last.
	free: Vec<u32>,
	sequences: HashMap<SequenceId, Sequence>,
	next_id: u64,
}

impl PagedKvCache {
	/// A pool for a model of `layers` layers whose keys and values have `kv_dim` values per
	/// position (`kv_heads * head_dim`).
	pub fn new(
		layers: usize,
		kv_dim: usize,
		config: KvCacheConfig,
		device: &Device,
	) -> Result<Self> {
		if config.block_size == 0 || config.capacity_blocks == 0 {
			return Err(MlError::Config("a KV cache needs blocks of at least one position".into()));
		}
		if u32::try_from(config.capacity_blocks).is_err() {
			return Err(MlError::Config("too many KV cache blocks".into()));
		}
		let slots = config.capacity_blocks * config.block_size;
		let layers = (0..layers)
			.map(|_| {
				let k = Tensor::zeros((slots, kv_dim), DType::F32, device)?;
				let v = Tensor::zeros((slots, kv_dim), DType::F32, device)?;
				Ok((k, v))
			})
			.collect::<Result<Vec<_>>>()?;
		let free = (0..config.capacity_blocks as u32).rev().collect();
		Ok(Self { config, kv_dim, layers, free, sequences: HashMap::new(), next_id: 0 })
	}

	pub fn config(&self) -> KvCacheConfig {
		self.config
	}

	/// The bytes the pool holds, used or not.
	pub fn bytes(&self) -> usize {
		2 * self.layers.len()
			* self.config.capacity_blocks
			* self.config.block_size
			* self.kv_dim
			* 4
	}

	/// A new, empty sequence: it holds no block until a step writes its first position.
	pub fn create(&mut self) -> SequenceId {
		let id = SequenceId(self.next_id);
		self.next_id += 1;
		self.sequences.insert(id, Sequence::default());
		id
	}

	/// Forgets `sequence` and returns its blocks to the pool.
	pub fn free(&mut self, sequence: SequenceId) -> Result<()> {
		let seq = self.sequences.remove(&sequence).ok_or_else(|| unknown(sequence))?;
		self.free.extend(seq.blocks.into_iter().rev());
		Ok(())
	}

	/// How many positions of `sequence` are cached.
	pub fn len(&self, sequence: SequenceId) -> Option<usize> {
		self.sequences.get(&sequence).map(|s| s.len)
	}

	/// The block table of `sequence`: its blocks in position order.
	pub fn blocks(&self, sequence: SequenceId) -> Option<&[u32]> {
		self.sequences.get(&sequence).map(|s| s.blocks.as_slice())
	}

	pub fn free_blocks(&self) -> usize {
		self.free.len()
	}

	pub fn used_blocks(&self) -> usize {
		self.config.capacity_blocks - self.free.len()
	}

	/// The live sequences.
	pub fn sequences(&self) -> usize {
		self.sequences.len()
	}

	/// Blocks that hold `positions` positions.
	fn blocks_for(&self, positions: usize) -> usize {
		positions.div_ceil(self.config.block_size)
	}

	/// Makes room for each `(sequence, start, count)`: the sequence is cut back to `start`
	/// positions (a rewrite from `start` on), then grown to `start + count` with blocks from the
	/// pool. All or nothing: if the pool cannot hold every row, nothing changes.
	pub(crate) fn prepare(&mut self, rows: &[(SequenceId, usize, usize)]) -> Result<()> {
		let mut needed = 0usize;
		let mut released = 0usize;
		for (i, &(id, start, count)) in rows.iter().enumerate() {
			let seq = self.sequences.get(&id).ok_or_else(|| unknown(id))?;
			if rows[..i].iter().any(|r| r.0 == id) {
				return Err(MlError::Config(format!("{id:?} has two rows in one step")));
			}
			if start > seq.len {
				return Err(MlError::Config(format!(
					"{id:?} has {} cached positions; a row cannot start at {start}",
					seq.len
				)));
			}
			let kept = self.blocks_for(start);
			released += seq.blocks.len() - kept;
			needed += self.blocks_for(start + count) - kept;
		}
		let free = self.free.len() + released;
		if needed > free {
			return Err(MlError::CacheFull { needed, free });
		}
		for &(id, start, count) in rows {
			let kept = self.blocks_for(start);
			let want = self.blocks_for(start + count);
			let Some(seq) = self.sequences.get_mut(&id) else { continue };
			self.free.extend(seq.blocks.drain(kept..).rev());
			while seq.blocks.len() < want {
				let Some(block) = self.free.pop() else {
					return Err(MlError::CacheFull { needed: 1, free: 0 });
				};
				seq.blocks.push(block);
			}
			seq.len = start + count;
		}
		Ok(())
	}

	/// Cuts `sequence` back to `len` positions (after a failed step), keeping its blocks.
	pub(crate) fn truncate(&mut self, sequence: SequenceId, len: usize) {
		if let Some(seq) = self.sequences.get_mut(&sequence) {
			seq.len = seq.len.min(len);
		}
	}

	/// The slot of position `position` of `sequence` (which [`PagedKvCache::prepare`] has grown
	/// past it).
	pub(crate) fn slot(&self, sequence: SequenceId, position: usize) -> Result<u32> {
		let seq = self.sequences.get(&sequence).ok_or_else(|| unknown(sequence))?;
		let block = seq
			.blocks
			.get(position / self.config.block_size)
			.ok_or_else(|| MlError::Config(format!("{sequence:?} has no position {position}")))?;
		Ok(block * self.config.block_size as u32 + (position % self.config.block_size) as u32)
	}

	/// The block table of `sequence` as a tensor (`u32`, `[blocks]`).
	pub(crate) fn table(&self, sequence: SequenceId, device: &Device) -> Result<Tensor> {
		let blocks = self.blocks(sequence).ok_or_else(|| unknown(sequence))?;
		Ok(Tensor::from_slice(blocks, blocks.len(), device)?)
	}

	/// Writes the keys and values of a step's tokens into their slots of `layer`.
	// k, v: [tokens, kv_dim]; slots: u32 [tokens, kv_dim], each row its token's slot.
	pub(crate) fn write(&self, layer: usize, k: &Tensor, v: &Tensor, slots: &Tensor) -> Result<()> {
		let (keys, values) = &self.layers[layer];
		keys.scatter_set(slots, &k.contiguous()?, 0)?;
		values.scatter_set(slots, &v.contiguous()?, 0)?;
		Ok(())
	}

	/// The keys and values of the first `len` positions of the sequence whose block table is
	/// `table`, in `layer`: a gather of its blocks.
	// table: u32 [blocks] -> k, v: [len, kv_dim]
	pub(crate) fn read(
		&self,
		layer: usize,
		table: &Tensor,
		len: usize,
	) -> Result<(Tensor, Tensor)> {
		let (keys, values) = &self.layers[layer];
		let (block, dim) = (self.config.block_size, self.kv_dim);
		let blocks = table.dim(0)?;
		let gather = |store: &Tensor| -> Result<Tensor> {
			Ok(store
				.reshape((self.config.capacity_blocks, block * dim))?
				.index_select(table, 0)?
				.reshape((blocks * block, dim))?
				.narrow(0, 0, len)?)
		};
		Ok((gather(keys)?, gather(values)?))
	}
}

impl PagedKvCache {
	/// Calls `f` with the keys and values of `layer` as host memory (`[slots, kv_dim]` each,
	/// row-major); `None` when they are not in host memory (a GPU device).
	pub(crate) fn with_host_layer<R>(
		&self,
		layer: usize,
		f: impl FnOnce(&[f32], &[f32]) -> R,
	) -> Option<R> {
		let (keys, values) = self.layers.get(layer)?;
		super::host::with_host2(keys, values, f)
	}
}

fn unknown(sequence: SequenceId) -> MlError {
	MlError::Config(format!("the KV cache has no {sequence:?}"))
}
