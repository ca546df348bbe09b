//! The content-addressed blob store: one file per blob under `{data_dir}/blobs`, named by the
//! hex blake2-256 hash of its bytes. Uploads are checked against the hash they claim and written
//! to a temporary file before being renamed into place, so a crash never leaves a partial blob
//! under a hash; every read is checked again, so a corrupted file is reported, never served.
//! The store holds at most a configured number of bytes in all, so uploads cannot fill the disk.

use sp_core::H256;
use std::{
	io::Write,
	path::{Path, PathBuf},
};

/// Why the store refused or failed.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreError {
	/// The bytes hash to `actual`, not to the key they were offered under.
	HashMismatch {
		claimed: H256,
		actual: H256,
	},
	/// The blob is larger than the store takes.
	TooLarge {
		size: u64,
		limit: u64,
	},
	/// The file under this hash no longer has this hash.
	Corrupt {
		hash: H256,
		actual: H256,
	},
	/// The store would hold more than its quota.
	Full {
		size: u64,
		free: u64,
	},
	Io(String),
}

impl std::fmt::Display for StoreError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			StoreError::HashMismatch { claimed, actual } => {
				write!(f, "the bytes hash to {actual:?}, not to the claimed {claimed:?}")
			},
			StoreError::TooLarge { size, limit } => {
				write!(f, "the blob has {size} bytes, more than the limit of {limit}")
			},
			StoreError::Corrupt { hash, actual } => {
				write!(f, "the stored blob {hash:?} is corrupt: its bytes hash to {actual:?}")
			},
			StoreError::Full { size, free } => {
				write!(f, "the store is full: {size} bytes offered, {free} free")
			},
			StoreError::Io(e) => write!(f, "storage error: {e}"),
		}
	}
}

impl std::error::Error for StoreError {}

/// The blake2-256 hash of `bytes`, the key of a blob and of a contribution.
pub fn content_hash(bytes: &[u8]) -> H256 {
	H256(sp_crypto_hashing::blake2_256(bytes))
}

pub struct BlobStore {
	dir: PathBuf,
	limit: u64,
	quota: u64,
	/// Bytes stored, counted at open and on every store.
	used: std::sync::Mutex<u64>,
}

impl BlobStore {
	/// Opens (creating if need be) the store in `{data_dir}/blobs`, taking blobs of at most
	/// `limit` bytes and `quota` bytes in all.
	pub fn open(data_dir: &Path, limit: u64, quota: u64) -> std::io::Result<Self> {
		let dir = data_dir.join("blobs");
		std::fs::create_dir_all(&dir)?;
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
		Ok(Self { dir, limit, quota, used: std::sync::Mutex::new(used) })
	}

	pub fn limit(&self) -> u64 {
		self.limit
	}

	fn path(&self, hash: &H256) -> PathBuf {
		self.dir.join(hex::encode(hash.as_bytes()))
	}

	/// Stores `bytes` under `claimed` if they hash to it. Storing a blob again is a no-op.
	pub fn put(&self, claimed: H256, bytes: &[u8]) -> Result<(), StoreError> {
		let size = bytes.len() as u64;
		if size > self.limit {
			return Err(StoreError::TooLarge { size, limit: self.limit });
		}
		let actual = content_hash(bytes);
		if actual != claimed {
			return Err(StoreError::HashMismatch { claimed, actual });
		}
		let path = self.path(&claimed);
		if path.exists() {
			return Ok(());
		}
		// The space is taken before writing, so that concurrent uploads cannot overshoot.
		{
			let mut used = self.used.lock().map_err(|_| StoreError::Io("lock poisoned".into()))?;
			let free = self.quota.saturating_sub(*used);
			if size > free {
				return Err(StoreError::Full { size, free });
			}
			*used = used.saturating_add(size);
		}
		let io = |e: std::io::Error| StoreError::Io(e.to_string());
		let written = tempfile_in(&self.dir).and_then(|(temp, mut file)| {
			file.write_all(bytes)?;
			file.sync_all()?;
			std::fs::rename(&temp, &path).inspect_err(|_| {
				let _ = std::fs::remove_file(&temp);
			})
		});
		if let Err(e) = written {
			if let Ok(mut used) = self.used.lock() {
				*used = used.saturating_sub(size);
			}
			return Err(io(e));
		}
		Ok(())
	}

	/// The blob under `hash`, checked against it; `None` if the store does not have it.
	pub fn get(&self, hash: H256) -> Result<Option<Vec<u8>>, StoreError> {
		let bytes = match std::fs::read(self.path(&hash)) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(StoreError::Io(e.to_string())),
		};
		let actual = content_hash(&bytes);
		if actual != hash {
			return Err(StoreError::Corrupt { hash, actual });
		}
		Ok(Some(bytes))
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

	#[test]
	fn stores_by_hash_and_checks_every_read() {
		let dir = tempfile::tempdir().unwrap();
		let store = BlobStore::open(dir.path(), 16, 1 << 20).unwrap();
		let bytes = b"{\"a\": 1}\n";
		let hash = content_hash(bytes);
		assert_eq!(store.get(hash), Ok(None));
		store.put(hash, bytes).unwrap();
		store.put(hash, bytes).unwrap();
		assert_eq!(store.get(hash), Ok(Some(bytes.to_vec())));
		// Flip a byte on disk: the read refuses it.
		std::fs::write(
			dir.path().join("blobs").join(hex::encode(hash.as_bytes())),
			b"{\"a\": 2}\n",
		)
		.unwrap();
		assert!(matches!(store.get(hash), Err(StoreError::Corrupt { .. })));
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
