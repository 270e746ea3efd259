"""Analytics: the periods figures are counted in, what each figure counts, and the
cohort it counts from.

Figures are kept per company-local calendar day (the rollups); a week or a month is a
run of whole days, so a day is never split, whatever daylight saving does to its
length (23 or 25 hours). Weeks start on the company's first weekday (Monday unless
chosen otherwise), as the boards' windows do.

Two numbers that look alike are not: "shares made in the period" (and the clicks those
shares drew, whenever they came) and "clicks received in the period" (on shares made
whenever). Every figure names its ``Cohort``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from scoring.vocabulary import ReferralStage

# Periods ---------------------------------------------------------------------------


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The company-local calendar day of an instant."""
    return moment.astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first instant (UTC) of a local day. Where clocks skip midnight, the day
    begins with the first time the clocks show."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def period_start(period: Period, day: date, week_start: int = 0) -> date:
    """The first day of the period holding ``day`` (``week_start``: 0 = Monday)."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=(day.weekday() - week_start) % 7)
    return day.replace(day=1)


def next_period_start(period: Period, start: date) -> date:
    """The first day of the period after the one starting on ``start``."""
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_starts(period: Period, first: date, last: date, week_start: int = 0) -> list[date]:
    """The first days of the periods from the one holding ``first`` to the one holding
    ``last``, in order."""
    starts = []
    start = period_start(period, first, week_start)
    while start <= last:
        starts.append(start)
        start = next_period_start(period, start)
    return starts


def period_bounds(period: Period, start: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants (UTC) a period begins and ends (exclusive)."""
    return day_start(start, zone), day_start(next_period_start(period, start), zone)


