//! Builds the genesis state of a runtime preset the way the node does: the preset's JSON patch
//! merged over the default genesis config.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use frame_support::traits::BuildGenesisConfig;
use openledger_runtime::{genesis_config_presets, RuntimeGenesisConfig};
use serde_json::Value;

fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// Test externalities holding the genesis state of the named preset (`development` or
/// `local_testnet`).
pub fn preset_ext(preset: &str) -> sp_io::TestExternalities {
	let patch = genesis_config_presets::get_preset(&preset.into()).expect("the preset exists");
	let patch: Value = serde_json::from_slice(&patch).expect("a preset is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig =
		serde_json::from_value(config).expect("the preset is a genesis config");
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| config.build());
	ext
}
