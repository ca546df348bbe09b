//! Versions: the accepted contributions frozen under a Merkle root, read page by page and proved.

use crate::*;
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// Publishes a version of a datanet: every contribution accepted so far, frozen under a
	/// Merkle root. The owner or a curator may.
	pub(crate) fn do_publish_version(who: T::AccountId, datanet: DatanetId) -> DispatchResult {
		let mut info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		ensure!(
			info.owner == who || info.rules.curators.contains(&who),
			Error::<T>::NotOwnerOrCurator
		);
		let published = match info.versions.checked_sub(1) {
			Some(last) => Versions::<T>::get(datanet, last).map_or(0, |v| v.contributions),
			None => 0,
		};
		ensure!(info.accepted > published, Error::<T>::NothingToPublish);
		let tree = Frontiers::<T>::get(datanet);
		let version = info.versions;
		info.versions = version.checked_add(1).ok_or(Error::<T>::Overflow)?;
		let record = Version {
			contributions: tree.count,
			total_bytes: AcceptedBytes::<T>::get(datanet),
			root: tree.root(),
			published_by: who,
			published_at: frame_system::Pallet::<T>::block_number(),
		};
		Self::deposit_event(Event::VersionPublished {
			datanet,
			version,
			contributions: record.contributions,
			total_bytes: record.total_bytes,
			root: record.root,
		});
		Versions::<T>::insert(datanet, version, record);
		DatanetInfo::<T>::insert(datanet, info);
		Ok(())
	}

	/// Up to `limit` (at most [`MAX_PAGE`]) entries of a version's contribution list, from
	/// position `start`. Empty for an unknown version or a start past its end.
	pub fn version_page(
		datanet: DatanetId,
		version: VersionId,
		start: u32,
		limit: u32,
	) -> Vec<VersionEntry> {
		let Some(record) = Versions::<T>::get(datanet, version) else { return Vec::new() };
		let end = start.saturating_add(limit.min(MAX_PAGE)).min(record.contributions);
		(start..end)
			.filter_map(|position| {
				let contribution = AcceptedByPosition::<T>::get(datanet, position)?;
				let item = Contributions::<T>::get(datanet, contribution)?;
				Some(VersionEntry {
					position,
					contribution,
					content_hash: item.content_hash,
					size: item.size,
				})
			})
			.collect()
	}

	/// The content hashes of a version's contributions in order: its Merkle leaves.
	pub fn version_leaves(datanet: DatanetId, version: VersionId) -> Option<Vec<H256>> {
		let record = Versions::<T>::get(datanet, version)?;
		(0..record.contributions)
			.map(|position| {
				let contribution = AcceptedByPosition::<T>::get(datanet, position)?;
				Contributions::<T>::get(datanet, contribution).map(|c| c.content_hash)
			})
			.collect()
	}

	/// The Merkle proof that the contribution at `position` belongs to a version.
	pub fn version_proof(
		datanet: DatanetId,
		version: VersionId,
		position: u32,
	) -> Option<Vec<H256>> {
		merkle::proof(&Self::version_leaves(datanet, version)?, position)
	}
}
