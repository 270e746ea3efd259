"""Analytics' pure core: local days and periods across daylight saving, the zone's
offsets for SQL, what each figure counts and from which cohort, the counters a batch
of raw rows adds, spells of taking part and the headcounts made from them."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.analytics import (
    COUNTERS,
    FIGURES,
    NO_TEAM,
    WHOLE_COMPANY,
    Cohort,
    Period,
    ShareFacts,
    Spell,
    Tally,
    clicks_per_share,
    counter_values,
    day_start,
    headcounts,
    interest_groups,
    interests_key,
    local_day,
    next_period_start,
    participation_rate,
    per_interest,
    period_bounds,
    period_start,
    period_starts,
    person_period_counts,
    sharer_tag_counts,
    spell_change,
    utc_offsets,
)
from scoring.vocabulary import ReferralStage

BERLIN = ZoneInfo("Europe/Berlin")
# Zones with daylight saving at midnight (Santiago, Havana, Asunción, Beirut), half-hour
# changes (Lord Howe), odd offsets (Kathmandu), none at all, and the company's.
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "Asia/Beirut",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "UTC",
]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(ZONES).map(ZoneInfo)


# Periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "day", "week_start", "start", "following"),
    [
        (Period.DAY, date(2026, 11, 30), 0, date(2026, 11, 30), date(2026, 12, 1)),
        # Weeks start on Monday, or on the company's chosen day (6: Sunday).
        (Period.WEEK, date(2026, 11, 29), 0, date(2026, 11, 23), date(2026, 11, 30)),
        (Period.WEEK, date(2026, 11, 30), 0, date(2026, 11, 30), date(2026, 12, 7)),
        (Period.WEEK, date(2026, 11, 29), 6, date(2026, 11, 29), date(2026, 12, 6)),
        (Period.WEEK, date(2026, 11, 28), 6, date(2026, 11, 22), date(2026, 11, 29)),
        (Period.MONTH, date(2026, 12, 31), 0, date(2026, 12, 1), date(2027, 1, 1)),
        (Period.MONTH, date(2028, 2, 29), 0, date(2028, 2, 1), date(2028, 3, 1)),
    ],
)
def test_periods_start_and_follow(period, day, week_start, start, following):
    assert period_start(period, day, week_start) == start
    assert next_period_start(period, start) == following


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # Winter: midnight in Berlin is 23:00 UTC; summer: 22:00 UTC.
        (utc(2026, 11, 29, 22, 59, 59), date(2026, 11, 29)),
        (utc(2026, 11, 29, 23, 0, 0), date(2026, 11, 30)),
        (utc(2026, 6, 30, 21, 59, 59), date(2026, 6, 30)),
        (utc(2026, 6, 30, 22, 0, 0), date(2026, 7, 1)),
    ],
)
def test_a_day_is_the_local_calendar_day(moment, day):
    assert local_day(moment, BERLIN) == day


@pytest.mark.parametrize(
    ("period", "start", "hours"),
    [
        (Period.DAY, date(2026, 3, 29), 23),  # clocks go forward
        (Period.DAY, date(2026, 10, 25), 25),  # and back
        (Period.DAY, date(2026, 10, 26), 24),
        (Period.WEEK, date(2026, 3, 23), 167),
        (Period.WEEK, date(2026, 10, 19), 169),
        (Period.MONTH, date(2026, 3, 1), 31 * 24 - 1),
    ],
)
def test_periods_are_whole_local_days_whatever_daylight_saving_does(period, start, hours):
    begins, ends = period_bounds(period, start, BERLIN)
    assert (ends - begins) == timedelta(hours=hours)
    assert begins.tzinfo is UTC
    assert local_day(begins, BERLIN) == start
    assert local_day(ends - timedelta(microseconds=1), BERLIN) == (
        next_period_start(period, start) - timedelta(days=1)
    )


def test_where_clocks_skip_midnight_the_day_begins_at_one():
    # Chile: on 6 September 2026 the clocks go from 24:00 to 01:00.
    santiago = ZoneInfo("America/Santiago")
    begins = day_start(date(2026, 9, 6), santiago)
    assert begins.astimezone(santiago).hour == 1
    assert local_day(begins - timedelta(microseconds=1), santiago) == date(2026, 9, 5)


@settings(max_examples=300)
@given(moment=instants, zone=zones)
def test_every_instant_lies_in_its_days_bounds(moment, zone):
    day = local_day(moment, zone)
    assert day_start(day, zone) <= moment < day_start(day + timedelta(days=1), zone)


@given(
    first=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    days=st.integers(0, 400),
    period=st.sampled_from(Period),
    week_start=st.integers(0, 6),
)
def test_period_starts_cover_the_days_without_gaps(first, days, period, week_start):
    last = first + timedelta(days=days)
    starts = period_starts(period, first, last, week_start)
    assert starts[0] <= first
    assert next_period_start(period, starts[-1]) > last
    for before, after in itertools.pairwise(starts):
        assert next_period_start(period, before) == after
    assert all(period_start(period, s, week_start) == s for s in starts)


@settings(max_examples=100)
@given(since=instants, hours=st.integers(0, 24 * 800), zone=zones, data=st.data())
def test_the_zones_offsets_give_the_local_day_by_plain_arithmetic(since, hours, zone, data):
    until = since + timedelta(hours=hours)
    offsets = utc_offsets(zone, since, until)
    assert offsets[0][0] == since
    assert [start for start, _ in offsets] == sorted(start for start, _ in offsets)
    moment = data.draw(st.datetimes(since.replace(tzinfo=None), until.replace(tzinfo=None)))
    moment = moment.replace(tzinfo=UTC)
    seconds = [s for start, s in offsets if start <= moment][-1]
    assert (moment + timedelta(seconds=seconds)).date() == local_day(moment, zone)


def test_berlin_changes_its_offset_twice_a_year():
    offsets = utc_offsets(BERLIN, utc(2026, 1, 1), utc(2027, 1, 1))
    assert offsets == [
        (utc(2026, 1, 1), 3600),
        (utc(2026, 3, 29, 1), 7200),
        (utc(2026, 10, 25, 1), 3600),
    ]


# Figures and cohorts ---------------------------------------------------------------


def test_every_figure_says_its_cohort():
    assert set(FIGURES) >= {
        "shares",
        "clicks",
        "clicks_per_share",
        "applied",
        "interviewed",
        "hired",
        "points",
        "active_advocates",
        "headcount",
        "participation_rate",
    }
    for figure in FIGURES.values():
        assert isinstance(figure.cohort, Cohort)
        assert figure.meaning
    assert FIGURES["shares"].cohort is Cohort.SHARES_MADE
    assert FIGURES["clicks"].cohort is Cohort.CLICKS_RECEIVED
    # Clicks per share divides within one cohort: the clicks the period's shares drew.
    assert FIGURES["clicks_per_share"].cohort is Cohort.SHARES_MADE
    assert Cohort.SHARES_MADE.label == "shares made in the period"
    assert Cohort.CLICKS_RECEIVED.label == "clicks received in the period"
    assert all(cohort.label for cohort in Cohort)


@pytest.mark.parametrize(
    ("clicks", "shares", "figure"),
    [(0, 0, None), (7, 0, None), (0, 4, 0.0), (10, 4, 2.5)],
)
def test_clicks_per_share_without_shares_is_no_figure(clicks, shares, figure):
    assert clicks_per_share(clicks, shares) == figure


@pytest.mark.parametrize(
    ("active", "headcount", "rate"),
    [
        (0, 0, None),
        (0, 10, 0.0),
        (3, 12, 0.25),
        (12, 12, 1.0),
        # Someone who shared took part, even where the kept history lacks them.
        (5, 4, 1.0),
        (2, 0, 1.0),
    ],
)
def test_participation_rate(active, headcount, rate):
    assert participation_rate(active, headcount) == rate


# Counters --------------------------------------------------------------------------

# Sunday 29 November 2026, 23:50 in Berlin; ten minutes later a new day, week and month
# is near.
LATE = utc(2026, 11, 29, 22, 50)
SHARE = ShareFacts(employee_id=7, content_id=3, channel="linkedin", team_id=None, at=LATE)


def test_a_click_counts_on_its_own_day_and_on_the_day_of_its_share():
    tally = Tally(BERLIN)
    tally.share(SHARE)
    tally.click(SHARE, LATE + timedelta(minutes=5))
    tally.click(SHARE, LATE + timedelta(minutes=15))  # Monday already
    sunday, monday = date(2026, 11, 29), date(2026, 11, 30)
    assert {k: counter_values(v) for k, v in tally.content.items()} == {
        (sunday, 3, "linkedin", NO_TEAM): {
            **dict.fromkeys(COUNTERS, 0),
            "shares": 1,
            "clicks": 1,
            "clicks_on_shares": 2,
        },
        (monday, 3, "linkedin", NO_TEAM): {**dict.fromkeys(COUNTERS, 0), "clicks": 1},
    }
    assert counter_values(tally.employees[(sunday, 7, NO_TEAM)])["clicks_on_shares"] == 2


def test_a_share_counts_on_its_local_day_for_its_item_and_its_sharer():
    tally = Tally(BERLIN)
    tally.share(SHARE)
    tally.share(ShareFacts(7, 3, "linkedin", None, LATE + timedelta(minutes=15)))  # Monday
    sunday, monday = date(2026, 11, 29), date(2026, 11, 30)
    one = {**dict.fromkeys(COUNTERS, 0), "shares": 1}
    assert {k: counter_values(v) for k, v in tally.content.items()} == {
        (sunday, 3, "linkedin", NO_TEAM): one,
        (monday, 3, "linkedin", NO_TEAM): one,
    }
    assert counter_values(tally.employees[(sunday, 7, NO_TEAM)]) == one


def test_sharers_count_per_tag_and_per_interest_in_days_weeks_and_months():
    tally = Tally(BERLIN)
    tally.share(SHARE)  # Sunday 29 November
    tally.click(SHARE, LATE + timedelta(days=3))  # drawn by Sunday's share
    tally.share(ShareFacts(7, 3, "linkedin", None, LATE + timedelta(minutes=15)))  # Monday
    tally.share(ShareFacts(8, 4, "x", None, LATE))
    last_week, this_week, november = date(2026, 11, 23), date(2026, 11, 30), date(2026, 11, 1)
    sunday, monday = date(2026, 11, 29), date(2026, 11, 30)
    assert tally.sharer_items == {
        ("day", sunday, 7, 3): [1, 1],  # the click counts on the day of its share
        ("day", monday, 7, 3): [1, 0],
        ("day", sunday, 8, 4): [1, 0],
        ("week", last_week, 7, 3): [1, 1],
        ("week", this_week, 7, 3): [1, 0],
        ("month", november, 7, 3): [2, 1],
        ("week", last_week, 8, 4): [1, 0],
        ("month", november, 8, 4): [1, 0],
    }
    tags = {3: ["ai", "cloud"], 4: ["ai"]}  # item 5 has none
    counts = sharer_tag_counts(tally.sharer_items, tags)
    assert counts[("month", november, 7, "cloud")] == [2, 1]
    assert counts[("month", november, 8, "ai")] == [1, 0]
    assert counts[("day", sunday, 7, "ai")] == [1, 1]
    assert len(counts) == 13  # 7: 5 periods x 2 tags; 8: 3 periods x 1 tag
    interests = {7: [1, 2], 8: [1]}
    new = [key for key in counts if key[1] != this_week]  # this week's rows were there
    cells = per_interest(counts, interests, new)
    assert cells[("month", november, 1, "ai")] == [3, 1, 2]  # shares, clicks, sharers
    assert cells[("month", november, 2, "ai")] == [2, 1, 1]
    assert cells[("week", this_week, 1, "ai")] == [1, 0, 0]
    assert ("month", november, 2, "cloud") in cells
    assert not any(key[2] == 3 for key in cells)  # nobody chose interest 3


def test_a_persons_counts_per_period_sum_their_teams_and_count_them_once_per_interest():
    november, moved = date(2026, 11, 1), date(2026, 11, 9)
    people = person_period_counts(
        {
            (moved, 7, 1): [1, 2, 0, 0, 0, 0, 4, 0],
            (moved, 7, 2): [1, 0, 0, 0, 0, 0, -4, 0],  # moved team that day
        },
        {
            ("month", november, 7, 1): [2, 5, 0, 0, 0, 0, 10, 0],
            ("month", november, 7, 2): [1, 0, 0, 0, 0, 0, -4, 0],  # moved team in November
            ("month", november, 8, 2): [0, 0, 0, 0, 0, 0, 3, 0],
        },
    )
    assert people == {
        ("day", moved, 7): [2, 2, 0, 0, 0, 0, 0, 0],
        ("month", november, 7): [3, 5, 0, 0, 0, 0, 6, 0],
        ("month", november, 8): [0, 0, 0, 0, 0, 0, 3, 0],
    }
    cells = per_interest(people, {7: [1], 8: [1, 2]}, new=[("month", november, 7)])
    assert cells[("month", november, 1)] == [3, 5, 0, 0, 0, 0, 9, 0, 1]  # one active
    assert cells[("month", november, 2)] == [0, 0, 0, 0, 0, 0, 3, 0, 0]


def test_stages_count_on_the_day_reached_and_points_where_they_belong():
    tally = Tally(BERLIN)
    team_share = ShareFacts(7, 3, "x", 12, LATE)
    tally.stage(team_share, ReferralStage.HIRED, utc(2026, 12, 3, 9))
    tally.points(7, 12, 200, utc(2026, 12, 3, 9), content_id=3, channel="x")
    tally.points(7, 12, 15, utc(2026, 12, 3, 10))  # an adjustment: about no item
    tally.points(7, 12, 0, utc(2026, 12, 4, 10), content_id=3, channel="x")  # capped: nothing
    day = date(2026, 12, 3)
    nothing = dict.fromkeys(COUNTERS, 0)
    assert {k: counter_values(v) for k, v in tally.content.items()} == {
        (day, 3, "x", 12): {**nothing, "hired": 1, "points": 200}
    }
    assert {k: counter_values(v) for k, v in tally.employees.items()} == {
        (day, 7, 12): {**nothing, "hired": 1, "points": 215}
    }
    assert not Tally(BERLIN)


@pytest.mark.parametrize(
    ("has_open", "open_team", "participating", "team", "change"),
    [
        (False, None, False, 3, (False, False)),
        (False, None, True, 3, (False, True)),  # opts in
        (True, 3, True, 3, (False, False)),
        (True, 3, True, 4, (True, True)),  # moves team
        (True, 3, True, None, (True, True)),  # leaves the team, still taking part
        (True, None, True, None, (False, False)),
        (True, 3, False, 3, (True, False)),  # opts out, deactivated or erased
    ],
)
def test_spells_follow_participation_and_team(has_open, open_team, participating, team, change):
    assert spell_change(has_open, open_team, participating, team) == change


# Headcounts ------------------------------------------------------------------------


def test_headcount_counts_each_person_once_per_period_and_team():
    week = date(2026, 11, 23)
    spells = [
        # Opts out on Tuesday and in again on Thursday: one person this week.
        Spell(1, 5, utc(2026, 11, 1), utc(2026, 11, 24, 12)),
        Spell(1, 5, utc(2026, 11, 26, 12), None),
        # Moves from team 5 to no team on Wednesday: in both, once in the company.
        Spell(2, 5, utc(2026, 11, 2), utc(2026, 11, 25, 12)),
        Spell(2, None, utc(2026, 11, 25, 12), None),
        # Left before the week began; joins after it ended; took part for no time.
        Spell(3, 5, utc(2026, 11, 2), utc(2026, 11, 22, 22, 59)),
        Spell(4, 5, utc(2026, 11, 29, 23), None),
        Spell(5, 5, utc(2026, 11, 24), utc(2026, 11, 24)),
    ]
    counts = headcounts(spells, Period.WEEK, [week], BERLIN)
    assert counts == {week: {WHOLE_COMPANY: 2, 5: 2, NO_TEAM: 1}}
    # Nobody at all still says so.
    assert headcounts([], Period.DAY, [week], BERLIN) == {week: {WHOLE_COMPANY: 0}}


spells = st.lists(
    st.builds(
        lambda who, team, start, hours: Spell(
            who, team, start, None if hours is None else start + timedelta(hours=hours)
        ),
        st.integers(1, 6),
        st.sampled_from([None, 1, 2]),
        st.datetimes(datetime(2026, 2, 20), datetime(2026, 4, 10), timezones=st.just(UTC)),
        st.one_of(st.none(), st.integers(0, 24 * 20)),
    ),
    max_size=12,
)


@settings(max_examples=200)
@given(
    spells=spells,
    period=st.sampled_from(Period),
    week_start=st.integers(0, 6),
    zone=st.sampled_from(["Europe/Berlin", "America/Santiago", "Asia/Kathmandu"]).map(ZoneInfo),
)
def test_headcounts_equal_counting_people_period_by_period(spells, period, week_start, zone):
    starts = period_starts(period, date(2026, 3, 1), date(2026, 4, 1), week_start)
    counts = headcounts(spells, period, starts, zone)
    for start in starts:
        begins, ends = period_bounds(period, start, zone)
        there = [
            s
            for s in spells
            if s.started_at < ends
            and (s.ended_at is None or s.ended_at > begins)
            and (s.ended_at is None or s.ended_at > s.started_at)
        ]
        expected = {WHOLE_COMPANY: len({s.employee_id for s in there})}
        for team in {s.team_id for s in there}:
            key = NO_TEAM if team is None else team
            expected[key] = len({s.employee_id for s in there if s.team_id == team})
        assert counts[start] == {k: v for k, v in expected.items() if v or k == WHOLE_COMPANY}


def test_a_persons_interests_make_one_key_and_keys_make_the_groups_and_their_overlaps():
    assert interests_key([12, 3, 7, 3]) == "3,7,12"
    assert interests_key([]) == ""
    sizes, both, everyone = interest_groups({"3,7,12": 2, "3": 5, "": 4, "7,12": 1})
    assert sizes == {3: 7, 7: 3, 12: 3}
    assert both == {(3, 7): 2, (3, 12): 2, (7, 12): 3}
    assert everyone == 12  # the four who chose nothing took part too
    assert interest_groups({}) == ({}, {}, 0)


@given(st.lists(st.frozensets(st.integers(1, 6), max_size=4), max_size=30))
def test_the_groups_from_keys_are_those_counted_person_by_person(people):
    keys: dict[str, int] = {}
    for chosen in people:
        keys[interests_key(chosen)] = keys.get(interests_key(chosen), 0) + 1
    sizes, both, everyone = interest_groups(keys)
    assert everyone == len(people)
    for interest in range(1, 7):
        assert sizes.get(interest, 0) == sum(interest in chosen for chosen in people)
        for other in range(interest + 1, 7):
            together = sum({interest, other} <= chosen for chosen in people)
            assert both.get((interest, other), 0) == together
