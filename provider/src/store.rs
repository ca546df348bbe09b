//! The content-addressed blob store: one file per blob under `{data_dir}/blobs`, named by the
//! hex blake2-256 hash of its bytes. An upload streams to a temporary file while it is hashed,
//! and is renamed into place only if its bytes hash to the key it was offered under, so a crash
//! or a lying client never leaves a partial or wrong blob under a hash. Reads serve the file as
//! it was checked when written; whoever fetches a blob checks its hash again on their side, as
//! content addressing lets them. The store holds at most a configured number of bytes in all,
//! counted as the bytes arrive, so uploads cannot fill the disk; part of it
//! ([`BlobStore::keep_for_own`]) only the provider's own results may take, so that uploads
//! never leave a trained artifact without room.

use sp_core::H256;
use std::{
	io::Write,
	path::{Path, PathBuf},
	sync::Arc,
};

/// Why the store refused or failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
	/// The bytes hash to `actual`, not to the key they were offered under.
	#[error("the bytes hash to {actual:?}, not to the claimed {claimed:?}")]
	HashMismatch { claimed: H256, actual: H256 },
	/// The blob is larger than the store takes.
	#[error("the blob has {size} bytes or more, more than the limit of {limit}")]
	TooLarge { size: u64, limit: u64 },
	/// The store would hold more than its quota.
	#[error("the store is full: {size} bytes offered, {free} free")]
	Full { size: u64, free: u64 },
	/// Another upload of the same blob is under way.
	#[error("another upload of {0:?} is under way")]
	Busy(H256),
	#[error("storage error: {0}")]
	Io(String),
}

/// The blake2-256 hash of `bytes`, the key of a blob and of a contribution.
pub fn content_hash(bytes: &[u8]) -> H256 {
	H256(sp_crypto_hashing::blake2_256(bytes))
}

/// A blake2-256 hash computed piece by piece; equal to [`content_hash`] of the pieces joined.
pub struct Hasher(blake2b_simd::State);

impl Default for Hasher {
	fn default() -> Self {
		Self(blake2b_simd::Params::new().hash_length(32).to_state())
	}
}

impl Hasher {
	pub fn update(&mut self, bytes: &[u8]) {
		self.0.update(bytes);
	}

	pub fn finish(&self) -> H256 {
		H256::from_slice(self.0.finalize().as_bytes())
	}
}

pub struct BlobStore {
	dir: PathBuf,
	/// One file per blob taken on a commitment alone, naming the datanet and the contributor,
	/// until the chain records the blob or the blob is removed (see [`BlobStore::claims`]).
	claims: PathBuf,
	/// One file per artifact of this provider's training jobs, naming the job, until the job
	/// closes (see [`BlobStore::owned`]).
	owned: PathBuf,
	/// The blobs being uploaded: one upload of a blob at a time.
	in_flight: std::sync::Mutex<std::collections::HashSet<H256>>,
	/// Held while a blob and its claim are written, and while a blob is checked and removed,
	/// so that no removal takes a blob whose claim is being written.
	gate: std::sync::Mutex<()>,
	limit: u64,
	quota: u64,
	/// The part of the quota that uploads from the network may not take.
	own: u64,
	/// Bytes stored, reserved by uploads under way (counted at open and as bytes arrive), and
	/// held by [`Reservation`]s.
	used: Arc<std::sync::Mutex<u64>>,
}

/// The store's quota for the provider's own results, as a handle that training jobs (which run
/// off the async runtime, outliving any borrow) reserve space from.
#[derive(Clone)]
pub struct Space {
	used: Arc<std::sync::Mutex<u64>>,
	quota: u64,
}

impl Space {
	/// A space of its own, of `quota` bytes (for tests and tools without a store).
	pub fn with_quota(quota: u64) -> Self {
		Self { used: Default::default(), quota }
	}

	/// Holds `size` bytes of the quota until the reservation is dropped, or refuses
	/// ([`StoreError::Full`]) when fewer are free.
	pub fn reserve(&self, size: u64) -> Result<Reservation, StoreError> {
		take(&self.used, self.quota, size)?;
		Ok(Reservation { used: self.used.clone(), size })
	}
}

