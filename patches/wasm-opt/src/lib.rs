//! # wasm-opt, as substrate-wasm-builder uses it
//!
//! substrate-wasm-builder (polkadot-sdk 2609) links the `wasm-opt` crate, Binaryen's optimizer
//! compiled from about 200 C++ files, and runs it twice on the runtime it builds, both times at
//! optimisation level 0:
//!
//! - to make the "compact" blob: `mvp_features_only()`, `debug_info(true)`, the passes
//!   `strip-dwarf` and `signext-lowering`;
//! - in a debug build of the node: `signext-lowering` alone, in place.
//!
//! Compiling Binaryen took 9.4 minutes of a cold build of the node on two cores, for passes that
//! change nothing in a runtime built for `wasm32v1-none`, the target rust-toolchain.toml installs
//! and the builder picks when it is there: that target is WebAssembly 1.0 with mutable globals, so
//! rustc emits no sign-extension operators, and a release build carries no DWARF. The workspace's
//! `[patch.crates-io]` puts this crate in its place. It does what those calls ask, in Rust, and
//! checks the assumptions instead of trusting them:
//!
//! - the input is validated ([`wasmparser`]) with the features the options allow: WebAssembly 1.0
//!   and mutable globals for `mvp_features_only()` (plus sign extension when `signext-lowering` is
//!   asked for, since that pass would remove it); anything else fails the build;
//! - `strip-dwarf` removes the custom sections whose names start with `.debug_`;
//! - `signext-lowering` is not implemented: a module that uses a sign-extension operator fails
//!   with [`OptimizationError::Unsupported`], which names the operator and the target to build
//!   for, rather than shipping operators the executor may not accept;
//! - `debug_info(false)` also drops the `name` section, as Binaryen does when it writes a module
//!   without debug information.
//!
//! Every other byte of the module is copied as it is, so the blob is the one rustc linked, minus
//! the sections removed. Only the part of `wasm-opt`'s interface that substrate-wasm-builder calls
//! exists here.

use std::{fs, path::Path};

/// A pass substrate-wasm-builder asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
	/// Removes DWARF debugging information (the `.debug_*` custom sections).
	StripDwarf,
	/// Lowers sign-extension operators to WebAssembly 1.0; here, refuses a module that has any.
	SignextLowering,
}

/// Options for one run over a module, in `wasm-opt`'s builder style.
#[derive(Clone, Debug)]
pub struct OptimizationOptions {
	mvp_only: bool,
	debug_info: bool,
	passes: Vec<Pass>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum OptimizationError {
	/// The input is not a valid module with the features the options allow.
	#[error("Failed to validate wasm: {0}")]
	ValidateWasmInput(String),
	/// The input module could not be read.
	#[error("Failed to read module: {source}")]
	Read {
		#[source]
		source: std::io::Error,
	},
	/// The output module could not be written.
	#[error("Failed to write module: {source}")]
	Write {
		#[source]
		source: std::io::Error,
	},
	/// `-` or an empty path stands for standard input, which the API does not read.
	#[error("Refusing to read from stdin")]
	InvalidStdinPath,
	/// The module needs a pass this crate does not implement.
	#[error("{0}")]
	Unsupported(String),
}

impl OptimizationOptions {
	/// Optimisation level 0: only the passes added run.
	pub fn new_opt_level_0() -> Self {
		Self { mvp_only: false, debug_info: false, passes: Vec::new() }
	}

	/// Allows WebAssembly 1.0 and mutable globals only.
	pub fn mvp_features_only(&mut self) -> &mut Self {
		self.mvp_only = true;
		self
	}

	/// Keeps the `name` section (`true`) or drops it.
	pub fn debug_info(&mut self, value: bool) -> &mut Self {
		self.debug_info = value;
		self
	}

	/// Runs `pass` after those added before it.
	pub fn add_pass(&mut self, pass: Pass) -> &mut Self {
		self.passes.push(pass);
		self
	}

	/// Reads the module in `infile`, runs the passes and writes the result to `outfile` (which
	/// may be `infile`).
	pub fn run(
		&self,
		infile: impl AsRef<Path>,
		outfile: impl AsRef<Path>,
	) -> Result<(), OptimizationError> {
		let infile = infile.as_ref();
		if infile.as_os_str().is_empty() || infile == Path::new("-") {
			return Err(OptimizationError::InvalidStdinPath);
		}
		let module = fs::read(infile).map_err(|source| OptimizationError::Read { source })?;
		let output = self.run_on(&module)?;
		fs::write(outfile, output).map_err(|source| OptimizationError::Write { source })
	}

