"""Share challenges: a time-boxed contest on shares, counted clicks, referral stages or
points, for one team, chosen teams, team against team, or the whole company.

Everything here is a pure decision over plain values: which state a challenge is in,
which events count, the standings (individual, or per active member of a team), who
qualifies, who gets which prize under which key, what a viewer may see while the board
is frozen, and the digest that seals the settled standings. Storing, scheduling and
showing them is the application's part.

Life of a challenge::

    open ──> frozen ──> settled
      │        │
      └────────┴──> cancelled

It is frozen during the last ``freeze_hours`` before its end, and stays frozen after
the end until settlement, which is due at end + the lateness window (24 hours unless
chosen otherwise): late clicks and referral stages of the challenge's period that
arrive inside that window still count; anything arriving later does not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from math import lcm

from scoring.keys import challenge_place_award_key, challenge_qualified_award_key
from scoring.ranking import Standing, rank_standings
from scoring.transitions import TransitionRefused as TransitionRefused
from scoring.transitions import Transitions
from scoring.vocabulary import Channel, EventKind

DEFAULT_LATENESS = timedelta(hours=24)

# State machine ---------------------------------------------------------------------


class ChallengeState(StrEnum):
    OPEN = "open"  # running, or not started yet: standings are live for everyone
    FROZEN = "frozen"  # last hours and the lateness window: employees see the freeze
    SETTLED = "settled"  # placings, prizes and the digest are written: final
    CANCELLED = "cancelled"  # called off before settlement: no placings, no prizes


class Party(StrEnum):
    ORGANISER = "organiser"  # the team lead who created it, for their own team
    HR = "hr"
    CLOCK = "clock"  # the scheduled jobs that freeze and settle


FINAL = frozenset({ChallengeState.SETTLED, ChallengeState.CANCELLED})

# (from, to) -> who may make the move. Anything missing is not allowed to anybody.
# Open -> settled is allowed: a settlement job that runs before (or instead of) the
# freeze job still settles, so a missed freeze never blocks results.
TRANSITIONS: dict[tuple[ChallengeState, ChallengeState], frozenset[Party]] = {
    (ChallengeState.OPEN, ChallengeState.FROZEN): frozenset({Party.CLOCK}),
    (ChallengeState.OPEN, ChallengeState.SETTLED): frozenset({Party.CLOCK}),
    (ChallengeState.FROZEN, ChallengeState.SETTLED): frozenset({Party.CLOCK}),
    (ChallengeState.OPEN, ChallengeState.CANCELLED): frozenset({Party.ORGANISER, Party.HR}),
    (ChallengeState.FROZEN, ChallengeState.CANCELLED): frozenset({Party.ORGANISER, Party.HR}),
}


MACHINE = Transitions(
    noun="challenge",
    moves=TRANSITIONS,
    party_words={Party.ORGANISER: "its team lead", Party.HR: "HR", Party.CLOCK: "the schedule"},
)
# May this party move it there (raises TransitionRefused), and from which states may it
# (what the conditional UPDATE must find, so that of two racing settlements one wins).
check_transition = MACHINE.check
sources = MACHINE.sources


# Schedule --------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a challenge runs: [start, end), frozen for its last ``freeze_hours``,
    settled at end + ``lateness``. Times are aware instants (company time zone or UTC)."""

    start: datetime
    end: datetime
    freeze_hours: int = 0
    lateness: timedelta = DEFAULT_LATENESS

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must carry a time zone")
        if not self.start < self.end:
            raise ValueError("a challenge must end after it starts")
        if self.freeze_hours < 0:
            raise ValueError("freeze_hours cannot be negative")
        if self.lateness < timedelta(0):
            raise ValueError("the lateness window cannot be negative")

    @property
    def freeze_start(self) -> datetime:
        """The freeze moment; a freeze longer than the challenge starts with it."""
        return max(self.start, self.end - timedelta(hours=self.freeze_hours))

    @property
    def settle_at(self) -> datetime:
        """When settlement is due: the end plus the lateness window."""
        return self.end + self.lateness


def clock_state(schedule: Schedule, now: datetime) -> ChallengeState:
    """The state the clock puts an unsettled challenge in: open before the freeze
    moment, frozen from it until settlement (also after the end when there is no
    freeze, so that late events do not move the public board before the results)."""
    return ChallengeState.OPEN if now < schedule.freeze_start else ChallengeState.FROZEN


