//! Unit tests of the compute pallet: every call, every error and the deadline hook, then the
//! attacks on the market.

use crate::{
	mock::*, AbandonReason, Deadlines, Error, Event, Hardware, HoldReason, Job, JobKind, JobMarket,
	JobStatus, Jobs, Offer, ProviderJobs, ProviderStatus, Providers, ProvidersByKind, Reliability,
	Requester,
};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::GetDispatchInfo,
	traits::{
		fungible::{Inspect, InspectHold},
		UnfilteredDispatchable,
	},
	weights::Weight,
};
use sp_runtime::DispatchError;

const JOB_FEE: Balance = 100;
const JOB_PRICE: Balance = 2 * PRICE;

fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&reason.into(), &who)
}

fn create(fee: Balance) -> DispatchResult {
	create_charged(fee).map(|_| ()).map_err(|e| e.error)
}

/// `create`, with the weight the job was charged.
fn create_charged(
	fee: Balance,
) -> Result<Weight, sp_runtime::DispatchErrorWithPostInfo<frame_support::dispatch::PostDispatchInfo>>
{
	let call = crate::Call::<Test>::create_job {
		kind: JobKind::Inference,
		payload: b"dataset 0 v1".to_vec(),
		requirements: Hardware::default(),
		fee,
		duration: DURATION,
	};
	let info = call.get_dispatch_info();
	call.dispatch_bypass_filter(RuntimeOrigin::signed(USER))
		.map(|post| post.calc_actual_weight(&info))
		.inspect(|charged| assert!(charged.all_lte(info.call_weight)))
}
type DispatchResult = sp_runtime::DispatchResult;

fn job(id: u64) -> crate::JobOf<Test> {
	Jobs::<Test>::get(id).expect("job exists")
}

/// `register`: the bond, the listing, and each refusal.
mod register {
	use super::*;

	#[test]
	fn register_holds_the_bond_and_lists_the_provider() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_eq!(held(HoldReason::ProviderBond, P1), MIN_BOND);
			let p = Providers::<Test>::get(P1).unwrap();
			assert_eq!(p.status, ProviderStatus::Active);
			assert_eq!(p.bond, MIN_BOND);
			assert_eq!(listed(JobKind::ContributionValidation), vec![P1]);
			assert_eq!(listed(JobKind::Inference), vec![P1]);
			assert!(ProvidersByKind::<Test>::get(JobKind::Training).is_empty());
			System::assert_last_event(
				Event::ProviderRegistered { provider: P1, bond: MIN_BOND }.into(),
			);
		});
	}

	#[test]
	fn register_refuses_bad_input() {
		ExtBuilder::default().build_and_execute(|| {
			let origin = || RuntimeOrigin::signed(P1);
			assert_noop!(
				Compute::register(origin(), input(), MIN_BOND - 1),
				Error::<Test>::BondTooLow
			);
			for endpoint in [&b"ftp://x"[..], b"http://", b"http://a b", b"127.0.0.1:9100"] {
				let bad = crate::ProviderInput { endpoint: endpoint.to_vec(), ..input() };
				assert_noop!(
					Compute::register(origin(), bad, MIN_BOND),
					Error::<Test>::BadEndpoint
				);
			}
			let long = crate::ProviderInput { endpoint: [b'h'; 65].to_vec(), ..input() };
			assert_noop!(
				Compute::register(origin(), long, MIN_BOND),
				Error::<Test>::EndpointTooLong
			);
			let idle = crate::ProviderInput { concurrency: 0, ..input() };
			assert_noop!(
				Compute::register(origin(), idle, MIN_BOND),
				Error::<Test>::ZeroConcurrency
			);
			let none = crate::ProviderInput { offers: vec![], ..input() };
			assert_noop!(Compute::register(origin(), none, MIN_BOND), Error::<Test>::NoOffers);
			let offer = Offer { kind: JobKind::Inference, price: 1 };
			let twice = crate::ProviderInput { offers: vec![offer, offer], ..input() };
			assert_noop!(
				Compute::register(origin(), twice, MIN_BOND),
				Error::<Test>::DuplicateOffer
			);
			let kinds = [JobKind::Inference, JobKind::Training, JobKind::ContributionValidation];
			let too_many = crate::ProviderInput {
				offers: kinds
					.iter()
					.chain(&[JobKind::Inference])
					.map(|&kind| Offer { kind, price: 1 })
					.collect(),
				..input()
			};
			assert_noop!(
				Compute::register(origin(), too_many, MIN_BOND),
				Error::<Test>::TooManyOffers
			);
			assert_noop!(
				Compute::register(RuntimeOrigin::signed(POOR), input(), MIN_BOND),
				sp_runtime::TokenError::FundsUnavailable
			);
			register(P1);
			assert_noop!(
				Compute::register(origin(), input(), MIN_BOND),
				Error::<Test>::AlreadyRegistered
			);
		});
	}

	#[test]
	fn a_kind_lists_at_most_max_providers() {
		ExtBuilder::default().build_and_execute(|| {
			for p in [1, 2, 3, 4] {
				register(p);
			}
			assert_noop!(
				Compute::register(RuntimeOrigin::signed(5), input(), MIN_BOND),
				Error::<Test>::TooManyProviders
			);
		});
	}
}

/// `update`: a new declaration and listing.
mod update {
	use super::*;