	/// The passes over a module in memory.
	pub fn run_on(&self, module: &[u8]) -> Result<Vec<u8>, OptimizationError> {
		let lowers_signext = self.passes.contains(&Pass::SignextLowering);
		let features = if self.mvp_only {
			let mvp = wasmparser::WasmFeatures::WASM1;
			if lowers_signext {
				mvp | wasmparser::WasmFeatures::SIGN_EXTENSION
			} else {
				mvp
			}
		} else {
			wasmparser::WasmFeatures::default()
		};
		wasmparser::Validator::new_with_features(features)
			.validate_all(module)
			.map_err(|e| OptimizationError::ValidateWasmInput(e.to_string()))?;
		if lowers_signext {
			if let Some(operator) = first_sign_extension(module)? {
				return Err(OptimizationError::Unsupported(format!(
					"the module uses the sign-extension operator `{operator}`, which this \
					 wasm-opt does not lower: build the runtime for the wasm32v1-none target \
					 (rustup target add wasm32v1-none), where rustc emits none"
				)));
			}
		}
		let strip_dwarf = self.passes.contains(&Pass::StripDwarf);
		keep_sections(module, |name| {
			!(strip_dwarf && name.starts_with(".debug_") || !self.debug_info && name == "name")
		})
	}
}

/// The name of the first sign-extension operator in the module's code, if any.
fn first_sign_extension(module: &[u8]) -> Result<Option<&'static str>, OptimizationError> {
	use wasmparser::{Operator, Parser, Payload};
	let invalid =
		|e: wasmparser::BinaryReaderError| OptimizationError::ValidateWasmInput(e.to_string());
	for payload in Parser::new(0).parse_all(module) {
		let Payload::CodeSectionEntry(body) = payload.map_err(invalid)? else { continue };
		for operator in body.get_operators_reader().map_err(invalid)? {
			let name = match operator.map_err(invalid)? {
				Operator::I32Extend8S => "i32.extend8_s",
				Operator::I32Extend16S => "i32.extend16_s",
				Operator::I64Extend8S => "i64.extend8_s",
				Operator::I64Extend16S => "i64.extend16_s",
				Operator::I64Extend32S => "i64.extend32_s",
				_ => continue,
			};
			return Ok(Some(name));
		}
	}
	Ok(None)
}

/// The module with the custom sections for whose names `keep` is false left out, every other
/// byte as it was. The module has been validated, so its sections are well formed.
fn keep_sections(module: &[u8], keep: impl Fn(&str) -> bool) -> Result<Vec<u8>, OptimizationError> {
	const HEADER: usize = 8;
	let malformed = || OptimizationError::ValidateWasmInput("malformed section".into());
	let mut output = module.get(..HEADER).ok_or_else(malformed)?.to_vec();
	let mut at = HEADER;
	while at < module.len() {
		let id = *module.get(at).ok_or_else(malformed)?;
		let (size, size_len) =
			read_leb128_u32(module.get(at + 1..).ok_or_else(malformed)?).ok_or_else(malformed)?;
		let contents_start = at + 1 + size_len;
		let end = contents_start.checked_add(size as usize).ok_or_else(malformed)?;
		let contents = module.get(contents_start..end).ok_or_else(malformed)?;
		let kept = id != 0 || {
			let (name_len, name_len_len) = read_leb128_u32(contents).ok_or_else(malformed)?;
			let name = contents
				.get(name_len_len..name_len_len + name_len as usize)
				.and_then(|n| std::str::from_utf8(n).ok())
				.ok_or_else(malformed)?;
			keep(name)
		};
		if kept {
			output.extend_from_slice(module.get(at..end).ok_or_else(malformed)?);
		}
		at = end;
	}
	Ok(output)
}

/// An unsigned LEB128 `u32` at the start of `bytes`, and how many bytes it took.
fn read_leb128_u32(bytes: &[u8]) -> Option<(u32, usize)> {
	let mut value: u32 = 0;
	for (i, byte) in bytes.iter().take(5).enumerate() {
		value |= u32::from(byte & 0x7f).checked_shl(7 * i as u32)?;
		if byte & 0x80 == 0 {
			return Some((value, i + 1));
		}
	}
	None
}

#[cfg(test)]
mod tests {
	use super::*;

	fn leb(mut value: usize) -> Vec<u8> {
		let mut out = Vec::new();
		loop {
			let byte = (value & 0x7f) as u8;
			value >>= 7;
			if value == 0 {
				out.push(byte);
				return out;
			}
			out.push(byte | 0x80);
		}
	}

