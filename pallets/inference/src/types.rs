//! The records the pallet keeps and what a spending authorisation and a settlement carry.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::ConstU32, BoundedVec};
pub use openledger_primitives::{BaseModelId, ContributionId, DatanetId, ModelId, VersionId};
use scale_info::TypeInfo;

/// The most models one authorisation may be spent on.
pub type MaxKeyModels = ConstU32<4>;
/// The most distinct models one settlement pays for.
pub const MAX_BATCH_MODELS: u32 = 32;

/// What a user signs to make an authorisation: these bytes, then the SCALE encoding of the
/// [`Authorisation`]. The prefix keeps a signature over an authorisation from being anything
/// else a key signs (a transaction, a message of another application).
pub const KEY_CONTEXT: &[u8] = b"openledger/inference-key/v1:";

/// A model an authorisation may be spent on, at prices the user accepted when signing: a later
/// rise of either price charges the authorisation nothing more.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct KeyModel<Balance> {
	pub model: ModelId,
	/// The model's price per 1,000 tokens: its owner's and its contributors'.
	pub model_price: Balance,
	/// The provider's serving price per 1,000 tokens for the model's base.
	pub serving_price: Balance,
}

/// A spending authorisation: `user` lets `provider` charge its prepaid balance, on this chain
/// only, for inferences of `models`, up to `max_spend` in all, until block `expires`. `nonce`
/// tells apart two authorisations that are otherwise the same. Its id is the hash of its
/// encoding.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Authorisation<AccountId, Balance, BlockNumber, Hash> {
	/// The chain's genesis hash.
	pub genesis: Hash,
	pub user: AccountId,
	pub provider: AccountId,
	pub models: BoundedVec<KeyModel<Balance>, MaxKeyModels>,
	pub max_spend: Balance,
	pub expires: BlockNumber,
	pub nonce: u64,
}

/// An authorisation with the user's signature over [`KEY_CONTEXT`] and its encoding: the bytes
/// of an API key.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SignedAuthorisation<AccountId, Balance, BlockNumber, Hash, Signature> {
	pub authorisation: Authorisation<AccountId, Balance, BlockNumber, Hash>,
	pub signature: Signature,
}

/// One inference served under an authorisation, as its provider settles it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Record<Balance, Hash> {
	/// Its number under the authorisation: each settled record's is above every number
	/// settled before under the same authorisation, which is how a record settles once.
	pub seq: u64,
	pub model: ModelId,
	pub prompt_tokens: u32,
	pub completion_tokens: u32,
	/// What the authorisation's pinned prices give for its tokens (see [`fee_for`]).
	pub fee: Balance,
	/// The hash of the request, as the provider's receipt names it.
	pub request: Hash,
}

/// The records of one authorisation in a settlement.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct KeyRecords<AccountId, Balance, BlockNumber, Hash, Signature> {
	pub key: SignedAuthorisation<AccountId, Balance, BlockNumber, Hash, Signature>,
	pub records: alloc::vec::Vec<Record<Balance, Hash>>,
}

/// What the chain remembers of an authorisation from its first settlement or its revocation
/// until it can settle nothing more.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct KeyState<Balance, BlockNumber> {
	/// Settled under it so far.
	pub spent: Balance,
	/// The highest record number settled; 0 before the first.
	pub last_seq: u64,
	pub expires: BlockNumber,
	/// When the user revoked it: it settles nothing after this block plus the settlement
	/// window.
	pub revoked_at: Option<BlockNumber>,
}

/// A pending withdrawal of prepaid funds.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Withdrawal<Balance, BlockNumber> {
	pub amount: Balance,
	/// The first block at which it may be completed.
	pub due: BlockNumber,
}

/// A user's prepaid funds for inference, held on its account.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Prepaid<Balance, BlockNumber> {
	/// Held for inference; settlements take from it until a withdrawal completes.
	pub held: Balance,
	pub withdrawal: Option<Withdrawal<Balance, BlockNumber>>,
}

/// What a model's inferences earned, over all settlements.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Earnings<Balance> {
	pub inferences: u64,
	pub tokens: u64,
	/// The fees paid, all parts together.
	pub fees: Balance,
	/// The part that went to its owner.
	pub owner: Balance,
	/// The part that went to its data's contributors.
	pub contributors: Balance,
}

/// What inferences paid into a datanet version's contributor pool and what its contributors
/// claimed.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Pool<Balance> {
	pub paid: Balance,
	pub claimed: Balance,
}

/// How one settlement's fees for one model were split, to the unit.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Split<Balance> {
	pub protocol: Balance,
	pub provider: Balance,
	pub owner: Balance,
	pub contributors: Balance,
}
