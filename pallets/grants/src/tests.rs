//! Every call's success and every refusal, with the pallet's invariants checked after each test.

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::H256;
use sp_runtime::{DispatchError, TokenError};

const DOC: H256 = H256::repeat_byte(0xd0);
const WORK: H256 = H256::repeat_byte(0x0a);

fn submit(
	who: AccountId,
	tier: Tier,
	milestones: Vec<MilestoneInput<Balance, u64>>,
) -> ApplicationId {
	let id = NextApplicationId::<Test>::get();
	assert_ok!(Grants::submit(
		RuntimeOrigin::signed(who),
		tier,
		b"Datanet explorer".to_vec(),
		DOC,
		milestones
	));
	id
}

/// Alice's approved Exploration grant of 30,000 in two milestones.
fn approved() -> ApplicationId {
	let id = submit(ALICE, Tier::Exploration, exploration());
	assert_ok!(Grants::approve(RuntimeOrigin::signed(EXPLORATION_TRACK), id));
	id
}

fn earmarked() -> Balance {
	Balances::balance_on_hold(&HoldReason::Earmarked.into(), &POT)
}

fn deposit_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ApplicationDeposit.into(), &who)
}

fn status(id: ApplicationId, milestone: usize) -> MilestoneStatus<u64> {
	Applications::<Test>::get(id).unwrap().milestones[milestone].status
}

/// `submit`: the deposit by size, and each refusal.
mod submit {
	use super::*;

	#[test]
	fn submit_holds_a_deposit_by_size_and_records_the_application() {
		ExtBuilder::default().build_and_execute(|| {
			let id = submit(ALICE, Tier::Exploration, exploration());
			let info = Applications::<Test>::get(id).unwrap();
			let bytes = (info.title.encoded_size() + info.milestones.encoded_size()) as Balance;
			assert_eq!(info.deposit, BASE + PER_BYTE * bytes);
			assert_eq!(deposit_held(ALICE), info.deposit);
			assert_eq!(info.amount, 30_000);
			assert_eq!(info.paid, 0);
			assert_eq!(info.status, ApplicationStatus::Submitted);
			assert_eq!(info.milestones.len(), 2);
			System::assert_last_event(
				Event::Submitted {
					application: id,
					applicant: ALICE,
					tier: Tier::Exploration,
					amount: 30_000,
					deposit: info.deposit,
				}
				.into(),
			);
			assert_eq!(NextApplicationId::<Test>::get(), id + 1);
		});
	}

	#[test]
	fn submit_refuses_bad_input() {
		ExtBuilder::default().build_and_execute(|| {
			let who = RuntimeOrigin::signed(ALICE);
			let sub = |title: Vec<u8>, tier, ms| Grants::submit(who.clone(), tier, title, DOC, ms);
			let title = || b"ok".to_vec();
			assert_noop!(sub(vec![], Tier::Exploration, exploration()), Error::<Test>::EmptyTitle);
			assert_noop!(
				sub(vec![b'x'; 33], Tier::Exploration, exploration()),
				Error::<Test>::TitleTooLong
			);
			assert_noop!(sub(title(), Tier::Exploration, vec![]), Error::<Test>::NoMilestones);
			assert_noop!(
				sub(title(), Tier::Exploration, vec![milestone(6_000, 10); 5]),
				Error::<Test>::TooManyMilestones
			);
			assert_noop!(
				sub(title(), Tier::Exploration, vec![milestone(30_000, 10), milestone(0, 10)]),
				Error::<Test>::ZeroMilestone
			);
			let mut empty = milestone(30_000, 10);
			empty.description = vec![];
			assert_noop!(
				sub(title(), Tier::Exploration, vec![empty]),
				Error::<Test>::BadMilestoneDescription
			);
			let mut long = milestone(30_000, 10);
			long.description = vec![b'd'; 65];
			assert_noop!(
				sub(title(), Tier::Exploration, vec![long]),
				Error::<Test>::BadMilestoneDescription
			);
			assert_noop!(
				sub(title(), Tier::Exploration, vec![milestone(30_000, 1)]),
				Error::<Test>::DueInPast
			);
			assert_noop!(
				sub(title(), Tier::Exploration, vec![milestone(24_999, 10)]),
				Error::<Test>::BelowTierMinimum
			);
			assert_noop!(
				sub(title(), Tier::Exploration, vec![milestone(50_001, 10)]),
				Error::<Test>::AboveTierCap
			);
			assert_noop!(
				sub(title(), Tier::Building, vec![milestone(100_000, 10), milestone(50_001, 10)]),
				Error::<Test>::AboveTierCap
			);
			assert_noop!(
				sub(title(), Tier::Expansion, vec![milestone(u64::MAX, 10), milestone(1, 10)]),
				Error::<Test>::Overflow
			);
			assert_noop!(
				Grants::submit(
					RuntimeOrigin::signed(POOR),
					Tier::Exploration,
					title(),
					DOC,
					exploration()
				),
				TokenError::FundsUnavailable
			);
			assert_noop!(
				Grants::submit(
					RuntimeOrigin::root(),
					Tier::Exploration,
					title(),
					DOC,
					exploration()
				),
				DispatchError::BadOrigin
			);
		});
	}
}