def current_state(stored: ChallengeState, schedule: Schedule, now: datetime) -> ChallengeState:
    """What a challenge is now: a final stored state stands; otherwise the clock says
    open or frozen, even if the freeze job has not run yet."""
    return stored if stored in FINAL else clock_state(schedule, now)


def settlement_due(schedule: Schedule, now: datetime) -> bool:
    return now >= schedule.settle_at


# Which events count ----------------------------------------------------------------


class Metric(StrEnum):
    SHARES = "shares"
    CLICKS = "clicks"  # counted clicks only: the adapter passes click events
    REFERRAL_STAGES = "referral_stages"
    POINTS = "points"  # points the events earned; prize points are not events


METRIC_KINDS: dict[Metric, frozenset[EventKind]] = {
    Metric.SHARES: frozenset({EventKind.SHARE}),
    Metric.CLICKS: frozenset({EventKind.CLICK}),
    Metric.REFERRAL_STAGES: frozenset(
        {EventKind.REFERRAL_APPLIED, EventKind.REFERRAL_INTERVIEWED, EventKind.REFERRAL_HIRED}
    ),
    Metric.POINTS: frozenset(EventKind),
}


class Mode(StrEnum):
    INDIVIDUAL = "individual"  # people ranked by their own total
    TEAM = "team"  # teams ranked by points per active member


class ScopeKind(StrEnum):
    COMPANY = "company"
    TEAMS = "teams"  # one team (a team lead's own) or HR's chosen teams
    TEAM_VS_TEAM = "team_vs_team"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    team_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.kind is ScopeKind.COMPANY and self.team_ids:
            raise ValueError("a company challenge names no teams")
        if self.kind is ScopeKind.TEAMS and not self.team_ids:
            raise ValueError("a team challenge names at least one team")
        if self.kind is ScopeKind.TEAM_VS_TEAM and len(self.team_ids) < 2:
            raise ValueError("team against team needs at least two teams")

    def includes(self, team_id: int | None) -> bool:
        """Whether someone in ``team_id`` (their team when the event happened) is in."""
        return self.kind is ScopeKind.COMPANY or team_id in self.team_ids


@dataclass(frozen=True)
class Filters:
    """Which content, tags or networks count; an empty set means any. An event must
    pass every non-empty filter; for tags, one matching tag is enough."""

    content_ids: frozenset[int] = frozenset()
    tags: frozenset[str] = frozenset()
    channels: frozenset[Channel] = frozenset()


@dataclass(frozen=True)
class Event:
    """An event as a challenge sees it. ``team_id`` is the team the employee was in when
    it happened; ``arrived_at`` when Chorus recorded it (a click or an ATS stage can
    arrive after it happened); ``points`` what it earned (used by the points metric);
    content, tags and channel come from the share the event belongs to."""

    employee_id: int
    team_id: int | None
    kind: EventKind
    occurred_at: datetime
    arrived_at: datetime
    points: int = 0
    content_id: int | None = None
    tags: frozenset[str] = frozenset()
    channel: Channel | None = None


class Exclusion(StrEnum):
    """Why an event does not count, the first reason found in this order."""

    BEFORE_START = "before_start"
    AFTER_END = "after_end"
    ARRIVED_LATE = "arrived_late"
    OTHER_METRIC = "other_metric"
    OUT_OF_SCOPE = "out_of_scope"
    OTHER_CONTENT = "other_content"
    OTHER_TAGS = "other_tags"
    OTHER_NETWORK = "other_network"


def exclusion(
    event: Event, schedule: Schedule, metric: Metric, scope: Scope, filters: Filters
) -> Exclusion | None:
    """None when the event counts for the challenge, otherwise why not."""
    if event.occurred_at < schedule.start:
        return Exclusion.BEFORE_START
    if event.occurred_at >= schedule.end:
        return Exclusion.AFTER_END
    if event.arrived_at >= schedule.settle_at:
        return Exclusion.ARRIVED_LATE
    if event.kind not in METRIC_KINDS[metric]:
        return Exclusion.OTHER_METRIC
    if not scope.includes(event.team_id):
        return Exclusion.OUT_OF_SCOPE
    if filters.content_ids and event.content_id not in filters.content_ids:
        return Exclusion.OTHER_CONTENT
    if filters.tags and not filters.tags & event.tags:
        return Exclusion.OTHER_TAGS
    if filters.channels and event.channel not in filters.channels:
        return Exclusion.OTHER_NETWORK
    return None


