//! Storage endpoints and automatic validation: the rules a datanet sets, the validation jobs it
//! asks the job market for, and their outcome.

use crate::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::pallet_prelude::*;
use openledger_primitives::{Creation, JobConsumer, JobId, JobKind, JobMarket};

impl<T: Config> Pallet<T> {
	/// Names the storage endpoints that serve a datanet's contributions and sets its
	/// automatic validation (`None`: none), adjusting the owner's deposit to their size.
	/// Only the owner may. Contributions submitted before keep their validation state.
	pub(crate) fn do_set_services(
		who: T::AccountId,
		datanet: DatanetId,
		endpoints: Vec<Vec<u8>>,
		validation: Option<ValidationRules<BalanceOf<T>>>,
	) -> DispatchResult {
		let mut info = Self::owned(datanet, &who)?;
		let services = Self::bound_services(endpoints, validation.as_ref())?;
		info.validation = validation;
		Self::adjust_deposit(&mut info, Some(&services))?;
		let deposit = info.deposit;
		DatanetServices::<T>::insert(datanet, services);
		DatanetInfo::<T>::insert(datanet, info);
		Self::deposit_event(Event::ServicesUpdated { datanet, deposit });
		Ok(())
	}

	/// Checks a call's storage endpoints and validation rules and converts the endpoints for
	/// storage.
	pub fn bound_services(
		endpoints: Vec<Vec<u8>>,
		validation: Option<&ValidationRules<BalanceOf<T>>>,
	) -> Result<ServicesOf<T>, Error<T>> {
		ensure!(endpoints.len() <= T::MaxEndpoints::get() as usize, Error::<T>::TooManyEndpoints);
		let endpoints = endpoints
			.into_iter()
			.map(|url| {
				// Bounded first: a caller's megabyte of URL is refused without being walked.
				let url: BoundedVec<u8, _> =
					BoundedVec::try_from(url).map_err(|_| Error::<T>::EndpointTooLong)?;
				ensure!(openledger_primitives::is_http_url(&url), Error::<T>::BadEndpoint);
				Ok(url)
			})
			.collect::<Result<Vec<_>, _>>()?;
		ensure!(
			validation.is_none() || !endpoints.is_empty(),
			Error::<T>::ValidationWithoutEndpoint
		);
		ensure!(
			validation.is_none_or(|v| v.fee >= T::Jobs::min_fee()),
			Error::<T>::ValidationFeeTooLow
		);
		Ok(Services { endpoints: endpoints.try_into().map_err(|_| Error::<T>::TooManyEndpoints)? })
	}

	/// Creates the validation job of a new contribution if its datanet asks for one (`validation`,
	/// as `contribute` read it); `ValidationUnavailable` if the job market cannot take it now.
	/// Returns the weight the job market used.
	pub(crate) fn request_validation(
		datanet: DatanetId,
		contribution: ContributionId,
		contributor: &T::AccountId,
		validation: Option<ValidationRules<BalanceOf<T>>>,
	) -> Result<Weight, DispatchError> {
		let Some(rules) = validation else { return Ok(Weight::zero()) };
		let payload = ValidationRequest { datanet, contribution }.encode();
		let Creation { job, weight } = T::Jobs::create(
			contributor,
			JobKind::ContributionValidation,
			payload,
			rules.fee,
			T::ValidationDuration::get(),
		)?;
		// Recorded without its job, the contribution would skip validation and its fee; the
		// contributor tries again when the market has room.
		let job = job.ok_or(Error::<T>::ValidationUnavailable)?;
		Self::deposit_event(Event::ValidationRequested { datanet, contribution, job });
		Validations::<T>::insert(datanet, contribution, ValidationState::Requested { job });
		Ok(weight)
	}

	/// Records a validation job's report on its contribution and rejects the contribution
	/// if it failed and the datanet rejects such contributions automatically. A report for
	/// a contribution that is gone, or whose validation is another job's, is ignored.
	pub(crate) fn record_validation(job: JobId, payload: &[u8], result: &[u8]) -> DispatchResult {
		use codec::DecodeAll;
		let ValidationRequest { datanet, contribution } =
			ValidationRequest::decode_all(&mut &payload[..])
				.map_err(|_| Error::<T>::BadValidationPayload)?;
		let report = ValidationReport::decode_all(&mut &result[..])
			.map_err(|_| Error::<T>::BadValidationReport)?;
		ensure!(report.score <= 100, Error::<T>::BadValidationReport);
		if Validations::<T>::get(datanet, contribution) != Some(ValidationState::Requested { job })
		{
			return Ok(());
		}
		let (outcome, score, reason) = (report.outcome, report.score, report.reason.clone());
		let at = frame_system::Pallet::<T>::block_number();
		Validations::<T>::insert(datanet, contribution, ValidationState::Done { report, at });
		Self::deposit_event(Event::Validated { datanet, contribution, outcome, score, reason });
		if !outcome.condemns() {
			return Ok(());
		}
		let Some(mut info) = DatanetInfo::<T>::get(datanet) else { return Ok(()) };
		let auto_reject = info.validation.is_some_and(|v| v.auto_reject);
		let Some(item) = Contributions::<T>::get(datanet, contribution) else { return Ok(()) };
		if auto_reject && matches!(item.status, ContributionStatus::Pending { .. }) {
			Self::reject(datanet, &mut info, contribution, item, RejectReason::FailedValidation)?;
			DatanetInfo::<T>::insert(datanet, info);
		}
		Ok(())
	}
}

impl<T: Config> JobConsumer for Pallet<T> {
	fn on_result(job: JobId, kind: JobKind, payload: &[u8], result: &[u8]) -> DispatchResult {
		match kind {
			JobKind::ContributionValidation => Self::record_validation(job, payload, result),
			_ => Ok(()),
		}
	}

	fn on_abandoned(job: JobId, kind: JobKind, payload: &[u8]) {
		use codec::DecodeAll;
		if kind != JobKind::ContributionValidation {
			return;
		}
		let Ok(ValidationRequest { datanet, contribution }) =
			ValidationRequest::decode_all(&mut &payload[..])
		else {
			return;
		};
		if Validations::<T>::get(datanet, contribution) == Some(ValidationState::Requested { job })
		{
			Validations::<T>::insert(datanet, contribution, ValidationState::Unavailable);
			Self::deposit_event(Event::ValidationUnavailable { datanet, contribution });
		}
	}

	fn on_result_weight() -> Weight {
		T::WeightInfo::validation_result()
	}

	fn on_abandoned_weight() -> Weight {
		T::DbWeight::get().reads_writes(1, 1)
	}
}
