//! Unit tests: every call's success and every refusal, each followed by the invariant check.

use crate::{
	merkle,
	mock::*,
	pallet::{
		AcceptedByPosition, AcceptedBytes, ContentIndex, Contributions, ContributorReputation,
		DatanetInfo, DatanetReputation, Error, Event, HoldReason, NextDatanetId, Versions,
	},
	ContributionStatus, DataFormat, DatanetStatus, RejectReason, Reputation, Verdict,
};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::H256;
use sp_runtime::{DispatchError, TokenError};

/// A bad input: how it spoils a good one, and the error it must get.
type Case<I> = (fn(&mut I), Error<Test>);

fn hash(n: u8) -> H256 {
	H256(sp_io::hashing::blake2_256(&[n]))
}

fn free(who: AccountId) -> Balance {
	<Balances as Inspect<AccountId>>::balance(&who)
}

fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Datanets(reason), &who)
}

fn create() -> u32 {
	let id = NextDatanetId::<Test>::get();
	assert_ok!(Datanets::create(RuntimeOrigin::signed(OWNER), metadata(), rules()));
	id
}

fn contribute(who: AccountId, n: u8) -> u32 {
	let id = DatanetInfo::<Test>::get(0).map_or(0, |d| d.contributions);
	commit_earlier(who, 0, hash(n));
	assert_ok!(Datanets::contribute(
		RuntimeOrigin::signed(who),
		0,
		hash(n),
		100,
		DataFormat::PlainText,
		u64::MAX,
	));
	id
}

fn review(curator: AccountId, contribution: u32, verdict: Verdict) {
	assert_ok!(Datanets::review(RuntimeOrigin::signed(curator), 0, contribution, verdict));
}

fn accept(contribution: u32) {
	review(CURATOR_A, contribution, Verdict::Accept);
	review(CURATOR_B, contribution, Verdict::Accept);
}

mod create {
	use super::*;

	#[test]
	fn holds_a_deposit_for_the_bytes_stored() {
		ExtBuilder::default().build_and_execute(|| {
			let id = create();
			let info = DatanetInfo::<Test>::get(id).unwrap();
			let bytes = (info.metadata.encoded_size() + info.rules.encoded_size()) as u64;
			assert_eq!(info.deposit, BASE + PER_BYTE * bytes);
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), info.deposit);
			assert_eq!(free(OWNER), 1_000_000 - info.deposit);
			assert_eq!(info.owner, OWNER);
			assert_eq!(info.status, DatanetStatus::Open);
			assert_eq!(info.rules.curators.to_vec(), vec![CURATOR_A, CURATOR_B, CURATOR_C]);
			System::assert_last_event(
				Event::Created { datanet: id, owner: OWNER, deposit: info.deposit }.into(),
			);
			assert_eq!(create(), 1);
		});
	}

	#[test]
	fn refuses_bad_metadata() {
		ExtBuilder::default().build_and_execute(|| {
			let cases: Vec<Case<crate::MetadataInput>> = vec![
				(|m| m.name = vec![], Error::EmptyName),
				(|m| m.name = vec![b'n'; 33], Error::NameTooLong),
				(|m| m.description = vec![b'd'; 129], Error::DescriptionTooLong),
				(|m| m.tags = vec![vec![]], Error::EmptyTag),
				(|m| m.tags = vec![vec![b't'; 17]], Error::TagTooLong),
				(|m| m.tags = vec![b"t".to_vec(); 5], Error::TooManyTags),
				// Too many is refused before any tag is looked at.
				(|m| m.tags = vec![vec![]; 5], Error::TooManyTags),
				(|m| m.licence = vec![], Error::EmptyLicence),
				(|m| m.licence = vec![b'l'; 17], Error::LicenceTooLong),
			];
			for (edit, error) in cases {
				let mut m = metadata();
				edit(&mut m);
				assert_noop!(Datanets::create(RuntimeOrigin::signed(OWNER), m, rules()), error);
			}
		});
	}

	#[test]
	fn refuses_bad_rules() {
		ExtBuilder::default().build_and_execute(|| {
			let cases: Vec<Case<crate::RulesInput<AccountId, Balance>>> = vec![
				(|r| r.curators = vec![], Error::NoCurators),
				(|r| r.curators = (20..26).collect(), Error::TooManyCurators),
				(|r| r.curators = vec![CURATOR_A, CURATOR_A], Error::DuplicateCurator),
				(|r| r.approvals_needed = 0, Error::ZeroApprovalsNeeded),
				(|r| r.approvals_needed = 4, Error::MoreApprovalsThanCurators),
				(|r| r.accepted_formats = vec![], Error::NoFormats),
				(
					|r| r.accepted_formats = vec![DataFormat::Csv, DataFormat::Csv],
					Error::DuplicateFormat,
				),
				(|r| r.accepted_formats = vec![DataFormat::Csv; 10], Error::TooManyFormats),
				(|r| r.max_contribution_size = 0, Error::ZeroSizeLimit),
				(|r| r.max_contribution_size = 5_001, Error::SizeLimitTooHigh),
				(|r| r.contribution_deposit = MIN_DEPOSIT - 1, Error::DepositTooLow),
			];
			for (edit, error) in cases {
				let mut r = rules();
				edit(&mut r);
				assert_noop!(Datanets::create(RuntimeOrigin::signed(OWNER), metadata(), r), error);
			}
		});
	}

	#[test]
	fn refuses_an_owner_who_cannot_pay_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Datanets::create(RuntimeOrigin::signed(POOR), metadata(), rules()),
				TokenError::FundsUnavailable
			);
		});
	}
}

mod manage {
	use super::*;

