"""The kinds told by the clock and by referrals, against real SQL and Redis: challenges
started, ending tomorrow and their results (apart from settlement), a referral's new
stage, and "your week"; each told once however often its job runs, only to the people
it concerns, and mailed only to those who chose mail."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.models import Challenge, Notification, OutboxMessage, utcnow
from app.services import challenge_settlement as settlement
from app.services import challenge_standings as standings
from app.services import home_ranks, your_week
from app.services import notifications as inbox
from scoring.challenges import Mode, ScopeKind
from scoring.notifications import Channel, Kind
from scoring.participation import Presence
from scoring.vocabulary import EventKind, ReferralStage
from tests.factories import (
    ChallengeDeclineFactory,
    ChallengeFactory,
    EmployeeFactory,
    EventFactory,
    LedgerLineFactory,
    ReferralProgrammeFactory,
    TeamFactory,
)
from tests.integration.test_challenge_settlement import finished, history, person
from tests.integration.test_referrals import job_share, record


def told(kind: Kind) -> list[tuple[int, str, str, str]]:
    rows = db.session.execute(
        select(Notification.employee_id, Notification.key, Notification.title, Notification.body)
        .where(Notification.kind == kind)
        .order_by(Notification.employee_id, Notification.id)
    )
    return [tuple(row) for row in rows]


def told_ids(kind: Kind) -> list[int]:
    return [row[0] for row in told(kind)]


def mailed(kind: Kind) -> list[int]:
    return list(
        db.session.scalars(
            select(OutboxMessage.employee_id)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.employee_id, OutboxMessage.id)
        )
    )


# Challenges ---------------------------------------------------------------------------


def test_a_start_is_told_once_to_everyone_in_scope_who_takes_part(ctx):
    ours, theirs = TeamFactory(), TeamFactory()
    ann, bob = EmployeeFactory(team=ours, opted_in=True), EmployeeFactory(team=ours, opted_in=True)
    declined = EmployeeFactory(team=ours, opted_in=True)
    never = EmployeeFactory(team=ours)  # not taking part
    elsewhere = EmployeeFactory(team=theirs, opted_in=True)
    c = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[ours], title="Spring shares")
    ChallengeDeclineFactory(challenge_id=c.id, employee_id=declined.id)
    inbox.set_choices(bob, {(Kind.CHALLENGE_STARTED, Channel.EMAIL): True})
    db.session.commit()
    assert jobs.tell_challenges()["started"] == 2
    assert jobs.tell_challenges() == {}  # marked: nothing left to tell
    rows = told(Kind.CHALLENGE_STARTED)
    assert [r[0] for r in rows] == [ann.id, bob.id]
    assert rows[0][2] == "Spring shares has started"
    assert rows[0][3].startswith("What counts: shares made between the start and the end.")
    assert "It ends" in rows[0][3]
    assert mailed(Kind.CHALLENGE_STARTED) == [bob.id]  # the only one who chose mail
    assert never.id not in told_ids(Kind.CHALLENGE_STARTED)
    assert elsewhere.id not in told_ids(Kind.CHALLENGE_STARTED)
    assert db.session.get(Challenge, c.id).announced_at is not None


def test_a_challenge_not_started_or_already_over_is_not_announced(ctx):
    EmployeeFactory(opted_in=True)
    now = utcnow()
    ChallengeFactory(starts_at=now + timedelta(hours=1))
    ChallengeFactory(starts_at=now - timedelta(days=9))  # ended two days ago
    db.session.commit()
    assert jobs.tell_challenges() == {}
    assert told(Kind.CHALLENGE_STARTED) == []


def test_ending_tomorrow_is_told_once_with_the_standing_where_the_board_shows_it(ctx):
    now = utcnow()
    c = ChallengeFactory(starts_at=now - timedelta(days=3), ends_at=now + timedelta(hours=20))
    short = ChallengeFactory(starts_at=now - timedelta(hours=20), ends_at=now + timedelta(hours=20))
    ann, bob, hidden = history(c)
    quiet = person()
    declined = person()
    ChallengeDeclineFactory(challenge_id=c.id, employee_id=declined.id)
    db.session.commit()
    standings.rebuild_challenge_board(c.id)
    done = jobs.tell_challenges()
    assert done["ending"] == 4  # ann, bob, hidden, quiet; the short challenge says nothing
    assert jobs.tell_challenges() == {}
    rows = {r[0]: r for r in told(Kind.CHALLENGE_ENDING)}
    assert set(rows) == {ann.id, bob.id, hidden.id, quiet.id}
    assert rows[ann.id][2] == f"{c.title} ends tomorrow"
    assert rows[ann.id][3].endswith("You are 1st of 2 with 3 shares.")
    assert rows[bob.id][3].endswith("You are 2nd of 2 with 1 share.")
    assert "You are" not in rows[hidden.id][3]  # not on the board: no rank
    assert "You are" not in rows[quiet.id][3]
    assert db.session.get(Challenge, short.id).ending_told_at is None


def test_a_frozen_challenge_ending_tomorrow_gives_no_rank(ctx):
    now = utcnow()
    c = ChallengeFactory(
        starts_at=now - timedelta(days=3), ends_at=now + timedelta(hours=20), freeze_hours=24
    )
    ann, _bob, _hidden = history(c)
    db.session.commit()
    jobs.tell_challenges()
    body = {r[0]: r[3] for r in told(Kind.CHALLENGE_ENDING)}[ann.id]
    assert "You are" not in body


def test_results_are_told_after_settlement_once_to_each_placed_person(ctx):
    c = finished()
    ann, bob, _hidden = history(c)
    gone = person()
    db.session.commit()
    assert settlement.settle_challenge(c.id) is True
    assert told(Kind.CHALLENGE_RESULTS) == []  # not inside the settlement
    db.session.commit()
    done = jobs.tell_challenges()
    assert done == {"results": 2}
    assert jobs.tell_challenges() == {}
    rows = {r[0]: r for r in told(Kind.CHALLENGE_RESULTS)}
    assert set(rows) == {ann.id, bob.id}  # the hidden one has no placing
    assert rows[ann.id][2] == f"Results: {c.title}"
    assert rows[ann.id][3] == (
        "You finished 1st of 2 with 3 shares. You won a prize: see the challenge page."
    )
    assert rows[bob.id][3].startswith("You finished 2nd of 2 with 1 share.")
    assert gone.id not in rows
    assert db.session.get(Challenge, c.id).results_told_at is not None
    # Told again by hand: the key holds.
    db.session.execute(Challenge.__table__.update().values(results_told_at=None))
    assert jobs.tell_challenges() == {"results": 0}


def test_team_results_reach_the_members_taking_part_of_each_placed_team(ctx):
    c = finished(mode=Mode.TEAM, prizes=[])
    ann, bob, _hidden = history(c)
    mate = EmployeeFactory(team_id=ann.team_id, opted_in=True)
    outsider = EmployeeFactory(team_id=ann.team_id)  # not taking part
    db.session.commit()
    settlement.settle_challenge(c.id)
    db.session.commit()
    jobs.tell_challenges()
    rows = {r[0]: r[3] for r in told(Kind.CHALLENGE_RESULTS)}
    assert {ann.id, mate.id, bob.id} <= set(rows)
    assert outsider.id not in rows
    assert rows[mate.id].startswith("Your team finished")


# Referrals ----------------------------------------------------------------------------


def test_a_new_stage_is_told_to_the_referrer_only_without_naming_the_candidate(ctx):
    ReferralProgrammeFactory(content_tag="job")
    ad = job_share()
    record(ad, ReferralStage.APPLIED, candidate="cand-secret")
    record(ad, ReferralStage.APPLIED, candidate="cand-secret")  # reported twice
    record(ad, ReferralStage.INTERVIEWED, candidate="cand-secret")
    rows = told(Kind.REFERRAL_STAGE)
    owner = ad.share.employee_id
    assert [(r[0], r[2]) for r in rows] == [
        (owner, "Someone you referred applied"),
        (owner, "Someone you referred was invited to an interview"),
    ]
    assert all("cand-secret" not in r[2] + r[3] for r in rows)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
    # Mail is on by default for this kind: the referrer waits on it.
    assert mailed(Kind.REFERRAL_STAGE) == [owner, owner]


def test_a_stage_that_awards_nothing_tells_nobody(ctx):
    ReferralProgrammeFactory(content_tag="job")
    ad = job_share(tag="not-a-programme")
    record(ad, ReferralStage.APPLIED)
    assert told(Kind.REFERRAL_STAGE) == []


# Your week ----------------------------------------------------------------------------


def test_your_week_is_told_once_to_people_who_did_something(ctx):
    week, began, _previous, previous_began = your_week._weeks(utcnow())
    busy, quiet, opted_out = person(), person(), EmployeeFactory()
    at = previous_began + timedelta(days=1)
    LedgerLineFactory(employee_id=busy.id, points=12, occurred_at=at)
    EventFactory(kind=EventKind.SHARE, employee_id=busy.id, occurred_at=at)
    EventFactory(kind=EventKind.CLICK, employee_id=busy.id, occurred_at=at, natural_key="c1")
    LedgerLineFactory(employee_id=opted_out.id, points=3, occurred_at=at)
    LedgerLineFactory(employee_id=quiet.id, points=3, occurred_at=previous_began - timedelta(1))
    db.session.commit()
    home_ranks.ensure_snapshot(previous_began + timedelta(minutes=5))
    now = began + timedelta(hours=1)
    assert sum(your_week.tell_weeks(now)) == 1
    db.session.commit()
    assert sum(your_week.tell_weeks(now)) == 0
    rows = told(Kind.YOUR_WEEK)
    assert [(r[0], r[1]) for r in rows] == [(busy.id, f"week:{week}")]
    assert rows[0][3] == (
        "Last week: 1 share, 1 counted click, 12 points. You are on the company board now, 1st."
    )
    assert mailed(Kind.YOUR_WEEK) == []  # mail is off by default
    # Late in the week it is old news.
    assert sum(your_week.tell_weeks(began + timedelta(days=2))) == 0


def test_your_week_mails_whoever_chose_it_and_the_job_commits(ctx):
    _week, began, _previous, previous_began = your_week._weeks(utcnow())
    ann = person(presence=Presence.HIDDEN)
    LedgerLineFactory(employee_id=ann.id, points=4, occurred_at=previous_began + timedelta(1))
    inbox.set_choices(ann, {(Kind.YOUR_WEEK, Channel.EMAIL): True})
    db.session.commit()
    told_now = list(your_week.tell_weeks(began + timedelta(minutes=30)))
    db.session.commit()
    assert sum(told_now) == 1
    assert mailed(Kind.YOUR_WEEK) == [ann.id]
    assert told(Kind.YOUR_WEEK)[0][3] == "Last week: 4 points."  # hidden: no board place