/// Bytes of a store's quota held for files not yet stored: released when dropped, just before
/// the files are stored, so that jobs running at once cannot all count on the same free space.
pub struct Reservation {
	used: Arc<std::sync::Mutex<u64>>,
	size: u64,
}

impl Reservation {
	pub fn size(&self) -> u64 {
		self.size
	}
}

impl Drop for Reservation {
	fn drop(&mut self) {
		give_back(&self.used, self.size);
	}
}

/// Counts `size` more bytes as used, or refuses if that would pass `quota`.
fn take(used: &std::sync::Mutex<u64>, quota: u64, size: u64) -> Result<(), StoreError> {
	let mut used = used.lock().map_err(|_| StoreError::Io("lock poisoned".into()))?;
	let free = quota.saturating_sub(*used);
	if size > free {
		return Err(StoreError::Full { size, free });
	}
	*used = used.saturating_add(size);
	Ok(())
}

fn give_back(used: &std::sync::Mutex<u64>, size: u64) {
	if let Ok(mut used) = used.lock() {
		*used = used.saturating_sub(size);
	}
}

impl BlobStore {
	/// Opens (creating if need be) the store in `{data_dir}/blobs`, taking blobs of at most
	/// `limit` bytes and `quota` bytes in all.
	pub fn open(data_dir: &Path, limit: u64, quota: u64) -> std::io::Result<Self> {
		let dir = data_dir.join("blobs");
		let claims = data_dir.join("claims");
		let owned = data_dir.join("owned");
		std::fs::create_dir_all(&dir)?;
		std::fs::create_dir_all(&claims)?;
		std::fs::create_dir_all(&owned)?;
		let mut used = 0u64;
		for entry in std::fs::read_dir(&dir)? {
			let entry = entry?;
			if entry.file_name().to_string_lossy().starts_with(".upload-") {
				// Left by a crash before its rename: never a blob.
				let _ = std::fs::remove_file(entry.path());
				continue;
			}
			used = used.saturating_add(entry.metadata()?.len());
		}
		Ok(Self {
			dir,
			claims,
			owned,
			in_flight: Default::default(),
			gate: Default::default(),
			limit,
			quota,
			own: 0,
			used: Arc::new(std::sync::Mutex::new(used)),
		})
	}

	/// Keeps `bytes` of the quota for the provider's own results ([`BlobStore::put`]): uploads
	/// ([`BlobStore::upload`]) are refused once only that much is free.
	pub fn keep_for_own(mut self, bytes: u64) -> Self {
		self.own = bytes.min(self.quota);
		self
	}

	pub fn limit(&self) -> u64 {
		self.limit
	}

	/// Where the blob under `hash` is (or would be) stored.
	pub fn path(&self, hash: &H256) -> PathBuf {
		self.dir.join(hex::encode(hash.as_bytes()))
	}

	fn claim_path(&self, hash: &H256) -> PathBuf {
		self.claims.join(hex::encode(hash.as_bytes()))
	}

	/// Notes that the blob under `hash` was taken on `contributor`'s commitment in `datanet`
	/// alone: it stays only while the commitment stands or once the datanet records it.
	pub fn record_claim(
		&self,
		hash: &H256,
		datanet: u32,
		contributor: &[u8; 32],
	) -> Result<(), StoreError> {
		std::fs::write(self.claim_path(hash), claim_text(datanet, contributor))
			.map_err(|e| StoreError::Io(e.to_string()))
	}

	/// The blobs taken on a commitment alone, with their datanet, contributor and the time of
	/// the upload.
	pub fn claims(&self) -> Vec<Claim> {
		let Ok(entries) = std::fs::read_dir(&self.claims) else { return Vec::new() };
		entries
			.filter_map(|entry| {
				let entry = entry.ok()?;
				let hash = hex::decode(entry.file_name().to_str()?).ok()?;
				let text = std::fs::read_to_string(entry.path()).ok()?;
				let (datanet, contributor) = text.split_once(' ')?;
				let contributor: [u8; 32] =
					hex::decode(contributor.trim()).ok()?.try_into().ok()?;
				Some(Claim {
					hash: H256::from_slice(hash.get(..32)?),
					datanet: datanet.parse().ok()?,
					contributor,
					at: entry.metadata().ok()?.modified().ok()?,
				})
			})
			.collect()
	}