	#[test]
	fn metadata_updates_adjust_the_deposit_both_ways() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			let before = DatanetInfo::<Test>::get(0).unwrap().deposit;
			let mut longer = metadata();
			// Under 64 bytes, so the length prefix stays one byte.
			longer.description = vec![b'd'; 60];
			assert_ok!(Datanets::update_metadata(RuntimeOrigin::signed(OWNER), 0, longer));
			let after = DatanetInfo::<Test>::get(0).unwrap().deposit;
			let grown = (60 - metadata().description.len()) as u64;
			assert_eq!(after, before + PER_BYTE * grown);
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), after);
			System::assert_last_event(Event::MetadataUpdated { datanet: 0, deposit: after }.into());

			assert_ok!(Datanets::update_metadata(RuntimeOrigin::signed(OWNER), 0, metadata()));
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), before);
			assert_eq!(free(OWNER), 1_000_000 - before);
		});
	}

	#[test]
	fn only_the_owner_updates() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			assert_noop!(
				Datanets::update_metadata(RuntimeOrigin::signed(ALICE), 0, metadata()),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Datanets::update_rules(RuntimeOrigin::signed(ALICE), 0, rules()),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Datanets::update_metadata(RuntimeOrigin::signed(OWNER), 7, metadata()),
				Error::<Test>::UnknownDatanet
			);
			let mut bad = metadata();
			bad.name = vec![b'x'; 40];
			assert_noop!(
				Datanets::update_metadata(RuntimeOrigin::signed(OWNER), 0, bad),
				Error::<Test>::NameTooLong
			);
		});
	}

	#[test]
	fn rules_updates_change_curators_and_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			let mut r = rules();
			r.curators = vec![CURATOR_A];
			r.approvals_needed = 1;
			assert_ok!(Datanets::update_rules(RuntimeOrigin::signed(OWNER), 0, r));
			let info = DatanetInfo::<Test>::get(0).unwrap();
			assert_eq!(info.rules.curators.to_vec(), vec![CURATOR_A]);
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), info.deposit);
			System::assert_last_event(
				Event::RulesUpdated { datanet: 0, deposit: info.deposit }.into(),
			);
			// One approval now accepts.
			contribute(ALICE, 1);
			review(CURATOR_A, 0, Verdict::Accept);
			assert!(matches!(
				Contributions::<Test>::get(0, 0).unwrap().status,
				ContributionStatus::Accepted { position: 0, .. }
			));
			let mut bad = rules();
			bad.approvals_needed = 9;
			assert_noop!(
				Datanets::update_rules(RuntimeOrigin::signed(OWNER), 0, bad),
				Error::<Test>::MoreApprovalsThanCurators
			);
		});
	}

	#[test]
	fn removed_curators_lose_their_vote() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			review(CURATOR_A, 0, Verdict::Accept);
			let mut r = rules();
			r.curators = vec![CURATOR_B, CURATOR_C];
			assert_ok!(Datanets::update_rules(RuntimeOrigin::signed(OWNER), 0, r));
			review(CURATOR_B, 0, Verdict::Accept);
			// A's approval no longer counts: still pending with one of two.
			assert!(matches!(
				Contributions::<Test>::get(0, 0).unwrap().status,
				ContributionStatus::Pending { .. }
			));
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(CURATOR_A), 0, 0, Verdict::Accept),
				Error::<Test>::NotCurator
			);
			review(CURATOR_C, 0, Verdict::Accept);
			assert!(matches!(
				Contributions::<Test>::get(0, 0).unwrap().status,
				ContributionStatus::Accepted { .. }
			));
		});
	}

	#[test]
	fn ownership_passes_with_the_deposit_once_accepted() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			let deposit = DatanetInfo::<Test>::get(0).unwrap().deposit;
			assert_noop!(
				Datanets::offer_ownership(RuntimeOrigin::signed(ALICE), 0, Some(BOB)),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Datanets::accept_ownership(RuntimeOrigin::signed(BOB), 0),
				Error::<Test>::NotOfferedOwnership
			);
			assert_ok!(Datanets::offer_ownership(RuntimeOrigin::signed(OWNER), 0, Some(BOB)));
			System::assert_last_event(Event::OwnershipOffered { datanet: 0, to: Some(BOB) }.into());
			assert_noop!(
				Datanets::accept_ownership(RuntimeOrigin::signed(ALICE), 0),
				Error::<Test>::NotOfferedOwnership
			);
			assert_ok!(Datanets::accept_ownership(RuntimeOrigin::signed(BOB), 0));
			let info = DatanetInfo::<Test>::get(0).unwrap();
			assert_eq!((info.owner, info.pending_owner), (BOB, None));
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), 0);
			assert_eq!(free(OWNER), 1_000_000);
			assert_eq!(held(HoldReason::DatanetDeposit, BOB), deposit);
			System::assert_last_event(
				Event::OwnershipTransferred { datanet: 0, from: OWNER, to: BOB }.into(),
			);
			assert_noop!(
				Datanets::update_metadata(RuntimeOrigin::signed(OWNER), 0, metadata()),
				Error::<Test>::NotOwner
			);
		});
	}

	#[test]
	fn an_offer_can_be_withdrawn() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			assert_ok!(Datanets::offer_ownership(RuntimeOrigin::signed(OWNER), 0, Some(BOB)));
			assert_ok!(Datanets::offer_ownership(RuntimeOrigin::signed(OWNER), 0, None));
			assert_noop!(
				Datanets::accept_ownership(RuntimeOrigin::signed(BOB), 0),
				Error::<Test>::NotOfferedOwnership
			);
		});
	}

	#[test]
	fn a_new_owner_who_cannot_pay_is_refused() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			assert_ok!(Datanets::offer_ownership(RuntimeOrigin::signed(OWNER), 0, Some(POOR)));
			assert_noop!(
				Datanets::accept_ownership(RuntimeOrigin::signed(POOR), 0),
				TokenError::FundsUnavailable
			);
		});
	}

	#[test]
	fn closing_stops_contributions_but_not_reviews_or_versions() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			contribute(ALICE, 2);
			accept(0);
			assert_noop!(Datanets::close(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::NotOwner);
			assert_ok!(Datanets::close(RuntimeOrigin::signed(OWNER), 0));
			System::assert_last_event(Event::Closed { datanet: 0 }.into());
			assert_noop!(
				Datanets::close(RuntimeOrigin::signed(OWNER), 0),
				Error::<Test>::DatanetClosed
			);
			assert_noop!(
				Datanets::contribute(
					RuntimeOrigin::signed(BOB),
					0,
					hash(3),
					10,
					DataFormat::PlainText,
					u64::MAX,
				),
				Error::<Test>::DatanetClosed
			);
			accept(1);
			assert_ok!(Datanets::publish_version(RuntimeOrigin::signed(OWNER), 0));
			assert_eq!(Versions::<Test>::get(0, 0).unwrap().contributions, 2);
		});
	}

	#[test]
	fn governance_may_close_any_datanet() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			assert_ok!(Datanets::close(RuntimeOrigin::root(), 0));
			assert_eq!(DatanetInfo::<Test>::get(0).unwrap().status, DatanetStatus::Closed);
			assert_noop!(Datanets::close(RuntimeOrigin::root(), 5), Error::<Test>::UnknownDatanet);
		});
	}
}

mod contribute {
	use super::*;

	#[test]
	fn holds_the_deposit_and_records_the_contribution() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			let item = Contributions::<Test>::get(0, 0).unwrap();
			assert_eq!(item.contributor, ALICE);
			assert_eq!(item.content_hash, hash(1));
			assert_eq!((item.size, item.deposit), (100, DEPOSIT));
			assert_eq!(ContentIndex::<Test>::get(0, hash(1)), Some(0));
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), DEPOSIT);
			assert_eq!(free(ALICE), 1_000_000 - DEPOSIT);
			let info = DatanetInfo::<Test>::get(0).unwrap();
			assert_eq!((info.contributions, info.pending), (1, 1));
			assert_eq!(ContributorReputation::<Test>::get(ALICE).submitted, 1);
			assert_eq!(DatanetReputation::<Test>::get(0, ALICE).submitted, 1);
			System::assert_last_event(
				Event::Contributed {
					datanet: 0,
					contribution: 0,
					contributor: ALICE,
					content_hash: hash(1),
					size: 100,
					deposit: DEPOSIT,
				}
				.into(),
			);
		});
	}

	#[test]
	fn refuses_bad_contributions() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			let c = |who, n, size, format| {
				Datanets::contribute(RuntimeOrigin::signed(who), 0, hash(n), size, format, u64::MAX)
			};
			assert_noop!(c(BOB, 1, 100, DataFormat::PlainText), Error::<Test>::DuplicateContent);
			assert_noop!(c(BOB, 2, 0, DataFormat::PlainText), Error::<Test>::EmptyContribution);
			assert_noop!(
				c(BOB, 2, 1_001, DataFormat::PlainText),
				Error::<Test>::ContributionTooLarge
			);
			assert_noop!(c(BOB, 2, 100, DataFormat::Png), Error::<Test>::FormatNotAccepted);
			assert_noop!(
				Datanets::contribute(
					RuntimeOrigin::signed(BOB),
					3,
					hash(2),
					1,
					DataFormat::PlainText,
					u64::MAX,
				),
				Error::<Test>::UnknownDatanet
			);
			assert_noop!(c(BOB, 2, 100, DataFormat::PlainText), Error::<Test>::NotCommitted);
			commit_earlier(POOR, 0, hash(2));
			assert_noop!(c(POOR, 2, 100, DataFormat::PlainText), TokenError::FundsUnavailable);
		});
	}

	#[test]
	fn the_same_content_may_go_to_another_datanet() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			create();
			contribute(ALICE, 1);
			commit_earlier(ALICE, 1, hash(1));
			assert_ok!(Datanets::contribute(
				RuntimeOrigin::signed(ALICE),
				1,
				hash(1),
				100,
				DataFormat::PlainText,
				u64::MAX,
			));
		});
	}

	#[test]
	fn rate_limits_count_and_bytes_per_period() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			for n in 1..=MAX_PER_PERIOD as u8 {
				contribute(ALICE, n);
			}
			commit_earlier(ALICE, 0, hash(9));
			assert_noop!(
				Datanets::contribute(
					RuntimeOrigin::signed(ALICE),
					0,
					hash(9),
					1,
					DataFormat::PlainText,
					u64::MAX,
				),
				Error::<Test>::RateLimitedCount
			);
			// Another account is not affected.
			contribute(BOB, 9);
			// The next period starts afresh.
			System::set_block_number(PERIOD);
			contribute(ALICE, 10);

			// Bytes: 1,000 per contribution against a cap of 10,000 across datanets and periods' fresh start.
			let mut r = rules();
			r.max_contribution_size = 5_000;
			assert_ok!(Datanets::update_rules(RuntimeOrigin::signed(OWNER), 0, r));
			System::set_block_number(2 * PERIOD);
			for n in [20, 21, 22] {
				commit_earlier(ALICE, 0, hash(n));
			}
			assert_ok!(Datanets::contribute(
				RuntimeOrigin::signed(ALICE),
				0,
				hash(20),
				5_000,
				DataFormat::PlainText,
				u64::MAX,
			));
			assert_ok!(Datanets::contribute(
				RuntimeOrigin::signed(ALICE),
				0,
				hash(21),
				5_000,
				DataFormat::PlainText,
				u64::MAX,
			));
			assert_noop!(
				Datanets::contribute(
					RuntimeOrigin::signed(ALICE),
					0,
					hash(22),
					1,
					DataFormat::PlainText,
					u64::MAX,
				),
				Error::<Test>::RateLimitedBytes
			);
			let usage = Datanets::contributor_record(&ALICE).usage;
			assert_eq!((usage.period, usage.count, usage.bytes), (2, 2, 10_000));
		});
	}
}

