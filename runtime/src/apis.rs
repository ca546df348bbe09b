//! The runtime APIs: what the node and clients may ask of the runtime.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use pallet_datanets::{
	ContributionId, ContributorRecord, DatanetId, Reputation, VersionEntry, VersionId,
};
use pallet_grants::{ApplicationId, PotFunds, TierRanges};
use pallet_models::{BaseModelId, ModelId};
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata, H256};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult, ExtrinsicInclusionMode,
};
use sp_version::RuntimeVersion;

use crate::{
	configs, genesis_config_presets, AccountId, Aura, Balance, Block, BlockNumber, Datanets,
	Executive, Grandpa, Grants, Inference, InherentDataExt, Models, Nonce, Runtime, RuntimeCall,
	RuntimeGenesisConfig, SessionKeys, System, TransactionPayment, VERSION,
};

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block)
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			// The key owner proof type has no values (see `pallet_grandpa::Config::KeyOwnerProof`).
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_models::runtime_api::ModelsApi<
		Block,
		AccountId,
		pallet_models::ModelOf<Runtime>,
		pallet_models::TrainingRequestOf<Runtime>,
	> for Runtime {
		fn base_model(base_model: BaseModelId) -> Option<pallet_models::BaseModel> {
			pallet_models::BaseModels::<Runtime>::get(base_model)
		}
		fn base_models() -> Vec<(BaseModelId, pallet_models::BaseModel)> {
			pallet_models::BaseModels::<Runtime>::iter().collect()
		}
		fn model(model: ModelId) -> Option<pallet_models::ModelOf<Runtime>> {
			pallet_models::ModelInfo::<Runtime>::get(model)
		}
		fn models(start: ModelId, limit: u32) -> Vec<(ModelId, pallet_models::ModelOf<Runtime>)> {
			Models::models_page(start, limit)
		}
		fn training(job: u64) -> Option<pallet_models::TrainingRequestOf<Runtime>> {
			pallet_models::TrainingRequests::<Runtime>::get(job)
		}
		fn provenance(model: ModelId) -> Option<pallet_models::Lineage<AccountId>> {
			Models::lineage(model)
		}
	}

	impl pallet_inference::runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber, H256>
		for Runtime
	{
		fn authorise(
			key: Vec<u8>,
			provider: AccountId,
		) -> Result<
			pallet_inference::runtime_api::KeyView<AccountId, Balance, BlockNumber, H256>,
			pallet_inference::runtime_api::KeyRefusal,
		> {
			Inference::authorise(&key, &provider)
		}
		fn key(id: H256) -> Option<pallet_inference::KeyState<Balance, BlockNumber>> {
			pallet_inference::Keys::<Runtime>::get(id)
		}
		fn prepaid(
			user: AccountId,
			provider: AccountId,
		) -> (Option<pallet_inference::Prepaid<Balance, BlockNumber>>, Balance) {
			(
				pallet_inference::PrepaidFunds::<Runtime>::get(&user, &provider),
				Inference::available(&user, &provider),
			)
		}
		fn offers(provider: AccountId) -> Vec<(BaseModelId, Balance)> {
			pallet_inference::Offers::<Runtime>::get(provider).map(|o| o.into_inner()).unwrap_or_default()
		}
		fn model_earnings(model: ModelId) -> pallet_inference::Earnings<Balance> {
			pallet_inference::ModelEarnings::<Runtime>::get(model)
		}
		fn rewards(account: AccountId) -> Balance {
			pallet_inference::Rewards::<Runtime>::get(account)
		}
		fn contribution_rewards(
			datanet: DatanetId,
			version: VersionId,
			contribution: ContributionId,
		) -> Balance {
			Inference::contribution_claimable(datanet, version, contribution)
		}
		fn protocol_share() -> sp_runtime::Perbill {
			<<Runtime as pallet_inference::Config>::ProtocolShare as frame_support::traits::Get<_>>::get()
		}
	}

	impl pallet_datanets::runtime_api::DatanetsApi<
		Block,
		AccountId,
		pallet_datanets::DatanetOf<Runtime>,
		pallet_datanets::ContributionOf<Runtime>,
		pallet_datanets::VersionOf<Runtime>,
	> for Runtime {
		fn datanet(datanet: DatanetId) -> Option<pallet_datanets::DatanetOf<Runtime>> {
			pallet_datanets::DatanetInfo::<Runtime>::get(datanet)
		}
		fn contribution(
			datanet: DatanetId,
			contribution: ContributionId,
		) -> Option<pallet_datanets::ContributionOf<Runtime>> {
			pallet_datanets::Contributions::<Runtime>::get(datanet, contribution)
		}
		fn version(datanet: DatanetId, version: VersionId) -> Option<pallet_datanets::VersionOf<Runtime>> {
			pallet_datanets::Versions::<Runtime>::get(datanet, version)
		}
		fn version_contributions(
			datanet: DatanetId,
			version: VersionId,
			start: u32,
			limit: u32,
		) -> Vec<VersionEntry> {
			Datanets::version_page(datanet, version, start, limit)
		}
		fn contribution_proof(datanet: DatanetId, version: VersionId, position: u32) -> Option<Vec<H256>> {
			Datanets::version_proof(datanet, version, position)
		}
		fn contributor(account: AccountId) -> ContributorRecord {
			Datanets::contributor_record(&account)
		}
		fn contributor_in(datanet: DatanetId, account: AccountId) -> Reputation {
			pallet_datanets::DatanetReputation::<Runtime>::get(datanet, account)
		}
	}

	impl pallet_grants::runtime_api::GrantsApi<Block, Balance, pallet_grants::ApplicationOf<Runtime>>
		for Runtime
	{
		fn application(application: ApplicationId) -> Option<pallet_grants::ApplicationOf<Runtime>> {
			pallet_grants::Applications::<Runtime>::get(application)
		}
		fn applications(
			start: ApplicationId,
			limit: u32,
		) -> Vec<(ApplicationId, pallet_grants::ApplicationOf<Runtime>)> {
			Grants::applications_page(start, limit)
		}
		fn tier_ranges() -> TierRanges<Balance> {
			<configs::grants::GovernedTierRanges as frame_support::traits::Get<_>>::get()
		}
		fn pot() -> PotFunds<Balance> {
			Grants::pot_funds()
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			genesis_config_presets::preset_names()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::{baseline, BenchmarkList};
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::{
				extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
			};
			use baseline::Pallet as BaselineBench;
			use crate::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);

			let storage_info = AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::{baseline, BenchmarkBatch};
			use frame_support::traits::WhitelistedStorageKeys;
			use frame_system_benchmarking::{
				extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
			};
			use baseline::Pallet as BaselineBench;
			use sp_storage::TrackedStorageKey;
			use crate::*;

			impl frame_system_benchmarking::Config for Runtime {}
			impl baseline::Config for Runtime {}
			// Fees go to the community pot: nothing to set up before a fee is charged.
			impl pallet_transaction_payment::BenchmarkConfig for Runtime {}

			let mut whitelist: Vec<TrackedStorageKey> =
				AllPalletsWithSystem::whitelisted_storage_keys();
			// Every fee is paid into the community pot, so its account is read and written once
			// per block, not once per transaction: the block's base weight pays for it (see
			// `configs::system`), as it pays for the block author's.
			whitelist.push(
				frame_system::Account::<Runtime>::hashed_key_for(
					configs::CommunityPotAccount::get(),
				)
				.into(),
			);
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			// A failed pre- or post-upgrade check must stop try-runtime with a backtrace here.
			#[allow(clippy::unwrap_used)]
			let weight = Executive::try_runtime_upgrade(checks).unwrap();
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			#[allow(clippy::expect_used)]
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("execute-block failed")
		}
	}
}
