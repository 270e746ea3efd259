"""The figures of the analytics pages, API and exports, read from the rollups.

Every table is about one selection: a day, week or month (company-local), the whole
company or one team. The time table runs over the periods that lead up to the
selected one; the others break the selected period down by content item, network,
team, persona (interest) or person. Figures of groups of people obey the company's
minimum group size (``scoring.small_groups``): a team lead sees their team's figures
only for periods in which it had enough people, HR's table by team withholds small
teams (and, where the company total would give them away, one more), and figures by
interest or interest x tag only show groups of enough people. Figures of one person
appear only in the top advocates, to HR, and only as the boards show them (hidden
people never, pseudonyms as pseudonyms).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, func, select

from app.db import period_of
from app.extensions import db
from app.models import (
    ContentItem,
    Employee,
    Interest,
    NetworkPolicy,
    ParticipationSpell,
    RollupContentDaily,
    RollupContentPeriod,
    RollupInterestPeriod,
    RollupInterestTag,
    RollupPersonPeriod,
    RollupTeamDaily,
    Team,
)
from app.services import headcounts
from app.services.calendar import company_calendar
from app.services.people import company_settings
from scoring import media_value
from scoring.analytics import (
    COUNTERS,
    FIGURES,
    NO_TEAM,
    WHOLE_COMPANY,
    Cohort,
    Period,
    clicks_per_share,
    day_start,
    interest_groups,
    next_period_start,
    participation_rate,
    period_start,
)
from scoring.participation import Presence, board_name
from scoring.small_groups import large_enough, withheld_groups, withheld_parts
from scoring.vocabulary import Channel

# How many periods the time table shows, up to the selected one.
SERIES = {Period.DAY: 31, Period.WEEK: 13, Period.MONTH: 12}
TOP = 10  # top content items and advocates

LABELS = {
    "shares": "Shares",
    "clicks": "Clicks",
    "clicks_on_shares": "Clicks on these shares",
    "clicks_per_share": "Clicks per share",
    "applied": "Applied",
    "interviewed": "Interviewed",
    "hired": "Hired",
    "points": "Points",
    "reach": "Potential reach",
    "active_advocates": "Active advocates",
    "headcount": "Taking part",
    "participation_rate": "Participation rate",
    "value_low": "Value, low (cents)",
    "value_high": "Value, high (cents)",
    "sharers": "People sharing",
}
COUNTED = ("shares", "clicks", "clicks_on_shares", "applied", "interviewed", "hired", "points")
PEOPLE = ("active_advocates", "headcount", "participation_rate")


class Withheld(Exception):
    """What was asked for would show a group below the minimum size."""


@dataclass(frozen=True)
class Selection:
    period: Period
    start: date  # the first day of the selected period, company-local
    team_id: int | None = None  # one team's figures only

    @classmethod
    def holding(cls, period: Period, day: date, team_id: int | None = None) -> Selection:
        """The period of this kind that holds ``day``."""
        _zone, week_start = company_calendar()
        return cls(period, period_start(period, day, week_start), team_id)

    @property
    def end(self) -> date:
        """The first day after the period."""
        return next_period_start(self.period, self.start)

    def series(self) -> list[date]:
        """The first days of the time table's periods, oldest first."""
        starts = [self.start]
        _zone, week_start = company_calendar()
        while len(starts) < SERIES[self.period]:
            starts.insert(0, period_start(self.period, starts[0] - timedelta(days=1), week_start))
        return starts


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    cohort: Cohort | None = None  # None: not a figure (a name, a date)

    @property
    def meaning(self) -> str:
        figure = FIGURES.get(self.name)
        return figure.meaning if figure else ""


@dataclass
class Row:
    key: str  # stable: an ISO date, an id, a channel
    label: str
    values: dict[str, int | float | None]
    withheld: bool = False  # the group is too small: no figure is shown


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def figures(self) -> list[Column]:
        return [column for column in self.columns if column.cohort is not None]


