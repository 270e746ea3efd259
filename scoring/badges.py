"""Badges, streaks and levels: which badges a person has earned, and when.

A badge is data that HR edits (``parse_badge`` turns a plain dict into a ``Badge`` or
names the field that is wrong). Its identity is its ``id``, a slug that never changes:
renaming a badge or moving its thresholds does not award it again.

``evaluate`` reads one person's whole history and returns every grant it contains, each
dated when its threshold was actually crossed (the Nth qualifying item, the item whose
running sum of points first reached the threshold, the share that completed the Nth
week). It finds the first crossing: a later negative line or a dip below the threshold
does not undo a grant, so badges are never taken back. Storing grants under their
natural keys (``scoring.keys.badge_grant_key``) with insert-if-absent makes a re-run,
a backfill and a nightly pass all write each grant once.

Weeks are the company calendar's (``scoring.windows``): its time zone and week start.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from scoring.vocabulary import EventKind
from scoring.windows import Window, window_start

# Grants dated more than this before the evaluation are backfill: stored, announced to
# no one (a badge switched on over years of history must not flood everyone).
QUIET_AFTER = timedelta(days=2)

# The period of a badge that is earned once per level.
ONCE_PERIOD = "all"

# A ledger line that is not an event (an adjustment, a prize, a compensation): it moves
# points and counts toward nothing else.
POINTS_LINE = "points"

# A finished lesson (its points, if any, come as a POINTS_LINE of their own).
LESSON_FACT = "lesson"


class BadgeDefinitionError(ValueError):
    """A badge definition that cannot be used; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CriterionKind(StrEnum):
    COUNT = "count"  # how many, or how many points, with bronze/silver/gold levels
    FIRST = "first"  # the first of something
    STREAK = "streak"  # a share in N consecutive company weeks
    PLACING = "placing"  # placed in the top N of challenges


class Measure(StrEnum):
    SHARES = "shares"
    CLICKS = "clicks"
    REFERRAL_STAGES = "referral_stages"
    HIRES = "hires"
    POINTS = "points"
    LESSONS = "lessons"  # lessons finished


# The event kinds each measure counts (points are summed, not counted).
MEASURED_KINDS: dict[Measure, frozenset[str]] = {
    Measure.SHARES: frozenset({EventKind.SHARE}),
    Measure.CLICKS: frozenset({EventKind.CLICK}),
    Measure.REFERRAL_STAGES: frozenset(
        {EventKind.REFERRAL_APPLIED, EventKind.REFERRAL_INTERVIEWED, EventKind.REFERRAL_HIRED}
    ),
    Measure.HIRES: frozenset({EventKind.REFERRAL_HIRED}),
    Measure.LESSONS: frozenset({LESSON_FACT}),
}


class Level(StrEnum):
    ONCE = "once"  # a badge without levels
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


GRADED_LEVELS = (Level.BRONZE, Level.SILVER, Level.GOLD)

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
MAX_SLUG = 64
MAX_NAME = 120
MAX_GRACE_WEEKS = 4


@dataclass(frozen=True)
class Badge:
    id: str
    name: str
    kind: CriterionKind
    # Thresholds by level, lowest first: counts, points, weeks or placings.
    levels: tuple[tuple[Level, int], ...]
    measure: Measure | None = None  # count and first
    grace_weeks: int = 0  # streak: this many empty weeks in a row don't break it
    top: int = 0  # placing: a place this good or better counts
    per_challenge: bool = False  # placing: one grant per challenge placed in
    description: str = ""


@dataclass(frozen=True)
class Fact:
    """One item of a person's history. ``kind`` is an event kind (counted) or
    ``POINTS_LINE``; every item's points add to the points measure."""

    occurred_at: datetime
    kind: str
    points: int = 0


@dataclass(frozen=True)
class Placing:
    challenge_id: int
    place: int
    settled_at: datetime


@dataclass(frozen=True)
class Grant:
    badge_id: str
    level: Level
    granted_at: datetime
    period: str = ONCE_PERIOD


