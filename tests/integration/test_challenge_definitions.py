"""Challenge definitions against real SQL: who may create, edit and cancel which
challenge, who sees which, what may change once it has started, declining and taking
part again, and that every refusal writes nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import AuditEntry, Challenge, ChallengeDecline, Role, utcnow
from app.services import challenges
from scoring.challenges import ChallengeState, Metric, Mode, ScopeKind
from tests.factories import (
    BadgeFactory,
    ChallengeFactory,
    ContentItemFactory,
    EmployeeFactory,
    RewardFactory,
    TeamFactory,
)


def _data(**changes):
    now = utcnow()
    return {
        "title": "Spring sharing",
        "description": "Share the spring campaign.",
        "starts_at": now + timedelta(hours=1),
        "ends_at": now + timedelta(days=7),
        "metric": Metric.SHARES,
        "scope": ScopeKind.COMPANY,
        **changes,
    }


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def people(ctx):
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    found = {
        "red": red,
        "blue": blue,
        "hr": EmployeeFactory(role=Role.HR, team=None),
        "admin": EmployeeFactory(role=Role.ADMIN, team=None),
        "red_lead": EmployeeFactory(role=Role.TEAM_LEAD, team=red),
        "blue_lead": EmployeeFactory(role=Role.TEAM_LEAD, team=blue),
        "red_member": EmployeeFactory(team=red, opted_in=True),
        "blue_member": EmployeeFactory(team=blue, opted_in=True),
        "teamless_lead": EmployeeFactory(role=Role.TEAM_LEAD, team=None),
    }
    db.session.commit()
    return found


# Creating --------------------------------------------------------------------------


def test_hr_creates_each_scope_with_an_audit_entry(people):
    red, blue = people["red"].id, people["blue"].id
    company = challenges.create_challenge(people["hr"], _data())
    chosen = challenges.create_challenge(
        people["hr"], _data(scope=ScopeKind.TEAMS, team_ids=[red, blue], mode=Mode.TEAM)
    )
    versus = challenges.create_challenge(
        people["admin"], _data(scope=ScopeKind.TEAM_VS_TEAM, team_ids=[blue, red], mode=Mode.TEAM)
    )
    db.session.commit()
    assert challenges.team_ids_of(company) == []
    assert challenges.team_ids_of(chosen) == sorted([red, blue])
    assert challenges.team_ids_of(versus) == sorted([red, blue])
    assert company.organiser_id == people["hr"].id
    assert company.state == ChallengeState.OPEN
    assert company.lateness_hours == 24
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_type == "challenges")
    ).all()
    assert actions == ["challenge.create"] * 3


def test_a_team_lead_creates_for_their_own_team_only(people):
    red, blue = people["red"].id, people["blue"].id
    own = challenges.create_challenge(
        people["red_lead"], _data(scope=ScopeKind.TEAMS, team_ids=[red])
    )
    db.session.commit()
    assert challenges.team_ids_of(own) == [red]
    for data in (
        _data(scope=ScopeKind.TEAMS, team_ids=[blue]),
        _data(scope=ScopeKind.TEAMS, team_ids=[red, blue]),
        _data(),  # the company
        _data(scope=ScopeKind.TEAM_VS_TEAM, team_ids=[red, blue], mode=Mode.TEAM),
    ):
        with pytest.raises(Forbidden) as refused:
            challenges.create_challenge(people["red_lead"], data)
        assert "team_ids" in refused.value.errors
        db.session.rollback()
    with pytest.raises(Forbidden):
        challenges.create_challenge(
            people["teamless_lead"], _data(scope=ScopeKind.TEAMS, team_ids=[red])
        )
    db.session.rollback()
    assert _count(Challenge) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"starts_at": utcnow() - timedelta(days=2)}, "starts_at"),
        ({"ends_at": utcnow() - timedelta(hours=1)}, "ends_at"),
        ({"freeze_hours": 24 * 7}, "freeze_hours"),
        ({"scope": ScopeKind.TEAMS}, "team_ids"),
        ({"scope": ScopeKind.TEAMS, "team_ids": [999999]}, "team_ids"),
        ({"content_ids": [999999]}, "content_ids"),
        ({"prizes": [{"kind": "badge", "value": 999999, "place": 1}]}, "prizes"),
        ({"prizes": [{"kind": "reward", "value": 999999, "place": None}]}, "prizes"),
        ({"prizes": [{"kind": "points", "value": 10**6, "place": 1}]}, "prizes"),
        (
            {
                "prizes": [
                    {"kind": "points", "value": 5, "place": 1},
                    {"kind": "points", "value": 9, "place": 1},
                ]
            },
            "prizes",
        ),
    ],
)
def test_a_bad_definition_names_its_field_and_writes_nothing(people, changes, field):
    with pytest.raises(InvalidInput) as refused:
        challenges.create_challenge(people["hr"], _data(**changes))
    assert field in refused.value.errors
    db.session.rollback()
    assert _count(Challenge) == 0
    assert _count(AuditEntry) == 0


def test_prizes_must_be_active_badges_and_rewards_in_the_catalogue(people):
    retired_badge = BadgeFactory(active=False)
    retired_reward = RewardFactory(active=False)
    badge, reward = BadgeFactory(), RewardFactory()
    db.session.commit()
    for prize in (
        {"kind": "badge", "value": retired_badge.id},
        {"kind": "reward", "value": retired_reward.id},
    ):
        with pytest.raises(InvalidInput):
            challenges.create_challenge(people["hr"], _data(prizes=[{**prize, "place": 1}]))
        db.session.rollback()
    content = ContentItemFactory()
    made = challenges.create_challenge(
        people["hr"],
        _data(
            content_ids=[content.id],
            tags=[" Spring ", "spring"],
            prizes=[
                {"kind": "badge", "value": badge.id, "place": 1},
                {"kind": "reward", "value": reward.id, "place": None},
                {"kind": "points", "value": 50, "place": 2},
            ],
        ),
    )
    db.session.commit()
    assert made.tags == ["spring"]
    lines = [(line.who, line.what) for line in challenges.prize_lines(made)]
    assert lines == [
        ("1st place", f"the badge {badge.name}"),
        ("2nd place", "50 bonus points"),
        ("Everyone who qualifies", f"the reward {reward.name}"),
    ]


# Who sees what ---------------------------------------------------------------------


def test_who_sees_which_challenge(people):
    red, blue = people["red"], people["blue"]
    company = ChallengeFactory(title="Everyone")
    reds = ChallengeFactory(title="Reds", scope=ScopeKind.TEAMS, teams=[red])
    blues = ChallengeFactory(title="Blues", scope=ScopeKind.TEAMS, teams=[blue])
    versus = ChallengeFactory(
        title="Versus", scope=ScopeKind.TEAM_VS_TEAM, mode=Mode.TEAM, teams=[red, blue]
    )
    db.session.commit()
    expected = {
        "hr": {company.id, reds.id, blues.id, versus.id},
        "red_member": {company.id, reds.id, versus.id},
        "red_lead": {company.id, reds.id, versus.id},
        "blue_member": {company.id, blues.id, versus.id},
        "teamless_lead": {company.id},
    }
    for who, ids in expected.items():
        viewer = people[who]
        listed = {c.id for c in db.session.scalars(challenges.list_visible(viewer))}
        assert listed == ids, who
        for challenge in (company, reds, blues, versus):
            if challenge.id in ids:
                assert challenges.get_visible(viewer, challenge.id) is challenge
            else:
                with pytest.raises(NotFound):
                    challenges.get_visible(viewer, challenge.id)


def test_the_lists_split_running_upcoming_and_finished(people):
    now = utcnow()
    running = ChallengeFactory(starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    upcoming = ChallengeFactory(starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))
    ended = ChallengeFactory(starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    cancelled = ChallengeFactory(
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        state=ChallengeState.CANCELLED,
    )
    db.session.commit()
    viewer = people["red_member"]

    def ids(phase):
        return [c.id for c in db.session.scalars(challenges.list_visible(viewer, phase, now))]

    assert ids(challenges.Phase.RUNNING) == [running.id]
    assert ids(challenges.Phase.UPCOMING) == [upcoming.id]
    assert set(ids(challenges.Phase.FINISHED)) == {ended.id, cancelled.id}
    assert challenges.phase_of(cancelled, now) == challenges.Phase.FINISHED


# Editing ---------------------------------------------------------------------------


def test_before_the_start_everything_may_change(people):
    red = people["red"].id
    made = challenges.create_challenge(
        people["red_lead"], _data(scope=ScopeKind.TEAMS, team_ids=[red])
    )
    db.session.commit()
    challenges.update_challenge(
        people["red_lead"], made, {"metric": Metric.CLICKS, "minimum": 3, "freeze_hours": 12}
    )
    db.session.commit()
    assert (made.metric, made.minimum, made.freeze_hours) == (Metric.CLICKS, 3, 12)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "challenge.update")
    ).one()
    assert entry.details["changes"] == ["freeze_hours", "metric", "minimum"]


def test_once_started_only_title_description_a_later_end_and_more_prizes(people):
    now = utcnow()
    badge = BadgeFactory()
    running = ChallengeFactory(
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=3),
        prizes=[{"kind": "badge", "value": badge.id, "place": 1}],
    )
    db.session.commit()
    hr = people["hr"]
    for changes, field in (
        ({"metric": Metric.POINTS}, "metric"),
        ({"minimum": 5}, "minimum"),
        ({"ends_at": now + timedelta(days=2)}, "ends_at"),
        ({"prizes": []}, "prizes"),
    ):
        with pytest.raises(Conflict) as refused:
            challenges.update_challenge(hr, running, changes)
        assert field in refused.value.errors
        db.session.rollback()
    db.session.refresh(running)
    assert (running.metric, running.minimum) == (Metric.SHARES, 0)
    later = now + timedelta(days=5)
    challenges.update_challenge(
        hr,
        running,
        {
            "title": "Renamed",
            "ends_at": later,
            "prizes": [
                {"kind": "badge", "value": badge.id, "place": 1},
                {"kind": "points", "value": 20, "place": None},
            ],
        },
    )
    db.session.commit()
    assert running.title == "Renamed"
    assert running.ends_at == later
    assert len(running.prizes) == 2


@pytest.mark.parametrize("state", [ChallengeState.SETTLED, ChallengeState.CANCELLED])
def test_nothing_changes_once_final(people, state):
    final = ChallengeFactory(state=state, digest="0" * 64)
    db.session.commit()
    with pytest.raises(Conflict):
        challenges.update_challenge(people["hr"], final, {"title": "Again"})
    db.session.rollback()
    assert db.session.get(Challenge, final.id).title != "Again"


def test_nothing_changes_while_frozen_even_before_the_freeze_job(people):
    now = utcnow()
    frozen = ChallengeFactory(
        starts_at=now - timedelta(days=2), ends_at=now + timedelta(hours=2), freeze_hours=24
    )
    db.session.commit()
    assert challenges.state_of(frozen, now) is ChallengeState.FROZEN
    with pytest.raises(Conflict):
        challenges.update_challenge(people["hr"], frozen, {"description": "x"})


def test_a_team_lead_edits_and_cancels_only_their_own_teams(people):
    red, blue = people["red"], people["blue"]
    reds = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[red])
    both = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[red, blue], organiser=people["hr"])
    db.session.commit()
    for challenge in (both,):
        with pytest.raises(Forbidden):
            challenges.update_challenge(people["red_lead"], challenge, {"title": "Mine now"})
        db.session.rollback()
        with pytest.raises(Forbidden):
            challenges.cancel_challenge(people["red_lead"], challenge)
        db.session.rollback()
    with pytest.raises(Forbidden):
        challenges.update_challenge(people["blue_lead"], reds, {"title": "Blue's"})
    db.session.rollback()
    # moving it to another team is organising for that team
    with pytest.raises(Forbidden):
        challenges.update_challenge(people["red_lead"], reds, {"team_ids": [blue.id]})
    db.session.rollback()
    challenges.update_challenge(people["red_lead"], reds, {"title": "Red's own"})
    db.session.commit()
    assert reds.title == "Red's own"
    assert db.session.get(Challenge, both.id).state == ChallengeState.OPEN


# Cancelling ------------------------------------------------------------------------


def test_cancel_once_with_an_audit_entry_and_never_a_settled_one(people):
    open_one = ChallengeFactory()
    settled = ChallengeFactory(state=ChallengeState.SETTLED, digest="0" * 64)
    db.session.commit()
    challenges.cancel_challenge(people["hr"], open_one)
    db.session.commit()
    assert open_one.state == ChallengeState.CANCELLED
    assert open_one.cancelled_by_id == people["hr"].id
    assert open_one.cancelled_at is not None
    with pytest.raises(Conflict):
        challenges.cancel_challenge(people["hr"], open_one)
    db.session.rollback()
    with pytest.raises(Conflict):
        challenges.cancel_challenge(people["hr"], settled)
    db.session.rollback()
    assert db.session.get(Challenge, settled.id).state == ChallengeState.SETTLED
    assert (
        db.session.scalar(select(func.count()).where(AuditEntry.action == "challenge.cancel")) == 1
    )


def test_a_cancel_that_loses_the_race_to_settlement_changes_nothing(people):
    """The page read the challenge open; settlement moved it meanwhile: the conditional
    UPDATE finds no row, and the cancel is refused."""
    challenge = ChallengeFactory()
    db.session.commit()
    assert challenge.state == ChallengeState.OPEN  # what the cancelling request read
    # settlement commits in between (another connection would do the same)
    db.session.execute(
        update(Challenge)
        .where(Challenge.id == challenge.id)
        .values(state=ChallengeState.SETTLED, digest="f" * 64, settled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    set_committed_value(challenge, "state", ChallengeState.OPEN)  # the stale read
    with pytest.raises(Conflict) as refused:
        challenges.cancel_challenge(people["hr"], challenge)
    assert refused.value.message == "A settled challenge cannot be cancelled."
    db.session.rollback()
    assert db.session.get(Challenge, challenge.id).state == ChallengeState.SETTLED


def test_two_cancels_at_once_cancel_once(app, people):
    challenge_id = ChallengeFactory().id
    hr_id = people["hr"].id
    db.session.commit()
    results: list[str] = []

    def cancel():
        with app.app_context():
            hr = db.session.get(type(people["hr"]), hr_id)
            try:
                challenges.cancel_challenge(hr, db.session.get(Challenge, challenge_id))
                db.session.commit()
                results.append("cancelled")
            except Conflict:
                db.session.rollback()
                results.append("refused")
            except Exception as exc:  # SQLite's lock: the other writer holds it
                db.session.rollback()
                results.append(type(exc).__name__)

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("cancelled") == 1
    assert (
        db.session.scalar(select(func.count()).where(AuditEntry.action == "challenge.cancel")) == 1
    )


# Taking part -----------------------------------------------------------------------


def test_decline_and_rejoin_are_idempotent_and_only_for_people_in_scope(people):
    red = people["red"]
    reds = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[red])
    member = people["red_member"]
    db.session.commit()
    assert challenges.decline(member, reds) is True
    assert challenges.decline(member, reds) is False
    db.session.commit()
    assert challenges.has_declined(member, reds)
    assert _count(ChallengeDecline) == 1
    assert challenges.rejoin(member, reds) is True
    assert challenges.rejoin(member, reds) is False
    db.session.commit()
    assert _count(ChallengeDecline) == 0
    with pytest.raises(Conflict):
        challenges.decline(people["blue_member"], reds)
    db.session.rollback()
    settled = ChallengeFactory(state=ChallengeState.SETTLED, digest="0" * 64)
    db.session.commit()
    with pytest.raises(Conflict):
        challenges.decline(member, settled)
    db.session.rollback()
    assert _count(ChallengeDecline) == 0
