//! The pallet's logic, by feature: each dispatchable in `lib.rs` checks its origin and calls the
//! `do_*` function of its feature here.

mod offers;
mod prepaid;
pub(crate) mod rewards;
pub(crate) mod settlement;

#[cfg(any(feature = "try-runtime", test))]
mod try_state;