def _columns(*names: str) -> list[Column]:
    cohorts = {name: figure.cohort for name, figure in FIGURES.items()}
    cohorts.update(value_low=Cohort.SHARES_MADE, value_high=Cohort.SHARES_MADE)
    cohorts["sharers"] = Cohort.SHARES_MADE
    return [Column(name, LABELS[name], cohorts[name]) for name in names]


def minimum_group_size() -> int:
    return company_settings().min_group_size


# Reading the rollups ---------------------------------------------------------------


def _sums(table) -> list:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in COUNTERS]


def _in_days(table, first: date, end: date) -> list:
    return [table.c.day >= first, table.c.day < end]


def _breakdown(selection: Selection, daily, summed) -> tuple:
    """The rollup a breakdown of the selected period reads, and the conditions that
    pick the period's rows: the day's rows of a day, the rows summed ahead for a week
    or month (a month of daily rows is hundreds of thousands)."""
    if selection.period is Period.DAY:
        table = daily.__table__
        return table, [table.c.day == selection.start]
    table = summed.__table__
    return table, [table.c.period == selection.period, table.c.starts_on == selection.start]


def _figures(row) -> dict[str, int | float | None]:
    """A row's counted figures, and clicks per share."""
    values = {name: int(getattr(row, name) or 0) for name in COUNTERS}
    values["clicks_per_share"] = _rounded(
        clicks_per_share(values["clicks_on_shares"], values["shares"])
    )
    return values


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _people(active: int, people: int) -> dict[str, int | float | None]:
    return {
        "active_advocates": active,
        "headcount": max(people, active),
        "participation_rate": _rounded(participation_rate(active, people)),
    }


def _blank(columns: Sequence[Column]) -> dict[str, None]:
    return {column.name: None for column in columns if column.cohort is not None}


# The tables ------------------------------------------------------------------------


def time_table(selection: Selection) -> Table:
    """The periods leading up to the selected one: the company's figures, or one
    team's, withheld for periods in which the team had too few people."""
    starts = selection.series()
    table = RollupTeamDaily.__table__
    period = period_of(table.c.day, starts, daily=selection.period is Period.DAY)
    where = _in_days(table, starts[0], selection.end)
    if selection.team_id is not None:
        where.append(table.c.team_id == selection.team_id)
    found = {
        row.period: row
        for row in db.session.execute(
            select(period.label("period"), *_sums(table)).where(*where).group_by(period)
        )
    }
    kept = headcounts.headcounts_of(selection.period, starts)
    active = headcounts.active_of(selection.period, starts)
    group = WHOLE_COMPANY if selection.team_id is None else selection.team_id
    k = minimum_group_size()
    columns = [
        Column("period", _period_label(selection.period)),
        *_columns(*COUNTED, "clicks_per_share", "reach", *PEOPLE),
    ]
    rows = []
    for start in starts:
        if selection.team_id is not None and selection.team_id in _withheld_teams(kept[start], k):
            rows.append(Row(start.isoformat(), start.isoformat(), _blank(columns), True))
            continue
        row = found.get(start)
        values = _figures(row) if row else _zero_figures()
        values.update(_people(active[start].get(group, 0), kept[start].get(group, 0)))
        rows.append(Row(start.isoformat(), start.isoformat(), values))
    title = "Over time"
    if selection.team_id is not None:
        title = f"{_team_name(selection.team_id)} over time"
    return Table("time", title, columns, rows, _group_notes(k))


def _zero_figures() -> dict[str, int | float | None]:
    values: dict[str, int | float | None] = dict.fromkeys(COUNTERS, 0)
    values["clicks_per_share"] = None
    return values


def _period_label(period: Period) -> str:
    return {Period.DAY: "Day", Period.WEEK: "Week from", Period.MONTH: "Month"}[period]


