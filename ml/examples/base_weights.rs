//! Writes the canonical `tiny-byte-gpt` base model's weights and prints their blake2-256 hash and
//! size, as the chain registers them: `cargo run -p openledger-ml --example base_weights [path]`.

use candle_core::Device;
use openledger_ml::tiny::TinyByteGpt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let path = std::env::args().nth(1).unwrap_or_else(|| "tiny-byte-gpt.safetensors".into());
	TinyByteGpt::base(&Device::Cpu)?.save(std::path::Path::new(&path))?;
	let bytes = std::fs::read(&path)?;
	let hash = blake2b_simd::Params::new().hash_length(32).hash(&bytes);
	println!("{path}: blake2-256 0x{} size {}", hash.to_hex(), bytes.len());
	Ok(())
}