mod review {
	use super::*;

	#[test]
	fn the_threshold_accepts_and_the_stake_stays_held() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			review(CURATOR_A, 0, Verdict::Accept);
			System::assert_last_event(
				Event::Reviewed {
					datanet: 0,
					contribution: 0,
					curator: CURATOR_A,
					verdict: Verdict::Accept,
				}
				.into(),
			);
			assert!(matches!(
				Contributions::<Test>::get(0, 0).unwrap().status,
				ContributionStatus::Pending { .. }
			));
			review(CURATOR_B, 0, Verdict::Accept);
			System::assert_last_event(
				Event::Accepted { datanet: 0, contribution: 0, position: 0 }.into(),
			);
			let item = Contributions::<Test>::get(0, 0).unwrap();
			assert_eq!(item.status, ContributionStatus::Accepted { position: 0, at: 1 });
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), DEPOSIT);
			let info = DatanetInfo::<Test>::get(0).unwrap();
			assert_eq!((info.pending, info.accepted), (0, 1));
			assert_eq!(AcceptedByPosition::<Test>::get(0, 0), Some(0));
			assert_eq!(AcceptedBytes::<Test>::get(0), 100);
			assert_eq!(ContributorReputation::<Test>::get(ALICE).accepted, 1);
			assert_eq!(
				DatanetReputation::<Test>::get(0, ALICE),
				Reputation { submitted: 1, accepted: 1, rejected: 0, slashed: 0, stored: 1 }
			);
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(CURATOR_C), 0, 0, Verdict::Accept),
				Error::<Test>::NotPending
			);
		});
	}

	#[test]
	fn rejection_slashes_a_share_to_the_pot_and_returns_the_rest() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			let pot = free(POT);
			let reason = RejectReason::LowQuality;
			review(CURATOR_A, 0, Verdict::Reject(reason));
			// One rejection of three with two needed: acceptance still possible.
			assert!(Contributions::<Test>::get(0, 0).is_some());
			review(CURATOR_C, 0, Verdict::Reject(RejectReason::OffTopic));
			let slashed = DEPOSIT / 10;
			System::assert_last_event(
				Event::Rejected {
					datanet: 0,
					contribution: 0,
					reason: RejectReason::OffTopic,
					slashed,
					returned: DEPOSIT - slashed,
				}
				.into(),
			);
			assert_eq!(free(POT), pot + slashed);
			assert_eq!(free(ALICE), 1_000_000 - slashed);
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), 0);
			assert!(Contributions::<Test>::get(0, 0).is_none());
			assert!(ContentIndex::<Test>::get(0, hash(1)).is_none());
			assert_eq!(DatanetInfo::<Test>::get(0).unwrap().pending, 0);
			// Alice has nothing recorded any more: neither has her reputation.
			assert!(!ContributorReputation::<Test>::contains_key(ALICE));
			assert!(!DatanetReputation::<Test>::contains_key(0, ALICE));
			// Rejected content may be submitted again.
			contribute(ALICE, 1);
		});
	}

	#[test]
	fn refuses_outsiders_repeat_votes_and_unknown_items() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(ALICE), 0, 0, Verdict::Accept),
				Error::<Test>::NotCurator
			);
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(OWNER), 0, 0, Verdict::Accept),
				Error::<Test>::NotCurator
			);
			review(CURATOR_A, 0, Verdict::Accept);
			assert_noop!(
				Datanets::review(
					RuntimeOrigin::signed(CURATOR_A),
					0,
					0,
					Verdict::Reject(RejectReason::Other(7))
				),
				Error::<Test>::AlreadyReviewed
			);
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(CURATOR_A), 0, 5, Verdict::Accept),
				Error::<Test>::UnknownContribution
			);
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(CURATOR_A), 4, 0, Verdict::Accept),
				Error::<Test>::UnknownDatanet
			);
		});
	}
}

mod versions {
	use super::*;

	#[test]
	fn a_version_freezes_the_accepted_contributions_under_a_merkle_root() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			for n in 1..=3 {
				contribute(ALICE, n);
			}
			accept(2);
			accept(0);
			review(CURATOR_A, 1, Verdict::Reject(RejectReason::WrongFormat));
			review(CURATOR_B, 1, Verdict::Reject(RejectReason::WrongFormat));
			assert_noop!(
				Datanets::publish_version(RuntimeOrigin::signed(ALICE), 0),
				Error::<Test>::NotOwnerOrCurator
			);
			assert_ok!(Datanets::publish_version(RuntimeOrigin::signed(CURATOR_C), 0));
			let leaves = vec![hash(3), hash(1)];
			let root = merkle::root(&leaves).unwrap();
			let v = Versions::<Test>::get(0, 0).unwrap();
			assert_eq!((v.contributions, v.total_bytes, v.root), (2, 200, root));
			System::assert_last_event(
				Event::VersionPublished {
					datanet: 0,
					version: 0,
					contributions: 2,
					total_bytes: 200,
					root,
				}
				.into(),
			);
			assert_noop!(
				Datanets::publish_version(RuntimeOrigin::signed(OWNER), 0),
				Error::<Test>::NothingToPublish
			);

			// The list comes back in acceptance order, in pages, with proofs that verify.
			let page = Datanets::version_page(0, 0, 0, 10);
			let got: Vec<_> =
				page.iter().map(|e| (e.position, e.contribution, e.content_hash)).collect();
			assert_eq!(got, vec![(0, 2, hash(3)), (1, 0, hash(1))]);
			assert_eq!(Datanets::version_page(0, 0, 1, 10).len(), 1);
			assert!(Datanets::version_page(0, 0, 2, 10).is_empty());
			assert!(Datanets::version_page(0, 9, 0, 10).is_empty());
			for entry in &page {
				let proof = Datanets::version_proof(0, 0, entry.position).unwrap();
				assert!(merkle::verify(&root, 2, entry.position, &entry.content_hash, &proof));
			}

