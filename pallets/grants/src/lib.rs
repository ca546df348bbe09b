//! # Grants pallet (OpenCircle)
//!
//! OpenCircle funds the builders of the OpenLedger ecosystem from the ecosystem grants pot, in three
//! tiers, milestone by milestone.
//!
//! ## Overview
//!
//! An **applicant** submits an [`Application`]: its [`Tier`], a title, the content hash of the
//! full proposal, and a list of **milestones**, each with an amount, a description of the
//! deliverable and a due block. The milestones must add up to an amount within the tier's
//! [`Range`]. A deposit (a base plus a price per byte of the record) is held from the applicant
//! while the application lives.
//!
//! **Approval** comes from governance: in the OpenLedger runtime, a referendum on the tier's own
//! track, whose origin [`Config::ApproveOrigin`] maps to the highest tier it may approve. Approval
//! **earmarks** the whole amount in the pot: it is held there under [`HoldReason::Earmarked`], so
//! that no other spend can take it and the earmarks can never exceed the pot.
//!
//! The **grantee** submits each milestone's deliverable by its content hash before the milestone's
//! due block. **Reviewers** ([`Config::ReviewOrigin`]) accept it, which pays the milestone from the
//! earmark to the grantee, or reject it with a [`RejectReason`], after which the grantee may submit
//! again until the due block. When the last milestone is paid, the grant is complete and the
//! deposit returns.
//!
//! A grant ends early, returning its unpaid earmark to the pot and its deposit to the applicant,
//! when the applicant withdraws it, when governance cancels it, or when a milestone passes its due
//! block without a deliverable (anyone may then call [`Pallet::expire`]). An application that
//! governance rejects before approval forfeits its deposit to the pot. Ended applications are
//! removed from storage; the event says how each ended.
//!
//! ### Tier ranges
//!
//! The programme names its tiers in US dollars (Exploration 25k–50k, Building 50k–150k, Expansion
//! 250k–500k). The chain sets them directly in OPEN, through [`Config::TierRanges`], which the
//! runtime reads from governed protocol parameters: an on-chain price feed would add an oracle to
//! trust and to attack, while governance can rebase the ranges in OPEN by referendum when the
//! price moves. An application's amount is checked against its tier's range when it is submitted,
//! and against the approving origin's cap again when it is approved.
//!
//! ## Dispatchable functions
//!
//! - [`Pallet::submit`], [`Pallet::withdraw`]: the applicant's.
//! - [`Pallet::approve`], [`Pallet::reject`], [`Pallet::cancel`]: governance's
//!   ([`Config::ApproveOrigin`]).
//! - [`Pallet::submit_milestone`]: the grantee's.
//! - [`Pallet::accept_milestone`], [`Pallet::reject_milestone`]: the reviewers'
//!   ([`Config::ReviewOrigin`]).
//! - [`Pallet::expire`]: anyone's, once a milestone is overdue.
//!
//! ## Reading
//!
//! Applications are in [`Applications`]; [`runtime_api::GrantsApi`] returns one application, a
//! page of them, the tier ranges and the pot's free and earmarked funds.
//!
//! ## Fuzzing
//!
//! The runtime fuzzer (`fuzz/` at the workspace's root) generates this pallet's calls from the
//! runtime's type information, from every origin, and checks its invariants
//! (`features/try_state.rs`) and the chain's balance invariants after every block of its campaigns
//! and of the bounded run in `scripts/test.sh`. A call added here is fuzzed with no change there.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

// Benchmarks build their worst cases on a test runtime and stop at the first setup that fails,
// as tests do.
#[cfg(feature = "runtime-benchmarks")]
#[allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]
mod benchmarking;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

