//! Datanets themselves: creation, metadata, rules, ownership, closing, and the deposit that
//! pays for their storage.

use crate::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Creates a datanet owned by the caller, holding its deposit.
	pub(crate) fn do_create(
		owner: T::AccountId,
		metadata: MetadataInput,
		rules: RulesInputOf<T>,
	) -> DispatchResult {
		let metadata = Self::bound_metadata(metadata)?;
		let rules = Self::bound_rules(rules)?;
		let id = NextDatanetId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::TooManyDatanets)?;
		let deposit = Self::datanet_deposit(&metadata, &rules, None);
		T::Currency::hold(&HoldReason::DatanetDeposit.into(), &owner, deposit)?;
		DatanetInfo::<T>::insert(
			id,
			Datanet {
				owner: owner.clone(),
				pending_owner: None,
				metadata,
				rules,
				status: DatanetStatus::Open,
				deposit,
				created_at: frame_system::Pallet::<T>::block_number(),
				contributions: 0,
				pending: 0,
				accepted: 0,
				versions: 0,
				validation: None,
			},
		);
		NextDatanetId::<T>::put(next);
		Self::deposit_event(Event::Created { datanet: id, owner, deposit });
		Ok(())
	}

	/// Replaces a datanet's metadata, adjusting the owner's deposit to its new size.
	pub(crate) fn do_update_metadata(
		who: T::AccountId,
		datanet: DatanetId,
		metadata: MetadataInput,
	) -> DispatchResult {
		let mut info = Self::owned(datanet, &who)?;
		info.metadata = Self::bound_metadata(metadata)?;
		Self::adjust_deposit(&mut info, DatanetServices::<T>::get(datanet).as_ref())?;
		let deposit = info.deposit;
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::MetadataUpdated { datanet, deposit });
		Ok(())
	}

	/// Replaces a datanet's rules, curators included, adjusting the owner's deposit.
	pub(crate) fn do_update_rules(
		who: T::AccountId,
		datanet: DatanetId,
		rules: RulesInputOf<T>,
	) -> DispatchResult {
		let mut info = Self::owned(datanet, &who)?;
		info.rules = Self::bound_rules(rules)?;
		Self::adjust_deposit(&mut info, DatanetServices::<T>::get(datanet).as_ref())?;
		let deposit = info.deposit;
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::RulesUpdated { datanet, deposit });
		Ok(())
	}

	/// Offers ownership of a datanet to `to`, or withdraws the offer with `None`. Ownership
	/// passes only when `to` accepts, since it takes over the deposit.
	pub(crate) fn do_offer_ownership(
		who: T::AccountId,
		datanet: DatanetId,
		to: Option<T::AccountId>,
	) -> DispatchResult {
		let mut info = Self::owned(datanet, &who)?;
		info.pending_owner = to.clone();
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::OwnershipOffered { datanet, to });
		Ok(())
	}

	/// Accepts an offer of ownership: the caller's deposit is held and the former owner's
	/// released.
	pub(crate) fn do_accept_ownership(who: T::AccountId, datanet: DatanetId) -> DispatchResult {
		let mut info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		ensure!(info.pending_owner.as_ref() == Some(&who), Error::<T>::NotOfferedOwnership);
		let reason = HoldReason::DatanetDeposit.into();
		T::Currency::hold(&reason, &who, info.deposit)?;
		T::Currency::release(&reason, &info.owner, info.deposit, Precision::Exact)?;
		let from = core::mem::replace(&mut info.owner, who.clone());
		info.pending_owner = None;
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::OwnershipTransferred { datanet, from, to: who });
		Ok(())
	}

	/// The datanet `id` if `who` owns it.
	pub(crate) fn owned(id: DatanetId, who: &T::AccountId) -> Result<DatanetOf<T>, DispatchError> {
		let info = DatanetInfo::<T>::get(id).ok_or(Error::<T>::UnknownDatanet)?;
		ensure!(&info.owner == who, Error::<T>::NotOwner);
		Ok(info)
	}

	/// Checks a call's metadata against the bounds and converts it for storage.
	pub fn bound_metadata(input: MetadataInput) -> Result<MetadataOf<T>, Error<T>> {
		ensure!(!input.name.is_empty(), Error::<T>::EmptyName);
		ensure!(!input.licence.is_empty(), Error::<T>::EmptyLicence);
		// Every list is bounded before it is walked: the call's weight covers the bounds only.
		ensure!(input.tags.len() <= T::MaxTags::get() as usize, Error::<T>::TooManyTags);
		let tags = input
			.tags
			.into_iter()
			.map(|tag| {
				ensure!(!tag.is_empty(), Error::<T>::EmptyTag);
				BoundedVec::try_from(tag).map_err(|_| Error::<T>::TagTooLong)
			})
			.collect::<Result<Vec<_>, _>>()?;
		Ok(Metadata {
			name: input.name.try_into().map_err(|_| Error::<T>::NameTooLong)?,
			description: input
				.description
				.try_into()
				.map_err(|_| Error::<T>::DescriptionTooLong)?,
			tags: tags.try_into().map_err(|_| Error::<T>::TooManyTags)?,
			kind: input.kind,
			licence: input.licence.try_into().map_err(|_| Error::<T>::LicenceTooLong)?,
		})
	}

	/// Checks a call's rules and converts them for storage.
	pub fn bound_rules(input: RulesInputOf<T>) -> Result<RulesOf<T>, Error<T>> {
		ensure!(!input.curators.is_empty(), Error::<T>::NoCurators);
		let curators: BoundedVec<_, T::MaxCurators> =
			input.curators.try_into().map_err(|_| Error::<T>::TooManyCurators)?;
		for (i, curator) in curators.iter().enumerate() {
			ensure!(
				!curators.iter().skip(i.saturating_add(1)).any(|c| c == curator),
				Error::<T>::DuplicateCurator
			);
		}
		ensure!(input.approvals_needed >= 1, Error::<T>::ZeroApprovalsNeeded);
		ensure!(
			input.approvals_needed as usize <= curators.len(),
			Error::<T>::MoreApprovalsThanCurators
		);
		ensure!(!input.accepted_formats.is_empty(), Error::<T>::NoFormats);
		ensure!(
			input.accepted_formats.len() <= T::MaxFormats::get() as usize,
			Error::<T>::TooManyFormats
		);
		let mut formats = input.accepted_formats;
		formats.sort();
		let before = formats.len();
		formats.dedup();
		ensure!(formats.len() == before, Error::<T>::DuplicateFormat);
		ensure!(input.max_contribution_size > 0, Error::<T>::ZeroSizeLimit);
		ensure!(
			input.max_contribution_size <= T::MaxContributionSize::get(),
			Error::<T>::SizeLimitTooHigh
		);
		ensure!(
			input.contribution_deposit >= T::MinContributionDeposit::get(),
			Error::<T>::DepositTooLow
		);
		Ok(Rules {
			contribution_deposit: input.contribution_deposit,
			max_contribution_size: input.max_contribution_size,
			accepted_formats: formats.try_into().map_err(|_| Error::<T>::TooManyFormats)?,
			curators,
			approvals_needed: input.approvals_needed,
		})
	}

	/// The deposit a datanet with this metadata, these rules and these services holds.
	pub fn datanet_deposit(
		metadata: &MetadataOf<T>,
		rules: &RulesOf<T>,
		services: Option<&ServicesOf<T>>,
	) -> BalanceOf<T> {
		let bytes = metadata
			.encoded_size()
			.saturating_add(rules.encoded_size())
			.saturating_add(services.map_or(0, |s| s.encoded_size()));
		let bytes: BalanceOf<T> = (bytes as u32).into();
		T::DatanetDepositBase::get()
			.saturating_add(T::DatanetDepositPerByte::get().saturating_mul(bytes))
	}

	/// Holds more from, or releases to, the owner so that the deposit fits the datanet's size.
	pub(crate) fn adjust_deposit(
		info: &mut DatanetOf<T>,
		services: Option<&ServicesOf<T>>,
	) -> DispatchResult {
		let new = Self::datanet_deposit(&info.metadata, &info.rules, services);
		let reason = HoldReason::DatanetDeposit.into();
		if new > info.deposit {
			T::Currency::hold(&reason, &info.owner, new.saturating_sub(info.deposit))?;
		} else if new < info.deposit {
			T::Currency::release(
				&reason,
				&info.owner,
				info.deposit.saturating_sub(new),
				Precision::Exact,
			)?;
		}
		info.deposit = new;
		Ok(())
	}

	/// Closes a datanet to new contributions; `by` is the owner who does, `None` for
	/// [`Config::ForceOrigin`].
	pub(crate) fn do_close(by: Option<T::AccountId>, datanet: DatanetId) -> DispatchResult {
		let mut info = DatanetInfo::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		if let Some(who) = by {
			ensure!(info.owner == who, Error::<T>::NotOwner);
		}
		ensure!(info.status == DatanetStatus::Open, Error::<T>::DatanetClosed);
		info.status = DatanetStatus::Closed;
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::Closed { datanet });
		Ok(())
	}
}
