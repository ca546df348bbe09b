//! The offchain worker's delivery of job assignments to providers.
//!
//! After each block a validator's offchain worker posts each provider the jobs assigned to it in
//! that block, in one message to `{endpoint}/v1/jobs/notify` with the body
//! `{"jobs":[<id>,...],"block":<number>}`, so a block of many assignments costs each provider one
//! request. Each attempt has a deadline of [`ATTEMPT_DEADLINE_MS`]; a message is tried at most
//! [`ATTEMPTS`] times and counts as delivered on any 2xx answer. A node claims each assignment (job,
//! provider, deadline) in its persistent offchain storage before the first attempt, so re-imports
//! and forks never deliver it twice. Other validators deliver it too: the message only tells the
//! provider to look at chain state, so repeats are harmless and a provider treats them as one.

use crate::{Assignments, Config, JobId, JobStatus, Jobs, Providers};
use alloc::{collections::BTreeMap, format, string::String, vec, vec::Vec};
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
	for (job, outcome) in deliver::<T>(&Assignments::<T>::get(), now) {
		log::debug!(target: "compute", "job {job} assigned in block {now:?}: {outcome:?}");
	}
}

/// Delivers the assignments of `jobs` over HTTP, one message per provider, claiming each
/// first. Returns what became of each job.
pub fn deliver<T: Config>(jobs: &[JobId], now: BlockNumberFor<T>) -> Vec<(JobId, Delivery)> {
	deliver_with::<T>(jobs, now, post)
}

/// Delivers the assignments of `jobs` with `post`: claims each job still waiting for
/// acceptance, then posts each provider the list of its claimed jobs.
pub fn deliver_with<T: Config>(
	jobs: &[JobId],
	now: BlockNumberFor<T>,
	mut post: impl FnMut(&str, &[u8]) -> Result<(), PostError>,
) -> Vec<(JobId, Delivery)> {
	let mut outcomes = Vec::with_capacity(jobs.len());
	// Each provider's endpoint and the jobs to tell it about, in the order they were assigned.
	let mut messages = BTreeMap::<T::AccountId, (Option<String>, Vec<JobId>)>::new();
	for &job in jobs {
		let Some(info) = Jobs::<T>::get(job) else {
			outcomes.push((job, Delivery::NotAssigned));
			continue;
		};
		let JobStatus::Assigned { provider, until, .. } = &info.status else {
			outcomes.push((job, Delivery::NotAssigned));
			continue;
		};
		let key = [CLAIM_PREFIX, &(job, provider, until).encode()].concat();
		let claim =
			StorageValueRef::persistent(&key).mutate(|done: Result<Option<bool>, _>| match done {
				Ok(Some(true)) => Err(()),
				_ => Ok(true),
			});
		if claim.is_err() {
			outcomes.push((job, Delivery::AlreadyClaimed));
			continue;
		}
		messages
			.entry(provider.clone())
			.or_insert_with(|| {
				let endpoint = Providers::<T>::get(provider)
					.and_then(|p| core::str::from_utf8(&p.endpoint).ok().map(String::from));
				(endpoint, Vec::new())
			})
			.1
			.push(job);
	}

	for (endpoint, ids) in messages.into_values() {
		let delivered = endpoint.is_some_and(|endpoint| {
			let url = format!("{}/v1/jobs/notify", endpoint.trim_end_matches('/'));
			let list = ids.iter().map(|id| format!("{id}")).collect::<Vec<_>>().join(",");
			let body = format!("{{\"jobs\":[{list}],\"block\":{now:?}}}");
			(1..=ATTEMPTS).any(|attempt| match post(&url, body.as_bytes()) {
				Ok(()) => true,
				Err(e) => {
					log::info!(
						target: "compute",
						"delivering {} jobs to {url}, attempt {attempt} of {ATTEMPTS}: {e:?}",
						ids.len(),
					);
					false
				},
			})
		});
		let outcome = if delivered { Delivery::Delivered } else { Delivery::Failed };
		outcomes.extend(ids.into_iter().map(|id| (id, outcome)));
	}
	outcomes
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
