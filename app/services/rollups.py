"""The analytics rollups: counters per company-local day, per (content item, channel,
team) and per (employee, team), and per week and month, per (person, tag) and
(interest, tag); kept in the transactions that write the raw rows they count, and
rebuilt from those rows at will.

Whoever writes shares, counted clicks, attributed referral stages or ledger lines adds
them to a ``scoring.analytics.Tally`` and hands it to ``count``, in the same
transaction: one upsert per rollup table for the whole batch, adding to what is there
(``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``), one row per distinct
key, in key order so that concurrent writers lock rows in the same order (the content
rollup first). The batch's rows are counted from what the writer holds, never read
back. ``rebuild`` recomputes everything from the raw rows with one ``INSERT ... SELECT
... GROUP BY`` per table, local days worked out in SQL from the zone's offsets, rows
written in key order (a day's or a month's rows then lie on a few hundred pages
together rather than on one page each, which is what a read from disk costs). A row
whose counters are all zero says nothing: neither way keeps one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value

from app.db import among, bulk_insert, insert, local_date, on_postgresql, period_start_of
from app.extensions import db
from app.models import (
    ClickKind,
    ClickRecord,
    ContentTag,
    Employee,
    Event,
    LedgerLine,
    ParticipationSpell,
    Referral,
    ReferralOutcome,
    RollupContentDaily,
    RollupContentPeriod,
    RollupEmployeeDaily,
    RollupEmployeePeriod,
    RollupInterestPeriod,
    RollupInterestTag,
    RollupPersonPeriod,
    RollupSharerTag,
    RollupTeamDaily,
    Share,
    content_interests,
    employee_interests,
    utcnow,
)
from app.queue import enqueue
from app.services import headcounts
from app.services.calendar import company_calendar
from scoring.analytics import (
    COUNTERS,
    INTEREST_PERIODS,
    KEPT_PERIODS,
    NO_TEAM,
    POINTS,
    STAGE_COUNTERS,
    TAG_COUNTERS,
    Period,
    ShareFacts,
    SharerItemKey,
    Tally,
    day_start,
    interests_key,
    local_day,
    per_interest,
    period_start,
    person_period_counts,
    sharer_tag_counts,
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
RETURNING_CHUNK = 500  # rows per upsert that returns what it made


@dataclass(frozen=True)
class ByInterest:
    """A rollup of people's rows per week and month (``people``, keyed by period, first
    day, person and ``dimensions``) and their sums per interest the people have chosen
    now (``cells``: the interest in the person's place), with ``counted``: how many
    people with shares in the period a cell sums (sharers of a tag, active advocates)."""

    people: Table
    cells: Table
    dimensions: tuple[str, ...]
    counters: tuple[str, ...]
    counted: str

    @property
    def key(self) -> tuple[str, ...]:
        return ("period", "starts_on", "employee_id", *self.dimensions)

    @property
    def cell_key(self) -> tuple[str, ...]:
        return ("period", "starts_on", "interest_id", *self.dimensions)


TAGS = ByInterest(
    RollupSharerTag.__table__, RollupInterestTag.__table__, ("tag",), TAG_COUNTERS, "sharers"
)
PEOPLE = ByInterest(
    RollupPersonPeriod.__table__, RollupInterestPeriod.__table__, (), COUNTERS, "active"
)
BY_INTEREST = (PEOPLE, TAGS)
BY_INTEREST_TABLES = tuple(table for kind in BY_INTEREST for table in (kind.people, kind.cells))
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
        _bulk_add(table, rows, _adding(key, names[len(key) :]))
        if any(counters[POINTS] < 0 for counters in counts.values()):
            # A reversal may have brought a row back to nothing: a rebuild has no such row.
            first = "day" if table in DAILY else "starts_on"
            days = {values[key.index(first)] for values in counts}
            db.session.execute(delete(table).where(among(table.c[first], days), *_nothing(table)))
    people = person_period_counts(tally.employees, tally.employee_periods)  # everyone counted
    # The people's rows first, then the items' tags and the people's interests read: a
    # change of those waits for a transaction that wrote people's rows (``_hold_people``),
    # so what is read here is what it moves the rows out of, or already what it moved
    # them into.
    people_moved, people_new = _add_to_people(PEOPLE, people)
    sharer_tags = _sharer_tags(tally.sharer_items)
    tags_moved, tags_new = _add_to_people(TAGS, sharer_tags)
    interests = _pairs(
        employee_interests.c.employee_id, employee_interests.c.interest_id, people, 2
    )
    _add_to_cells(PEOPLE, people, people_moved, people_new, interests)
    _add_to_cells(TAGS, sharer_tags, tags_moved, tags_new, interests)


def _sharer_tags(sharer_items: dict[SharerItemKey, list[int]]) -> dict:
    """Sharers' counts per tag of the items (the tags they have now)."""
    if not sharer_items:
        return {}
    tags = _pairs(ContentTag.__table__.c.content_id, ContentTag.__table__.c.tag, sharer_items, 3)
    return sharer_tag_counts(sharer_items, tags)


def _add_to_people(kind: ByInterest, counts: dict) -> tuple[list[int], list]:
    """Add people's counts to their rows; returns the counters moved and the keys of the
    rows that gained their first shares (the upsert says so, so two shares at once
    cannot both count as first)."""
    moved = [
        index
        for index in range(len(kind.counters))
        if any(values[index] for values in counts.values())
    ]
    if not moved:
        return moved, []
    names = (*kind.key, *(kind.counters[index] for index in moved))
    rows = [
        dict(zip(names, (*key, *(values[index] for index in moved)), strict=True))
        for key, values in sorted(counts.items())
    ]
    return moved, _upsert_learning_new(kind.people, kind.key, names[len(kind.key) :], rows)


def _add_to_cells(
    kind: ByInterest, counts: dict, moved: list[int], new: list, interests: dict[int, list]
) -> None:
    """Add people's counts (those ``moved``) to the cells of the interests they have
    chosen now (``interests``, by person), with one more person counted where their row
    is ``new``."""
    if not moved:
        return
    counters = tuple(kind.counters[index] for index in moved)
    names = (*kind.cell_key, *counters, kind.counted)
    cells = [
        dict(zip(names, (*key, *(values[index] for index in moved), values[-1]), strict=True))
        for key, values in sorted(per_interest(counts, interests, new).items())
    ]
    _bulk_add(kind.cells, cells, _adding(kind.cell_key, names[len(kind.cell_key) :]))
    if "points" in counters and any(values[POINTS] < 0 for values in counts.values()):
        starts = {key[1] for key in counts}  # a reversal may have brought rows to nothing
        for table in (kind.people, kind.cells):
            db.session.execute(
                delete(table).where(among(table.c.starts_on, starts), *_nothing(table))
            )


def _upsert_learning_new(table: Table, key: Sequence[str], counters: Sequence[str], rows) -> list:
    """Add rows' counters to ``table``; returns the keys of the rows that gained their
    first shares (the upsert returns a row's shares after it: as many as were added)."""
    adding = _adding(key, counters)
    if "shares" not in counters:
        _bulk_add(table, rows, adding)
        return []
    new = []
    sharing = [row for row in rows if row["shares"]]
    for start in range(0, len(sharing), RETURNING_CHUNK):
        chunk = sharing[start : start + RETURNING_CHUNK]
        statement = adding(insert(table).values(chunk)).returning(
            *[table.c[name] for name in key], table.c.shares
        )
        added = {tuple(row[name] for name in key): row["shares"] for row in chunk}
        for *values, shares in db.session.execute(statement):
            found = (str(values[0]), *values[1:])  # the period, as the tally names it
            if shares == added[found]:
                new.append(found)
    _bulk_add(table, [row for row in rows if not row["shares"]], adding)
    return new


def _bulk_add(table: Table, rows: list, adding) -> None:
    for start in range(0, len(rows), UPSERT_CHUNK):
        bulk_insert(table, rows[start : start + UPSERT_CHUNK], adding)


def _pairs(owner, value, keys, position: int) -> dict[int, list]:
    """``value`` per ``owner`` (an item's tags, a person's interests), for the owners
    at ``position`` in ``keys``."""
    found: dict[int, list] = {}
    owners = {key[position] for key in keys}
    if not owners:
        return found
    for owner_id, item in db.session.execute(select(owner, value).where(among(owner, owners))):
        found.setdefault(owner_id, []).append(item)
    return found


def _adding(key: Sequence[str], counters: Sequence[str] = COUNTERS):
    def on_conflict(statement):
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: statement.table.c[name] + statement.excluded[name] for name in counters},
        )

    return on_conflict


