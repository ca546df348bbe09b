//! Attribution quality on planted data: contributors with disjoint corpora, a model trained on
//! them with ModelFactory's training code (`openledger_provider::training::train`, as a provider
//! runs a job), prompts that elicit one contributor's passage, and how often each method ranks the
//! planted contributor first (precision@1): span attribution, as every answer carries it, and
//! gradient influence over the features training published, against BM25 over the same
//! contributions' words. Then how far two thread counts disagree on influence, and whether the
//! influence scores predict what leaving a contribution out of training does (counterfactual).
//!
//! `cargo run --release --example attribution_quality [-- contributors passages steps]` (12, 6 and
//! 2,500 by default: about 6 minutes on 2 cores, the counterfactual retraining included)
//!
//! `attribution_quality tolerance DIR`, run natively and then under `qemu-x86_64 -cpu Nehalem`
//! (as `scripts/bench-attribution.sh` does): how far influence computed with candle's AVX2+FMA
//! kernels and with its SSE kernels differs, for the same trained weights (kept in `DIR`).
//!
//! Each contributor holds one contribution of `passages` sentences of 12 words drawn at random
//! from one shared vocabulary (so no word tells a contributor apart; only sequences do). The
//! tiny-byte-gpt base is trained in full on them; contributions the job's split holds out are not
//! prompted (a passage the model never saw cannot be elicited). Each prompt is the first 24 bytes
//! of a passage; the answer is the model's greedy continuation of 96 bytes, attributed alone (the
//! prompt is the user's text, not the model's). An answer that names no contributor counts as
//! wrong.

use openledger_attribution::{
	bm25::Bm25,
	influence::{Features, Quantized},
	manifest::Manifest,
	spans, ContributionRef, CorpusIndex, IndexBuilder, TokenClasses,
};
use openledger_ml::{
	data::is_held_out,
	influence::{answer_gradient, answer_loss},
	tiny::{TinyByteGpt, TinyConfig},
};
use openledger_provider::{
	store::content_hash,
	training::{
		train, BaseModels, Corpus, Item, Limits, MemoryBudget, Progress, Trained, FEATURE_DIMS,
	},
};
use pallet_datanets::DataFormat;
use pallet_models::{Architecture, Hyperparameters, Method, SourceVersion, TrainingSpec};
use sp_core::H256;
use sp_runtime::Permill;
use std::{
	collections::{BTreeMap, BTreeSet},
	path::Path,
	sync::{Arc, Mutex},
	time::Instant,
};

const WORDS: &[&str] = &[
	"amber", "bright", "copper", "delta", "ember", "falcon", "granite", "harbor", "iris", "jade",
	"kettle", "lantern", "meadow", "north", "opal", "pine", "quartz", "river", "silver", "timber",
	"umber", "valley", "willow", "yarrow", "zephyr", "anchor", "basalt", "cedar", "dune", "echo",
	"fern", "glade", "heron", "inlet", "juniper", "kelp", "lichen", "maple", "nectar", "orchid",
	"pebble", "quill", "reed", "sparrow", "thistle", "upland", "vesper", "wren", "birch", "coral",
];
const PROMPT: usize = 24;
const ANSWER: usize = 96;
const HELD_OUT_PPM: u32 = 150_000;

/// Contributions of random sentences, written as JSON lines into `dir`.
fn planted(
	dir: &Path,
	contributors: usize,
	passages: usize,
	seed: u64,
) -> (Vec<Vec<String>>, Vec<Item>) {
	let mut state = seed;
	let mut next = || {
		state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		(state >> 33) as usize
	};
	let corpus: Vec<Vec<String>> = (0..contributors)
		.map(|_| {
			(0..passages)
				.map(|_| {
					let words: Vec<&str> = (0..12).map(|_| WORDS[next() % WORDS.len()]).collect();
					words.join(" ") + "."
				})
				.collect()
		})
		.collect();
	let items = corpus
		.iter()
		.enumerate()
		.map(|(c, texts)| {
			let bytes: String = texts
				.iter()
				.map(|t| serde_json::json!({ "text": t }).to_string() + "\n")
				.collect();
			let hash = content_hash(bytes.as_bytes());
			let path = dir.join(format!("{hash:?}"));
			std::fs::write(&path, bytes).expect("writing a contribution");
			Item {
				datanet: 0,
				contribution: c as u32,
				hash,
				format: DataFormat::JsonLines,
				path,
				skip: None,
			}
		})
		.collect();
	(corpus, items)
}

