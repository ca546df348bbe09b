//! The adapter pool: the adapters a server holds in host memory, loaded on first use and let go
//! least-recently-used first (LoRAX's adapter manager, S-LoRA's unified memory pool on the host
//! side).
//!
//! ## Policy
//!
//! - **Slots and bytes.** The pool holds at most [`PoolConfig::max_adapters`] adapters and
//!   [`PoolConfig::max_bytes`] bytes of their matrices ([`Adapter::bytes`], f32). An adapter
//!   larger than the byte capacity is refused ([`PoolError::TooLarge`]).
//! - **Checked bytes.** An adapter is loaded from bytes (PEFT's `adapter_model.safetensors`)
//!   whose blake2b-256 must be the hash the chain registered for it; a mismatch is refused
//!   ([`PoolError::HashMismatch`]) and nothing is cached.
//! - **Eviction.** When a new adapter would pass either capacity, the least recently used
//!   adapters that are not pinned are evicted until it fits. An adapter is **pinned** while
//!   anyone else holds its `Arc` (a running request's [`AdapterSet`](super::AdapterSet) does):
//!   pinned adapters are never evicted and count as not evictable. When even evicting every
//!   unpinned adapter leaves no room, the load is refused ([`PoolError::Full`]) and the caller
//!   tries again once requests have finished. An evicted adapter is loaded again on its next use.
//! - **Loading outside the lock.** The pool is `Send + Sync`: one mutex guards its table, held
//!   only to look up, account and evict. Fetching, hashing and parsing an adapter run outside
//!   it, so other adapters' requests go on while one loads (on whichever thread the caller
//!   chooses: [`AdapterPool::prefetch`] is meant for a loader thread). While an adapter is
//!   loading, other callers asking for the same key wait for that load instead of fetching it
//!   again.
//! - **Counters** ([`PoolStats`]): hits, misses, loads, evictions, refusals, and the adapters,
//!   bytes and pins held, for Prometheus.

use super::{Adapter, ServingModel};
use crate::{lora::LoraConfig, MlError};
use std::{
	collections::{HashMap, HashSet},
	fmt::Debug,
	hash::Hash,
	sync::{Arc, Condvar, Mutex, MutexGuard},
};

/// What a pool's keys need: the chain's adapter ids, content hashes, names.
pub trait PoolKey: Clone + Eq + Hash + Debug + Send + 'static {}
impl<K: Clone + Eq + Hash + Debug + Send + 'static> PoolKey for K {}

/// The blake2b-256 of `bytes`: the hash the chain registers for an adapter's file.
pub fn adapter_hash(bytes: &[u8]) -> [u8; 32] {
	let digest = blake2b_simd::Params::new().hash_length(32).hash(bytes);
	let mut hash = [0u8; 32];
	hash.copy_from_slice(digest.as_bytes());
	hash
}

/// A pool's capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PoolConfig {
	/// The most adapters held at once (slots).
	pub max_adapters: usize,
	/// The most bytes of adapter matrices held at once ([`Adapter::bytes`]).
	pub max_bytes: usize,
}

/// A pool's counters, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
	/// Uses that found their adapter held.
	pub hits: u64,
	/// Uses (and prefetches) that had to load it.
	pub misses: u64,
	/// Adapters loaded into the pool.
	pub loads: u64,
	/// Adapters let go to make room.
	pub evictions: u64,
	/// Loads refused (bad bytes, too large, no room, a failed fetch).
	pub refused: u64,
	/// Adapters held now.
	pub adapters: usize,
	/// Bytes held now.
	pub bytes: usize,
	/// Adapters held now that a request is using.
	pub pinned: usize,
}

/// Where a key stands in the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residency {
	Held,
	Loading,
	Absent,
}

/// Why an adapter was not loaded. Nothing is cached for it.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
	#[error(
		"the adapter's bytes hash to {}, not to the registered {}",
		hex(actual),
		hex(expected)
	)]
	HashMismatch { expected: [u8; 32], actual: [u8; 32] },
	#[error("the adapter holds {bytes} bytes; the pool holds at most {capacity}")]
	TooLarge { bytes: usize, capacity: usize },
	#[error(
		"no room for an adapter of {bytes} bytes: {pinned_adapters} adapters ({pinned_bytes} \
		 bytes) are in use"
	)]
	Full { bytes: usize, pinned_adapters: usize, pinned_bytes: usize },
	#[error("fetching the adapter: {0}")]
	Fetch(MlError),
	#[error("the adapter is not valid for this model: {0}")]
	Invalid(MlError),
}

