//! The Merkle tree that commits a datanet version to its contributions.
//!
//! Every datanet keeps an append-only binary Merkle tree of fixed depth [`DEPTH`] over the content
//! hashes of its accepted contributions, **in the order in which they were accepted** (position 0 is
//! the first accepted contribution). A version is a prefix of that sequence, and its root is:
//!
//! ```text
//! node(level 0, i)    = content_hash[i]                      for i < count
//!                     = ZERO[0] = [0u8; 32]                   for i >= count
//! node(level h+1, i)  = blake2_256(node(h, 2i) ++ node(h, 2i+1))
//! ZERO[h+1]           = blake2_256(ZERO[h] ++ ZERO[h])
//! version_root        = blake2_256(node(DEPTH, 0) ++ (count as u64).to_le_bytes())
//! ```
//!
//! Mixing the count into the root keeps a version of `n` leaves distinct from one of `n + k`
//! leaves whose extra leaves happen to be zero. A proof for position `i` is the [`DEPTH`] sibling
//! hashes from the leaf level upwards; [`verify`] checks it. The tree is updated in `O(DEPTH)` per
//! accepted contribution through its [`Frontier`], so publishing a version never reads every leaf.
//!
//! Everything here runs in the runtime and off-chain (with `std`) alike.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_io::hashing::blake2_256;

/// The depth of the tree: room for 2^32 contributions, as many as a `u32` position can name.
pub const DEPTH: usize = 32;

/// The hash of an inner node from its two children.
pub fn hash_pair(left: &H256, right: &H256) -> H256 {
	let mut buffer = [0u8; 64];
	let (l, r) = buffer.split_at_mut(32);
	l.copy_from_slice(left.as_bytes());
	r.copy_from_slice(right.as_bytes());
	H256(blake2_256(&buffer))
}

/// The root of a version: the tree root with the number of leaves mixed in.
pub fn mix_in_count(tree_root: &H256, count: u32) -> H256 {
	let mut buffer = [0u8; 40];
	let (root, length) = buffer.split_at_mut(32);
	root.copy_from_slice(tree_root.as_bytes());
	length.copy_from_slice(&u64::from(count).to_le_bytes());
	H256(blake2_256(&buffer))
}

/// The roots of empty subtrees, `ZERO[h]` for each level `h < DEPTH`.
pub fn zero_hashes() -> [H256; DEPTH] {
	let mut zeros = [H256::zero(); DEPTH];
	let mut current = H256::zero();
	for zero in zeros.iter_mut() {
		*zero = current;
		current = hash_pair(&current, &current);
	}
	zeros
}

/// The left edge of the filled part of the tree: enough to append a leaf and to compute the root
/// without the leaves themselves.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Frontier {
	/// The number of leaves appended so far.
	pub count: u32,
	/// `branch[h]` is the root of the last complete subtree of height `h` left of the next leaf,
	/// for each level where one is waiting for its right sibling.
	pub branch: BoundedVec<H256, ConstU32<{ DEPTH as u32 }>>,
}

/// The tree has no room for another leaf.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TreeFull;

impl Frontier {
	/// Appends the next leaf in `O(DEPTH)`.
	pub fn append(&mut self, leaf: H256) -> Result<(), TreeFull> {
		let count = self.count.checked_add(1).ok_or(TreeFull)?;
		if self.branch.len() < DEPTH {
			self.branch = BoundedVec::truncate_from(alloc::vec![H256::zero(); DEPTH]);
		}
		let mut node = leaf;
		let mut size = count;
		for slot in self.branch.iter_mut() {
			if size & 1 == 1 {
				*slot = node;
				break;
			}
			node = hash_pair(slot, &node);
			size >>= 1;
		}
		self.count = count;
		Ok(())
	}

	/// The version root over every leaf appended so far.
	pub fn root(&self) -> H256 {
		let zeros = zero_hashes();
		let mut node = H256::zero();
		let mut size = self.count;
		for (level, zero) in zeros.iter().enumerate() {
			let left = self.branch.get(level).copied().unwrap_or_default();
			node = if size & 1 == 1 { hash_pair(&left, &node) } else { hash_pair(&node, zero) };
			size >>= 1;
		}
		mix_in_count(&node, self.count)
	}
}

/// The version root over `leaves` in order, computed from all of them (for clients and tests).
pub fn root(leaves: &[H256]) -> Option<H256> {
	let mut frontier = Frontier::default();
	for leaf in leaves {
		frontier.append(*leaf).ok()?;
	}
	Some(frontier.root())
}

