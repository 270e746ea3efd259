"""Badge tallies, kept by the database's triggers, always equal a count over the rows;
and the other reads the evaluation after a scoring batch makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.db import bulk_insert, insert_ignoring_conflicts
from app.extensions import db, get_redis
from app.models import BadgeTally, LedgerLine, LessonCompletion, LineKind
from app.services import events
from app.services.badge_history import (
    badge_standings,
    counted_tallies,
    load_each,
    load_histories,
)
from scoring.badges import ONCE_PERIOD, Needs
from scoring.vocabulary import EventKind
from tests.factories import (
    BadgeFactory,
    BadgeGrantFactory,
    EmployeeFactory,
    EventFactory,
    LedgerLineFactory,
    LessonCompletionFactory,
    LessonFactory,
)
from tests.integration.scoring_support import T0, event, run_pipeline

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
BEFORE_TALLIES = "d6c868b0bb58"  # the migration before badge tallies


def stored() -> dict[tuple[int, str], int]:
    rows = db.session.execute(select(BadgeTally.employee_id, BadgeTally.fact, BadgeTally.value))
    return {(e, fact): value for e, fact, value in rows}


def line(employee_id: int, key: str, points: int) -> dict:
    return {
        "line_key": key,
        "kind": LineKind.ADJUSTMENT,
        "employee_id": employee_id,
        "team_id": None,
        "points": points,
        "capped": False,
        "occurred_at": NOW,
        "reason": "Test",
        "created_at": NOW,
        "boards_applied": False,
    }


# What a history may hold: events (a natural key delivered again is skipped), ledger
# lines one at a time or in bulk (a line key written again is skipped; reversals and
# zero lines gain nothing) and finished lessons (finishing one again is skipped).
operation = st.one_of(
    st.tuples(
        st.just("event"),
        st.integers(0, 2),
        st.sampled_from([EventKind.SHARE, EventKind.CLICK, EventKind.REFERRAL_HIRED]),
        st.integers(0, 6),
    ),
    st.tuples(st.just("line"), st.integers(0, 2), st.integers(-40, 120), st.integers(0, 6)),
    st.tuples(
        st.just("lines"),
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(-40, 120), st.integers(0, 6)), max_size=5
        ),
    ),
    st.tuples(st.just("lesson"), st.integers(0, 2), st.integers(0, 1)),
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(operation, min_size=1, max_size=30))
def test_tallies_equal_a_count_over_the_rows_for_any_history(ctx, history):
    for table in reversed(db.metadata.sorted_tables):  # each example starts afresh
        db.session.execute(table.delete())
    get_redis().flushdb()
    people = [EmployeeFactory(opted_in=True).id for _ in range(3)]
    lessons = [LessonFactory().id for _ in range(2)]
    for step in history:
        if step[0] == "event":
            _, who, kind, key = step
            events.record_event(kind, f"{kind}:{key}", employee_id=people[who], occurred_at=NOW)
        elif step[0] == "line":
            _, who, points, key = step
            insert_ignoring_conflicts(LedgerLine, [line(people[who], f"k{key}", points)])
        elif step[0] == "lines":
            rows = {f"k{key}": line(people[who], f"k{key}", p) for who, p, key in step[1]}
            bulk_insert(
                LedgerLine.__table__,
                list(rows.values()),
                lambda statement: statement.on_conflict_do_nothing(),
            )
        else:
            _, who, lesson = step
            insert_ignoring_conflicts(
                LessonCompletion,
                [{"lesson_id": lessons[lesson], "employee_id": people[who], "completed_at": NOW}],
            )
        db.session.flush()
    db.session.commit()
    assert stored() == counted_tallies()


def test_a_scoring_batch_tallies_what_it_scored(store):
    sharer = EmployeeFactory(opted_in=True)
    for day in range(3):
        event(sharer, EventKind.SHARE, at=T0 + timedelta(days=day))
    assert stored() == {(sharer.id, "share"): 3}  # recorded: counted at once
    assert run_pipeline(store) == (3, 3)
    assert stored() == counted_tallies() == {(sharer.id, "share"): 3, (sharer.id, "points"): 15}


def test_standings_read_the_tallies_and_grants_of_the_people_asked(ctx):
    sharer, left, idle = (EmployeeFactory(opted_in=o) for o in (True, False, True))
    badge = BadgeFactory()
    for person in (sharer, left):
        EventFactory(kind=EventKind.CLICK, employee_id=person.id, occurred_at=NOW)
        LedgerLineFactory(employee_id=person.id, points=7)
    LedgerLineFactory(employee_id=sharer.id, points=-3)  # a reversal gains nothing
    other = BadgeFactory()
    for held in (badge, other):
        BadgeGrantFactory(badge=held, employee_id=sharer.id, period=ONCE_PERIOD)
    db.session.commit()
    found = badge_standings([sharer.id, left.id, idle.id], [badge.id])
    # Everyone asked, taking part or not (the evaluation asks that of its few candidates).
    assert sorted(found) == sorted([sharer.id, left.id, idle.id])
    assert found[sharer.id].tallies == found[left.id].tallies == {"click": 1, "points": 7}
    assert (found[idle.id].tallies, found[idle.id].held) == ({}, [])
    # Grants only of the badges asked about.
    assert found[sharer.id].held == [(badge.id, "bronze", ONCE_PERIOD)]
    assert badge_standings([], [badge.id]) == {}


def test_the_migration_counts_the_rows_already_there(ctx):
    # Made first: today's code records when people take part, in a table the older
    # schema does not have.
    person = EmployeeFactory(opted_in=True).id
    db.session.remove()
    downgrade(revision=BEFORE_TALLIES)
    try:
        EventFactory(kind=EventKind.SHARE, employee_id=person, occurred_at=NOW)
        LedgerLineFactory(employee_id=person, points=30)
        LedgerLineFactory(employee_id=person, points=-10)
        LessonCompletionFactory(employee_id=person)
        db.session.commit()
        db.session.remove()
    finally:
        upgrade()
    assert stored() == counted_tallies()
    assert stored() == {
        (person, "share"): 1,
        (person, "points"): 30,
        (person, "lesson"): 1,
    }
    # Migration 0011 rebuilt the table on SQLite: its triggers count still.
    EventFactory(kind=EventKind.SHARE, employee_id=person, occurred_at=NOW)
    LedgerLineFactory(employee_id=person, points=5)
    db.session.commit()
    assert stored() == counted_tallies()
    assert (stored()[(person, "share")], stored()[(person, "points")]) == (2, 35)


def test_each_person_s_history_holds_what_their_own_needs_name(ctx):
    people = [EmployeeFactory(opted_in=True) for _ in range(3)]
    lesson = LessonFactory()
    for n, person in enumerate(people):
        for kind in (EventKind.SHARE, EventKind.CLICK, EventKind.REFERRAL_HIRED):
            EventFactory(kind=kind, employee_id=person.id, occurred_at=NOW - timedelta(hours=n))
        EventFactory(kind=EventKind.CLICK, employee_id=person.id, occurred_at=NOW + timedelta(1))
        LedgerLineFactory(employee_id=person.id, points=10 + n, occurred_at=NOW)
        LessonCompletionFactory(employee_id=person.id, lesson_id=lesson.id, completed_at=NOW)
    db.session.commit()
    needs = {
        people[0].id: Needs(event_kinds=frozenset({EventKind.SHARE})),
        people[1].id: Needs(event_kinds=frozenset({EventKind.CLICK}), points=True),
        people[2].id: Needs(lessons=True, placings=True),
    }
    found = load_each(needs, until=NOW)
    assert set(found) == set(needs)
    for employee_id, need in needs.items():
        alone = load_histories([employee_id], need, until=NOW)[employee_id]
        assert found[employee_id] == alone
    assert [f.kind for f in found[people[0].id].facts] == [EventKind.SHARE]
    assert [f.kind for f in found[people[1].id].facts] == [EventKind.CLICK, "points"]
    assert load_each({}) == {}