/// `approve`: the earmark, the tier caps, and each refusal.
mod approve {
	use super::*;

	#[test]
	fn approve_earmarks_the_amount_in_the_pot() {
		ExtBuilder::default().build_and_execute(|| {
			let id = submit(ALICE, Tier::Exploration, exploration());
			let pot_before = Balances::total_balance(&POT);
			assert_ok!(Grants::approve(RuntimeOrigin::signed(EXPLORATION_TRACK), id));
			assert_eq!(earmarked(), 30_000);
			assert_eq!(Balances::total_balance(&POT), pot_before);
			assert_eq!(Balances::balance(&POT), POT_FUNDS - 30_000);
			assert_eq!(
				Applications::<Test>::get(id).unwrap().status,
				ApplicationStatus::Approved { at: 1 }
			);
			System::assert_last_event(Event::Approved { application: id, amount: 30_000 }.into());
			assert_eq!(
				Grants::pot_funds(),
				PotFunds { free: POT_FUNDS - 30_000, earmarked: 30_000 }
			);
		});
	}

	#[test]
	fn approve_is_bounded_by_the_origins_tier() {
		ExtBuilder::default().build_and_execute(|| {
			let building = submit(ALICE, Tier::Building, vec![milestone(100_000, 10)]);
			assert_noop!(
				Grants::approve(RuntimeOrigin::signed(EXPLORATION_TRACK), building),
				Error::<Test>::TierNotAllowed
			);
			assert_noop!(
				Grants::approve(RuntimeOrigin::signed(ALICE), building),
				DispatchError::BadOrigin
			);
			// A higher track may approve a lower tier, but never above its own cap.
			assert_ok!(Grants::approve(RuntimeOrigin::signed(BUILDING_TRACK), building));
			let exploration = submit(BOB, Tier::Exploration, exploration());
			Ranges::set(&TierRanges {
				exploration: Range { min: 1_000, max: 20_000 },
				..Ranges::get()
			});
			assert_noop!(
				Grants::approve(RuntimeOrigin::signed(EXPLORATION_TRACK), exploration),
				Error::<Test>::AboveTierCap
			);
			assert_ok!(Grants::approve(RuntimeOrigin::root(), exploration));
		});
	}

	#[test]
	fn approve_refuses_unknown_approved_and_unfunded() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Grants::approve(RuntimeOrigin::root(), 7),
				Error::<Test>::UnknownApplication
			);
			let id = approved();
			assert_noop!(
				Grants::approve(RuntimeOrigin::root(), id),
				Error::<Test>::AlreadyApproved
			);
			// The pot has 2,000,000 of which 30,000 are earmarked: three Expansion grants of 500,000
			// fit, the fourth does not.
			for _ in 0..3 {
				let big = submit(BOB, Tier::Expansion, vec![milestone(500_000, 10)]);
				assert_ok!(Grants::approve(RuntimeOrigin::root(), big));
			}
			let big = submit(BOB, Tier::Expansion, vec![milestone(500_000, 10)]);
			assert_noop!(
				Grants::approve(RuntimeOrigin::root(), big),
				Error::<Test>::InsufficientPot
			);
			assert_eq!(earmarked(), 1_530_000);
		});
	}
}

/// `reject`.
mod reject {
	use super::*;