// FRAME's pallet macros expand to `expect` calls (on the pallet's name in the runtime) that carry
// this module's spans, so clippy's `expect_used` is allowed here; the module's own code holds none.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use codec::Encode;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::traits::{Saturating, Zero};

	/// The balance type of the currency grants are paid in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A stored milestone.
	pub type MilestoneOf<T> =
		Milestone<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxMilestoneDescriptionLength>;
	/// An application's stored milestones.
	pub type MilestonesOf<T> = BoundedVec<MilestoneOf<T>, <T as Config>::MaxMilestones>;
	/// A milestone as a call supplies it.
	pub type MilestoneInputOf<T> = MilestoneInput<BalanceOf<T>, BlockNumberFor<T>>;
	/// A stored application.
	pub type ApplicationOf<T> = Application<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxTitleLength,
		<T as Config>::MaxMilestoneDescriptionLength,
		<T as Config>::MaxMilestones,
	>;

	/// The most applications one page of [`Pallet::applications_page`] holds.
	pub const MAX_PAGE: u32 = 100;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency grants are paid and deposits held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Approves, rejects and cancels applications. Its success value is the highest tier it
		/// may act on; it may approve no amount above that tier's cap.
		type ApproveOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Tier>;

		/// Accepts and rejects milestone deliverables: a grants committee, or the tier's track.
		/// Its success value is the highest tier it may act on.
		type ReviewOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Tier>;

		/// The ecosystem grants pot, which earmarks approved grants and pays milestones.
		#[pallet::constant]
		type Pot: Get<Self::AccountId>;

		/// The least and most a grant of each tier may total.
		type TierRanges: Get<TierRanges<BalanceOf<Self>>>;

		/// The part of an application's deposit that does not depend on its size.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// The part of an application's deposit per byte of its title and milestones.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// The longest title in bytes.
		#[pallet::constant]
		type MaxTitleLength: Get<u32>;

		/// The longest milestone description in bytes.
		#[pallet::constant]
		type MaxMilestoneDescriptionLength: Get<u32>;

		/// The most milestones an application has.
		#[pallet::constant]
		type MaxMilestones: Get<u32>;

		/// The weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The applicant's deposit for an application's storage.
		ApplicationDeposit,
		/// The unpaid part of approved grants, held in the pot.
		Earmarked,
	}

	/// The id the next application gets.
	#[pallet::storage]
	pub type NextApplicationId<T> = StorageValue<_, ApplicationId, ValueQuery>;

	/// Every live application: submitted, or approved and not yet ended.
	#[pallet::storage]
	pub type Applications<T: Config> = StorageMap<_, Twox64Concat, ApplicationId, ApplicationOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An application was submitted and its deposit held.
		Submitted {
			application: ApplicationId,
			applicant: T::AccountId,
			tier: Tier,
			amount: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// Governance approved an application; its amount is earmarked in the pot.
		Approved { application: ApplicationId, amount: BalanceOf<T> },
		/// Governance turned an application down; its deposit went to the pot.
		Rejected { application: ApplicationId, deposit: BalanceOf<T> },
		/// The grantee submitted a milestone's deliverable.
		MilestoneSubmitted {
			application: ApplicationId,
			milestone: MilestoneIndex,
			deliverable: H256,
		},
		/// Reviewers accepted a milestone and it was paid to the grantee.
		MilestonePaid {
			application: ApplicationId,
			milestone: MilestoneIndex,
			grantee: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// Reviewers sent a milestone's deliverable back.
		MilestoneRejected {
			application: ApplicationId,
			milestone: MilestoneIndex,
			reason: RejectReason,
		},
		/// Every milestone was paid; the deposit returned.
		Completed { application: ApplicationId, paid: BalanceOf<T> },
		/// The applicant withdrew; `returned` of the earmark went back to the pot.
		Withdrawn { application: ApplicationId, returned: BalanceOf<T> },
		/// Governance cancelled the grant; `returned` of the earmark went back to the pot.
		Cancelled { application: ApplicationId, returned: BalanceOf<T> },
		/// A milestone passed its due block undelivered; `returned` went back to the pot.
		Expired { application: ApplicationId, milestone: MilestoneIndex, returned: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No live application has this id.
		UnknownApplication,
		/// The application has no milestone at this index.
		UnknownMilestone,
		/// The title is empty.
		EmptyTitle,
		/// The title is longer than `MaxTitleLength`.
		TitleTooLong,
		/// The application names no milestone.
		NoMilestones,
		/// More milestones than `MaxMilestones`.
		TooManyMilestones,
		/// A milestone's amount is zero.
		ZeroMilestone,
		/// A milestone's description is empty or longer than `MaxMilestoneDescriptionLength`.
		BadMilestoneDescription,
		/// A milestone's due block has already passed.
		DueInPast,
		/// The milestones add up to less than the tier's minimum.
		BelowTierMinimum,
		/// The milestones add up to more than the tier's cap (or the approving origin's cap).
		AboveTierCap,
		/// The origin may not act on applications of this tier.
		TierNotAllowed,
		/// Only the applicant may do this.
		NotApplicant,
		/// Only the grantee may do this.
		NotGrantee,
		/// The application is already approved.
		AlreadyApproved,
		/// The application is not approved.
		NotApproved,
		/// The pot's free funds do not cover the grant.
		InsufficientPot,
		/// The milestone's deliverable was already submitted and awaits review.
		MilestoneAlreadySubmitted,
		/// The milestone was already paid.
		MilestoneAlreadyPaid,
		/// The milestone has no deliverable awaiting review.
		MilestoneNotSubmitted,
		/// The milestone's due block has passed.
		MilestoneOverdue,
		/// The payout would take the grant beyond its approved amount.
		PayoutExceedsApproved,
		/// No milestone is overdue.
		NotExpired,
		/// A counter or sum would overflow.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxMilestones::get() > 0, "MaxMilestones must not be zero");
			assert!(T::MaxTitleLength::get() > 0, "MaxTitleLength must not be zero");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submits an application for a grant of `tier`, holding its deposit from the caller.
		///
		/// The origin must be signed. `milestones` must be non-empty, at most `MaxMilestones`,
		/// each with a non-zero amount, a description and a due block in the future, adding up to
		/// an amount within the tier's range.
		///
		/// Emits [`Event::Submitted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit(milestones.len() as u32))]
		pub fn submit(
			origin: OriginFor<T>,
			tier: Tier,
			title: Vec<u8>,
			description: H256,
			milestones: Vec<MilestoneInputOf<T>>,
		) -> DispatchResult {
			let applicant = ensure_signed(origin)?;
			ensure!(!title.is_empty(), Error::<T>::EmptyTitle);
			let title: BoundedVec<u8, T::MaxTitleLength> =
				title.try_into().map_err(|_| Error::<T>::TitleTooLong)?;
			let (milestones, amount) = Self::bound_milestones(milestones)?;
			let range = T::TierRanges::get().of(tier);
			ensure!(amount >= range.min, Error::<T>::BelowTierMinimum);
			ensure!(amount <= range.max, Error::<T>::AboveTierCap);

			let id = NextApplicationId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
			let deposit = Self::deposit_for(&title, &milestones);
			T::Currency::hold(&HoldReason::ApplicationDeposit.into(), &applicant, deposit)?;
			Applications::<T>::insert(
				id,
				Application {
					applicant: applicant.clone(),
					tier,
					title,
					description,
					milestones,
					amount,
					paid: Zero::zero(),
					deposit,
					status: ApplicationStatus::Submitted,
					submitted_at: frame_system::Pallet::<T>::block_number(),
				},
			);
			NextApplicationId::<T>::put(next);
			Self::deposit_event(Event::Submitted {
				application: id,
				applicant,
				tier,
				amount,
				deposit,
			});
			Ok(())
		}

		/// Withdraws an application or a grant: the unpaid earmark returns to the pot and the
		/// deposit to the applicant.
		///
		/// The origin must be the applicant. Emits [`Event::Withdrawn`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, application: ApplicationId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Self::live(application)?;
			ensure!(info.applicant == who, Error::<T>::NotApplicant);
			let returned = Self::end(application, &info)?;
			Self::deposit_event(Event::Withdrawn { application, returned });
			Ok(())
		}

		/// Approves a submitted application, earmarking its whole amount in the pot.
		///
		/// The origin must be [`Config::ApproveOrigin`] for the application's tier or a higher
		/// one, and the amount must not exceed that origin's tier cap. Emits [`Event::Approved`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::approve())]
		pub fn approve(origin: OriginFor<T>, application: ApplicationId) -> DispatchResult {
			let allowed = T::ApproveOrigin::ensure_origin(origin)?;
			let mut info = Self::within(application, allowed)?;
			ensure!(info.amount <= T::TierRanges::get().of(allowed).max, Error::<T>::AboveTierCap);
			ensure!(info.status == ApplicationStatus::Submitted, Error::<T>::AlreadyApproved);
			T::Currency::hold(&HoldReason::Earmarked.into(), &T::Pot::get(), info.amount)
				.map_err(|_| Error::<T>::InsufficientPot)?;
			info.status =
				ApplicationStatus::Approved { at: frame_system::Pallet::<T>::block_number() };
			let amount = info.amount;
			Applications::<T>::insert(application, info);
			Self::deposit_event(Event::Approved { application, amount });
			Ok(())
		}

		/// Turns down a submitted application; its deposit goes to the pot.
		///
		/// The origin must be [`Config::ApproveOrigin`] for the application's tier or a higher
		/// one. Emits [`Event::Rejected`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::reject())]
		pub fn reject(origin: OriginFor<T>, application: ApplicationId) -> DispatchResult {
			let allowed = T::ApproveOrigin::ensure_origin(origin)?;
			let info = Self::within(application, allowed)?;
			ensure!(info.status == ApplicationStatus::Submitted, Error::<T>::AlreadyApproved);
			let deposit = T::Currency::transfer_on_hold(
				&HoldReason::ApplicationDeposit.into(),
				&info.applicant,
				&T::Pot::get(),
				info.deposit,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)?;
			Applications::<T>::remove(application);
			Self::deposit_event(Event::Rejected { application, deposit });
			Ok(())
		}

		/// Cancels an approved grant: the unpaid earmark returns to the pot and the deposit to the
		/// applicant.
		///
		/// The origin must be [`Config::ApproveOrigin`] for the grant's tier or a higher one.
		/// Emits [`Event::Cancelled`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, application: ApplicationId) -> DispatchResult {
			let allowed = T::ApproveOrigin::ensure_origin(origin)?;
			let info = Self::within(application, allowed)?;
			Self::ensure_approved(&info)?;
			let returned = Self::end(application, &info)?;
			Self::deposit_event(Event::Cancelled { application, returned });
			Ok(())
		}

		/// Submits the deliverable of a milestone, by the content hash of what was delivered.
		///
		/// The origin must be the grantee; the grant must be approved, the milestone neither
		/// awaiting review nor paid, and its due block not passed. Emits
		/// [`Event::MilestoneSubmitted`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::submit_milestone())]
		pub fn submit_milestone(
			origin: OriginFor<T>,
			application: ApplicationId,
			milestone: MilestoneIndex,
			deliverable: H256,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::live(application)?;
			ensure!(info.applicant == who, Error::<T>::NotGrantee);
			Self::ensure_approved(&info)?;
			let now = frame_system::Pallet::<T>::block_number();
			let entry = info
				.milestones
				.get_mut(milestone as usize)
				.ok_or(Error::<T>::UnknownMilestone)?;
			match entry.status {
				MilestoneStatus::Pending | MilestoneStatus::Rejected { .. } => {},
				MilestoneStatus::Submitted { .. } => {
					return Err(Error::<T>::MilestoneAlreadySubmitted.into())
				},
				MilestoneStatus::Paid { .. } => return Err(Error::<T>::MilestoneAlreadyPaid.into()),
			}
			ensure!(now <= entry.due, Error::<T>::MilestoneOverdue);
			entry.status = MilestoneStatus::Submitted { deliverable, at: now };
			Applications::<T>::insert(application, info);
			Self::deposit_event(Event::MilestoneSubmitted { application, milestone, deliverable });
			Ok(())
		}

		/// Accepts a milestone's deliverable and pays the milestone from the earmark to the
		/// grantee. When it is the last unpaid milestone, the grant completes and the deposit
		/// returns.
		///
		/// The origin must be [`Config::ReviewOrigin`] for the grant's tier or a higher one.
		/// Emits [`Event::MilestonePaid`], and [`Event::Completed`] with the last one.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::accept_milestone())]
		pub fn accept_milestone(
			origin: OriginFor<T>,
			application: ApplicationId,
			milestone: MilestoneIndex,
		) -> DispatchResult {
			let allowed = T::ReviewOrigin::ensure_origin(origin)?;
			let mut info = Self::within(application, allowed)?;
			Self::ensure_approved(&info)?;
			let now = frame_system::Pallet::<T>::block_number();
			let entry = info
				.milestones
				.get_mut(milestone as usize)
				.ok_or(Error::<T>::UnknownMilestone)?;
			let deliverable = match entry.status {
				MilestoneStatus::Submitted { deliverable, .. } => deliverable,
				MilestoneStatus::Paid { .. } => return Err(Error::<T>::MilestoneAlreadyPaid.into()),
				MilestoneStatus::Pending | MilestoneStatus::Rejected { .. } => {
					return Err(Error::<T>::MilestoneNotSubmitted.into())
				},
			};
			let amount = entry.amount;
			let paid = info.paid.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			ensure!(paid <= info.amount, Error::<T>::PayoutExceedsApproved);
			entry.status = MilestoneStatus::Paid { deliverable, at: now };
			T::Currency::transfer_on_hold(
				&HoldReason::Earmarked.into(),
				&T::Pot::get(),
				&info.applicant,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)?;
			info.paid = paid;
			let grantee = info.applicant.clone();
			Self::deposit_event(Event::MilestonePaid { application, milestone, grantee, amount });
			if info.milestones.iter().all(|m| matches!(m.status, MilestoneStatus::Paid { .. })) {
				Self::end(application, &info)?;
				Self::deposit_event(Event::Completed { application, paid });
			} else {
				Applications::<T>::insert(application, info);
			}
			Ok(())
		}

		/// Sends a milestone's deliverable back with a reason; the grantee may submit again until
		/// the due block.
		///
		/// The origin must be [`Config::ReviewOrigin`] for the grant's tier or a higher one.
		/// Emits [`Event::MilestoneRejected`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::reject_milestone())]
		pub fn reject_milestone(
			origin: OriginFor<T>,
			application: ApplicationId,
			milestone: MilestoneIndex,
			reason: RejectReason,
		) -> DispatchResult {
			let allowed = T::ReviewOrigin::ensure_origin(origin)?;
			let mut info = Self::within(application, allowed)?;
			let entry = info
				.milestones
				.get_mut(milestone as usize)
				.ok_or(Error::<T>::UnknownMilestone)?;
			let MilestoneStatus::Submitted { deliverable, .. } = entry.status else {
				return Err(Error::<T>::MilestoneNotSubmitted.into());
			};
			entry.status = MilestoneStatus::Rejected { deliverable, reason };
			Applications::<T>::insert(application, info);
			Self::deposit_event(Event::MilestoneRejected { application, milestone, reason });
			Ok(())
		}

		/// Ends a grant one of whose milestones passed its due block without a deliverable
		/// awaiting review or paid: the unpaid earmark returns to the pot and the deposit to the
		/// applicant.
		///
		/// The origin must be signed: anyone may call it. Emits [`Event::Expired`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::expire())]
		pub fn expire(origin: OriginFor<T>, application: ApplicationId) -> DispatchResult {
			ensure_signed(origin)?;
			let info = Self::live(application)?;
			Self::ensure_approved(&info)?;
			let now = frame_system::Pallet::<T>::block_number();
			let overdue = info
				.milestones
				.iter()
				.position(|m| {
					matches!(m.status, MilestoneStatus::Pending | MilestoneStatus::Rejected { .. })
						&& m.due < now
				})
				.ok_or(Error::<T>::NotExpired)?;
			let returned = Self::end(application, &info)?;
			Self::deposit_event(Event::Expired {
				application,
				milestone: overdue as MilestoneIndex,
				returned,
			});
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// A live application.
		fn live(application: ApplicationId) -> Result<ApplicationOf<T>, Error<T>> {
			Applications::<T>::get(application).ok_or(Error::<T>::UnknownApplication)
		}

		/// A live application of a tier that an origin acting up to `allowed` may act on.
		fn within(application: ApplicationId, allowed: Tier) -> Result<ApplicationOf<T>, Error<T>> {
			let info = Self::live(application)?;
			ensure!(info.tier <= allowed, Error::<T>::TierNotAllowed);
			Ok(info)
		}

		/// Refuses an application that is not approved.
		fn ensure_approved(info: &ApplicationOf<T>) -> Result<(), Error<T>> {
			ensure!(
				matches!(info.status, ApplicationStatus::Approved { .. }),
				Error::<T>::NotApproved
			);
			Ok(())
		}

		/// Checks a call's milestones, converts them for storage and adds up their amounts.
		pub fn bound_milestones(
			input: Vec<MilestoneInputOf<T>>,
		) -> Result<(MilestonesOf<T>, BalanceOf<T>), Error<T>> {
			ensure!(!input.is_empty(), Error::<T>::NoMilestones);
			ensure!(input.len() <= T::MaxMilestones::get() as usize, Error::<T>::TooManyMilestones);
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			let mut milestones = BoundedVec::new();
			for m in input {
				ensure!(!m.amount.is_zero(), Error::<T>::ZeroMilestone);
				ensure!(!m.description.is_empty(), Error::<T>::BadMilestoneDescription);
				ensure!(m.due > now, Error::<T>::DueInPast);
				amount = amount.checked_add(&m.amount).ok_or(Error::<T>::Overflow)?;
				let description =
					m.description.try_into().map_err(|_| Error::<T>::BadMilestoneDescription)?;
				milestones
					.try_push(Milestone {
						amount: m.amount,
						description,
						due: m.due,
						status: MilestoneStatus::Pending,
					})
					.map_err(|_| Error::<T>::TooManyMilestones)?;
			}
			Ok((milestones, amount))
		}

		/// The deposit for an application with this title and these milestones.
		pub fn deposit_for(
			title: &BoundedVec<u8, T::MaxTitleLength>,
			milestones: &MilestonesOf<T>,
		) -> BalanceOf<T> {
			let bytes = title.encoded_size().saturating_add(milestones.encoded_size());
			let bytes = BalanceOf::<T>::from(u32::try_from(bytes).unwrap_or(u32::MAX));
			T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
		}

		/// Ends a live application: releases its unpaid earmark (if approved) and its deposit,
		/// and removes it. Returns what went back to the pot's free funds.
		fn end(
			application: ApplicationId,
			info: &ApplicationOf<T>,
		) -> Result<BalanceOf<T>, DispatchError> {
			let returned = match info.status {
				ApplicationStatus::Submitted => Zero::zero(),
				ApplicationStatus::Approved { .. } => {
					let unpaid = info.amount.saturating_sub(info.paid);
					T::Currency::release(
						&HoldReason::Earmarked.into(),
						&T::Pot::get(),
						unpaid,
						Precision::Exact,
					)?
				},
			};
			T::Currency::release(
				&HoldReason::ApplicationDeposit.into(),
				&info.applicant,
				info.deposit,
				Precision::BestEffort,
			)?;
			Applications::<T>::remove(application);
			Ok(returned)
		}

		/// The live applications among ids `start..start + limit`, in order of id; `limit` is
		/// clamped to [`MAX_PAGE`].
		pub fn applications_page(
			start: ApplicationId,
			limit: u32,
		) -> Vec<(ApplicationId, ApplicationOf<T>)> {
			let end = start.saturating_add(limit.min(MAX_PAGE)).min(NextApplicationId::<T>::get());
			(start..end)
				.filter_map(|id| Applications::<T>::get(id).map(|a| (id, a)))
				.collect()
		}

		/// The pot's funds: free to approve, and earmarked for approved grants.
		pub fn pot_funds() -> PotFunds<BalanceOf<T>> {
			let pot = T::Pot::get();
			PotFunds {
				free: T::Currency::balance(&pot),
				earmarked: T::Currency::balance_on_hold(&HoldReason::Earmarked.into(), &pot),
			}
		}

		/// Checks the pallet's invariants:
		///
		/// - every application's amount is the sum of its milestones, and what it has paid is the
		///   sum of its paid milestones, never more than its amount; a submitted application has
		///   paid nothing and has no deliverables;
		/// - the pot holds as earmarked exactly the unpaid amounts of approved grants (so the
		///   earmarks never exceed the pot);
		/// - each applicant has exactly the deposits of its live applications held;
		/// - every id is below [`NextApplicationId`].
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let next = NextApplicationId::<T>::get();
			let mut earmarked = BalanceOf::<T>::zero();
			let mut deposits = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
			for (id, info) in Applications::<T>::iter() {
				ensure!(id < next, "application id at or above NextApplicationId");
				let mut amount = BalanceOf::<T>::zero();
				let mut paid = BalanceOf::<T>::zero();
				for m in info.milestones.iter() {
					amount = amount.saturating_add(m.amount);
					if matches!(m.status, MilestoneStatus::Paid { .. }) {
						paid = paid.saturating_add(m.amount);
					}
				}
				ensure!(amount == info.amount, "amount is not the sum of the milestones");
				ensure!(paid == info.paid, "paid is not the sum of the paid milestones");
				ensure!(info.paid <= info.amount, "paid more than approved");
				match info.status {
					ApplicationStatus::Submitted => ensure!(
						info.milestones.iter().all(|m| m.status == MilestoneStatus::Pending),
						"a submitted application has deliverables"
					),
					ApplicationStatus::Approved { .. } => {
						earmarked = earmarked.saturating_add(info.amount.saturating_sub(info.paid))
					},
				}
				let held = deposits.entry(info.applicant.clone()).or_default();
				*held = held.saturating_add(info.deposit);
			}
			ensure!(
				earmarked
					== T::Currency::balance_on_hold(&HoldReason::Earmarked.into(), &T::Pot::get()),
				"the pot's earmark is not the sum of the approved grants' unpaid amounts"
			);
			for (who, deposit) in deposits {
				ensure!(
					deposit
						== T::Currency::balance_on_hold(
							&HoldReason::ApplicationDeposit.into(),
							&who
						),
					"an applicant's held deposit is not the sum of its applications' deposits"
				);
			}
			Ok(())
		}
	}
}