def metric_value(metric: Metric, event: Event) -> int:
    """What a counting event adds: its points for the points metric, else one."""
    return event.points if metric is Metric.POINTS else 1


# Freeze ----------------------------------------------------------------------------


class Viewer(StrEnum):
    EMPLOYEE = "employee"
    TEAM_LEAD = "team_lead"  # an employee-facing view like any other
    HR = "hr"
    ADMIN = "admin"


LIVE_VIEWERS = frozenset({Viewer.HR, Viewer.ADMIN})


@dataclass(frozen=True)
class Cutoff:
    """Events count for a view only if they happened before ``occurred_before`` and
    arrived before ``arrived_before``."""

    occurred_before: datetime
    arrived_before: datetime

    def admits(self, event: Event) -> bool:
        return event.occurred_at < self.occurred_before and event.arrived_at < self.arrived_before


def final_cutoff(schedule: Schedule) -> Cutoff:
    """Everything of the period that arrived inside the lateness window: live and
    settled standings."""
    return Cutoff(schedule.end, schedule.settle_at)


def cutoff_for(viewer: Viewer, stored: ChallengeState, schedule: Schedule, now: datetime) -> Cutoff:
    """Which events a viewer's standings are computed from. HR and admins always see
    live standings; after settlement everyone sees the settled ones. While frozen,
    every employee-facing surface (board, my standing, home page, API) shows the board
    as it was at the freeze moment: events that happened AND arrived before it, so a
    late click for an earlier hour cannot move the frozen board and leak a rank."""
    if viewer in LIVE_VIEWERS or current_state(stored, schedule, now) is not ChallengeState.FROZEN:
        return final_cutoff(schedule)
    return Cutoff(schedule.freeze_start, schedule.freeze_start)


# Standings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """One counting event's value for one employee, in the team they were in then."""

    employee_id: int
    team_id: int | None
    value: int
    occurred_at: datetime


def contributions(
    events: Iterable[Event],
    schedule: Schedule,
    metric: Metric,
    scope: Scope,
    filters: Filters,
    cutoff: Cutoff,
) -> list[Contribution]:
    """The counting events admitted by the viewer's cut-off, as contributions."""
    return [
        Contribution(e.employee_id, e.team_id, metric_value(metric, e), e.occurred_at)
        for e in events
        if exclusion(e, schedule, metric, scope, filters) is None and cutoff.admits(e)
    ]


def person_totals(items: Iterable[Contribution], since: datetime) -> dict[int, Standing]:
    """Each employee's total and when they reached it: the time of their latest
    contribution that changed the total (a 0-point one does not move it; ``since``,
    the challenge start, for someone whose contributions are all 0). Settled from the
    events' own times, never from the order they arrived in."""
    points: dict[int, int] = {}
    reached: dict[int, datetime] = {}
    for c in items:
        points[c.employee_id] = points.get(c.employee_id, 0) + c.value
        if c.value != 0:
            earlier = reached.get(c.employee_id)
            reached[c.employee_id] = (
                c.occurred_at if earlier is None else max(earlier, c.occurred_at)
            )
    return {pid: Standing(pid, total, reached.get(pid, since)) for pid, total in points.items()}


@dataclass(frozen=True)
class Placing:
    """A line of the standings: a person (individual mode) or a team (team mode).
    ``score`` is what ranks: points for a person, points per active member for a team."""

    rank: int
    entrant_id: int
    points: int
    score: Fraction
    active_members: int = 1
    qualified: bool = False


def qualifies(points: int, minimum: int) -> bool:
    """A minimum to qualify; whoever earned nothing never qualifies, even with none."""
    return points > 0 and points >= minimum


def individual_standings(
    totals: Mapping[int, Standing], ranked_ids: Collection[int], minimum: int = 0
) -> list[Placing]:
    """Competition ranking of the people in ``ranked_ids`` (opted in, not hidden, not
    declined: the adapter decides with ``participation.is_ranked``). Everyone else is
    left out BEFORE ranking, so ranks have no gaps for them; they still see their own
    total from ``totals``."""
    shown = [s for pid, s in totals.items() if pid in ranked_ids]
    scores: dict[int, Fraction] = {}  # one Fraction per distinct total: they are immutable
    placings = []
    for r in rank_standings(shown):
        score = scores.get(r.points)
        if score is None:
            score = scores[r.points] = Fraction(r.points)
        placings.append(
            Placing(r.rank, r.member_id, r.points, score, 1, qualifies(r.points, minimum))
        )
    return placings


