//! The `Config` of every pallet in the runtime, grouped as the runtime groups its pallets.

mod consensus;
mod data;
pub mod governance;
pub mod grants;
mod inference;
mod models;
mod monetary;
pub mod parameters;
mod system;
mod utility;

pub use data::ContributorRewardsPot;
pub use grants::EcosystemGrantsPot;
pub use monetary::{CommunityPotAccount, TransactionByteFee, WeightFee};
pub use parameters::{
	dynamic_params, RuntimeParameters, RuntimeParametersKey, RuntimeParametersValue,
};
pub use system::{base_extrinsic, RuntimeBlockLength, RuntimeBlockWeights};