/// The first split seed that holds out at least one contribution and at most a fifth.
fn split_seed(items: &[Item]) -> u64 {
	let held = |seed| items.iter().filter(|i| is_held_out(&i.hash.0, seed, HELD_OUT_PPM)).count();
	(1..)
		.find(|&s| (1..=(items.len() / 5).max(1)).contains(&held(s)))
		.expect("some seed splits")
}

/// Trains tiny-byte-gpt in full on `items`, as a provider runs a job; the trained model with
/// what training recorded.
fn train_tiny(dir: &Path, items: Vec<Item>, seed: u64, steps: u32) -> (Trained, TinyByteGpt) {
	let base = &openledger_runtime::genesis_config_presets::base_models()[0];
	let source = SourceVersion {
		datanet: 0,
		version: 0,
		root: H256::zero(),
		contributions: items.len() as u32,
		total_bytes: 0,
	};
	let spec = TrainingSpec {
		base_model: 0,
		architecture: Architecture::TinyByteGpt,
		context_length: base.context_length,
		weights: base.weights,
		tokenizer: None,
		sources: vec![source].try_into().expect("one source"),
		hyperparameters: Hyperparameters {
			method: Method::Full,
			epochs: 1_000,
			max_steps: steps,
			learning_rate: 5_000,
			warmup_steps: 10,
			batch_size: 16,
			sequence_length: 64,
			// Training needs a held-out split: contributors whose contribution falls into it
			// are not prompted (the model never saw their passages).
			eval_fraction: Permill::from_parts(HELD_OUT_PPM),
			seed,
		},
	};
	let bases = BaseModels::load(None, &dir.join("bases")).expect("the tiny base");
	let limits = Limits {
		seconds_left: 3_600.0,
		memory: Arc::new(MemoryBudget::new(8_192)),
		max_artifact_bytes: 1 << 30,
		space: openledger_provider::store::Space::with_quota(1 << 40),
	};
	let work = dir.join("work");
	let trained = train(
		&spec,
		&vec![(source, items)],
		&bases,
		&work,
		limits,
		&Arc::new(Mutex::new(Progress::default())),
	)
	.expect("training");
	let weights = dir.join("model.safetensors");
	std::fs::write(&weights, &trained.artifact).expect("writing the weights");
	let model = TinyByteGpt::load(TinyConfig::small(), &weights, &candle_core::Device::Cpu)
		.expect("the model");
	(trained, model)
}

fn bytes(text: &str) -> Vec<u32> {
	text.bytes().map(u32::from).collect()
}

/// Average ranks (ties share theirs), for Spearman's correlation.
fn ranks(values: &[f64]) -> Vec<f64> {
	let mut order: Vec<usize> = (0..values.len()).collect();
	order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
	let mut out = vec![0.0; values.len()];
	let mut i = 0;
	while i < order.len() {
		let mut j = i;
		while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
			j += 1;
		}
		for k in i..=j {
			out[order[k]] = (i + j) as f64 / 2.0;
		}
		i = j + 1;
	}
	out
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
	let (ra, rb) = (ranks(a), ranks(b));
	let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
	let (ma, mb) = (mean(&ra), mean(&rb));
	let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
	let var = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
	cov / (var(&ra, ma) * var(&rb, mb)).sqrt().max(f64::MIN_POSITIVE)
}

