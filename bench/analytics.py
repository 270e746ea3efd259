"""Benchmark of the analytics dashboard: its figures from the rollups against the same
figures by GROUP BY over the raw rows, on PostgreSQL.

Builds a throwaway PostgreSQL database (migrated like production) with a year of a
company's history, written by server-side SQL (``INSERT ... SELECT ... FROM
generate_series``, skewed with random()): 20,000 opted-in employees in 50 teams, each
with a participation spell from a year ago, 30 interests (each person picks 0-3), 2,000
tagged content items, 1,000,000 shares over the last 365 days (skewed towards some
people and items), 10,000,000 click records on them (a few percent bots and the
sharers' own clicks), a few thousand referral stages, and the events and ledger lines
that scored them (every share and awarded stage, and one click record in ten of the
counted ones: about a million). Big tables are loaded without their secondary indexes
and foreign keys, put back afterwards. The rollups are then filled by the
application's own ``app.services.rollups.rebuild``.

Then, round by round and interleaved (the machine is shared), for a set of selections
(month, week and day, different starts within the year, company-wide and a team lead's
view of one team) it times ``app.services.analytics.dashboard(selection)`` against the
same families of figures worked out by GROUP BY over shares, click records, referrals
and ledger lines (local days as ``rollups.rebuild`` works them out): the time series of
the last 12 months / 13 weeks / 31 days, the period by content item, network and team,
the top advocates, by persona and persona x tag. The two are checked to agree (any
difference fails the run). The last line is JSON: {"p95_ms": ..., "raw_p95_ms": ...,
"speedup": ..., "clicks": ...}; docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# Run as a script, this directory comes first on the path, and bench/scoring.py would
# shadow the ``scoring`` package: look modules up from the repository root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.support import (  # noqa: E402
    PG_SERVER_URL,
    machine,
    median,
    percentile,
    postgres_reachable,
    production_env,
    start_redis,
    throwaway_postgres,
)

P95_TARGET_MS = 200.0
SPEEDUP_TARGET = 20.0
CHANNELS = (  # share of shares, cumulative
    ("linkedin", 0.50),
    ("x", 0.65),
    ("facebook", 0.75),
    ("xing", 0.85),
    ("instagram", 0.90),
    ("email", 1.0),
)
TAGS = 40  # distinct content tags
TOP_ADVOCATES = 10
# How many periods the time series shows, ending with the selected one.
SERIES = {"month": 12, "week": 13, "day": 31}


def log(message: str, began: float | None = None) -> None:
    suffix = "" if began is None else f" ({time.perf_counter() - began:.1f} s)"
    print(f"{message}{suffix}", flush=True)


# Building the company ----------------------------------------------------------------


def sql(statement: str, **params) -> int:
    """Run one statement in the session's transaction; returns its row count."""
    from sqlalchemy import text

    from app.extensions import db

    result = db.session.execute(text(statement).execution_options(preserve_rowcount=True), params)
    return result.rowcount


