//! # OpenLedger compute provider
//!
//! The daemon a compute provider runs next to an OpenLedger node, and the library the
//! contributor command line shares with it.
//!
//! - [`amount`]: amounts of OPEN, read and written in decimal.
//! - [`config`]: the daemon's TOML configuration.
//! - [`chain`]: a chain client over JSON-RPC: reads storage, signs and submits extrinsics with
//!   the runtime's own types, and reports their outcome from the block's events.
//! - [`batch`]: puts the job loop's many calls into few `utility.force_batch` transactions.
//! - [`store`]: the content-addressed blob store: the key of a blob is the blake2-256 hash of its
//!   bytes, checked as the bytes arrive; reads stream the stored file.
//! - [`client`]: the HTTP(S) client for blob stores, which reaches only public addresses unless
//!   allowed otherwise.
//! - [`contribute`]: the contributor's flow: commit, upload, contribute, follow the validation.
//! - [`models`]: the model builder's flows: request training, follow it, read a model's lineage,
//!   fetch its artifact by hash.
//! - [`inference`]: the model user's flows: find a provider serving a model, stream its answer.
//! - [`validate`]: the contribution-validation job: hash, size and format checks and the score.
//! - [`training`]: the training job: the data of datanet versions checked against their roots,
//!   training with `openledger-ml`, the artifact and the result the chain checks.
//! - [`http`]: the HTTP connections: how many in all and per client, header, body and write
//!   timeouts.
//! - [`serving`]: OpenLoRA serving: the published adapters on the configured base models, one
//!   resident base each, continuous batching, through OpenAI's API.
//! - [`attribution`]: Proof of Attribution for answers: each model's corpus index fetched by
//!   hash and memory-mapped, the span attribution of an answer's text with its contributors.
//! - [`settlement`]: paid inference: API keys checked against the chain, the journal of what
//!   was served, batch settlement.
//! - [`server`]: the HTTP API's router (blobs, jobs, serving, metrics) and its layers.
//! - [`daemon`]: registration, the job loop (new blocks and a poll find the jobs; accept,
//!   execute, submit), restart and shutdown.
//!
//! ## HTTP API
//!
//! | method and path | what it does |
//! |---|---|
//! | `PUT /v1/blobs/0x{hash}?datanet={id}&contributor={account}` | store the body if datanet `id` names this provider among its storage endpoints, its blake2-256 hash is `hash` and `account` committed to it there (or the datanet records it); 201 (200 if held already), or 400 / 403 / 408 (too slow) / 409 (another upload of it under way) / 413 / 507 |
//! | `GET /v1/blobs/0x{hash}` | the bytes; 404 if absent |
//! | `GET /v1/status` | the provider's account and its jobs with their timings |
//! | `GET /v1/jobs/{id}` | one job's record and, for training, its progress: phase, step of steps, loss, tokens/s, ETA; 404 if unknown |
//! | `GET /v1/models` | the published models served here (OpenAI's list; `id` is the on-chain model id) |
//! | `POST /v1/completions` | OpenAI's completions, paid with `Authorization: Bearer olk_…` (an API key, see [`settlement`]; 401, 402 or 403 without one that pays): `model` (`"3"`, or an ensemble `"0.7*3+0.3*5"`), `prompt`, `max_tokens`, `temperature`, `top_p`, `seed`, `stop`, `logprobs: 0`, `stream` (server-sent events ending `data: [DONE]`), `stream_options.include_usage`; 400 for a bad or unserved field (`n` ≠ 1 among them), 404 for a model not served, 413 for a prompt over the limit, 429 with `Retry-After` when the queue is full |
//! | `POST /v1/chat/completions` | the same for `messages`, in SmolLM2's ChatML template; `logprobs: true` |
//! | | every answer carries `openledger_receipt` and `openledger_attribution`, the contributions whose data the answer's text matches, with their contributors, weights and spans (see [`attribution`]), and with `openledger_influence: true` the gradient influence for models that have features; a stream, in its last event |
//! | `GET /metrics` | Prometheus' text format: queue, batch, tokens, adapter pool, TTFT and TPOT histograms, attribution time, inferences not yet settled |
//!
//! Every connection is under [`http::Limits`]: 256 at once, 16 from one client (429 beyond),
//! headers within 5 s (also the longest a kept-alive connection idles), a body that pauses 10 s or
//! averages under 16 KiB/s after its first 10 s is answered 408, and an answer the client reads
//! slower than that, or leaves unread for 30 s, ends the connection.

pub mod amount;
pub mod attribution;
pub mod batch;
pub mod chain;
pub mod client;
pub mod config;
pub mod contribute;
pub mod daemon;
pub mod http;
pub mod inference;
pub mod models;
pub mod server;
pub mod serving;
pub mod settlement;
pub mod store;
pub mod training;
pub mod validate;

pub use amount::{Open, OPEN};

/// An error and its causes on one line, `outer: inner: innermost`, as logs and chain-facing
/// messages show them.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
	let mut text = error.to_string();
	let mut next = error.source();
	while let Some(cause) = next {
		text.push_str(": ");
		text.push_str(&cause.to_string());
		next = cause.source();
	}
	text
}

#[cfg(test)]
mod tests {
	#[test]
	fn an_error_chain_reads_outside_in() {
		let io = std::io::Error::other("disk full");
		let error = crate::config::ConfigError::Read { path: "p.toml".into(), source: io };
		assert_eq!(super::error_chain(&error), "reading the configuration p.toml: disk full");
	}
}