	fn section(id: u8, contents: &[u8]) -> Vec<u8> {
		let mut out = vec![id];
		out.extend(leb(contents.len()));
		out.extend_from_slice(contents);
		out
	}

	fn custom(name: &str, data: &[u8]) -> Vec<u8> {
		let mut contents = leb(name.len());
		contents.extend_from_slice(name.as_bytes());
		contents.extend_from_slice(data);
		section(0, &contents)
	}

	/// A module with one function `(i32) -> i32` whose body is `code` (without the final `end`),
	/// and the custom sections given, after the code section.
	fn module(code: &[u8], customs: &[Vec<u8>]) -> Vec<u8> {
		let mut out = b"\0asm\x01\0\0\0".to_vec();
		out.extend(section(1, &[1, 0x60, 1, 0x7f, 1, 0x7f]));
		out.extend(section(3, &[1, 0]));
		let mut body = vec![0];
		body.extend_from_slice(code);
		body.push(0x0b);
		let mut code_section = vec![1];
		code_section.extend(leb(body.len()));
		code_section.extend(body);
		out.extend(section(10, &code_section));
		for c in customs {
			out.extend_from_slice(c);
		}
		out
	}

	fn compact() -> OptimizationOptions {
		let mut options = OptimizationOptions::new_opt_level_0();
		options
			.mvp_features_only()
			.debug_info(true)
			.add_pass(Pass::StripDwarf)
			.add_pass(Pass::SignextLowering);
		options
	}

	// local.get 0
	const IDENTITY: &[u8] = &[0x20, 0];

	#[test]
	fn dwarf_sections_are_removed_and_every_other_byte_is_kept() {
		let name = custom("name", &[1, 2, 3]);
		let input = module(
			IDENTITY,
			&[custom(".debug_info", &[9; 40]), name.clone(), custom(".debug_line", &[7])],
		);
		let output = compact().run_on(&input).unwrap();
		assert_eq!(output, module(IDENTITY, &[name]));
		wasmparser::validate(&output).unwrap();
	}

	#[test]
	fn without_debug_info_the_name_section_goes_too() {
		let input = module(IDENTITY, &[custom("name", &[1]), custom("producers", &[0])]);
		let mut options = OptimizationOptions::new_opt_level_0();
		options.add_pass(Pass::SignextLowering);
		let output = options.run_on(&input).unwrap();
		assert_eq!(output, module(IDENTITY, &[custom("producers", &[0])]));
	}

	#[test]
	fn a_module_with_a_sign_extension_operator_is_refused_with_the_operator_named() {
		// local.get 0; i32.extend8_s
		let input = module(&[0x20, 0, 0xc0], &[]);
		let error = compact().run_on(&input).unwrap_err();
		assert!(matches!(error, OptimizationError::Unsupported(_)), "{error:?}");
		assert!(error.to_string().contains("i32.extend8_s"), "{error}");
		assert!(error.to_string().contains("wasm32v1-none"), "{error}");
	}

	#[test]
	fn post_mvp_features_fail_validation_when_only_mvp_is_allowed() {
		// `ref.null func; drop; local.get 0`: `ref.null` is from the reference-types proposal.
		let input = module(&[0xd0, 0x70, 0x1a, 0x20, 0], &[]);
		assert!(matches!(compact().run_on(&input), Err(OptimizationError::ValidateWasmInput(_))));
		// The same module passes with the default features.
		OptimizationOptions::new_opt_level_0().debug_info(true).run_on(&input).unwrap();
	}

	#[test]
	fn a_truncated_module_is_refused() {
		let input = module(IDENTITY, &[]);
		let error = compact().run_on(&input[..input.len() - 2]).unwrap_err();
		assert!(matches!(error, OptimizationError::ValidateWasmInput(_)), "{error:?}");
	}

	#[test]
	fn run_reads_and_writes_files_in_place() {
		let dir = std::env::temp_dir().join(format!("wasm-opt-test-{}", std::process::id()));
		fs::create_dir_all(&dir).unwrap();
		let path = dir.join("runtime.wasm");
		fs::write(&path, module(IDENTITY, &[custom(".debug_str", &[1])])).unwrap();
		compact().run(&path, &path).unwrap();
		assert_eq!(fs::read(&path).unwrap(), module(IDENTITY, &[]));
		assert!(matches!(compact().run("-", &path), Err(OptimizationError::InvalidStdinPath)));
		assert!(matches!(
			compact().run(dir.join("absent"), &path),
			Err(OptimizationError::Read { .. })
		));
		fs::remove_dir_all(&dir).unwrap();
	}
}
