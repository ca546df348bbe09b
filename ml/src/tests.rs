//! The model's and the training's properties, each checked on a small model.

use crate::{
	lora::{Lora, LoraConfig},
	tiny::{TinyByteGpt, TinyConfig},
	train::{evaluate, stream, train, TrainConfig},
};
use candle_core::{DType, Device, Tensor, Var};

fn tokens(text: &[u8], device: &Device) -> Tensor {
	let ids: Vec<u32> = text.iter().map(|&b| u32::from(b)).collect();
	Tensor::from_vec(ids, (1, text.len()), device).unwrap()
}

/// The largest absolute difference between two tensors of one shape.
pub(crate) fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
	(a - b)
		.unwrap()
		.abs()
		.unwrap()
		.flatten_all()
		.unwrap()
		.max(0)
		.unwrap()
		.to_dtype(DType::F64)
		.unwrap()
		.to_scalar::<f64>()
		.unwrap()
}

fn corpus() -> Vec<Vec<u8>> {
	(0..40)
		.map(|i| format!("record {i}: the quick brown fox jumps over the lazy dog.").into_bytes())
		.collect()
}

fn all_targets() -> LoraConfig {
	LoraConfig {
		rank: 4,
		alpha: 8.0,
		targets: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"]
			.map(String::from)
			.to_vec(),
	}
}

#[test]
fn a_fresh_adapter_leaves_the_base_models_logits_as_they_were() {
	let device = Device::Cpu;
	let model = TinyByteGpt::init(TinyConfig::small(), 1, DType::F32, &device).unwrap();
	let weights: usize = model.vars().iter().map(|v| v.as_tensor().elem_count()).sum();
	assert_eq!(weights, model.config.parameters());
	let lora = Lora::new(&model, all_targets(), 2).unwrap();
	assert_eq!(lora.modules().count(), 6 * model.config.n_layers);
	let input = tokens(b"a fresh adapter changes nothing", &device);
	let base = model.forward(&input, None).unwrap();
	let adapted = model.forward(&input, Some(&lora)).unwrap();
	assert_eq!(base.dims(), &[1, 31, 256]);
	assert_eq!(max_difference(&base, &adapted), 0.0);
}

/// The derivative of the loss by one weight, by central differences.
fn numerical(var: &Var, index: usize, loss: &dyn Fn() -> f64) -> f64 {
	let eps = 1e-6;
	let original = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
	let set = |delta: f64| {
		let mut values = original.clone();
		values[index] += delta;
		let t = Tensor::from_vec(values, var.as_tensor().shape(), var.device()).unwrap();
		var.set(&t).unwrap();
	};
	set(eps);
	let up = loss();
	set(-eps);
	let down = loss();
	set(0.0);
	(up - down) / (2.0 * eps)
}

#[test]
fn analytic_gradients_match_finite_differences() {
	let device = Device::Cpu;
	let config = TinyConfig { d_model: 8, n_layers: 1, n_heads: 2, d_ff: 12, context: 8 };
	let model = TinyByteGpt::init(config, 3, DType::F64, &device).unwrap();
	let lora = Lora::new(&model, all_targets(), 4).unwrap();
	// Give B a value, so that A's gradients are not zero.
	for var in lora.vars() {
		let shape = var.as_tensor().shape().clone();
		let n = shape.elem_count();
		let values: Vec<f64> = (0..n).map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.01).collect();
		var.set(&Tensor::from_vec(values, shape, &device).unwrap()).unwrap();
	}
	let input = tokens(b"gradient", &device);
	let loss_of = || model.loss(&input, Some(&lora)).unwrap().to_scalar::<f64>().unwrap();
	let grads = model.loss(&input, Some(&lora)).unwrap().backward().unwrap();
	let mut checked = 0;
	let weights = model.named().values().cloned().chain(lora.vars());
	for (i, var) in weights.enumerate() {
		let Some(grad) = grads.get(var.as_tensor()) else { continue };
		let grad = grad.flatten_all().unwrap().to_vec1::<f64>().unwrap();
		for index in [0, grad.len() / 2, grad.len() - 1] {
			let expected = numerical(&var, index, &loss_of);
			let got = grad[index];
			let scale = expected.abs().max(got.abs()).max(1e-4);
			assert!(
				(expected - got).abs() / scale < 1e-4,
				"weight {i}[{index}]: {got} vs {expected}"
			);
			checked += 1;
		}
	}
	// Every weight of the model and of the adapter has a gradient (the embeddings of bytes not
	// in the input are zero, which index 0 and the middle still check).
	assert_eq!(checked, 3 * (model.named().len() + lora.vars().len()));
}

#[test]
fn loss_falls_on_a_learnable_corpus() {
	let device = Device::Cpu;
	let model = TinyByteGpt::init(TinyConfig::small(), 5, DType::F32, &device).unwrap();
	let config = TrainConfig { steps: 80, seed: 6, ..TrainConfig::default() };
	let before = evaluate(&model, None, &stream(&model, &corpus()).unwrap(), 64, 16).unwrap();
	let report = train(&model, None, &corpus(), &config).unwrap();
	let after = evaluate(&model, None, &stream(&model, &corpus()).unwrap(), 64, 16).unwrap();
	assert!(before > 5.0, "an untrained byte model is near ln 256: {before}");
	assert!(after < 2.0, "{before} -> {after}");
	assert!(report.last_loss < report.first_loss / 2.0, "{report:?}");
	assert_eq!(report.tokens, 80 * 8 * 64);
	// What it learned shows in what it writes.
	let continued = model.generate(b"record 17: the quick", 10, None).unwrap();
	assert_eq!(continued, b" brown fox");
}