	#[test]
	fn update_replaces_the_declaration_and_the_listing() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			let inference = crate::ProviderInput {
				endpoint: b"https://provider.example/api".to_vec(),
				offers: vec![Offer { kind: JobKind::Training, price: 5 }],
				..input()
			};
			assert_ok!(Compute::update(RuntimeOrigin::signed(P1), inference));
			assert!(ProvidersByKind::<Test>::get(JobKind::Inference).is_empty());
			assert_eq!(listed(JobKind::Training), vec![P1]);
			assert_eq!(
				Providers::<Test>::get(P1).unwrap().endpoint.to_vec(),
				b"https://provider.example/api".to_vec()
			);
			System::assert_last_event(Event::ProviderUpdated { provider: P1 }.into());
			assert_noop!(
				Compute::update(RuntimeOrigin::signed(P2), input()),
				Error::<Test>::NotRegistered
			);
			let none = crate::ProviderInput { offers: vec![], ..input() };
			assert_noop!(Compute::update(RuntimeOrigin::signed(P1), none), Error::<Test>::NoOffers);
		});
	}
}

/// `bond_extra`.
mod bond_extra {
	use super::*;

	#[test]
	fn bond_extra_adds_to_the_bond() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(Compute::bond_extra(RuntimeOrigin::signed(P1), 500));
			assert_eq!(held(HoldReason::ProviderBond, P1), MIN_BOND + 500);
			System::assert_last_event(
				Event::BondIncreased { provider: P1, bond: MIN_BOND + 500 }.into(),
			);
			assert_noop!(
				Compute::bond_extra(RuntimeOrigin::signed(P2), 1),
				Error::<Test>::NotRegistered
			);
		});
	}
}

/// `pause` and `resume`.
mod pause_and_resume {
	use super::*;

	#[test]
	fn pause_and_resume() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_noop!(Compute::resume(RuntimeOrigin::signed(P1)), Error::<Test>::NotPaused);
			assert_ok!(Compute::pause(RuntimeOrigin::signed(P1)));
			System::assert_last_event(Event::ProviderPaused { provider: P1 }.into());
			assert!(ProvidersByKind::<Test>::get(JobKind::Inference).is_empty());
			assert_noop!(create(JOB_FEE), Error::<Test>::NoProviderAvailable);
			assert_noop!(Compute::pause(RuntimeOrigin::signed(P1)), Error::<Test>::NotActive);
			assert_ok!(Compute::resume(RuntimeOrigin::signed(P1)));
			System::assert_last_event(Event::ProviderResumed { provider: P1 }.into());
			assert_ok!(create(JOB_FEE));
			assert_noop!(Compute::pause(RuntimeOrigin::signed(P2)), Error::<Test>::NotRegistered);
		});
	}
}

/// `leave` and `withdraw_bond`.
mod leave {
	use super::*;

	#[test]
	fn leave_then_withdraw_after_unbonding_and_the_last_job() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			assert_noop!(
				Compute::withdraw_bond(RuntimeOrigin::signed(P1)),
				Error::<Test>::NotLeaving
			);
			assert_ok!(Compute::leave(RuntimeOrigin::signed(P1)));
			System::assert_last_event(
				Event::ProviderLeaving { provider: P1, unbonds_at: 1 + UNBONDING }.into(),
			);
			assert_noop!(Compute::leave(RuntimeOrigin::signed(P1)), Error::<Test>::AlreadyLeaving);
			assert!(ProvidersByKind::<Test>::get(JobKind::Inference).is_empty());
			assert_noop!(
				Compute::withdraw_bond(RuntimeOrigin::signed(P1)),
				Error::<Test>::StillUnbonding
			);
			// The open job is finished by the leaving provider.
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), 0));
			System::set_block_number(1 + UNBONDING);
			assert_noop!(Compute::withdraw_bond(RuntimeOrigin::signed(P1)), Error::<Test>::HasJobs);
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P1), 0, b"adapter".to_vec()));
			let before = Balances::balance(&P1);
			assert_ok!(Compute::withdraw_bond(RuntimeOrigin::signed(P1)));
			assert_eq!(Balances::balance(&P1), before + MIN_BOND);
			assert!(Providers::<Test>::get(P1).is_none());
			System::assert_last_event(Event::ProviderLeft { provider: P1, bond: MIN_BOND }.into());
			assert_noop!(Compute::leave(RuntimeOrigin::signed(P1)), Error::<Test>::NotRegistered);
		});
	}
}

/// `create_job`: the escrow, the deadlines, and each refusal.
mod create_job {
	use super::*;

