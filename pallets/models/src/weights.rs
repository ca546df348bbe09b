
//! Weights for `pallet_models`.
//!
//! Regenerate with `scripts/benchmark-pallet.sh models`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight of each call of `pallet_models`.
pub trait WeightInfo {
	fn register_base_model() -> Weight;
	fn retire_base_model() -> Weight;
	fn train(n: u32) -> Weight;
	fn publish() -> Weight;
	fn retire() -> Weight;
	fn remove() -> Weight;
	fn offer_ownership() -> Weight;
	fn accept_ownership() -> Weight;
	fn training_result(n: u32) -> Weight;
	fn training_abandoned(n: u32) -> Weight;
}

/// Weights for `pallet_models` on the runtime's database.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_base_model() -> Weight {
		Weight::from_parts(60_000_000, 2000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn retire_base_model() -> Weight {
		Weight::from_parts(40_000_000, 2000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn train(n: u32) -> Weight {
		Weight::from_parts(900_000_000, 120000)
			.saturating_add(T::DbWeight::get().reads(60_u64))
			.saturating_add(T::DbWeight::get().writes(20_u64))
			.saturating_add(Weight::from_parts(60_000_000, 6000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64.saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64.saturating_mul(n.into())))
	}
	fn publish() -> Weight {
		Weight::from_parts(50_000_000, 3000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn retire() -> Weight {
		Weight::from_parts(45_000_000, 3000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn remove() -> Weight {
		Weight::from_parts(90_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn offer_ownership() -> Weight {
		Weight::from_parts(45_000_000, 3000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn accept_ownership() -> Weight {
		Weight::from_parts(140_000_000, 6000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn training_result(n: u32) -> Weight {
		Weight::from_parts(300_000_000, 8000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
			.saturating_add(Weight::from_parts(60_000_000, 6000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64.saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64.saturating_mul(n.into())))
	}
	fn training_abandoned(n: u32) -> Weight {
		Weight::from_parts(300_000_000, 8000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
			.saturating_add(Weight::from_parts(60_000_000, 6000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64.saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64.saturating_mul(n.into())))
	}
}

/// The same weights on ParityDb's database weights, for tests and mock runtimes.
impl WeightInfo for () {
	fn register_base_model() -> Weight {
		Weight::from_parts(60_000_000, 2000)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn retire_base_model() -> Weight {
		Weight::from_parts(40_000_000, 2000)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn train(n: u32) -> Weight {
		Weight::from_parts(900_000_000, 120000)
			.saturating_add(ParityDbWeight::get().reads(60_u64))
			.saturating_add(ParityDbWeight::get().writes(20_u64))
			.saturating_add(Weight::from_parts(60_000_000, 6000).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64.saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(2_u64.saturating_mul(n.into())))
	}
	fn publish() -> Weight {
		Weight::from_parts(50_000_000, 3000)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn retire() -> Weight {
		Weight::from_parts(45_000_000, 3000)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn remove() -> Weight {
		Weight::from_parts(90_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn offer_ownership() -> Weight {
		Weight::from_parts(45_000_000, 3000)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn accept_ownership() -> Weight {
		Weight::from_parts(140_000_000, 6000)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn training_result(n: u32) -> Weight {
		Weight::from_parts(300_000_000, 8000)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(8_u64))
			.saturating_add(Weight::from_parts(60_000_000, 6000).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64.saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(2_u64.saturating_mul(n.into())))
	}
	fn training_abandoned(n: u32) -> Weight {
		Weight::from_parts(300_000_000, 8000)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(8_u64))
			.saturating_add(Weight::from_parts(60_000_000, 6000).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64.saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(2_u64.saturating_mul(n.into())))
	}
}