@contextmanager
def without_indexes(table: str) -> Iterator[None]:
    """Load a big table without its foreign keys, unique constraints and secondary
    indexes, and put them back afterwards (one sort per index instead of 10M random
    insertions; one join per foreign key instead of 10M look-ups). The schema is the
    same afterwards."""
    from sqlalchemy import text

    from app.extensions import db

    constraints = db.session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('f', 'u') ORDER BY conname"
        ),
        {"t": table},
    ).all()
    indexes = db.session.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :t "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
            "ORDER BY i.indexname"
        ),
        {"t": table},
    ).all()
    for name, _ in constraints:
        sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        sql(f'DROP INDEX "{name}"')
    yield
    for _, definition in indexes:
        sql(definition)
    for name, definition in constraints:
        sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def build(options, now: datetime) -> dict[str, float]:
    """Schema and a year of history; returns seconds per step."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import ContentItem, ContentStatus, Employee, Interest, Team
    from app.services.people import company_settings
    from app.services.rules import install_default_rules
    from app.services.single_row import stored_single_row
    from scoring.names import name_key

    seconds: dict[str, float] = {}
    rng = random.Random(options.seed)
    began = time.perf_counter()
    upgrade()
    stored_single_row(company_settings())
    year_ago = now - timedelta(days=options.days)
    install_default_rules(None, effective_at=year_ago - timedelta(days=2))
    db.session.flush()
    sql("SET LOCAL work_mem = '256MB'")
    sql("SET LOCAL maintenance_work_mem = '512MB'")
    sql("SELECT setseed(:seed)", seed=(options.seed % 1000) / 1000)

    # People, teams, interests, content: small, written from Python.
    names = [f"Team {i}" for i in range(options.teams)]
    db.session.execute(insert(Team), [{"name": n, "name_key": name_key(n)} for n in names])
    team_ids = list(db.session.scalars(select(Team.id).order_by(Team.id)))
    team_weights = [1 / (rank + 1) ** 0.6 for rank in range(len(team_ids))]
    interests = [f"Interest {i}" for i in range(options.interests)]
    db.session.execute(insert(Interest), [{"name": n, "name_key": name_key(n)} for n in interests])
    db.session.execute(
        insert(Employee),
        [
            {
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "team_id": team,
                "opted_in_at": year_ago - timedelta(days=1, seconds=rng.randrange(86400)),
                "presence": "hidden" if rng.random() < 0.03 else "named",
                "created_at": year_ago - timedelta(days=30),
            }
            for i, team in enumerate(
                rng.choices(team_ids, weights=team_weights, k=options.employees)
            )
        ],
    )
    db.session.execute(
        insert(ContentItem),
        [
            {
                "title": f"Story {i}",
                "destination_url": f"https://www.example.com/stories/{i}",
                "status": ContentStatus.PUBLISHED,
                "published_at": year_ago - timedelta(days=1),
                "created_at": year_ago - timedelta(days=2),
            }
            for i in range(options.items)
        ],
    )
    # A spell each from the opt-in, as the flush hook writes it for a person opting in.
    sql(
        "INSERT INTO participation_spells (employee_id, team_id, started_at) "
        "SELECT id, team_id, opted_in_at FROM employees"
    )
    # 0-3 interests each, 1-3 tags and 0-2 interests per item (distinct by construction).
    sql(
        "INSERT INTO employee_interests (employee_id, interest_id) "
        "SELECT e.id, i.first + (e.id * 7 + k * 11) % :n "
        "FROM employees e, (SELECT min(id) AS first FROM interests) i, "
        "LATERAL generate_series(1, (e.id * 2654435761) % 4) k",
        n=options.interests,
    )
    sql(
        "INSERT INTO content_tags (content_id, tag) "
        "SELECT c.id, 'tag' || ((c.id * 7 + k * 13) % :n) "
        "FROM content_items c, LATERAL generate_series(0, c.id % 3) k",
        n=TAGS,
    )
    sql(
        "INSERT INTO content_interests (content_id, interest_id) "
        "SELECT c.id, i.first + (c.id * 5 + k * 7) % :n "
        "FROM content_items c, (SELECT min(id) AS first FROM interests) i, "
        "LATERAL generate_series(1, c.id % 3) k",
        n=options.interests,
    )
    db.session.commit()
    seconds["people_and_content"] = time.perf_counter() - began
    log(
        f"{options.employees:,} employees in {options.teams} teams, {options.items:,} items, "
        f"{options.interests} interests",
        began,
    )

    began = time.perf_counter()
    sql("SET LOCAL work_mem = '256MB'")
    sql("SET LOCAL maintenance_work_mem = '512MB'")
    channel = " ".join(f"WHEN ch < {cut} THEN '{name}'" for name, cut in CHANNELS)
    with without_indexes("shares"):
        # Skewed: power(random(), k) favours the first people and items; the first
        # people share most. Shares are written in time order, as they come.
        written = sql(
            f"""
            INSERT INTO shares (employee_id, content_id, channel, text, own_words, ref_code,
                                team_id, created_at, audience)
            SELECT p.id, i.id, picks.channel, 'Worth a read #employee', picks.own,
                   'b' || picks.g, p.team_id, picks.at,
                   CASE WHEN picks.channel = 'email' OR picks.undeclared THEN NULL
                        ELSE 80 + abs(hashtext(p.id || picks.channel)) % 2500 END
            FROM (
                SELECT g,
                       floor(:employees * power(random(), 2.2))::int AS person,
                       floor(:items * power(random(), 2.0))::int AS item,
                       CASE {channel} END AS channel,
                       random() < 0.2 AS own,
                       random() < 0.1 AS undeclared,
                       CAST(:now AS timestamptz)
                         - make_interval(secs => :span * power(random(), 1.15)) AS at
                FROM (SELECT g, random() AS ch FROM generate_series(1, :shares) g) raw
            ) picks
            JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, team_id
                  FROM employees) p ON p.n = picks.person
            JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id
                  FROM content_items) i ON i.n = picks.item
            ORDER BY picks.at
            """,  # noqa: S608 - the CASE is made of fixed names
            employees=options.employees,
            items=options.items,
            shares=options.shares,
            now=now,
            span=options.days * 86400,
        )
    db.session.commit()
    seconds["shares"] = time.perf_counter() - began
    log(f"{written:,} shares", began)

    began = time.perf_counter()
    sql("SET LOCAL work_mem = '256MB'")
    sql("SET LOCAL maintenance_work_mem = '1GB'")
    # Clicks per share: heavy-tailed weights (a few shares draw thousands), rounded at
    # random so that the total is about what was asked; then LIMIT.
    sql(
        "CREATE TEMP TABLE share_weights ON COMMIT DROP AS "
        "SELECT id, created_at, 1 / sqrt(1 - random() * 0.999999) AS w FROM shares"
    )
    with without_indexes("click_records"):
        written = sql(
            """
            INSERT INTO click_records (share_id, visitor, day, kind, occurred_at, user_agent)
            SELECT id, visitor, CAST(timezone('UTC', at) AS date), kind, at,
                   CASE WHEN kind = 'bot' THEN 'LinkedInBot/1.0 (compatible; Mozilla/5.0)' END
            FROM (
                SELECT s.id, md5(s.id || ':' || k) AS visitor,
                       CASE WHEN s.created_at + delay < :now THEN s.created_at + delay
                            ELSE s.created_at + (:now - s.created_at) * random() END AS at,
                       CASE WHEN r < 0.035 THEN 'bot' WHEN r < 0.05 THEN 'self'
                            ELSE 'human' END AS kind
                FROM (SELECT id, created_at,
                             floor(w * :clicks * 1.002 / (SELECT sum(w) FROM share_weights)
                                   + random())::int AS n
                      FROM share_weights ORDER BY id) s,
                     LATERAL (SELECT k, random() AS r,
                                     make_interval(secs => -ln(1 - random()) * 129600) AS delay
                              FROM generate_series(1, s.n) k) c
                LIMIT :clicks
            ) clicks
            """,
            clicks=options.clicks,
            now=now,
        )
        db.session.commit()  # the constraints are put back in a transaction of their own
        sql("SET LOCAL maintenance_work_mem = '1GB'")
    db.session.commit()
    seconds["clicks"] = time.perf_counter() - began
    log(f"{written:,} click records", began)

    began = time.perf_counter()
    written = build_scoring(options, now)
    db.session.commit()
    seconds["referrals_events_lines"] = time.perf_counter() - began
    log(
        f"{written['referrals']:,} referral stages, {written['events']:,} events, "
        f"{written['lines']:,} ledger lines",
        began,
    )
    return seconds


def build_scoring(options, now: datetime) -> dict[str, int]:
    """Referral stages, and the events and award lines that scored shares, a share of
    the counted clicks and the awarded stages, as ``scoring.score_pending_events``
    writes them (scored, applied to the boards); a few adjustments."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import RuleVersion

    sql("SET LOCAL work_mem = '256MB'")
    sql("SET LOCAL maintenance_work_mem = '512MB'")
    versions = dict(db.session.execute(select(RuleVersion.event_kind, RuleVersion.id)).all())
    # Candidates apply through shares; a third get an interview, a tenth are hired.
    referrals = sql(
        """
        CREATE TEMP TABLE candidates ON COMMIT DROP AS
        SELECT row_number() OVER () AS c, s.id AS share_id, s.ref_code, s.created_at
        FROM shares s TABLESAMPLE BERNOULLI (:percent) REPEATABLE (7)
        LIMIT :referrals
        """,
        percent=min(100.0, 100.0 * options.referrals * 1.5 / max(1, options.shares)),
        referrals=options.referrals,
    )
    referrals = sql(
        """
        INSERT INTO referrals (candidate_hash, stage, ref_code, share_id, outcome,
                               occurred_at, received_at)
        SELECT md5('candidate' || c), stage, ref_code, share_id, 'awarded', at, at
        FROM (
            SELECT c, 'applied' AS stage, ref_code, share_id,
                   least(created_at + (1 + c % 20) * INTERVAL '1 day', :now) AS at
            FROM candidates
            UNION ALL
            SELECT c, 'interviewed', ref_code, share_id,
                   least(created_at + (10 + c % 20) * INTERVAL '1 day', :now)
            FROM candidates WHERE c % 3 = 0
            UNION ALL
            SELECT c, 'hired', ref_code, share_id,
                   least(created_at + (30 + c % 20) * INTERVAL '1 day', :now)
            FROM candidates WHERE c % 10 = 0
        ) stages
        UNION ALL
        SELECT md5('stranger' || g), 'applied', 'nobody' || g, NULL, 'unattributed',
               CAST(:now AS timestamptz) - (g % 300) * INTERVAL '1 day', :now
        FROM generate_series(1, :strangers) g
        """,
        now=now,
        strangers=max(1, options.referrals // 20),
    )
    sql("UPDATE referrals SET reason = 'unknown_code' WHERE outcome = 'unattributed'")
    events = lines = 0
    with without_indexes("events"), without_indexes("ledger_lines"):
        events += sql(
            """
            INSERT INTO events (kind, natural_key, employee_id, team_id, share_id, content_id,
                                channel, occurred_at, created_at, details, scored_at)
            SELECT 'share', 'share:' || id, employee_id, team_id, id, content_id, channel,
                   created_at, created_at, '{}', created_at
            FROM shares ORDER BY id
            """
        )
        # One counted click in every few earns a line (the rest: beyond the day's cap,
        # or simply not modelled: 11M lines would take long to write and say nothing
        # more).
        events += sql(
            """
            INSERT INTO events (kind, natural_key, employee_id, team_id, share_id, content_id,
                                channel, occurred_at, created_at, details, scored_at)
            SELECT 'click', 'click:' || s.id || ':' || c.visitor || ':' || c.day,
                   s.employee_id, s.team_id, s.id, s.content_id, s.channel,
                   c.occurred_at, c.occurred_at, '{}', c.occurred_at
            FROM click_records c JOIN shares s ON s.id = c.share_id
            WHERE c.kind = 'human' AND c.id % :every = 0
            ORDER BY c.id
            """,
            every=max(1, round(options.clicks / max(1, options.click_lines))),
        )
        events += sql(
            """
            INSERT INTO events (kind, natural_key, employee_id, team_id, share_id, content_id,
                                channel, occurred_at, created_at, details, scored_at)
            SELECT 'referral_' || r.stage, 'referral:' || r.candidate_hash || ':' || r.stage,
                   s.employee_id, s.team_id, s.id, s.content_id, s.channel,
                   r.occurred_at, r.occurred_at, '{}', r.occurred_at
            FROM referrals r JOIN shares s ON s.id = r.share_id
            WHERE r.outcome = 'awarded'
            ORDER BY r.id
            """
        )
        lines += sql(
            """
            INSERT INTO ledger_lines (line_key, kind, employee_id, team_id, event_id,
                                      rule_version_id, points, capped, occurred_at, vests_at,
                                      reason, created_at, boards_applied)
            SELECT 'award:' || e.id || ':' || v.rule_id, 'award', e.employee_id, e.team_id,
                   e.id, v.id, v.points, false, e.occurred_at,
                   CASE WHEN v.vesting_days > 0
                        THEN e.occurred_at + v.vesting_days * INTERVAL '1 day' END,
                   'Points for ' || e.kind, e.occurred_at, true
            FROM events e JOIN rule_versions v ON v.event_kind = e.kind
            ORDER BY e.id
            """
        )
        lines += sql(
            """
            INSERT INTO ledger_lines (line_key, kind, employee_id, team_id, points, capped,
                                      occurred_at, reason, created_at, boards_applied)
            SELECT 'adjust:' || g, 'adjustment', e.id, e.team_id,
                   CASE WHEN g % 5 = 0 THEN -10 ELSE 20 END, false,
                   CAST(:now AS timestamptz) - (g % 360) * INTERVAL '1 day'
                     - (g % 24) * INTERVAL '1 hour',
                   'Bench adjustment', :now, true
            FROM generate_series(1, :adjustments) g
            JOIN employees e ON e.id = (SELECT min(id) FROM employees) + g % :employees
            """,
            now=now,
            adjustments=max(1, options.referrals // 2),
            employees=options.employees,
        )
        db.session.commit()
        sql("SET LOCAL maintenance_work_mem = '512MB'")
    assert versions  # the default rules are there
    return {"referrals": referrals, "events": events, "lines": lines}


def vacuum_analyze() -> None:
    from sqlalchemy import text

    from app.extensions import db

    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


# The same figures by GROUP BY over the raw rows ----------------------------------------


def series_starts(period, start: date) -> list[date]:
    """The first days of the time series' periods, ending with ``start``'s."""
    from scoring.analytics import Period, next_period_start

    count = SERIES[period.value]
    if period is Period.DAY:
        first = start - timedelta(days=count - 1)
    elif period is Period.WEEK:
        first = start - timedelta(days=7 * (count - 1))
    else:
        year, month = divmod(start.year * 12 + start.month - 1 - (count - 1), 12)
        first = date(year, month + 1, 1)
    starts = [first]
    while starts[-1] < start:
        starts.append(next_period_start(period, starts[-1]))
    return starts


def period_of(day, period, week_start: int):
    """SQL: the first day of the period holding a date column."""
    from sqlalchemy import Date, Integer, cast, func, literal_column

    from scoring.analytics import Period

    if period is Period.DAY:
        return day
    if period is Period.MONTH:
        return cast(func.date_trunc("month", day), Date)
    weekday = cast(func.extract("isodow", day), Integer)
    return day - (weekday + literal_column(str(6 - week_start))) % 7


def raw_dashboard(selection) -> dict[str, list]:
    """The dashboard's families of figures for a selection, by GROUP BY over shares,
    click records, referrals and ledger lines, each raw row counted as
    ``app.services.rollups`` counts it (its ``_sources``: the rebuild's own definition),
    local days worked out the same way. Returns rows per family."""
    from sqlalchemy import (
        Date,
        DateTime,
        and_,
        column,
        func,
        literal,
        select,
        tuple_,
        union_all,
        values,
    )

    from app.db import local_date
    from app.extensions import db
    from app.models import (
        ClickRecord,
        ContentItem,
        ContentTag,
        Employee,
        LedgerLine,
        ParticipationSpell,
        Referral,
        Share,
        employee_interests,
    )
    from app.services.calendar import company_calendar
    from app.services.rollups import Raw, _sources
    from scoring.analytics import COUNTERS, day_start, next_period_start, utc_offsets

    zone, week_start = company_calendar()
    shares, clicks = Share.__table__, ClickRecord.__table__
    referrals, lines = Referral.__table__, LedgerLine.__table__
    team = selection.team_id

    def raw_rows(by_content: bool, since: datetime, until: datetime):
        offsets = utc_offsets(zone, since, until)

        def within(column) -> list:
            return [column >= since, column < until]

        raw = Raw(
            shares=within(shares.c.created_at),
            clicks=within(clicks.c.occurred_at),
            clicks_on_shares=within(shares.c.created_at),
            stages=within(referrals.c.occurred_at),
            lines=within(lines.c.occurred_at),
        )
        sources = _sources(by_content, raw, lambda column: local_date(column, offsets))
        rows = union_all(*sources).subquery()
        return rows, ([] if team is None else [rows.c.team_id == team])

    def sums(rows) -> list:
        return [func.sum(rows.c[name]).label(name) for name in COUNTERS]

    out: dict[str, list] = {}
    # The time series: the last N periods, with active advocates and headcounts.
    starts = series_starts(selection.period, selection.start)
    since = day_start(starts[0], zone)
    until = day_start(next_period_start(selection.period, starts[-1]), zone)
    rows, only_team = raw_rows(False, since, until)
    period = period_of(rows.c.day, selection.period, week_start).label("period")
    active = func.count(rows.c.employee_id.distinct()).filter(rows.c.shares > 0)
    series = db.session.execute(
        select(period, *sums(rows), active.label("active_advocates"))
        .where(*only_team)
        .group_by(period)
        .order_by(period)
    ).all()
    bounds = values(
        column("start", Date),
        column("since", DateTime(timezone=True)),
        column("until", DateTime(timezone=True)),
        name="bounds",
    ).data(
        [
            (s, day_start(s, zone), day_start(next_period_start(selection.period, s), zone))
            for s in starts
        ]
    )
    spells = ParticipationSpell.__table__

    def taking_part(since, until) -> list:
        return [
            spells.c.started_at < until,
            spells.c.ended_at.is_(None) | (spells.c.ended_at > since),
            spells.c.ended_at.is_(None) | (spells.c.ended_at > spells.c.started_at),
        ]

    # Headcounts per period, for the company and per team (what withholds small teams).
    spell_team = func.coalesce(spells.c.team_id, 0)
    headcount: dict[tuple, int] = {}
    for start, team_key, grouped, people in db.session.execute(
        select(
            bounds.c.start,
            spell_team,
            func.grouping(spell_team),
            func.count(spells.c.employee_id.distinct()),
        )
        .select_from(bounds.join(spells, and_(*taking_part(bounds.c.since, bounds.c.until))))
        .group_by(func.grouping_sets(tuple_(bounds.c.start, spell_team), tuple_(bounds.c.start)))
    ):
        headcount[(start, None if grouped else team_key)] = people
    out["time"] = [
        {
            **row._mapping,
            "headcount": max(headcount.get((row.period, team), 0), row.active_advocates),
        }
        for row in series
    ]
    if team is not None:
        return out  # a team's figures are not broken down further

    # The selected period by content item and network, in one pass.
    since = day_start(selection.start, zone)
    until = day_start(next_period_start(selection.period, selection.start), zone)
    rows, _ = raw_rows(True, since, until)
    items = ContentItem.__table__
    by_item = select(rows.c.content_id, *sums(rows)).group_by(rows.c.content_id).subquery("by_item")
    out["content"] = db.session.execute(
        select(by_item, items.c.title)
        .join(items, items.c.id == by_item.c.content_id)
        .order_by(by_item.c.clicks.desc(), by_item.c.shares.desc(), by_item.c.content_id)
        .limit(TOP_ADVOCATES)
    ).all()
    out["network"] = db.session.execute(
        select(rows.c.channel, *sums(rows)).group_by(rows.c.channel)
    ).all()

    # By person (then by team, the top advocates, by interest), in one pass.
    rows, _ = raw_rows(False, since, until)
    person = (
        select(rows.c.employee_id, rows.c.team_id, *sums(rows))
        .group_by(rows.c.employee_id, rows.c.team_id)
        .cte("person")
        .prefix_with("MATERIALIZED")
    )

    def active(of) -> object:
        return func.count(of.c.employee_id.distinct()).filter(of.c.shares > 0)

    def person_sums() -> list:
        return [func.sum(person.c[name]).label(name) for name in COUNTERS]

    people = Employee.__table__
    chose = employee_interests
    by_team = select(
        literal("team").label("part"),
        person.c.team_id.label("key"),
        *person_sums(),
        active(person).label("active_advocates"),
    ).group_by(person.c.team_id)
    by_interest = (
        select(
            literal("persona").label("part"),
            chose.c.interest_id.label("key"),
            *person_sums(),
            active(person).label("active_advocates"),
        )
        .join(chose, chose.c.employee_id == person.c.employee_id)
        .group_by(chose.c.interest_id)
    )
    shown = (
        select(
            person.c.employee_id,
            *person_sums(),
        )
        .join(people, people.c.id == person.c.employee_id)
        .where(
            people.c.presence != "hidden",
            people.c.erased_at.is_(None),
            people.c.opted_in_at.is_not(None),
            people.c.active.is_(True),
        )
        .group_by(person.c.employee_id)
        .having(func.sum(person.c.shares) + func.sum(person.c.clicks) > 0)
        .order_by(
            func.sum(person.c.clicks).desc(),
            func.sum(person.c.shares).desc(),
            person.c.employee_id,
        )
        .limit(TOP_ADVOCATES)
        .subquery("shown")
    )
    top = select(
        literal("advocates").label("part"),
        shown.c.employee_id.label("key"),
        *[shown.c[name] for name in COUNTERS],
        literal(0).label("active_advocates"),
    )
    parts: dict[str, list] = {"team": [], "persona": [], "advocates": []}
    for row in db.session.execute(union_all(by_team, by_interest, top)):
        parts[row.part].append(row)
    out.update(parts)
    out["advocates"].sort(key=lambda row: (-row.clicks, -row.shares, row.key))
    # Who took part in the period, per interest (what withholds small interests).
    out["persona_people"] = db.session.execute(
        select(chose.c.interest_id, func.count(spells.c.employee_id.distinct()))
        .select_from(spells.join(chose, chose.c.employee_id == spells.c.employee_id))
        .where(*taking_part(since, until))
        .group_by(chose.c.interest_id)
    ).all()
    # Interest x tag: the period's shares by the sharer's interests and the item's tags
    # (the dashboard reads the shares too: no rollup has both the person and the item).
    tags = ContentTag.__table__
    out["matrix"] = db.session.execute(
        select(
            chose.c.interest_id,
            tags.c.tag,
            func.count().label("shares"),
            func.sum(shares.c.counted_clicks).label("clicks_on_shares"),
            func.count(shares.c.employee_id.distinct()).label("sharers"),
        )
        .select_from(
            shares.join(chose, chose.c.employee_id == shares.c.employee_id).join(
                tags, tags.c.content_id == shares.c.content_id
            )
        )
        .where(shares.c.created_at >= since, shares.c.created_at < until)
        .group_by(chose.c.interest_id, tags.c.tag)
    ).all()
    return out


SERIES_FIGURES = (
    "shares",
    "clicks",
    "clicks_on_shares",
    "points",
    "reach",
    "active_advocates",
    "headcount",
)
REQUIRED = ("shares", "clicks", "points", "reach")  # the selected period's, at least
BREAKDOWNS = {  # the dashboard's table: the column that keys the raw rows
    "top_content": "content_id",
    "network": "channel",
    "team": "key",
    "persona": "key",
    "advocates": "place",
}


def as_date(key) -> date | None:
    if isinstance(key, datetime):
        return key.date()
    if isinstance(key, date):
        return key
    try:
        return date.fromisoformat(str(key)[:10])
    except ValueError:
        return None


def check_agreement(tables, figures: dict[str, list], selection) -> int:
    """The dashboard's figures against the raw GROUP BY's: every figure of the time
    series both show (the selected period's shares, clicks, points and reach at
    least), and the breakdowns by content item, network and team where their keys
    match. Fails the run on any difference; returns how many figures agreed."""
    by_name = {table.name: table for table in tables}
    shown = {as_date(row.key): row for row in by_name["time"].rows}
    problems: list[str] = []
    agreed = 0
    for raw in figures["time"]:
        row = shown.get(raw["period"])
        if row is None:
            if any(raw[name] for name in ("shares", "clicks", "points")):
                problems.append(f"time: no row for {raw['period']}")
            continue
        for name in SERIES_FIGURES:
            value = row.values.get(name)
            if value is None or row.withheld:
                continue
            if value != (raw[name] or 0):
                problems.append(f"time {raw['period']} {name}: {value} != raw {raw[name]}")
            else:
                agreed += 1
    selected = shown.get(selection.start)
    missing = [
        name
        for name in REQUIRED
        if selected is None or selected.withheld or selected.values.get(name) is None
    ]
    if missing:
        problems.append(f"the selected period shows no {', '.join(missing)}")
    for name, column in BREAKDOWNS.items():
        table = by_name.get(name)
        if table is None:
            continue
        raw_rows = figures["content" if name == "top_content" else name]
        if name == "advocates":
            found = {str(place): row._mapping for place, row in enumerate(raw_rows, start=1)}
        else:
            found = {str(getattr(row, column)): row._mapping for row in raw_rows}
        for place, row in enumerate(table.rows, start=1):
            raw = found.get(str(place) if name == "advocates" else str(row.key))
            if row.withheld:
                continue
            if raw is None:
                if any(row.values.get(figure) for figure in ("shares", "clicks", "points")):
                    problems.append(f"{name} {row.key}: not in the raw figures")
                continue
            for figure in ("shares", "clicks", "clicks_on_shares", "points", "reach"):
                value = row.values.get(figure)
                if value is None:
                    continue
                if value != (raw[figure] or 0):
                    problems.append(f"{name} {row.key} {figure}: {value} != raw {raw[figure]}")
                else:
                    agreed += 1
    if problems:
        raise SystemExit(
            "the dashboard and the raw GROUP BY disagree for "
            f"{selection}:\n  " + "\n  ".join(problems[:20])
        )
    return agreed


# Timing ----------------------------------------------------------------------------------


def selections(now: datetime, team_id: int):
    """Months, weeks and days at different starts within the year, company-wide, and a
    team lead's views of one team."""
    from app.services.calendar import company_calendar
    from scoring.analytics import Period, local_day, period_start

    zone, week_start = company_calendar()
    today = local_day(now, zone)
    month = period_start(Period.MONTH, today)
    week = period_start(Period.WEEK, today, week_start)

    def months_back(count: int) -> date:
        year, index = divmod(month.year * 12 + month.month - 1 - count, 12)
        return date(year, index + 1, 1)

    chosen = [
        (Period.MONTH, month, None),
        (Period.MONTH, months_back(1), None),
        (Period.MONTH, months_back(5), None),
        (Period.WEEK, week, None),
        (Period.WEEK, week - timedelta(weeks=9), None),
        (Period.DAY, today - timedelta(days=1), None),
        (Period.DAY, today - timedelta(days=150), None),
        (Period.MONTH, months_back(1), team_id),
        (Period.WEEK, week - timedelta(weeks=1), team_id),
    ]
    return chosen


def timed(call) -> tuple[float, object]:
    from app.extensions import db

    # The bench's own garbage (the raw side's figures: hundreds of thousands of
    # objects) is collected before the clock starts, not by a pass of the collector
    # over it inside the answer timed (one took 125 ms); answers still collect theirs.
    gc.collect()
    began = time.perf_counter()
    result = call()
    elapsed = (time.perf_counter() - began) * 1000
    db.session.rollback()  # each answer in a transaction of its own, as a request's
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--interests", type=int, default=30)
    parser.add_argument("--shares", type=int, default=1_000_000)
    parser.add_argument("--clicks", type=int, default=10_000_000)
    parser.add_argument("--referrals", type=int, default=5_000, help="candidates")
    parser.add_argument(
        "--click-lines", type=int, default=1_000_000, help="counted clicks that earned a line"
    )
    parser.add_argument("--days", type=int, default=365, help="the history spans these days")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every selection")
    parser.add_argument(
        "--repeat", type=int, default=3, help="dashboard answers per selection and round"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="build into database NAME and keep it; if it exists already, reuse it (migrated)",
    )
    options = parser.parse_args()
    if not postgres_reachable():
        print(
            "bench-analytics needs PostgreSQL, and none answers at 127.0.0.1:5432 "
            "(BENCH_PG_URL names another server)",
            file=sys.stderr,
        )
        sys.exit(2)
    log(f"machine: {machine()}")
    now = datetime.now(UTC).replace(microsecond=0)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        if options.keep:
            database = kept_postgres(options.keep)
        else:
            name = f"chorus_bench_analytics_{os.getpid()}"
            database = stack.enter_context(throwaway_postgres(name))
        production_env(redis_url, database)
        from app import create_app

        app = create_app()
        with app.app_context():
            result = run(options, now)
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
    print(json.dumps(result))


def kept_postgres(name: str) -> str:
    """A database of our own that stays (``--keep``), for working on the queries."""
    import psycopg

    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_SERVER_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def built() -> bool:
    from sqlalchemy import inspect, text

    from app.extensions import db

    if not inspect(db.engine).has_table("click_records"):
        return False
    return bool(db.session.scalar(text("SELECT EXISTS (SELECT 1 FROM click_records)")))


def run(options, now: datetime) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ClickRecord, Share, Team
    from app.services import rollups

    steps: dict[str, float] = {}
    generation = rebuild_seconds = None
    if options.keep and built():
        from flask_migrate import upgrade

        log(f"reusing the database {options.keep}, migrated to the newest revision")
        upgrade()
        now = db.session.scalar(select(func.max(Share.created_at)))
    else:
        began = time.perf_counter()
        steps = build(options, now)
        generation = time.perf_counter() - began
        log(f"generated in {generation:.1f} s")
        began = time.perf_counter()
        written = rollups.rebuild(now=now)
        db.session.commit()
        rebuild_seconds = time.perf_counter() - began
        log(
            f"rollups rebuilt: {written.get('rollup_content_daily', 0):,} content rows, "
            f"{written.get('rollup_employee_daily', 0):,} employee rows, "
            f"{written.get('headcounts', 0):,} periods' headcounts",
            began,
        )
        began = time.perf_counter()
        vacuum_analyze()
        log("VACUUM ANALYZE", began)
    clicks = db.session.scalar(select(func.count()).select_from(ClickRecord))
    shares = db.session.scalar(select(func.count()).select_from(Share))
    # The team lead's view: a team of middling size.
    team_id = db.session.execute(
        select(Share.team_id, func.count())
        .group_by(Share.team_id)
        .order_by(func.count().desc())
        .offset(options.teams // 3)
        .limit(1)
    ).scalar() or db.session.scalar(select(Team.id).limit(1))
    chosen = selections(now, team_id)
    log(f"{len(chosen)} selections x {options.rounds} rounds")

    from app.services.analytics import Selection, dashboard
    from scoring.analytics import Period

    queries = StatementTimer()
    fast_ms: list[float] = []
    raw_ms: list[float] = []
    per_selection: dict[int, tuple[list[float], list[float]]] = {
        index: ([], []) for index in range(len(chosen))
    }
    for round_number in range(options.rounds):
        for index, (period, start, team) in enumerate(chosen):
            selection = Selection(period=Period(period), start=start, team_id=team)

            def rollups_side(selection=selection, index=index) -> list:
                with queries.recording():
                    answers = [timed(lambda: dashboard(selection)) for _ in range(options.repeat)]
                fast_ms.extend(ms for ms, _ in answers)
                per_selection[index][0].extend(ms for ms, _ in answers)
                return answers[-1][1]

            def raw_side(selection=selection, index=index) -> dict:
                ms, figures = timed(lambda: raw_dashboard(selection))
                raw_ms.append(ms)
                per_selection[index][1].append(ms)
                return figures

            # Interleaved, and which goes first alternates: neither always finds the
            # other's pages in the cache.
            if (round_number + index) % 2:
                tables, figures = rollups_side(), raw_side()
            else:
                figures = raw_side()
                tables = rollups_side()
            if round_number == 0:
                agreed = check_agreement(tables, figures, selection)
                log(
                    f"  {period.value:5} {start} team {team or '-':>3}: dashboard "
                    f"{median(per_selection[index][0]):7.1f} ms, raw "
                    f"{per_selection[index][1][-1]:8.1f} ms; {agreed:,} figures agree"
                )
        log(
            f"round {round_number + 1}: dashboard p50 {median(fast_ms):.1f} ms, "
            f"p95 {percentile(fast_ms, 0.95):.1f} ms; raw p50 {median(raw_ms):.1f} ms, "
            f"p95 {percentile(raw_ms, 0.95):.1f} ms"
        )
    if not raw_ms:
        return {"clicks": clicks, "shares": shares, "database": "postgresql"}
    print()
    print(f"{'selection':28} {'dashboard p50':>14} {'p95':>8} {'raw p50':>10} {'ratio':>7}")
    for index, (period, start, team) in enumerate(chosen):
        fast, raw = per_selection[index]
        label = f"{period.value} {start}" + (f" team {team}" if team else "")
        print(
            f"{label:28} {median(fast):11.1f} ms {percentile(fast, 0.95):8.1f} "
            f"{median(raw):10.1f} {median(raw) / median(fast):7.0f}"
        )
    print()
    print("the dashboard's tables (ms per call: p50, p95, max):")
    tables = {
        name: (median(times), percentile(times, 0.95), max(times))
        for name, times in queries.tables.items()
    }
    for name, (p50, table_p95, most) in sorted(tables.items(), key=lambda item: -item[1][1]):
        print(f"  {name:16} {p50:8.1f} {table_p95:8.1f} {most:8.1f}")
    print("its slowest statements (median ms per call, calls, for which table):")
    for ms, calls, table, statement in queries.slowest(8):
        print(f"  {ms:8.1f} ms x {calls:3}  {table:22} {statement}")
    p95, raw_p95 = percentile(fast_ms, 0.95), percentile(raw_ms, 0.95)
    speedup = raw_p95 / p95
    return {
        "p95_ms": round(p95, 1),
        "raw_p95_ms": round(raw_p95, 1),
        "speedup": round(speedup, 1),
        "clicks": clicks,
        "p50_ms": round(median(fast_ms), 1),
        "raw_p50_ms": round(median(raw_ms), 1),
        "p95_ok": p95 <= P95_TARGET_MS,
        "speedup_ok": speedup >= SPEEDUP_TARGET,
        "shares": shares,
        "selections": len(chosen),
        "rounds": options.rounds,
        "answers": len(fast_ms),
        "raw_answers": len(raw_ms),
        "tables_p95_ms": {name: round(values[1], 1) for name, values in tables.items()},
        "generate_s": None if generation is None else round(generation, 1),
        "rebuild_s": None if rebuild_seconds is None else round(rebuild_seconds, 1),
        "generate_steps_s": {name: round(value, 1) for name, value in steps.items()},
        "database": "postgresql",
        "machine": machine(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


class StatementTimer:
    """What the dashboard spends its time on: each of its tables (the functions of
    ``app.services.analytics`` that ``dashboard`` calls, wrapped while recording) and
    each statement, timed from the driver's side, by text."""

    TABLES = (
        "time_table",
        "content_table",
        "network_table",
        "team_table",
        "persona_table",
        "advocates_table",
        "matrix_table",
    )

    def __init__(self) -> None:
        self.times: dict[tuple[str, str], list[float]] = {}
        self.tables: dict[str, list[float]] = {}
        self.current = ""  # the table being worked out, and for which kind of selection

    def _wrapped(self, name: str, function):
        def timed_table(selection, *args, **kwargs):
            began = time.perf_counter()
            team = ", a team" if selection.team_id is not None else ""
            self.current = f"{name.removesuffix('_table')} ({selection.period.value}{team})"
            try:
                return function(selection, *args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - began) * 1000
                self.tables.setdefault(name, []).append(elapsed)
                self.current = ""

        return timed_table

    @contextmanager
    def recording(self) -> Iterator[None]:
        from sqlalchemy import event

        from app.extensions import db
        from app.services import analytics

        engine = db.engine
        originals = {name: getattr(analytics, name) for name in self.TABLES}
        for name, function in originals.items():
            setattr(analytics, name, self._wrapped(name, function))

        def before(conn, _cursor, _statement, _params, _context, _many) -> None:
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        def after(conn, _cursor, statement, _params, _context, _many) -> None:
            began = conn.info["bench_started"].pop()
            key = (self.current, " ".join(statement.split()))
            self.times.setdefault(key, []).append((time.perf_counter() - began) * 1000)

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
            for name, function in originals.items():
                setattr(analytics, name, function)

    def slowest(self, count: int) -> list[tuple[float, int, str, str]]:
        ranked = sorted(
            (
                (median(times), len(times), table, statement)
                for (table, statement), times in self.times.items()
            ),
            reverse=True,
        )
        return [(ms, calls, table, text[:90]) for ms, calls, table, text in ranked[:count]]


if __name__ == "__main__":
    main()
