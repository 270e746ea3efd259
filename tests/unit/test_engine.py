"""The pure scoring engine: matching, caps at window edges, versions, determinism."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import EventFacts, FutureEvent, Rule, score_events, version_in_force
from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 31, tzinfo=UTC)


def rule(**changes) -> Rule:
    base = Rule(
        rule_id=1,
        version=1,
        name="Sharing",
        event_kind=EventKind.SHARE,
        points=10,
        valid_from=START,
    )
    return replace(base, **changes)


def event(event_id=1, at=datetime(2026, 11, 20, 12, tzinfo=UTC), **changes) -> EventFacts:
    base = EventFacts(
        event_id=event_id,
        kind=EventKind.SHARE,
        employee_id=7,
        occurred_at=at,
        team_id=3,
        channel=Channel.LINKEDIN,
        tags=frozenset({"careers"}),
    )
    return replace(base, **changes)


def score(events, rules, usage=None):
    return score_events(events, rules, usage or {}, now=NOW, zone=BERLIN)


@pytest.mark.parametrize(
    ("the_rule", "the_event", "points"),
    [
        (rule(), event(), [10]),
        (rule(event_kind=EventKind.CLICK), event(), []),
        (rule(channels=frozenset({Channel.X})), event(), []),
        (rule(channels=frozenset({Channel.X, Channel.LINKEDIN})), event(), [10]),
        (rule(tags=frozenset({"jobs", "careers"})), event(), [10]),
        (rule(tags=frozenset({"jobs"})), event(), []),
        (rule(team_ids=frozenset({4})), event(), []),
        (rule(campaign="#launch"), event(campaign="#launch"), [10]),
        (rule(campaign="#launch"), event(), []),
        (rule(valid_from=datetime(2026, 11, 21, tzinfo=UTC)), event(), []),
        (rule(valid_until=datetime(2026, 11, 20, 12, tzinfo=UTC)), event(), []),
        (rule(), event(share_points=False), []),  # the network forbids rewarding posts
        (rule(event_kind=EventKind.CLICK), event(kind=EventKind.CLICK, share_points=False), [10]),
    ],
)
def test_matching(the_rule, the_event, points):
    lines, _ = score([the_event], [the_rule])
    assert [line.points for line in lines] == points


def test_each_matching_rule_writes_its_own_line_with_a_reason():
    lines, _ = score(
        [event()],
        [rule(), rule(rule_id=2, name="Careers bonus", points=5, tags=frozenset({"careers"}))],
    )
    assert [(line.rule_id, line.points) for line in lines] == [(1, 10), (2, 5)]
    assert lines[1].reason == "Careers bonus: sharing content on LinkedIn"


def test_a_cap_awards_the_rest_then_zero_lines_marked_capped():
    capped_rule = rule(points=10, cap=25, cap_window=Window.DAY)
    events = [event(i, datetime(2026, 11, 20, 8 + i, tzinfo=UTC)) for i in range(4)]
    lines, usage = score(events, [capped_rule])
    assert [(line.points, line.capped) for line in lines] == [
        (10, False),
        (10, False),
        (5, True),
        (0, True),
    ]
    assert usage == {(7, 1, "2026-11-20"): 25}
    assert "capped: 25 per day" in lines[3].reason


def test_prior_usage_counts_against_the_cap():
    lines, _ = score(
        [event()], [rule(cap=25, cap_window=Window.DAY)], usage={(7, 1, "2026-11-20"): 20}
    )
    assert [(line.points, line.capped) for line in lines] == [(5, True)]


@pytest.mark.parametrize(
    ("window", "last_second", "first_second_after"),
    [
        # Berlin is UTC+1 in November: the local day/week/month ends at 23:00 UTC.
        (
            Window.DAY,
            datetime(2026, 11, 20, 22, 59, 59, tzinfo=UTC),
            datetime(2026, 11, 20, 23, tzinfo=UTC),
        ),
        (
            Window.WEEK,
            datetime(2026, 11, 22, 22, 59, 59, tzinfo=UTC),
            datetime(2026, 11, 22, 23, tzinfo=UTC),
        ),
        (
            Window.MONTH,
            datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC),
            datetime(2026, 11, 30, 23, tzinfo=UTC),
        ),
    ],
)
def test_cap_windows_end_at_local_midnight(window, last_second, first_second_after):
    capped_rule = rule(cap=10, cap_window=window)
    inside = [event(1, last_second - timedelta(hours=1)), event(2, last_second)]
    lines, _ = score([*inside, event(3, first_second_after)], [capped_rule])
    assert [line.points for line in lines] == [10, 0, 10]


def test_events_are_scored_in_the_order_they_happened():
    capped_rule = rule(points=10, cap=10, cap_window=Window.ALL_TIME)
    late, early = (
        event(1, datetime(2026, 11, 20, tzinfo=UTC)),
        event(2, datetime(2026, 11, 1, tzinfo=UTC)),
    )
    lines, _ = score([late, early], [capped_rule])
    assert [(line.event_id, line.points) for line in lines] == [(2, 10), (1, 0)]


def test_the_version_in_force_at_the_event_time_applies():
    switch = datetime(2026, 11, 15, tzinfo=UTC)
    versions = [
        rule(version=1, points=10, valid_until=switch),
        rule(version=2, points=20, valid_from=switch),
    ]
    lines, _ = score([event(1, switch - timedelta(seconds=1)), event(2, switch)], versions)
    assert [(line.rule_version, line.points) for line in lines] == [(1, 10), (2, 20)]


def test_future_events_are_refused():
    with pytest.raises(FutureEvent):
        score([event(at=NOW + timedelta(minutes=6))], [rule()])
    lines, _ = score([event(at=NOW + timedelta(minutes=4))], [rule(valid_until=None)])
    assert len(lines) == 1


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"points": -1}, "take points away"),
        ({"cap": -5}, "negative"),
        ({"valid_until": START}, "end after it starts"),
    ],
)
def test_rules_cannot_punish_or_be_inside_out(changes, problem):
    with pytest.raises(ValueError, match=problem):
        rule(**changes)


events_strategy = st.lists(
    st.builds(
        lambda i, minutes, employee, kind: event(
            i, START + timedelta(minutes=minutes), employee_id=employee, kind=kind
        ),
        st.integers(1, 10_000),
        st.integers(0, 60 * 24 * 120),
        st.integers(1, 4),
        st.sampled_from([EventKind.SHARE, EventKind.CLICK]),
    ),
    max_size=60,
    unique_by=lambda e: e.event_id,
)
rules_strategy = st.lists(
    st.builds(
        lambda i, points, cap, window, kind: rule(
            rule_id=i, points=points, cap=cap, cap_window=window, event_kind=kind
        ),
        st.integers(1, 5),
        st.integers(0, 50),
        st.none() | st.integers(0, 200),
        st.sampled_from(list(Window)),
        st.sampled_from([EventKind.SHARE, EventKind.CLICK]),
    ),
    max_size=4,
    unique_by=lambda r: r.rule_id,
)


@settings(max_examples=150, deadline=None)
@given(events_strategy, rules_strategy, st.randoms())
def test_scoring_is_deterministic_and_respects_caps(events, rules, random):
    lines, usage = score(events, rules)
    shuffled = list(events)
    random.shuffle(shuffled)
    assert score(shuffled, list(reversed(rules))) == (lines, usage)
    for line in lines:
        assert line.points >= 0
        the_rule = next(r for r in rules if r.rule_id == line.rule_id)
        assert line.points <= the_rule.points
        assert line.capped == (line.points < the_rule.points)
    for (_, rule_id, _), used in usage.items():
        assert used <= next(r for r in rules if r.rule_id == rule_id).cap


@settings(max_examples=100, deadline=None)
@given(events_strategy, rules_strategy, st.integers(0, 60))
def test_scoring_in_two_batches_equals_scoring_at_once(events, rules, split):
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    first, second = ordered[:split], ordered[split:]
    lines_a, usage_a = score(first, rules)
    lines_b, usage_b = score(second, rules, usage_a)
    assert (lines_a + lines_b, usage_b) == score(events, rules)


@dataclass(frozen=True)
class _Version:
    version: int
    valid_from: datetime
    valid_until: datetime | None


_VERSIONS = [
    _Version(1, START, START + timedelta(days=10)),
    _Version(2, START + timedelta(days=10), START + timedelta(days=20)),
    _Version(3, START + timedelta(days=25), None),
]


@pytest.mark.parametrize(
    ("moment", "version"),
    [
        (START - timedelta(seconds=1), None),  # before the first
        (START, 1),  # a start is inclusive
        (START + timedelta(days=10) - timedelta(microseconds=1), 1),
        (START + timedelta(days=10), 2),  # an end is exclusive
        (START + timedelta(days=22), None),  # a gap: retired, then back
        (START + timedelta(days=25), 3),
        (START + timedelta(days=9000), 3),  # no end: open
    ],
)
def test_which_version_is_in_force(moment: datetime, version: int | None):
    found = version_in_force(_VERSIONS, moment)
    assert (found.version if found else None) == version
    # the rules the engine scores with agree
    rules = [
        Rule(1, v.version, "r", EventKind.SHARE, 1, v.valid_from, v.valid_until) for v in _VERSIONS
    ]
    assert [r.version for r in rules if r.in_force(moment)] == ([version] if version else [])