	/// Forgets the claim on `hash`: the chain records the blob, which stays.
	pub fn settle(&self, hash: &H256) {
		let _ = std::fs::remove_file(self.claim_path(hash));
	}

	/// Removes the blob under `hash` and its claim, giving its room back. Returns its size.
	pub fn remove(&self, hash: &H256) -> Result<u64, StoreError> {
		let _gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
		self.remove_now(hash)
	}

	/// Removes the blob under `hash` if its claim is still `datanet`'s and `contributor`'s (an
	/// upload on another commitment may have claimed it since). Returns its size if removed.
	pub fn remove_claimed(
		&self,
		hash: &H256,
		datanet: u32,
		contributor: &[u8; 32],
	) -> Result<Option<u64>, StoreError> {
		let _gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
		let text = claim_text(datanet, contributor);
		match std::fs::read_to_string(self.claim_path(hash)) {
			Ok(current) if current == text => self.remove_now(hash).map(Some),
			_ => Ok(None),
		}
	}

	fn remove_now(&self, hash: &H256) -> Result<u64, StoreError> {
		let path = self.path(hash);
		let size = match std::fs::metadata(&path) {
			Ok(m) => m.len(),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
			Err(e) => return Err(StoreError::Io(e.to_string())),
		};
		if size > 0 || path.exists() {
			std::fs::remove_file(&path).map_err(|e| StoreError::Io(e.to_string()))?;
		}
		self.unreserve(size);
		self.settle(hash);
		Ok(size)
	}

	/// Whether the store holds a blob under `hash`.
	pub fn contains(&self, hash: &H256) -> bool {
		self.path(hash).exists()
	}