def content_table(selection: Selection, limit: int | None = None) -> Table:
    """Content items in the selected period, most clicked first."""
    _company_only(selection)
    table, period = _breakdown(selection, RollupContentDaily, RollupContentPeriod)
    query = (
        select(table.c.content_id, ContentItem.title, *_sums(table))
        .join(ContentItem, ContentItem.id == table.c.content_id)
        .where(*period)
        .group_by(table.c.content_id, ContentItem.title)
        .order_by(
            func.sum(table.c.clicks).desc(), func.sum(table.c.shares).desc(), table.c.content_id
        )
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [Row(str(row.content_id), row.title, _figures(row)) for row in db.session.execute(query)]
    columns = [Column("content", "Content item"), *_columns(*COUNTED, "clicks_per_share", "reach")]
    title = "Top content" if limit else "By content item"
    return Table("top_content" if limit else "content", title, columns, rows)


def network_table(selection: Selection) -> Table:
    """Networks in the selected period, with earned-media value as a range."""
    _company_only(selection)
    table, period = _breakdown(selection, RollupContentDaily, RollupContentPeriod)
    found = {
        Channel(row.channel): row
        for row in db.session.execute(
            select(table.c.channel, *_sums(table)).where(*period).group_by(table.c.channel)
        )
    }
    assumptions = value_assumptions()
    rows = []
    for channel in Channel:
        row = found.get(channel)
        values = _figures(row) if row else _zero_figures()
        low, high = media_value.earned_media_value(
            int(values["reach"] or 0), int(values["clicks"] or 0), assumptions[channel]
        )
        values.update(value_low=low, value_high=high)
        rows.append(Row(channel.value, channel.label, values))
    columns = [
        Column("network", "Network"),
        *_columns(*COUNTED, "clicks_per_share", "reach", "value_low", "value_high"),
    ]
    notes = [
        "Measured clicks come first; potential reach and value are estimates.",
        media_value.REACH_FORMULA,
        media_value.VALUE_FORMULA,
    ]
    return Table("network", "By network", columns, rows, notes)


def value_assumptions() -> dict[Channel, media_value.Assumptions]:
    """Each network's assumptions of earned-media value: the company's, or the defaults."""
    stored = {policy.channel: policy for policy in db.session.scalars(select(NetworkPolicy))}
    found = {}
    for channel, default in media_value.DEFAULTS.items():
        policy = stored.get(channel)
        if policy is None or policy.cpm_low_cents is None:
            found[channel] = default
            continue
        found[channel] = media_value.Assumptions(
            (policy.cpm_low_cents, policy.cpm_high_cents),
            (policy.cpc_low_cents, policy.cpc_high_cents),
            (policy.seen_low_percent, policy.seen_high_percent),
        )
    return found


def team_table(selection: Selection) -> Table:
    """Teams in the selected period; small teams withheld, and where the company's
    total would give them away, the next smallest too."""
    _company_only(selection)
    table = RollupTeamDaily.__table__
    found = {
        row.team_id: row
        for row in db.session.execute(
            select(table.c.team_id, *_sums(table))
            .where(*_in_days(table, selection.start, selection.end))
            .group_by(table.c.team_id)
        )
    }
    people = headcounts.headcounts_of(selection.period, [selection.start])[selection.start]
    active = headcounts.active_of(selection.period, [selection.start])[selection.start]
    names = dict(db.session.execute(select(Team.id, Team.name)).all())
    teams = (set(found) | set(people) | set(active)) - {WHOLE_COMPANY}
    k = minimum_group_size()
    withheld = _withheld_teams({**dict.fromkeys(teams, 0), **people}, k)
    columns = [Column("team", "Team"), *_columns(*COUNTED, "clicks_per_share", "reach", *PEOPLE)]
    rows = []
    for team in sorted(teams, key=lambda team: (team == NO_TEAM, names.get(team, ""), team)):
        label = "No team" if team == NO_TEAM else names.get(team, f"Team {team}")
        if team in withheld:
            rows.append(Row(str(team), label, _blank(columns), True))
            continue
        row = found.get(team)
        values = _figures(row) if row else _zero_figures()
        values.update(_people(active.get(team, 0), people.get(team, 0)))
        rows.append(Row(str(team), label, values))
    return Table("team", "By team", columns, rows, _group_notes(k))


def _withheld_teams(people: dict[int, int], k: int) -> set[int]:
    """The teams whose figures a period withholds, from its headcounts: the same for
    the table by team and for one team over time, so that neither gives away what
    the other withholds."""
    sizes = {team: count for team, count in people.items() if team != WHOLE_COMPANY}
    return withheld_parts(sizes, k)


def persona_table(selection: Selection) -> Table:
    """Interests (as people chose them, today) in the selected period; interests of too
    few people withheld, and those a difference with another would give away."""
    _company_only(selection)
    found = {row.interest_id: row for row in db.session.execute(_by_interest(selection))}
    names = db.session.execute(select(Interest.id, Interest.name).order_by(Interest.name)).all()
    chosen, both, everyone = interest_groups(_people_per_interests(selection))
    sizes = {interest_id: chosen.get(interest_id, 0) for interest_id, _ in names}
    k = minimum_group_size()
    withheld = withheld_groups(sizes, both, k, everyone)
    columns = [
        Column("interest", "Interest"),
        *_columns(*COUNTED, "clicks_per_share", "reach", "active_advocates", "headcount"),
    ]
    rows = []
    for interest_id, name in names:
        if interest_id in withheld:
            rows.append(Row(str(interest_id), name, _blank(columns), True))
            continue
        row = found.get(interest_id)
        values = _figures(row) if row else _zero_figures()
        active = int(row.active_advocates) if row else 0
        values.update(active_advocates=active, headcount=max(sizes[interest_id], active))
        rows.append(Row(str(interest_id), name, values))
    notes = [
        "Interests as people have chosen them today; someone with two interests counts in both.",
        *_group_notes(k),
    ]
    return Table("persona", "By interest", columns, rows, notes)


def _by_interest(selection: Selection) -> Select:
    """Each interest's figures and active advocates, kept per day, week and month."""
    cells = RollupInterestPeriod.__table__
    return select(
        cells.c.interest_id,
        *[cells.c[name] for name in COUNTERS],
        cells.c.active.label("active_advocates"),
    ).where(cells.c.period == selection.period, cells.c.starts_on == selection.start)


def _people_per_interests(selection: Selection) -> dict[str, int]:
    """How many people who took part in the period chose each set of interests (by
    ``interests_key``; none: ''), counted by the database in one pass."""
    zone, _week_start = company_calendar()
    since, until = day_start(selection.start, zone), day_start(selection.end, zone)
    spells = ParticipationSpell.__table__
    taking_part = select(spells.c.employee_id).where(*headcounts.spells_in(since, until))
    query = (
        select(Employee.interests_key, func.count())
        .where(Employee.id.in_(taking_part))
        .group_by(Employee.interests_key)
    )
    return dict(db.session.execute(query).all())


def advocates_table(selection: Selection) -> Table:
    """The people whose shares drew the most clicks in the period, as the boards show
    them: hidden people never, pseudonyms as pseudonyms."""
    _company_only(selection)
    kept = RollupPersonPeriod.__table__  # one row per person, read in its index's order
    people = (
        select(kept.c.employee_id, *[kept.c[name] for name in COUNTERS])
        .where(kept.c.period == selection.period, kept.c.starts_on == selection.start)
        .subquery()
    )
    query = (
        select(
            people.c.employee_id,
            Employee.presence,
            Employee.name,
            Employee.pseudonym,
            *[people.c[name] for name in COUNTERS],
        )
        .join(Employee, Employee.id == people.c.employee_id)
        .where(
            people.c.shares + people.c.clicks > 0,
            Employee.presence != Presence.HIDDEN,
            Employee.erased_at.is_(None),
            Employee.opted_in_at.is_not(None),
            Employee.active.is_(True),
        )
        .order_by(people.c.clicks.desc(), people.c.shares.desc(), people.c.employee_id)
        .limit(TOP)
    )
    rows = []
    for place, row in enumerate(db.session.execute(query), start=1):
        name = board_name(Presence(row.presence), row.name, row.pseudonym)
        values = {
            key: value
            for key, value in _figures(row).items()
            if key in ("shares", "clicks", "clicks_on_shares", "clicks_per_share", "points")
        }
        rows.append(Row(str(place), name or "", values))
    columns = [
        Column("advocate", "Advocate"),
        *_columns("shares", "clicks", "clicks_on_shares", "clicks_per_share", "points"),
    ]
    notes = ["People who chose to be hidden never appear; pseudonyms stay pseudonyms."]
    return Table("advocates", "Top advocates", columns, rows, notes)


def matrix_table(selection: Selection) -> Table:
    """Interest x tag: shares made in the period by people of each interest, of
    content with each tag, and the clicks they drew; a cell of fewer sharers than
    the minimum group size is withheld."""
    _company_only(selection)
    names = dict(db.session.execute(select(Interest.id, Interest.name)).all())
    k = minimum_group_size()
    rows = []
    for row in sorted(
        _matrix_cells(selection), key=lambda r: (names.get(r.interest_id, ""), r.tag)
    ):
        label = f"{names.get(row.interest_id, '')} / {row.tag}"
        key = f"{row.interest_id}:{row.tag}"
        if not large_enough(row.sharers, k):
            rows.append(
                Row(key, label, {"shares": None, "clicks_on_shares": None, "sharers": None}, True)
            )
            continue
        values = {
            "shares": int(row.shares),
            "clicks_on_shares": int(row.clicks_on_shares),
            "sharers": int(row.sharers),
        }
        rows.append(Row(key, label, values))
    columns = [
        Column("cell", "Interest / tag"),
        *_columns("shares", "clicks_on_shares", "sharers"),
    ]
    notes = [
        "Shares made in the period by people with the interest, of content with the tag, "
        "and the clicks they drew so far.",
        f"A cell of fewer than {k} people sharing is withheld.",
    ]
    return Table("matrix", "Interests by tag", columns, rows, notes)


def _matrix_cells(selection: Selection) -> list:
    """Each (interest, tag) cell's shares, clicks on them and sharers, kept per day,
    week and month."""
    cells = RollupInterestTag.__table__
    return db.session.execute(
        select(
            cells.c.interest_id,
            cells.c.tag,
            cells.c.shares,
            cells.c.clicks_on_shares,
            cells.c.sharers,
        ).where(cells.c.period == selection.period, cells.c.starts_on == selection.start)
    ).all()


# What each role may read -----------------------------------------------------------

COMPANY_TABLES = {
    "time": time_table,
    "content": content_table,
    "network": network_table,
    "team": team_table,
    "persona": persona_table,
    "advocates": advocates_table,
    "matrix": matrix_table,
}
TEAM_TABLES = {"time": time_table}


def table(name: str, selection: Selection) -> Table:
    tables = COMPANY_TABLES if selection.team_id is None else TEAM_TABLES
    if name not in tables:
        raise Withheld(name)
    return tables[name](selection)


def dashboard(selection: Selection) -> list[Table]:
    """Every table the analytics page shows for a selection."""
    if selection.team_id is not None:
        return [time_table(selection)]
    return [
        time_table(selection),
        content_table(selection, limit=TOP),
        network_table(selection),
        team_table(selection),
        persona_table(selection),
        advocates_table(selection),
        matrix_table(selection),
    ]


def _company_only(selection: Selection) -> None:
    """Breakdowns are of the whole company: within one team they would show groups
    smaller than the team, down to one person."""
    if selection.team_id is not None:
        raise Withheld("a team's figures are not broken down further")


def _group_notes(k: int) -> list[str]:
    return [f"Figures of a group of fewer than {k} people taking part are withheld."]


def _team_name(team_id: int) -> str:
    team = db.session.get(Team, team_id)
    return team.name if team else "No team"


# Export ----------------------------------------------------------------------------


def csv_lines(table: Table) -> Iterator[str]:
    """A table as CSV, a line at a time (streamed): a header naming each figure and its
    cohort, then the rows, withheld figures left empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    first, *figures = table.columns
    yield line(
        [
            first.label,
            *(f"{column.label} ({column.cohort.label})" for column in figures),
            "Withheld",
        ]
    )
    for row in table.rows:
        values = [row.values.get(column.name) for column in figures]
        yield line([_safe(row.label), *["" if v is None else v for v in values], row.withheld])
    for note in table.notes:
        yield line([_safe(f"Note: {note}")])


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