	#[test]
	fn create_job_holds_the_fee_and_assigns_it() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			assert_eq!(held(HoldReason::JobEscrow, escrow()), JOB_FEE);
			let info = job(0);
			assert_eq!(
				info.status,
				JobStatus::Assigned {
					provider: P1,
					price: JOB_PRICE,
					until: 1 + ACCEPT_WINDOW,
					result_by: 1 + ACCEPT_WINDOW + DURATION,
				}
			);
			assert_eq!(info.requester, Requester::Account);
			assert_eq!(info.tried.to_vec(), vec![P1]);
			assert!(ProviderJobs::<Test>::contains_key(P1, 0));
			assert_eq!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW).to_vec(), vec![0]);
			assert_eq!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW + DURATION).to_vec(), vec![0]);
			assert_eq!(Providers::<Test>::get(P1).unwrap().jobs, 1);
			assert_eq!(
				events()[events().len() - 2..],
				[
					Event::JobCreated {
						job: 0,
						kind: JobKind::Inference,
						owner: USER,
						fee: JOB_FEE
					},
					Event::JobAssigned { job: 0, provider: P1, price: JOB_PRICE, until: 6 },
				]
			);
		});
	}

	#[test]
	fn create_job_refuses_bad_input() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			let user = || RuntimeOrigin::signed(USER);
			let kind = JobKind::Inference;
			let hw = Hardware::default();
			assert_noop!(
				Compute::create_job(
					user(),
					JobKind::ContributionValidation,
					vec![],
					hw,
					FEE,
					DURATION
				),
				Error::<Test>::KindNotPublic
			);
			assert_noop!(
				Compute::create_job(user(), kind, vec![0; 33], hw, JOB_FEE, DURATION),
				Error::<Test>::PayloadTooLong
			);
			for (duration, error) in
				[(1, Error::<Test>::DurationTooShort), (101, Error::<Test>::DurationTooLong)]
			{
				assert_noop!(
					Compute::create_job(user(), kind, vec![], hw, JOB_FEE, duration),
					error
				);
			}
			// Below the price, more hardware than offered.
			assert_noop!(create(JOB_PRICE - 1), Error::<Test>::NoProviderAvailable);
			let gpu = Hardware { gpus: 1, gpu_memory_mib: 1, ..Default::default() };
			assert_noop!(
				Compute::create_job(user(), kind, vec![], gpu, JOB_FEE, DURATION),
				Error::<Test>::NoProviderAvailable
			);
			assert_noop!(
				Compute::create_job(
					RuntimeOrigin::signed(POOR),
					kind,
					vec![],
					hw,
					JOB_FEE,
					DURATION
				),
				sp_runtime::TokenError::FundsUnavailable
			);
			// The only provider is busy (concurrency 1).
			assert_ok!(create(JOB_FEE));
			assert_noop!(create(JOB_FEE), Error::<Test>::NoProviderAvailable);
		});
	}

	#[test]
	fn a_full_deadline_bucket_slips_to_the_next_block() {
		ExtBuilder::default().build_and_execute(|| {
			for p in [1, 2, 3, 4] {
				let many = crate::ProviderInput { concurrency: 10, ..input() };
				assert_ok!(Compute::register(RuntimeOrigin::signed(p), many, MIN_BOND));
			}
			for _ in 0..MAX_DEADLINES + 1 {
				assert_ok!(create(JOB_FEE));
			}
			assert_eq!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW).len() as u32, MAX_DEADLINES);
			assert_eq!(
				Deadlines::<Test>::get(2 + ACCEPT_WINDOW).to_vec(),
				vec![MAX_DEADLINES as u64]
			);
			assert_eq!(job(MAX_DEADLINES as u64).status.until(), 2 + ACCEPT_WINDOW);
		});
	}
}

/// Assignment: round robin over at most `MaxScan` providers.
mod assignment {
	use super::*;

	#[test]
	fn assignment_is_round_robin() {
		ExtBuilder::default().build_and_execute(|| {
			for p in [P1, P2, P3] {
				register(p);
			}
			for _ in 0..3 {
				assert_ok!(create(JOB_FEE));
			}
			let providers: Vec<_> = (0..3).map(|id| *job(id).status.provider()).collect();
			assert_eq!(providers, vec![P1, P2, P3]);
			// P2 finishes; the next job goes to the first free provider after P3.
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P2), 1));
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P2), 1, vec![1]));
			assert_ok!(create(JOB_FEE));
			assert_eq!(job(3).status.provider(), &P2);
		});
	}

	#[test]
	fn a_job_is_charged_for_the_providers_it_read_and_the_deadline_buckets_it_skipped() {
		use crate::weights::WeightInfo;
		let charged = |read, skipped| <() as WeightInfo>::create_job(read, skipped);
		ExtBuilder::default().build_and_execute(|| {
			for p in [P1, P2, P3] {
				register(p);
			}
			// Each of the first three finds a free provider at the cursor.
			for _ in 0..3 {
				assert_eq!(create_charged(JOB_FEE), Ok(charged(1, 0)));
			}
			// P2 finishes; from the cursor (P1, busy) the next job reads P1 and P2.
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P2), 1));
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P2), 1, vec![1]));
			assert_eq!(create_charged(JOB_FEE), Ok(charged(2, 0)));
			// P2 finishes again, and the next two accept deadlines' buckets are full: from the
			// cursor (P3) the job reads P3, P1 and P2 and skips two buckets.
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P2), 3));
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P2), 3, vec![1]));
			let due = System::block_number() + ACCEPT_WINDOW;
			for block in [due, due + 1] {
				Deadlines::<Test>::mutate(block, |jobs| while jobs.try_push(u64::MAX).is_ok() {});
			}
			assert_eq!(create_charged(JOB_FEE), Ok(charged(3, 2)));
			assert_eq!(job(4).status.until(), due + 2);
			// The declared weight is the worst case.
			let declared = crate::Call::<Test>::create_job {
				kind: JobKind::Inference,
				payload: vec![],
				requirements: Hardware::default(),
				fee: JOB_FEE,
				duration: DURATION,
			}
			.get_dispatch_info()
			.call_weight;
			assert_eq!(declared, charged(MAX_SCAN, 2 * crate::DEADLINE_SLIP));
		});
	}

	#[test]
	fn assignment_looks_at_most_max_scan_providers() {
		ExtBuilder::default().build_and_execute(|| {
			for p in [1, 2, 3, 4] {
				register(p);
			}
			for _ in 0..4 {
				assert_ok!(create(JOB_FEE));
			}
			assert_eq!(job(3).status.provider(), &4);
			// Provider 4 finishes; the cursor is back at provider 1, and the scan of three providers
			// from there (1, 2, 3, all busy) stops before reaching it.
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(4), 3));
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(4), 3, vec![1]));
			assert_noop!(create(JOB_FEE), Error::<Test>::NoProviderAvailable);
		});
	}
}