@dataclass(frozen=True)
class Progress:
    """Toward the next level not yet earned; ``threshold`` is None once all are earned."""

    current: int
    threshold: int | None
    next_level: Level | None

    @property
    def percent(self) -> int:
        if self.threshold is None:
            return 100
        return min(100, max(0, self.current) * 100 // self.threshold)


# Definitions ---------------------------------------------------------------------


def parse_badge(data: Mapping[str, object]) -> Badge:
    """A badge from its plain-dict form, or ``BadgeDefinitionError`` naming the field."""
    if not isinstance(data, Mapping):
        raise BadgeDefinitionError("badge", "must be an object")
    known = {"id", "name", "description", "kind", "measure", "levels"}
    known |= {"grace_weeks", "top", "per_challenge"}
    for field in data:
        if field not in known:
            raise BadgeDefinitionError(str(field), "is not a badge field")
    badge_id = _text(data, "id", MAX_SLUG)
    if not SLUG.match(badge_id):
        raise BadgeDefinitionError("id", "use lowercase letters, digits and single dashes")
    name = _text(data, "name", MAX_NAME)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise BadgeDefinitionError("description", "must be text")
    try:
        kind = CriterionKind(data.get("kind"))
    except ValueError:
        raise BadgeDefinitionError("kind", f"must be one of {_choices(CriterionKind)}") from None

    allowed = {
        CriterionKind.COUNT: {"measure", "levels"},
        CriterionKind.FIRST: {"measure"},
        CriterionKind.STREAK: {"levels", "grace_weeks"},
        CriterionKind.PLACING: {"levels", "top", "per_challenge"},
    }[kind]
    for field in ("measure", "levels", "grace_weeks", "top", "per_challenge"):
        if field in data and field not in allowed:
            raise BadgeDefinitionError(field, f"does not apply to a {kind.value} badge")

    measure = None
    if kind in (CriterionKind.COUNT, CriterionKind.FIRST):
        try:
            measure = Measure(data.get("measure"))
        except ValueError:
            raise BadgeDefinitionError("measure", f"must be one of {_choices(Measure)}") from None
        if kind is CriterionKind.FIRST and measure is Measure.POINTS:
            raise BadgeDefinitionError("measure", "a first badge counts shares, clicks or stages")

    per_challenge = data.get("per_challenge", False)
    if not isinstance(per_challenge, bool):
        raise BadgeDefinitionError("per_challenge", "must be true or false")
    if kind is CriterionKind.FIRST or per_challenge:
        if "levels" in data:
            raise BadgeDefinitionError("levels", "a badge earned once has no levels")
        levels: tuple[tuple[Level, int], ...] = ((Level.ONCE, 1),)
    else:
        levels = _levels(data.get("levels"))

    grace_weeks = _whole(data, "grace_weeks", 0, 0, MAX_GRACE_WEEKS)
    top = 0
    if kind is CriterionKind.PLACING:
        if "top" not in data:
            raise BadgeDefinitionError("top", "is required")
        top = _whole(data, "top", 0, 1, 1000)
    return Badge(
        id=badge_id,
        name=name,
        kind=kind,
        levels=levels,
        measure=measure,
        grace_weeks=grace_weeks,
        top=top,
        per_challenge=per_challenge,
        description=description.strip(),
    )


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def _text(data: Mapping[str, object], field: str, longest: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BadgeDefinitionError(field, "is required")
    value = value.strip()
    if len(value) > longest:
        raise BadgeDefinitionError(field, f"must be at most {longest} characters")
    return value


def _whole(data: Mapping[str, object], field: str, default: int, least: int, most: int) -> int:
    value = data.get(field, default)
    # bool is an int in Python; true is not a number of weeks.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadgeDefinitionError(field, "must be a whole number")
    if not least <= value <= most:
        raise BadgeDefinitionError(field, f"must be between {least} and {most}")
    return value


def _levels(value: object) -> tuple[tuple[Level, int], ...]:
    if not isinstance(value, Mapping) or not value:
        raise BadgeDefinitionError("levels", "give a threshold for bronze, silver or gold")
    graded = {level.value for level in GRADED_LEVELS}
    for name in value:
        if name not in graded:
            raise BadgeDefinitionError(f"levels.{name}", "levels are bronze, silver and gold")
    levels = []
    for level in GRADED_LEVELS:
        if level.value not in value:
            continue
        threshold = value[level.value]
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise BadgeDefinitionError(f"levels.{level.value}", "must be a whole number above 0")
        if levels and threshold <= levels[-1][1]:
            raise BadgeDefinitionError(
                f"levels.{level.value}", f"must be above the {levels[-1][0].value} threshold"
            )
        levels.append((level, threshold))
    return tuple(levels)


# Weeks of the company calendar -----------------------------------------------------


def week_of(moment: datetime, zone: tzinfo, week_start: int = 0) -> date:
    """The local date the company week containing ``moment`` starts on."""
    return window_start(Window.WEEK, moment, zone, week_start).date()


def _weeks_between(earlier: date, later: date) -> int:
    # Both are week-start dates, whole weeks apart whatever DST did in between.
    return (later - earlier).days // 7


@dataclass(frozen=True)
class Streak:
    current: int  # weeks with a share in the run still alive at ``now``
    longest: int


def share_weeks(facts: Iterable[Fact], zone: tzinfo, week_start: int = 0) -> list[date]:
    """The distinct weeks with a share, in order."""
    weeks = sorted({week_of(f.occurred_at, zone, week_start) for f in facts if _is_share(f)})
    return weeks


def _is_share(fact: Fact) -> bool:
    return fact.kind == EventKind.SHARE


def streak(
    facts: Iterable[Fact],
    now: datetime,
    zone: tzinfo,
    week_start: int = 0,
    grace_weeks: int = 0,
) -> Streak:
    """The current and the longest streak, in weeks with a share, as of ``now``.

    Only shares before ``now`` count. A gap of up to ``grace_weeks`` empty weeks joins
    two runs (the empty weeks themselves don't count). The run is still current while
    the week after its last share, plus the grace, has not fully passed: this week can
    still be shared in.
    """
    weeks = share_weeks((f for f in facts if f.occurred_at <= now), zone, week_start)
    longest = run = 0
    previous: date | None = None
    for week in weeks:
        joined = previous is not None and _weeks_between(previous, week) <= 1 + grace_weeks
        run = run + 1 if joined else 1
        longest = max(longest, run)
        previous = week
    alive = previous is not None and (
        _weeks_between(previous, week_of(now, zone, week_start)) <= 1 + grace_weeks
    )
    return Streak(current=run if alive else 0, longest=longest)


def describe_streak(weeks: int) -> str:
    """Never loss-framed: a run is told as it stands, a missing one as an invitation."""
    if weeks <= 0:
        return "Share this week to start a streak"
    return f"{weeks} week running" if weeks == 1 else f"{weeks} weeks running"


# Evaluation ----------------------------------------------------------------------


def evaluate(
    badge: Badge,
    facts: Sequence[Fact],
    placings: Sequence[Placing] = (),
    zone: tzinfo | None = None,
    week_start: int = 0,
    *,
    presorted: bool = False,
) -> list[Grant]:
    """Every grant of ``badge`` in one person's history, dated at its first crossing.

    ``facts`` are in chronological order (a stable sort by ``occurred_at`` is applied
    anyway, so equal times keep the caller's order, unless the caller says they are
    ``presorted``). ``zone`` is needed for streaks.
    """
    ordered = facts if presorted else sorted(facts, key=lambda f: f.occurred_at)
    if badge.kind is CriterionKind.STREAK:
        if zone is None:
            raise ValueError("a streak badge needs the company time zone")
        return _streak_grants(badge, ordered, zone, week_start)
    if badge.kind is CriterionKind.PLACING:
        return _placing_grants(badge, placings)
    crossings = _crossings(badge, ordered)
    return [Grant(badge.id, level, at) for level, at in crossings]


def _crossings(badge: Badge, ordered: Sequence[Fact]) -> list[tuple[Level, datetime]]:
    """Count and first: the item at which the running value first reached each level."""
    assert badge.measure is not None
    pending = list(badge.levels)
    crossed = []
    value = 0
    for fact in ordered:
        if not pending:
            break
        if badge.measure is Measure.POINTS:
            value += fact.points
        elif fact.kind in MEASURED_KINDS[badge.measure]:
            value += 1
        else:
            continue
        while pending and value >= pending[0][1]:
            crossed.append((pending.pop(0)[0], fact.occurred_at))
    return crossed


def _streak_grants(
    badge: Badge, ordered: Sequence[Fact], zone: tzinfo, week_start: int
) -> list[Grant]:
    pending = list(badge.levels)
    grants = []
    run = 0
    previous: date | None = None
    for fact in ordered:
        if not pending:
            break
        if not _is_share(fact):
            continue
        week = week_of(fact.occurred_at, zone, week_start)
        if week == previous:
            continue  # the week already counts; its first share completed it
        joined = previous is not None and _weeks_between(previous, week) <= 1 + badge.grace_weeks
        run = run + 1 if joined else 1
        previous = week
        while pending and run >= pending[0][1]:
            grants.append(Grant(badge.id, pending.pop(0)[0], fact.occurred_at))
    return grants


def _placing_grants(badge: Badge, placings: Sequence[Placing]) -> list[Grant]:
    placed = sorted(
        (p for p in placings if 1 <= p.place <= badge.top),
        key=lambda p: (p.settled_at, p.challenge_id),
    )
    if badge.per_challenge:
        return [
            Grant(badge.id, Level.ONCE, p.settled_at, challenge_period(p.challenge_id))
            for p in placed
        ]
    grants = []
    for level, threshold in badge.levels:
        if len(placed) >= threshold:
            grants.append(Grant(badge.id, level, placed[threshold - 1].settled_at))
    return grants


def challenge_period(challenge_id: int) -> str:
    return f"challenge-{challenge_id}"


# Progress and notification ----------------------------------------------------------


def current_value(
    badge: Badge,
    facts: Sequence[Fact],
    placings: Sequence[Placing],
    now: datetime,
    zone: tzinfo | None = None,
    week_start: int = 0,
) -> int:
    """What the badge measures, as of ``now``: a count, points, the current streak, or
    the number of good placings."""
    past = [f for f in facts if f.occurred_at <= now]
    if badge.kind is CriterionKind.STREAK:
        if zone is None:
            raise ValueError("a streak badge needs the company time zone")
        return streak(past, now, zone, week_start, badge.grace_weeks).current
    if badge.kind is CriterionKind.PLACING:
        return sum(1 for p in placings if 1 <= p.place <= badge.top and p.settled_at <= now)
    assert badge.measure is not None
    if badge.measure is Measure.POINTS:
        return sum(f.points for f in past)
    return sum(1 for f in past if f.kind in MEASURED_KINDS[badge.measure])


def progress(badge: Badge, earned: Iterable[Level], value: int) -> Progress:
    """Progress from ``value`` toward the lowest level not in ``earned``.

    ``earned`` are the levels the person holds (stored grants): a level once earned
    stays earned even if ``value`` has since dropped below it.
    """
    held = set(earned)
    for level, threshold in badge.levels:
        if level not in held:
            return Progress(current=value, threshold=threshold, next_level=level)
    return Progress(current=value, threshold=None, next_level=None)


def next_step(badge: Badge, held: Iterable[str]) -> tuple[int, int] | None:
    """(the threshold of the level before it, or 0; the threshold) of the lowest level
    not in ``held`` (levels, or their stored text); None when every level is held."""
    owned = set(held)
    previous = 0
    for level, threshold in badge.levels:
        if level not in owned:
            return previous, threshold
        previous = threshold
    return None


def next_threshold(badge: Badge, held: Iterable[str]) -> int | None:
    """The threshold of the lowest level not in ``held``; None when every level is."""
    step = next_step(badge, held)
    return None if step is None else step[1]


def might_cross(badge: Badge, held: Iterable[str], value: int) -> bool:
    """Whether a person holding ``held`` levels may have a grant of ``badge`` to make,
    given ``value``: what the badge measures now, or a bound on it from above (for
    points, the points earned, reversals left out, since a running sum that once
    reached a threshold and fell back still crossed it). Only when it does is the
    person's history worth reading in full; a badge whose every level is held never
    needs it."""
    threshold = next_threshold(badge, held)
    return threshold is not None and value >= threshold


def who_might_cross(badge: Badge, people: Iterable[tuple[int, frozenset[str], int]]) -> list[int]:
    """``might_cross`` for many people at once: of (person, levels held, value), the
    people who may have a grant to make, in the order given. The next threshold is
    worked out once per set of levels held, which hundreds of people share."""
    thresholds: dict[frozenset[str], int | None] = {}
    found = []
    for person, held, value in people:
        if held not in thresholds:
            thresholds[held] = next_threshold(badge, held)
        threshold = thresholds[held]
        if threshold is not None and value >= threshold:
            found.append(person)
    return found


# Gates on tallies ------------------------------------------------------------------
#
# A count badge whose value is one tally (shares, clicks, hires, points, lessons) can
# be crossed only when that tally reaches the next threshold the person does not hold.
# Stored beside the tally, that threshold lets the evaluation after a scoring batch
# skip everyone whose tallies are still below theirs, without reading their grants.

# The gate of a tally whose badges the person holds every level of.
NEVER = 2**63 - 1


def tally_fact(badge: Badge) -> str | None:
    """The one tally that is the badge's value, or None: streaks, placings and measures
    that add up several facts (referral stages) have no single tally to gate on."""
    if badge.kind in (CriterionKind.STREAK, CriterionKind.PLACING):
        return None
    if badge.measure is Measure.POINTS:
        return POINTS_LINE
    assert badge.measure is not None
    kinds = MEASURED_KINDS[badge.measure]
    return next(iter(kinds)) if len(kinds) == 1 else None


def next_level_at(badges: Iterable[Badge], held: Mapping[str, Iterable[str]]) -> int:
    """The gate of a tally: the lowest threshold not held (``held``: badge id -> levels)
    of ``badges``, the badges whose value that tally is; NEVER when all are held."""
    thresholds = (next_threshold(badge, held.get(badge.id, ())) for badge in badges)
    return min((t for t in thresholds if t is not None), default=NEVER)


def gates_version(badges: Iterable[Badge]) -> int:
    """A number that changes whenever a gate could: when a badge with a tally is added,
    retired or given other thresholds. Gates stored under another version are not
    trusted. Never 0, which a tally not gated yet carries."""
    gated = sorted((b.id, fact, b.levels) for b in badges if (fact := tally_fact(b)))
    digest = hashlib.sha256(repr(gated).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 | 1


def is_quiet(grant: Grant, evaluated_at: datetime) -> bool:
    """A grant dated more than two days before its evaluation is backfill: notify no one."""
    return evaluated_at - grant.granted_at > QUIET_AFTER


# Levels of a person --------------------------------------------------------------


@dataclass(frozen=True)
class PersonLevel:
    number: int  # 1 for everyone, up one per threshold reached
    points: int
    next_threshold: int | None


def parse_level_thresholds(values: object) -> tuple[int, ...]:
    """Lifetime points that reach level 2, 3, …: whole numbers above 0, increasing."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise BadgeDefinitionError("level_thresholds", "must be a list of whole numbers")
    previous = 0
    for index, value in enumerate(values):
        field = f"level_thresholds.{index}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadgeDefinitionError(field, "must be a whole number")
        if value <= previous:
            raise BadgeDefinitionError(field, f"must be above {previous}")
        previous = value
    return tuple(values)


def person_level(lifetime_points: int, thresholds: Sequence[int]) -> PersonLevel:
    """A person's overall level from lifetime points (``thresholds`` increasing)."""
    reached = sum(1 for threshold in thresholds if lifetime_points >= threshold)
    following = thresholds[reached] if reached < len(thresholds) else None
    return PersonLevel(number=1 + reached, points=lifetime_points, next_threshold=following)


# Lifetime points that reach level 2, 3, … when the company has set none of its own.
DEFAULT_LEVEL_THRESHOLDS: tuple[int, ...] = (100, 250, 500, 1000, 2500, 5000, 10000, 25000)


# What a badge reads ------------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """The parts of a history that a set of badges reads, so that a loader fetches
    only those: event kinds counted, ledger points, lessons, challenge placings."""

    event_kinds: frozenset[str] = frozenset()
    points: bool = False
    lessons: bool = False
    placings: bool = False

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            self.event_kinds | other.event_kinds,
            self.points or other.points,
            self.lessons or other.lessons,
            self.placings or other.placings,
        )


def needs_of(badges: Iterable[Badge]) -> Needs:
    needed = Needs()
    for badge in badges:
        if badge.kind is CriterionKind.STREAK:
            needed |= Needs(event_kinds=frozenset({EventKind.SHARE}))
        elif badge.kind is CriterionKind.PLACING:
            needed |= Needs(placings=True)
        elif badge.measure is Measure.POINTS:
            needed |= Needs(points=True)
        elif badge.measure is Measure.LESSONS:
            needed |= Needs(lessons=True)
        elif badge.measure is not None:
            needed |= Needs(event_kinds=MEASURED_KINDS[badge.measure])
    return needed


# Words ----------------------------------------------------------------------------

_COUNT_WORDS = {
    Measure.SHARES: ("Share", "time", "times"),
    Measure.CLICKS: ("Draw", "counted click", "counted clicks"),
    Measure.REFERRAL_STAGES: ("Reach", "referral stage", "referral stages"),
    Measure.HIRES: ("Refer", "hire", "hires"),
    Measure.POINTS: ("Earn", "point", "points"),
    Measure.LESSONS: ("Finish", "lesson", "lessons"),
}
_FIRST_WORDS = {
    Measure.SHARES: "Share for the first time",
    Measure.CLICKS: "Draw your first counted click",
    Measure.REFERRAL_STAGES: "Bring your first referral (any stage)",
    Measure.HIRES: "Refer your first hire",
    Measure.LESSONS: "Finish your first lesson",
}
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


def _count(measure: Measure, threshold: int) -> str:
    verb, one, many = _COUNT_WORDS[measure]
    if measure is Measure.SHARES:
        return f"{verb} {'once' if threshold == 1 else f'{threshold:,} {many}'}"
    return f"{verb} {threshold:,} {one if threshold == 1 else many}"


def _by_level(badge: Badge, first: str, rest: str) -> str:
    """ "… for bronze, 25 for silver, 100 for gold": the first threshold in full."""
    if len(badge.levels) == 1:
        return first
    parts = [f"{first} for {badge.levels[0][0].value}"]
    parts += [f"{threshold:,} for {level.value}" for level, threshold in badge.levels[1:]]
    return rest.join([", ".join(parts[:-1]), parts[-1]])


def earned_words(name: str, level: str) -> str:
    """What a person is told of a grant: "You earned First share", "You earned the
    Silver level of Sharer"."""
    if level == Level.ONCE:
        return f"You earned {name}"
    return f"You earned the {str(level).capitalize()} level of {name}"


def describe_badge(badge: Badge) -> str:
    """What earns the badge, in words: "Share in 4 weeks running (one week's pause
    allowed)", "Share 10 times for bronze, 50 for silver and 100 for gold"."""
    if badge.kind is CriterionKind.FIRST:
        assert badge.measure is not None
        return _FIRST_WORDS.get(badge.measure, f"Your first {badge.measure.value}")
    if badge.kind is CriterionKind.COUNT:
        assert badge.measure is not None
        return _by_level(badge, _count(badge.measure, badge.levels[0][1]), " and ")
    if badge.kind is CriterionKind.STREAK:
        weeks = badge.levels[0][1]
        text = _by_level(
            badge, f"Share in {weeks} week{'s' if weeks != 1 else ''} running", " and "
        )
        if badge.grace_weeks:
            pause = _NUMBER_WORDS.get(badge.grace_weeks, str(badge.grace_weeks))
            text += (
                " (one week's pause allowed)"
                if badge.grace_weeks == 1
                else f" ({pause} weeks' pause allowed)"
            )
        return text
    place = "first" if badge.top == 1 else f"top {badge.top}"
    where = "Win a challenge" if badge.top == 1 else f"Place in the {place} of a challenge"
    if badge.per_challenge:
        return f"{where}: once for every challenge"
    if len(badge.levels) == 1 and badge.levels[0][1] == 1:
        return where
    count = badge.levels[0][1]
    verb = "Win" if badge.top == 1 else f"Place in the {place} of"
    return _by_level(badge, f"{verb} {count} challenge{'s' if count != 1 else ''}", " and ")