fn hex(hash: &[u8; 32]) -> String {
	hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// One held adapter.
struct Slot {
	adapter: Arc<Adapter>,
	hash: [u8; 32],
	bytes: usize,
	/// The pool's clock at its last use: the smallest is the least recently used.
	used: u64,
}

impl Slot {
	fn pinned(&self) -> bool {
		Arc::strong_count(&self.adapter) > 1
	}
}

struct Inner<K> {
	slots: HashMap<K, Slot>,
	loading: HashSet<K>,
	bytes: usize,
	clock: u64,
	stats: PoolStats,
}

impl<K: PoolKey> Inner<K> {
	fn touch(&mut self, key: &K) -> Option<Arc<Adapter>> {
		self.clock += 1;
		let clock = self.clock;
		let slot = self.slots.get_mut(key)?;
		slot.used = clock;
		Some(slot.adapter.clone())
	}

	fn remove(&mut self, key: &K) -> bool {
		match self.slots.remove(key) {
			Some(slot) => {
				self.bytes -= slot.bytes;
				true
			},
			None => false,
		}
	}

	/// Evicts the least recently used unpinned adapters until one more of `bytes` fits.
	fn make_room(&mut self, bytes: usize, config: &PoolConfig) -> Result<(), PoolError> {
		while self.slots.len() + 1 > config.max_adapters || self.bytes + bytes > config.max_bytes {
			let victim = self
				.slots
				.iter()
				.filter(|(_, s)| !s.pinned())
				.min_by_key(|(_, s)| s.used)
				.map(|(k, _)| k.clone());
			let Some(victim) = victim else {
				let pinned = self.slots.values().filter(|s| s.pinned());
				return Err(PoolError::Full {
					bytes,
					pinned_adapters: pinned.clone().count(),
					pinned_bytes: pinned.map(|s| s.bytes).sum(),
				});
			};
			self.remove(&victim);
			self.stats.evictions += 1;
		}
		Ok(())
	}
}

/// Adapters for one served base model, held in host memory up to a capacity: see the module
/// documentation for the policy. Share it as `Arc<AdapterPool<K>>`.
pub struct AdapterPool<K> {
	model: ServingModel,
	config: PoolConfig,
	inner: Mutex<Inner<K>>,
	/// Signalled when a load ends, for callers waiting on the same key.
	loaded: Condvar,
}

/// Clears a key's loading mark however its load ends (a panicking fetch included).
struct LoadingMark<'a, K: PoolKey> {
	pool: &'a AdapterPool<K>,
	key: &'a K,
}

impl<K: PoolKey> Drop for LoadingMark<'_, K> {
	fn drop(&mut self) {
		self.pool.lock().loading.remove(self.key);
		self.pool.loaded.notify_all();
	}
}

impl<K: PoolKey> AdapterPool<K> {
	/// An empty pool for adapters of `model`. Refused when either capacity is zero.
	pub fn new(model: ServingModel, config: PoolConfig) -> crate::Result<Self> {
		if config.max_adapters == 0 || config.max_bytes == 0 {
			return Err(MlError::Config("an adapter pool needs room for an adapter".into()));
		}
		let inner = Inner {
			slots: HashMap::new(),
			loading: HashSet::new(),
			bytes: 0,
			clock: 0,
			stats: PoolStats::default(),
		};
		Ok(Self { model, config, inner: Mutex::new(inner), loaded: Condvar::new() })
	}

	pub fn config(&self) -> PoolConfig {
		self.config
	}

	pub fn model(&self) -> &ServingModel {
		&self.model
	}