def _nothing(table: Table, counters: Sequence[str] = COUNTERS) -> list:
    return [table.c[name] == 0 for name in counters]


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


# Changed tags and interests --------------------------------------------------------


def retag(content_id: int) -> None:
    """An item's tags changed (flushed here): the tag rollups of everyone who shared it
    are counted anew from their shares."""
    db.session.flush()
    _hold_people()
    sharers = select(Share.employee_id).where(Share.content_id == content_id).distinct()
    theirs = TAGS.people.c.employee_id.in_(sharers)
    _move_into_interests(TAGS, -1, theirs)
    db.session.execute(delete(TAGS.people).where(theirs))
    _fill_sharer_tags(Share.__table__.c.employee_id.in_(sharers))
    _move_into_interests(TAGS, 1, theirs)


def _hold(tables: Sequence[Table], connection=None) -> None:
    """Until this transaction commits, writers that count wait for it, and it waits for
    those already counting (PostgreSQL: a table lock, which readers pass; SQLite has one
    writer)."""
    if on_postgresql():
        names = ", ".join(table.name for table in tables)
        statement = text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        (connection or db.session).execute(statement)


def _hold_people(connection=None) -> None:
    """Hold the people's rollups while people's rows move between interests or tags: a
    writer reads people's interests and items' tags after writing their rows, so it
    either came first (and its counts move too) or reads them as the move left them."""
    _hold([kind.people for kind in BY_INTEREST], connection)


