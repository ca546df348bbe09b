//! The runtime API through which providers check keys and clients read prepaid funds, offers,
//! earnings and rewards without scanning storage. Clients call it over RPC with `state_call`
//! (polkadot.js: `api.call.inferenceApi.*`).

pub use crate::features::settlement::KeyRefusal;
use crate::types::{
	BaseModelId, ContributionId, DatanetId, Earnings, KeyModel, KeyState, ModelId, Prepaid,
	VersionId,
};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use scale_info::TypeInfo;

/// A key a provider may serve now, as [`InferenceApi::authorise`] reads it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct KeyView<AccountId, Balance, BlockNumber, Hash> {
	/// The authorisation's id, which revocations and settlements name.
	pub id: Hash,
	pub user: AccountId,
	pub models: Vec<KeyModel<Balance>>,
	pub max_spend: Balance,
	pub expires: BlockNumber,
	/// What settled under it so far, up to which record number.
	pub spent: Balance,
	pub last_seq: u64,
	/// What the user's prepaid funds with the provider leave for new inferences.
	pub available: Balance,
	/// The current block.
	pub now: BlockNumber,
}

sp_api::decl_runtime_apis! {
	/// Checks keys and reads prepaid funds, offers, earnings and rewards.
	pub trait InferenceApi<AccountId, Balance, BlockNumber, Hash>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
		Hash: Codec,
	{
		/// Whether `provider` may serve the API key `key` (a SCALE-encoded signed
		/// authorisation) now, and what it leaves to spend.
		fn authorise(
			key: Vec<u8>,
			provider: AccountId,
		) -> Result<KeyView<AccountId, Balance, BlockNumber, Hash>, KeyRefusal>;
		/// A remembered authorisation's state.
		fn key(id: Hash) -> Option<KeyState<Balance, BlockNumber>>;
		/// A user's prepaid funds with a provider, and what they leave for new inferences there.
		fn prepaid(
			user: AccountId,
			provider: AccountId,
		) -> (Option<Prepaid<Balance, BlockNumber>>, Balance);
		/// A provider's offers: base models and serving prices per 1,000 tokens.
		fn offers(provider: AccountId) -> Vec<(BaseModelId, Balance)>;
		/// What a model's inferences earned.
		fn model_earnings(model: ModelId) -> Earnings<Balance>;
		/// What an account may claim as a provider, a model's owner or the protocol pot.
		fn rewards(account: AccountId) -> Balance;
		/// What a contribution may claim from a version's pool.
		fn contribution_rewards(
			datanet: DatanetId,
			version: VersionId,
			contribution: ContributionId,
		) -> Balance;
		/// The protocol's share of every fee.
		fn protocol_share() -> sp_runtime::Perbill;
	}
}
