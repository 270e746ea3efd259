"""Who took part when: spells of taking part, and the headcount of each finished day,
week and month worked out from them and kept.

A spell starts when someone starts taking part (opts in, is reactivated, joins a
team while taking part) and ends when they stop (opt out, deactivation, erasure) or
move to another team. A flush hook writes them, whatever changed the person (a page,
the API, an import, the demo), in the transaction that changed them; nothing
rewrites a spell later, so past participation rates do not drift. Headcounts of
finished periods are worked out from the spells (``scoring.analytics.headcounts``)
by a job of the clock and kept in ``headcounts``; a rebuild works them out anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import chain

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import delete, distinct, event, func, inspect, select, text, update

from app.db import bulk_insert, insert, on_postgresql
from app.extensions import db
from app.models import (
    Employee,
    Headcount,
    ParticipationSpell,
    RollupEmployeeDaily,
    RollupEmployeePeriod,
    RollupPersonPeriod,
    utcnow,
)
from app.services.calendar import company_calendar
from scoring.analytics import (
    NO_TEAM,
    WHOLE_COMPANY,
    Period,
    Spell,
    day_start,
    headcounts,
    local_day,
    next_period_start,
    period_start,
    period_starts,
    spell_change,
)
from scoring.participation import is_participating

# What makes someone take part, or places them in a team.
FOLLOWED = ("opted_in_at", "active", "erased_at", "team_id", "team")
INSERT_CHUNK = 5_000


# Spells ----------------------------------------------------------------------------


@event.listens_for(FlaskSession, "after_flush")
def _follow_participation(session, _context) -> None:
    """Spells follow the people whose participation or team this flush changed."""
    changed = [
        person
        for person in chain(session.new, session.dirty)
        if isinstance(person, Employee) and _followed_change(person)
    ]
    if changed:
        _follow(session.connection(), changed)


def _followed_change(person: Employee) -> bool:
    state = inspect(person)
    if state.pending and person.opted_in_at is None:
        return False  # new and not taking part: nothing to start
    return any(state.attrs[name].history.has_changes() for name in FOLLOWED)


def _follow(connection, people: Sequence[Employee]) -> None:
    spells = ParticipationSpell.__table__
    open_teams = dict(
        connection.execute(
            select(spells.c.employee_id, spells.c.team_id).where(
                spells.c.employee_id.in_([p.id for p in people]), spells.c.ended_at.is_(None)
            )
        ).all()
    )
    now = utcnow()
    for person in people:
        participating = is_participating(person.opted_in_at, person.is_active)
        close, start = spell_change(
            person.id in open_teams, open_teams.get(person.id), participating, person.team_id
        )
        if close:
            connection.execute(
                update(spells)
                .where(spells.c.employee_id == person.id, spells.c.ended_at.is_(None))
                .values(ended_at=now)
            )
        if start:
            # Opting in starts at the opt-in; anything else (back from deactivation, a
            # new team) now.
            opted_in = inspect(person).attrs.opted_in_at.history.added
            started_at = person.opted_in_at if opted_in and not close else now
            connection.execute(
                insert(spells)
                .values(employee_id=person.id, team_id=person.team_id, started_at=started_at)
                # Two transactions starting one person's spell at once: the first counts.
                .on_conflict_do_nothing(
                    index_elements=[spells.c.employee_id], index_where=spells.c.ended_at.is_(None)
                )
            )


def _spells(since: datetime, until: datetime, teamless: bool = False) -> list[Spell]:
    """The spells that overlap [since, until) (of no team only, when ``teamless``)."""
    query = select(
        ParticipationSpell.employee_id,
        ParticipationSpell.team_id,
        ParticipationSpell.started_at,
        ParticipationSpell.ended_at,
    ).where(
        ParticipationSpell.started_at < until,
        ParticipationSpell.ended_at.is_(None) | (ParticipationSpell.ended_at > since),
    )
    if teamless:
        query = query.where(ParticipationSpell.team_id.is_(None))
    return [Spell(*row) for row in db.session.execute(query.execution_options(yield_per=20_000))]


# Headcounts ------------------------------------------------------------------------


def keep_headcounts(now: datetime | None = None) -> int:
    """Work out and keep the headcount of every finished day, week and month not kept
    yet (from the first spell on); returns how many periods. Safe to run twice and
    at once: a period kept already is left as it is."""
    now = now or utcnow()
    zone, week_start = company_calendar()
    first_spell = db.session.scalar(select(func.min(ParticipationSpell.started_at)))
    if first_spell is None:
        return 0
    today = local_day(now, zone)
    kept = 0
    for period in Period:
        running = period_start(period, today, week_start)
        last_kept = db.session.scalar(
            select(func.max(Headcount.starts_on)).where(
                Headcount.period == period, Headcount.team_id == WHOLE_COMPANY
            )
        )
        first = (
            next_period_start(period, last_kept)
            if last_kept is not None
            else local_day(first_spell, zone)
        )
        starts = [
            start
            for start in period_starts(period, first, running - timedelta(days=1), week_start)
            if start < running
        ]
        if starts:
            kept += _keep(period, starts, zone)
    return kept


def _keep(period: Period, starts: list[date], zone) -> int:
    since = day_start(starts[0], zone)
    until = day_start(next_period_start(period, starts[-1]), zone)
    counts = headcounts(_spells(since, until), period, starts, zone)
    active = active_counts(period, starts)
    rows = [
        {
            "period": period,
            "starts_on": start,
            "team_id": team,
            "people": counts[start].get(team, 0),
            "active": active[start].get(team, 0),
        }
        for start in starts
        for team in sorted(set(counts[start]) | set(active[start]))
    ]
    for chunk in range(0, len(rows), INSERT_CHUNK):
        bulk_insert(
            Headcount.__table__,
            rows[chunk : chunk + INSERT_CHUNK],
            lambda statement: statement.on_conflict_do_nothing(),
        )
    return len(starts)


def headcounts_of(period: Period, starts: Sequence[date]) -> dict[date, dict[int, int]]:
    """The headcounts of these periods, per team (``NO_TEAM``: no team) and for the
    whole company (``WHOLE_COMPANY``): kept ones as kept, the others (the running
    period, or one the clock has not reached yet) counted in SQL, as
    ``scoring.analytics.headcounts`` counts them. Reads only."""
    zone, _week_start = company_calendar()

    def work_out(run: list[date]) -> dict[date, dict[int, int]]:
        return {
            start: taking_part(
                day_start(start, zone), day_start(next_period_start(period, start), zone)
            )
            for start in run
        }

    return _kept_or(Headcount.people, period, starts, work_out)


def spells_in(since: datetime, until: datetime) -> list:
    """The conditions of the spells in which someone took part at some time in [since,
    until), as ``scoring.analytics.headcounts`` counts them (a spell of no time at all
    is none)."""
    spells = ParticipationSpell.__table__
    return [
        spells.c.started_at < until,
        spells.c.ended_at.is_(None)
        | ((spells.c.ended_at > since) & (spells.c.ended_at > spells.c.started_at)),
    ]


def taking_part(since: datetime, until: datetime) -> dict[int, int]:
    """People who took part at any time in [since, until), per team and for the whole
    company (``WHOLE_COMPANY``), counted by the database: what a running period shows,
    without loading every spell."""
    spells = ParticipationSpell.__table__
    overlapping = spells_in(since, until)
    people = func.count(distinct(spells.c.employee_id))
    team = func.coalesce(spells.c.team_id, NO_TEAM)
    found = dict(db.session.execute(select(team, people).where(*overlapping).group_by(team)).all())
    found[WHOLE_COMPANY] = db.session.scalar(select(people).where(*overlapping)) or 0
    return {key: value for key, value in found.items() if value or key == WHOLE_COMPANY}


def active_counts(period: Period, starts: Sequence[date]) -> dict[date, dict[int, int]]:
    """People who made at least one share in each period (``starts``: periods' first
    days), per team and for the whole company (``WHOLE_COMPANY``, always there): per
    team from the people's daily rollup for days, from their weekly or monthly one
    otherwise; for the company from the people's rows over teams."""
    starts = sorted(starts)
    found: dict[date, dict[int, int]] = {start: {WHOLE_COMPANY: 0} for start in starts}
    if not starts:
        return found
    if period is Period.DAY:
        table = RollupEmployeeDaily.__table__
        start, where = table.c.day, [table.c.day.in_(starts)]
    else:
        table = RollupEmployeePeriod.__table__
        start = table.c.starts_on
        where = [table.c.period == period, table.c.starts_on.in_(starts)]
    where.append(table.c.shares > 0)
    # A row per person and team, and per person over teams: counting rows counts people.
    for first, team, count in db.session.execute(
        select(start, table.c.team_id, func.count()).where(*where).group_by(start, table.c.team_id)
    ):
        found[first][team] = count
    people = RollupPersonPeriod.__table__
    for first, count in db.session.execute(
        select(people.c.starts_on, func.count())
        .where(people.c.period == period, people.c.starts_on.in_(starts), people.c.shares > 0)
        .group_by(people.c.starts_on)
    ):
        found[first][WHOLE_COMPANY] = count
    return found