/// `accept_job`.
mod accept_job {
	use super::*;

	#[test]
	fn accept_job_by_the_assignee_keeps_the_reserved_result_deadline() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			assert_noop!(
				Compute::accept_job(RuntimeOrigin::signed(P2), 0),
				Error::<Test>::NotAssignee
			);
			assert_noop!(
				Compute::accept_job(RuntimeOrigin::signed(P1), 9),
				Error::<Test>::UnknownJob
			);
			System::set_block_number(3);
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), 0));
			assert_eq!(
				job(0).status,
				JobStatus::Accepted {
					provider: P1,
					price: JOB_PRICE,
					until: 1 + ACCEPT_WINDOW + DURATION
				}
			);
			assert!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW).is_empty());
			assert_eq!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW + DURATION).to_vec(), vec![0]);
			System::assert_last_event(
				Event::JobAccepted { job: 0, provider: P1, until: 16 }.into(),
			);
			assert_noop!(
				Compute::accept_job(RuntimeOrigin::signed(P1), 0),
				Error::<Test>::AlreadyAccepted
			);
			assert_noop!(
				Compute::accept_job(RuntimeOrigin::signed(P2), 0),
				Error::<Test>::NotAssignee
			);
		});
	}
}

/// `submit_result`: payment, refunds, and the consumer's say.
mod submit_result {
	use super::*;

	#[test]
	fn submit_result_pays_the_price_and_refunds_the_rest() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			let (user_before, p1_before) = (Balances::balance(&USER), Balances::balance(&P1));
			assert_noop!(
				Compute::submit_result(RuntimeOrigin::signed(P1), 0, vec![1]),
				Error::<Test>::NotAccepted
			);
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), 0));
			assert_noop!(
				Compute::submit_result(RuntimeOrigin::signed(P2), 0, vec![1]),
				Error::<Test>::NotAssignee
			);
			assert_noop!(
				Compute::submit_result(RuntimeOrigin::signed(P1), 0, vec![0; 65]),
				Error::<Test>::ResultTooLong
			);
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P1), 0, b"adapter".to_vec()));
			assert_eq!(Balances::balance(&P1), p1_before + JOB_PRICE);
			assert_eq!(Balances::balance(&USER), user_before + JOB_FEE - JOB_PRICE);
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 0);
			assert!(Jobs::<Test>::get(0).is_none());
			assert!(!ProviderJobs::<Test>::contains_key(P1, 0));
			assert!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW + DURATION).is_empty());
			let p = Providers::<Test>::get(P1).unwrap();
			assert_eq!((p.jobs, p.reliability.completed), (0, 1));
			System::assert_last_event(
				Event::JobCompleted {
					job: 0,
					provider: P1,
					paid: JOB_PRICE,
					refunded: JOB_FEE - JOB_PRICE,
					result: b"adapter".to_vec().try_into().unwrap(),
				}
				.into(),
			);
			// Account jobs do not reach the consumer.
			assert!(received().is_empty());
			assert_noop!(
				Compute::submit_result(RuntimeOrigin::signed(P1), 0, vec![1]),
				Error::<Test>::UnknownJob
			);
		});
	}

	#[test]
	fn runtime_jobs_report_to_the_consumer_which_may_refuse_a_result() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			let id = <Compute as JobMarket<_, _, _>>::create(
				&USER,
				JobKind::ContributionValidation,
				b"d0c1".to_vec(),
				FEE,
				DURATION,
			)
			.unwrap()
			.job
			.expect("assigned");
			assert_eq!(job(id).requester, Requester::Runtime);
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), id));
			assert_noop!(
				Compute::submit_result(RuntimeOrigin::signed(P1), id, b"bad report".to_vec()),
				DispatchError::Other("refused")
			);
			assert_ok!(Compute::submit_result(
				RuntimeOrigin::signed(P1),
				id,
				b"score 100".to_vec()
			));
			assert_eq!(received(), vec![(id, Some(b"score 100".to_vec()))]);
			// Without a free provider the market answers None and holds nothing.
			assert_ok!(Compute::pause(RuntimeOrigin::signed(P1)));
			let none = <Compute as JobMarket<_, _, _>>::create(
				&USER,
				JobKind::ContributionValidation,
				vec![],
				FEE,
				DURATION,
			);
			assert_eq!(none.map(|c| c.job), Ok(None));
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 0);
		});
	}
}

/// `fail_job`.
mod fail_job {
	use super::*;

	#[test]
	fn fail_job_counts_a_failure_without_slashing_and_reassigns() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			register(P2);
			assert_ok!(create(JOB_FEE));
			assert_noop!(
				Compute::fail_job(RuntimeOrigin::signed(P2), 0),
				Error::<Test>::NotAssignee
			);
			assert_noop!(
				Compute::fail_job(RuntimeOrigin::signed(P1), 5),
				Error::<Test>::UnknownJob
			);
			assert_ok!(Compute::fail_job(RuntimeOrigin::signed(P1), 0));
			let p1 = Providers::<Test>::get(P1).unwrap();
			assert_eq!((p1.bond, p1.jobs, p1.reliability.failed), (MIN_BOND, 0, 1));
			assert_eq!(job(0).status.provider(), &P2);
			System::assert_has_event(Event::JobFailed { job: 0, provider: P1 }.into());
			// The old deadline no longer applies.
			assert_eq!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW).to_vec(), vec![0]);
			assert_eq!(job(0).status.until(), 1 + ACCEPT_WINDOW);
		});
	}
}

