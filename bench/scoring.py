"""Benchmark of the scoring pipeline against a floor, in one run, per database.

For each database (a throwaway SQLite file, and a throwaway PostgreSQL database when the
machine's server answers) it builds a company with the default rules (caps included),
10,000 opted-in employees in 100 teams and 50 tagged content items, and queues events:
shares, unique clicks and referral stages, skewed so that busy people hit their daily
caps. Then, against a throwaway redis-server:

- pipeline: the settle job's work (``settle``: ``score_pending_events`` and
  ``apply_pending_lines`` with their default batch sizes, one commit per batch, the
  boards following in a second thread on PostgreSQL) from queued events to committed
  ledger lines and updated boards;
- floor: the same ledger rows bulk-inserted into the same table with no logic, in
  batches of the same size, one commit per batch.

Each round queues fresh events into an empty ledger with empty boards; medians are
compared. The last line is JSON:
{"events_per_s": ..., "floor_events_per_s": ..., "database": "postgresql", ...}
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's directory comes first on the path, and its name would
# shadow the ``scoring`` package: look modules up from the repository root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.support import (  # noqa: E402
    machine,
    median,
    on_each_database,
    production_env,
)

EMPLOYEES = 10_000
TEAMS = 100
CONTENT_ITEMS = 50
# Of 100 events: shares, unique clicks, then referral stages (applied, interviewed, hired).
MIX = (("share", 8), ("click", 90), ("referral_applied", 1.4))
MIX += (("referral_interviewed", 0.5), ("referral_hired", 0.1))


def make_app(database_url: str, redis_url: str):
    from app import create_app

    production_env(redis_url, database_url)
    return create_app()


def build_company(days: int) -> None:
    """Schema, default rules, people and content (not measured)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import ContentItem, ContentStatus, ContentTag, Employee, Team
    from app.services.people import company_settings
    from app.services.rules import install_default_rules
    from scoring.names import name_key

    upgrade()
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=days)
    company_settings()
    install_default_rules(effective_at=start - timedelta(days=1))
    names = [f"Team {i}" for i in range(TEAMS)]
    db.session.execute(insert(Team), [{"name": n, "name_key": name_key(n)} for n in names])
    team_ids = list(db.session.scalars(db.select(Team.id)))
    rng = random.Random(1)
    db.session.execute(
        insert(Employee),
        [
            {
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "team_id": rng.choice(team_ids),
                "opted_in_at": start - timedelta(days=2),
            }
            for i in range(EMPLOYEES)
        ],
    )
    db.session.execute(
        insert(ContentItem),
        [
            {
                "title": f"Story {i}",
                "destination_url": f"https://www.example.com/stories/{i}",
                "status": ContentStatus.PUBLISHED,
                "campaign_hashtag": "#careers" if i % 5 == 0 else None,
                "published_at": start,
            }
            for i in range(CONTENT_ITEMS)
        ],
    )
    content_ids = list(db.session.scalars(db.select(ContentItem.id)))
    db.session.execute(
        insert(ContentTag),
        [{"content_id": c, "tag": "job" if c % 3 == 0 else "news"} for c in content_ids],
    )
    db.session.commit()


def queue_events(events: int, days: int, rng: random.Random, round_number: int) -> None:
    """Queue ``events`` new events of the last ``days`` days (not measured)."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import ContentItem, Employee, Event
    from scoring.vocabulary import Channel, EventKind

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=days)
    people = list(db.session.execute(select(Employee.id, Employee.team_id).order_by(Employee.id)))
    content_ids = list(db.session.scalars(select(ContentItem.id)))
    # Activity is skewed: a few busy advocates draw most of the clicks and hit caps.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(people))]
    who = rng.choices(people, weights=weights, k=events)
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=events)
    channels = list(Channel)
    span = days * 86400 - 60
    rows = [
        {
            "kind": EventKind(kind),
            "natural_key": f"{kind}:{round_number}:{n}",
            "employee_id": employee_id,
            "team_id": team_id,
            "content_id": rng.choice(content_ids),
            "channel": rng.choice(channels),
            "occurred_at": start + timedelta(seconds=rng.randrange(span)),
            "created_at": now,
            "details": {"share_points": True} if kind == "share" else {},
        }
        for n, ((employee_id, team_id), kind) in enumerate(zip(who, kinds, strict=True))
    ]
    for chunk in range(0, len(rows), 10_000):
        db.session.execute(insert(Event), rows[chunk : chunk + 10_000])
    db.session.commit()
    vacuum()


def clear_ledger() -> None:
    """Empty the ledger (and cap usage): TRUNCATE on PostgreSQL, so that no dead rows
    slow the next round."""
    from sqlalchemy import delete, text

    from app.extensions import db
    from app.models import CapUsage, LedgerLine

    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE ledger_lines, cap_usage"))
    else:
        db.session.execute(delete(LedgerLine))
        db.session.execute(delete(CapUsage))
    db.session.commit()


def vacuum() -> None:
    """Fresh statistics on the events after a bulk load (PostgreSQL). Only there: the
    ledger and cap usage were just emptied, and statistics saying "empty" would make
    the planner scan them whole while they grow during the round."""
    from sqlalchemy import text

    from app.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE events"))


def run_pipeline() -> dict[str, float]:
    """The settle job's work (app.jobs.settle), timed."""
    from app.boards import BoardStore
    from app.extensions import get_redis
    from app.jobs import settle
    from app.services.scoring import scoring_lock

    started = time.perf_counter()
    with scoring_lock():
        done = settle(BoardStore(get_redis()), max_batches=1000)
    return {**done, "seconds": time.perf_counter() - started}