@event.listens_for(FlaskSession, "after_flush")
def _follow_interests(session, _context) -> None:
    """People who chose interests anew (whatever changed them: a page, the API,
    erasure, an import): their rows move out of the interests they dropped and into
    those they took, and their ``interests_key`` is written anew."""
    chose_anew = [
        person
        for person in (*session.new, *session.dirty)
        if isinstance(person, Employee) and inspect(person).attrs.interests.history.has_changes()
    ]
    connection = session.connection() if chose_anew else None
    if any(person not in session.new for person in chose_anew):  # new people have no rows
        _hold_people(connection)
    for person in chose_anew:
        if person in session.new:
            continue
        history = inspect(person).attrs.interests.history
        for interests, sign in ((history.deleted, -1), (history.added, 1)):
            kept = (interest for interest in interests if not inspect(interest).was_deleted)
            for interest_id in sorted(interest.id for interest in kept):
                for kind in BY_INTEREST:
                    _move_into_interests(
                        kind,
                        sign,
                        kind.people.c.employee_id == person.id,
                        interest_id=interest_id,
                        connection=connection,
                    )
    if chose_anew:
        keys = _rekey([person.id for person in chose_anew], connection)
        for person in chose_anew:  # as written, without reading it back
            set_committed_value(person, "interests_key", keys[person.id])


def forget_interest(interest_id: int) -> None:
    """Before an interest is deleted: nobody has chosen it any more and no item is for
    it (as PostgreSQL's foreign keys would do; SQLite does not enforce them), and its
    cells go."""
    db.session.flush()
    _hold_people()
    chose = employee_interests.c.interest_id == interest_id
    people = list(db.session.scalars(select(employee_interests.c.employee_id).where(chose)))
    for table in (employee_interests, content_interests):
        db.session.execute(delete(table).where(table.c.interest_id == interest_id))
    _rekey(people)
    for kind in BY_INTEREST:
        db.session.execute(delete(kind.cells).where(kind.cells.c.interest_id == interest_id))