/// Missed deadlines: slashes, reassignment, abandonment.
mod timeouts {
	use super::*;

	#[test]
	fn an_accept_timeout_slashes_and_reassigns() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			register(P2);
			assert_ok!(create(JOB_FEE));
			run_to(ACCEPT_WINDOW);
			assert_eq!(job(0).status.provider(), &P1);
			let treasury = Balances::balance(&TREASURY);
			run_to(1 + ACCEPT_WINDOW);
			let slash = MIN_BOND / 10;
			assert_eq!(Balances::balance(&TREASURY), treasury + slash);
			assert_eq!(held(HoldReason::ProviderBond, P1), MIN_BOND - slash);
			let p1 = Providers::<Test>::get(P1).unwrap();
			assert_eq!(p1.reliability, Reliability { completed: 0, failed: 0, timed_out: 1 });
			assert_eq!(p1.reliability.score(), 0);
			// Below the minimum bond now, P1 is paused.
			assert_eq!(p1.status, ProviderStatus::Paused);
			assert_eq!(listed(JobKind::Inference), vec![P2]);
			let until = 1 + 2 * ACCEPT_WINDOW;
			let result_by = until + DURATION;
			assert_eq!(
				job(0).status,
				JobStatus::Assigned { provider: P2, price: JOB_PRICE, until, result_by }
			);
			// P1's reserved result deadline went with its assignment.
			assert!(Deadlines::<Test>::get(1 + ACCEPT_WINDOW + DURATION).is_empty());
			assert_eq!(job(0).tried.to_vec(), vec![P1, P2]);
			assert_eq!(held(HoldReason::JobEscrow, escrow()), JOB_FEE);
			System::assert_has_event(
				Event::ProviderSlashed {
					provider: P1,
					job: 0,
					amount: slash,
					bond: MIN_BOND - slash,
				}
				.into(),
			);
			System::assert_has_event(Event::JobTimedOut { job: 0, provider: P1 }.into());
			// P1 tops up and resumes.
			assert_noop!(Compute::resume(RuntimeOrigin::signed(P1)), Error::<Test>::BondTooLow);
			assert_ok!(Compute::bond_extra(RuntimeOrigin::signed(P1), slash));
			assert_ok!(Compute::resume(RuntimeOrigin::signed(P1)));
		});
	}

	#[test]
	fn a_job_out_of_attempts_is_abandoned_and_refunded() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			register(P2);
			register(P3);
			let before = Balances::balance(&USER);
			let id = <Compute as JobMarket<_, _, _>>::create(
				&USER,
				JobKind::ContributionValidation,
				vec![7],
				FEE,
				DURATION,
			)
			.unwrap()
			.job
			.unwrap();
			// P1 accepts and then misses the completion deadline, which pauses it (its bond fell
			// below the minimum) and so shifts the list to [P2, P3]: the cursor (1) now points at
			// P3, which gets the job and misses accepting it.
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), id));
			run_to(1 + ACCEPT_WINDOW + DURATION);
			assert_eq!(job(id).status.provider(), &P3);
			run_to(1 + ACCEPT_WINDOW + DURATION + ACCEPT_WINDOW);
			// MaxAttempts is 2: P2 is not tried.
			assert!(Jobs::<Test>::get(id).is_none());
			assert_eq!(Balances::balance(&USER), before);
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 0);
			assert_eq!(received(), vec![(id, None)]);
			System::assert_last_event(
				Event::JobAbandoned {
					job: id,
					reason: AbandonReason::AttemptsExhausted,
					refunded: FEE,
				}
				.into(),
			);
			assert_eq!(Providers::<Test>::get(P2).unwrap().jobs, 0);
		});
	}

	#[test]
	fn a_job_with_no_other_provider_is_abandoned() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			run_to(1 + ACCEPT_WINDOW);
			assert!(Jobs::<Test>::get(0).is_none());
			System::assert_last_event(
				Event::JobAbandoned {
					job: 0,
					reason: AbandonReason::NoProvider,
					refunded: JOB_FEE,
				}
				.into(),
			);
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 0);
		});
	}
}

/// Stored records: their shape, reliability scores, and the invariants.
mod records {
	use super::*;

	#[test]
	fn jobs_keep_their_shape() {
		// The provider daemon decodes these records; this pins the field order.
		let j: Job<u64, u64, u64, Vec<u8>, Vec<u64>> = Job {
			kind: JobKind::ContributionValidation,
			owner: 1,
			requester: Requester::Runtime,
			payload: vec![],
			requirements: Hardware { cpu_cores: 7, memory_mib: 8, gpus: 9, gpu_memory_mib: 10 },
			fee: 2,
			duration: 3,
			created_at: 4,
			status: JobStatus::Assigned { provider: 5, price: 1, until: 6, result_by: 7 },
			tried: vec![5],
		};
		use codec::{Decode, Encode};
		let u64le = |n: u8| [n, 0, 0, 0, 0, 0, 0, 0];
		let u32le = |n: u8| [n, 0, 0, 0];
		let mut expected = vec![0u8]; // kind: ContributionValidation
		expected.extend(u64le(1)); // owner
		expected.push(1); // requester: Runtime
		expected.push(0); // payload: no bytes
		for n in [7, 8, 9, 10] {
			expected.extend(u32le(n)); // requirements
		}
		expected.extend(u64le(2)); // fee
		expected.extend(u64le(3)); // duration
		expected.extend(u64le(4)); // created_at
		expected.push(0); // status: Assigned
		expected.extend(u64le(5)); // provider
		expected.extend(u64le(1)); // price
		expected.extend(u64le(6)); // until
		expected.extend(u64le(7)); // result_by
		expected.push(4); // tried: one entry
		expected.extend(u64le(5));
		assert_eq!(j.encode(), expected);
		assert_eq!(Job::decode(&mut &expected[..]).unwrap(), j);
	}

