"""Share challenges (scoring.challenges): the state machine, the clock, which events
count, standings for people and teams, qualification, prizes, the freeze and the
settlement digest, table by table."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.challenges import (
    ChallengeState,
    Contribution,
    Cutoff,
    Event,
    Exclusion,
    Filters,
    Metric,
    Party,
    Placing,
    Prize,
    PrizeKind,
    Schedule,
    Scope,
    ScopeKind,
    TeamTally,
    TransitionRefused,
    Viewer,
    awards,
    canonical_standings,
    check_prizes,
    check_transition,
    clock_state,
    collective_total,
    contributions,
    current_state,
    cutoff_for,
    exclusion,
    individual_standings,
    pair_totals,
    pairs_from_rows,
    person_totals,
    placings_from_rows,
    qualifies,
    settlement_digest,
    settlement_due,
    sources,
    standing_of,
    tallies_from_pairs,
    target_progress,
    team_rule_text,
    team_standings,
    team_tallies,
    totals_from_pairs,
)
from scoring.ranking import Standing, rank_standings
from scoring.vocabulary import Channel, EventKind

S = ChallengeState
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
END = datetime(2026, 11, 9, 9, tzinfo=UTC)
H = timedelta(hours=1)
SCHEDULE = Schedule(START, END, freeze_hours=6)  # frozen from END - 6 h, settled at END + 24 h

# State machine ---------------------------------------------------------------------

ALLOWED = {
    (S.OPEN, S.FROZEN, Party.CLOCK),
    (S.OPEN, S.SETTLED, Party.CLOCK),
    (S.FROZEN, S.SETTLED, Party.CLOCK),
    (S.OPEN, S.CANCELLED, Party.ORGANISER),
    (S.OPEN, S.CANCELLED, Party.HR),
    (S.FROZEN, S.CANCELLED, Party.ORGANISER),
    (S.FROZEN, S.CANCELLED, Party.HR),
}


@pytest.mark.parametrize(("current", "target", "party"), list(product(S, S, Party)))
def test_every_move_is_allowed_only_as_the_table_says(current, target, party):
    if (current, target, party) in ALLOWED:
        check_transition(current, target, party)
    else:
        with pytest.raises(TransitionRefused):
            check_transition(current, target, party)


@pytest.mark.parametrize("final", [S.SETTLED, S.CANCELLED])
def test_a_settled_or_cancelled_challenge_never_moves_again(final):
    for target, party in product(S, Party):
        with pytest.raises(TransitionRefused):
            check_transition(final, target, party)


@pytest.mark.parametrize(
    ("target", "party", "expected"),
    [
        (S.FROZEN, Party.CLOCK, {S.OPEN}),
        (S.SETTLED, Party.CLOCK, {S.OPEN, S.FROZEN}),
        (S.CANCELLED, Party.HR, {S.OPEN, S.FROZEN}),
        (S.CANCELLED, Party.ORGANISER, {S.OPEN, S.FROZEN}),
        (S.SETTLED, Party.HR, set()),
        (S.CANCELLED, Party.CLOCK, set()),
        (S.OPEN, Party.HR, set()),
    ],
)
def test_sources_are_what_a_conditional_update_must_find(target, party, expected):
    assert sources(target, party) == expected


def test_a_refusal_names_who_may_make_the_move():
    with pytest.raises(TransitionRefused, match="Only HR or its team lead can"):
        check_transition(S.OPEN, S.CANCELLED, Party.CLOCK)


# The clock -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state", "due"),
    [
        (START - H, S.OPEN, False),  # not started yet: open, nothing to show
        (START, S.OPEN, False),
        (END - 6 * H - timedelta(seconds=1), S.OPEN, False),
        (END - 6 * H, S.FROZEN, False),  # the freeze moment
        (END - H, S.FROZEN, False),
        (END, S.FROZEN, False),  # ended: frozen through the lateness window
        (END + 24 * H - timedelta(seconds=1), S.FROZEN, False),
        (END + 24 * H, S.FROZEN, True),  # settlement due
        (END + 72 * H, S.FROZEN, True),  # a late job still settles
    ],
)
def test_the_clock_freezes_in_the_last_hours_and_settlement_is_due_after_lateness(now, state, due):
    assert clock_state(SCHEDULE, now) is state
    assert settlement_due(SCHEDULE, now) is due


@pytest.mark.parametrize(
    ("freeze_hours", "lateness", "now", "state", "due"),
    [
        (0, timedelta(hours=24), END - timedelta(seconds=1), S.OPEN, False),
        (0, timedelta(hours=24), END, S.FROZEN, False),  # no freeze: frozen only after end
        (0, timedelta(0), END, S.FROZEN, True),  # no lateness: due at the end
        (10_000, timedelta(hours=24), START, S.FROZEN, False),  # freeze longer than it runs
        (2, timedelta(hours=48), END + 47 * H, S.FROZEN, False),
        (2, timedelta(hours=48), END + 48 * H, S.FROZEN, True),
    ],
)
def test_freeze_and_lateness_options(freeze_hours, lateness, now, state, due):
    schedule = Schedule(START, END, freeze_hours, lateness)
    assert clock_state(schedule, now) is state
    assert settlement_due(schedule, now) is due


@pytest.mark.parametrize(
    ("stored", "now", "expected"),
    [
        (S.OPEN, START, S.OPEN),
        (S.OPEN, END, S.FROZEN),  # the freeze job has not run: the clock still freezes it
        (S.FROZEN, END, S.FROZEN),
        (S.SETTLED, END + 30 * H, S.SETTLED),
        (S.CANCELLED, END - H, S.CANCELLED),
        (S.CANCELLED, START, S.CANCELLED),
    ],
)
def test_a_final_stored_state_stands_otherwise_the_clock_decides(stored, now, expected):
    assert current_state(stored, SCHEDULE, now) is expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": END, "end": START}, "end after it starts"),
        ({"start": START, "end": START}, "end after it starts"),
        ({"start": START.replace(tzinfo=None), "end": END}, "time zone"),
        ({"start": START, "end": END, "freeze_hours": -1}, "negative"),
        ({"start": START, "end": END, "lateness": -H}, "negative"),
    ],
)
def test_a_schedule_that_makes_no_sense_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Schedule(**kwargs)


def test_the_default_lateness_window_is_a_day():
    assert Schedule(START, END).settle_at == END + 24 * H


# Which events count ----------------------------------------------------------------


def event(**overrides) -> Event:
    values = {
        "employee_id": 1,
        "team_id": 10,
        "kind": EventKind.SHARE,
        "occurred_at": START + H,
        "arrived_at": START + H,
        "points": 5,
        "content_id": 100,
        "tags": frozenset({"hiring"}),
        "channel": Channel.LINKEDIN,
    }
    values.update(overrides)
    return Event(**values)


COMPANY = Scope(ScopeKind.COMPANY)
ANY = Filters()


@pytest.mark.parametrize(
    ("ev", "metric", "scope", "filters", "expected"),
    [
        (event(), Metric.SHARES, COMPANY, ANY, None),
        (event(occurred_at=START), Metric.SHARES, COMPANY, ANY, None),  # start is inside
        (event(occurred_at=START - timedelta(seconds=1)), Metric.SHARES, COMPANY, ANY,
         Exclusion.BEFORE_START),
        (event(occurred_at=END, arrived_at=END), Metric.SHARES, COMPANY, ANY,
         Exclusion.AFTER_END),  # end is outside
        (event(occurred_at=END - timedelta(seconds=1)), Metric.SHARES, COMPANY, ANY, None),
        # a click of the period that arrives inside the lateness window counts...
        (event(kind=EventKind.CLICK, occurred_at=END - H, arrived_at=END + 23 * H),
         Metric.CLICKS, COMPANY, ANY, None),
        # ...one arriving after it does not
        (event(kind=EventKind.CLICK, occurred_at=END - H, arrived_at=END + 24 * H),
         Metric.CLICKS, COMPANY, ANY, Exclusion.ARRIVED_LATE),
        (event(kind=EventKind.REFERRAL_HIRED, arrived_at=END + 25 * H),
         Metric.REFERRAL_STAGES, COMPANY, ANY, Exclusion.ARRIVED_LATE),
        (event(kind=EventKind.CLICK), Metric.SHARES, COMPANY, ANY, Exclusion.OTHER_METRIC),
        (event(), Metric.CLICKS, COMPANY, ANY, Exclusion.OTHER_METRIC),
        (event(), Metric.REFERRAL_STAGES, COMPANY, ANY, Exclusion.OTHER_METRIC),
        (event(kind=EventKind.REFERRAL_APPLIED), Metric.REFERRAL_STAGES, COMPANY, ANY, None),
        (event(kind=EventKind.REFERRAL_INTERVIEWED), Metric.REFERRAL_STAGES, COMPANY, ANY,
         None),
        (event(kind=EventKind.CLICK), Metric.POINTS, COMPANY, ANY, None),  # any kind earns
        (event(kind=EventKind.REFERRAL_HIRED), Metric.POINTS, COMPANY, ANY, None),
        # the team when the event happened decides
        (event(team_id=10), Metric.SHARES, Scope(ScopeKind.TEAMS, frozenset({10})), ANY, None),
        (event(team_id=11), Metric.SHARES, Scope(ScopeKind.TEAMS, frozenset({10})), ANY,
         Exclusion.OUT_OF_SCOPE),
        (event(team_id=None), Metric.SHARES, Scope(ScopeKind.TEAMS, frozenset({10})), ANY,
         Exclusion.OUT_OF_SCOPE),
        (event(team_id=None), Metric.SHARES, COMPANY, ANY, None),
        (event(team_id=12), Metric.SHARES, Scope(ScopeKind.TEAM_VS_TEAM, frozenset({11, 12})),
         ANY, None),
        (event(team_id=10), Metric.SHARES, Scope(ScopeKind.TEAM_VS_TEAM, frozenset({11, 12})),
         ANY, Exclusion.OUT_OF_SCOPE),
        (event(), Metric.SHARES, COMPANY, Filters(content_ids=frozenset({100, 101})), None),
        (event(content_id=102), Metric.SHARES, COMPANY, Filters(content_ids=frozenset({100})),
         Exclusion.OTHER_CONTENT),
        (event(content_id=None), Metric.SHARES, COMPANY, Filters(content_ids=frozenset({100})),
         Exclusion.OTHER_CONTENT),
        (event(tags=frozenset({"hiring", "events"})), Metric.SHARES, COMPANY,
         Filters(tags=frozenset({"events", "product"})), None),  # one tag is enough
        (event(), Metric.SHARES, COMPANY, Filters(tags=frozenset({"product"})),
         Exclusion.OTHER_TAGS),
        (event(tags=frozenset()), Metric.SHARES, COMPANY, Filters(tags=frozenset({"hiring"})),
         Exclusion.OTHER_TAGS),
        (event(), Metric.SHARES, COMPANY, Filters(channels=frozenset({Channel.LINKEDIN})), None),
        (event(channel=Channel.X), Metric.SHARES, COMPANY,
         Filters(channels=frozenset({Channel.LINKEDIN})), Exclusion.OTHER_NETWORK),
        # every non-empty filter must pass
        (event(channel=Channel.X), Metric.SHARES, COMPANY,
         Filters(content_ids=frozenset({100}), channels=frozenset({Channel.XING})),
         Exclusion.OTHER_NETWORK),
    ],
)  # fmt: skip
def test_which_events_count(ev, metric, scope, filters, expected):
    assert exclusion(ev, SCHEDULE, metric, scope, filters) is expected


@pytest.mark.parametrize(
    ("kind", "teams"),
    [(ScopeKind.COMPANY, {1}), (ScopeKind.TEAMS, set()), (ScopeKind.TEAM_VS_TEAM, {1})],
)
def test_a_scope_that_names_the_wrong_teams_is_refused(kind, teams):
    with pytest.raises(ValueError, match="team"):
        Scope(kind, frozenset(teams))


@given(
    occurred=st.integers(-200, 400),
    arrived_after=st.integers(0, 200),
)
def test_an_event_counts_exactly_when_it_happened_in_the_period_and_arrived_in_time(
    occurred, arrived_after
):
    at = START + occurred * H
    ev = event(occurred_at=at, arrived_at=at + arrived_after * H)
    counts = exclusion(ev, SCHEDULE, Metric.SHARES, COMPANY, ANY) is None
    assert counts == (START <= at < END and at + arrived_after * H < END + 24 * H)


# Freeze ----------------------------------------------------------------------------

FROZEN_VIEW = Cutoff(END - 6 * H, END - 6 * H)
FINAL_VIEW = Cutoff(END, END + 24 * H)


@pytest.mark.parametrize(
    ("viewer", "stored", "now", "expected"),
    [
        (Viewer.EMPLOYEE, S.OPEN, START + H, FINAL_VIEW),  # before the freeze: live
        (Viewer.EMPLOYEE, S.OPEN, END - 6 * H, FROZEN_VIEW),  # the clock froze it
        (Viewer.EMPLOYEE, S.FROZEN, END - H, FROZEN_VIEW),
        (Viewer.TEAM_LEAD, S.FROZEN, END - H, FROZEN_VIEW),
        (Viewer.EMPLOYEE, S.FROZEN, END + 30 * H, FROZEN_VIEW),  # due, not settled yet
        (Viewer.HR, S.FROZEN, END - H, FINAL_VIEW),
        (Viewer.ADMIN, S.FROZEN, END - H, FINAL_VIEW),
        (Viewer.EMPLOYEE, S.SETTLED, END + 30 * H, FINAL_VIEW),  # results are public
        (Viewer.HR, S.SETTLED, END + 30 * H, FINAL_VIEW),
    ],
)
def test_which_cutoff_a_viewer_gets(viewer, stored, now, expected):
    assert cutoff_for(viewer, stored, SCHEDULE, now) == expected


def test_the_frozen_board_does_not_move_while_hr_sees_it_live():
    before = event(employee_id=1, occurred_at=END - 7 * H, arrived_at=END - 7 * H)
    during = event(employee_id=2, occurred_at=END - 2 * H, arrived_at=END - 2 * H)
    late_for_earlier = event(
        employee_id=3, kind=EventKind.SHARE, occurred_at=END - 8 * H, arrived_at=END - H
    )
    events = [before, during, late_for_earlier]

    def board(viewer):
        cutoff = cutoff_for(viewer, S.FROZEN, SCHEDULE, END - H)
        items = contributions(events, SCHEDULE, Metric.SHARES, COMPANY, ANY, cutoff)
        return {c.employee_id for c in items}

    assert board(Viewer.EMPLOYEE) == {1}
    assert board(Viewer.HR) == {1, 2, 3}


# Standings -------------------------------------------------------------------------


def c(employee_id: int, value: int, hours: float, team_id: int | None = 10) -> Contribution:
    return Contribution(employee_id, team_id, value, START + timedelta(hours=hours))


def test_a_zero_point_contribution_does_not_move_the_tie_time():
    totals = person_totals([c(1, 10, 1), c(1, 0, 5), c(2, 10, 2)], since=START)
    assert totals[1] == Standing(1, 10, START + H)
    ranked = individual_standings(totals, {1, 2})
    assert [(p.rank, p.entrant_id) for p in ranked] == [(1, 1), (1, 2)]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {}),
        ([c(1, 0, 3)], {1: (0, START)}),  # never changed: reached at the start
        ([c(1, 5, 3), c(1, 5, 1)], {1: (10, START + 3 * H)}),  # by event time, not order
        ([c(1, 5, 1), c(1, -5, 2)], {1: (0, START + 2 * H)}),  # a reversal changes it
        ([c(1, 3, 1), c(2, 4, 2)], {1: (3, START + H), 2: (4, START + 2 * H)}),
    ],
)
def test_person_totals(items, expected):
    totals = person_totals(items, since=START)
    assert {pid: (s.points, s.reached_at) for pid, s in totals.items()} == expected


def test_hidden_and_opted_out_people_are_left_out_before_ranking():
    totals = person_totals([c(1, 50, 1), c(2, 60, 1), c(3, 30, 1)], since=START)
    ranked = individual_standings(totals, ranked_ids={1, 3})  # 2 is hidden
    assert [(p.rank, p.entrant_id, p.points) for p in ranked] == [(1, 1, 50), (2, 3, 30)]
    assert totals[2].points == 60  # still there for their own progress


@pytest.mark.parametrize(
    ("items", "order"),
    [
        # competition ranking: 50, 50, 30 rank 1, 1, 3; earliest achiever first
        ([c(1, 50, 2), c(2, 50, 1), c(3, 30, 0)], [(1, 2), (1, 1), (3, 3)]),
        # same second: lower id first
        ([c(9, 10, 1), c(4, 10, 1)], [(1, 4), (1, 9)]),
    ],
)
def test_individual_standings_follow_the_board_rules(items, order):
    ranked = individual_standings(person_totals(items, since=START), {1, 2, 3, 4, 9})
    assert [(p.rank, p.entrant_id) for p in ranked] == order


def summed_as_sql_does(items: list[Contribution]):
    """GROUP BY (team, employee): SUM of the values, MAX of the times of the
    contributions whose value is not 0 (NULL, here None, when there is none)."""
    rows: dict[tuple[int | None, int], list] = {}
    for item in items:
        row = rows.setdefault((item.team_id, item.employee_id), [0, None])
        row[0] += item.value
        if item.value != 0 and (row[1] is None or item.occurred_at > row[1]):
            row[1] = item.occurred_at
    return [(team, employee, total, at) for (team, employee), (total, at) in rows.items()]


@given(
    st.lists(
        st.tuples(
            st.integers(1, 6),
            st.one_of(st.none(), st.integers(10, 12)),
            st.integers(-5, 20),
            st.integers(0, 100),
        ),
        max_size=40,
    ),
    st.sets(st.integers(1, 6)),
    st.dictionaries(st.integers(10, 12), st.frozensets(st.integers(1, 6)), max_size=3),
)
def test_totals_summed_by_sql_equal_the_per_event_path(raw, shown, members):
    """What settlement reads (one row per team and employee, summed by SQL) gives
    the same totals, tie times, placings and team tallies as the contributions."""
    items = [c(pid, value, hours, team) for pid, team, value, hours in raw]
    pairs = pairs_from_rows(summed_as_sql_does(items), since=START)
    assert pairs == pair_totals(items, since=START)
    totals = totals_from_pairs(pairs, since=START)
    assert totals == person_totals(items, since=START)
    assert individual_standings(totals, shown, 10) == individual_standings(
        person_totals(items, since=START), shown, 10
    )
    assert tallies_from_pairs(pairs, members, START) == team_tallies(items, members, START)


@given(
    st.lists(st.tuples(st.integers(1, 8), st.integers(-5, 20), st.integers(0, 100)), max_size=40),
    st.sets(st.integers(1, 8)),
)
def test_individual_standings_are_the_one_board_ranking_of_the_shown_people(raw, shown):
    items = [c(pid, value, hours) for pid, value, hours in raw]
    totals = person_totals(items, since=START)
    placings = individual_standings(totals, shown)
    expected = rank_standings([s for pid, s in totals.items() if pid in shown])
    assert [(p.rank, p.entrant_id, p.points) for p in placings] == [
        (r.rank, r.member_id, r.points) for r in expected
    ]
    # the order of arrival never matters
    again = individual_standings(person_totals(reversed(items), since=START), shown)
    assert again == placings


@pytest.mark.parametrize(
    ("points", "minimum", "expected"),
    [(10, 10, True), (9, 10, False), (1, 0, True), (0, 0, False), (-3, 0, False)],
)
def test_qualifies(points, minimum, expected):
    assert qualifies(points, minimum) is expected


def test_the_minimum_to_qualify_marks_the_placings():
    totals = person_totals([c(1, 50, 1), c(2, 20, 1), c(3, 0, 1)], since=START)
    ranked = individual_standings(totals, {1, 2, 3}, minimum=25)
    assert [(p.entrant_id, p.qualified) for p in ranked] == [(1, True), (2, False), (3, False)]


@pytest.mark.parametrize(
    ("employee_id", "expected"),
    [
        (1, (1, 50, True)),
        (3, (2, 30, True)),
        (2, (None, 60, True)),  # hidden: no rank, yet their own points and qualification
        (4, (None, 5, False)),
        (9, (None, 0, False)),  # nothing counted yet
    ],
)
def test_my_standing_reads_the_same_placings_as_the_board(employee_id, expected):
    totals = person_totals([c(1, 50, 1), c(2, 60, 1), c(3, 30, 1), c(4, 5, 1)], since=START)
    placings = individual_standings(totals, ranked_ids={1, 3}, minimum=10)
    mine = standing_of(employee_id, placings, totals, minimum=10)
    assert (mine.rank, mine.points, mine.qualified) == expected


def test_my_standing_while_frozen_is_the_frozen_one():
    events = [
        event(employee_id=1, occurred_at=END - 8 * H, arrived_at=END - 8 * H),
        event(employee_id=2, occurred_at=END - 8 * H, arrived_at=END - 8 * H, points=1),
        event(employee_id=1, occurred_at=END - H, arrived_at=END - H),
    ]

    def mine(viewer):
        cutoff = cutoff_for(viewer, S.FROZEN, SCHEDULE, END - H / 2)
        items = contributions(events, SCHEDULE, Metric.SHARES, COMPANY, ANY, cutoff)
        totals = person_totals(items, since=START)
        return standing_of(1, individual_standings(totals, {1, 2}), totals)

    assert (mine(Viewer.EMPLOYEE).rank, mine(Viewer.EMPLOYEE).points) == (1, 1)
    assert (mine(Viewer.HR).rank, mine(Viewer.HR).points) == (1, 2)


# Team mode -------------------------------------------------------------------------


def test_a_team_score_is_points_per_active_member_so_size_does_not_win():
    tallies = [
        TeamTally(1, 80, START + H, 10),  # 8 each
        TeamTally(2, 40, START + 2 * H, 4),  # 10 each
        TeamTally(3, 24, START, 3),  # 8 each, reached earlier than team 1
    ]
    placings = team_standings(tallies)
    assert [(p.rank, p.entrant_id, p.score) for p in placings] == [
        (1, 2, Fraction(10)),
        (2, 3, Fraction(8)),
        (2, 1, Fraction(8)),
    ]


def test_team_scores_compare_exactly_where_floats_would_not():
    # 10 among 30 and 1 among 3 are the same score: they tie, the earlier first
    tallies = [TeamTally(1, 10, START + H, 30), TeamTally(2, 1, START, 3)]
    placings = team_standings(tallies)
    assert [(p.rank, p.entrant_id) for p in placings] == [(1, 2), (1, 1)]
    # and a tiny real difference is kept: 333334/1000000 > 1/3
    tallies = [TeamTally(1, 1, START, 3), TeamTally(2, 333_334, START + H, 1_000_000)]
    assert [p.entrant_id for p in team_standings(tallies)] == [2, 1]


def test_team_tallies_count_only_active_members_and_the_team_at_event_time():
    items = [
        c(1, 10, 1, team_id=10),
        c(2, 0, 5, team_id=10),  # active, scored nothing: still in the denominator
        c(3, 50, 2, team_id=10),  # not active (hidden or declined): left out
        c(4, 6, 3, team_id=11),
        c(4, 4, 0.5, team_id=10),  # moved from team 10 to 11: points stay where earned
        c(5, 7, 1, team_id=None),
    ]
    active = {10: {1, 2, 4}, 11: {4, 6}, 12: set()}
    tallies = team_tallies(items, active, since=START)
    assert tallies == [
        TeamTally(10, 14, START + H, 3),
        TeamTally(11, 6, START + 3 * H, 2),
    ]


def test_a_team_with_no_points_yet_ranks_from_the_start():
    tallies = team_tallies([], {10: {1}, 11: {2}}, since=START)
    assert tallies == [TeamTally(10, 0, START, 1), TeamTally(11, 0, START, 1)]
    assert [(p.rank, p.entrant_id, p.qualified) for p in team_standings(tallies)] == [
        (1, 10, False),
        (1, 11, False),
    ]


@given(
    st.lists(
        st.tuples(st.integers(-50, 500), st.integers(1, 60), st.integers(0, 1000)),
        min_size=1,
        max_size=12,
    )
)
def test_team_ranks_agree_with_exact_fractions(raw):
    tallies = [
        TeamTally(i, pts, START + timedelta(seconds=s), n) for i, (pts, n, s) in enumerate(raw)
    ]
    placings = team_standings(tallies)
    scores = {t.team_id: Fraction(t.points, t.active_members) for t in tallies}
    for p in placings:
        assert p.score == scores[p.entrant_id]
        assert p.rank == 1 + sum(1 for s in scores.values() if s > p.score)
    keys = [(-p.score, tallies[p.entrant_id].reached_at, p.entrant_id) for p in placings]
    assert keys == sorted(keys)


def test_team_minimum_applies_per_member():
    placings = team_standings([TeamTally(1, 30, START, 3), TeamTally(2, 30, START, 2)], minimum=11)
    assert {p.entrant_id: p.qualified for p in placings} == {1: False, 2: True}


@pytest.mark.parametrize("metric", list(Metric))
def test_the_team_rule_is_said_in_words(metric):
    text = team_rule_text(metric)
    assert "divided by its active members" in text
    assert "does not win by size" in text
    assert "not hidden" in text
    assert "declined" in text


# Collective target -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "target", "percent", "reached"),
    [
        (0, 100, 0, False),
        (50, 200, 25, False),
        (999, 1000, 99, False),  # rounded down: 100 % only once reached
        (1000, 1000, 100, True),
        (2500, 1000, 100, True),  # clamped
        (-5, 100, 0, False),  # a reversal below zero
        (1, 3, 33, False),
    ],
)
def test_target_progress(total, target, percent, reached):
    progress = target_progress(total, target)
    assert (progress.percent, progress.reached) == (percent, reached)


def test_the_collective_total_sums_what_the_board_ranks():
    totals = person_totals([c(1, 50, 1), c(2, 60, 1), c(3, 30, 1)], since=START)
    assert collective_total(individual_standings(totals, ranked_ids={1, 3})) == 80
    assert collective_total([]) == 0


def test_a_target_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        target_progress(5, 0)


# Prizes ----------------------------------------------------------------------------


def placing(rank, entrant, points, qualified=True, members=1):
    return Placing(rank, entrant, points, Fraction(points, members), members, qualified)


FIRST_BADGE = Prize(PrizeKind.BADGE, 7, place=1)
FIRST_POINTS = Prize(PrizeKind.POINTS, 100, place=1)
SECOND_POINTS = Prize(PrizeKind.POINTS, 50, place=2)
THIRD_REWARD = Prize(PrizeKind.REWARD, 3, place=3)
EVERYONE_BADGE = Prize(PrizeKind.BADGE, 8)


@pytest.mark.parametrize(
    ("placings", "prizes", "expected"),
    [
        # ties share the place and its prize; competition ranking leaves no second
        (
            [placing(1, 5, 50), placing(1, 6, 50), placing(3, 7, 30)],
            [FIRST_BADGE, SECOND_POINTS, THIRD_REWARD],
            [
                ("challenge:4:place:5:badge", 5),
                ("challenge:4:place:6:badge", 6),
                ("challenge:4:place:7:reward", 7),
            ],
        ),
        # two kinds of prize for one place, under two keys
        (
            [placing(1, 5, 50), placing(2, 6, 40)],
            [FIRST_BADGE, FIRST_POINTS, SECOND_POINTS],
            [
                ("challenge:4:place:5:badge", 5),
                ("challenge:4:place:5:points", 5),
                ("challenge:4:place:6:points", 6),
            ],
        ),
        # a prize for everyone who qualifies, beside the place prize
        (
            [placing(1, 5, 50), placing(2, 6, 40), placing(3, 7, 5, qualified=False)],
            [FIRST_POINTS, EVERYONE_BADGE],
            [
                ("challenge:4:place:5:points", 5),
                ("challenge:4:qualified:5:badge", 5),
                ("challenge:4:qualified:6:badge", 6),
            ],
        ),
        # whoever did not qualify wins no place
        ([placing(1, 5, 5, qualified=False)], [FIRST_BADGE], []),
        ([], [FIRST_BADGE], []),
    ],
)
def test_awards(placings, prizes, expected):
    assert [(a.key, a.employee_id) for a in awards(4, placings, prizes)] == expected


def test_team_prizes_go_to_each_active_member_of_the_team():
    placings = [placing(1, 10, 40, members=2), placing(2, 11, 30, members=3)]
    result = awards(4, placings, [FIRST_BADGE], members={10: {2, 1}, 11: {3, 4, 5}})
    assert [(a.key, a.employee_id, a.place) for a in result] == [
        ("challenge:4:place:1:badge", 1, 1),
        ("challenge:4:place:2:badge", 2, 1),
    ]


def test_someone_in_two_placed_teams_gets_each_prize_once():
    placings = [placing(1, 10, 40), placing(2, 11, 30)]
    prizes = [Prize(PrizeKind.BADGE, 7), Prize(PrizeKind.POINTS, 9, place=1)]
    result = awards(4, placings, prizes, members={10: {1, 2}, 11: {2, 3}})
    assert [a.key for a in result] == [
        "challenge:4:qualified:1:badge",
        "challenge:4:qualified:2:badge",
        "challenge:4:place:1:points",
        "challenge:4:place:2:points",
        "challenge:4:qualified:3:badge",  # and not a second one for 2
    ]


def test_a_hidden_qualifier_gets_the_prize_for_qualifying_but_no_place():
    placings = [placing(1, 5, 50)]
    prizes = [FIRST_BADGE, EVERYONE_BADGE]
    result = awards(4, placings, prizes, unranked_qualifiers={8})
    assert [(a.key, a.place) for a in result] == [
        ("challenge:4:place:5:badge", 1),
        ("challenge:4:qualified:5:badge", None),
        ("challenge:4:qualified:8:badge", None),
    ]


def test_settling_twice_gives_the_same_awards_so_unique_keys_write_them_once():
    placings = [placing(1, 5, 50), placing(1, 6, 50), placing(3, 7, 30)]
    prizes = [FIRST_BADGE, FIRST_POINTS, EVERYONE_BADGE]
    first, second = awards(4, placings, prizes), awards(4, list(reversed(placings)), prizes)
    assert sorted(first, key=lambda a: a.key) == sorted(second, key=lambda a: a.key)
    assert len({a.key for a in first}) == len(first)


@pytest.mark.parametrize(
    "prizes",
    [
        [Prize(PrizeKind.BADGE, 1, place=1), Prize(PrizeKind.BADGE, 2, place=1)],
        [Prize(PrizeKind.POINTS, 1), Prize(PrizeKind.POINTS, 2)],
    ],
)
def test_two_prizes_of_one_kind_for_one_place_are_refused(prizes):
    with pytest.raises(ValueError, match="two"):
        check_prizes(prizes)


@pytest.mark.parametrize(
    ("value", "place", "message"),
    [(0, 1, "positive value"), (-5, None, "positive value"), (10, 0, "places start at 1")],
)
def test_a_prize_needs_a_positive_value_and_place(value, place, message):
    with pytest.raises(ValueError, match=message):
        Prize(PrizeKind.POINTS, value, place)


# Settlement digest -----------------------------------------------------------------


def test_the_digest_is_canonical_json_hashed():
    placings = [placing(2, 6, 40), placing(1, 5, 50, members=3)]
    assert canonical_standings(4, placings) == (
        '{"challenge":4,"standings":[[1,5,50,"50/3",3,true],[2,6,40,"40/1",1,true]]}'
    )
    assert settlement_digest(4, placings) == settlement_digest(4, list(reversed(placings)))
    assert len(settlement_digest(4, placings)) == 64


@pytest.mark.parametrize(
    "changed",
    [
        [placing(1, 5, 51), placing(2, 6, 40)],  # a point more
        [placing(1, 6, 50), placing(2, 5, 40)],  # places swapped
        [placing(1, 5, 50)],  # a line removed
        [placing(1, 5, 50), placing(2, 6, 40, qualified=False)],
    ],
)
def test_any_change_to_the_settled_standings_changes_the_digest(changed):
    original = [placing(1, 5, 50), placing(2, 6, 40)]
    assert settlement_digest(4, changed) != settlement_digest(4, original)
    assert settlement_digest(5, original) != settlement_digest(4, original)


def test_a_known_digest_stays_the_same():
    # stored digests are data: the canonical form must never drift
    digest = settlement_digest(1, [placing(1, 2, 3)])
    expected = hashlib.sha256(b'{"challenge":1,"standings":[[1,2,3,"3/1",1,true]]}').hexdigest()
    assert digest == expected


@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.integers(0, 60)), max_size=20, unique_by=lambda t: t[0]
    ),
    st.integers(0, 40),
)
def test_awards_are_unique_and_do_not_depend_on_the_order_of_the_placings(raw, minimum):
    totals = person_totals([c(pid, pts, 1) for pid, pts in raw], since=START)
    placings = individual_standings(totals, set(totals), minimum)
    prizes = [FIRST_BADGE, FIRST_POINTS, SECOND_POINTS, THIRD_REWARD, EVERYONE_BADGE]
    result = awards(4, placings, prizes)
    assert len({a.key for a in result}) == len(result)
    qualified = {p.entrant_id: p for p in placings if p.qualified}
    for award in result:
        assert award.employee_id in qualified
        assert award.place in (None, qualified[award.employee_id].rank)
    shuffled = awards(4, sorted(placings, key=lambda p: -p.entrant_id), prizes)
    assert sorted(a.key for a in shuffled) == sorted(a.key for a in result)


@given(
    viewer=st.sampled_from(Viewer),
    now_hours=st.integers(-10, 200),
    occurred_hours=st.integers(-10, 200),
    delay_hours=st.integers(0, 48),
)
def test_no_employee_view_admits_an_event_that_arrived_after_the_freeze_before_results(
    viewer, now_hours, occurred_hours, delay_hours
):
    now = START + now_hours * H
    occurred = START + occurred_hours * H
    ev = event(occurred_at=occurred, arrived_at=occurred + delay_hours * H)
    cutoff = cutoff_for(viewer, S.FROZEN, SCHEDULE, now)
    if viewer in (Viewer.HR, Viewer.ADMIN) or now < SCHEDULE.freeze_start:
        assert cutoff == FINAL_VIEW
    elif cutoff.admits(ev):
        assert ev.arrived_at < SCHEDULE.freeze_start


# Definitions: who may organise, what may be saved, what may change ----------------

from scoring.challenges import (  # noqa: E402
    MAX_PRIZE_POINTS,
    Mode,
    challenge_problems,
    counted,
    edit_problems,
    may_manage,
    organise_problem,
    rules_in_words,
    start_problem,
    visible_to,
)

D0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("is_hr", "own_team", "scope", "team_ids", "allowed"),
    [
        (True, None, ScopeKind.COMPANY, (), True),
        (True, 1, ScopeKind.TEAM_VS_TEAM, (2, 3), True),
        (False, 1, ScopeKind.TEAMS, (1,), True),
        (False, 1, ScopeKind.TEAMS, (2,), False),
        (False, 1, ScopeKind.TEAMS, (1, 2), False),
        (False, 1, ScopeKind.COMPANY, (), False),
        (False, 1, ScopeKind.TEAM_VS_TEAM, (1, 2), False),
        (False, None, ScopeKind.TEAMS, (1,), False),
    ],
)
def test_who_may_organise_which_scope(is_hr, own_team, scope, team_ids, allowed):
    assert (organise_problem(is_hr, own_team, scope, team_ids) is None) is allowed


@pytest.mark.parametrize(
    ("is_hr", "actor", "own_team", "organiser", "scope", "team_ids", "allowed"),
    [
        (True, 1, None, 9, ScopeKind.COMPANY, (), True),
        (False, 1, 5, 1, ScopeKind.TEAMS, (5,), True),  # organised it
        (False, 1, 5, 9, ScopeKind.TEAMS, (5,), True),  # their team's
        (False, 1, 5, 1, ScopeKind.TEAMS, (6,), True),  # organised it, moved team since
        (False, 1, 5, 9, ScopeKind.TEAMS, (5, 6), False),  # HR's for two teams
        (False, 1, 5, 9, ScopeKind.COMPANY, (), False),
        (False, 1, None, None, ScopeKind.TEAMS, (5,), False),
    ],
)
def test_who_may_edit_or_cancel(is_hr, actor, own_team, organiser, scope, team_ids, allowed):
    assert may_manage(is_hr, actor, own_team, organiser, scope, team_ids) is allowed


@pytest.mark.parametrize(
    ("sees_all", "team", "organiser", "scope", "team_ids", "visible"),
    [
        (False, 5, None, ScopeKind.COMPANY, (), True),
        (False, None, None, ScopeKind.COMPANY, (), True),
        (False, 5, None, ScopeKind.TEAMS, (5,), True),
        (False, 5, None, ScopeKind.TEAM_VS_TEAM, (4, 5), True),
        (False, 5, None, ScopeKind.TEAMS, (6,), False),
        (False, None, None, ScopeKind.TEAMS, (6,), False),
        (False, 5, 1, ScopeKind.TEAMS, (6,), True),  # the viewer (id 1) organised it
        (True, None, None, ScopeKind.TEAMS, (6,), True),
    ],
)
def test_who_sees_a_challenge(sees_all, team, organiser, scope, team_ids, visible):
    assert visible_to(sees_all, 1, team, organiser, scope, team_ids) is visible


def _definition(**changes):
    base = {
        "title": "Spring sharing",
        "start": D0,
        "end": D0 + timedelta(days=7),
        "mode": Mode.INDIVIDUAL,
        "scope": ScopeKind.COMPANY,
        "team_ids": (),
        "freeze_hours": 24,
        "lateness_hours": 24,
        "minimum": 0,
        "target": None,
        "prizes": (),
    }
    return challenge_problems(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"end": D0}, "ends_at"),
        ({"end": D0 - timedelta(hours=1)}, "ends_at"),
        ({"end": D0 + timedelta(days=400)}, "ends_at"),
        ({"team_ids": (1,)}, "team_ids"),
        ({"scope": ScopeKind.TEAMS}, "team_ids"),
        ({"scope": ScopeKind.TEAM_VS_TEAM, "team_ids": (1,), "mode": Mode.TEAM}, "team_ids"),
        ({"scope": ScopeKind.TEAM_VS_TEAM, "team_ids": (1, 2)}, "mode"),
        ({"scope": ScopeKind.TEAMS, "team_ids": (1,), "mode": Mode.TEAM}, "mode"),
        ({"freeze_hours": -1}, "freeze_hours"),
        ({"freeze_hours": 24 * 7 + 1}, "freeze_hours"),
        ({"freeze_hours": 24 * 7, "end": D0 + timedelta(days=7)}, "freeze_hours"),
        ({"lateness_hours": -1}, "lateness_hours"),
        ({"lateness_hours": 24 * 14 + 1}, "lateness_hours"),
        ({"minimum": -1}, "minimum"),
        ({"target": 0}, "target"),
        ({"prizes": (Prize(PrizeKind.POINTS, MAX_PRIZE_POINTS + 1, 1),)}, "prizes"),
        ({"prizes": (Prize(PrizeKind.BADGE, 1, 101),)}, "prizes"),
        ({"prizes": (Prize(PrizeKind.BADGE, 1, 1), Prize(PrizeKind.BADGE, 2, 1))}, "prizes"),
        ({"prizes": tuple(Prize(PrizeKind.POINTS, 5, p) for p in range(1, 22))}, "prizes"),
    ],
)
def test_a_bad_definition_names_its_field(changes, field):
    assert field in _definition(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"scope": ScopeKind.TEAMS, "team_ids": (1,)},
        {"scope": ScopeKind.TEAMS, "team_ids": (1, 2), "mode": Mode.TEAM},
        {"scope": ScopeKind.TEAM_VS_TEAM, "team_ids": (1, 2), "mode": Mode.TEAM},
        {"scope": ScopeKind.COMPANY, "mode": Mode.TEAM},
        {"freeze_hours": 0, "lateness_hours": 0, "minimum": 3, "target": 100},
        {"prizes": (Prize(PrizeKind.BADGE, 1, 1), Prize(PrizeKind.POINTS, 50, 1))},
        {"prizes": (Prize(PrizeKind.POINTS, MAX_PRIZE_POINTS, None),)},
    ],
)
def test_a_good_definition_has_no_problems(changes):
    assert _definition(**changes) == {}


def test_the_start_may_not_lie_in_the_past_beyond_a_short_grace():
    now = D0
    assert start_problem(D0 - timedelta(minutes=30), D0 + timedelta(days=1), now) == {}
    assert "starts_at" in start_problem(D0 - timedelta(hours=2), D0 + timedelta(days=1), now)
    assert "ends_at" in start_problem(D0 - timedelta(minutes=5), D0, now)


D_BADGE = Prize(PrizeKind.BADGE, 1, 1)
D_POINTS = Prize(PrizeKind.POINTS, 50, None)
D_END = D0 + timedelta(days=7)


@pytest.mark.parametrize(
    ("state", "started", "changed", "new_end", "new_prizes", "refused"),
    [
        # before the start: anything
        (ChallengeState.OPEN, False, {"metric", "starts_at", "minimum"}, D_END, (D_BADGE,), set()),
        (ChallengeState.OPEN, False, {"prizes"}, D_END, (), set()),
        # running: title, description, a later end, more prizes
        (ChallengeState.OPEN, True, {"title", "description"}, D_END, (D_BADGE,), set()),
        (ChallengeState.OPEN, True, {"ends_at"}, D_END + timedelta(days=1), (D_BADGE,), set()),
        (ChallengeState.OPEN, True, {"prizes"}, D_END, (D_BADGE, D_POINTS), set()),
        (
            ChallengeState.OPEN,
            True,
            {"ends_at"},
            D_END - timedelta(days=1),
            (D_BADGE,),
            {"ends_at"},
        ),
        (ChallengeState.OPEN, True, {"prizes"}, D_END, (D_POINTS,), {"prizes"}),
        (
            ChallengeState.OPEN,
            True,
            {"metric", "team_ids", "minimum", "title"},
            D_END,
            (D_BADGE,),
            {"metric", "team_ids", "minimum"},
        ),
        # frozen, settled, cancelled: nothing
        (ChallengeState.FROZEN, True, {"title"}, D_END, (D_BADGE,), {"title"}),
        (ChallengeState.SETTLED, True, {"description"}, D_END, (D_BADGE,), {"description"}),
        (ChallengeState.CANCELLED, False, {"title"}, D_END, (D_BADGE,), {"title"}),
    ],
)
def test_what_may_change_when(state, started, changed, new_end, new_prizes, refused):
    now = D0 + timedelta(days=1)
    problems = edit_problems(state, started, changed, D_END, new_end, (D_BADGE,), new_prizes, now)
    assert set(problems) == refused


def test_a_running_end_cannot_move_into_the_past():
    now = D_END + timedelta(hours=1)  # past the end, yet open (no freeze, job not run)
    problems = edit_problems(
        ChallengeState.OPEN, True, {"ends_at"}, D_END, D_END + timedelta(minutes=30), (), (), now
    )
    assert problems == {"ends_at": "The new end must be in the future."}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((Metric.SHARES, Mode.INDIVIDUAL, 0, None, 0, 0), "Results are final at the end."),
        ((Metric.CLICKS, Mode.TEAM, 2, None, 0, 24), "counted clicks per active member"),
        ((Metric.SHARES, Mode.TEAM, 3, None, 0, 24), "at least 3 shares per active member"),
        ((Metric.SHARES, Mode.INDIVIDUAL, 0, 500, 0, 24), "Together we aim for 500 shares"),
        ((Metric.POINTS, Mode.INDIVIDUAL, 0, None, 12, 24), "hidden for the last 12 hours"),
        ((Metric.CLICKS, Mode.INDIVIDUAL, 0, None, 0, 48), "up to 48 hours after its end"),
        ((Metric.POINTS, Mode.INDIVIDUAL, 0, None, 0, 0), "bonus points from prizes never"),
    ],
)
def test_the_rules_in_words(args, expected):
    lines = rules_in_words(*args)
    assert any(expected in line for line in lines), lines
    assert "voluntary" in lines[-1]


@pytest.mark.parametrize(
    ("args", "expected", "wrong"),
    [
        ((Metric.SHARES, Mode.INDIVIDUAL, 0, None, 1, 0), "hidden for the last hour,", "1 hours"),
        (
            (Metric.SHARES, Mode.INDIVIDUAL, 0, None, 2, 0),
            "hidden for the last 2 hours,",
            "2 hour,",
        ),
        ((Metric.CLICKS, Mode.INDIVIDUAL, 0, None, 0, 1), "up to 1 hour after its end", "1 hours"),
        ((Metric.SHARES, Mode.INDIVIDUAL, 1, None, 0, 0), "at least 1 share.", "1 shares"),
        (
            (Metric.CLICKS, Mode.TEAM, 1, None, 0, 0),
            "at least 1 counted click per",
            "1 counted clicks",
        ),
        (
            (Metric.REFERRAL_STAGES, Mode.INDIVIDUAL, 0, 1, 0, 0),
            "aim for 1 referral stage:",
            "1 referral stages",
        ),
        ((Metric.POINTS, Mode.INDIVIDUAL, 1, None, 0, 0), "at least 1 point.", "1 points"),
    ],
)
def test_the_rules_say_one_in_the_singular(args, expected, wrong):
    text = " ".join(rules_in_words(*args))
    assert expected in text, text
    assert wrong not in text


@pytest.mark.parametrize(
    ("count", "nouns", "expected"),
    [
        (1, ("hour",), "1 hour"),
        (0, ("hour",), "0 hours"),
        (24, ("hour",), "24 hours"),
        (1, ("counted click", "counted clicks"), "1 counted click"),
        (2, ("person", "people"), "2 people"),
        (-1, ("point",), "-1 points"),
    ],
)
def test_counted_uses_the_singular_for_exactly_one(count, nouns, expected):
    assert counted(count, *nouns) == expected


# Pair boards (team mode's live board) ---------------------------------------------------


def _c(employee: int, team: int | None, value: int, minutes: int) -> Contribution:
    return Contribution(employee, team, value, START + timedelta(minutes=minutes))


PAIR_CASES = [
    # (contributions, active members)
    ([], {1: {10, 11}}),
    ([_c(10, 1, 5, 1), _c(11, 1, 3, 2)], {1: {10, 11}}),
    ([_c(10, 1, 5, 1), _c(10, 1, 0, 9)], {1: {10}}),  # a 0 does not move the time
    ([_c(10, 1, 5, 1), _c(10, 1, -5, 3)], {1: {10}}),  # net 0, reached at 3
    ([_c(10, 1, 5, 1), _c(10, 2, 4, 2)], {1: {10}, 2: {11}}),  # moved: only team 1 counts
    ([_c(10, None, 5, 1), _c(11, 2, 1, 4)], {2: {11, 12}}),  # no team at the time
    ([_c(10, 1, 0, 1)], {1: {10}, 3: set()}),  # a team without active members is left out
]


@pytest.mark.parametrize(("items", "active"), PAIR_CASES)
def test_tallies_from_pairs_equal_tallies_from_contributions(items, active):
    pairs = pair_totals(items, START)
    assert tallies_from_pairs(pairs, active, START) == team_tallies(items, active, START)


def test_pair_totals_keep_the_team_at_the_time():
    pairs = pair_totals([_c(10, 1, 5, 1), _c(10, 2, 4, 2), _c(10, 1, 0, 7)], START)
    assert pairs == {
        (1, 10): Standing(10, 5, START + timedelta(minutes=1)),
        (2, 10): Standing(10, 4, START + timedelta(minutes=2)),
    }


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.sampled_from([None, 1, 2]),
            st.integers(-3, 5),
            st.integers(0, 600),
        ),
        max_size=30,
    ),
    st.sets(st.integers(1, 4)),
)
def test_tallies_from_pairs_agree_for_any_history(raw, active_people):
    items = [_c(e, t, v, m) for e, t, v, m in raw]
    active = {1: active_people, 2: {1, 2} & active_people}
    pairs = pair_totals(items, START)
    assert tallies_from_pairs(pairs, active, START) == team_tallies(items, active, START)


def test_placings_from_rows_give_back_the_digest():
    placings = [Placing(1, 7, 40, Fraction(10), 4, True), Placing(2, 3, 80, Fraction(8), 10, True)]
    rows = [
        (
            p.rank,
            p.entrant_id,
            p.points,
            p.score.numerator,
            p.score.denominator,
            p.active_members,
            p.qualified,
        )
        for p in placings
    ]
    assert settlement_digest(5, placings_from_rows(rows)) == settlement_digest(5, placings)
    changed = [(1, 7, 41, 41, 4, 4, True), rows[1]]
    assert settlement_digest(5, placings_from_rows(changed)) != settlement_digest(5, placings)
