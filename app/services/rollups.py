"""The analytics rollups: counters per company-local day, per (content item, channel,
team) and per (employee, team), kept in the transactions that write the raw rows they
count, and rebuilt from those rows at will.

Whoever writes shares, counted clicks, attributed referral stages or ledger lines adds
them to a ``scoring.analytics.Tally`` and hands it to ``count``, in the same
transaction: one upsert per rollup table for the whole batch, adding to what is there
(``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``), one row per distinct
key, in key order so that concurrent writers lock rows in the same order (the content
rollup first). The batch's rows are counted from what the writer holds, never read
back. ``rebuild`` recomputes everything from the raw rows with one ``INSERT ... SELECT
... GROUP BY`` per table, local days worked out in SQL from the zone's offsets. A row
whose counters are all zero says nothing: neither way keeps one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Table,
    bindparam,
    case,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)

from app.db import among, bulk_insert, insert, local_date, on_postgresql, period_start_of
from app.extensions import db
from app.models import (
    ClickKind,
    ClickRecord,
    Event,
    LedgerLine,
    ParticipationSpell,
    Referral,
    ReferralOutcome,
    RollupContentDaily,
    RollupContentPeriod,
    RollupEmployeeDaily,
    RollupEmployeePeriod,
    RollupTeamDaily,
    Share,
    utcnow,
)
from app.queue import enqueue
from app.services import headcounts
from app.services.calendar import company_calendar
from scoring.analytics import (
    COUNTERS,
    KEPT_PERIODS,
    NO_TEAM,
    POINTS,
    STAGE_COUNTERS,
    ShareFacts,
    Tally,
    day_start,
    local_day,
    period_start,
    utc_offsets,
)
from scoring.clicks import earns_points

log = logging.getLogger("chorus.rollups")

CONTENT = RollupContentDaily.__table__
EMPLOYEES = RollupEmployeeDaily.__table__
TEAMS = RollupTeamDaily.__table__
CONTENT_PERIODS = RollupContentPeriod.__table__
EMPLOYEE_PERIODS = RollupEmployeePeriod.__table__
CONTENT_KEY = ("day", "content_id", "channel", "team_id")
EMPLOYEE_KEY = ("day", "employee_id", "team_id")
TEAM_KEY = ("day", "team_id")
CONTENT_PERIOD_KEY = ("period", "starts_on", "content_id", "channel")
EMPLOYEE_PERIOD_KEY = ("period", "starts_on", "employee_id", "team_id")
DAILY = (CONTENT, EMPLOYEES, TEAMS)
PERIODS = (CONTENT_PERIODS, EMPLOYEE_PERIODS)
COUNTED_CLICKS = [kind for kind in ClickKind if earns_points(kind)]  # the pipeline's decision
UPSERT_CHUNK = 5_000
REBUILD_TIMEOUT = 3600  # seconds for a rebuild job


# Keeping them ----------------------------------------------------------------------


def new_tally() -> Tally:
    return Tally(*company_calendar())


def share_facts(share: Share) -> ShareFacts:
    return ShareFacts(
        share.employee_id,
        share.content_id,
        share.channel,
        share.team_id,
        share.created_at,
        share.audience,
    )


def count(tally: Tally) -> None:
    """Add a batch's counters to the rollups (the content rollup first, then the
    people's: every writer takes the rows' locks in one order). Only the counters the
    batch moved are written; the others keep what they hold, 0 in a new row."""
    for table, key, counts in (
        (CONTENT, CONTENT_KEY, tally.content),
        (EMPLOYEES, EMPLOYEE_KEY, tally.employees),
        (TEAMS, TEAM_KEY, tally.teams),
        (CONTENT_PERIODS, CONTENT_PERIOD_KEY, tally.content_periods),
        (EMPLOYEE_PERIODS, EMPLOYEE_PERIOD_KEY, tally.employee_periods),
    ):
        if not counts:
            continue
        moved = [
            index
            for index in range(len(COUNTERS))
            if any(counters[index] for counters in counts.values())
        ]
        if not moved:
            continue
        names = (*key, *(COUNTERS[index] for index in moved))
        rows = [
            dict(zip(names, (*values, *(counters[index] for index in moved)), strict=True))
            for values, counters in sorted(counts.items(), key=lambda item: item[0])
        ]
        adding = _adding(key, names[len(key) :])
        for start in range(0, len(rows), UPSERT_CHUNK):
            bulk_insert(table, rows[start : start + UPSERT_CHUNK], adding)
        if any(counters[POINTS] < 0 for counters in counts.values()):
            # A reversal may have brought a row back to nothing: a rebuild has no such row.
            first = "day" if table in DAILY else "starts_on"
            days = {values[key.index(first)] for values in counts}
            db.session.execute(delete(table).where(among(table.c[first], days), *_nothing(table)))


def _adding(key: Sequence[str], counters: Sequence[str] = COUNTERS):
    def on_conflict(statement):
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: statement.table.c[name] + statement.excluded[name] for name in counters},
        )

    return on_conflict


def _nothing(table: Table) -> list:
    return [table.c[name] == 0 for name in COUNTERS]


def count_share_clicks(per_share: dict[int, int]) -> None:
    """Add counted clicks to their shares' ``counted_clicks`` (in id order, as every
    writer locks them)."""
    if per_share:
        db.session.execute(
            update(Share.__table__)
            .where(Share.__table__.c.id == bindparam("share"))
            .values(counted_clicks=Share.__table__.c.counted_clicks + bindparam("more")),
            [{"share": share, "more": more} for share, more in sorted(per_share.items())],
        )


def count_share(share: Share) -> None:
    tally = new_tally()
    tally.share(share_facts(share))
    count(tally)


LinePoints = tuple[int, int | None, int, datetime, int | None, str | None]


def count_lines(lines: Sequence[LinePoints], complete: bool = True) -> None:
    """The points of ledger lines just written, each as (employee, team, points, when,
    content item, channel), the last two None for a line about no content item.
    ``complete`` False: the insert skipped some of them, which were there already and
    must not count twice, and knows only how many (never expected: a scoring run writes
    the lines of the events it claimed); the days from the earliest on are then
    counted anew."""
    if not lines:
        return
    tally = new_tally()
    if not complete:
        log.warning("ledger lines skipped on insert: rollups counted anew from their days")
        recount(since=min(local_day(line[3], tally.zone) for line in lines))
        return
    for employee_id, team_id, points, at, content_id, channel in lines:
        tally.points(employee_id, team_id, points, at, content_id, channel)
    count(tally)


# A deleted team --------------------------------------------------------------------


def forget_team(team_id: int) -> None:
    """Before a team is deleted: its members have left it (flushed here, so their
    spells follow), the raw rows that recorded it are left without a team (as
    PostgreSQL's foreign keys would do; SQLite does not enforce them), and its figures
    join those of no team."""
    db.session.flush()
    for model in (Share, Event, LedgerLine, ParticipationSpell):
        db.session.execute(
            update(model)
            .where(model.team_id == team_id)
            .values(team_id=None)
            .execution_options(synchronize_session=False)
        )
    for table, key in (
        (CONTENT, CONTENT_KEY),
        (EMPLOYEES, EMPLOYEE_KEY),
        (TEAMS, TEAM_KEY),
        (EMPLOYEE_PERIODS, EMPLOYEE_PERIOD_KEY),
    ):
        names = [*key, *COUNTERS]
        moved = select(
            *[literal_column(str(NO_TEAM)) if n == "team_id" else table.c[n] for n in names]
        ).where(table.c.team_id == team_id)
        db.session.execute(_adding(key)(insert(table).from_select(names, moved)))
        db.session.execute(delete(table).where(table.c.team_id == team_id))
    headcounts.forget_team(team_id)


# Rebuilding them -------------------------------------------------------------------


def rebuild_later() -> None:
    """Queue a rebuild (the company's calendar changed: every local day moves)."""
    enqueue(
        "app.jobs.rebuild_rollups",
        job_id=f"rebuild-rollups-{time.time_ns()}",
        queue_name="scoring",
        timeout=REBUILD_TIMEOUT,
        retries=0,
    )


def rebuild(since: date | None = None, now: datetime | None = None) -> dict[str, int]:
    """Recompute the rollups from the raw rows (the days from ``since`` on, or all),
    and the kept headcounts from the spells, in the caller's transaction; returns the
    rows written per rollup table and the periods whose headcount was kept
    (``headcounts``). Writers that count meanwhile wait for its commit
    (PostgreSQL: a table lock; SQLite: its one writer)."""
    written = recount(since)
    written["headcounts"] = headcounts.rebuild_headcounts(since, now)
    return written


def recount(since: date | None = None) -> dict[str, int]:
    """``rebuild``'s part for the rollups."""
    if on_postgresql():
        tables = ", ".join(table.name for table in (*DAILY, *PERIODS))
        db.session.execute(text(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE"))
    zone, _week_start = company_calendar()
    start = None if since is None else day_start(since, zone)
    for table in DAILY:
        forget = delete(table)
        db.session.execute(forget if since is None else forget.where(table.c.day >= since))
    earliest, latest = _span(start)
    if earliest is None:
        for table in PERIODS:
            db.session.execute(delete(table))
        return {table.name: 0 for table in (*DAILY, *PERIODS)}
    shares, clicks = Share.__table__, ClickRecord.__table__
    referrals, lines = Referral.__table__, LedgerLine.__table__

    def since_(column) -> list:
        return [] if start is None else [column >= start]

    counted = (
        select(func.count())
        .where(clicks.c.share_id == shares.c.id, among(clicks.c.kind, COUNTED_CLICKS))
        .scalar_subquery()
    )
    db.session.execute(
        update(shares).where(*since_(shares.c.created_at)).values(counted_clicks=counted)
    )
    everything = Raw(
        shares=since_(shares.c.created_at),
        clicks=since_(clicks.c.occurred_at),
        clicks_on_shares=since_(shares.c.created_at),
        stages=since_(referrals.c.occurred_at),
        lines=since_(lines.c.occurred_at),
    )
    written = _count_in_sql(everything, (earliest, latest))
    written[TEAMS.name] = _sum_teams(since)
    written.update(_sum_periods(since))
    return written


def _sum_periods(since: date | None) -> dict[str, int]:
    """The week and month rollups from the daily ones (those of the periods holding
    ``since`` on, whose days before ``since`` the daily rollups still hold)."""
    _zone, week_start = company_calendar()
    written = dict.fromkeys((table.name for table in PERIODS), 0)
    for period in KEPT_PERIODS:
        first = None if since is None else period_start(period, since, week_start)
        for table, daily, key in (
            (CONTENT_PERIODS, CONTENT, ("content_id", "channel")),
            (EMPLOYEE_PERIODS, EMPLOYEES, ("employee_id", "team_id")),
        ):
            forget = delete(table).where(table.c.period == period)
            if first is not None:
                forget = forget.where(table.c.starts_on >= first)
            db.session.execute(forget)
            starts = period_start_of(daily.c.day, period.value, week_start)
            groups = [starts, *[daily.c[name] for name in key]]
            grouped = (
                select(
                    literal(period.value).label("period"),
                    *groups,
                    *[func.sum(daily.c[name]) for name in COUNTERS],
                )
                .where(*([] if first is None else [daily.c.day >= first]))
                .group_by(*groups)
                .having(or_(*[func.sum(daily.c[name]) != 0 for name in COUNTERS]))
            )
            names = ["period", "starts_on", *key, *COUNTERS]
            statement = table.insert().from_select(names, grouped)
            result = db.session.execute(statement.execution_options(preserve_rowcount=True))
            written[table.name] += result.rowcount
    return written


def _sum_teams(since: date | None) -> int:
    """The team rollup from the people's (of the days from ``since`` on), as the
    writers keep it: every counter a person's row holds, added to their team's day."""
    groups = [EMPLOYEES.c.day, EMPLOYEES.c.team_id]
    grouped = (
        select(*groups, *[func.sum(EMPLOYEES.c[name]) for name in COUNTERS])
        .where(*([] if since is None else [EMPLOYEES.c.day >= since]))
        .group_by(*groups)
        .having(or_(*[func.sum(EMPLOYEES.c[name]) != 0 for name in COUNTERS]))
    )
    statement = TEAMS.insert().from_select([*TEAM_KEY, *COUNTERS], grouped)
    return db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


@dataclass(frozen=True)
class Raw:
    """Which raw rows to count, by kind: the conditions they meet (empty: all of
    them), or None to count none of that kind."""

    shares: list | None = None
    clicks: list | None = None  # counted clicks, on the day received
    clicks_on_shares: list | None = None  # counted clicks, on the day of their share
    stages: list | None = None
    lines: list | None = None


def _count_in_sql(raw: Raw, span: tuple[datetime, datetime]) -> dict:
    """Count ``raw`` into both rollups' emptied days, grouped in SQL, the local day
    worked out from the zone's offsets over ``span`` (the first and last instant the
    rows hold). Returns the rows written per table."""
    zone, _week_start = company_calendar()
    offsets = utc_offsets(zone, span[0], span[1] + timedelta(days=1))
    written = {}
    for table, key, by_content in ((CONTENT, CONTENT_KEY, True), (EMPLOYEES, EMPLOYEE_KEY, False)):
        sources = _sources(by_content, raw, lambda column: local_date(column, offsets))
        everything = (sources[0] if len(sources) == 1 else union_all(*sources)).subquery()
        groups = [everything.c[name] for name in key]
        totals = [func.sum(everything.c[name]).label(name) for name in COUNTERS]
        grouped = (
            select(*groups, *totals)
            .group_by(*groups)
            .having(or_(*[func.sum(everything.c[name]) != 0 for name in COUNTERS]))
        )
        statement = table.insert().from_select([*key, *COUNTERS], grouped)
        result = db.session.execute(statement.execution_options(preserve_rowcount=True))
        written[table.name] = result.rowcount
    return written


def _span(start: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The first and last instants the raw rows hold (from ``start`` on)."""
    columns = (
        Share.created_at,
        ClickRecord.occurred_at,
        Referral.occurred_at,
        LedgerLine.occurred_at,
    )
    bounds = [
        db.session.execute(select(func.min(column), func.max(column))).one() for column in columns
    ]
    firsts = [first for first, _ in bounds if first is not None]
    lasts = [last for _, last in bounds if last is not None]
    if not firsts:
        return None, None
    earliest = min(firsts) if start is None else start
    return earliest, max(max(lasts), earliest, utcnow())


def _sources(by_content: bool, raw: Raw, day_of) -> list:
    """One SELECT per way a raw row counts (of the kinds ``raw`` names), each row: the
    day, the key's dimensions, the team, and the counters it adds (``COUNTERS``
    order)."""
    shares, clicks, referrals = Share.__table__, ClickRecord.__table__, Referral.__table__
    lines, events = LedgerLine.__table__, Event.__table__
    one, zero = literal_column("1"), literal_column("0")

    def row(day, dimensions, team, **counted) -> list:
        names = ("content_id", "channel") if by_content else ("employee_id",)
        return [
            day.label("day"),
            *[value.label(name) for name, value in zip(names, dimensions, strict=True)],
            func.coalesce(team, literal_column(str(NO_TEAM))).label("team_id"),
            *[counted.get(name, zero).label(name) for name in COUNTERS],
        ]

    sharer = [shares.c.content_id, shares.c.channel] if by_content else [shares.c.employee_id]
    counted_clicks = clicks.join(shares, shares.c.id == clicks.c.share_id)
    human = among(clicks.c.kind, COUNTED_CLICKS)
    stages = {
        name: case((referrals.c.stage == stage, one), else_=zero)
        for stage, name in STAGE_COUNTERS.items()
    }
    sources = []
    if raw.shares is not None:  # shares made that day, and their sharers' audiences
        reach = func.coalesce(shares.c.audience, zero)
        sources.append(
            select(
                *row(day_of(shares.c.created_at), sharer, shares.c.team_id, shares=one, reach=reach)
            ).where(*raw.shares)
        )
    if raw.clicks is not None:  # counted clicks received that day
        sources.append(
            select(*row(day_of(clicks.c.occurred_at), sharer, shares.c.team_id, clicks=one))
            .select_from(counted_clicks)
            .where(human, *raw.clicks)
        )
    if raw.clicks_on_shares is not None:  # counted clicks on that day's shares, whenever
        sources.append(
            select(
                *row(day_of(shares.c.created_at), sharer, shares.c.team_id, clicks_on_shares=one)
            )
            .select_from(counted_clicks)
            .where(human, *raw.clicks_on_shares)
        )
    if raw.stages is not None:  # attributed referral stages reached that day
        sources.append(
            select(*row(day_of(referrals.c.occurred_at), sharer, shares.c.team_id, **stages))
            .select_from(referrals.join(shares, shares.c.id == referrals.c.share_id))
            .where(referrals.c.outcome == ReferralOutcome.AWARDED, *raw.stages)
        )
    if raw.lines is not None and by_content:  # lines of events about a content item
        sources.append(
            select(
                *row(
                    day_of(lines.c.occurred_at),
                    [events.c.content_id, events.c.channel],
                    lines.c.team_id,
                    points=lines.c.points,
                )
            )
            .select_from(lines.join(events, events.c.id == lines.c.event_id))
            .where(
                events.c.content_id.is_not(None),
                events.c.channel.is_not(None),
                lines.c.points != 0,
                *raw.lines,
            )
        )
    elif raw.lines is not None:  # every line of a person's
        sources.append(
            select(
                *row(
                    day_of(lines.c.occurred_at),
                    [lines.c.employee_id],
                    lines.c.team_id,
                    points=lines.c.points,
                )
            ).where(lines.c.points != 0, *raw.lines)
        )
    return sources