def _rekey(people: Sequence[int] | None = None, connection=None) -> dict[int, str]:
    """Write ``Employee.interests_key`` anew from the interests chosen: of ``people``,
    or of everyone whose key differs; returns the keys written, by person."""
    execute = (connection or db.session).execute
    chosen = employee_interests.c
    rows = select(chosen.employee_id, chosen.interest_id)
    keys = Employee.__table__.c.interests_key
    if people is None:
        stored = dict(execute(select(Employee.id, keys)).all())
    else:
        stored = dict.fromkeys(people, None)
        rows = rows.where(among(chosen.employee_id, people))
    found: dict[int, list[int]] = {}
    for employee_id, interest_id in execute(rows):
        found.setdefault(employee_id, []).append(interest_id)
    changed = {
        person: key
        for person, old in sorted(stored.items())
        if (key := interests_key(found.get(person, ()))) != old
    }
    if changed:
        execute(
            update(Employee.__table__)
            .where(Employee.__table__.c.id == bindparam("person"))
            .values(interests_key=bindparam("key")),
            [{"person": person, "key": key} for person, key in changed.items()],
        )
    return changed


def _move_into_interests(
    kind: ByInterest, sign: int, *where, interest_id: int | None = None, connection=None
) -> int:
    """Add (``sign`` 1) or take away (-1) the people's rows ``where`` picks in their
    interests' cells: under ``interest_id``, or each interest their people have chosen
    now; returns the cells written. A cell left with nothing goes."""
    rows = kind.people
    dimensions = [rows.c[name] for name in kind.dimensions]
    groups = [rows.c.period, rows.c.starts_on, *dimensions]
    if interest_id is None:
        source = rows.join(
            employee_interests, employee_interests.c.employee_id == rows.c.employee_id
        )
        interest = employee_interests.c.interest_id
        groups.append(interest)
    else:
        source, interest = rows, literal(interest_id)
    sums = [func.sum(rows.c[name]) * sign for name in kind.counters]
    counted = func.sum(case((rows.c.shares > 0, 1), else_=0)) * sign
    grouped = (
        select(rows.c.period, rows.c.starts_on, interest, *dimensions, *sums, counted)
        .select_from(source)
        .where(*where)
        .group_by(*groups)
        .having(or_(*[total != 0 for total in sums], counted != 0))
        .order_by(*groups)
    )
    names = [*kind.cell_key, *kind.counters, kind.counted]
    execute = (connection or db.session).execute
    statement = _adding(kind.cell_key, names[len(kind.cell_key) :])(
        insert(kind.cells).from_select(names, grouped)
    )
    written = execute(statement.execution_options(preserve_rowcount=True)).rowcount
    if sign < 0:
        execute(delete(kind.cells).where(*_nothing(kind.cells, names[len(kind.cell_key) :])))
    return written


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
    _hold((*DAILY, *PERIODS, *BY_INTEREST_TABLES))
    _rekey()
    zone, _week_start = company_calendar()
    start = None if since is None else day_start(since, zone)
    for table in DAILY:
        forget = delete(table)
        db.session.execute(forget if since is None else forget.where(table.c.day >= since))
    earliest, latest = _span(start)
    if earliest is None:
        for table in (*PERIODS, *BY_INTEREST_TABLES):
            db.session.execute(delete(table))
        return {table.name: 0 for table in (*DAILY, *PERIODS, *BY_INTEREST_TABLES)}
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
    written.update(_recount_by_interest(since))
    return written


def _recount_by_interest(since: date | None) -> dict[str, int]:
    """The people's and the interests' rollups of the periods holding ``since`` on (or
    all): the people's rows from the shares (by tag) and from the people's weekly and
    monthly rollups (over teams), the interests' from those."""
    _zone, week_start = company_calendar()

    def from_since(table) -> list:
        if since is None:
            return []
        starts = [
            and_(
                table.c.period == period,
                table.c.starts_on >= period_start(period, since, week_start),
            )
            for period in INTEREST_PERIODS
        ]
        return [or_(*starts)]

    for table in BY_INTEREST_TABLES:
        db.session.execute(delete(table).where(*from_since(table)))
    written = {
        TAGS.people.name: _fill_sharer_tags(since=since),
        PEOPLE.people.name: _fill_person_periods(since, from_since(EMPLOYEE_PERIODS)),
    }
    for kind in BY_INTEREST:
        written[kind.cells.name] = _move_into_interests(kind, 1, *from_since(kind.people))
    return written


