//! The job market's interface: [`JobMarket`] to ask for work, [`JobConsumer`] to receive its
//! outcome, and the [`JobId`] and [`JobKind`] both speak of.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::DispatchResult, weights::Weight};
use scale_info::TypeInfo;
use sp_runtime::DispatchError;

/// A job's number, assigned in order of creation from 0.
pub type JobId = u64;

/// What a job asks a provider to do.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum JobKind {
	/// Check a datanet contribution's bytes against its record and score them. Only the datanets
	/// pallet creates these jobs, since their results change contributions' fate.
	ContributionValidation,
	/// Train a model on datanet versions. Only the model registry creates these jobs: it
	/// reserves the datanets' access fees and checks the hyperparameters first, and providers
	/// run a training job only if the registry holds its request.
	Training,
	/// Run a model on an input.
	Inference,
}

impl JobKind {
	/// Whether any account may create jobs of this kind directly, rather than only a pallet
	/// through [`JobMarket::create`].
	pub fn is_public(self) -> bool {
		matches!(self, JobKind::Inference)
	}
}

/// What [`JobMarket::create`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Creation {
	/// The job created, or `None` when the market could not take one now.
	pub job: Option<JobId>,
	/// The weight the creation used, at most [`JobMarket::create_weight`]: a caller returns it
	/// as part of its actual weight, so that what a cheap creation left unused goes back to the
	/// block.
	pub weight: Weight,
}

/// Creates jobs on behalf of the runtime.
pub trait JobMarket<AccountId, Balance, BlockNumber> {
	/// Creates a job of `kind` paid by `owner`, whose `fee` is escrowed until it ends, and assigns
	/// it. A [`Creation`] without a job when the market cannot take it now: no provider is free
	/// to take it, the coming deadline buckets are full, `owner` has as many open jobs as it may,
	/// or `fee` is below the market's minimum; then nothing was held or written. An error (the
	/// owner cannot pay, a bad payload or duration) means the caller should fail too.
	fn create(
		owner: &AccountId,
		kind: JobKind,
		payload: Vec<u8>,
		fee: Balance,
		duration: BlockNumber,
	) -> Result<Creation, DispatchError>;

	/// The most [`JobMarket::create`] weighs: the weight a caller declares for it.
	fn create_weight() -> Weight;

	/// The provider an open job is assigned to.
	fn assignee(job: JobId) -> Option<AccountId>;

	/// The least fee a job may carry.
	fn min_fee() -> Balance;

	/// Whether `who` is a registered provider, bonded and active.
	fn is_active_provider(who: &AccountId) -> bool;
}

/// Receives the outcome of the jobs the runtime created.
pub trait JobConsumer {
	/// A provider posted `result` for the job. An error refuses the result: the provider is not
	/// paid and the job stays open until it posts another or its deadline passes.
	fn on_result(job: JobId, kind: JobKind, payload: &[u8], result: &[u8]) -> DispatchResult;

	/// The job ended without a result; its fee went back to its owner.
	fn on_abandoned(job: JobId, kind: JobKind, payload: &[u8]);

	/// The most [`JobConsumer::on_result`] weighs.
	fn on_result_weight() -> Weight;

	/// The most [`JobConsumer::on_abandoned`] weighs.
	fn on_abandoned_weight() -> Weight;
}

/// No pallet creates jobs.
impl JobConsumer for () {
	fn on_result(_: JobId, _: JobKind, _: &[u8], _: &[u8]) -> DispatchResult {
		Ok(())
	}
	fn on_abandoned(_: JobId, _: JobKind, _: &[u8]) {}
	fn on_result_weight() -> Weight {
		Weight::zero()
	}
	fn on_abandoned_weight() -> Weight {
		Weight::zero()
	}
}

/// No job market: every job finds no provider.
impl<AccountId, Balance: Default, BlockNumber> JobMarket<AccountId, Balance, BlockNumber> for () {
	fn create(
		_: &AccountId,
		_: JobKind,
		_: Vec<u8>,
		_: Balance,
		_: BlockNumber,
	) -> Result<Creation, DispatchError> {
		Ok(Creation { job: None, weight: Weight::zero() })
	}
	fn create_weight() -> Weight {
		Weight::zero()
	}
	fn assignee(_: JobId) -> Option<AccountId> {
		None
	}
	fn min_fee() -> Balance {
		Balance::default()
	}
	fn is_active_provider(_: &AccountId) -> bool {
		false
	}
}