/// Each contribution's influence score on an answer, in floating point, from the features'
/// exact integer dot products.
fn scores(features: &Features<&[u8]>, query: &Quantized) -> BTreeMap<ContributionRef, f64> {
	features
		.dots(query)
		.expect("dimensions match")
		.into_iter()
		.map(|(c, dot, exponent)| (c, dot as f64 * 2f64.powi(exponent + query.exponent)))
		.collect()
}

fn main() {
	let raw: Vec<String> = std::env::args().skip(1).collect();
	if let [mode, dir] = raw.as_slice() {
		if mode == "tolerance" {
			return tolerance(Path::new(dir));
		}
	}
	let args: Vec<usize> = raw.iter().filter_map(|a| a.parse().ok()).collect();
	let contributors = args.first().copied().unwrap_or(12);
	let passages = args.get(1).copied().unwrap_or(6);
	let steps = args.get(2).copied().unwrap_or(2_500) as u32;
	let dir = tempfile::tempdir().expect("a temporary directory");
	let (corpus, items) = planted(dir.path(), contributors, passages, 0x5eed);
	let seed = split_seed(&items);
	let started = Instant::now();
	let (trained, model) = train_tiny(dir.path(), items, seed, steps);
	let m = &trained.result.metrics;
	println!(
		"trained {} steps in {:.1} s: loss {:.3} -> {:.3}",
		m.steps,
		started.elapsed().as_secs_f64(),
		f64::from(m.train_loss_first) / 1e6,
		f64::from(m.train_loss_last) / 1e6
	);
	let manifest = Manifest::from_json(&trained.manifest).expect("the manifest");
	let trained_set: BTreeSet<usize> =
		manifest.trained.iter().map(|t| t.contribution as usize).collect();
	let index_bytes = std::fs::read(&trained.corpus_index).expect("the corpus index");
	let index = CorpusIndex::open(&index_bytes[..]).expect("a valid index");
	let feature_bytes = trained.features.clone().expect("a tiny model's features");
	let features = Features::open(&feature_bytes[..]).expect("valid features");
	// BM25 over words: each contribution's words, numbered.
	let mut vocabulary = BTreeMap::<String, u32>::new();
	let mut word_ids = |text: &str| -> Vec<u32> {
		text.split(|c: char| !c.is_alphanumeric())
			.filter(|w| !w.is_empty())
			.map(|w| {
				let n = vocabulary.len() as u32;
				*vocabulary.entry(w.to_lowercase()).or_insert(n)
			})
			.collect()
	};
	let mut words = IndexBuilder::new(u32::from(u16::MAX - 1)).expect("vocabulary");
	for (c, texts) in corpus.iter().enumerate().filter(|(c, _)| trained_set.contains(c)) {
		let documents: Vec<Vec<u32>> = texts.iter().map(|t| word_ids(t)).collect();
		words
			.add(ContributionRef { datanet: 0, contribution: c as u32 }, &documents)
			.expect("words");
	}
	let mut word_index = Vec::new();
	words.write(&mut word_index).expect("the word index");
	let word_index = CorpusIndex::open(&word_index[..]).expect("a valid index");
	let bm25 = Bm25::new(&word_index);
	let classes = TokenClasses::bytes();
	let params = openledger_provider::attribution::span_params(true);
	let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");
	let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
	let (mut right, mut verbatim, mut total) = ([0usize; 3], 0, 0);
	let (mut span_time, mut influence_time) = (0f64, 0f64);
	let (mut same_top, mut mantissas_differing, mut largest_difference) = (0, 0usize, 0i32);
	for (c, texts) in corpus.iter().enumerate().filter(|(c, _)| trained_set.contains(c)) {
		for text in texts {
			let prompt = &text.as_bytes()[..PROMPT];
			let answer = model.generate(prompt, ANSWER, None).expect("generation");
			let answer = String::from_utf8_lossy(&answer).into_owned();
			let truth = ContributionRef { datanet: 0, contribution: c as u32 };
			total += 1;
			let rest = format!("{}\n", &text[PROMPT..]);
			verbatim += rest.bytes().zip(answer.bytes()).take_while(|(a, b)| a == b).count();
			let tokens = bytes(&answer);
			let t = Instant::now();
			let by_spans = spans::attribute(&index, &classes, &tokens, &params);
			span_time += t.elapsed().as_secs_f64();
			right[0] +=
				usize::from(by_spans.contributions.first().map(|w| w.contribution) == Some(truth));
			// Influence, its gradient computed with one thread and with two.
			let prompt_tokens: Vec<u32> = prompt.iter().map(|&b| u32::from(b)).collect();
			let t = Instant::now();
			let gradient = |pool: &rayon::ThreadPool| {
				pool.install(|| {
					answer_gradient(&model, None, &prompt_tokens, &tokens, FEATURE_DIMS, seed)
				})
				.expect("a gradient")
			};
			let q1 = Quantized::from_f32(&gradient(&one));
			let by_influence = features.attribute(&q1, 8).expect("dimensions match");
			influence_time += t.elapsed().as_secs_f64();
			let q2 = Quantized::from_f32(&gradient(&two));
			same_top +=
				usize::from(features.attribute(&q2, 8).expect("dimensions") == by_influence);
			if q1.exponent == q2.exponent {
				for (a, b) in q1.mantissas.iter().zip(&q2.mantissas) {
					let d = (i32::from(*a) - i32::from(*b)).abs();
					mantissas_differing += usize::from(d != 0);
					largest_difference = largest_difference.max(d);
				}
			} else {
				mantissas_differing += FEATURE_DIMS;
			}
			right[1] += usize::from(
				by_influence.contributions.first().map(|w| w.contribution) == Some(truth),
			);
			let query: Vec<u32> = answer
				.split(|ch: char| !ch.is_alphanumeric())
				.filter_map(|w| vocabulary.get(&w.to_lowercase()).copied())
				.collect();
			right[2] += usize::from(bm25.rank(&query).first().map(|r| r.0) == Some(truth));
		}
	}
	let pct = |n: usize| 100.0 * n as f64 / total.max(1) as f64;
	let per = |s: f64| s * 1e3 / total.max(1) as f64;
	println!(
		"{} of {contributors} contributors trained on (the rest held out) x {passages} passages = {total} prompts; answers continue their passage exactly for {:.1} bytes on average",
		trained_set.len(),
		verbatim as f64 / total.max(1) as f64
	);
	println!("method    | precision@1 | mean time per answer (ms)");
	println!("spans     | {:>10.1}% | {:.3}", pct(right[0]), per(span_time));
	println!(
		"influence | {:>10.1}% | {:.3} (gradient of the answer included)",
		pct(right[1]),
		per(influence_time)
	);
	println!("bm25      | {:>10.1}% | -", pct(right[2]));
	println!(
		"influence with 1 and 2 threads: the same top 8 for {same_top} of {total} answers; {mantissas_differing} of {} gradient mantissas differ, by at most {largest_difference}",
		total * FEATURE_DIMS
	);
	counterfactual(dir.path());
}

