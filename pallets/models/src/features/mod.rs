//! The pallet's logic, by feature: each dispatchable in `lib.rs` checks its origin and calls the
//! `do_*` function of its feature here.

mod base_model;
mod model;
pub(crate) mod training;

#[cfg(any(feature = "try-runtime", test))]
mod try_state;