@dataclass(frozen=True)
class MyStanding:
    """What one employee sees of themself: their rank (None when they are not ranked:
    hidden, opted out, declined, or without a counting event) and their own total,
    which they always see."""

    rank: int | None
    points: int
    qualified: bool


def standing_of(
    entrant_id: int, placings: Sequence[Placing], totals: Mapping[int, Standing], minimum: int = 0
) -> MyStanding:
    """One employee's line, read from the same placings the board shows, so a profile,
    the home page and the board never disagree. Pass placings and totals computed
    with the viewer's cut-off, so a frozen board stays frozen here too."""
    for placing in placings:
        if placing.entrant_id == entrant_id:
            return MyStanding(placing.rank, placing.points, placing.qualified)
    own = totals.get(entrant_id)
    points = own.points if own is not None else 0
    return MyStanding(None, points, qualifies(points, minimum))


ACTIVE_MEMBER = (
    "An active member is someone who, during the challenge, belonged to the team, had "
    "opted in, was shown on boards (not hidden) and had not declined the challenge, "
    "whether or not they scored."
)


@dataclass(frozen=True)
class TeamTally:
    team_id: int
    points: int
    reached_at: datetime
    active_members: int


def team_tallies(
    items: Iterable[Contribution],
    active_members: Mapping[int, Collection[int]],
    since: datetime,
) -> list[TeamTally]:
    """Each team's points and member count for team mode.

    ``active_members`` maps a team to its active members' ids (see ``ACTIVE_MEMBER``;
    the adapter decides who they are). Points go to the team the employee was in when
    the event happened, and only an active member's points count, so numerator and
    denominator are the same people. A member who scored nothing still counts in the
    denominator: that is what keeps a big team from winning by size, and a small one
    from winning with its one busy member. A team's total was reached at its latest
    contribution that changed it. Teams without active members are left out.
    """
    points: dict[int, int] = {}
    reached: dict[int, datetime] = {}
    for c in items:
        if c.team_id is None or c.employee_id not in active_members.get(c.team_id, ()):
            continue
        points[c.team_id] = points.get(c.team_id, 0) + c.value
        if c.value != 0:
            reached[c.team_id] = max(reached.get(c.team_id, c.occurred_at), c.occurred_at)
    return [
        TeamTally(team_id, points.get(team_id, 0), reached.get(team_id, since), len(members))
        for team_id, members in sorted(active_members.items())
        if members
    ]