			// A later version grows; the first never changes.
			contribute(BOB, 4);
			accept(3);
			assert_ok!(Datanets::publish_version(RuntimeOrigin::signed(OWNER), 0));
			let v1 = Versions::<Test>::get(0, 1).unwrap();
			assert_eq!(v1.contributions, 3);
			assert_eq!(v1.root, merkle::root(&[hash(3), hash(1), hash(4)]).unwrap());
			assert_eq!(Versions::<Test>::get(0, 0).unwrap(), v);
			assert_eq!(Datanets::version_page(0, 0, 0, 10).len(), 2);
		});
	}

	#[test]
	fn an_empty_datanet_has_nothing_to_publish() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			assert_noop!(
				Datanets::publish_version(RuntimeOrigin::signed(OWNER), 0),
				Error::<Test>::NothingToPublish
			);
			assert_noop!(
				Datanets::publish_version(RuntimeOrigin::signed(OWNER), 1),
				Error::<Test>::UnknownDatanet
			);
		});
	}
}

mod stake {
	use super::*;

	#[test]
	fn withdraws_after_the_cool_down_only() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			accept(0);
			let w = |who| Datanets::withdraw_stake(RuntimeOrigin::signed(who), 0, 0);
			assert_noop!(w(BOB), Error::<Test>::NotContributor);
			assert_noop!(w(ALICE), Error::<Test>::CoolDownNotOver);
			System::set_block_number(1 + COOL_DOWN);
			assert_ok!(w(ALICE));
			// The record's deposit stays held: the contribution stays in its versions for good.
			let amount = DEPOSIT - MIN_DEPOSIT;
			System::assert_last_event(
				Event::StakeWithdrawn { datanet: 0, contribution: 0, amount }.into(),
			);
			assert_eq!(free(ALICE), 1_000_000 - MIN_DEPOSIT);
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), MIN_DEPOSIT);
			assert_eq!(Contributions::<Test>::get(0, 0).unwrap().deposit, MIN_DEPOSIT);
			assert_noop!(w(ALICE), Error::<Test>::NothingHeld);
			assert_noop!(
				Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 3),
				Error::<Test>::UnknownContribution
			);
		});
	}

	#[test]
	fn a_pending_contribution_has_no_stake_to_withdraw() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			assert_noop!(
				Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 0),
				Error::<Test>::NotAccepted
			);
		});
	}

	#[test]
	fn slashing_sends_a_share_to_the_pot_and_marks_the_contribution() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			contribute(ALICE, 2);
			accept(0);
			let pot = free(POT);
			assert_noop!(
				Datanets::slash(RuntimeOrigin::signed(ALICE), 0, 0, RejectReason::Duplicate),
				Error::<Test>::NotCurator
			);
			assert_noop!(
				Datanets::slash(RuntimeOrigin::signed(CURATOR_A), 0, 1, RejectReason::Duplicate),
				Error::<Test>::NotAccepted
			);
			assert_ok!(Datanets::slash(
				RuntimeOrigin::signed(CURATOR_A),
				0,
				0,
				RejectReason::Adversarial
			));
			// Half of the stake goes; the record's deposit stays held with the record.
			let stake = DEPOSIT - MIN_DEPOSIT;
			let slashed = stake / 2;
			System::assert_last_event(
				Event::Slashed {
					datanet: 0,
					contribution: 0,
					reason: RejectReason::Adversarial,
					slashed,
					returned: stake - slashed,
				}
				.into(),
			);
			assert_eq!(free(POT), pot + slashed);
			// Alice still has the second contribution's deposit and the first one's record held.
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), DEPOSIT + MIN_DEPOSIT);
			assert_eq!(free(ALICE), 1_000_000 - DEPOSIT - MIN_DEPOSIT - slashed);
			let item = Contributions::<Test>::get(0, 0).unwrap();
			assert_eq!(
				item.status,
				ContributionStatus::Slashed { position: 0, reason: RejectReason::Adversarial }
			);
			assert_eq!(ContributorReputation::<Test>::get(ALICE).slashed, 1);
			assert_eq!(DatanetReputation::<Test>::get(0, ALICE).slashed, 1);
			// Once slashed, neither slashed again nor withdrawn.
			assert_noop!(
				Datanets::slash(RuntimeOrigin::root(), 0, 0, RejectReason::Duplicate),
				Error::<Test>::NotAccepted
			);
			assert_noop!(
				Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 0),
				Error::<Test>::NotAccepted
			);
		});
	}

	#[test]
	fn governance_may_slash_after_the_stake_was_withdrawn() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			accept(0);
			System::set_block_number(1 + COOL_DOWN);
			assert_ok!(Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 0));
			assert_ok!(Datanets::slash(
				RuntimeOrigin::root(),
				0,
				0,
				RejectReason::LicenceViolation
			));
			System::assert_last_event(
				Event::Slashed {
					datanet: 0,
					contribution: 0,
					reason: RejectReason::LicenceViolation,
					slashed: 0,
					returned: 0,
				}
				.into(),
			);
			assert_eq!(ContributorReputation::<Test>::get(ALICE).slashed, 1);
			assert_noop!(
				Datanets::slash(RuntimeOrigin::root(), 3, 0, RejectReason::Duplicate),
				Error::<Test>::UnknownDatanet
			);
		});
	}
}

mod withdraw_unreviewed {
	use super::*;

	#[test]
	fn returns_the_whole_deposit_after_the_review_timeout() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			review(CURATOR_A, 0, Verdict::Accept);
			let w = |who| Datanets::withdraw_unreviewed(RuntimeOrigin::signed(who), 0, 0);
			assert_noop!(w(BOB), Error::<Test>::NotContributor);
			System::set_block_number(REVIEW_TIMEOUT);
			assert_noop!(w(ALICE), Error::<Test>::ReviewNotTimedOut);
			System::set_block_number(1 + REVIEW_TIMEOUT);
			assert_ok!(w(ALICE));
			System::assert_last_event(
				Event::Withdrawn { datanet: 0, contribution: 0, amount: DEPOSIT }.into(),
			);
			assert_eq!(free(ALICE), 1_000_000);
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), 0);
			assert!(Contributions::<Test>::get(0, 0).is_none());
			assert!(ContentIndex::<Test>::get(0, hash(1)).is_none());
			assert_eq!(DatanetInfo::<Test>::get(0).unwrap().pending, 0);
			assert_noop!(w(ALICE), Error::<Test>::UnknownContribution);
		});
	}

	#[test]
	fn only_pending_contributions_can_be_withdrawn() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			accept(0);
			System::set_block_number(1 + REVIEW_TIMEOUT);
			assert_noop!(
				Datanets::withdraw_unreviewed(RuntimeOrigin::signed(ALICE), 0, 0),
				Error::<Test>::NotPending
			);
			assert_noop!(
				Datanets::withdraw_unreviewed(RuntimeOrigin::signed(ALICE), 2, 0),
				Error::<Test>::UnknownDatanet
			);
		});
	}
}

#[test]
fn unsigned_origins_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Datanets::create(RuntimeOrigin::none(), metadata(), rules()),
			DispatchError::BadOrigin
		);
		create();
		assert_noop!(Datanets::close(RuntimeOrigin::none(), 0), DispatchError::BadOrigin);
	});
}

mod validation {
	use super::*;
	use crate::{
		pallet::{DatanetServices, Validations},
		ValidationOutcome, ValidationReport, ValidationRequest, ValidationRules, ValidationState,
	};
	use frame_support::BoundedVec;
	use openledger_primitives::{JobConsumer, JobKind};

	const FEE: Balance = 7;
	const URL: &[u8] = b"http://127.0.0.1:9100";

	fn set(auto_reject: bool) {
		assert_ok!(Datanets::set_services(
			RuntimeOrigin::signed(OWNER),
			0,
			vec![URL.to_vec()],
			Some(ValidationRules { fee: FEE, auto_reject }),
		));
	}

	fn report(outcome: ValidationOutcome, score: u8) -> Vec<u8> {
		ValidationReport { outcome, score, reason: BoundedVec::truncate_from(b"line 2".to_vec()) }
			.encode()
	}

	fn payload(contribution: u32) -> Vec<u8> {
		ValidationRequest { datanet: 0, contribution }.encode()
	}

