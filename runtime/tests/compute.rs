//! Datanets and the compute market as the runtime composes them: a contribution's validation job
//! is assigned to a registered provider, paid from the contributor's fee, and its report reaches
//! the datanet, which rejects a failed contribution when it says so; a missed deadline slashes
//! the provider into the community pot and refunds the contributor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

mod common;

use codec::Encode;
use common::preset_ext;
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, Hooks},
	BoundedVec,
};
use openledger_runtime::{
	configs::CommunityPotAccount, currency::OPEN, AccountId, Balance, Balances, Compute, Datanets,
	Runtime, RuntimeOrigin, System,
};
use pallet_compute::{Hardware, JobKind, JobStatus, Offer, ProviderInput, ProviderStatus};
use pallet_datanets::{
	DataFormat, ValidationOutcome, ValidationReport, ValidationRules, ValidationState,
};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Ferdie};

const FEE: Balance = OPEN;
const PRICE: Balance = OPEN / 2;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}

/// A dev chain with a provider (Ferdie) and a datanet (Alice's) that validates contributions at
/// `FEE` and rejects failed ones.
fn setup() -> sp_io::TestExternalities {
	let mut ext = preset_ext("development");
	ext.execute_with(|| {
		System::set_block_number(1);
		let input = ProviderInput {
			endpoint: b"http://127.0.0.1:9100".to_vec(),
			hardware: Hardware { cpu_cores: 2, memory_mib: 4096, gpus: 0, gpu_memory_mib: 0 },
			concurrency: 2,
			offers: vec![Offer { kind: JobKind::ContributionValidation, price: PRICE }],
		};
		assert_ok!(Compute::register(signed(Ferdie.into()), input, 1_000 * OPEN));
		common::create_text_datanet(b"Instructions", Charlie.into());
		assert_ok!(Datanets::set_services(
			signed(Alice.into()),
			0,
			vec![b"http://127.0.0.1:9100".to_vec()],
			Some(ValidationRules { fee: FEE, auto_reject: true }),
		));
	});
	ext
}

/// Commits Bob to contribution `n`, moves to the next block and contributes it.
fn contribute(n: u8) -> u64 {
	let bob: AccountId = Bob.into();
	let commitment = pallet_datanets::commitment_of(&bob, 0, &H256::repeat_byte(n));
	assert_ok!(Datanets::commit(signed(bob), commitment));
	System::set_block_number(System::block_number() + 1);
	assert_ok!(Datanets::contribute(
		signed(Bob.into()),
		0,
		H256::repeat_byte(n),
		100,
		DataFormat::JsonLines,
		Balance::MAX,
	));
	let Some(ValidationState::Requested { job }) =
		pallet_datanets::Validations::<Runtime>::get(0, u32::from(n))
	else {
		panic!("a validation job was requested")
	};
	job
}

fn report(outcome: ValidationOutcome, score: u8) -> Vec<u8> {
	ValidationReport { outcome, score, reason: BoundedVec::truncate_from(b"checked".to_vec()) }
		.encode()
}

#[test]
fn a_validation_job_pays_the_provider_and_informs_the_datanet() {
	setup().execute_with(|| {
		let (bob, ferdie) = (Bob.to_account_id(), Ferdie.to_account_id());
		let bob_before = free(&bob);
		let job = contribute(0);
		let info = pallet_compute::Jobs::<Runtime>::get(job).unwrap();
		assert!(
			matches!(info.status, JobStatus::Assigned { ref provider, .. } if provider == &ferdie)
		);
		assert_eq!(info.fee, FEE);
		// The contributor pays the deposit and the fee.
		assert_eq!(free(&bob), bob_before - 10 * OPEN - FEE);

		// Another account cannot act for the provider.
		assert_noop!(
			Compute::accept_job(signed(Bob.into()), job),
			pallet_compute::Error::<Runtime>::NotAssignee
		);
		let ferdie_before = free(&ferdie);
		assert_ok!(Compute::accept_job(signed(Ferdie.into()), job));
		assert_noop!(
			Compute::submit_result(signed(Ferdie.into()), job, vec![1, 2, 3]),
			pallet_datanets::Error::<Runtime>::BadValidationReport
		);
		assert_ok!(Compute::submit_result(
			signed(Ferdie.into()),
			job,
			report(ValidationOutcome::Valid, 100)
		));
		assert_eq!(free(&ferdie), ferdie_before + PRICE);
		assert_eq!(free(&bob), bob_before - 10 * OPEN - PRICE);
		assert!(matches!(
			pallet_datanets::Validations::<Runtime>::get(0, 0),
			Some(ValidationState::Done { report: ValidationReport { score: 100, .. }, .. })
		));

		// A corrupt contribution is rejected on its report.
		let job = contribute(1);
		assert_ok!(Compute::accept_job(signed(Ferdie.into()), job));
		assert_ok!(Compute::submit_result(
			signed(Ferdie.into()),
			job,
			report(ValidationOutcome::Malformed, 40)
		));
		assert!(pallet_datanets::Contributions::<Runtime>::get(0, 1).is_none());
	});
}

#[test]
fn a_missed_deadline_slashes_the_provider_and_refunds_the_contributor() {
	setup().execute_with(|| {
		let (bob, ferdie) = (Bob.to_account_id(), Ferdie.to_account_id());
		let bob_before = free(&bob);
		let pot_before = free(&CommunityPotAccount::get());
		let job = contribute(0);
		let until = pallet_compute::Jobs::<Runtime>::get(job).unwrap().status.until();
		for n in 2..=until {
			System::set_block_number(n);
			Compute::on_initialize(n);
		}
		assert!(pallet_compute::Jobs::<Runtime>::get(job).is_none());
		let provider = pallet_compute::Providers::<Runtime>::get(&ferdie).unwrap();
		assert_eq!(provider.bond, 950 * OPEN);
		assert_eq!(provider.status, ProviderStatus::Paused);
		assert_eq!(free(&CommunityPotAccount::get()), pot_before + 50 * OPEN);
		assert_eq!(free(&bob), bob_before - 10 * OPEN);
		assert_eq!(
			pallet_datanets::Validations::<Runtime>::get(0, 0),
			Some(ValidationState::Unavailable)
		);
	});
}
