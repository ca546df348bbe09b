//! Serving's metrics in Prometheus' text format (`GET /metrics`), named after vLLM's where they
//! mean the same, under the `openlora:` prefix, each labelled with its base model.

use openledger_ml::engine::{PoolStats, SchedulerStats};
use std::{
	fmt::Write,
	sync::Mutex,
	time::{Duration, Instant},
};

/// Upper bounds, in seconds, of the latency histograms' buckets.
const LATENCY_BUCKETS: [f64; 14] =
	[0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds, in seconds, of the attribution time histogram's buckets.
const ATTRIBUTION_BUCKETS: [f64; 10] =
	[0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5];
/// Upper bounds of the batch size histogram's buckets.
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

#[derive(Clone, Debug)]
struct Histogram {
	bounds: &'static [f64],
	counts: Vec<u64>,
	sum: f64,
	count: u64,
}

impl Histogram {
	fn new(bounds: &'static [f64]) -> Self {
		Self { bounds, counts: vec![0; bounds.len()], sum: 0.0, count: 0 }
	}

	fn observe(&mut self, value: f64) {
		for (bound, count) in self.bounds.iter().zip(&mut self.counts) {
			if value <= *bound {
				*count += 1;
			}
		}
		self.sum += value;
		self.count += 1;
	}

	fn write(&self, out: &mut String, name: &str, labels: &str) {
		for (bound, count) in self.bounds.iter().zip(&self.counts) {
			let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
		}
		let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
		let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
		let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
	}
}

/// One base model's serving figures.
pub struct Metrics {
	inner: Mutex<Inner>,
}

struct Inner {
	scheduler: SchedulerStats,
	pool: PoolStats,
	batch: Histogram,
	time_to_first_token: Histogram,
	time_per_output_token: Histogram,
	e2e_latency: Histogram,
	/// The time each answer's attribution took, its text's tokenization included.
	attribution: Histogram,
	finished: [u64; 3],
	/// Tokens generated over the last window, for the tokens-per-second gauge.
	window: (Instant, u64),
	tokens_per_second: f64,
}

/// How a request ended, for `openlora:request_success_total`.
#[derive(Clone, Copy, Debug)]
pub enum Ended {
	Stop = 0,
	Length = 1,
	Abort = 2,
}

impl Default for Metrics {
	fn default() -> Self {
		Self {
			inner: Mutex::new(Inner {
				scheduler: SchedulerStats::default(),
				pool: PoolStats::default(),
				batch: Histogram::new(&BATCH_BUCKETS),
				time_to_first_token: Histogram::new(&LATENCY_BUCKETS),
				time_per_output_token: Histogram::new(&LATENCY_BUCKETS),
				e2e_latency: Histogram::new(&LATENCY_BUCKETS),
				attribution: Histogram::new(&ATTRIBUTION_BUCKETS),
				finished: [0; 3],
				window: (Instant::now(), 0),
				tokens_per_second: 0.0,
			}),
		}
	}
}

impl Metrics {
	fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
		self.inner.lock().unwrap_or_else(|e| e.into_inner())
	}

	/// After an engine step of `rows` rows.
	pub fn step(&self, rows: usize, scheduler: SchedulerStats, pool: PoolStats) {
		let mut inner = self.lock();
		if rows > 0 {
			inner.batch.observe(rows as f64);
		}
		inner.scheduler = scheduler;
		inner.pool = pool;
		let (since, tokens) = inner.window;
		let elapsed = since.elapsed();
		if elapsed >= Duration::from_secs(5) {
			let generated = scheduler.tokens_generated.saturating_sub(tokens);
			inner.tokens_per_second = generated as f64 / elapsed.as_secs_f64();
			inner.window = (Instant::now(), scheduler.tokens_generated);
		}
	}

	/// A request ended, with its timings.
	pub fn ended(
		&self,
		how: Ended,
		first_token: Option<Duration>,
		per_output_token: Option<Duration>,
		total: Duration,
	) {
		let mut inner = self.lock();
		inner.finished[how as usize] += 1;
		if let Some(t) = first_token {
			inner.time_to_first_token.observe(t.as_secs_f64());
		}
		if let Some(t) = per_output_token {
			inner.time_per_output_token.observe(t.as_secs_f64());
		}
		inner.e2e_latency.observe(total.as_secs_f64());
	}

	/// An answer's attribution took `elapsed`.
	pub fn attributed(&self, elapsed: Duration) {
		self.lock().attribution.observe(elapsed.as_secs_f64());
	}

	/// Appends this base model's metrics, labelled `base="{base}"`, to `out`.
	pub fn write(&self, out: &mut String, base: &str) {
		let inner = self.lock();
		let labels = format!("base=\"{}\"", base.replace(['\\', '"', '\n'], "_"));
		let (s, p) = (&inner.scheduler, &inner.pool);
		let lines: [(&str, &str, String); 16] = [
			("num_requests_running", "gauge", s.running.to_string()),
			("num_requests_waiting", "gauge", s.queued.to_string()),
			("prompt_tokens_total", "counter", s.prompt_tokens.to_string()),
			("generation_tokens_total", "counter", s.tokens_generated.to_string()),
			("generation_tokens_per_second", "gauge", format!("{:.3}", inner.tokens_per_second)),
			("engine_steps_total", "counter", s.steps.to_string()),
			(
				"kv_cache_usage_perc",
				"gauge",
				format!(
					"{:.4}",
					s.cache_used_blocks as f64
						/ (s.cache_used_blocks + s.cache_free_blocks).max(1) as f64
				),
			),
			("adapter_pool_hits_total", "counter", p.hits.to_string()),
			("adapter_pool_misses_total", "counter", p.misses.to_string()),
			("adapter_pool_loads_total", "counter", p.loads.to_string()),
			("adapter_pool_evictions_total", "counter", p.evictions.to_string()),
			("adapter_pool_refused_total", "counter", p.refused.to_string()),
			("adapter_pool_adapters", "gauge", p.adapters.to_string()),
			("adapter_pool_bytes", "gauge", p.bytes.to_string()),
			("adapter_pool_pinned", "gauge", p.pinned.to_string()),
			("request_failed_total", "counter", s.failed.to_string()),
		];
		for (name, kind, value) in lines {
			let _ = writeln!(out, "# TYPE openlora:{name} {kind}");
			let _ = writeln!(out, "openlora:{name}{{{labels}}} {value}");
		}
		let _ = writeln!(out, "# TYPE openlora:request_success_total counter");
		for (reason, count) in ["stop", "length", "abort"].iter().zip(inner.finished) {
			let _ = writeln!(
				out,
				"openlora:request_success_total{{{labels},finished_reason=\"{reason}\"}} {count}"
			);
		}
		for (name, histogram) in [
			("batch_size", &inner.batch),
			("time_to_first_token_seconds", &inner.time_to_first_token),
			("time_per_output_token_seconds", &inner.time_per_output_token),
			("e2e_request_latency_seconds", &inner.e2e_latency),
			("attribution_seconds", &inner.attribution),
		] {
			let _ = writeln!(out, "# TYPE openlora:{name} histogram");
			histogram.write(out, &format!("openlora:{name}"), &labels);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_text_format_has_counters_gauges_and_cumulative_buckets() {
		let metrics = Metrics::default();
		let stats =
			SchedulerStats { running: 3, queued: 2, tokens_generated: 40, ..Default::default() };
		metrics.step(3, stats, PoolStats { hits: 5, misses: 1, ..Default::default() });
		metrics.ended(
			Ended::Stop,
			Some(Duration::from_millis(30)),
			Some(Duration::from_millis(7)),
			Duration::from_secs(1),
		);
		let mut out = String::new();
		metrics.write(&mut out, "SmolLM2");
		assert!(out.contains("openlora:num_requests_running{base=\"SmolLM2\"} 3\n"), "{out}");
		assert!(out.contains("openlora:adapter_pool_hits_total{base=\"SmolLM2\"} 5\n"));
		assert!(out.contains(
			"openlora:request_success_total{base=\"SmolLM2\",finished_reason=\"stop\"} 1\n"
		));
		assert!(out.contains(
			"openlora:time_to_first_token_seconds_bucket{base=\"SmolLM2\",le=\"0.02\"} 0\n"
		));
		assert!(out.contains(
			"openlora:time_to_first_token_seconds_bucket{base=\"SmolLM2\",le=\"0.04\"} 1\n"
		));
		assert!(out.contains("openlora:batch_size_bucket{base=\"SmolLM2\",le=\"+Inf\"} 1\n"));
		assert!(out.contains("# TYPE openlora:batch_size histogram\n"));
	}
}