	fn deliver(job: u64, contribution: u32, result: Vec<u8>) -> sp_runtime::DispatchResult {
		Datanets::on_result(job, JobKind::ContributionValidation, &payload(contribution), &result)
	}

	#[test]
	fn set_services_stores_endpoints_and_grows_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			let before = held(HoldReason::DatanetDeposit, OWNER);
			set(false);
			// The validation rules are kept in the datanet's record, the endpoints beside it.
			assert_eq!(
				DatanetInfo::<Test>::get(0).unwrap().validation,
				Some(ValidationRules { fee: FEE, auto_reject: false })
			);
			let services = DatanetServices::<Test>::get(0).unwrap();
			assert_eq!(services.endpoints.to_vec(), vec![URL.to_vec()]);
			let grown = PER_BYTE * services.encoded_size() as Balance;
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), before + grown);
			System::assert_last_event(
				Event::ServicesUpdated { datanet: 0, deposit: before + grown }.into(),
			);
			// Clearing them returns the extra deposit, but for the empty record.
			assert_ok!(Datanets::set_services(RuntimeOrigin::signed(OWNER), 0, vec![], None));
			assert_eq!(DatanetInfo::<Test>::get(0).unwrap().validation, None);
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), before + PER_BYTE);
			// Metadata updates keep counting the services.
			assert_ok!(Datanets::update_metadata(RuntimeOrigin::signed(OWNER), 0, metadata()));
			assert_eq!(held(HoldReason::DatanetDeposit, OWNER), before + PER_BYTE);
		});
	}

	#[test]
	fn set_services_refuses_bad_input() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			let call = |who, endpoints: Vec<&[u8]>, validation| {
				Datanets::set_services(
					RuntimeOrigin::signed(who),
					0,
					endpoints.into_iter().map(|e| e.to_vec()).collect(),
					validation,
				)
			};
			let rules = Some(ValidationRules { fee: FEE, auto_reject: true });
			assert_noop!(call(ALICE, vec![URL], None), Error::<Test>::NotOwner);
			assert_noop!(call(OWNER, vec![b"ftp://x.y/z"], None), Error::<Test>::BadEndpoint);
			assert_noop!(call(OWNER, vec![b"http://a b.c"], None), Error::<Test>::BadEndpoint);
			let long = [&b"http://"[..], &[b'h'; 42]].concat();
			assert_noop!(call(OWNER, vec![&long[..]], None), Error::<Test>::EndpointTooLong);
			// A long endpoint is refused for its length before its bytes are walked.
			let huge = vec![b' '; 1 << 20];
			assert_noop!(call(OWNER, vec![&huge[..]], None), Error::<Test>::EndpointTooLong);
			assert_noop!(call(OWNER, vec![URL, URL, URL], None), Error::<Test>::TooManyEndpoints);
			// Too many is refused before any endpoint is looked at.
			assert_noop!(
				call(OWNER, vec![&b"ftp://x"[..], &b"ftp://y"[..], &b"ftp://z"[..]], None),
				Error::<Test>::TooManyEndpoints
			);
			assert_noop!(call(OWNER, vec![], rules), Error::<Test>::ValidationWithoutEndpoint);
			let cheap = Some(ValidationRules { fee: MIN_JOB_FEE - 1, auto_reject: true });
			assert_noop!(call(OWNER, vec![URL], cheap), Error::<Test>::ValidationFeeTooLow);
			assert_noop!(
				Datanets::set_services(RuntimeOrigin::signed(OWNER), 9, vec![], None),
				Error::<Test>::UnknownDatanet
			);
		});
	}

	#[test]
	fn a_contribution_gets_a_validation_job_paid_by_its_contributor() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(false);
			let id = contribute(ALICE, 1);
			assert_eq!(
				JOBS.with(|j| j.borrow().clone()),
				vec![(ALICE, JobKind::ContributionValidation, payload(id), FEE, 10)]
			);
			assert_eq!(
				Validations::<Test>::get(0, id),
				Some(ValidationState::Requested { job: 0 })
			);
			System::assert_last_event(
				Event::ValidationRequested { datanet: 0, contribution: id, job: 0 }.into(),
			);
		});
	}

	#[test]
	fn without_validation_no_job_is_asked_for() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			assert!(JOBS.with(|j| j.borrow().is_empty()));
			assert_eq!(Validations::<Test>::get(0, 0), None);
		});
	}

	#[test]
	fn a_contribution_whose_validation_the_market_refuses_is_refused_not_recorded_unvalidated() {
		// The market has no room (its providers busy, its deadline buckets or the contributor's
		// open jobs full, all of which a contributor can bring about with a burst or with cheap
		// jobs to its own provider): recording the contribution anyway would skip its
		// validation, its fee and any automatic rejection.
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(true);
			NO_PROVIDER.with(|n| n.set(true));
			commit_earlier(ALICE, 0, hash(1));
			// Nothing is written, held or charged (`assert_noop!` compares the whole state).
			assert_noop!(
				Datanets::contribute(
					RuntimeOrigin::signed(ALICE),
					0,
					hash(1),
					100,
					DataFormat::PlainText,
					u64::MAX,
				),
				Error::<Test>::ValidationUnavailable
			);
			assert_eq!(DatanetInfo::<Test>::get(0).unwrap().contributions, 0);
			assert_eq!(Validations::<Test>::get(0, 0), None);
			// With room again, the same commitment makes the contribution, validated.
			NO_PROVIDER.with(|n| n.set(false));
			assert_ok!(Datanets::contribute(
				RuntimeOrigin::signed(ALICE),
				0,
				hash(1),
				100,
				DataFormat::PlainText,
				u64::MAX,
			));
			assert_eq!(Validations::<Test>::get(0, 0), Some(ValidationState::Requested { job: 0 }));
		});
	}

	#[test]
	fn a_valid_report_is_kept_for_curators() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(true);
			let id = contribute(ALICE, 1);
			assert_ok!(deliver(0, id, report(ValidationOutcome::Valid, 100)));
			let Some(ValidationState::Done { report: r, at }) = Validations::<Test>::get(0, id)
			else {
				panic!("validated")
			};
			assert_eq!((r.outcome, r.score, at), (ValidationOutcome::Valid, 100, 1));
			System::assert_last_event(
				Event::Validated {
					datanet: 0,
					contribution: id,
					outcome: ValidationOutcome::Valid,
					score: 100,
					reason: BoundedVec::truncate_from(b"line 2".to_vec()),
				}
				.into(),
			);
			assert!(matches!(
				Contributions::<Test>::get(0, id).unwrap().status,
				ContributionStatus::Pending { .. }
			));
		});
	}

	#[test]
	fn a_failed_report_rejects_when_the_datanet_says_so() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(true);
			let id = contribute(ALICE, 1);
			let before = free(ALICE);
			assert_ok!(deliver(0, id, report(ValidationOutcome::HashMismatch, 0)));
			assert!(Contributions::<Test>::get(0, id).is_none());
			assert_eq!(Validations::<Test>::get(0, id), None);
			// A rejection: a tenth of the deposit to the pot, the rest back.
			assert_eq!(free(ALICE), before + DEPOSIT - DEPOSIT / 10);
			System::assert_last_event(
				Event::Rejected {
					datanet: 0,
					contribution: id,
					reason: RejectReason::FailedValidation,
					slashed: DEPOSIT / 10,
					returned: DEPOSIT - DEPOSIT / 10,
				}
				.into(),
			);
		});
	}

	#[test]
	fn an_owner_cannot_raise_the_cost_of_a_contribution_in_flight() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(false);
			let cost = DEPOSIT + FEE;
			commit_earlier(ALICE, 0, hash(1));
			let before = free(ALICE);
			let contribute = |max_cost| {
				Datanets::contribute(
					RuntimeOrigin::signed(ALICE),
					0,
					hash(1),
					100,
					DataFormat::PlainText,
					max_cost,
				)
			};
			// The contributor agreed to the cost it saw; the owner raises the fee before the
			// contribution lands.
			assert_ok!(Datanets::set_services(
				RuntimeOrigin::signed(OWNER),
				0,
				vec![URL.to_vec()],
				Some(ValidationRules { fee: FEE + 1, auto_reject: false }),
			));
			assert_noop!(contribute(cost), Error::<Test>::CostAboveLimit);
			assert_eq!(free(ALICE), before);
			assert_ok!(contribute(cost + 1));
		});
	}

	#[test]
	fn a_provider_that_could_not_fetch_the_bytes_never_gets_a_contribution_rejected() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(true);
			let id = contribute(ALICE, 1);
			let before = free(ALICE);
			assert_ok!(deliver(0, id, report(ValidationOutcome::Unverifiable, 0)));
			assert!(matches!(
				Contributions::<Test>::get(0, id).map(|c| c.status),
				Some(ContributionStatus::Pending { .. })
			));
			assert!(matches!(
				Validations::<Test>::get(0, id),
				Some(ValidationState::Done {
					report: ValidationReport { outcome: ValidationOutcome::Unverifiable, .. },
					..
				})
			));
			assert_eq!(free(ALICE), before);
		});
	}

	#[test]
	fn a_failed_report_only_informs_curators_otherwise() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(false);
			let id = contribute(ALICE, 1);
			assert_ok!(deliver(0, id, report(ValidationOutcome::Malformed, 40)));
			assert!(Contributions::<Test>::get(0, id).is_some());
			assert!(matches!(
				Validations::<Test>::get(0, id),
				Some(ValidationState::Done { report: ValidationReport { score: 40, .. }, .. })
			));
		});
	}

	#[test]
	fn bad_results_are_refused_and_stray_ones_ignored() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(true);
			let id = contribute(ALICE, 1);
			assert_noop!(deliver(0, id, vec![9, 9]), Error::<Test>::BadValidationReport);
			assert_noop!(
				deliver(0, id, report(ValidationOutcome::Valid, 101)),
				Error::<Test>::BadValidationReport
			);
			assert_noop!(
				Datanets::on_result(
					0,
					JobKind::ContributionValidation,
					&[1],
					&report(ValidationOutcome::Valid, 1)
				),
				Error::<Test>::BadValidationPayload
			);
			// A report from another job changes nothing.
			assert_ok!(deliver(5, id, report(ValidationOutcome::HashMismatch, 0)));
			assert_eq!(
				Validations::<Test>::get(0, id),
				Some(ValidationState::Requested { job: 0 })
			);
			assert!(Contributions::<Test>::get(0, id).is_some());
		});
	}

	#[test]
	fn an_abandoned_job_leaves_the_contribution_unvalidated() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(true);
			let id = contribute(ALICE, 1);
			Datanets::on_abandoned(3, JobKind::ContributionValidation, &payload(id));
			assert_eq!(
				Validations::<Test>::get(0, id),
				Some(ValidationState::Requested { job: 0 })
			);
			Datanets::on_abandoned(0, JobKind::ContributionValidation, &payload(id));
			assert_eq!(Validations::<Test>::get(0, id), Some(ValidationState::Unavailable));
			System::assert_last_event(
				Event::ValidationUnavailable { datanet: 0, contribution: id }.into(),
			);
		});
	}

	#[test]
	fn curator_rejection_forgets_the_validation() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			set(false);
			let id = contribute(ALICE, 1);
			review(CURATOR_A, id, Verdict::Reject(RejectReason::OffTopic));
			review(CURATOR_B, id, Verdict::Reject(RejectReason::OffTopic));
			assert_eq!(Validations::<Test>::get(0, id), None);
			// The job's late report is ignored.
			assert_ok!(deliver(0, id, report(ValidationOutcome::Valid, 100)));
		});
	}
}