	#[test]
	fn reliability_score_is_the_completed_share() {
		assert_eq!(Reliability::default().score(), 1_000_000);
		assert_eq!(Reliability { completed: 3, failed: 1, timed_out: 0 }.score(), 750_000);
	}

	#[test]
	fn try_state_catches_a_missing_escrow() {
		ExtBuilder::default().build().execute_with(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			Jobs::<Test>::mutate(0, |j| j.as_mut().unwrap().fee += 1);
			assert!(Compute::do_try_state().is_err());
		});
	}
}

/// Attacks on the job market, one test each: what an adversary tries, and that it fails.
mod attacks {
	use super::*;
	use frame_support::traits::{LockableCurrency, WithdrawReasons};

	const LOCK: [u8; 8] = *b"vesting ";

	/// Locks `amount` of `who`'s OPEN for every use, as vesting or a conviction vote does.
	fn lock(who: AccountId, amount: Balance) {
		<Balances as LockableCurrency<_>>::set_lock(LOCK, &who, amount, WithdrawReasons::all());
	}

	/// A provider offering training at `price` with `hardware`, as many jobs at once as asked.
	fn register_with(who: AccountId, price: Balance, hardware: Hardware, concurrency: u32) {
		let input = crate::ProviderInput {
			hardware,
			concurrency,
			offers: vec![Offer { kind: JobKind::Inference, price }],
			..input()
		};
		assert_ok!(Compute::register(RuntimeOrigin::signed(who), input, MIN_BOND));
	}

	/// Filling a kind's list to lock honest providers out costs more with every slot taken.
	#[test]
	fn filling_a_kinds_list_costs_more_with_every_slot() {
		ExtBuilder::default().build_and_execute(|| {
			ListingFee::set(10);
			let treasury = Balances::balance(&TREASURY);
			// The list holds 4: every slot is two eighths of it, so each costs 4x the one before.
			let mut paid = vec![];
			for p in [1, 2, 3, 4] {
				let before = Balances::balance(&p);
				register_with(p, PRICE, Hardware::default(), 1);
				paid.push(before - Balances::balance(&p) - MIN_BOND);
			}
			assert_eq!(paid, vec![10, 40, 160, 640]);
			assert_eq!(Balances::balance(&TREASURY), treasury + 850);
			System::assert_has_event(
				Event::Listed { provider: 4, kind: JobKind::Inference, fee: 640 }.into(),
			);
		});
	}

	/// A provider that changes its price keeps its slot, its place and pays nothing again.
	#[test]
	fn keeping_a_slot_through_an_update_costs_nothing() {
		ExtBuilder::default().build_and_execute(|| {
			ListingFee::set(10);
			register_with(P1, PRICE, Hardware::default(), 1);
			register_with(P2, PRICE, Hardware::default(), 1);
			let before = Balances::balance(&P1);
			let cheaper = crate::ProviderInput {
				offers: vec![Offer { kind: JobKind::Inference, price: PRICE - 1 }],
				..input()
			};
			assert_ok!(Compute::update(RuntimeOrigin::signed(P1), cheaper));
			assert_eq!(Balances::balance(&P1), before);
			let list = ProvidersByKind::<Test>::get(JobKind::Inference);
			let first = list.first().unwrap();
			assert_eq!((first.provider, first.price), (P1, PRICE - 1));
			// A kind added is paid for; a kind dropped frees its slot.
			assert_ok!(Compute::update(RuntimeOrigin::signed(P1), input()));
			assert_eq!(Balances::balance(&P1), before - 10);
			assert_eq!(listed(JobKind::ContributionValidation), vec![P1]);
		});
	}

	/// Without the free balance for the listing fee, nothing is listed and the bond stays free.
	#[test]
	fn a_provider_that_cannot_pay_its_slot_is_not_registered() {
		ExtBuilder::default().build_and_execute(|| {
			ListingFee::set(Balances::balance(&P1));
			assert_noop!(
				Compute::register(RuntimeOrigin::signed(P1), input(), MIN_BOND),
				sp_runtime::TokenError::FundsUnavailable
			);
		});
	}

	#[test]
	fn locked_funds_cannot_pay_ones_own_provider() {
		ExtBuilder::default().build_and_execute(|| {
			// USER's OPEN is all locked (vesting, or a conviction vote); USER runs its own provider.
			register_with(P1, JOB_FEE, Hardware::default(), 1);
			let locked = Balances::balance(&USER);
			lock(USER, locked);
			let (user, provider) = (Balances::total_balance(&USER), Balances::balance(&P1));

			assert_noop!(create(JOB_FEE), sp_runtime::TokenError::FundsUnavailable);

			assert_eq!(Balances::total_balance(&USER), user);
			assert_eq!(Balances::balance(&P1), provider);
			assert!(Jobs::<Test>::get(0).is_none());
		});
	}

