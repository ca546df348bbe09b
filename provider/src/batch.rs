//! Puts many calls of one signer into few transactions.
//!
//! Every transaction costs the node a validation in its pool, and a provider with many jobs in
//! flight sends two for each (accept, result). The batcher sends the calls waiting for it as
//! one `utility.force_batch` (at most [`MAX_CALLS`] of them): a failing call is rolled back on
//! its own and does not stop the others, and each caller learns what became of its own call.
//! While one batch is being handed to the pool the next one gathers, so batches grow with the
//! load and a lone call goes out at once.

use crate::chain::{describe, Chain};
use openledger_runtime::{RuntimeCall, RuntimeEvent};
use sp_core::sr25519;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most calls in one batch.
pub const MAX_CALLS: usize = 128;

type Reply = oneshot::Sender<Result<Vec<RuntimeEvent>, BatchError>>;

/// What became of a call sent in a batch, when it did not succeed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum BatchError {
	#[error("the batcher stopped")]
	Stopped,
	#[error("the batch did not run this call")]
	NotRun,
	/// The batch transaction itself failed, for all the calls in it.
	#[error("{0}")]
	Batch(String),
	/// The call ran and failed with this error of the runtime.
	#[error("{}", describe(*.0))]
	Failed(sp_runtime::DispatchError),
}

/// A handle to the batching task of one signer.
#[derive(Clone)]
pub struct Batcher {
	queue: mpsc::UnboundedSender<(RuntimeCall, Reply)>,
}

impl Batcher {
	/// Starts the batching task for `signer` on `chain`.
	pub fn start(chain: Arc<Chain>, signer: sr25519::Pair) -> Self {
		let (queue, mut calls) = mpsc::unbounded_channel::<(RuntimeCall, Reply)>();
		tokio::spawn(async move {
			while let Some(first) = calls.recv().await {
				let mut batch = vec![first];
				while batch.len() < MAX_CALLS {
					match calls.try_recv() {
						Ok(next) => batch.push(next),
						Err(_) => break,
					}
				}
				let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
				let call = RuntimeCall::Utility(pallet_utility::Call::force_batch { calls: items });
				match chain.send(&signer, call).await {
					Ok(sent) => {
						let chain = chain.clone();
						tokio::spawn(async move {
							let outcome = chain.included(sent).await.map(|i| i.events);
							reply(outcome, replies);
						});
					},
					Err(e) => reply(Err(e), replies),
				}
			}
		});
		Self { queue }
	}

	/// Sends `call` in the next batch and waits until a block includes it: its events, or its
	/// error (the runtime's error name if the call failed).
	pub async fn submit(&self, call: RuntimeCall) -> Result<Vec<RuntimeEvent>, BatchError> {
		let (tx, rx) = oneshot::channel();
		self.queue.send((call, tx)).map_err(|_| BatchError::Stopped)?;
		rx.await.map_err(|_| BatchError::Stopped)?
	}
}

/// Tells each caller of a batch what became of its call.
fn reply(outcome: crate::chain::Result<Vec<RuntimeEvent>>, replies: Vec<Reply>) {
	match outcome {
		Ok(events) => {
			let mut items = split(events).into_iter();
			for reply in replies {
				let item = items.next().unwrap_or(Err(BatchError::NotRun));
				let _ = reply.send(item);
			}
		},
		Err(e) => {
			let error = BatchError::Batch(crate::error_chain(&e));
			for reply in replies {
				let _ = reply.send(Err(error.clone()));
			}
		},
	}
}

/// Splits a `force_batch`'s events into the outcome of each of its calls: the events a call
/// emitted come before the `ItemCompleted` or `ItemFailed` that closes it.
pub fn split(events: Vec<RuntimeEvent>) -> Vec<Result<Vec<RuntimeEvent>, BatchError>> {
	let mut items = Vec::new();
	let mut current = Vec::new();
	for event in events {
		match event {
			RuntimeEvent::Utility(pallet_utility::Event::ItemCompleted) => {
				items.push(Ok(std::mem::take(&mut current)))
			},
			RuntimeEvent::Utility(pallet_utility::Event::ItemFailed { error }) => {
				current.clear();
				items.push(Err(BatchError::Failed(error)));
			},
			event => current.push(event),
		}
	}
	items
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn splits_a_batchs_events_by_call() {
		let failed = |job| {
			RuntimeEvent::Compute(pallet_compute::Event::JobFailed {
				job,
				provider: [1u8; 32].into(),
			})
		};
		let utility = |e| RuntimeEvent::Utility(e);
		let events = vec![
			failed(1),
			utility(pallet_utility::Event::ItemCompleted),
			utility(pallet_utility::Event::ItemFailed {
				error: pallet_compute::Error::<openledger_runtime::Runtime>::UnknownJob.into(),
			}),
			failed(3),
			utility(pallet_utility::Event::ItemCompleted),
			utility(pallet_utility::Event::BatchCompletedWithErrors),
		];
		let items = split(events);
		assert_eq!(items.len(), 3);
		assert!(matches!(&items[0], Ok(e) if e.len() == 1));
		let error = items[1].as_ref().unwrap_err().to_string();
		assert_eq!(error, "Compute(UnknownJob)");
		assert!(matches!(&items[2], Ok(e) if e.len() == 1));
	}
}