mod commit {
	use super::*;
	use crate::{commitment_of, pallet::Commitments, Commitment};

	fn contribute_now(
		who: AccountId,
		n: u8,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		Datanets::contribute(
			RuntimeOrigin::signed(who),
			0,
			hash(n),
			100,
			DataFormat::PlainText,
			1_000,
		)
	}

	#[test]
	fn a_contribution_reveals_a_commitment_from_an_earlier_block() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			assert_noop!(contribute_now(ALICE, 1), Error::<Test>::NotCommitted);
			let commitment = commitment_of(&ALICE, 0, &hash(1));
			assert_ok!(Datanets::commit(RuntimeOrigin::signed(ALICE), commitment));
			System::assert_last_event(
				Event::Committed { who: ALICE, commitment, deposit: COMMIT_DEPOSIT }.into(),
			);
			assert_eq!(held(HoldReason::CommitmentDeposit, ALICE), COMMIT_DEPOSIT);
			assert_eq!(
				Commitments::<Test>::get(ALICE, commitment),
				Some(Commitment { at: 1, deposit: COMMIT_DEPOSIT })
			);
			assert_noop!(contribute_now(ALICE, 1), Error::<Test>::CommitmentTooRecent);
			System::set_block_number(2);
			assert_ok!(contribute_now(ALICE, 1));
			// The commitment is consumed and its deposit released.
			assert_eq!(Commitments::<Test>::get(ALICE, commitment), None);
			assert_eq!(held(HoldReason::CommitmentDeposit, ALICE), 0);
			assert_eq!(free(ALICE), 1_000_000 - DEPOSIT);
		});
	}

	#[test]
	fn a_contribution_is_charged_only_the_job_market_weight_its_validation_used() {
		use crate::weights::WeightInfo;
		use frame_support::dispatch::GetDispatchInfo;
		ExtBuilder::default().build_and_execute(|| {
			create();
			commit_earlier(ALICE, 0, hash(1));
			let declared = crate::Call::<Test>::contribute {
				datanet: 0,
				content_hash: hash(1),
				size: 100,
				format: DataFormat::PlainText,
				max_cost: 1_000,
			}
			.get_dispatch_info()
			.call_weight;
			let most =
				<() as WeightInfo>::contribute().max(<() as WeightInfo>::contribute_validated());
			assert_eq!(declared, most.saturating_add(JOB_WEIGHT_MAX));
			let post = contribute_now(ALICE, 1).unwrap();
			assert_eq!(post.actual_weight, Some(<() as WeightInfo>::contribute()));
			assert_ok!(Datanets::set_services(
				RuntimeOrigin::signed(OWNER),
				0,
				vec![b"https://store.example".to_vec()],
				Some(crate::ValidationRules { fee: MIN_JOB_FEE, auto_reject: false }),
			));
			commit_earlier(ALICE, 0, hash(2));
			let post = contribute_now(ALICE, 2).unwrap();
			assert_eq!(
				post.actual_weight,
				Some(<() as WeightInfo>::contribute_validated().saturating_add(JOB_WEIGHT_USED))
			);
		});
	}

	#[test]
	fn a_commitment_is_bound_to_its_datanet() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			create();
			commit_earlier(ALICE, 1, hash(1));
			assert_noop!(contribute_now(ALICE, 1), Error::<Test>::NotCommitted);
		});
	}

	#[test]
	fn commitments_are_withdrawn_with_their_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let commitment = commitment_of(&ALICE, 0, &hash(1));
			let w = |who| Datanets::withdraw_commitment(RuntimeOrigin::signed(who), commitment);
			assert_noop!(w(ALICE), Error::<Test>::NotCommitted);
			assert_ok!(Datanets::commit(RuntimeOrigin::signed(ALICE), commitment));
			assert_noop!(
				Datanets::commit(RuntimeOrigin::signed(ALICE), commitment),
				Error::<Test>::AlreadyCommitted
			);
			// Another account's commitment of the same value is its own.
			assert_noop!(w(BOB), Error::<Test>::NotCommitted);
			assert_ok!(w(ALICE));
			System::assert_last_event(
				Event::CommitmentWithdrawn { who: ALICE, commitment, deposit: COMMIT_DEPOSIT }
					.into(),
			);
			assert_eq!(free(ALICE), 1_000_000);
			assert_eq!(Commitments::<Test>::get(ALICE, commitment), None);
		});
	}

	#[test]
	fn an_account_that_cannot_pay_the_deposit_cannot_commit() {
		ExtBuilder::default().build_and_execute(|| {
			let poor = 60;
			assert_noop!(
				Datanets::commit(RuntimeOrigin::signed(poor), H256::repeat_byte(1)),
				TokenError::FundsUnavailable
			);
		});
	}
}

