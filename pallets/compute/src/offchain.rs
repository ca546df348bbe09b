//! The offchain worker's delivery of job assignments to providers.
//!
//! After each block a validator's offchain worker posts every job assigned in that block to its
//! provider's `{endpoint}/v1/jobs/notify` with the body `{"job":<id>,"block":<number>}`. Each
//! attempt has a deadline of [`ATTEMPT_DEADLINE_MS`]; a delivery is tried at most
//! [`ATTEMPTS`] times and counts as done on any 2xx answer. A node claims each assignment (job,
//! provider, deadline) in its persistent offchain storage before the first attempt, so re-imports
//! and forks never deliver it twice. Other validators deliver it too: the message only tells the
//! provider to look at chain state, so repeats are harmless and a provider treats them as one.

use crate::{Assignments, Config, JobId, JobStatus, Jobs, Providers};
use alloc::{format, vec};
use codec::Encode;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::offchain::{http, storage::StorageValueRef, Duration};

/// The most attempts to deliver one assignment.
pub const ATTEMPTS: u32 = 3;
/// How long one attempt may take.
pub const ATTEMPT_DEADLINE_MS: u64 = 2_000;
/// The prefix of the offchain storage keys that record delivered assignments.
pub const CLAIM_PREFIX: &[u8] = b"openledger::compute::delivered::";

/// What a delivery achieved.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Delivery {
	/// The provider answered 2xx.
	Delivered,
	/// Every attempt failed.
	Failed,
	/// This node already delivered (or is delivering) this assignment.
	AlreadyClaimed,
	/// The job is gone or no longer waiting for acceptance.
	NotAssigned,
}

/// Delivers the assignments made in block `now`.
pub fn deliver_assignments<T: Config>(now: BlockNumberFor<T>) {
	if !sp_io::offchain::is_validator() {
		return;
	}
	for job in Assignments::<T>::get() {
		let outcome = deliver::<T>(job, now);
		log::debug!(target: "compute", "job {job} assigned in block {now:?}: {outcome:?}");
	}
}

/// Delivers one assignment over HTTP, claiming it first.
pub fn deliver<T: Config>(job: JobId, now: BlockNumberFor<T>) -> Delivery {
	deliver_with::<T>(job, now, post)
}

/// Delivers one assignment with `post`, claiming it first.
pub fn deliver_with<T: Config>(
	job: JobId,
	now: BlockNumberFor<T>,
	mut post: impl FnMut(&str, &[u8]) -> Result<(), PostError>,
) -> Delivery {
	let Some(info) = Jobs::<T>::get(job) else { return Delivery::NotAssigned };
	let JobStatus::Assigned { provider, until, .. } = &info.status else {
		return Delivery::NotAssigned;
	};
	let Some(record) = Providers::<T>::get(provider) else { return Delivery::NotAssigned };
	let Ok(endpoint) = core::str::from_utf8(&record.endpoint) else { return Delivery::Failed };

	let key = [CLAIM_PREFIX, &(job, provider, until).encode()].concat();
	let claim = StorageValueRef::persistent(&key).mutate(|done: Result<Option<bool>, _>| {
		match done {
			Ok(Some(true)) => Err(()),
			_ => Ok(true),
		}
	});
	if claim.is_err() {
		return Delivery::AlreadyClaimed;
	}

	let url = format!("{}/v1/jobs/notify", endpoint.trim_end_matches('/'));
	let body = format!("{{\"job\":{job},\"block\":{now:?}}}");
	for attempt in 1..=ATTEMPTS {
		match post(&url, body.as_bytes()) {
			Ok(()) => return Delivery::Delivered,
			Err(e) => log::info!(
				target: "compute",
				"delivering job {job} to {url}, attempt {attempt} of {ATTEMPTS}: {e:?}"
			),
		}
	}
	Delivery::Failed
}

/// Why one attempt failed.
#[derive(Debug)]
pub enum PostError {
	/// The request could not be made or its answer read.
	Http(#[allow(dead_code)] http::Error),
	DeadlineReached,
	/// The provider answered with this status code.
	Status(#[allow(dead_code)] u16),
}

fn post(url: &str, body: &[u8]) -> Result<(), PostError> {
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(ATTEMPT_DEADLINE_MS));
	let pending = http::Request::post(url, vec![body])
		.add_header("Content-Type", "application/json")
		.deadline(deadline)
		.send()
		.map_err(|_| PostError::Http(http::Error::IoError))?;
	let response = pending
		.try_wait(deadline)
		.map_err(|_| PostError::DeadlineReached)?
		.map_err(PostError::Http)?;
	if (200..300).contains(&response.code) {
		Ok(())
	} else {
		Err(PostError::Status(response.code))
	}
}
