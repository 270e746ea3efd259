"""Badges: definitions as data, grants dated at the real crossing, streaks on the
company calendar, progress, quiet backfill and a person's level."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.badges import (
    LESSON_FACT,
    NEVER,
    POINTS_LINE,
    Badge,
    BadgeDefinitionError,
    CriterionKind,
    Fact,
    Grant,
    Level,
    Measure,
    Placing,
    Progress,
    Streak,
    current_value,
    describe_streak,
    evaluate,
    gates_version,
    is_quiet,
    might_cross,
    next_level_at,
    next_step,
    next_threshold,
    parse_badge,
    parse_level_thresholds,
    person_level,
    progress,
    streak,
    tally_fact,
    week_of,
    who_might_cross,
)
from scoring.vocabulary import EventKind

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY, SUNDAY = 0, 6
SHARE, CLICK = EventKind.SHARE, EventKind.CLICK
APPLIED, INTERVIEWED, HIRED = (
    EventKind.REFERRAL_APPLIED,
    EventKind.REFERRAL_INTERVIEWED,
    EventKind.REFERRAL_HIRED,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def day(n: int, hour: int = 12) -> datetime:
    """Day n of November 2026 (the 2nd is a Monday), at noon UTC."""
    return utc(2026, 11, n, hour)


def badge(**fields) -> Badge:
    return parse_badge({"id": "b", "name": "B", **fields})


SHARER = badge(kind="count", measure="shares", levels={"bronze": 1, "silver": 3, "gold": 5})
POINTS = badge(kind="count", measure="points", levels={"bronze": 10, "gold": 30})


# Definitions ---------------------------------------------------------------------


def test_a_count_badge_parses_from_its_plain_form():
    parsed = parse_badge(
        {
            "id": "steady-sharer",
            "name": " Steady sharer ",
            "description": "Shares content",
            "kind": "count",
            "measure": "shares",
            "levels": {"gold": 50, "bronze": 5, "silver": 20},
        }
    )
    assert parsed == Badge(
        id="steady-sharer",
        name="Steady sharer",
        description="Shares content",
        kind=CriterionKind.COUNT,
        measure=Measure.SHARES,
        levels=((Level.BRONZE, 5), (Level.SILVER, 20), (Level.GOLD, 50)),
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "first", "measure": "hires"}, ((Level.ONCE, 1),)),
        ({"kind": "streak", "levels": {"bronze": 4}, "grace_weeks": 1}, ((Level.BRONZE, 4),)),
        ({"kind": "placing", "top": 3, "levels": {"bronze": 1, "gold": 5}}, None),
        ({"kind": "placing", "top": 1, "per_challenge": True}, ((Level.ONCE, 1),)),
    ],
)
def test_each_criterion_kind_parses(data, expected):
    parsed = badge(**data)
    assert parsed.kind == CriterionKind(data["kind"])
    if expected is not None:
        assert parsed.levels == expected


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id": "", "name": "B", "kind": "first", "measure": "shares"}, "id"),
        ({"id": "Has Spaces", "name": "B", "kind": "first", "measure": "shares"}, "id"),
        ({"id": "a--b", "name": "B", "kind": "first", "measure": "shares"}, "id"),
        ({"id": "b", "kind": "first", "measure": "shares"}, "name"),
        ({"id": "b", "name": "x" * 121, "kind": "first", "measure": "shares"}, "name"),
        ({"id": "b", "name": "B", "kind": "first", "measure": "shares", "colour": 1}, "colour"),
        (
            {"id": "b", "name": "B", "kind": "first", "measure": "s", "description": 3},
            "description",
        ),
        ({"id": "b", "name": "B", "kind": "karma"}, "kind"),
        ({"id": "b", "name": "B", "kind": "count", "levels": {"bronze": 1}}, "measure"),
        ({"id": "b", "name": "B", "kind": "first", "measure": "points"}, "measure"),
        ({"id": "b", "name": "B", "kind": "count", "measure": "shares"}, "levels"),
        ({"id": "b", "name": "B", "kind": "count", "measure": "shares", "levels": {}}, "levels"),
        (
            {"id": "b", "name": "B", "kind": "count", "measure": "shares", "levels": {"tin": 1}},
            "levels.tin",
        ),
        (
            {"id": "b", "name": "B", "kind": "count", "measure": "clicks", "levels": {"gold": 0}},
            "levels.gold",
        ),
        (
            {"id": "b", "name": "B", "kind": "count", "measure": "clicks", "levels": {"gold": "9"}},
            "levels.gold",
        ),
        (
            {
                "id": "b",
                "name": "B",
                "kind": "count",
                "measure": "clicks",
                "levels": {"bronze": 10, "silver": 10},
            },
            "levels.silver",
        ),
        (
            {"id": "b", "name": "B", "kind": "first", "measure": "shares", "levels": {"gold": 1}},
            "levels",
        ),
        ({"id": "b", "name": "B", "kind": "first", "measure": "shares", "top": 3}, "top"),
        (
            {"id": "b", "name": "B", "kind": "streak", "levels": {"bronze": 2}, "measure": "x"},
            "measure",
        ),
        (
            {"id": "b", "name": "B", "kind": "streak", "levels": {"bronze": 2}, "grace_weeks": 5},
            "grace_weeks",
        ),
        (
            {
                "id": "b",
                "name": "B",
                "kind": "streak",
                "levels": {"bronze": 2},
                "grace_weeks": True,
            },
            "grace_weeks",
        ),
        ({"id": "b", "name": "B", "kind": "placing", "levels": {"bronze": 1}}, "top"),
        ({"id": "b", "name": "B", "kind": "placing", "top": 0, "levels": {"bronze": 1}}, "top"),
        (
            {"id": "b", "name": "B", "kind": "placing", "top": 3, "per_challenge": "yes"},
            "per_challenge",
        ),
    ],
)
def test_a_bad_definition_names_its_field(data, field):
    with pytest.raises(BadgeDefinitionError) as raised:
        parse_badge(data)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_a_definition_that_is_not_an_object_is_refused():
    with pytest.raises(BadgeDefinitionError):
        parse_badge(["id", "b"])  # type: ignore[arg-type]


# Counts and firsts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "facts", "expected"),
    [
        # The Nth qualifying item dates each level; other kinds don't count.
        (
            SHARER,
            [Fact(day(2), SHARE), Fact(day(3), CLICK), Fact(day(4), SHARE), Fact(day(5), SHARE)],
            [(Level.BRONZE, day(2)), (Level.SILVER, day(5))],
        ),
        (SHARER, [Fact(day(3), CLICK)], []),
        (SHARER, [], []),
        # Referral stages count every stage; hires only hires.
        (
            badge(kind="count", measure="referral_stages", levels={"bronze": 3}),
            [Fact(day(2), APPLIED), Fact(day(3), INTERVIEWED), Fact(day(4), HIRED)],
            [(Level.BRONZE, day(4))],
        ),
        (
            badge(kind="count", measure="hires", levels={"bronze": 1, "silver": 2}),
            [Fact(day(2), APPLIED), Fact(day(3), HIRED), Fact(day(4), INTERVIEWED)],
            [(Level.BRONZE, day(3))],
        ),
        (
            badge(kind="count", measure="clicks", levels={"bronze": 2}),
            [Fact(day(2), CLICK), Fact(day(3), SHARE), Fact(day(4), CLICK)],
            [(Level.BRONZE, day(4))],
        ),
        (
            badge(kind="first", measure="hires"),
            [Fact(day(2), APPLIED), Fact(day(6), HIRED), Fact(day(9), HIRED)],
            [(Level.ONCE, day(6))],
        ),
        (badge(kind="first", measure="shares"), [Fact(day(2), CLICK)], []),
        # Points: the item whose running sum first reached the threshold, whatever the
        # kind; one big item can cross two levels at once.
        (
            POINTS,
            [Fact(day(2), SHARE, 4), Fact(day(3), POINTS_LINE, 5), Fact(day(4), CLICK, 1)],
            [(Level.BRONZE, day(4))],
        ),
        (POINTS, [Fact(day(2), POINTS_LINE, 40)], [(Level.BRONZE, day(2)), (Level.GOLD, day(2))]),
        # A dip after the crossing does not undo it; recrossing does not re-date it.
        (
            POINTS,
            [
                Fact(day(2), SHARE, 10),
                Fact(day(3), POINTS_LINE, -10),
                Fact(day(4), SHARE, 10),
            ],
            [(Level.BRONZE, day(2))],
        ),
        # A negative balance is not floored at zero: it must be made up first.
        (POINTS, [Fact(day(2), POINTS_LINE, -5), Fact(day(3), SHARE, 12)], []),
        # Before the crossing, a negative line delays it.
        (
            POINTS,
            [Fact(day(2), SHARE, 8), Fact(day(3), POINTS_LINE, -5), Fact(day(4), SHARE, 7)],
            [(Level.BRONZE, day(4))],
        ),
    ],
)
def test_grants_are_dated_when_the_threshold_was_crossed(definition, facts, expected):
    assert evaluate(definition, facts) == [
        Grant(definition.id, level, at) for level, at in expected
    ]


def test_facts_out_of_order_are_read_in_time_order():
    facts = [Fact(day(5), SHARE), Fact(day(2), SHARE), Fact(day(4), SHARE)]
    assert evaluate(SHARER, facts)[1] == Grant("b", Level.SILVER, day(5))


def test_a_renamed_badge_with_the_same_id_grants_the_same():
    facts = [Fact(day(2), SHARE), Fact(day(3), SHARE), Fact(day(4), SHARE)]
    renamed = replace(SHARER, name="Voice of the company", description="new words")
    assert evaluate(renamed, facts) == evaluate(SHARER, facts)


# Streaks on the company calendar ----------------------------------------------------

STREAK = badge(kind="streak", levels={"bronze": 2, "silver": 3})
GRACE_STREAK = badge(kind="streak", levels={"bronze": 3}, grace_weeks=1)


@pytest.mark.parametrize(
    ("definition", "facts", "expected"),
    [
        # Weeks of 2, 9, 16 November: the first share of each week completes it.
        (
            STREAK,
            [Fact(day(2), SHARE), Fact(day(3), SHARE), Fact(day(10), SHARE), Fact(day(16), SHARE)],
            [(Level.BRONZE, day(10)), (Level.SILVER, day(16))],
        ),
        # Clicks are not shares.
        (STREAK, [Fact(day(2), SHARE), Fact(day(10), CLICK)], []),
        # A missed week breaks a streak without grace; a new run starts over.
        (
            STREAK,
            [Fact(day(2), SHARE), Fact(day(16), SHARE), Fact(day(23), SHARE), Fact(day(30), SHARE)],
            [(Level.BRONZE, day(23)), (Level.SILVER, day(30))],
        ),
        # With a grace week one missed week is bridged (and not counted)...
        (
            GRACE_STREAK,
            [Fact(day(2), SHARE), Fact(day(16), SHARE), Fact(day(23), SHARE)],
            [(Level.BRONZE, day(23))],
        ),
        # ... two are not.
        (
            GRACE_STREAK,
            [Fact(day(2), SHARE), Fact(day(9), SHARE), Fact(day(30), SHARE)],
            [],
        ),
    ],
)
def test_streak_grants_are_dated_at_the_share_completing_the_week(definition, facts, expected):
    assert evaluate(definition, facts, zone=BERLIN) == [
        Grant(definition.id, level, at) for level, at in expected
    ]


def test_a_streak_badge_needs_the_company_time_zone():
    with pytest.raises(ValueError, match="time zone"):
        evaluate(STREAK, [Fact(day(2), SHARE)])


@pytest.mark.parametrize(
    ("share_days", "now", "grace", "current", "longest"),
    [
        ([], day(2), 0, 0, 0),
        ([2], day(2), 0, 1, 1),
        # This week can still be shared in: last week's run is still current.
        ([2, 9], day(20), 0, 2, 2),
        # A whole week without a share has passed: no current run, the longest stays.
        ([2, 9], day(23), 0, 0, 2),
        # With a grace week the run survives one empty week.
        ([2, 9], day(23), 1, 2, 2),
        ([2, 9], day(30), 1, 0, 2),
        ([2, 16, 23], day(24), 0, 2, 2),
        ([2, 16, 23], day(24), 1, 3, 3),
        # Looking back only: a share after now does not count.
        ([2, 9, 16], day(10), 0, 2, 2),
    ],
)
def test_current_and_longest_streak(share_days, now, grace, current, longest):
    facts = [Fact(day(n), SHARE) for n in share_days]
    assert streak(facts, now, BERLIN, MONDAY, grace) == Streak(current, longest)


# DST ends in Berlin at 03:00 on Sunday 25 October 2026 (UTC+2 to UTC+1).
@pytest.mark.parametrize(
    ("moment", "week_start", "week"),
    [
        # Sunday 23:30 local, after the change, is 22:30 UTC: still that week.
        (utc(2026, 10, 25, 22, 30), MONDAY, "2026-10-19"),
        # Monday 00:30 local is 23:30 UTC on Sunday: already the next week.
        (utc(2026, 10, 25, 23, 30), MONDAY, "2026-10-26"),
        # The Sunday before, under summer time, the week turns at 22:00 UTC.
        (utc(2026, 10, 18, 21, 59), MONDAY, "2026-10-12"),
        (utc(2026, 10, 18, 22, 0), MONDAY, "2026-10-19"),
        # Weeks starting on Sunday turn on the very day of the change, at 22:00 UTC
        # Saturday (summer time).
        (utc(2026, 10, 24, 21, 59), SUNDAY, "2026-10-18"),
        (utc(2026, 10, 24, 22, 0), SUNDAY, "2026-10-25"),
        (utc(2026, 10, 31, 23, 0), SUNDAY, "2026-11-01"),
        # Year boundary: Friday 1 January 2027 is in the week of Monday 28 December.
        (utc(2026, 12, 31, 23, 30), MONDAY, "2026-12-28"),
        (utc(2027, 1, 3, 22, 59), MONDAY, "2026-12-28"),
        (utc(2027, 1, 3, 23, 0), MONDAY, "2027-01-04"),
        (utc(2027, 1, 2, 22, 59), SUNDAY, "2026-12-27"),
        (utc(2027, 1, 2, 23, 0), SUNDAY, "2027-01-03"),
    ],
)
def test_weeks_follow_the_company_calendar(moment, week_start, week):
    assert week_of(moment, BERLIN, week_start).isoformat() == week


@pytest.mark.parametrize(
    ("moments", "week_start", "now", "expected"),
    [
        # Across the end of summer time, Monday weeks: 12, 19 and 26 October. In UTC the
        # last share would fall in the week of the 19th and the run would be 2.
        (
            [utc(2026, 10, 12, 10), utc(2026, 10, 25, 22, 30), utc(2026, 10, 25, 23, 30)],
            MONDAY,
            utc(2026, 10, 27),
            3,
        ),
        # Sunday weeks 11, 18 and 25 October: the third share is 00:30 local on the day of
        # the change.
        (
            [utc(2026, 10, 11, 10), utc(2026, 10, 18, 10), utc(2026, 10, 24, 22, 30)],
            SUNDAY,
            utc(2026, 10, 26),
            3,
        ),
        # Across the new year, Monday weeks 21 and 28 December and 4 January.
        (
            [utc(2026, 12, 22, 10), utc(2026, 12, 31, 23, 30), utc(2027, 1, 3, 23, 30)],
            MONDAY,
            utc(2027, 1, 5),
            3,
        ),
        # Sunday weeks 20 and 27 December and 3 January.
        (
            [utc(2026, 12, 20, 10), utc(2026, 12, 27, 10), utc(2027, 1, 2, 23, 30)],
            SUNDAY,
            utc(2027, 1, 4),
            3,
        ),
        # Two shares in the same Sunday week across the new year: one week.
        (
            [utc(2026, 12, 27, 10), utc(2027, 1, 2, 22, 30)],
            SUNDAY,
            utc(2027, 1, 2, 23),
            1,
        ),
    ],
)
def test_streaks_across_daylight_saving_and_the_new_year(moments, week_start, now, expected):
    facts = [Fact(moment, SHARE) for moment in moments]
    assert streak(facts, now, BERLIN, week_start).current == expected
    three_weeks = badge(kind="streak", levels={"bronze": 3})
    grants = evaluate(three_weeks, facts, zone=BERLIN, week_start=week_start)
    assert grants == ([Grant("b", Level.BRONZE, moments[-1])] if expected == 3 else [])


@pytest.mark.parametrize(
    ("weeks", "text"),
    [(0, "Share this week to start a streak"), (1, "1 week running"), (3, "3 weeks running")],
)
def test_streaks_are_told_without_loss(weeks, text):
    assert describe_streak(weeks) == text
    for loss in ("lost", "lose", "broke"):
        assert loss not in text


# Challenge placings ---------------------------------------------------------------


def test_placings_count_the_good_ones_in_settlement_order():
    top3 = badge(kind="placing", top=3, levels={"bronze": 1, "silver": 2})
    placings = [
        Placing(challenge_id=1, place=5, settled_at=day(3)),
        Placing(challenge_id=2, place=3, settled_at=day(9)),
        Placing(challenge_id=3, place=1, settled_at=day(6)),
    ]
    assert evaluate(top3, [], placings) == [
        Grant("b", Level.BRONZE, day(6)),
        Grant("b", Level.SILVER, day(9)),
    ]


def test_a_badge_per_challenge_is_granted_once_for_each():
    winner = badge(kind="placing", top=1, per_challenge=True)
    placings = [Placing(4, 1, day(3)), Placing(5, 2, day(4)), Placing(6, 1, day(5))]
    assert evaluate(winner, [], placings) == [
        Grant("b", Level.ONCE, day(3), "challenge-4"),
        Grant("b", Level.ONCE, day(5), "challenge-6"),
    ]


# Progress -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "value", "expected", "percent"),
    [
        ([], 0, Progress(0, 1, Level.BRONZE), 0),
        ([Level.BRONZE], 2, Progress(2, 3, Level.SILVER), 66),
        ([Level.BRONZE, Level.SILVER], 4, Progress(4, 5, Level.GOLD), 80),
        ([Level.BRONZE, Level.SILVER, Level.GOLD], 9, Progress(9, None, None), 100),
        # Earned stays earned even when the value has dropped since.
        ([Level.BRONZE], 0, Progress(0, 3, Level.SILVER), 0),
        # Points can be negative; the bar does not go below empty.
        ([], -4, Progress(-4, 1, Level.BRONZE), 0),
    ],
)
def test_progress_toward_the_next_level(earned, value, expected, percent):
    assert progress(SHARER, earned, value) == expected
    assert progress(SHARER, earned, value).percent == percent


FIRST_SHARE = badge(kind="first", measure="shares")


@pytest.mark.parametrize(
    ("definition", "held", "value", "expected"),
    [
        # Nothing held: the lowest threshold decides.
        (SHARER, [], 0, False),
        (SHARER, [], 1, True),
        # The next level not held decides, not the lowest.
        (SHARER, [Level.BRONZE], 2, False),
        (SHARER, [Level.BRONZE], 3, True),
        (SHARER, [Level.BRONZE], 9, True),
        # A gap in what is held (a level added later): the lowest missing one.
        (SHARER, [Level.SILVER], 1, True),
        (SHARER, [Level.BRONZE, Level.SILVER], 4, False),
        (SHARER, [Level.BRONZE, Level.SILVER], 5, True),
        # Every level held: never, whatever the value.
        (SHARER, [Level.BRONZE, Level.SILVER, Level.GOLD], 1000, False),
        (FIRST_SHARE, [], 1, True),
        (FIRST_SHARE, [Level.ONCE], 50, False),
        # Points below zero reach nothing; a bound at the threshold does.
        (POINTS, [], -5, False),
        (POINTS, [Level.BRONZE], 29, False),
        (POINTS, [Level.BRONZE], 30, True),
    ],
)
def test_only_a_value_reaching_the_next_level_not_held_might_cross(
    definition, held, value, expected
):
    assert might_cross(definition, held, value) is expected
    following = next_threshold(definition, held)
    assert (following is not None and value >= following) is expected
    # Many people at once decide the same, each in the order given.
    crowd = [(7, frozenset(held), value), (8, frozenset(held), value)]
    assert who_might_cross(definition, crowd) == ([7, 8] if expected else [])


@pytest.mark.parametrize(
    ("definition", "fact"),
    [
        (SHARER, SHARE),
        (POINTS, POINTS_LINE),
        (badge(kind="first", measure="clicks"), CLICK),
        (badge(kind="count", measure="hires", levels={"bronze": 1}), HIRED),
        (badge(kind="count", measure="lessons", levels={"bronze": 2}), LESSON_FACT),
        # Several facts add up: no one tally is the value.
        (badge(kind="count", measure="referral_stages", levels={"bronze": 3}), None),
        (badge(kind="streak", levels={"bronze": 2}), None),
        (badge(kind="placing", levels={"bronze": 1}, top=3), None),
    ],
)
def test_a_badge_measured_by_one_tally_names_it(definition, fact):
    assert tally_fact(definition) == fact


FIRST_CLICK = badge(id="c1", kind="first", measure="clicks")
CLICKS = badge(id="c", kind="count", measure="clicks", levels={"bronze": 5, "silver": 50})


@pytest.mark.parametrize(
    ("held", "gate"),
    [
        ({}, 1),  # the first click is the nearest level
        ({"c1": ["once"]}, 5),
        ({"c1": ["once"], "c": ["bronze"]}, 50),
        ({"c": ["bronze"]}, 1),  # a level missed below one held still counts
        ({"c1": ["once"], "c": ["bronze", "silver"]}, NEVER),
    ],
)
def test_a_tally_s_gate_is_the_nearest_level_not_held_of_its_badges(held, gate):
    assert next_level_at([FIRST_CLICK, CLICKS], held) == gate
    assert next_level_at([], {}) == NEVER


def test_the_gates_version_changes_with_what_a_gate_is_worked_out_from():
    version = gates_version([FIRST_CLICK, CLICKS, STREAK])
    assert 0 < version < 2**63  # never "not worked out", and fits a signed 64-bit column
    assert gates_version([CLICKS, FIRST_CLICK]) == version  # in any order
    assert gates_version([FIRST_CLICK, CLICKS]) == version  # streaks have no gate
    assert gates_version([FIRST_CLICK, CLICKS, replace(STREAK, name="Weeks")]) == version
    moved = badge(id="c", kind="count", measure="clicks", levels={"bronze": 4, "silver": 50})
    for other in ([FIRST_CLICK], [FIRST_CLICK, moved], [FIRST_CLICK, CLICKS, SHARER]):
        assert gates_version(other) != version


def test_the_next_step_is_the_lowest_level_not_held_with_the_one_before_it():
    bronze, silver, _gold = (t for _, t in SHARER.levels)
    assert next_step(SHARER, []) == (0, bronze)
    assert next_step(SHARER, [Level.BRONZE]) == (bronze, silver)
    # A gap (thresholds moved after a grant) is the next step, whatever is held above.
    assert next_step(SHARER, ["bronze", "gold"]) == (bronze, silver)  # as stored
    assert next_step(SHARER, [Level.BRONZE, Level.SILVER, Level.GOLD]) is None


@pytest.mark.parametrize(
    ("definition", "facts", "placings", "now", "value"),
    [
        (SHARER, [Fact(day(2), SHARE), Fact(day(3), CLICK), Fact(day(9), SHARE)], [], day(5), 1),
        (POINTS, [Fact(day(2), SHARE, 10), Fact(day(3), POINTS_LINE, -3)], [], day(5), 7),
        (STREAK, [Fact(day(2), SHARE), Fact(day(9), SHARE)], [], day(10), 2),
        (
            badge(kind="placing", top=3, levels={"bronze": 2}),
            [],
            [Placing(1, 2, day(2)), Placing(2, 4, day(3)), Placing(3, 1, day(9))],
            day(5),
            1,
        ),
    ],
)
def test_the_current_value_of_each_kind(definition, facts, placings, now, value):
    assert current_value(definition, facts, placings, now, BERLIN) == value


# Notification --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "quiet"),
    [
        (timedelta(0), False),
        (timedelta(days=2), False),
        (timedelta(days=2, seconds=1), True),
        (timedelta(days=400), True),
    ],
)
def test_grants_older_than_two_days_are_quiet(age, quiet):
    grant = Grant("b", Level.BRONZE, day(2))
    assert is_quiet(grant, day(2) + age) is quiet


# A person's level ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "number", "following"),
    [(-5, 1, 100), (0, 1, 100), (99, 1, 100), (100, 2, 250), (250, 3, 1000), (5000, 4, None)],
)
def test_a_persons_level_from_lifetime_points(points, number, following):
    level = person_level(points, (100, 250, 1000))
    assert (level.number, level.points, level.next_threshold) == (number, points, following)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ("100", "level_thresholds"),
        ([100, "x"], "level_thresholds.1"),
        ([100, 100], "level_thresholds.1"),
        ([0], "level_thresholds.0"),
        ([True], "level_thresholds.0"),
    ],
)
def test_bad_level_thresholds_name_the_entry(values, field):
    with pytest.raises(BadgeDefinitionError) as raised:
        parse_level_thresholds(values)
    assert raised.value.field == field


def test_good_level_thresholds_parse():
    assert parse_level_thresholds([100, 250]) == (100, 250)


# Properties ----------------------------------------------------------------------

KINDS = [SHARE, CLICK, APPLIED, HIRED, POINTS_LINE]
histories = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=24 * 200),
        st.sampled_from(KINDS),
        st.integers(min_value=-20, max_value=20),
    ),
    max_size=40,
).map(
    lambda rows: [
        Fact(utc(2026, 1, 1) + timedelta(hours=hours), kind, points)
        for hours, kind, points in sorted(rows, key=lambda row: row[0])
    ]
)
DEFINITIONS = [
    SHARER,
    POINTS,
    STREAK,
    GRACE_STREAK,
    badge(kind="first", measure="clicks"),
    badge(kind="count", measure="referral_stages", levels={"bronze": 2, "gold": 4}),
]


@given(histories, st.integers(min_value=0, max_value=40), st.sampled_from(DEFINITIONS))
def test_later_history_never_takes_back_or_redates_a_grant(facts, cut, definition):
    earlier = evaluate(definition, facts[:cut], zone=BERLIN)
    later = evaluate(definition, facts, zone=BERLIN)
    assert set(earlier) <= set(later)


@given(histories, st.sampled_from(DEFINITIONS))
def test_grants_are_dated_at_a_real_item_with_levels_in_order(facts, definition):
    grants = evaluate(definition, facts, zone=BERLIN)
    moments = {fact.occurred_at for fact in facts}
    assert all(grant.granted_at in moments for grant in grants)
    assert [g.level for g in grants] == [level for level, _ in definition.levels][: len(grants)]
    assert [g.granted_at for g in grants] == sorted(g.granted_at for g in grants)


@given(histories, st.sampled_from([MONDAY, 2, SUNDAY]))
def test_the_current_streak_never_exceeds_the_longest(facts, week_start):
    now = utc(2026, 8, 1)
    result = streak(facts, now, BERLIN, week_start)
    assert 0 <= result.current <= result.longest