	#[test]
	fn reject_sends_the_deposit_to_the_pot() {
		ExtBuilder::default().build_and_execute(|| {
			let id = submit(ALICE, Tier::Exploration, exploration());
			let deposit = deposit_held(ALICE);
			let alice = Balances::total_balance(&ALICE);
			assert_noop!(
				Grants::reject(RuntimeOrigin::signed(ALICE), id),
				DispatchError::BadOrigin
			);
			assert_ok!(Grants::reject(RuntimeOrigin::signed(EXPLORATION_TRACK), id));
			assert_eq!(Balances::total_balance(&ALICE), alice - deposit);
			assert_eq!(Balances::balance(&POT), POT_FUNDS + deposit);
			assert!(Applications::<Test>::get(id).is_none());
			System::assert_last_event(Event::Rejected { application: id, deposit }.into());
			assert_noop!(
				Grants::reject(RuntimeOrigin::root(), id),
				Error::<Test>::UnknownApplication
			);
		});
	}

	#[test]
	fn reject_refuses_approved_and_higher_tiers() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			assert_noop!(Grants::reject(RuntimeOrigin::root(), id), Error::<Test>::AlreadyApproved);
			let building = submit(BOB, Tier::Building, vec![milestone(60_000, 10)]);
			assert_noop!(
				Grants::reject(RuntimeOrigin::signed(EXPLORATION_TRACK), building),
				Error::<Test>::TierNotAllowed
			);
		});
	}
}

/// `withdraw`.
mod withdraw {
	use super::*;

	#[test]
	fn withdraw_before_approval_returns_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let id = submit(ALICE, Tier::Exploration, exploration());
			assert_noop!(
				Grants::withdraw(RuntimeOrigin::signed(BOB), id),
				Error::<Test>::NotApplicant
			);
			assert_ok!(Grants::withdraw(RuntimeOrigin::signed(ALICE), id));
			assert_eq!(deposit_held(ALICE), 0);
			assert_eq!(Balances::balance(&ALICE), 1_000_000);
			System::assert_last_event(Event::Withdrawn { application: id, returned: 0 }.into());
			assert_noop!(
				Grants::withdraw(RuntimeOrigin::signed(ALICE), id),
				Error::<Test>::UnknownApplication
			);
		});
	}

	#[test]
	fn withdraw_after_a_payout_returns_the_unpaid_rest_to_the_pot() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 0));
			assert_ok!(Grants::withdraw(RuntimeOrigin::signed(ALICE), id));
			assert_eq!(earmarked(), 0);
			assert_eq!(Balances::balance(&POT), POT_FUNDS - 10_000);
			assert_eq!(Balances::balance(&ALICE), 1_000_000 + 10_000);
			System::assert_last_event(
				Event::Withdrawn { application: id, returned: 20_000 }.into(),
			);
		});
	}
}

/// `cancel`.
mod cancel {
	use super::*;

	#[test]
	fn cancel_returns_the_earmark_and_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let submitted = submit(BOB, Tier::Exploration, exploration());
			assert_noop!(
				Grants::cancel(RuntimeOrigin::root(), submitted),
				Error::<Test>::NotApproved
			);
			let id = approved();
			assert_noop!(
				Grants::cancel(RuntimeOrigin::signed(ALICE), id),
				DispatchError::BadOrigin
			);
			assert_ok!(Grants::cancel(RuntimeOrigin::signed(EXPLORATION_TRACK), id));
			assert_eq!(earmarked(), 0);
			assert_eq!(deposit_held(ALICE), 0);
			assert_eq!(Balances::balance(&ALICE), 1_000_000);
			assert_eq!(Balances::balance(&POT), POT_FUNDS);
			System::assert_last_event(
				Event::Cancelled { application: id, returned: 30_000 }.into(),
			);
			let building = submit(BOB, Tier::Building, vec![milestone(60_000, 10)]);
			assert_ok!(Grants::approve(RuntimeOrigin::root(), building));
			assert_noop!(
				Grants::cancel(RuntimeOrigin::signed(EXPLORATION_TRACK), building),
				Error::<Test>::TierNotAllowed
			);
		});
	}
}

/// `submit_milestone`, `accept_milestone` and `reject_milestone`: payouts one by one.
mod milestones {
	use super::*;