/// Leave-one-out: a smaller model is trained on 6 contributors, then again without each trained
/// contribution in turn, with the same seed. For each trained passage (its first 24 bytes as the
/// prompt, the rest as the answer), the change in the answer's loss when a contribution is left
/// out is compared with that contribution's influence score on it (Spearman's correlation over the
/// contributions), and with scores shuffled as the baseline.
fn counterfactual(dir: &Path) {
	let dir = dir.join("counterfactual");
	std::fs::create_dir_all(&dir).expect("a directory");
	let (corpus, items) = planted(&dir, 6, 3, 0xc0ffee);
	let seed = split_seed(&items);
	let steps = 400;
	let started = Instant::now();
	let (trained, model) = train_tiny(&dir.join("all"), items.clone(), seed, steps);
	let features = trained.features.clone().expect("features");
	let features = Features::open(&features[..]).expect("valid features");
	let manifest = Manifest::from_json(&trained.manifest).expect("the manifest");
	let kept: Vec<usize> = manifest.trained.iter().map(|t| t.contribution as usize).collect();
	// The trained passages, as prompt and answer.
	let queries: Vec<(Vec<u32>, Vec<u32>)> = kept
		.iter()
		.flat_map(|&c| corpus[c].iter())
		.map(|t| (bytes(&t[..PROMPT]), bytes(&t[PROMPT..])))
		.collect();
	let full: Vec<f64> = queries
		.iter()
		.map(|(p, a)| answer_loss(&model, None, p, a).expect("a loss"))
		.collect();
	// delta[c][q]: the loss of query q without contribution c, less with it.
	let mut delta = Vec::new();
	for &c in &kept {
		let mut without = items.clone();
		without[c].skip = Some("left out");
		let (_, retrained) = train_tiny(&dir.join(format!("without-{c}")), without, seed, steps);
		delta.push(
			queries
				.iter()
				.zip(&full)
				.map(|((p, a), f)| answer_loss(&retrained, None, p, a).expect("a loss") - f)
				.collect::<Vec<f64>>(),
		);
	}
	let (mut correlation, mut baseline) = (0.0, 0.0);
	for (q, (p, a)) in queries.iter().enumerate() {
		let query = Quantized::from_f32(
			&answer_gradient(&model, None, p, a, FEATURE_DIMS, seed).expect("a gradient"),
		);
		let all = scores(&features, &query);
		let predicted: Vec<f64> = kept
			.iter()
			.map(|&c| all[&ContributionRef { datanet: 0, contribution: c as u32 }])
			.collect();
		let actual: Vec<f64> = delta.iter().map(|d| d[q]).collect();
		correlation += spearman(&predicted, &actual);
		// The baseline: the same scores given to the contributions in another order.
		let mut shuffled = predicted.clone();
		let len = shuffled.len();
		shuffled.rotate_left(1 + q % (len - 1).max(1));
		baseline += spearman(&shuffled, &actual);
	}
	let n = queries.len() as f64;
	println!(
		"counterfactual ({} contributions trained on, {} queries, {} retrainings of {steps} steps, {:.0} s): Spearman correlation of influence with the loss change when left out {:.3}; shuffled scores {:.3}",
		kept.len(),
		queries.len(),
		kept.len(),
		started.elapsed().as_secs_f64(),
		correlation / n,
		baseline / n
	);
}