	/// Starts an upload from the network of the blob `hash`, the only one of it until it ends:
	/// bytes written to it are hashed and counted against the limit and the quota, less the part
	/// kept for the provider's own results, as they arrive, and become a blob only through
	/// [`Upload::finish`].
	pub fn upload(&self, hash: H256) -> Result<Upload<'_>, StoreError> {
		let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
		if !in_flight.insert(hash) {
			return Err(StoreError::Busy(hash));
		}
		drop(in_flight);
		let mut upload = self.start(false)?;
		upload.in_flight = Some(hash);
		Ok(upload)
	}

	fn start(&self, own: bool) -> Result<Upload<'_>, StoreError> {
		let (temp, file) = tempfile_in(&self.dir).map_err(|e| StoreError::Io(e.to_string()))?;
		Ok(Upload {
			store: self,
			own,
			in_flight: None,
			temp,
			file: Some(std::io::BufWriter::new(file)),
			hasher: Hasher::default(),
			size: 0,
		})
	}

	/// Notes that the blob `hash`, held already, is offered again on `contributor`'s commitment
	/// in `datanet` alone (see [`BlobStore::record_claim`]). `false` if the store no longer
	/// holds it.
	pub fn claim_held(
		&self,
		hash: &H256,
		datanet: u32,
		contributor: &[u8; 32],
	) -> Result<bool, StoreError> {
		let _gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
		if !self.contains(hash) {
			return Ok(false);
		}
		self.record_claim(hash, datanet, contributor)?;
		Ok(true)
	}

	/// Removes the blob `hash` if no claim names it and it was written before `before`.
	/// Returns its size if it was removed.
	pub fn remove_unclaimed(
		&self,
		hash: &H256,
		before: std::time::SystemTime,
	) -> Result<Option<u64>, StoreError> {
		let _gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
		if self.claim_path(hash).exists() {
			return Ok(None);
		}
		match std::fs::metadata(self.path(hash)).and_then(|m| m.modified()) {
			Ok(written) if written < before => self.remove_now(hash).map(Some),
			Ok(_) => Ok(None),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(StoreError::Io(e.to_string())),
		}
	}

	/// Notes that the blob `hash` is the artifact of this provider's training job `job`.
	pub fn record_owned(&self, hash: &H256, job: u64) -> Result<(), StoreError> {
		std::fs::write(self.owned.join(hex::encode(hash.as_bytes())), job.to_string())
			.map_err(|e| StoreError::Io(e.to_string()))
	}

	/// The artifacts of this provider's training jobs not forgotten yet, with their jobs.
	pub fn owned(&self) -> Vec<(H256, u64)> {
		let Ok(entries) = std::fs::read_dir(&self.owned) else { return Vec::new() };
		entries
			.filter_map(|entry| {
				let entry = entry.ok()?;
				let hash: [u8; 32] =
					hex::decode(entry.file_name().to_str()?).ok()?.try_into().ok()?;
				let job = std::fs::read_to_string(entry.path()).ok()?.trim().parse().ok()?;
				Some((H256(hash), job))
			})
			.collect()
	}

	/// Forgets that the blob `hash` is the artifact of an open job (the blob stays).
	pub fn forget_owned(&self, hash: &H256) {
		let _ = std::fs::remove_file(self.owned.join(hex::encode(hash.as_bytes())));
	}

	/// Every blob stored, with its size and the time it was written.
	pub fn blobs(&self) -> Vec<(H256, u64, std::time::SystemTime)> {
		let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
		entries
			.filter_map(|entry| {
				let entry = entry.ok()?;
				let hash = hex::decode(entry.file_name().to_str()?).ok()?;
				let hash: [u8; 32] = hash.try_into().ok()?;
				let metadata = entry.metadata().ok()?;
				Some((H256(hash), metadata.len(), metadata.modified().ok()?))
			})
			.collect()
	}

	/// Stores the provider's own result `bytes` under `claimed` if they hash to it, in the whole
	/// quota (see [`BlobStore::keep_for_own`]). Storing a blob again is a no-op.
	pub fn put(&self, claimed: H256, bytes: &[u8]) -> Result<(), StoreError> {
		if self.contains(&claimed) {
			let actual = content_hash(bytes);
			return if actual == claimed {
				Ok(())
			} else {
				Err(StoreError::HashMismatch { claimed, actual })
			};
		}
		let mut upload = self.start(true)?;
		upload.write(bytes)?;
		upload.finish(claimed)
	}

	/// Stores the provider's own result in the file at `path` under `claimed` if it hashes to it,
	/// read in pieces of 1 MiB (a corpus index may be larger than the memory one should hold at
	/// once), in the whole quota. Storing a blob again is a no-op.
	pub fn put_file(&self, claimed: H256, path: &Path) -> Result<(), StoreError> {
		use std::io::Read;
		let io = |e: std::io::Error| StoreError::Io(e.to_string());
		let mut file = std::fs::File::open(path).map_err(io)?;
		let mut buffer = vec![0u8; 1 << 20];
		if self.contains(&claimed) {
			let mut hasher = Hasher::default();
			loop {
				let read = file.read(&mut buffer).map_err(io)?;
				if read == 0 {
					break;
				}
				hasher.update(buffer.get(..read).unwrap_or_default());
			}
			let actual = hasher.finish();
			return if actual == claimed {
				Ok(())
			} else {
				Err(StoreError::HashMismatch { claimed, actual })
			};
		}
		let mut upload = self.start(true)?;
		loop {
			let read = file.read(&mut buffer).map_err(io)?;
			if read == 0 {
				break;
			}
			upload.write(buffer.get(..read).unwrap_or_default())?;
		}
		upload.finish(claimed)
	}

	/// The file of the blob under `hash`, to serve; `None` if the store does not have it.
	pub fn open_blob(&self, hash: &H256) -> Result<Option<(std::fs::File, u64)>, StoreError> {
		match std::fs::File::open(self.path(hash)) {
			Ok(file) => {
				let size = file.metadata().map_err(|e| StoreError::Io(e.to_string()))?.len();
				Ok(Some((file, size)))
			},
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(StoreError::Io(e.to_string())),
		}
	}

	/// The whole quota, which the provider's own results may take, as a handle to reserve from.
	pub fn own_space(&self) -> Space {
		Space { used: self.used.clone(), quota: self.quota }
	}

	fn reserve(&self, size: u64, own: bool) -> Result<(), StoreError> {
		let quota = if own { self.quota } else { self.quota.saturating_sub(self.own) };
		take(&self.used, quota, size)
	}

	fn unreserve(&self, size: u64) {
		give_back(&self.used, size);
	}
}

/// Runs blocking file work (a write synced to disk) from async code: under
/// `tokio::task::block_in_place` on the daemon's multi-threaded runtime, so that the worker's
/// other tasks move to another thread meanwhile, and directly elsewhere (a current-thread
/// runtime, which cannot move them, or no runtime).
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
	match tokio::runtime::Handle::try_current() {
		Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
			tokio::task::block_in_place(work)
		},
		_ => work(),
	}
}