	#[test]
	fn milestones_are_paid_one_by_one_and_the_last_completes_the_grant() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			let deposit = deposit_held(ALICE);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 1, WORK));
			assert_eq!(status(id, 1), MilestoneStatus::Submitted { deliverable: WORK, at: 1 });
			System::assert_last_event(
				Event::MilestoneSubmitted { application: id, milestone: 1, deliverable: WORK }
					.into(),
			);
			System::set_block_number(5);
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::signed(EXPLORATION_TRACK), id, 1));
			assert_eq!(status(id, 1), MilestoneStatus::Paid { deliverable: WORK, at: 5 });
			assert_eq!(Balances::balance(&ALICE), 1_000_000 - deposit + 20_000);
			assert_eq!(earmarked(), 10_000);
			assert_eq!(Applications::<Test>::get(id).unwrap().paid, 20_000);
			System::assert_last_event(
				Event::MilestonePaid {
					application: id,
					milestone: 1,
					grantee: ALICE,
					amount: 20_000,
				}
				.into(),
			);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 0));
			assert!(Applications::<Test>::get(id).is_none());
			assert_eq!(Balances::balance(&ALICE), 1_000_000 + 30_000);
			assert_eq!(Balances::total_balance(&POT), POT_FUNDS - 30_000);
			assert_eq!(earmarked(), 0);
			assert_eq!(deposit_held(ALICE), 0);
			System::assert_last_event(Event::Completed { application: id, paid: 30_000 }.into());
		});
	}

	#[test]
	fn submit_milestone_refusals() {
		ExtBuilder::default().build_and_execute(|| {
			let submitted = submit(BOB, Tier::Exploration, exploration());
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(BOB), submitted, 0, WORK),
				Error::<Test>::NotApproved
			);
			let id = approved();
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(BOB), id, 0, WORK),
				Error::<Test>::NotGrantee
			);
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 2, WORK),
				Error::<Test>::UnknownMilestone
			);
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(ALICE), 9, 0, WORK),
				Error::<Test>::UnknownApplication
			);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK),
				Error::<Test>::MilestoneAlreadySubmitted
			);
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 0));
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK),
				Error::<Test>::MilestoneAlreadyPaid
			);
			System::set_block_number(201);
			assert_noop!(
				Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 1, WORK),
				Error::<Test>::MilestoneOverdue
			);
		});
	}

	#[test]
	fn accept_milestone_refusals() {
		ExtBuilder::default().build_and_execute(|| {
			let submitted = submit(BOB, Tier::Exploration, exploration());
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::root(), submitted, 0),
				Error::<Test>::NotApproved
			);
			let id = approved();
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::signed(ALICE), id, 0),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::root(), id, 0),
				Error::<Test>::MilestoneNotSubmitted
			);
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::root(), id, 5),
				Error::<Test>::UnknownMilestone
			);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 0));
			// Paying the same milestone twice would pay beyond its amount.
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::root(), id, 0),
				Error::<Test>::MilestoneAlreadyPaid
			);
			let building = submit(BOB, Tier::Building, vec![milestone(60_000, 10)]);
			assert_ok!(Grants::approve(RuntimeOrigin::root(), building));
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(BOB), building, 0, WORK));
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::signed(EXPLORATION_TRACK), building, 0),
				Error::<Test>::TierNotAllowed
			);
		});
	}

	#[test]
	fn a_payout_beyond_the_approved_amount_is_refused() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			// A record whose paid part already covers its amount (which the calls never produce)
			// pays nothing more.
			Applications::<Test>::mutate(id, |a| a.as_mut().unwrap().paid = 25_000);
			assert_noop!(
				Grants::accept_milestone(RuntimeOrigin::root(), id, 0),
				Error::<Test>::PayoutExceedsApproved
			);
			Applications::<Test>::mutate(id, |a| a.as_mut().unwrap().paid = 0);
		});
	}

	#[test]
	fn a_rejected_milestone_can_be_submitted_again_before_its_due_block() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			assert_noop!(
				Grants::reject_milestone(RuntimeOrigin::root(), id, 0, RejectReason::Incomplete),
				Error::<Test>::MilestoneNotSubmitted
			);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_noop!(
				Grants::reject_milestone(
					RuntimeOrigin::signed(BOB),
					id,
					0,
					RejectReason::Incomplete
				),
				DispatchError::BadOrigin
			);
			assert_ok!(Grants::reject_milestone(
				RuntimeOrigin::signed(EXPLORATION_TRACK),
				id,
				0,
				RejectReason::Other(7)
			));
			assert_eq!(
				status(id, 0),
				MilestoneStatus::Rejected { deliverable: WORK, reason: RejectReason::Other(7) }
			);
			System::assert_last_event(
				Event::MilestoneRejected {
					application: id,
					milestone: 0,
					reason: RejectReason::Other(7),
				}
				.into(),
			);
			let fixed = H256::repeat_byte(0x0b);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, fixed));
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 0));
			assert_eq!(status(id, 0), MilestoneStatus::Paid { deliverable: fixed, at: 1 });
			assert_noop!(
				Grants::reject_milestone(RuntimeOrigin::root(), 9, 0, RejectReason::Incomplete),
				Error::<Test>::UnknownApplication
			);
			assert_noop!(
				Grants::reject_milestone(RuntimeOrigin::root(), id, 4, RejectReason::Incomplete),
				Error::<Test>::UnknownMilestone
			);
		});
	}
}