def team_standings(tallies: Sequence[TeamTally], minimum: int = 0) -> list[Placing]:
    """Competition ranking of teams by points per active member, exactly: every
    per-member score is scaled by the least common multiple of the member counts into
    an integer, so the one ranking (``ranking.rank_standings``, ties by the earlier
    time then the lower id) orders them without a float. The minimum to qualify
    applies to the per-member score."""
    scale = lcm(*(t.active_members for t in tallies)) if tallies else 1
    by_id = {t.team_id: t for t in tallies}
    scaled = [
        Standing(t.team_id, t.points * (scale // t.active_members), t.reached_at) for t in tallies
    ]
    placings = []
    for r in rank_standings(scaled):
        tally = by_id[r.member_id]
        score = Fraction(tally.points, tally.active_members)
        placings.append(
            Placing(
                r.rank,
                tally.team_id,
                tally.points,
                score,
                tally.active_members,
                score > 0 and score >= minimum,
            )
        )
    return placings


def team_rule_text(metric: Metric) -> str:
    """The team rule in words, for the challenge page."""
    unit = {
        Metric.SHARES: "shares",
        Metric.CLICKS: "counted clicks",
        Metric.REFERRAL_STAGES: "referral stages",
        Metric.POINTS: "points",
    }[metric]
    return (
        f"A team's score is its {unit} divided by its active members, so a big team "
        f"does not win by size: 40 {unit} among 4 members (10 each) beat 80 among 10 "
        f"(8 each). {ACTIVE_MEMBER} Equal scores share a place; the team that reached "
        f"its score first is listed first."
    )


# Collective target -----------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    target: int
    percent: int  # whole percent, 0..100, rounded down: 100 only once reached
    reached: bool


def collective_total(placings: Iterable[Placing]) -> int:
    """The sum a collective target measures: the points of the people (or teams) the
    board ranks, so the bar never shows points the board leaves out."""
    return sum(p.points for p in placings)


def target_progress(total: int, target: int) -> Progress:
    if target <= 0:
        raise ValueError("a collective target must be positive")
    percent = min(max(total * 100 // target, 0), 100)
    return Progress(total, target, percent, total >= target)


# Prizes ----------------------------------------------------------------------------


class PrizeKind(StrEnum):
    BADGE = "badge"  # value: the badge's id
    POINTS = "points"  # value: bonus points, a ledger line of its own kind
    REWARD = "reward"  # value: the catalogue reward's id


@dataclass(frozen=True)
class Prize:
    """A prize for a ``place`` (1 for first…), or for everyone who qualifies (None)."""

    kind: PrizeKind
    value: int
    place: int | None = None

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError("a prize needs a positive value (an id or points)")
        if self.place is not None and self.place < 1:
            raise ValueError("places start at 1")


def check_prizes(prizes: Iterable[Prize]) -> None:
    """At most one prize of each kind per place (and for qualifiers): the award keys
    are per kind, so a second one could never be written."""
    seen: set[tuple[int | None, PrizeKind]] = set()
    for prize in prizes:
        slot = (prize.place, prize.kind)
        if slot in seen:
            where = "qualifiers" if prize.place is None else f"place {prize.place}"
            raise ValueError(f"two {prize.kind.value} prizes for {where}")
        seen.add(slot)


@dataclass(frozen=True)
class Award:
    """One prize for one employee, under a key that makes writing it idempotent."""

    key: str
    employee_id: int
    prize: Prize
    place: int | None = field(default=None)


def awards(
    challenge_id: int,
    placings: Iterable[Placing],
    prizes: Sequence[Prize],
    members: Mapping[int, Collection[int]] | None = None,
    unranked_qualifiers: Collection[int] = (),
) -> list[Award]:
    """The prizes settlement writes. Only qualified placings win. A place prize goes
    to everyone at that rank, so people tied for first all get the first prize, and
    with competition ranking (1, 1, 3) nobody gets the second. In team mode pass
    ``members`` (team -> active member ids): each of them receives the team's prizes.
    The same input always gives the same awards in the same order, each key once
    (someone who moved teams may be an active member of two placed teams: they get
    each prize once). ``unranked_qualifiers``: people taking part who reached the
    minimum but are not on the board (hidden): they win no place, yet a prize for
    everyone who qualifies is theirs too, since staying hidden costs nothing but the
    name on the board."""
    check_prizes(prizes)
    result: list[Award] = []
    written: set[str] = set()
    for placing in placings:
        if not placing.qualified:
            continue
        recipients = (
            sorted(members.get(placing.entrant_id, ()))
            if members is not None
            else [placing.entrant_id]
        )
        for prize in prizes:
            if prize.place is not None and prize.place != placing.rank:
                continue
            for employee_id in recipients:
                if prize.place is None:
                    key = challenge_qualified_award_key(challenge_id, employee_id, prize.kind)
                else:
                    key = challenge_place_award_key(challenge_id, employee_id, prize.kind)
                if key not in written:
                    written.add(key)
                    result.append(Award(key, employee_id, prize, prize.place))
    for employee_id in sorted(unranked_qualifiers):
        for prize in prizes:
            key = challenge_qualified_award_key(challenge_id, employee_id, prize.kind)
            if prize.place is None and key not in written:
                written.add(key)
                result.append(Award(key, employee_id, prize, None))
    return result


# Settlement digest -----------------------------------------------------------------


def canonical_standings(challenge_id: int, placings: Iterable[Placing]) -> str:
    """The settled standings as canonical JSON: sorted, fixed separators, scores as
    exact "numerator/denominator" strings. What the digest is taken over."""
    rows = sorted(
        (
            [
                p.rank,
                p.entrant_id,
                p.points,
                f"{p.score.numerator}/{p.score.denominator}",
                p.active_members,
                p.qualified,
            ]
            for p in placings
        ),
        key=lambda row: (row[0], row[1]),
    )
    return json.dumps(
        {"challenge": challenge_id, "standings": rows}, sort_keys=True, separators=(",", ":")
    )


def settlement_digest(challenge_id: int, placings: Iterable[Placing]) -> str:
    """SHA-256 (hex) of the canonical standings: kept with the settled results, so
    anyone can recompute it later and see they were not changed."""
    return hashlib.sha256(canonical_standings(challenge_id, placings).encode()).hexdigest()


# Definitions: who may organise, what may be saved, what may change ----------------

MAX_TITLE = 120
MAX_DAYS = 366  # a challenge runs at most a year
MAX_FREEZE_HOURS = 24 * 7
MAX_LATENESS_HOURS = 24 * 14
MAX_MINIMUM = 1_000_000
MAX_TARGET = 100_000_000
MAX_PRIZE_POINTS = 100_000  # like a scoring rule's points: far inside the boards' range
MAX_PLACE = 100
MAX_PRIZES = 20
# A start a little in the past is fine (a form filled in over a few minutes); a start
# days ago would count events people made before anybody told them of the challenge.
START_GRACE = timedelta(hours=1)

# Once a challenge has started, only these may change: standings must not move under
# people because the rules changed. The end only moves later; prizes are only added.
WHILE_RUNNING = frozenset({"title", "description", "ends_at", "prizes"})


def organise_problem(
    is_hr: bool, own_team_id: int | None, scope: ScopeKind, team_ids: Collection[int]
) -> str | None:
    """Why this person may not run a challenge with this scope, or None when they may.
    HR (and admins) may run any; a team lead only one for exactly their own team."""
    if is_hr:
        return None
    if own_team_id is None:
        return "You lead no team, so there is no team to run a challenge for."
    if scope is not ScopeKind.TEAMS or set(team_ids) != {own_team_id}:
        return "A team lead runs challenges for their own team only."
    return None


def may_manage(
    is_hr: bool,
    actor_id: int,
    own_team_id: int | None,
    organiser_id: int | None,
    scope: ScopeKind,
    team_ids: Collection[int],
) -> bool:
    """May this person edit or cancel it: HR any; a team lead the ones they organised
    and those for exactly their own team."""
    if is_hr:
        return True
    if organiser_id is not None and organiser_id == actor_id:
        return True
    return own_team_id is not None and scope is ScopeKind.TEAMS and set(team_ids) == {own_team_id}


def visible_to(
    sees_all: bool,
    viewer_id: int,
    team_id: int | None,
    organiser_id: int | None,
    scope: ScopeKind,
    team_ids: Collection[int],
) -> bool:
    """Who sees a challenge: HR and admins every one; everyone else those whose scope
    includes their team (a company challenge: everyone), and the ones they organised."""
    return (
        sees_all
        or scope is ScopeKind.COMPANY
        or (team_id is not None and team_id in team_ids)
        or (organiser_id is not None and organiser_id == viewer_id)
    )


def challenge_problems(
    *,
    title: str,
    start: datetime,
    end: datetime,
    mode: Mode,
    scope: ScopeKind,
    team_ids: Collection[int],
    freeze_hours: int,
    lateness_hours: int,
    minimum: int,
    target: int | None,
    prizes: Sequence[Prize],
) -> dict[str, str]:
    """What is wrong with a challenge's definition, by field; empty when it may be saved.
    Times are aware instants."""
    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = "Give the challenge a title."
    elif len(title.strip()) > MAX_TITLE:
        problems["title"] = f"At most {MAX_TITLE} characters."
    if not start < end:
        problems["ends_at"] = "The end must come after the start."
    elif end - start > timedelta(days=MAX_DAYS):
        problems["ends_at"] = f"A challenge runs at most {MAX_DAYS} days."
    if scope is ScopeKind.COMPANY and team_ids:
        problems["team_ids"] = "A company challenge names no teams."
    elif scope is ScopeKind.TEAMS and not team_ids:
        problems["team_ids"] = "Choose at least one team."
    elif scope is ScopeKind.TEAM_VS_TEAM and len(set(team_ids)) < 2:
        problems["team_ids"] = "Team against team needs at least two teams."
    if mode is Mode.TEAM and scope is ScopeKind.TEAMS and len(set(team_ids)) < 2:
        problems["mode"] = "A team contest needs at least two teams: rank people instead."
    if scope is ScopeKind.TEAM_VS_TEAM and mode is not Mode.TEAM:
        problems["mode"] = "Team against team ranks teams: choose the team mode."
    if not 0 <= freeze_hours <= MAX_FREEZE_HOURS:
        problems["freeze_hours"] = f"Between 0 and {MAX_FREEZE_HOURS} hours."
    elif start < end and timedelta(hours=freeze_hours) >= end - start:
        problems["freeze_hours"] = "The freeze must be shorter than the challenge."
    if not 0 <= lateness_hours <= MAX_LATENESS_HOURS:
        problems["lateness_hours"] = f"Between 0 and {MAX_LATENESS_HOURS} hours."
    if not 0 <= minimum <= MAX_MINIMUM:
        problems["minimum"] = f"Between 0 and {MAX_MINIMUM}."
    if target is not None and not 0 < target <= MAX_TARGET:
        problems["target"] = f"Between 1 and {MAX_TARGET}, or none."
    prize = prize_problem(prizes)
    if prize:
        problems["prizes"] = prize
    return problems


def prize_problem(prizes: Sequence[Prize]) -> str | None:
    """What is wrong with the list of prizes as a whole (that the badge or reward exists
    is the application's to check)."""
    if len(prizes) > MAX_PRIZES:
        return f"At most {MAX_PRIZES} prizes."
    for prize in prizes:
        if prize.kind is PrizeKind.POINTS and prize.value > MAX_PRIZE_POINTS:
            return f"Bonus points go up to {MAX_PRIZE_POINTS}."
        if prize.place is not None and prize.place > MAX_PLACE:
            return f"Places go up to {MAX_PLACE}."
    try:
        check_prizes(prizes)
    except ValueError as exc:
        return f"Only one prize of a kind per place: {exc}."
    return None


def edit_problems(
    state: ChallengeState,
    started: bool,
    changed: Collection[str],
    old_end: datetime,
    new_end: datetime,
    old_prizes: Sequence[Prize],
    new_prizes: Sequence[Prize],
    now: datetime,
) -> dict[str, str]:
    """What may not change now, by field. ``state`` is the current one (the clock's
    included). Nothing changes once frozen, settled or cancelled. Before the start
    everything may. Once started only the title, the description, the end (later
    only, and not into the past) and the prizes (added to, none taken away) may."""
    if state is not ChallengeState.OPEN:
        words = {
            ChallengeState.FROZEN: "It is frozen: results are being made final",
            ChallengeState.SETTLED: "It is settled",
            ChallengeState.CANCELLED: "It was cancelled",
        }[state]
        return dict.fromkeys(sorted(changed), f"{words}; nothing can change.")
    if not started:
        return {}
    problems = {
        name: "Locked once the challenge has started, so standings do not change under people."
        for name in sorted(changed)
        if name not in WHILE_RUNNING
    }
    if "ends_at" in changed:
        if new_end < old_end:
            problems["ends_at"] = "Once started, the end can only move later."
        elif new_end <= now:
            problems["ends_at"] = "The new end must be in the future."
    if "prizes" in changed and any(p not in new_prizes for p in old_prizes):
        problems["prizes"] = "Once started, prizes can be added but none taken away."
    return problems


def start_problem(start: datetime, end: datetime, now: datetime) -> dict[str, str]:
    """A new challenge (or one whose dates change before it starts) starts no earlier than
    a moment ago and ends in the future."""
    problems = {}
    if start < now - START_GRACE:
        problems["starts_at"] = "The start cannot be in the past."
    if end <= now:
        problems["ends_at"] = "The end must be in the future."
    return problems


def rules_in_words(
    metric: Metric,
    mode: Mode,
    minimum: int,
    target: int | None,
    freeze_hours: int,
    lateness_hours: int,
) -> list[str]:
    """The rules of one challenge as sentences, for its page."""
    unit = METRIC_WORDS[metric]
    lines = [
        f"What counts: {unit} made between the start and the end."
        if metric is not Metric.POINTS
        else "What counts: the points your shares, counted clicks and referrals earn "
        "between the start and the end (bonus points from prizes never count).",
        "People are ranked by their own total; equal totals share a place, and whoever "
        "reached it first is listed first."
        if mode is Mode.INDIVIDUAL
        else f"Teams are ranked by {unit} per active member.",
    ]
    if minimum:
        lines.append(
            f"To qualify for prizes you need at least {counted(minimum, *METRIC_NOUNS[metric])}"
            + (" per active member of your team." if mode is Mode.TEAM else ".")
        )
    if target:
        lines.append(
            f"Together we aim for {counted(target, *METRIC_NOUNS[metric])}: "
            "the bar shows how far we are."
        )
    if freeze_hours:
        last = "hour" if freeze_hours == 1 else f"{freeze_hours} hours"
        lines.append(
            f"Ranks are hidden for the last {last}, until the results are "
            "final; your own total stays visible."
        )
    if lateness_hours:
        lines.append(
            f"Clicks and referral stages that happened during the challenge but arrive up "
            f"to {counted(lateness_hours, 'hour')} after its end still count; results are "
            "final then."
        )
    else:
        lines.append("Results are final at the end.")
    lines.append("Taking part is voluntary: you can decline, and take part again while it runs.")
    return lines


METRIC_WORDS = {
    Metric.SHARES: "shares",
    Metric.CLICKS: "counted clicks",
    Metric.REFERRAL_STAGES: "referral stages",
    Metric.POINTS: "points",
}

# Each metric's noun for one and for many: "1 share", "3 shares".
METRIC_NOUNS = {
    Metric.SHARES: ("share", "shares"),
    Metric.CLICKS: ("counted click", "counted clicks"),
    Metric.REFERRAL_STAGES: ("referral stage", "referral stages"),
    Metric.POINTS: ("point", "points"),
}


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """The count with its noun, singular for exactly one: "1 hour", "0 hours", "24 hours"."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


# Boards of pairs ---------------------------------------------------------------------


def pair_totals(
    items: Iterable[Contribution], since: datetime
) -> dict[tuple[int | None, int], Standing]:
    """Each (team at the time, employee)'s total and when it was reached, the way
    ``person_totals`` does it per person: what a live team-mode board keeps, so that
    who is an active member can be decided when the board is read."""
    points: dict[tuple[int | None, int], int] = {}
    reached: dict[tuple[int | None, int], datetime] = {}
    for c in items:
        pair = (c.team_id, c.employee_id)
        points[pair] = points.get(pair, 0) + c.value
        if c.value != 0:
            earlier = reached.get(pair)
            reached[pair] = c.occurred_at if earlier is None else max(earlier, c.occurred_at)
    return {
        pair: Standing(pair[1], total, reached.get(pair, since)) for pair, total in points.items()
    }


def tallies_from_pairs(
    pairs: Mapping[tuple[int | None, int], Standing],
    active_members: Mapping[int, Collection[int]],
    since: datetime,
) -> list[TeamTally]:
    """``team_tallies`` from the pair totals instead of the contributions: the same
    tallies (a pair whose contributions were all 0 was reached at ``since``, which no
    contribution of the challenge precedes)."""
    points: dict[int, int] = {}
    reached: dict[int, datetime] = {}
    for (team_id, employee_id), standing in pairs.items():
        if team_id is None or employee_id not in active_members.get(team_id, ()):
            continue
        points[team_id] = points.get(team_id, 0) + standing.points
        reached[team_id] = max(reached.get(team_id, since), standing.reached_at)
    return [
        TeamTally(team_id, points.get(team_id, 0), reached.get(team_id, since), len(members))
        for team_id, members in sorted(active_members.items())
        if members
    ]


def pairs_from_rows(
    rows: Iterable[tuple[int | None, int, int, datetime | None]], since: datetime
) -> dict[tuple[int | None, int], Standing]:
    """``pair_totals`` from totals already summed (by SQL): rows of (team at the time,
    employee, the sum of their contributions' values, the time of the latest
    contribution whose value is not 0, or None when there is none). The same pairs as
    ``pair_totals`` over the contributions those rows sum."""
    return {
        (team_id, employee_id): Standing(
            employee_id, int(total), reached if reached is not None else since
        )
        for team_id, employee_id, total, reached in rows
    }


def totals_from_pairs(
    pairs: Mapping[tuple[int | None, int], Standing], since: datetime
) -> dict[int, Standing]:
    """``person_totals`` from the pair totals: a person's total is the sum over the
    teams they contributed in, reached at the latest of those pairs' times (a pair
    whose contributions were all 0 was reached at ``since``, which no contribution of
    the challenge precedes)."""
    points: dict[int, int] = {}
    reached: dict[int, datetime] = {}
    for (_team_id, employee_id), standing in pairs.items():
        points[employee_id] = points.get(employee_id, 0) + standing.points
        earlier = reached.get(employee_id)
        reached[employee_id] = (
            standing.reached_at if earlier is None else max(earlier, standing.reached_at)
        )
    return {pid: Standing(pid, total, reached.get(pid, since)) for pid, total in points.items()}


def placings_from_rows(
    rows: Iterable[tuple[int, int, int, int, int, int, bool]],
) -> list[Placing]:
    """Stored placings (rank, entrant, points, score numerator, score denominator,
    active members, qualified) back as ``Placing``: what ``settlement_digest`` is
    recomputed over to check that settled results were not changed."""
    return [
        Placing(rank, entrant, points, Fraction(num, den), members, bool(qualified))
        for rank, entrant, points, num, den, members, qualified in rows
    ]