def active_of(period: Period, starts: Sequence[date]) -> dict[date, dict[int, int]]:
    """``active_counts`` of these periods: kept ones as kept, the others worked out
    from the rollups. Reads only."""
    return _kept_or(Headcount.active, period, starts, lambda run: active_counts(period, run))


def _kept_or(column, period: Period, starts: Sequence[date], work_out) -> dict:
    """A kept column of these periods' headcounts, per team: as kept where the period
    is, the others worked out (``work_out``, run by run of consecutive periods)."""
    starts = sorted(set(starts))
    found: dict[date, dict[int, int]] = {}
    for start, team, value in db.session.execute(
        select(Headcount.starts_on, Headcount.team_id, column).where(
            Headcount.period == period, Headcount.starts_on.in_(starts)
        )
    ):
        found.setdefault(start, {})[team] = value
    kept = {start: teams for start, teams in found.items() if WHOLE_COMPANY in teams}
    for run in _consecutive(period, [start for start in starts if start not in kept]):
        kept.update(work_out(run))
    return {start: kept[start] for start in starts}


def _consecutive(period: Period, starts: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for start in starts:
        if runs and next_period_start(period, runs[-1][-1]) == start:
            runs[-1].append(start)
        else:
            runs.append([start])
    return runs


def rebuild_headcounts(since: date | None = None, now: datetime | None = None) -> int:
    """Work out every finished period's headcount anew from the spells (those from the
    period holding ``since`` on); returns how many periods were kept."""
    if on_postgresql():  # the clock's job waits rather than keep a period meanwhile
        db.session.execute(text("LOCK TABLE headcounts IN SHARE ROW EXCLUSIVE MODE"))
    forget = delete(Headcount)
    if since is not None:
        _zone, week_start = company_calendar()
        # Each kind of period from the one holding ``since``: weeks and months may start
        # earlier than the day itself.
        forget = forget.where(
            (Headcount.period == Period.DAY) & (Headcount.starts_on >= since)
            | (Headcount.period == Period.WEEK)
            & (Headcount.starts_on >= period_start(Period.WEEK, since, week_start))
            | (Headcount.period == Period.MONTH)
            & (Headcount.starts_on >= period_start(Period.MONTH, since))
        )
    db.session.execute(forget)
    return keep_headcounts(now)


def forget_team(team_id: int) -> None:
    """A team is deleted and its spells now have no team: its kept headcounts go, and
    those of no team are worked out again for every kept period."""
    db.session.execute(delete(Headcount).where(Headcount.team_id == team_id))
    zone, _week_start = company_calendar()
    for period in Period:
        starts = list(
            db.session.scalars(
                select(Headcount.starts_on)
                .where(Headcount.period == period, Headcount.team_id == WHOLE_COMPANY)
                .order_by(Headcount.starts_on)
            )
        )
        db.session.execute(
            delete(Headcount).where(Headcount.period == period, Headcount.team_id == NO_TEAM)
        )
        rows = []
        for run in _consecutive(period, starts):
            since = day_start(run[0], zone)
            until = day_start(next_period_start(period, run[-1]), zone)
            counts = headcounts(_spells(since, until, teamless=True), period, run, zone)
            active = active_counts(period, run)  # the team's rollups are no team's now
            rows += [
                {
                    "period": period,
                    "starts_on": start,
                    "team_id": NO_TEAM,
                    "people": counts[start].get(NO_TEAM, 0),
                    "active": active[start].get(NO_TEAM, 0),
                }
                for start in run
                if counts[start].get(NO_TEAM) or active[start].get(NO_TEAM)
            ]
        for chunk in range(0, len(rows), INSERT_CHUNK):
            bulk_insert(Headcount.__table__, rows[chunk : chunk + INSERT_CHUNK])