mod records {
	use super::*;
	use crate::pallet::{OldestUsagePeriod, RateLimitUsage};
	use frame_support::{
		traits::{Get, Hooks},
		weights::Weight,
	};

	#[test]
	fn an_accounts_records_go_with_its_last_recorded_contribution() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			contribute(ALICE, 2);
			assert_eq!(ContributorReputation::<Test>::get(ALICE).stored, 2);
			review(CURATOR_A, 0, Verdict::Reject(RejectReason::LowQuality));
			review(CURATOR_B, 0, Verdict::Reject(RejectReason::LowQuality));
			let left = ContributorReputation::<Test>::get(ALICE);
			assert_eq!((left.submitted, left.rejected, left.stored), (2, 1, 1));
			assert!(DatanetReputation::<Test>::contains_key(0, ALICE));
			System::set_block_number(1 + REVIEW_TIMEOUT);
			assert_ok!(Datanets::withdraw_unreviewed(RuntimeOrigin::signed(ALICE), 0, 1));
			assert!(!ContributorReputation::<Test>::contains_key(ALICE));
			assert!(!DatanetReputation::<Test>::contains_key(0, ALICE));
		});
	}

	#[test]
	fn accepted_contributions_keep_their_records() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			accept(0);
			System::set_block_number(1 + COOL_DOWN);
			assert_ok!(Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 0));
			assert_eq!(ContributorReputation::<Test>::get(ALICE).stored, 1);
			assert_eq!(DatanetReputation::<Test>::get(0, ALICE).accepted, 1);
		});
	}

	#[test]
	fn rate_limit_counts_of_past_periods_are_pruned_when_blocks_have_room() {
		let mut ext = ExtBuilder::default().build();
		ext.execute_with(|| {
			create();
			for n in 1..=3 {
				contribute(ALICE, n);
				contribute(BOB, 10 + n);
			}
			assert_eq!(RateLimitUsage::<Test>::iter_prefix(0).count(), 2);
			// Within the period nothing is pruned.
			assert_eq!(Datanets::on_idle(1, Weight::MAX), Weight::zero());
		});
		// Later blocks find the period's entries in the database, not in the block's changes.
		ext.commit_all().unwrap();
		ext.execute_with(|| {
			assert_eq!(RateLimitUsage::<Test>::iter_prefix(0).count(), 2);
			System::set_block_number(PERIOD);
			// A block with room for one removal removes one.
			let db: frame_support::weights::RuntimeDbWeight =
				<Test as frame_system::Config>::DbWeight::get();
			let one = db.reads_writes(1, 1) + db.writes(1) + Weight::from_parts(0, 128);
			assert_eq!(Datanets::on_idle(PERIOD, one), one);
			assert_eq!(RateLimitUsage::<Test>::iter_prefix(0).count(), 1);
			assert_eq!(OldestUsagePeriod::<Test>::get(), 0);
		});
		ext.commit_all().unwrap();
		ext.execute_with(|| {
			Datanets::on_idle(PERIOD + 1, Weight::MAX);
			assert_eq!(RateLimitUsage::<Test>::iter_prefix(0).count(), 0);
			assert_eq!(OldestUsagePeriod::<Test>::get(), 1);
			// The rate limit itself is unchanged: the new period starts afresh.
			contribute(ALICE, 4);
			assert_eq!(Datanets::contributor_record(&ALICE).usage.count, 1);
			Datanets::do_try_state().unwrap();
		});
	}
}

/// Attacks on the datanets pallet, one test each.
mod attacks {
	use super::*;
	use crate::commitment_of;

	/// Bob watches Alice's upload and the pool: he cannot contribute her bytes before her.
	#[test]
	fn a_copier_who_saw_the_bytes_cannot_contribute_them_first() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			// Block 1: Alice commits; her commitment shows nothing of the content.
			assert_ok!(Datanets::commit(
				RuntimeOrigin::signed(ALICE),
				commitment_of(&ALICE, 0, &hash(1))
			));
			// Block 2: the bytes are public (uploaded). Bob copies Alice's commitment value,
			// which names Alice, and commits his own.
			System::set_block_number(2);
			assert_ok!(Datanets::commit(
				RuntimeOrigin::signed(BOB),
				commitment_of(&ALICE, 0, &hash(1))
			));
			assert_ok!(Datanets::commit(
				RuntimeOrigin::signed(BOB),
				commitment_of(&BOB, 0, &hash(1))
			));
			let c = |who| {
				Datanets::contribute(
					RuntimeOrigin::signed(who),
					0,
					hash(1),
					100,
					DataFormat::PlainText,
					u64::MAX,
				)
			};
			// Bob's transaction is ordered before Alice's in block 2: too recent.
			assert_noop!(c(BOB), Error::<Test>::CommitmentTooRecent);
			assert_ok!(c(ALICE));
			System::set_block_number(3);
			assert_noop!(c(BOB), Error::<Test>::DuplicateContent);
			assert_eq!(Contributions::<Test>::get(0, 0).unwrap().contributor, ALICE);
		});
	}

	/// Contributions rejected or withdrawn leave no per-account record behind for free.
	#[test]
	fn rejected_contributions_leave_no_records_for_free() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			for n in 1..=3 {
				contribute(BOB, n);
				let id = u32::from(n) - 1;
				review(CURATOR_A, id, Verdict::Reject(RejectReason::LowQuality));
				review(CURATOR_B, id, Verdict::Reject(RejectReason::LowQuality));
			}
			assert!(!ContributorReputation::<Test>::contains_key(BOB));
			assert!(!DatanetReputation::<Test>::contains_key(0, BOB));
			assert_eq!(held(HoldReason::ContributionDeposit, BOB), 0);
		});
	}

	/// A contributor cannot free the stake of an accepted contribution to the last unit and
	/// leave its record stored for nothing.
	#[test]
	fn an_accepted_contributions_record_keeps_its_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			create();
			contribute(ALICE, 1);
			accept(0);
			System::set_block_number(1 + COOL_DOWN);
			assert_ok!(Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 0));
			assert_noop!(
				Datanets::withdraw_stake(RuntimeOrigin::signed(ALICE), 0, 0),
				Error::<Test>::NothingHeld
			);
			assert_eq!(held(HoldReason::ContributionDeposit, ALICE), MIN_DEPOSIT);
		});
	}
}

mod access {
	use super::*;
	use crate::pallet::{AccessClaims, AccessFees, AccessPools};
	use openledger_primitives::{DatanetAccess, VersionUnavailable};

	/// A contribution of `size` bytes by `who` to datanet 0, accepted.
	fn accepted(who: AccountId, n: u8, size: u64) -> u32 {
		let id = DatanetInfo::<Test>::get(0).map_or(0, |d| d.contributions);
		commit_earlier(who, 0, hash(n));
		assert_ok!(Datanets::contribute(
			RuntimeOrigin::signed(who),
			0,
			hash(n),
			size,
			DataFormat::PlainText,
			u64::MAX,
		));
		accept(id);
		id
	}

	/// Datanet 0 with Alice's 100 and 200 bytes and Bob's 300 bytes, published as version 0.
	fn version() {
		create();
		accepted(ALICE, 1, 100);
		accepted(ALICE, 2, 200);
		accepted(BOB, 3, 300);
		assert_ok!(Datanets::publish_version(RuntimeOrigin::signed(OWNER), 0));
	}

