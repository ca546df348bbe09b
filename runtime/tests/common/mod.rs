//! Builds the genesis state of a runtime preset the way the node does: the preset's JSON patch
//! merged over the default genesis config.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use codec::Encode;
use frame_support::traits::BuildGenesisConfig;
use openledger_runtime::{
	genesis_config_presets, RuntimeCall, RuntimeGenesisConfig, SignedPayload, UncheckedExtrinsic,
};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;

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

pub use openledger_runtime::tx_extension;

/// `call` signed by `signer` with `nonce`, as a wallet sends it.
pub fn signed(signer: Sr25519Keyring, call: RuntimeCall, nonce: u32) -> UncheckedExtrinsic {
	let extension = tx_extension(nonce, 0);
	let payload = SignedPayload::new(call.clone(), extension.clone()).expect("valid extension");
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(call, signer.to_account_id().into(), signature.into(), extension)
}

/// Alice creates a text datanet named `name`: a 10 OPEN contribution deposit, JSON Lines of at
/// most 1 MiB, accepted on one approval of `curator`.
pub fn create_text_datanet(name: &[u8], curator: openledger_runtime::AccountId) {
	use openledger_runtime::{currency::OPEN, Datanets, RuntimeOrigin};
	use pallet_datanets::{DataFormat, DataKind, MetadataInput, RulesInput};
	let metadata = MetadataInput {
		name: name.to_vec(),
		description: vec![],
		tags: vec![],
		kind: DataKind::Text,
		licence: b"CC0-1.0".to_vec(),
	};
	let rules = RulesInput {
		contribution_deposit: 10 * OPEN,
		max_contribution_size: 1 << 20,
		accepted_formats: vec![DataFormat::JsonLines],
		curators: vec![curator],
		approvals_needed: 1,
	};
	frame_support::assert_ok!(Datanets::create(
		RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
		metadata,
		rules
	));
}

/// Datanet 0, "Facts", curated by Alice, with two contributions of Bob's (100 and 200 bytes)
/// accepted and published as version 0.
pub fn bobs_published_version() {
	use openledger_runtime::{AccountId, Balance, Datanets, RuntimeOrigin, System};
	use pallet_datanets::{DataFormat, Verdict};
	use sp_core::H256;
	let signed = |who: AccountId| RuntimeOrigin::signed(who);
	let (alice, bob) = (Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id());
	create_text_datanet(b"Facts", alice.clone());
	for n in 0..2u8 {
		let hash = H256::repeat_byte(n + 1);
		frame_support::assert_ok!(Datanets::commit(
			signed(bob.clone()),
			pallet_datanets::commitment_of(&bob, 0, &hash)
		));
		System::set_block_number(System::block_number() + 1);
		frame_support::assert_ok!(Datanets::contribute(
			signed(bob.clone()),
			0,
			hash,
			100 * u64::from(n + 1),
			DataFormat::JsonLines,
			Balance::MAX
		));
		frame_support::assert_ok!(Datanets::review(
			signed(alice.clone()),
			0,
			u32::from(n),
			Verdict::Accept
		));
	}
	frame_support::assert_ok!(Datanets::publish_version(signed(alice), 0));
}

/// What a training result records for attribution, with files of some length.
pub fn training_records() -> pallet_models::TrainingRecords {
	pallet_models::TrainingRecords {
		manifest: pallet_models::FileRef {
			content_hash: sp_core::H256::repeat_byte(10),
			length: 600,
		},
		trained_root: sp_core::H256::repeat_byte(11),
		trained: 2,
		corpus_index: pallet_models::FileRef {
			content_hash: sp_core::H256::repeat_byte(12),
			length: 9_000,
		},
		features: None,
	}
}