/// What a claim's file holds: the datanet and the contributor, read back by [`BlobStore::claims`].
fn claim_text(datanet: u32, contributor: &[u8; 32]) -> String {
	format!("{datanet} {}", hex::encode(contributor))
}

/// A blob taken on a commitment alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
	pub hash: H256,
	pub datanet: u32,
	pub contributor: [u8; 32],
	/// When it was uploaded.
	pub at: std::time::SystemTime,
}

/// An upload under way. Dropped before [`Upload::finish`], it leaves nothing behind.
pub struct Upload<'a> {
	store: &'a BlobStore,
	/// The provider's own result, which may take the part of the quota kept for it.
	own: bool,
	/// The blob an upload from the network offers, marked in flight until the upload ends.
	in_flight: Option<H256>,
	temp: PathBuf,
	file: Option<std::io::BufWriter<std::fs::File>>,
	hasher: Hasher,
	/// Bytes written and reserved so far.
	size: u64,
}

impl Upload<'_> {
	/// Appends `bytes`, refusing them if the blob would pass the limit or the store its quota.
	pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
		let len = bytes.len() as u64;
		let size = self.size.saturating_add(len);
		if size > self.store.limit {
			return Err(StoreError::TooLarge { size, limit: self.store.limit });
		}
		// The space is taken before writing, so that concurrent uploads cannot overshoot.
		self.store.reserve(len, self.own)?;
		self.size = size;
		self.hasher.update(bytes);
		let file = self.file.as_mut().ok_or_else(|| StoreError::Io("upload finished".into()))?;
		file.write_all(bytes).map_err(|e| StoreError::Io(e.to_string()))
	}

	/// Bytes written so far.
	pub fn size(&self) -> u64 {
		self.size
	}

	/// Makes the bytes written the blob under `claimed` if they hash to it.
	pub fn finish(self, claimed: H256) -> Result<(), StoreError> {
		self.finish_claimed(claimed, None)
	}

	/// Makes the bytes written the blob under `claimed` if they hash to it and, with `claim`
	/// (datanet and contributor), notes it as taken on that commitment alone, both before any
	/// removal can look at the blob.
	pub fn finish_claimed(
		mut self,
		claimed: H256,
		claim: Option<(u32, &[u8; 32])>,
	) -> Result<(), StoreError> {
		let actual = self.hasher.finish();
		if actual != claimed {
			return Err(StoreError::HashMismatch { claimed, actual });
		}
		let file = self.file.take().ok_or_else(|| StoreError::Io("upload finished".into()))?;
		let file = file.into_inner().map_err(|e| StoreError::Io(e.error().to_string()))?;
		file.sync_all().map_err(|e| StoreError::Io(e.to_string()))?;
		drop(file);
		let _gate = self.store.gate.lock().unwrap_or_else(|p| p.into_inner());
		let path = self.store.path(&claimed);
		if !path.exists() {
			std::fs::rename(&self.temp, &path).map_err(|e| StoreError::Io(e.to_string()))?;
			// The bytes now belong to the blob: nothing to give back on drop.
			self.size = 0;
		}
		// Stored already, this copy takes no room and is removed on drop.
		if let Some((datanet, contributor)) = claim {
			self.store.record_claim(&claimed, datanet, contributor)?;
		}
		Ok(())
	}
}

impl Drop for Upload<'_> {
	fn drop(&mut self) {
		self.file.take();
		let _ = std::fs::remove_file(&self.temp);
		self.store.unreserve(self.size);
		if let Some(hash) = self.in_flight.take() {
			self.store.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&hash);
		}
	}
}

