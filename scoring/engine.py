"""The scoring engine: events + rules + prior cap usage + now in, ledger lines out.

A deterministic function with no I/O. Each rule version in force at an event's time
that matches the event writes its own line, so every point can answer "why did I get
this?". A rule's cap limits the points one employee earns from it per window: the line
gets min(points, cap - used) and is written even when that is 0 (``capped``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Protocol, TypeVar

from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window, window_key

# Events further ahead than this (clock skew) are refused rather than scored.
MAX_FUTURE = timedelta(minutes=5)


def in_force_at(valid_from: datetime, valid_until: datetime | None, moment: datetime) -> bool:
    """A version applies from its start (inclusive) to its end (exclusive); no end: open."""
    return valid_from <= moment and (valid_until is None or moment < valid_until)


class Versioned(Protocol):
    valid_from: datetime
    valid_until: datetime | None


V = TypeVar("V", bound=Versioned)


def version_in_force(versions: Iterable[V], moment: datetime) -> V | None:
    """The version that applies at ``moment``, if any (versions of one rule never overlap)."""
    return next((v for v in versions if in_force_at(v.valid_from, v.valid_until, moment)), None)


@dataclass(frozen=True)
class Rule:
    """One version of a scoring rule. ``None`` in a condition means "any"."""

    rule_id: int
    version: int
    name: str
    event_kind: EventKind
    points: int
    valid_from: datetime
    valid_until: datetime | None = None
    channels: frozenset[Channel] | None = None
    tags: frozenset[str] | None = None  # the event's content carries at least one
    team_ids: frozenset[int] | None = None
    campaign: str | None = None
    # True: only shares in the employee's own words (and their clicks); None: any.
    own_words: bool | None = None
    cap: int | None = None
    cap_window: Window = Window.ALL_TIME
    # Points of this rule become spendable this many days after the event (referrals).
    vesting_days: int = 0

    def __post_init__(self) -> None:
        # No negative points, no punishments: corrections are separate compensating lines.
        if self.points < 0:
            raise ValueError("a rule cannot take points away")
        if self.cap is not None and self.cap < 0:
            raise ValueError("a cap cannot be negative")
        if self.vesting_days < 0:
            raise ValueError("vesting cannot be negative")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("a rule must end after it starts")

    def in_force(self, moment: datetime) -> bool:
        return in_force_at(self.valid_from, self.valid_until, moment)

    def matches(self, event: EventFacts) -> bool:
        return (
            event.kind is self.event_kind
            and self.in_force(event.occurred_at)
            and (self.channels is None or event.channel in self.channels)
            and (self.tags is None or bool(self.tags & event.tags))
            and (self.team_ids is None or event.team_id in self.team_ids)
            and (self.campaign is None or event.campaign == self.campaign)
            and (not self.own_words or event.own_words)
            # A network whose terms forbid rewarding posts earns no share points.
            and not (event.kind is EventKind.SHARE and not event.share_points)
        )


@dataclass(frozen=True)
class EventFacts:
    event_id: int
    kind: EventKind
    employee_id: int
    occurred_at: datetime
    team_id: int | None = None
    channel: Channel | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    campaign: str | None = None
    share_points: bool = True
    own_words: bool = False  # the share (of a share or click event) is in own words


@dataclass(frozen=True)
class ScoredLine:
    """A line the engine scored; the service stores it as a ``LedgerLine`` row."""

    event_id: int
    rule_id: int
    rule_version: int
    employee_id: int
    team_id: int | None
    points: int
    capped: bool
    occurred_at: datetime
    reason: str
    vests_at: datetime | None = None


# (employee_id, rule_id, window key) -> points already earned under that cap.
CapCounts = MutableMapping[tuple[int, int, str], int]


class FutureEvent(ValueError):
    """An event dated after ``now`` plus the allowed clock skew."""


_WHAT = {
    EventKind.SHARE: "sharing content",
    EventKind.CLICK: "a unique click on your link",
    EventKind.REFERRAL_APPLIED: "a referred candidate applying",
    EventKind.REFERRAL_INTERVIEWED: "a referred candidate being interviewed",
    EventKind.REFERRAL_HIRED: "a referred candidate being hired",
}


def describe(rule: Rule, event: EventFacts) -> str:
    return _description(rule.name, event.kind, event.channel, bool(rule.own_words))


@lru_cache(maxsize=1024)
def _description(
    rule_name: str, kind: EventKind, channel: Channel | None, own_words: bool = False
) -> str:
    # A batch repeats the same few descriptions for thousands of lines: made once each.
    what = _WHAT.get(kind, kind.value.replace("_", " "))
    where = f" on {channel.label}" if channel else ""
    own = ", in your own words" if own_words else ""
    return f"{rule_name}: {what}{where}{own}"


@lru_cache(maxsize=8192)
def _window_on(window: Window, day: date, zone: tzinfo, week_start: int) -> str:
    # Day, week and month keys depend only on the company-local date.
    return window_key(
        window, datetime(day.year, day.month, day.day, 12, tzinfo=zone), zone, week_start
    )


def cap_window_key(window: Window, moment: datetime, zone: tzinfo, week_start: int = 0) -> str:
    """``window_key`` for cap counting, computed once per company-local day."""
    if window is Window.ALL_TIME:
        return window_key(window, moment, zone, week_start)
    return _window_on(window, moment.astimezone(zone).date(), zone, week_start)


def score_event(
    event: EventFacts,
    rules: Iterable[Rule],
    usage: CapCounts,
    *,
    zone: tzinfo,
    week_start: int = 0,
) -> list[ScoredLine]:
    """Lines for one event; ``usage`` is updated with what they award."""
    ordered = sorted(rules, key=lambda r: (r.rule_id, r.version))
    return _score_ordered(event, ordered, usage, zone, week_start)


def _score_ordered(
    event: EventFacts, rules: Sequence[Rule], usage: CapCounts, zone: tzinfo, week_start: int
) -> list[ScoredLine]:
    """``score_event`` for rules already in (rule id, version) order."""
    lines = []
    for rule in rules:
        if not rule.matches(event):
            continue
        points = rule.points
        capped = False
        if rule.cap is not None:
            key = (
                event.employee_id,
                rule.rule_id,
                cap_window_key(rule.cap_window, event.occurred_at, zone, week_start),
            )
            used = usage.get(key, 0)
            allowed = max(0, rule.cap - used)
            if points > allowed:
                points, capped = allowed, True
            usage[key] = used + points
        reason = describe(rule, event)
        if capped:
            reason += f" (capped: {rule.cap} per {rule.cap_window.value.replace('_', ' ')})"
        lines.append(
            ScoredLine(
                event_id=event.event_id,
                rule_id=rule.rule_id,
                rule_version=rule.version,
                employee_id=event.employee_id,
                team_id=event.team_id,
                points=points,
                capped=capped,
                occurred_at=event.occurred_at,
                reason=reason,
                vests_at=(
                    event.occurred_at + timedelta(days=rule.vesting_days)
                    if rule.vesting_days
                    else None
                ),
            )
        )
    return lines


def score_events(
    events: Iterable[EventFacts],
    rules: Iterable[Rule],
    usage: Mapping[tuple[int, int, str], int],
    *,
    now: datetime,
    zone: tzinfo,
    week_start: int = 0,
) -> tuple[list[ScoredLine], dict[tuple[int, int, str], int]]:
    """Score events in time order (then by id), so caps fill in the order things
    happened whatever order they arrive in. Returns the lines and the new usage."""
    # Rules sorted once and grouped by the kind of event they score: an event is only
    # checked against the rules of its kind, in the same order as ``score_event``.
    by_kind: dict[EventKind, list[Rule]] = {}
    for rule in sorted(rules, key=lambda r: (r.rule_id, r.version)):
        by_kind.setdefault(rule.event_kind, []).append(rule)
    usage = dict(usage)
    lines: list[ScoredLine] = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        if event.occurred_at > now + MAX_FUTURE:
            raise FutureEvent(f"event {event.event_id} is dated in the future")
        lines.extend(_score_ordered(event, by_kind.get(event.kind, ()), usage, zone, week_start))
    return lines, usage