	fn lock(&self) -> MutexGuard<'_, Inner<K>> {
		// The table stays consistent whatever panicked while holding it: every change is made
		// in full before the guard is dropped.
		self.inner.lock().unwrap_or_else(|e| e.into_inner())
	}

	/// The counters now.
	pub fn stats(&self) -> PoolStats {
		let inner = self.lock();
		PoolStats {
			adapters: inner.slots.len(),
			bytes: inner.bytes,
			pinned: inner.slots.values().filter(|s| s.pinned()).count(),
			..inner.stats
		}
	}

	/// Whether `key` is held, being loaded, or neither. Counts nothing.
	pub fn residency(&self, key: &K) -> Residency {
		let inner = self.lock();
		if inner.slots.contains_key(key) {
			Residency::Held
		} else if inner.loading.contains(key) {
			Residency::Loading
		} else {
			Residency::Absent
		}
	}

	/// The adapter held under `key`, if any, marked as just used (a hit). Holding the returned
	/// `Arc` pins it. A key not held counts nothing: the miss is counted by the load.
	pub fn get(&self, key: &K) -> Option<Arc<Adapter>> {
		let mut inner = self.lock();
		let adapter = inner.touch(key)?;
		inner.stats.hits += 1;
		Some(adapter)
	}

	/// The adapter of `key`: the one held (a hit) if its registered hash is `expected`, or else
	/// loaded from the bytes `fetch` gives (a miss), which must hash to `expected` and be a
	/// valid adapter of the pool's model with `config`. Fetching and parsing run without the
	/// pool's lock; a caller asking for a key that another is loading waits for that load.
	/// Holding the returned `Arc` pins the adapter.
	pub fn get_or_load(
		&self,
		key: &K,
		expected: [u8; 32],
		config: LoraConfig,
		fetch: impl FnOnce() -> crate::Result<Vec<u8>>,
	) -> Result<Arc<Adapter>, PoolError> {
		self.obtain(key, expected, config, fetch, true).map(|(adapter, _)| adapter)
	}

	/// Loads the adapter of `key` ahead of its use (a queued request's), as
	/// [`AdapterPool::get_or_load`] does, without pinning it; nothing is counted when it is
	/// already held. Returns whether it was loaded. Meant to run on a loader thread while the
	/// scheduler steps: see [`Scheduler::wanted`](super::Scheduler::wanted).
	pub fn prefetch(
		&self,
		key: &K,
		expected: [u8; 32],
		config: LoraConfig,
		fetch: impl FnOnce() -> crate::Result<Vec<u8>>,
	) -> Result<bool, PoolError> {
		self.obtain(key, expected, config, fetch, false).map(|(_, loaded)| loaded)
	}

	fn obtain(
		&self,
		key: &K,
		expected: [u8; 32],
		config: LoraConfig,
		fetch: impl FnOnce() -> crate::Result<Vec<u8>>,
		is_use: bool,
	) -> Result<(Arc<Adapter>, bool), PoolError> {
		let mut inner = self.lock();
		loop {
			match inner.slots.get(key).map(|s| s.hash == expected) {
				Some(true) => {
					let adapter = if is_use {
						inner.stats.hits += 1;
						inner.touch(key)
					} else {
						inner.slots.get(key).map(|s| s.adapter.clone())
					};
					if let Some(adapter) = adapter {
						return Ok((adapter, false));
					}
				},
				// The chain registered other bytes under this key since: forget the old ones
				// (requests still holding them keep them until they finish).
				Some(false) => {
					inner.remove(key);
				},
				None => {},
			}
			if !inner.loading.contains(key) {
				break;
			}
			inner = self.loaded.wait(inner).unwrap_or_else(|e| e.into_inner());
		}
		inner.stats.misses += 1;
		inner.loading.insert(key.clone());
		drop(inner);
		let mark = LoadingMark { pool: self, key };
		let loaded = self.load(expected, config, fetch);
		let mut inner = self.lock();
		let result = loaded.and_then(|adapter| {
			inner.make_room(adapter.bytes(), &self.config)?;
			Ok(adapter)
		});
		let adapter = match result {
			Ok(adapter) => Arc::new(adapter),
			Err(e) => {
				inner.stats.refused += 1;
				return Err(e);
			},
		};
		let bytes = adapter.bytes();
		inner.bytes += bytes;
		inner.clock += 1;
		let used = inner.clock;
		inner
			.slots
			.insert(key.clone(), Slot { adapter: adapter.clone(), hash: expected, bytes, used });
		inner.stats.loads += 1;
		drop(inner);
		drop(mark);
		Ok((adapter, true))
	}

	/// Fetches, checks and parses an adapter; runs without the lock.
	fn load(
		&self,
		expected: [u8; 32],
		config: LoraConfig,
		fetch: impl FnOnce() -> crate::Result<Vec<u8>>,
	) -> Result<Adapter, PoolError> {
		let bytes = fetch().map_err(PoolError::Fetch)?;
		let actual = adapter_hash(&bytes);
		if actual != expected {
			return Err(PoolError::HashMismatch { expected, actual });
		}
		// A safetensors file is an 8-byte header length, the header, then the tensors' data;
		// held as f32, the data takes at least as many bytes as in the file. Refuse a file that
		// cannot fit before parsing it.
		let header = bytes
			.get(..8)
			.and_then(|b| b.try_into().ok())
			.map(u64::from_le_bytes)
			.and_then(|h| usize::try_from(h).ok())
			.unwrap_or(0);
		let data = bytes.len().saturating_sub(header.saturating_add(8));
		if data > self.config.max_bytes {
			return Err(PoolError::TooLarge { bytes: data, capacity: self.config.max_bytes });
		}
		let adapter =
			Adapter::from_bytes(&self.model, &bytes, config).map_err(PoolError::Invalid)?;
		if adapter.bytes() > self.config.max_bytes {
			return Err(PoolError::TooLarge {
				bytes: adapter.bytes(),
				capacity: self.config.max_bytes,
			});
		}
		Ok(adapter)
	}

	/// Lets go of `key` (its registration was withdrawn); requests holding it keep it until
	/// they finish. Returns whether it was held.
	pub fn evict(&self, key: &K) -> bool {
		self.lock().remove(key)
	}
}
