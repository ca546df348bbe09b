//! The `Config` of every pallet in the runtime, grouped as the runtime groups its pallets.

mod consensus;
mod data;
mod monetary;
mod system;
mod utility;

pub use data::ContributorRewardsPot;
pub use monetary::{CommunityPotAccount, TransactionByteFee, WeightFee};
pub use system::{RuntimeBlockLength, RuntimeBlockWeights};
