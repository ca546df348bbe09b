#[cfg(feature = "std")]
fn main() {
	let builder = substrate_wasm_builder::WasmBuilder::init_with_defaults()
		// wasm-ld writes each relocated index (calls, globals, types) as the shortest LEB128
		// instead of a padded five bytes: a code section 7% smaller. (Binaryen's rewrite used to
		// do this; see patches/wasm-opt.) It needs debug information stripped, and a release
		// build of the runtime has none.
		.append_to_rust_flags("-Clink-arg=--compress-relocations")
		.append_to_rust_flags("-Clink-arg=--strip-debug");
	#[cfg(feature = "metadata-hash")]
	let builder = builder.enable_metadata_hash("OPEN", 18);
	builder.build();
}

/// The wasm builder is deactivated when compiling this crate for wasm, to speed up the compilation.
#[cfg(not(feature = "std"))]
fn main() {}