	#[test]
	fn only_the_unlocked_part_of_a_balance_pays_a_job() {
		ExtBuilder::default().build_and_execute(|| {
			register_with(P1, PRICE, Hardware::default(), 2);
			let free = Balances::balance(&USER);
			// All but 99 is locked: a fee of 100 is refused, a fee of 90 is paid.
			lock(USER, free - 99);
			assert_noop!(create(100), sp_runtime::TokenError::FundsUnavailable);
			assert_ok!(create(90));
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 90);
			assert_eq!(Balances::total_balance(&USER), free - 90);
		});
	}

	#[test]
	fn a_lock_taken_after_the_job_cannot_withhold_the_providers_pay() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			assert_ok!(create(JOB_FEE));
			// The owner now locks everything it has, escrowed fee included if it could.
			let total = Balances::total_balance(&USER) + JOB_FEE;
			lock(USER, total);
			let (user, provider) = (Balances::total_balance(&USER), Balances::balance(&P1));
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), 0));
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P1), 0, vec![1]));
			assert_eq!(Balances::balance(&P1), provider + JOB_PRICE);
			assert_eq!(Balances::total_balance(&USER), user + JOB_FEE - JOB_PRICE);
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 0);
		});
	}

	#[test]
	fn unassignable_providers_parked_after_the_cursor_cannot_starve_a_kind() {
		ExtBuilder::default().build_and_execute(|| {
			// MaxScan is 3: three providers that no ordinary job can use sit right after the
			// cursor (two asking the most a balance can hold, one demanding a GPU machine of
			// every job by claiming one nobody needs), an honest one behind them.
			let huge = Hardware { gpus: u32::MAX, gpu_memory_mib: u32::MAX, ..Default::default() };
			register_with(P1, Balance::MAX, Hardware::default(), 1);
			register_with(P2, Balance::MAX, Hardware::default(), 1);
			register_with(P3, Balance::MAX, huge, 1);
			register_with(4, PRICE, Hardware::default(), 1);
			assert_eq!(listed(JobKind::Inference), vec![P1, P2, P3, 4]);
			for _ in 0..3 {
				assert_eq!(crate::AssignmentCursor::<Test>::get(JobKind::Inference), 0);
				assert_ok!(create(JOB_FEE));
				let id = crate::NextJobId::<Test>::get() - 1;
				assert_eq!(job(id).status.provider(), &4);
				// The honest provider completes it and the next job starts from the cursor again.
				assert_ok!(Compute::accept_job(RuntimeOrigin::signed(4), id));
				assert_ok!(Compute::submit_result(RuntimeOrigin::signed(4), id, vec![1]));
			}
		});
	}

	#[test]
	fn full_deadline_buckets_make_a_runtime_job_unavailable_and_leave_nothing_behind() {
		ExtBuilder::default().build_and_execute(|| {
			register(P1);
			// Someone filled the accept deadlines of every block a new job could slip to.
			let first = System::block_number() + ACCEPT_WINDOW;
			for block in first..=first + crate::DEADLINE_SLIP as u64 {
				Deadlines::<Test>::insert(
					block,
					frame_support::BoundedVec::truncate_from(vec![
						u64::MAX;
						MAX_DEADLINES as usize
					]),
				);
			}
			let (user, next) = (Balances::total_balance(&USER), crate::NextJobId::<Test>::get());
			assert_noop!(create(JOB_FEE), Error::<Test>::Congested);
			let created = <Compute as JobMarket<_, _, _>>::create(
				&USER,
				JobKind::ContributionValidation,
				vec![],
				FEE,
				DURATION,
			);
			// Charged the worst case: it gave up after skipping every bucket.
			let weight = <Compute as JobMarket<AccountId, Balance, u64>>::create_weight();
			assert_eq!(created, Ok(crate::Creation { job: None, weight }));
			assert_eq!(Balances::total_balance(&USER), user);
			assert_eq!(held(HoldReason::JobEscrow, escrow()), 0);
			assert_eq!(crate::NextJobId::<Test>::get(), next);
			assert_eq!(Providers::<Test>::get(P1).unwrap().jobs, 0);
			assert_eq!(crate::OpenJobCount::<Test>::get(USER), 0);
			// The dummy entries are not jobs; clear them for the invariants.
			for block in first..=first + crate::DEADLINE_SLIP as u64 {
				Deadlines::<Test>::remove(block);
			}
		});
	}

	#[test]
	fn one_outage_costs_a_provider_one_slash_not_its_whole_bond() {
		ExtBuilder::default().build_and_execute(|| {
			register_with(P1, PRICE, Hardware::default(), 3);
			for owner in [USER, 4, 5] {
				assert_ok!(Compute::create_job(
					RuntimeOrigin::signed(owner),
					JobKind::Inference,
					vec![],
					Hardware::default(),
					FEE,
					DURATION
				));
			}
			for job in 0..3 {
				assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), job));
			}
			// The provider goes down: all three results are missed in the same block.
			run_to(1 + ACCEPT_WINDOW + DURATION);
			let slashes =
				|| events().iter().filter(|e| matches!(e, Event::ProviderSlashed { .. })).count();
			assert_eq!(slashes(), 1);
			let provider = Providers::<Test>::get(P1).unwrap();
			assert_eq!(provider.bond, MIN_BOND - MIN_BOND / 10);
			assert_eq!(provider.reliability.timed_out, 3);
			assert_eq!(provider.status, ProviderStatus::Paused);
			assert_eq!(held(HoldReason::ProviderBond, P1), MIN_BOND - MIN_BOND / 10);
			// After the cool-down, a new miss costs a new slash.
			assert_ok!(Compute::bond_extra(RuntimeOrigin::signed(P1), MIN_BOND));
			assert_ok!(Compute::resume(RuntimeOrigin::signed(P1)));
			run_to(1 + ACCEPT_WINDOW + DURATION + SLASH_COOLDOWN);
			assert_ok!(create(JOB_FEE));
			let id = crate::NextJobId::<Test>::get() - 1;
			run_to(job(id).status.until());
			assert_eq!(slashes(), 2);
		});
	}

	#[test]
	fn jobs_below_the_minimum_fee_are_refused() {
		ExtBuilder::default().build_and_execute(|| {
			register_with(P1, 0, Hardware::default(), 1);
			assert_noop!(create(0), Error::<Test>::FeeTooLow);
			assert_noop!(create(MIN_FEE - 1), Error::<Test>::FeeTooLow);
			assert_ok!(create(MIN_FEE));
		});
	}

	#[test]
	fn a_training_job_created_by_an_account_is_refused() {
		// A training job's payload is the model registry's: only it reserves the datanets'
		// access fees and checks the hyperparameters that providers allocate by.
		ExtBuilder::default().build_and_execute(|| {
			let training = crate::ProviderInput {
				offers: vec![Offer { kind: JobKind::Training, price: 0 }],
				..input()
			};
			assert_ok!(Compute::register(RuntimeOrigin::signed(P1), training, MIN_BOND));
			let crafted = vec![0xff; 32];
			assert_noop!(
				Compute::create_job(
					RuntimeOrigin::signed(USER),
					JobKind::Training,
					crafted.clone(),
					Hardware::default(),
					JOB_FEE,
					DURATION
				),
				Error::<Test>::KindNotPublic
			);
			// The model registry still can.
			let created = <Compute as JobMarket<_, _, _>>::create(
				&USER,
				JobKind::Training,
				crafted,
				JOB_FEE,
				DURATION,
			)
			.unwrap();
			assert_eq!(job(created.job.unwrap()).requester, Requester::Runtime);
		});
	}

	#[test]
	fn public_jobs_to_ones_own_provider_cannot_take_the_deadlines_runtime_jobs_need() {
		ExtBuilder::default().build_and_execute(|| {
			// Half of each bucket is open to the jobs accounts create.
			MaxPublicDeadlines::set(MAX_DEADLINES / 2);
			register(P1);
			// The attacker's own free provider, with hardware only it declares.
			let rare = Hardware { gpus: 7, gpu_memory_mib: 7, ..Default::default() };
			register_with(P2, 0, rare, 1_000);
			let attackers = 20..(20 + 2 * (crate::DEADLINE_SLIP as u64 + 1));
			let mut public = 0;
			for attacker in attackers {
				let _ = <Balances as frame_support::traits::fungible::Mutate<_>>::mint_into(
					&attacker, 1_000,
				);
				while Compute::create_job(
					RuntimeOrigin::signed(attacker),
					JobKind::Inference,
					vec![],
					rare,
					MIN_FEE,
					DURATION,
				)
				.is_ok()
				{
					public += 1;
				}
			}
			// Every bucket a job created now could use holds its public share and no more.
			assert!(public > 0);
			let first = System::block_number() + ACCEPT_WINDOW;
			for block in first..=first + crate::DEADLINE_SLIP as u64 {
				assert_eq!(Deadlines::<Test>::get(block).len() as u32, MAX_DEADLINES / 2);
			}
			assert_noop!(
				Compute::create_job(
					RuntimeOrigin::signed(USER),
					JobKind::Inference,
					vec![],
					rare,
					MIN_FEE,
					DURATION
				),
				Error::<Test>::Congested
			);
			// A contribution's validation still finds room.
			let created = <Compute as JobMarket<_, _, _>>::create(
				&USER,
				JobKind::ContributionValidation,
				vec![],
				FEE,
				DURATION,
			)
			.unwrap();
			let id = created.job.expect("the runtime's job is assigned");
			assert_eq!(job(id).status.provider(), &P1);
			assert!(Deadlines::<Test>::get(first).contains(&id));
		});
	}

	#[test]
	fn one_account_cannot_fill_the_deadline_buckets_with_jobs_to_its_own_provider() {
		ExtBuilder::default().build_and_execute(|| {
			// A free provider of USER's own, taking any number of jobs at once.
			register_with(P1, 0, Hardware::default(), 1_000);
			for _ in 0..MAX_OPEN_JOBS {
				assert_ok!(create(MIN_FEE));
			}
			assert_noop!(create(MIN_FEE), Error::<Test>::TooManyOpenJobs);
			assert_eq!(crate::OpenJobCount::<Test>::get(USER), MAX_OPEN_JOBS);
			// Another account is not affected, and an ended job frees a slot.
			assert_ok!(Compute::create_job(
				RuntimeOrigin::signed(5),
				JobKind::Inference,
				vec![],
				Hardware::default(),
				MIN_FEE,
				DURATION
			));
			assert_ok!(Compute::accept_job(RuntimeOrigin::signed(P1), 0));
			assert_ok!(Compute::submit_result(RuntimeOrigin::signed(P1), 0, vec![1]));
			assert_ok!(create(MIN_FEE));
		});
	}
}