/// A new file in `dir` with a unique name, for writing before the rename.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
	use std::sync::atomic::{AtomicU64, Ordering};
	static NEXT: AtomicU64 = AtomicU64::new(0);
	let name = format!(".upload-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
	let path = dir.join(name);
	let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
	Ok((path, file))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn read(store: &BlobStore, hash: H256) -> Option<Vec<u8>> {
		use std::io::Read;
		store.open_blob(&hash).unwrap().map(|(mut file, _)| {
			let mut bytes = Vec::new();
			file.read_to_end(&mut bytes).unwrap();
			bytes
		})
	}

	#[test]
	fn space_a_job_reserved_is_not_free_to_another_job_or_upload_until_released() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 1_000, 1_000).unwrap();
		let space = store.own_space();
		let first = space.reserve(700).unwrap();
		assert_eq!(space.reserve(400).err(), Some(StoreError::Full { size: 400, free: 300 }));
		// Nor can an upload or a put take it.
		assert!(matches!(
			store.put(content_hash(&[1; 400]), &[1; 400]),
			Err(StoreError::Full { .. })
		));
		drop(first);
		let second = space.reserve(400).unwrap();
		assert_eq!(second.size(), 400);
		drop(second);
		store.put(content_hash(&[1; 400]), &[1; 400]).unwrap();
		assert_eq!(space.reserve(700).err(), Some(StoreError::Full { size: 700, free: 600 }));
	}

	#[test]
	fn stores_by_hash() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 1 << 20).unwrap();
		let bytes = b"{\"a\": 1}\n";
		let hash = content_hash(bytes);
		assert_eq!(read(&store, hash), None);
		store.put(hash, bytes).unwrap();
		store.put(hash, bytes).unwrap();
		assert_eq!(read(&store, hash), Some(bytes.to_vec()));
		assert!(store.contains(&hash));
	}

	#[test]
	fn an_upload_in_pieces_hashes_as_one() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 64, 1 << 20).unwrap();
		let bytes = b"the quick brown fox jumps over the lazy dog";
		let mut upload = store.upload(content_hash(bytes)).unwrap();
		for piece in bytes.chunks(5) {
			upload.write(piece).unwrap();
		}
		upload.finish(content_hash(bytes)).unwrap();
		assert_eq!(read(&store, content_hash(bytes)), Some(bytes.to_vec()));
	}

	#[test]
	fn an_abandoned_upload_leaves_nothing_and_gives_its_room_back() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 10).unwrap();
		let mut upload = store.upload(content_hash(b"0123456789")).unwrap();
		upload.write(b"0123456789").unwrap();
		drop(upload);
		assert_eq!(std::fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);
		store.put(content_hash(b"abcdefghij"), b"abcdefghij").unwrap();
	}

	#[test]
	fn uploads_cannot_fill_the_disk() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 20).unwrap();
		let (a, b, c) = (b"0123456789".as_slice(), b"abcdefghij".as_slice(), b"x".as_slice());
		store.put(content_hash(a), a).unwrap();
		store.put(content_hash(b), b).unwrap();
		assert_eq!(store.put(content_hash(c), c), Err(StoreError::Full { size: 1, free: 0 }));
		// The same blob again takes no room; a reopened store counts what is on disk.
		store.put(content_hash(a), a).unwrap();
		let reopened = BlobStore::open(dir.path(), 16, 21).unwrap();
		reopened.put(content_hash(c), c).unwrap();
		assert!(matches!(reopened.put(content_hash(b"y"), b"y"), Err(StoreError::Full { .. })));
	}

	#[test]
	fn a_claimed_blob_is_listed_until_settled_and_removed_blobs_give_their_room_back() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 20).unwrap();
		let (a, b) = (b"0123456789".as_slice(), b"abcdefghij".as_slice());
		store.put(content_hash(a), a).unwrap();
		store.put(content_hash(b), b).unwrap();
		store.record_claim(&content_hash(a), 3, &[7; 32]).unwrap();
		store.record_claim(&content_hash(b), 4, &[8; 32]).unwrap();
		let mut claims = store.claims();
		claims.sort_by_key(|c| c.datanet);
		assert_eq!(claims.len(), 2);
		assert_eq!(
			(claims[0].hash, claims[0].datanet, claims[0].contributor),
			(content_hash(a), 3, [7; 32])
		);
		// Claims survive a restart.
		let store = BlobStore::open(dir.path(), 16, 20).unwrap();
		assert_eq!(store.claims().len(), 2);
		store.settle(&content_hash(b));
		assert_eq!(store.claims().len(), 1);
		assert!(store.contains(&content_hash(b)));
		assert!(matches!(store.put(content_hash(b"x"), b"x"), Err(StoreError::Full { .. })));
		assert_eq!(store.remove(&content_hash(a)), Ok(10));
		assert!(!store.contains(&content_hash(a)));
		assert!(store.claims().is_empty());
		store.put(content_hash(b"x"), b"x").unwrap();
	}

	#[test]
	fn uploads_that_fill_the_store_leave_room_for_the_providers_own_results() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 30).unwrap().keep_for_own(10);
		let upload = |bytes: &[u8]| {
			let mut upload = store.upload(content_hash(bytes))?;
			upload.write(bytes)?;
			upload.finish(content_hash(bytes))
		};
		upload(b"0123456789").unwrap();
		upload(b"abcdefghij").unwrap();
		// The network's part is full...
		assert_eq!(upload(b"x"), Err(StoreError::Full { size: 1, free: 0 }));
		// ...and an artifact still fits.
		store.put(content_hash(b"ARTIFACT--"), b"ARTIFACT--").unwrap();
		let mut listed: Vec<_> =
			store.blobs().into_iter().map(|(hash, size, _)| (hash, size)).collect();
		listed.sort();
		let mut expected: Vec<_> = [b"0123456789", b"abcdefghij", b"ARTIFACT--"]
			.iter()
			.map(|b| (content_hash(*b), 10))
			.collect();
		expected.sort();
		assert_eq!(listed, expected);
	}

	#[test]
	fn one_blob_is_uploaded_once_at_a_time() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 1 << 20).unwrap();
		let hash = content_hash(b"0123456789");
		let first = store.upload(hash).unwrap();
		// A second upload of the same blob would reserve the room twice for one blob.
		assert!(matches!(store.upload(hash), Err(StoreError::Busy(h)) if h == hash));
		assert!(store.upload(content_hash(b"other")).is_ok());
		drop(first);
		let mut again = store.upload(hash).unwrap();
		again.write(b"0123456789").unwrap();
		again.finish(hash).unwrap();
		assert!(store.upload(hash).is_ok());
	}

	#[test]
	fn a_claimed_or_recent_blob_is_not_removed_as_unneeded() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 1 << 20).unwrap();
		let (a, b) = (b"0123456789".as_slice(), b"abcdefghij".as_slice());
		store.put(content_hash(a), a).unwrap();
		let mut upload = store.upload(content_hash(b)).unwrap();
		upload.write(b).unwrap();
		upload.finish_claimed(content_hash(b), Some((0, &[1; 32]))).unwrap();
		let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
		let future = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
		// Written after `past`: too recent.
		assert_eq!(store.remove_unclaimed(&content_hash(a), past), Ok(None));
		// Claimed: the claim's sweep decides.
		assert_eq!(store.remove_unclaimed(&content_hash(b), future), Ok(None));
		assert!(store.contains(&content_hash(b)));
		assert_eq!(store.remove_unclaimed(&content_hash(a), future), Ok(Some(10)));
		assert!(!store.contains(&content_hash(a)));
		// Offered again while held, a blob is claimed again; once gone, it is not.
		store.settle(&content_hash(b));
		assert_eq!(store.claim_held(&content_hash(b), 0, &[2; 32]), Ok(true));
		assert_eq!(store.remove_unclaimed(&content_hash(b), future), Ok(None));
		assert_eq!(store.claim_held(&content_hash(a), 0, &[2; 32]), Ok(false));
	}

	#[test]
	fn the_artifacts_of_open_jobs_are_remembered_across_a_restart() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 1 << 20).unwrap();
		let artifact = content_hash(b"weights");
		store.put(artifact, b"weights").unwrap();
		store.record_owned(&artifact, 42).unwrap();
		let store = BlobStore::open(dir.path(), 16, 1 << 20).unwrap();
		assert_eq!(store.owned(), vec![(artifact, 42)]);
		store.forget_owned(&artifact);
		assert!(store.owned().is_empty());
		assert!(store.contains(&artifact));
	}

	#[test]
	fn refuses_wrong_hashes_and_large_blobs() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 4, 1 << 20).unwrap();
		let wrong = content_hash(b"other");
		assert_eq!(
			store.put(wrong, b"abc"),
			Err(StoreError::HashMismatch { claimed: wrong, actual: content_hash(b"abc") })
		);
		assert_eq!(
			store.put(content_hash(b"abcde"), b"abcde"),
			Err(StoreError::TooLarge { size: 5, limit: 4 })
		);
		// Nothing was left behind.
		assert_eq!(std::fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);
	}
}