	/// What `who` claimed: its free balance and the claim deposits it holds, before and after.
	fn claim(who: AccountId, contribution: u32) -> Result<Balance, sp_runtime::DispatchError> {
		let owned = || free(who) + held(HoldReason::AccessClaimDeposit, who);
		let before = owned();
		Datanets::claim_access_reward(RuntimeOrigin::signed(who), 0, 0, contribution)?;
		Ok(owned() - before)
	}

	#[test]
	fn the_owner_sets_the_access_fee_and_versions_show_it() {
		ExtBuilder::default().build_and_execute(|| {
			version();
			assert_ok!(Datanets::set_access_fee(RuntimeOrigin::signed(OWNER), 0, 25));
			System::assert_last_event(Event::AccessFeeSet { datanet: 0, fee: 25 }.into());
			let published = Datanets::published(0, 0).unwrap();
			assert_eq!(published.access_fee, 25);
			assert_eq!((published.contributions, published.total_bytes), (3, 600));
			assert_eq!(published.root, Versions::<Test>::get(0, 0).unwrap().root);
			assert_ok!(Datanets::set_access_fee(RuntimeOrigin::signed(OWNER), 0, 0));
			assert!(!AccessFees::<Test>::contains_key(0));
			assert_noop!(
				Datanets::set_access_fee(RuntimeOrigin::signed(ALICE), 0, 25),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Datanets::set_access_fee(RuntimeOrigin::signed(OWNER), 7, 25),
				Error::<Test>::UnknownDatanet
			);
		});
	}

	#[test]
	fn only_published_versions_of_open_datanets_can_be_trained_on() {
		ExtBuilder::default().build_and_execute(|| {
			assert_eq!(Datanets::published(0, 0), Err(VersionUnavailable::UnknownDatanet));
			version();
			assert_eq!(Datanets::published(0, 1), Err(VersionUnavailable::UnknownVersion));
			assert_ok!(Datanets::close(RuntimeOrigin::signed(OWNER), 0));
			assert_eq!(Datanets::published(0, 0), Err(VersionUnavailable::DatanetClosed));
		});
	}

	#[test]
	fn access_fees_are_shared_pro_rata_to_bytes_to_the_unit() {
		ExtBuilder::default().build_and_execute(|| {
			version();
			let payer = 4;
			let before = free(payer);
			assert_ok!(Datanets::reserve_access(&payer, 0, 0, 1_000));
			assert_eq!(free(payer), before - 1_000);
			// Reserved is not claimable until the job delivers.
			assert_noop!(claim(ALICE, 0), Error::<Test>::NothingToClaim);
			assert_ok!(Datanets::settle_access(0, 0, 1_000));
			System::assert_last_event(
				Event::AccessPaid { datanet: 0, version: 0, amount: 1_000, paid: 1_000 }.into(),
			);
			// 100, 200 and 300 of 600 bytes: 166, 333 and 500, one unit of dust stays.
			assert_eq!(claim(ALICE, 0), Ok(166));
			System::assert_last_event(
				Event::AccessRewardClaimed {
					datanet: 0,
					version: 0,
					contribution: 0,
					contributor: ALICE,
					amount: 166,
					deposit: ACCESS_CLAIM_DEPOSIT,
				}
				.into(),
			);
			assert_eq!(claim(ALICE, 1), Ok(333));
			assert_eq!(claim(BOB, 2), Ok(500));
			assert_noop!(claim(BOB, 2), Error::<Test>::NothingToClaim);
			assert_eq!(AccessPools::<Test>::get(0, 0).claimed, 999);
			// A second job pays as much again: each claims up to its share of 2,000.
			assert_ok!(Datanets::reserve_access(&payer, 0, 0, 1_000));
			assert_ok!(Datanets::settle_access(0, 0, 1_000));
			assert_eq!(Datanets::claimable(0, 0, 0), 333 - 166);
			assert_eq!(claim(ALICE, 0), Ok(167));
			assert_eq!(claim(BOB, 2), Ok(500));
			assert_eq!(claim(ALICE, 1), Ok(666 - 333));
			assert_eq!(free(Datanets::access_account()), 0);
			assert_eq!(held(HoldReason::AccessPool, Datanets::access_account()), 1);
		});
	}

	#[test]
	fn every_claim_record_is_paid_for_by_a_deposit_held_from_its_contributor() {
		ExtBuilder::default().build_and_execute(|| {
			version();
			assert_ok!(Datanets::reserve_access(&4, 0, 0, 600));
			assert_ok!(Datanets::settle_access(0, 0, 600));
			let before = free(ALICE);
			// The first claim on the version writes the record and holds its deposit.
			assert_eq!(claim(ALICE, 0), Ok(100));
			assert_eq!(held(HoldReason::AccessClaimDeposit, ALICE), ACCESS_CLAIM_DEPOSIT);
			assert_eq!(free(ALICE), before + 100 - ACCESS_CLAIM_DEPOSIT);
			// A second contribution is a second record, with its own deposit.
			assert_eq!(claim(ALICE, 1), Ok(200));
			assert_eq!(held(HoldReason::AccessClaimDeposit, ALICE), 2 * ACCESS_CLAIM_DEPOSIT);
			// A later claim on a record that exists holds nothing more.
			assert_ok!(Datanets::reserve_access(&4, 0, 0, 600));
			assert_ok!(Datanets::settle_access(0, 0, 600));
			assert_eq!(claim(ALICE, 0), Ok(100));
			System::assert_last_event(
				Event::AccessRewardClaimed {
					datanet: 0,
					version: 0,
					contribution: 0,
					contributor: ALICE,
					amount: 100,
					deposit: 0,
				}
				.into(),
			);
			assert_eq!(held(HoldReason::AccessClaimDeposit, ALICE), 2 * ACCESS_CLAIM_DEPOSIT);
			assert_eq!(AccessClaims::<Test>::iter().count(), 2);
		});
	}

	#[test]
	fn a_refund_returns_the_reserved_fee_and_no_more() {
		ExtBuilder::default().build_and_execute(|| {
			version();
			let before = free(4);
			assert_ok!(Datanets::reserve_access(&4, 0, 0, 700));
			assert_noop!(Datanets::refund_access(&4, 0, 0, 701), Error::<Test>::NotReserved);
			assert_noop!(Datanets::settle_access(0, 0, 701), Error::<Test>::NotReserved);
			assert_ok!(Datanets::refund_access(&4, 0, 0, 700));
			assert_eq!(free(4), before);
			assert_eq!(AccessPools::<Test>::get(0, 0), Default::default());
			assert_noop!(Datanets::reserve_access(&4, 0, 5, 700), Error::<Test>::UnknownVersion);
		});
	}

	#[test]
	fn a_reservation_respects_the_payers_balance() {
		ExtBuilder::default().build_and_execute(|| {
			version();
			assert_noop!(
				Datanets::reserve_access(&POOR, 0, 0, 50),
				sp_runtime::TokenError::FundsUnavailable
			);
		});
	}

	#[test]
	fn only_a_contribution_of_the_version_claims_and_only_its_contributor() {
		ExtBuilder::default().build_and_execute(|| {
			version();
			let later = accepted(BOB, 4, 100);
			assert_ok!(Datanets::reserve_access(&4, 0, 0, 600));
			assert_ok!(Datanets::settle_access(0, 0, 600));
			assert_noop!(claim(BOB, later), Error::<Test>::NotInVersion);
			assert_noop!(claim(BOB, 0), Error::<Test>::NotContributor);
			assert_noop!(claim(BOB, 9), Error::<Test>::UnknownContribution);
			assert_noop!(
				Datanets::claim_access_reward(RuntimeOrigin::signed(BOB), 0, 3, 2),
				Error::<Test>::UnknownVersion
			);
			assert_ok!(Datanets::slash(RuntimeOrigin::root(), 0, 2, RejectReason::Duplicate));
			assert_noop!(claim(BOB, 2), Error::<Test>::NotAccepted);
			assert_eq!(claim(ALICE, 0), Ok(100));
		});
	}
}
