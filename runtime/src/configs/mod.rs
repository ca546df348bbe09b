//! The `Config` of every pallet in the runtime, grouped as the runtime groups its pallets.

mod consensus;
mod monetary;
mod system;
mod utility;

pub use monetary::{CommunityPotAccount, TransactionByteFee, WeightFee};
pub use system::{RuntimeBlockLength, RuntimeBlockWeights};