def _fill_person_periods(since: date | None, where: list) -> int:
    """Insert the people's rows, summed over teams: of the days from ``since`` on (or
    all), from the daily rollup, and of the weeks and months ``where`` picks."""
    days = [EMPLOYEES.c.day, EMPLOYEES.c.employee_id]
    periods = [EMPLOYEE_PERIODS.c[name] for name in PEOPLE.key]
    written = 0
    for table, period, groups, conditions in (
        (EMPLOYEES, [literal(Period.DAY.value)], days, _since_day(EMPLOYEES, since)),
        (EMPLOYEE_PERIODS, [], periods, where),
    ):
        sums = [func.sum(table.c[name]) for name in COUNTERS]
        grouped = (
            select(*period, *groups, *sums)
            .where(*conditions)
            .group_by(*groups)
            .having(or_(*[total != 0 for total in sums]))
            .order_by(*groups)
        )
        statement = PEOPLE.people.insert().from_select([*PEOPLE.key, *COUNTERS], grouped)
        result = db.session.execute(statement.execution_options(preserve_rowcount=True))
        written += result.rowcount
    return written


def _fill_sharer_tags(*where, since: date | None = None) -> int:
    """Insert the sharers' rows counted from the shares ``where`` picks (made in the
    periods holding ``since`` on, or ever), by the tags their items have now; returns
    the rows written."""
    zone, week_start = company_calendar()
    first_day = None
    if since is not None:  # the local days of the shares from the earliest period's on
        first = min(period_start(period, since, week_start) for period in INTEREST_PERIODS)
        first_day = day_start(first, zone)
    earliest, latest = _span(first_day)
    if earliest is None:
        return 0
    offsets = utc_offsets(zone, earliest, latest + timedelta(days=1))
    shares, tags = Share.__table__, ContentTag.__table__
    day = local_date(shares.c.created_at, offsets)
    written = 0
    for period in INTEREST_PERIODS:
        after = []
        if since is not None:
            first = period_start(period, since, week_start)
            after = [shares.c.created_at >= day_start(first, zone)]
        each = (
            select(
                period_start_of(day, period.value, week_start).label("starts_on"),
                shares.c.employee_id,
                tags.c.tag,
                shares.c.counted_clicks,
            )
            .select_from(shares.join(tags, tags.c.content_id == shares.c.content_id))
            .where(*where, *after)
            .subquery()
        )
        groups = [each.c.starts_on, each.c.employee_id, each.c.tag]
        grouped = (
            select(literal(period.value), *groups, func.count(), func.sum(each.c.counted_clicks))
            .group_by(*groups)
            .order_by(*groups)
        )
        statement = TAGS.people.insert().from_select([*TAGS.key, *TAG_COUNTERS], grouped)
        result = db.session.execute(statement.execution_options(preserve_rowcount=True))
        written += result.rowcount
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
                .where(*_since_day(daily, first))
                .group_by(*groups)
                .having(or_(*[func.sum(daily.c[name]) != 0 for name in COUNTERS]))
                .order_by(*groups)
            )
            names = ["period", "starts_on", *key, *COUNTERS]
            statement = table.insert().from_select(names, grouped)
            result = db.session.execute(statement.execution_options(preserve_rowcount=True))
            written[table.name] += result.rowcount
    return written


def _since_day(table: Table, since: date | None) -> list:
    """A daily rollup's days from ``since`` on (None: all of them)."""
    return [] if since is None else [table.c.day >= since]


def _sum_teams(since: date | None) -> int:
    """The team rollup from the people's (of the days from ``since`` on), as the
    writers keep it: every counter a person's row holds, added to their team's day."""
    groups = [EMPLOYEES.c.day, EMPLOYEES.c.team_id]
    grouped = (
        select(*groups, *[func.sum(EMPLOYEES.c[name]) for name in COUNTERS])
        .where(*_since_day(EMPLOYEES, since))
        .group_by(*groups)
        .having(or_(*[func.sum(EMPLOYEES.c[name]) != 0 for name in COUNTERS]))
        .order_by(*groups)
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
            .order_by(*groups)
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
