//! The records the pallet keeps, and the inputs its calls take.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use openledger_primitives::JobKind;
use scale_info::TypeInfo;

/// The machine a provider offers, or the least a job needs.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Hardware {
	pub cpu_cores: u32,
	pub memory_mib: u32,
	pub gpus: u32,
	/// Memory of each GPU.
	pub gpu_memory_mib: u32,
}

impl Hardware {
	/// Whether this machine meets `need` in every dimension.
	pub fn meets(&self, need: &Hardware) -> bool {
		self.cpu_cores >= need.cpu_cores
			&& self.memory_mib >= need.memory_mib
			&& self.gpus >= need.gpus
			&& (need.gpus == 0 || self.gpu_memory_mib >= need.gpu_memory_mib)
	}
}

/// A job kind a provider runs, and its price per job.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Offer<Balance> {
	pub kind: JobKind,
	pub price: Balance,
}

/// A provider as a kind's list shows it: enough to tell, without reading the provider, whether it
/// could take a job of that kind.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Listing<AccountId, Balance> {
	pub provider: AccountId,
	/// Its price for jobs of the kind.
	pub price: Balance,
	pub hardware: Hardware,
}

/// What a provider declares, as a call supplies it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ProviderInput<Balance> {
	/// The base URL of the provider's HTTP API, `http://` or `https://`, e.g.
	/// `http://10.0.0.5:9100`, where clients (contributors uploading data, model builders fetching
	/// artifacts) reach it. The chain never calls it: providers find their jobs by watching the
	/// chain.
	pub endpoint: Vec<u8>,
	pub hardware: Hardware,
	/// The most jobs it runs at once; at least 1.
	pub concurrency: u32,
	/// The kinds it runs with their prices; not empty, each kind once.
	pub offers: Vec<Offer<Balance>>,
}

/// Whether a provider takes new jobs.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ProviderStatus<BlockNumber> {
	/// Gets new jobs.
	Active,
	/// Gets no new jobs; finishes those it has. Set by the provider, or by the pallet when
	/// slashing left its bond below the minimum.
	Paused,
	/// Leaving: gets no new jobs, and its bond can be withdrawn from block `unbonds_at` once it
	/// has no jobs left.
	Leaving { unbonds_at: BlockNumber },
}

/// How a provider's jobs ended.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Reliability {
	/// Jobs it completed with a result.
	pub completed: u32,
	/// Jobs it gave up on.
	pub failed: u32,
	/// Jobs it did not accept or complete in time.
	pub timed_out: u32,
}

impl Reliability {
	/// The share of its jobs it completed, in parts per million; a million for a new provider.
	pub fn score(&self) -> u32 {
		let total = u64::from(self.completed)
			.saturating_add(u64::from(self.failed))
			.saturating_add(u64::from(self.timed_out));
		let Some(score) = u64::from(self.completed).saturating_mul(1_000_000).checked_div(total)
		else {
			return 1_000_000;
		};
		u32::try_from(score).unwrap_or(1_000_000)
	}
}

/// A registered compute provider.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Provider<Balance, BlockNumber, Endpoint, Offers> {
	/// Held from the provider; slashed when it misses a deadline.
	pub bond: Balance,
	pub endpoint: Endpoint,
	pub hardware: Hardware,
	pub concurrency: u32,
	pub offers: Offers,
	pub status: ProviderStatus<BlockNumber>,
	/// Jobs assigned to it and not yet ended.
	pub jobs: u32,
	pub reliability: Reliability,
	pub registered_at: BlockNumber,
	/// When it was last slashed, if ever.
	pub slashed_at: Option<BlockNumber>,
}

/// Who is waiting for a job's result.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Requester {
	/// An account asked with [`crate::Pallet::create_job`]; the result is in the
	/// [`crate::Event::JobCompleted`] event.
	Account,
	/// Another pallet asked through [`crate::JobMarket`]; the runtime's [`crate::JobConsumer`]
	/// receives the result.
	Runtime,
}

/// Where an open job stands. Ended jobs are removed.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum JobStatus<AccountId, Balance, BlockNumber> {
	/// Assigned to `provider` at `price`; it must accept before block `until`, and post the
	/// result before block `result_by`, a deadline reserved at assignment.
	Assigned { provider: AccountId, price: Balance, until: BlockNumber, result_by: BlockNumber },
	/// Accepted by `provider`; it must post the result before block `until`.
	Accepted { provider: AccountId, price: Balance, until: BlockNumber },
}

impl<AccountId, Balance: Copy, BlockNumber: Copy> JobStatus<AccountId, Balance, BlockNumber> {
	pub fn provider(&self) -> &AccountId {
		match self {
			JobStatus::Assigned { provider, .. } | JobStatus::Accepted { provider, .. } => provider,
		}
	}

	pub fn price(&self) -> Balance {
		match self {
			JobStatus::Assigned { price, .. } | JobStatus::Accepted { price, .. } => *price,
		}
	}

	/// The block from which the provider is late.
	pub fn until(&self) -> BlockNumber {
		match self {
			JobStatus::Assigned { until, .. } | JobStatus::Accepted { until, .. } => *until,
		}
	}
}

/// An open job.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Job<AccountId, Balance, BlockNumber, Payload, Tried> {
	pub kind: JobKind,
	/// The account the fee is held from and refunded to.
	pub owner: AccountId,
	pub requester: Requester,
	/// What the job is about; its meaning depends on the kind.
	pub payload: Payload,
	/// The least machine it needs.
	pub requirements: Hardware,
	/// Held from the owner until the job ends: the most it pays. The provider gets its price,
	/// the rest returns.
	pub fee: Balance,
	/// Blocks a provider has to post the result once it accepted.
	pub duration: BlockNumber,
	pub created_at: BlockNumber,
	pub status: JobStatus<AccountId, Balance, BlockNumber>,
	/// The providers assigned so far, the current one last. None is assigned twice.
	pub tried: Tried,
}

/// Why a job ended without a result.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AbandonReason {
	/// No other eligible provider was free to take it over.
	NoProvider,
	/// It was assigned as many times as [`crate::Config::MaxAttempts`] allows.
	AttemptsExhausted,
}