def utc_offsets(zone: tzinfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """The zone's offsets from UTC between two instants: (the instant it starts, the
    offset in seconds), in order; the first one starts at ``since``. With these a
    database works out local days with plain date arithmetic, exactly as
    ``local_day`` does, where it knows no time zones (SQLite)."""
    since, until = since.astimezone(UTC), max(since, until).astimezone(UTC)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    spans = [(since, offset(since))]
    step = timedelta(hours=6)  # offsets never change twice within six hours
    before = since
    while before < until:
        after = min(before + step, until)
        if offset(after) != spans[-1][1]:
            # Changes fall on whole seconds: find the first second of the new offset.
            low, high = int(before.timestamp()), int(after.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if offset(datetime.fromtimestamp(middle, UTC)) == spans[-1][1]:
                    low = middle
                else:
                    high = middle
            changed = datetime.fromtimestamp(high, UTC)
            spans.append((changed, offset(changed)))
        before = after
    return spans


# Cohorts and figures ---------------------------------------------------------------


class Cohort(StrEnum):
    """What a figure counts from, in a period."""

    SHARES_MADE = "shares_made"
    CLICKS_RECEIVED = "clicks_received"
    STAGES_REACHED = "stages_reached"
    POINTS_EARNED = "points_earned"
    PEOPLE_TAKING_PART = "people_taking_part"

    @property
    def label(self) -> str:
        return COHORT_LABELS[self]


COHORT_LABELS = {
    Cohort.SHARES_MADE: "shares made in the period",
    Cohort.CLICKS_RECEIVED: "clicks received in the period",
    Cohort.STAGES_REACHED: "referral stages reached in the period",
    Cohort.POINTS_EARNED: "points earned in the period",
    Cohort.PEOPLE_TAKING_PART: "people taking part in the period",
}


@dataclass(frozen=True)
class Figure:
    name: str
    cohort: Cohort
    meaning: str


FIGURES = {
    figure.name: figure
    for figure in (
        Figure("shares", Cohort.SHARES_MADE, "shares made"),
        Figure(
            "clicks",
            Cohort.CLICKS_RECEIVED,
            "counted clicks received, on shares made at any time (people's clicks: bots, "
            "link previews and the sharer's own clicks do not count)",
        ),
        Figure(
            "clicks_on_shares",
            Cohort.SHARES_MADE,
            "counted clicks on the shares made in the period, whenever they came",
        ),
        Figure(
            "clicks_per_share",
            Cohort.SHARES_MADE,
            "counted clicks on the shares made in the period, per share; none without shares",
        ),
        Figure("applied", Cohort.STAGES_REACHED, "attributed candidates who applied"),
        Figure("interviewed", Cohort.STAGES_REACHED, "attributed candidates interviewed"),
        Figure("hired", Cohort.STAGES_REACHED, "attributed candidates hired"),
        Figure(
            "points",
            Cohort.POINTS_EARNED,
            "points of the ledger lines dated in the period (when what earned them "
            "happened), corrections and reversals included",
        ),
        Figure(
            "reach",
            Cohort.SHARES_MADE,
            "potential reach: the audience each sharer declared on the network, summed "
            "over the shares made (an upper bound: audiences overlap, and few see a post)",
        ),
        Figure("active_advocates", Cohort.SHARES_MADE, "people who made at least one share"),
        Figure(
            "headcount",
            Cohort.PEOPLE_TAKING_PART,
            "people who took part at any time in the period, as they were then",
        ),
        Figure(
            "participation_rate",
            Cohort.PEOPLE_TAKING_PART,
            "active advocates per person taking part in the period",
        ),
    )
}


def clicks_per_share(clicks: int, shares: int) -> float | None:
    """Clicks per share; None without shares (no figure, rather than 0 or infinity)."""
    if shares <= 0:
        return None
    return clicks / shares


def participation_rate(active: int, headcount: int) -> float | None:
    """Active advocates per person taking part; None when nobody took part. Whoever
    shared took part, so the headcount is never taken as less than the active
    advocates (history from before headcounts were kept may lack someone)."""
    headcount = max(headcount, active)
    if headcount <= 0:
        return None
    return active / headcount


# Rollup counters -------------------------------------------------------------------

COUNTERS = (
    "shares",
    "clicks",
    "clicks_on_shares",
    "applied",
    "interviewed",
    "hired",
    "points",
    "reach",
)
SHARES, CLICKS, CLICKS_ON_SHARES, POINTS, REACH = (
    COUNTERS.index(name) for name in ("shares", "clicks", "clicks_on_shares", "points", "reach")
)
STAGE_COUNTERS = {
    ReferralStage.APPLIED: "applied",
    ReferralStage.INTERVIEWED: "interviewed",
    ReferralStage.HIRED: "hired",
}
# Teams as rollups and headcounts key them: a person without a team, and everyone.
NO_TEAM = 0
WHOLE_COMPANY = -1


def team_key(team_id: int | None) -> int:
    return NO_TEAM if team_id is None else team_id


@dataclass(frozen=True)
class ShareFacts:
    """A share as the rollups see it: who, what, where, in which team, when, and the
    audience the sharer declared on that network then (None: not declared)."""

    employee_id: int
    content_id: int
    channel: str
    team_id: int | None
    at: datetime
    audience: int | None = None


ContentKey = tuple[date, int, str, int]  # day, content item, channel, team
EmployeeKey = tuple[date, int, int]  # day, employee, team
TeamKey = tuple[date, int]  # day, team
ContentPeriodKey = tuple[str, date, int, str]  # week or month, its first day, item, channel
EmployeePeriodKey = tuple[str, date, int, int]  # week or month, its first day, employee, team
SharerItemKey = tuple[str, date, int, int]  # day, week or month, its first day, employee, item
SharerTagKey = tuple[str, date, int, str]  # day, week or month, its first day, employee, tag
InterestTagKey = tuple[str, date, int, str]  # day, week or month, its first day, interest, tag
PersonPeriodKey = tuple[str, date, int]  # day, week or month, its first day, employee
TAG_COUNTERS = ("shares", "clicks_on_shares")  # what the tag rollups keep, in this order
KEPT_PERIODS = (Period.WEEK, Period.MONTH)  # summed ahead, besides the days
# The people's and the interests' rollups keep days too: a day's breakdown by person,
# interest or tag would otherwise group thousands of rows by people's interests.
INTEREST_PERIODS = (Period.DAY, *KEPT_PERIODS)


class Tally:
    """The counters a batch of raw rows adds to the rollups: per (day, content item,
    channel, team), per (day, employee, team) and per (day, team), the day being
    company-local; each key's counters in ``COUNTERS`` order. The team rollup is the
    people's summed over them: what a year of figures reads in a few thousand rows.
    Per week and month (``KEPT_PERIODS``), the items' counters (over teams) and the
    people's are summed ahead too: what a period's breakdown reads; and per week and
    month, and per day, each sharer's shares of each item and the clicks they drew
    (``TAG_COUNTERS`` order), which become the tag rollups once the items' tags and the people's
    interests are known (``sharer_tag_counts``, ``per_interest``).

    The team is the one recorded with the raw row: the sharer's team when the share was
    made, for the share, its clicks and its referrals (and their points); the ledger
    line's team for points that come from no share. Counted clicks only: the caller
    hands in the clicks the click pipeline counted."""

    def __init__(self, zone: tzinfo, week_start: int = 0) -> None:
        self.zone, self.week_start = zone, week_start
        self.content: dict[ContentKey, list[int]] = {}
        self.employees: dict[EmployeeKey, list[int]] = {}
        self.teams: dict[TeamKey, list[int]] = {}
        self.content_periods: dict[ContentPeriodKey, list[int]] = {}
        self.employee_periods: dict[EmployeePeriodKey, list[int]] = {}
        self.sharer_items: dict[SharerItemKey, list[int]] = {}

    def _periods(self, day: date) -> list[tuple[str, date]]:
        return [
            (period.value, period_start(period, day, self.week_start)) for period in KEPT_PERIODS
        ]

    def _add(self, share: ShareFacts, at: datetime, counter: int, amount: int = 1) -> None:
        day, team = local_day(at, self.zone), team_key(share.team_id)
        _bump(self.content, (day, share.content_id, share.channel, team), counter, amount)
        _bump(self.employees, (day, share.employee_id, team), counter, amount)
        _bump(self.teams, (day, team), counter, amount)
        for period, start in self._periods(day):
            key = (period, start, share.content_id, share.channel)
            _bump(self.content_periods, key, counter, amount)
            key = (period, start, share.employee_id, team)
            _bump(self.employee_periods, key, counter, amount)

    def _add_item(self, share: ShareFacts, counter: int) -> None:
        day = local_day(share.at, self.zone)
        for period, start in [(Period.DAY.value, day), *self._periods(day)]:
            key = (period, start, share.employee_id, share.content_id)
            self.sharer_items.setdefault(key, [0] * len(TAG_COUNTERS))[counter] += 1

    def share(self, share: ShareFacts) -> None:
        self._add(share, share.at, SHARES)
        if share.audience:
            self._add(share, share.at, REACH, share.audience)
        self._add_item(share, 0)

    def click(self, share: ShareFacts, at: datetime) -> None:
        """A counted click: received on its own day, and drawn by the share of its day."""
        self._add(share, at, CLICKS)
        self._add(share, share.at, CLICKS_ON_SHARES)
        self._add_item(share, 1)

    def stage(self, share: ShareFacts, stage: ReferralStage, at: datetime) -> None:
        """An attributed referral stage, on the day the candidate reached it."""
        self._add(share, at, COUNTERS.index(STAGE_COUNTERS[stage]))

    def points(
        self,
        employee_id: int,
        team_id: int | None,
        points: int,
        at: datetime,
        content_id: int | None = None,
        channel: str | None = None,
    ) -> None:
        """A ledger line's points, on the day of what earned them. Lines of an event
        about a content item (a share, its clicks, its referrals) count for the item
        too; the others (adjustments, prizes, lessons) for the person only."""
        if not points:
            return
        day, team = local_day(at, self.zone), team_key(team_id)
        about_content = content_id is not None and channel is not None
        if about_content:
            _bump(self.content, (day, content_id, channel, team), POINTS, points)
        _bump(self.employees, (day, employee_id, team), POINTS, points)
        _bump(self.teams, (day, team), POINTS, points)
        for period, start in self._periods(day):
            if about_content:
                key = (period, start, content_id, channel)
                _bump(self.content_periods, key, POINTS, points)
            _bump(self.employee_periods, (period, start, employee_id, team), POINTS, points)

    def __bool__(self) -> bool:
        return bool(self.content or self.employees)


def _bump(counts: dict, key: tuple, counter: int, amount: int) -> None:
    found = counts.get(key)
    if found is None:
        found = counts[key] = [0] * len(COUNTERS)
    found[counter] += amount


def sharer_tag_counts(
    sharer_items: dict[SharerItemKey, Sequence[int]], tags: dict[int, Iterable[str]]
) -> dict[SharerTagKey, list[int]]:
    """Sharers' counts per item, per tag of the item (``tags``, by item) instead."""
    counts: dict[SharerTagKey, list[int]] = {}
    for (period, start, employee_id, content_id), values in sharer_items.items():
        for tag in tags.get(content_id, ()):
            found = counts.setdefault((period, start, employee_id, tag), [0] * len(TAG_COUNTERS))
            for index, value in enumerate(values):
                found[index] += value
    return counts


def person_period_counts(
    employees: dict[EmployeeKey, Sequence[int]],
    employee_periods: dict[EmployeePeriodKey, Sequence[int]],
) -> dict[PersonPeriodKey, list[int]]:
    """People's counts per day, week and month over their teams (someone who moved
    team within a period has a row per team there, and one person's row here)."""
    counts: dict[PersonPeriodKey, list[int]] = {}
    days = {(Period.DAY.value, day, *rest): values for (day, *rest), values in employees.items()}
    for (period, start, employee_id, _team), values in (days | employee_periods).items():
        found = counts.setdefault((period, start, employee_id), [0] * len(values))
        for index, value in enumerate(values):
            found[index] += value
    return counts


def per_interest(
    counts: dict[tuple, Sequence[int]],
    interests: dict[int, Iterable[int]],
    new: Iterable[tuple] = (),
) -> dict[tuple, list[int]]:
    """What people's counts add to a rollup per interest: the counts of each key (a
    person's, the key's third part) go to each interest the person has chosen
    (``interests``, by person), under the same key with the interest in the person's
    place; one more counter last counts the people whose key is ``new`` (their first
    share of the tag, or at all, in the period: sharers, active advocates)."""
    first = set(new)
    cells: dict[tuple, list[int]] = {}
    for key, values in counts.items():
        for interest_id in interests.get(key[2], ()):
            cell = (*key[:2], interest_id, *key[3:])
            found = cells.setdefault(cell, [0] * (len(values) + 1))
            for index, value in enumerate(values):
                found[index] += value
            found[-1] += key in first
    return cells


def interests_key(interest_ids: Iterable[int]) -> str:
    """A person's interests as one value: their ids, sorted, comma-separated."""
    return ",".join(str(interest_id) for interest_id in sorted(set(interest_ids)))


def interest_groups(
    people_per_key: Mapping[str, int],
) -> tuple[dict[int, int], dict[tuple[int, int], int], int]:
    """From how many people chose each set of interests (by ``interests_key``): how
    many chose each interest, how many each pair of them (the smaller id first), and
    how many people there are."""
    sizes: dict[int, int] = defaultdict(int)
    both: dict[tuple[int, int], int] = defaultdict(int)
    for key, people in people_per_key.items():
        chosen = sorted(int(part) for part in key.split(",") if part)
        for index, interest_id in enumerate(chosen):
            sizes[interest_id] += people
            for other in chosen[index + 1 :]:
                both[(interest_id, other)] += people
    return dict(sizes), dict(both), sum(people_per_key.values())


def counter_values(counts: Sequence[int]) -> dict[str, int]:
    """A key's counters by name."""
    return dict(zip(COUNTERS, counts, strict=True))


# Who takes part ---------------------------------------------------------------------


def spell_change(
    has_open: bool, open_team: int | None, participating: bool, team_id: int | None
) -> tuple[bool, bool]:
    """Whether a person's open spell of taking part ends, and whether a new one starts,
    now that they are (or are not) ``participating`` in ``team_id``. A move to another
    team ends one spell and starts the next, so each spell belongs to one team."""
    close = has_open and (not participating or open_team != team_id)
    start = participating and (not has_open or close)
    return close, start


@dataclass(frozen=True)
class Spell:
    """A time someone took part, in one team (None: no team); open while ``ended_at``
    is None."""

    employee_id: int
    team_id: int | None
    started_at: datetime
    ended_at: datetime | None


def headcounts(
    spells: Iterable[Spell], period: Period, starts: Sequence[date], zone: tzinfo
) -> dict[date, dict[int, int]]:
    """People who took part at any time in each period (``starts``: consecutive
    periods' first days), per team and for the whole company (``WHOLE_COMPANY``, always
    there): someone counts once per period and team however often they came and went,
    and in each team they took part in during the period."""
    if not starts:
        return {}
    bounds = [day_start(start, zone) for start in starts]
    bounds.append(day_start(next_period_start(period, starts[-1]), zone))
    last = len(starts) - 1
    reaches: defaultdict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for spell in spells:
        ended = spell.ended_at
        if ended is not None and ended <= spell.started_at:
            continue  # took part for no time at all
        first = max(0, bisect.bisect_right(bounds, spell.started_at) - 1)
        until = last if ended is None else min(last, bisect.bisect_left(bounds, ended) - 1)
        if first > until or spell.started_at >= bounds[-1]:
            continue
        reaches[(spell.employee_id, team_key(spell.team_id))].append((first, until))
        reaches[(spell.employee_id, WHOLE_COMPANY)].append((first, until))
    changes: defaultdict[int, list[int]] = defaultdict(lambda: [0] * (len(starts) + 1))
    for (_, team), ranges in reaches.items():
        for first, until in _merged(ranges):
            changes[team][first] += 1
            changes[team][until + 1] -= 1
    counts: dict[date, dict[int, int]] = {start: {WHOLE_COMPANY: 0} for start in starts}
    for team, steps in changes.items():
        people = 0
        for index, start in enumerate(starts):
            people += steps[index]
            if people:
                counts[start][team] = people
    return counts


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Index ranges joined where they share a period, so nobody counts twice in one."""
    merged: list[list[int]] = []
    for first, until in sorted(ranges):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], until)
        else:
            merged.append([first, until])
    return [(first, until) for first, until in merged]