/// The SIMD kernels candle's matrix products dispatch to on this CPU, as `gemm` picks them at run
/// time.
fn kernels() -> &'static str {
	if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
		"avx2+fma"
	} else if std::arch::is_x86_feature_detected!("avx") {
		"avx"
	} else {
		"sse"
	}
}

/// What one machine computes of gradient influence for a fixed model: the features file training
/// publishes and each query's gradient, quantized, with its top 8.
#[derive(serde::Serialize, serde::Deserialize)]
struct Computed {
	kernels: String,
	/// `(exponent, mantissas)` of each trained contribution's features, then of each query.
	features: Vec<(i32, Vec<i16>)>,
	queries: Vec<(i32, Vec<i16>)>,
	/// Each query's top 8: `(contribution, ppb)`.
	top: Vec<Vec<(u32, u32)>>,
}

/// How far two machines' influence computations of the same model differ: run once natively
/// (which trains the model and keeps it in `dir`), then again on another CPU, or the same binary
/// under `qemu-x86_64 -cpu Nehalem` (SSE4.2, no AVX or FMA: candle's matrix products take other
/// kernels), which loads the same weights and compares its figures with the first run's.
fn tolerance(dir: &Path) {
	std::fs::create_dir_all(dir).expect("a directory");
	let (corpus, items) = planted(dir, 12, 6, 0xc0ffee);
	let seed = split_seed(&items);
	let weights = dir.join("model.safetensors");
	let model = if weights.exists() {
		TinyByteGpt::load(TinyConfig::small(), &weights, &candle_core::Device::Cpu)
			.expect("the model")
	} else {
		train_tiny(dir, items.clone(), seed, 400).1
	};
	let data = vec![(
		SourceVersion {
			datanet: 0,
			version: 0,
			root: H256::zero(),
			contributions: 12,
			total_bytes: 0,
		},
		items,
	)];
	let started = Instant::now();
	let corpus_read = Corpus::read(&data, &model, seed, HELD_OUT_PPM).expect("the corpus");
	let far = Instant::now() + std::time::Duration::from_secs(3_600);
	let file = corpus_read
		.features(&model, None, 64, seed, 1 << 30, far)
		.expect("features")
		.expect("within the deadline");
	let features = Features::open(&file[..]).expect("valid features");
	let manifest = &corpus_read.manifest;
	let mut computed = Computed {
		kernels: kernels().into(),
		features: (0..features.len())
			.map(|r| {
				let (_, vector) = features.vector(r);
				(vector.exponent, vector.mantissas)
			})
			.collect(),
		queries: vec![],
		top: vec![],
	};
	for t in &manifest.trained {
		// Each trained passage, as the answer to its first 16 and its first 24 bytes.
		let passages = corpus[t.contribution as usize].iter();
		for (text, split) in passages.flat_map(|t| [(t, 16), (t, PROMPT)]) {
			let (prompt, answer) = (bytes(&text[..split]), bytes(&text[split..]));
			let query = Quantized::from_f32(
				&answer_gradient(&model, None, &prompt, &answer, FEATURE_DIMS, seed)
					.expect("a gradient"),
			);
			let top = features.attribute(&query, 8).expect("dimensions match");
			computed.top.push(
				top.contributions.iter().map(|w| (w.contribution.contribution, w.ppb)).collect(),
			);
			computed.queries.push((query.exponent, query.mantissas));
		}
	}
	println!(
		"tolerance: {} features and {} query gradients computed with {} kernels in {:.1} s",
		computed.features.len(),
		computed.queries.len(),
		computed.kernels,
		started.elapsed().as_secs_f64()
	);
	let mine = dir.join(format!("{}.json", computed.kernels));
	std::fs::write(&mine, serde_json::to_vec(&computed).expect("json")).expect("writing");
	for other in ["avx2+fma", "avx", "sse"].iter().filter(|k| **k != computed.kernels) {
		let Ok(theirs) = std::fs::read(dir.join(format!("{other}.json"))) else { continue };
		let theirs: Computed = serde_json::from_slice(&theirs).expect("their figures");
		let compare = |a: &[(i32, Vec<i16>)], b: &[(i32, Vec<i16>)]| {
			let (mut exponents, mut differing, mut largest, mut total) = (0, 0, 0, 0);
			for ((ea, ma), (eb, mb)) in a.iter().zip(b) {
				total += ma.len();
				if ea != eb {
					exponents += 1;
					differing += ma.len();
					continue;
				}
				for (x, y) in ma.iter().zip(mb) {
					let d = (i32::from(*x) - i32::from(*y)).abs();
					differing += usize::from(d != 0);
					largest = largest.max(d);
				}
			}
			format!("{differing} of {total} mantissas differ (by at most {largest}), {exponents} exponents")
		};
		let same_top = computed.top.iter().zip(&theirs.top).filter(|(a, b)| a == b).count();
		let same_order = computed
			.top
			.iter()
			.zip(&theirs.top)
			.filter(|(a, b)| a.iter().map(|w| w.0).eq(b.iter().map(|w| w.0)))
			.count();
		let ppb = computed
			.top
			.iter()
			.zip(&theirs.top)
			.flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| x.1.abs_diff(y.1)))
			.max()
			.unwrap_or(0);
		println!(
			"{} against {other}: features: {}",
			computed.kernels,
			compare(&computed.features, &theirs.features)
		);
		println!(
			"{} against {other}: query gradients: {}",
			computed.kernels,
			compare(&computed.queries, &theirs.queries)
		);
		println!(
			"{} against {other}: top 8 identical to the ppb for {same_top} of {} answers, in the same order for {same_order}; weights differ by at most {ppb} ppb",
			computed.kernels,
			computed.top.len()
		);
	}
}
