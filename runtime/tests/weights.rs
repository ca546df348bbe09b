//! What a balance transfer and a datanet contribution take of a block, applied as a wallet sends
//! them (signed, through every transaction extension), pinned within a band so that a change of
//! weights is noticed; and how many of each fit the normal-class budget of a block.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use common::{preset_ext, signed};
use frame_support::{assert_ok, dispatch::DispatchClass, weights::Weight};
use openledger_runtime::{
	configs::{base_extrinsic, RuntimeBlockWeights},
	currency::OPEN,
	weights::ExtrinsicBaseWeight,
	Datanets, Executive, Header, RuntimeCall, RuntimeOrigin, System, UncheckedExtrinsic,
};
use pallet_datanets::DataFormat;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};
use sp_runtime::traits::Header as _;

/// Starts block `number` on the current state.
fn start_block(number: u32) {
	Executive::initialize_block(&Header::new(
		number,
		Default::default(),
		Default::default(),
		System::parent_hash(),
		Default::default(),
	));
}

/// Applies `xt` to the current block and returns what it added to the block's normal class.
fn block_weight_of(xt: UncheckedExtrinsic) -> Weight {
	let before = *System::block_weight().get(DispatchClass::Normal);
	let outcome = Executive::apply_extrinsic(xt).expect("the transaction is valid");
	assert!(outcome.is_ok(), "the call succeeds: {outcome:?}");
	*System::block_weight().get(DispatchClass::Normal) - before
}

/// How many transactions of `weight` the normal class of an empty block holds.
fn per_block(weight: Weight) -> u64 {
	let normal = RuntimeBlockWeights::get().get(DispatchClass::Normal).max_total;
	normal.expect("the normal class is bounded").ref_time() / weight.ref_time()
}

/// Asserts `weight` lies within `[low, high]` microseconds of block time.
fn assert_within(what: &str, weight: Weight, low: u64, high: u64) {
	let micros = weight.ref_time() / 1_000_000;
	println!("{what}: {micros} us of block time, {} per block", per_block(weight));
	assert!(
		(low..=high).contains(&micros),
		"{what} takes {micros} us of a block, outside [{low}, {high}]: if the weights were \
		 measured again on purpose, move the band (and the README's figures) with them"
	);
}

#[test]
fn a_transfer_takes_its_measured_weight_and_4000_fit_a_block() {
	preset_ext("development").execute_with(|| {
		start_block(1);
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Bob.to_account_id().into(),
			value: OPEN,
		});
		let weight = block_weight_of(signed(Alice, transfer, 0));
		assert_within("a transfer", weight, TRANSFER_LOW_US, TRANSFER_HIGH_US);
		assert!(per_block(weight) >= 4_000, "{} transfers per block", per_block(weight));
	});
}

#[test]
fn a_contribution_takes_its_measured_weight_and_2000_fit_a_block() {
	preset_ext("development").execute_with(|| {
		// A datanet that validates nothing, like the load benchmark's; Bob committed to his
		// contribution a block earlier.
		System::set_block_number(1);
		common::create_text_datanet(b"Instructions", Charlie.into());
		let content = H256::repeat_byte(7);
		let commitment = pallet_datanets::commitment_of(&Bob.to_account_id(), 0, &content);
		assert_ok!(Datanets::commit(RuntimeOrigin::signed(Bob.into()), commitment));

		start_block(2);
		let contribute = RuntimeCall::Datanets(pallet_datanets::Call::contribute {
			datanet: 0,
			content_hash: content,
			size: 1_000,
			format: DataFormat::JsonLines,
			max_cost: u128::MAX,
		});
		let weight = block_weight_of(signed(Bob, contribute, 0));
		assert_within("a contribution", weight, CONTRIBUTION_LOW_US, CONTRIBUTION_HIGH_US);
		assert!(per_block(weight) >= 2_000, "{} contributions per block", per_block(weight));
	});
}

/// The base weight leaves out what the transaction extensions' benchmarks charge, and counts the
/// signer's account once (see `configs::system::base_extrinsic`): a signed remark, extensions
/// included, must still be charged at least the whole cost `benchmark overhead` measured for it.
#[test]
fn a_signed_remark_is_charged_at_least_its_measured_overhead() {
	preset_ext("development").execute_with(|| {
		start_block(1);
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		let weight = block_weight_of(signed(Alice, remark, 0));
		let measured = ExtrinsicBaseWeight::get();
		assert!(
			weight.ref_time() >= measured.ref_time(),
			"a remark is charged {weight:?}, less than the measured {measured:?}"
		);
		// The extensions' benchmarks account for less than the whole measured cost.
		let base = base_extrinsic().ref_time();
		assert!(base > 0 && base < measured.ref_time(), "base {base}");
	});
}

// The bands: the figures measured on the reference machine (319 us and 725 us), within 10%.
const TRANSFER_LOW_US: u64 = 287;
const TRANSFER_HIGH_US: u64 = 351;
const CONTRIBUTION_LOW_US: u64 = 652;
const CONTRIBUTION_HIGH_US: u64 = 798;

/// The constants `benchmark overhead` and `benchmark storage` measured are within the bounds their
/// generator checks (its checks are kept here, not in the generated files, so that the runtime's
/// library has no unit tests to compile): an empty block between 100 µs and 50 ms, a
/// transaction's base between 10 µs and 1 ms, a database read or write between 1 µs and 1 ms.
#[test]
fn the_measured_block_transaction_and_database_costs_are_within_bounds() {
	use frame_support::weights::constants::{
		WEIGHT_REF_TIME_PER_MICROS, WEIGHT_REF_TIME_PER_MILLIS,
	};
	use openledger_runtime::weights::{BlockExecutionWeight, ParityDbWeight};
	let micros = WEIGHT_REF_TIME_PER_MICROS;
	let millis = WEIGHT_REF_TIME_PER_MILLIS;
	let block = BlockExecutionWeight::get().ref_time();
	assert!((100 * micros..=50 * millis).contains(&block), "an empty block: {block}");
	let base = ExtrinsicBaseWeight::get().ref_time();
	assert!((10 * micros..=millis).contains(&base), "a transaction's base: {base}");
	let db = ParityDbWeight::get();
	for (what, weight) in [("read", db.reads(1)), ("write", db.writes(1))] {
		let time = weight.ref_time();
		assert!((micros..=millis).contains(&time), "a database {what}: {time}");
	}
}