def ledger_rows() -> list[dict]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import LedgerLine

    columns = [c for c in LedgerLine.__table__.columns if c.name != "id"]
    return [dict(row._mapping) for row in db.session.execute(select(*columns))]


def run_floor(rows: list[dict], events: int, batch_size: int, how: str) -> float:
    """The same ledger rows, inserted in batches of as many lines as a batch of
    ``batch_size`` events wrote, one commit each: the least the database must do.
    ``how``: "arrays", the pipeline's own bulk insert (one array per column, unnested),
    or "executemany", SQLAlchemy's executemany of a plain INSERT. Returns seconds."""
    from sqlalchemy import insert

    from app.db import bulk_insert
    from app.extensions import db
    from app.models import LedgerLine

    clear_ledger()
    per_batch = max(1, round(len(rows) * batch_size / events))
    started = time.perf_counter()
    for chunk in range(0, len(rows), per_batch):
        if how == "arrays":
            bulk_insert(LedgerLine.__table__, rows[chunk : chunk + per_batch])
        else:
            db.session.execute(insert(LedgerLine), rows[chunk : chunk + per_batch])
        db.session.commit()
    return time.perf_counter() - started


def bench_database(name: str, database_url: str, redis_url: str, options) -> dict:
    from app.extensions import get_redis
    from app.services.scoring import score_pending_events

    app = make_app(database_url, redis_url)
    with app.app_context():
        build_company(options.days)
        batch_size = score_pending_events.__defaults__[0]
        rng = random.Random(options.seed)
        pipeline: list[dict[str, float]] = []
        floors: dict[str, list[float]] = {"arrays": [], "executemany": []}
        for round_number in range(1, options.rounds + 1):
            # Each round scores fresh events into an empty ledger, with empty boards.
            clear_ledger()
            get_redis().flushdb()
            queue_events(options.events, options.days, rng, round_number)
            result = run_pipeline()
            if result["events"] != options.events:
                raise RuntimeError(f"scored {result['events']} of {options.events} events")
            pipeline.append(result)
            rows = ledger_rows()
            for how, seconds in floors.items():
                seconds.append(run_floor(rows, result["events"], batch_size, how))
            rate = result["events"] / result["seconds"]
            print(
                f"round {round_number} {name:10} pipeline {rate:7,.0f} events/s "
                f"({result['seconds']:.2f} s)  floor "
                + ", ".join(f"{how} {result['events'] / s[-1]:7,.0f}" for how, s in floors.items()),
                flush=True,
            )
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    events = options.events
    return {
        "events": events,
        "lines": pipeline[0]["lines"],
        "events_per_s": median([events / r["seconds"] for r in pipeline]),
        "seconds": median([r["seconds"] for r in pipeline]),
        # The floor is the faster way of bulk-inserting the rows.
        "floor_events_per_s": max(median([events / s for s in f]) for f in floors.values()),
        "floors": {how: median([events / s for s in f]) for how, f in floors.items()},
        "batch_size": batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000, help="queued events per round")
    parser.add_argument("--days", type=int, default=7, help="the events span this many days")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--sqlite-only", action="store_true")
    options = parser.parse_args()
    print(f"machine: {machine()}", flush=True)

    results = on_each_database(
        lambda name, url, redis_url: bench_database(name, url, redis_url, options),
        options.sqlite_only,
    )

    print()
    first = next(iter(results.values()))
    print(
        f"{first['events']:,} events ({first['lines']:,} ledger lines) over {EMPLOYEES:,} "
        f"employees, batches of {first['batch_size']:,}, median of {options.rounds}"
    )
    print(
        f"{'database':12} {'pipeline ev/s':>14} {'pipeline s':>11} {'floor ev/s':>11} {'ratio':>6}"
    )
    for name, r in results.items():
        print(
            f"{name:12} {r['events_per_s']:14,.0f} {r['seconds']:11.2f} "
            f"{r['floor_events_per_s']:11,.0f} {r['events_per_s'] / r['floor_events_per_s']:6.2f}"
        )
    main_db = "postgresql" if "postgresql" in results else "sqlite"
    figures = {
        "events_per_s": round(results[main_db]["events_per_s"]),
        "floor_events_per_s": round(results[main_db]["floor_events_per_s"]),
        "database": main_db,
        "ratio": round(
            results[main_db]["events_per_s"] / results[main_db]["floor_events_per_s"], 3
        ),
        "sqlite_events_per_s": round(results["sqlite"]["events_per_s"]),
        "sqlite_floor_events_per_s": round(results["sqlite"]["floor_events_per_s"]),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