#[test]
fn a_lora_adapter_learns_while_the_base_stays_frozen() {
	let device = Device::Cpu;
	// A base model that knows some English bytes, as a base model would.
	let model = TinyByteGpt::init(TinyConfig::small(), 7, DType::F32, &device).unwrap();
	let general: Vec<Vec<u8>> = (0..40)
		.map(|i| {
			format!("note {i}: a lazy cat sleeps in the brown box by the quiet door.").into_bytes()
		})
		.collect();
	train(&model, None, &general, &TrainConfig { steps: 60, seed: 1, ..TrainConfig::default() })
		.unwrap();
	let base_before: Vec<Tensor> =
		model.vars().iter().map(|v| v.as_tensor().copy().unwrap()).collect();
	let lora = Lora::new(&model, all_targets(), 8).unwrap();
	let before =
		evaluate(&model, Some(&lora), &stream(&model, &corpus()).unwrap(), 64, 16).unwrap();
	let config = TrainConfig { steps: 60, learning_rate: 1e-2, seed: 9, ..TrainConfig::default() };
	train(&model, Some(&lora), &corpus(), &config).unwrap();
	let after = evaluate(&model, Some(&lora), &stream(&model, &corpus()).unwrap(), 64, 16).unwrap();
	assert!(after < before * 0.7, "{before} -> {after}");
	for (old, var) in base_before.iter().zip(model.vars()) {
		assert_eq!(max_difference(old, var.as_tensor()), 0.0, "a base weight moved");
	}
}

#[test]
fn saved_weights_and_adapters_load_as_they_were() {
	let device = Device::Cpu;
	let dir = tempfile::tempdir().unwrap();
	let model = TinyByteGpt::init(TinyConfig::small(), 10, DType::F32, &device).unwrap();
	let lora = Lora::new(&model, all_targets(), 11).unwrap();
	let config = TrainConfig { steps: 5, seed: 12, ..TrainConfig::default() };
	train(&model, Some(&lora), &corpus(), &config).unwrap();
	model.save(&dir.path().join("model.safetensors")).unwrap();
	lora.save(&dir.path().join("adapter"), "tiny-byte-gpt").unwrap();

	let model2 =
		TinyByteGpt::load(TinyConfig::small(), &dir.path().join("model.safetensors"), &device)
			.unwrap();
	let lora2 = Lora::load(&dir.path().join("adapter"), &device).unwrap();
	assert_eq!(lora2.config, lora.config);
	let input = tokens(b"round trip", &device);
	let a = model.forward(&input, Some(&lora)).unwrap();
	let b = model2.forward(&input, Some(&lora2)).unwrap();
	assert_eq!(max_difference(&a, &b), 0.0);
	// Trained: the adapter changes the outputs.
	assert!(max_difference(&a, &model.forward(&input, None).unwrap()) > 0.0);

	// PEFT's names and configuration.
	let tensors = candle_core::safetensors::load(
		dir.path().join("adapter/adapter_model.safetensors"),
		&device,
	)
	.unwrap();
	assert!(tensors.contains_key("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
	assert_eq!(
		tensors["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"].dims(),
		&[64, 4]
	);
	let json: serde_json::Value = serde_json::from_str(
		&std::fs::read_to_string(dir.path().join("adapter/adapter_config.json")).unwrap(),
	)
	.unwrap();
	assert_eq!(json["peft_type"], "LORA");
	assert_eq!(json["r"], 4);
	assert_eq!(json["lora_alpha"], 8.0);
}

#[test]
fn the_same_seed_trains_the_same_bytes() {
	let device = Device::Cpu;
	let run = |seed: u64| {
		let dir = tempfile::tempdir().unwrap();
		let model = TinyByteGpt::init(TinyConfig::small(), 13, DType::F32, &device).unwrap();
		let lora = Lora::new(&model, all_targets(), 14).unwrap();
		let config = TrainConfig { steps: 10, seed, ..TrainConfig::default() };
		let report = train(&model, Some(&lora), &corpus(), &config).unwrap();
		lora.save(dir.path(), "tiny-byte-gpt").unwrap();
		(std::fs::read(dir.path().join("adapter_model.safetensors")).unwrap(), report)
	};
	let (first, report) = run(15);
	let (second, again) = run(15);
	assert_eq!(first, second);
	assert_eq!(report, again);
	assert_ne!(run(16).0, first);
}

#[test]
fn bad_shapes_and_settings_are_refused() {
	let device = Device::Cpu;
	let bad = TinyConfig { n_heads: 3, ..TinyConfig::small() };
	assert!(TinyByteGpt::init(bad, 0, DType::F32, &device).is_err());
	let model = TinyByteGpt::init(TinyConfig::small(), 0, DType::F32, &device).unwrap();
	for config in [
		LoraConfig { rank: 0, ..all_targets() },
		LoraConfig { targets: vec![], ..all_targets() },
		LoraConfig { targets: vec!["gate".into()], ..all_targets() },
		// A target the model has no layer for.
		LoraConfig { targets: vec!["gate_proj".into()], ..all_targets() },
	] {
		assert!(Lora::new(&model, config, 0).is_err());
	}
	let long = TrainConfig { seq_len: 129, ..TrainConfig::default() };
	assert!(train(&model, None, &corpus(), &long).is_err());
	let err = train(&model, None, &[b"tiny".to_vec()], &TrainConfig::default()).unwrap_err();
	assert!(matches!(err, crate::MlError::NotEnoughData { .. }), "{err}");
	assert!(model.forward(&tokens(&[0; 129], &device), None).is_err());
	assert!(model.generate(b"", 1, None).is_err());
}