/// `expire`.
mod expire {
	use super::*;

	#[test]
	fn an_overdue_milestone_lets_anyone_expire_the_grant() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 0));
			assert_noop!(Grants::expire(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotExpired);
			System::set_block_number(200);
			assert_noop!(Grants::expire(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotExpired);
			System::set_block_number(201);
			assert_noop!(Grants::expire(RuntimeOrigin::root(), id), DispatchError::BadOrigin);
			assert_ok!(Grants::expire(RuntimeOrigin::signed(BOB), id));
			assert_eq!(earmarked(), 0);
			assert_eq!(Balances::balance(&POT), POT_FUNDS - 10_000);
			assert_eq!(deposit_held(ALICE), 0);
			System::assert_last_event(
				Event::Expired { application: id, milestone: 1, returned: 20_000 }.into(),
			);
		});
	}

	#[test]
	fn a_deliverable_awaiting_review_does_not_expire() {
		ExtBuilder::default().build_and_execute(|| {
			let id = approved();
			let submitted = submit(BOB, Tier::Exploration, exploration());
			System::set_block_number(300);
			assert_noop!(
				Grants::expire(RuntimeOrigin::signed(BOB), submitted),
				Error::<Test>::NotApproved
			);
			System::set_block_number(100);
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 0, WORK));
			assert_ok!(Grants::submit_milestone(RuntimeOrigin::signed(ALICE), id, 1, WORK));
			System::set_block_number(300);
			assert_noop!(Grants::expire(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotExpired);
			// Reviewers may still pay after the due block.
			assert_ok!(Grants::accept_milestone(RuntimeOrigin::root(), id, 1));
			assert_noop!(
				Grants::expire(RuntimeOrigin::signed(BOB), 42),
				Error::<Test>::UnknownApplication
			);
		});
	}
}

/// Reading and the invariants.
mod records {
	use super::*;

	#[test]
	fn pages_list_live_applications_in_order() {
		ExtBuilder::default().build_and_execute(|| {
			for _ in 0..5 {
				submit(ALICE, Tier::Exploration, exploration());
			}
			assert_ok!(Grants::withdraw(RuntimeOrigin::signed(ALICE), 2));
			let ids = |start, limit| {
				Grants::applications_page(start, limit)
					.into_iter()
					.map(|(id, _)| id)
					.collect::<Vec<_>>()
			};
			assert_eq!(ids(0, 100), vec![0, 1, 3, 4]);
			assert_eq!(ids(1, 3), vec![1, 3]);
			assert_eq!(ids(4, 10), vec![4]);
			assert_eq!(ids(5, 10), Vec::<u32>::new());
			for _ in 0..MAX_PAGE {
				submit(BOB, Tier::Exploration, exploration());
			}
			// A larger limit is clamped: the page covers ids 0..MAX_PAGE, of which id 2 is withdrawn.
			let page = Grants::applications_page(0, MAX_PAGE + 50);
			assert_eq!(page.len(), MAX_PAGE as usize - 1);
			assert_eq!(page.last().map(|(id, _)| *id), Some(MAX_PAGE - 1));
		});
	}

	#[test]
	fn try_state_catches_a_broken_earmark() {
		ExtBuilder::default().build().execute_with(|| {
			let id = approved();
			assert_ok!(Grants::do_try_state());
			Applications::<Test>::mutate(id, |a| a.as_mut().unwrap().milestones[0].amount = 9_000);
			assert!(Grants::do_try_state().is_err());
		});
	}
}
