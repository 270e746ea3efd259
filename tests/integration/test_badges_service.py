"""Badges as data, their grants and what the pages show, against real SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from app.errors import Conflict, InvalidInput
from app.extensions import db, get_redis
from app.models import AuditEntry, Badge, BadgeGrant, BadgeTally, LineKind, Role
from app.queue import queue
from app.services import badges
from scoring.badges import NEVER, ONCE_PERIOD, POINTS_LINE, Level, challenge_period, gates_version
from scoring.challenges import ChallengeState, Mode
from scoring.vocabulary import EventKind
from tests.factories import (
    ChallengeDeclineFactory,
    ChallengeFactory,
    ChallengePlacingFactory,
    CompanySettingsFactory,
    EmployeeFactory,
    EventFactory,
    LedgerLineFactory,
    LessonCompletionFactory,
    TeamFactory,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SHARES = {
    "id": "sharer",
    "name": "Sharer",
    "kind": "count",
    "measure": "shares",
    "levels": {"bronze": 2, "silver": 4},
}


@pytest.fixture
def company(ctx):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    return ctx


def person(**attributes):
    attributes.setdefault("opted_in", True)
    return EmployeeFactory(**attributes)


_keys = iter(range(10**9))


def share(employee, at, kind=EventKind.SHARE, team_id=None):
    return EventFactory(
        kind=kind,
        employee_id=employee.id,
        team_id=team_id if team_id is not None else employee.team_id,
        occurred_at=at,
        natural_key=f"{kind}:{next(_keys)}",
    )


def grants(employee=None) -> list[tuple[str, Level, str, datetime, bool]]:
    query = select(
        Badge.slug, BadgeGrant.level, BadgeGrant.period, BadgeGrant.granted_at, BadgeGrant.quiet
    ).join(Badge, Badge.id == BadgeGrant.badge_id)
    if employee is not None:
        query = query.where(BadgeGrant.employee_id == employee.id)
    return [
        tuple(row)
        for row in db.session.execute(query.order_by(BadgeGrant.granted_at, BadgeGrant.id))
    ]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Definitions -----------------------------------------------------------------------


def test_a_badge_is_created_from_its_definition_and_backfilled_after_commit(company):
    hr = person(role=Role.HR)
    badge = badges.create_badge(hr, SHARES)
    assert (badge.slug, badge.name, badge.active) == ("sharer", "Sharer", True)
    assert badge.definition == SHARES
    assert queue("default").count == 0  # nothing queued before the commit
    db.session.commit()
    assert [j.func_name for j in queue("default").jobs] == ["app.jobs.backfill_badge"]
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.target_id) == ("badge.create", badge.id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "Not A Slug"}, "id"),
        ({"kind": "bogus"}, "kind"),
        ({"measure": "likes"}, "measure"),
        ({"levels": {"bronze": 5, "silver": 3}}, "levels.silver"),
        ({"levels": {"platinum": 5}}, "levels.platinum"),
        ({"grace_weeks": 2}, "grace_weeks"),
        ({"name": "  "}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_definition_names_the_field_and_writes_nothing(company, change, field):
    with pytest.raises(InvalidInput) as refused:
        badges.create_badge(None, {**SHARES, **change})
    assert field in refused.value.errors
    db.session.rollback()
    assert count(Badge) == 0
    assert count(AuditEntry) == 0


def test_ids_and_names_are_unique(company):
    badges.create_badge(None, SHARES)
    with pytest.raises(Conflict) as same_id:
        badges.create_badge(None, {**SHARES, "name": "Other"})
    assert "id" in same_id.value.errors
    with pytest.raises(Conflict) as same_name:
        badges.create_badge(None, {**SHARES, "id": "other", "name": "SHARER"})
    assert "name" in same_name.value.errors


def test_the_slug_never_changes_and_a_refused_edit_changes_nothing(company):
    badge = badges.create_badge(None, SHARES)
    db.session.commit()
    with pytest.raises(InvalidInput) as renamed:
        badges.update_badge(None, badge, {"id": "other"})
    assert "id" in renamed.value.errors
    with pytest.raises(InvalidInput) as bad:
        badges.update_badge(None, badge, {"levels": {"bronze": 0}})
    assert "levels.bronze" in bad.value.errors
    db.session.rollback()
    assert db.session.get(Badge, badge.id).definition == SHARES


def test_words_change_without_a_backfill_and_criteria_with_one(company):
    badge = badges.create_badge(None, SHARES)
    db.session.commit()
    queue("default").empty()
    badges.update_badge(None, badge, {"name": "Sharer!", "description": "Keep going"})
    db.session.commit()
    assert queue("default").count == 0
    assert badge.definition["name"] == badge.name == "Sharer!"
    badges.update_badge(None, badge, {"levels": {"bronze": 3}})
    db.session.commit()
    assert [j.func_name for j in queue("default").jobs] == ["app.jobs.backfill_badge"]
    # Switching the kind: a field that no longer applies is removed with a null.
    badges.update_badge(
        None, badge, {"kind": "streak", "measure": None, "levels": {"bronze": 4}, "grace_weeks": 1}
    )
    assert badges.describe(badge) == "Share in 4 weeks running (one week's pause allowed)"


def test_retired_badges_are_not_granted_and_come_back_with_a_backfill(company):
    badge = badges.create_badge(None, SHARES)
    someone = person()
    share(someone, NOW - timedelta(days=1))
    share(someone, NOW - timedelta(hours=1))
    badges.retire_badge(None, badge)
    db.session.commit()
    assert badges.evaluate_employees([someone.id], NOW) == 0
    queue("default").empty()
    badges.update_badge(None, badge, {"active": True})
    db.session.commit()
    assert [j.func_name for j in queue("default").jobs] == ["app.jobs.backfill_badge"]
    assert badges.evaluate_employees([someone.id], NOW) == 1


def test_the_default_badges_are_valid_and_installed_once(company):
    created = badges.ensure_default_badges()
    db.session.commit()
    assert len(created) == len(badges.DEFAULT_BADGES) >= 9
    assert badges.ensure_default_badges() == []
    words = {b.slug: badges.describe(b) for b in created}
    assert words["four-weeks-running"].startswith("Share in 4 weeks running")
    assert "one week's pause allowed" in words["four-weeks-running"]
    assert words["podium"].startswith("Place in the top 3")


# Grants ----------------------------------------------------------------------------


def test_a_grant_is_dated_when_the_threshold_was_crossed(company):
    badge = badges.create_badge(None, SHARES)
    someone = person()
    first, second = NOW - timedelta(days=10), NOW - timedelta(hours=3)
    share(someone, first)
    share(someone, second)
    share(someone, NOW - timedelta(hours=2), kind=EventKind.CLICK)  # counts for nothing here
    db.session.commit()
    assert badges.evaluate_employees([someone.id], NOW) == 1
    assert grants(someone) == [("sharer", Level.BRONZE, ONCE_PERIOD, second, False)]
    assert badge.id == db.session.scalar(select(BadgeGrant.badge_id))


def test_old_crossings_are_quiet_and_evaluating_again_adds_nothing(company):
    badges.create_badge(None, SHARES)
    someone = person()
    for days in (30, 20, 10, 3):
        share(someone, NOW - timedelta(days=days))
    db.session.commit()
    assert badges.evaluate_employees([someone.id], NOW) == 2
    assert [(g[1], g[3], g[4]) for g in grants(someone)] == [
        (Level.BRONZE, NOW - timedelta(days=20), True),
        (Level.SILVER, NOW - timedelta(days=3), True),
    ]
    assert badges.evaluate_employees([someone.id], NOW) == 0
    assert sum(badges.evaluate_everyone(NOW)) == 0
    assert len(grants()) == 2


def test_only_people_taking_part_earn_badges(company):
    badges.create_badge(None, SHARES)
    left, gone = person(), person(active=False)
    for who in (left, gone):
        share(who, NOW - timedelta(days=2))
        share(who, NOW - timedelta(days=1))
    left.opted_in_at = None
    db.session.commit()
    assert badges.evaluate_employees([left.id, gone.id], NOW) == 0
    assert sum(badges.evaluate_everyone(NOW)) == 0


def test_a_reversal_of_points_leaves_the_badge(company):
    badges.create_badge(
        None,
        {
            "id": "points",
            "name": "Points",
            "kind": "count",
            "measure": "points",
            "levels": {"bronze": 100},
        },
    )
    someone = person()
    LedgerLineFactory(employee_id=someone.id, points=60, occurred_at=NOW - timedelta(days=3))
    LedgerLineFactory(employee_id=someone.id, points=50, occurred_at=NOW - timedelta(days=2))
    db.session.commit()
    assert badges.evaluate_employees([someone.id], NOW) == 1
    LedgerLineFactory(
        employee_id=someone.id,
        kind=LineKind.COMPENSATION,
        points=-50,
        occurred_at=NOW - timedelta(days=1),
        reason="Referral withdrawn",
    )
    db.session.commit()
    assert badges.evaluate_employees([someone.id], NOW) == 0
    assert sum(badges.evaluate_everyone(NOW)) == 0
    assert [g[3] for g in grants(someone)] == [NOW - timedelta(days=2)]
    card = next(c for c in badges.catalogue_for(someone, NOW) if c.badge.slug == "points")
    assert card.earned[0].level is Level.BRONZE
    assert card.progress.current == 60


def test_a_finished_lesson_earns_the_lesson_badge(company):
    badges.create_badge(
        None, {"id": "first-lesson", "name": "First lesson", "kind": "first", "measure": "lessons"}
    )
    someone = person()
    done = NOW - timedelta(hours=5)
    LessonCompletionFactory(employee_id=someone.id, completed_at=done)
    db.session.commit()
    assert badges.evaluate_employees([someone.id], NOW) == 1
    assert grants(someone) == [("first-lesson", Level.ONCE, ONCE_PERIOD, done, False)]


def test_placings_count_for_the_person_or_for_who_scored_for_the_team(company):
    badges.create_badge(
        None, {"id": "podium", "name": "Podium", "kind": "placing", "top": 3, "per_challenge": True}
    )
    team = TeamFactory()
    scorer, idle, declined, newcomer, alone = (person(team=team) for _ in range(5))
    settled_at = NOW - timedelta(days=1)
    start = NOW - timedelta(days=10)
    duel = ChallengeFactory(
        mode=Mode.TEAM,
        state=ChallengeState.SETTLED,
        settled_at=settled_at,
        digest="x" * 64,
        starts_at=start,
        ends_at=start + timedelta(days=7),
    )
    ChallengePlacingFactory(challenge_id=duel.id, entrant_id=team.id, rank=2)
    share(scorer, start + timedelta(days=1), team_id=team.id)
    share(declined, start + timedelta(days=1), team_id=team.id)
    ChallengeDeclineFactory(challenge_id=duel.id, employee_id=declined.id)
    share(newcomer, start + timedelta(days=8), team_id=team.id)  # after the end
    solo = ChallengeFactory(
        state=ChallengeState.SETTLED,
        settled_at=settled_at,
        digest="y" * 64,
        starts_at=start,
        ends_at=start + timedelta(days=7),
    )
    ChallengePlacingFactory(challenge_id=solo.id, entrant_id=alone.id, rank=3)
    ChallengePlacingFactory(challenge_id=solo.id, entrant_id=idle.id, rank=4)
    running = ChallengeFactory()  # not settled: its placings (none yet) count for nothing
    ChallengePlacingFactory(challenge_id=running.id, entrant_id=idle.id, rank=1)
    db.session.commit()
    everyone = [scorer.id, idle.id, declined.id, newcomer.id, alone.id]
    assert badges.evaluate_employees(everyone, NOW) == 2
    assert grants(scorer) == [("podium", Level.ONCE, challenge_period(duel.id), settled_at, False)]
    assert grants(alone) == [("podium", Level.ONCE, challenge_period(solo.id), settled_at, False)]
    assert grants(idle) == grants(declined) == grants(newcomer) == []


# Streaks on the company calendar ------------------------------------------------------


def _local(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


# Four company weeks in a row, alternating a share just after Monday midnight and one
# just before Sunday midnight, Berlin time: in UTC the weeks would not be consecutive.
ACROSS_NEW_YEAR = [
    _local(2026, 12, 14, 0, 30),  # Monday
    _local(2026, 12, 27, 23, 30),  # Sunday
    _local(2026, 12, 28, 0, 30),  # Monday of the week with New Year's Day
    _local(2027, 1, 10, 23, 30),  # Sunday
]
ACROSS_DST_END = [
    _local(2026, 10, 12, 0, 30),
    _local(2026, 10, 25, 23, 30),  # the Sunday clocks went back
    _local(2026, 10, 26, 0, 30),
    _local(2026, 11, 8, 23, 30),
]
ACROSS_DST_START = [
    _local(2027, 3, 15, 0, 30),
    _local(2027, 3, 28, 23, 30),  # the Sunday clocks went forward
    _local(2027, 3, 29, 0, 30),
    _local(2027, 4, 11, 23, 30),
]


@pytest.mark.parametrize(
    "moments",
    [ACROSS_NEW_YEAR, ACROSS_DST_END, ACROSS_DST_START],
    ids=["new-year", "dst-end", "dst-start"],
)
def test_a_streak_follows_the_company_calendar(company, moments):
    badges.create_badge(
        None, {"id": "streak", "name": "Streak", "kind": "streak", "levels": {"bronze": 4}}
    )
    someone = person()
    for moment in moments:
        share(someone, moment)
    db.session.commit()
    after = moments[-1] + timedelta(hours=1)
    assert badges.evaluate_employees([someone.id], after) == 1
    assert grants(someone) == [("streak", Level.BRONZE, ONCE_PERIOD, moments[-1], False)]
    streak = badges.streak_for(someone, after)
    assert (streak.current, streak.longest) == (4, 4)
    assert badges.streak_words(someone, after) == "4 weeks running"
    # Three weeks on without a share the run is over, and told as an invitation.
    assert badges.streak_words(someone, after + timedelta(weeks=3)) == (
        "Share this week to start a streak"
    )


# Pages and home ------------------------------------------------------------------------


def test_the_catalogue_shows_earned_levels_progress_and_words(company):
    badges.create_badge(None, SHARES)
    badges.create_badge(
        None,
        {
            "id": "clicks",
            "name": "Clicks",
            "kind": "count",
            "measure": "clicks",
            "levels": {"bronze": 10},
        },
    )
    retired = badges.create_badge(
        None, {"id": "old", "name": "Old", "kind": "first", "measure": "shares"}
    )
    someone = person()
    share(someone, NOW - timedelta(days=2))
    share(someone, NOW - timedelta(days=1))
    share(someone, NOW - timedelta(hours=1))
    for hours in (5, 4):
        share(someone, NOW - timedelta(hours=hours), kind=EventKind.CLICK)
    db.session.commit()
    badges.evaluate_employees([someone.id], NOW)
    badges.retire_badge(None, retired)
    db.session.commit()
    cards = {c.badge.slug: c for c in badges.catalogue_for(someone, NOW)}
    assert set(cards) == {"sharer", "clicks", "old"}  # retired but held
    sharer = cards["sharer"]
    assert [e.level for e in sharer.earned] == [Level.BRONZE]
    assert not sharer.locked
    assert (sharer.progress.current, sharer.progress.threshold, sharer.progress.percent) == (
        3,
        4,
        75,
    )
    assert sharer.description == "Share 2 times for bronze and 4 for silver"
    assert cards["clicks"].locked
    assert cards["clicks"].progress.percent == 20
    closest = badges.next_badge_progress(someone, NOW)
    assert closest.badge.slug == "sharer"
    assert closest.progress.next_level is Level.SILVER
    assert [g.badge.slug for g in badges.grants_of(someone)] == ["sharer", "old"]
    since = NOW - timedelta(days=7)
    assert {g.badge.slug for g in badges.recent_grants(someone, since)} == {"sharer", "old"}


def test_recent_grants_leave_out_quiet_backfill(company):
    badges.create_badge(None, SHARES)
    someone = person()
    share(someone, NOW - timedelta(days=30))
    share(someone, NOW - timedelta(days=20))
    db.session.commit()
    badges.evaluate_employees([someone.id], NOW)
    assert badges.grants_of(someone)[0].quiet
    assert badges.recent_grants(someone, NOW - timedelta(days=60)) == []


def test_a_person_s_level_follows_lifetime_points(company):
    someone = person()
    LedgerLineFactory(employee_id=someone.id, points=120)
    db.session.commit()
    level = badges.level_of(someone)
    assert (level.number, level.points, level.next_threshold) == (2, 120, 250)


def test_the_preview_tells_who_would_get_it_and_writes_nothing(company):
    early, late, none = person(name="Ada"), person(name="Bo"), person(name="Cy")
    for who, days in ((early, (9, 8, 7, 6)), (late, (3, 2)), (none, (1,))):
        for day in days:
            share(who, NOW - timedelta(days=day))
    db.session.commit()
    shown = badges.preview(SHARES, NOW)
    assert shown.count == 2
    assert [(e.name, e.level, e.granted_at) for e in shown.sample] == [
        ("Ada", Level.SILVER, NOW - timedelta(days=6)),
        ("Bo", Level.BRONZE, NOW - timedelta(days=2)),
    ]
    assert badges.preview(SHARES, NOW, limit=1).sample[0].name == "Ada"
    with pytest.raises(InvalidInput) as refused:
        badges.preview({**SHARES, "levels": {"gold": -1}}, NOW)
    assert "levels.gold" in refused.value.errors
    assert count(Badge) == count(BadgeGrant) == 0


# Incremental evaluation gives what the nightly pass gives ---------------------------------

KINDS = [EventKind.SHARE, EventKind.CLICK, EventKind.REFERRAL_HIRED]
history = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(KINDS), st.integers(0, 120 * 24)),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=history, batches=st.integers(1, 5), nightly_after=st.integers(0, 5))
def test_incremental_evaluation_gives_what_the_nightly_pass_gives(
    company, items, batches, nightly_after
):
    for table in reversed(db.metadata.sorted_tables):  # each example starts afresh
        db.session.execute(table.delete())
    get_redis().flushdb()
    CompanySettingsFactory(time_zone="Europe/Berlin")
    for data in badges.DEFAULT_BADGES:
        badges.create_badge(None, data)
    people = [person() for _ in range(3)]
    start = NOW - timedelta(days=120)
    items = sorted(items, key=lambda item: item[2])
    size = max(1, len(items) // batches)
    for first in range(0, len(items), size):
        batch = items[first : first + size]
        for who, kind, hours in batch:
            at = start + timedelta(hours=hours)
            share(people[who], at, kind=kind)
            LedgerLineFactory(employee_id=people[who].id, points=37, occurred_at=at)
        db.session.commit()
        moment = start + timedelta(hours=batch[-1][2], minutes=1)
        did: dict[int, set[str]] = {}  # as a scoring batch reports it
        for who, kind, _ in batch:
            did.setdefault(people[who].id, {POINTS_LINE}).add(kind)
        badges.evaluate_employees(None, moment, kinds=did)
        if first // size == nightly_after:  # a full pass on the way sets everyone's gates
            sum(badges.evaluate_everyone(moment))
    incremental = whose_grants()
    db.session.execute(BadgeGrant.__table__.delete())
    nightly = sum(badges.evaluate_everyone(NOW))
    assert whose_grants() == incremental
    assert nightly == len(incremental)


def whose_grants() -> set[tuple]:
    """Every grant with its holder: two people crossing at the same moment are two."""
    query = select(
        BadgeGrant.employee_id,
        Badge.slug,
        BadgeGrant.level,
        BadgeGrant.period,
        BadgeGrant.granted_at,
    ).join(Badge, Badge.id == BadgeGrant.badge_id)
    return {tuple(row) for row in db.session.execute(query)}


def gate(employee, fact: str) -> tuple[int, int]:
    query = select(BadgeTally.next_level_at, BadgeTally.gates_version).where(
        BadgeTally.employee_id == employee.id, BadgeTally.fact == fact
    )
    return tuple(db.session.execute(query).one())


def current_version() -> int:
    return gates_version([badges.definition_of(b) for b in badges.active_badges()])


def test_a_batch_looks_only_at_tallies_that_reached_their_gate(company):
    badges.create_badge(None, SHARES)  # bronze at 2 shares, silver at 4
    version = current_version()
    ada = person()
    did = {ada.id: {EventKind.SHARE}}
    share(ada, NOW - timedelta(days=3))
    assert gate(ada, EventKind.SHARE) == (0, 0)  # not worked out yet
    assert badges.evaluate_employees(None, NOW, kinds=did) == 0
    assert gate(ada, EventKind.SHARE) == (2, version)
    share(ada, NOW - timedelta(days=2))
    assert badges.evaluate_employees(None, NOW, kinds=did) == 1
    assert gate(ada, EventKind.SHARE) == (4, version)
    # The gate is trusted: below it nobody is looked at, even with a level due (as
    # here, where it was raised by hand).
    db.session.execute(update(BadgeTally).values(next_level_at=100))
    share(ada, NOW - timedelta(days=1, hours=2))
    share(ada, NOW - timedelta(days=1))
    assert badges.evaluate_employees(None, NOW, kinds=did) == 0
    # The nightly pass finds the level all the same and puts the gate right.
    assert sum(badges.evaluate_everyone(NOW)) == 1
    assert gate(ada, EventKind.SHARE) == (NEVER, version)
    assert [level for _, level, *_ in grants(ada)] == [Level.BRONZE, Level.SILVER]


def test_gates_worked_out_for_other_thresholds_are_not_trusted(company):
    badges.create_badge(None, SHARES)
    ada = person()
    did = {ada.id: {EventKind.SHARE}}
    for days in (5, 4):
        share(ada, NOW - timedelta(days=days))
    assert badges.evaluate_employees(None, NOW, kinds=did) == 1
    assert gate(ada, EventKind.SHARE)[0] == 4
    # HR lowers silver to 3: the next batch looks at Ada again, though 3 < her gate.
    badges.update_badge(None, badges.active_badges()[0], {"levels": {"bronze": 2, "silver": 3}})
    share(ada, NOW - timedelta(days=3))
    assert badges.evaluate_employees(None, NOW, kinds=did) == 1
    assert gate(ada, EventKind.SHARE) == (NEVER, current_version())


def test_after_a_scoring_batch_only_the_badges_on_what_each_did_are_looked_at(company):
    badges.create_badge(None, SHARES)
    clicker = person()
    share(clicker, NOW - timedelta(days=2))
    share(clicker, NOW - timedelta(days=1))
    db.session.commit()
    # Told only of a click, the share badge is not looked at; told of a share, it is.
    assert badges.evaluate_employees(None, NOW, kinds={clicker.id: {EventKind.CLICK}}) == 0
    assert badges.evaluate_employees(None, NOW, kinds={clicker.id: {EventKind.SHARE}}) == 1
    touched = {clicker.id: {EventKind.SHARE, POINTS_LINE}, 7: {EventKind.CLICK}}
    assert badges.parse_touched(badges.format_touched(touched)) == touched
    assert badges.parse_touched("5;6:click") == {5: None, 6: {"click"}}