/// The proof for the leaf at `index` among `leaves`: its [`DEPTH`] siblings from the bottom up.
/// `None` when `index` is not a position of `leaves`.
pub fn proof(leaves: &[H256], index: u32) -> Option<Vec<H256>> {
	let zeros = zero_hashes();
	let mut position = usize::try_from(index).ok()?;
	if position >= leaves.len() {
		return None;
	}
	let mut layer: Vec<H256> = leaves.to_vec();
	let mut siblings = Vec::with_capacity(DEPTH);
	for zero in zeros.iter() {
		let sibling = layer.get(position ^ 1).copied().unwrap_or(*zero);
		siblings.push(sibling);
		layer = layer
			.chunks(2)
			.map(|pair| match pair {
				[left, right] => hash_pair(left, right),
				[left] => hash_pair(left, zero),
				_ => *zero,
			})
			.collect();
		position >>= 1;
	}
	Some(siblings)
}

/// Whether `leaf` sits at `index` in the version of `count` leaves whose root is `root`.
pub fn verify(root: &H256, count: u32, index: u32, leaf: &H256, proof: &[H256]) -> bool {
	if index >= count || proof.len() != DEPTH {
		return false;
	}
	let mut node = *leaf;
	for (level, sibling) in proof.iter().enumerate() {
		node = if (index >> level) & 1 == 1 {
			hash_pair(sibling, &node)
		} else {
			hash_pair(&node, sibling)
		};
	}
	mix_in_count(&node, count) == *root
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
	use super::*;

	fn leaves(n: u32) -> Vec<H256> {
		(0..n).map(|i| H256(blake2_256(&i.to_le_bytes()))).collect()
	}

	/// The root computed naively over a full tree of depth `DEPTH` is too large to build, so the
	/// reference pads to the next power of two and climbs the remaining levels with zero hashes.
	fn reference_root(leaves: &[H256]) -> H256 {
		let zeros = zero_hashes();
		let mut layer = leaves.to_vec();
		for zero in zeros.iter() {
			if layer.len() % 2 == 1 {
				layer.push(*zero);
			}
			if layer.is_empty() {
				layer.push(hash_pair(zero, zero));
				continue;
			}
			layer = layer.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
		}
		mix_in_count(&layer[0], leaves.len() as u32)
	}

	#[test]
	fn frontier_root_matches_the_full_tree() {
		for n in 0..40 {
			let leaves = leaves(n);
			assert_eq!(root(&leaves), Some(reference_root(&leaves)), "{n} leaves");
		}
	}

	#[test]
	fn every_leaf_has_a_proof_that_verifies() {
		for n in 1..34 {
			let leaves = leaves(n);
			let root = root(&leaves).unwrap();
			for (i, leaf) in leaves.iter().enumerate() {
				let proof = proof(&leaves, i as u32).unwrap();
				assert!(verify(&root, n, i as u32, leaf, &proof), "leaf {i} of {n}");
			}
		}
	}

	#[test]
	fn proofs_fail_for_a_wrong_leaf_position_count_or_sibling() {
		let leaves = leaves(9);
		let root = root(&leaves).unwrap();
		let proof = proof(&leaves, 4).unwrap();
		assert!(verify(&root, 9, 4, &leaves[4], &proof));
		assert!(!verify(&root, 9, 4, &leaves[5], &proof));
		assert!(!verify(&root, 9, 5, &leaves[4], &proof));
		assert!(!verify(&root, 10, 4, &leaves[4], &proof));
		assert!(!verify(&root, 9, 9, &leaves[4], &proof));
		let mut forged = proof.clone();
		forged[3] = H256::repeat_byte(7);
		assert!(!verify(&root, 9, 4, &leaves[4], &forged));
		assert!(!verify(&root, 9, 4, &leaves[4], &proof[..31]));
		assert_eq!(super::proof(&leaves, 9), None);
	}

	#[test]
	fn a_version_root_changes_with_every_appended_leaf() {
		let leaves = leaves(5);
		let mut seen = alloc::collections::BTreeSet::new();
		for n in 0..=leaves.len() {
			assert!(seen.insert(root(&leaves[..n]).unwrap()));
		}
		// A zero leaf appended still changes the root, thanks to the mixed-in count.
		let mut padded = leaves.clone();
		padded.push(H256::zero());
		assert_ne!(root(&leaves), root(&padded));
	}
}
