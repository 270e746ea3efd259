"""Benchmark of the click worker against a floor, in one run, per database.

For each database (a throwaway SQLite file, and a throwaway PostgreSQL database when the
machine's server answers) it builds a company of 2,000 opted-in employees in 50 teams
(each with 0 to 3 of 10 interests), 50 content items (1 to 3 of 20 tags) and 5,000
shares made over the last week, and queues raw clicks in the
Redis stream as the redirect queues them: skewed towards a few shares, a few percent
bots (link previews) and the same visitor again. Then, against a throwaway
redis-server:

- worker: the click job's work (``app.jobs.process_clicks``: read 500 raw clicks at a
  time, the Redis filter, click records, CLICK events and whatever else a batch keeps
  in its transaction, one commit per batch) until the stream is empty;
- floor: the same click records and events inserted with no logic, in batches of as
  many as a batch of 500 raw clicks wrote, in statements of 100 rows as the worker
  writes them, one commit per batch.

Each round queues fresh clicks into empty tables; medians are compared. The last line
is JSON: {"clicks_per_s": ..., "floor_clicks_per_s": ..., "database": "postgresql", ...}
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's directory comes first on the path, and bench/scoring.py
# would shadow the ``scoring`` package: look modules up from the repository root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.support import (  # noqa: E402
    machine,
    median,
    on_each_database,
    production_env,
)

EMPLOYEES = 2_000
TEAMS = 50
CONTENT_ITEMS = 50
SHARES = 5_000
INTERESTS = 10
TAGS = 20
BATCH = 500  # raw clicks the worker reads at a time
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PREVIEW = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
# Written by the worker, its triggers included (and cleared between rounds), when the
# schema has them.
WRITTEN = (
    "click_records",
    "events",
    "badge_tallies",
    "rollup_content_daily",
    "rollup_employee_daily",
    "rollup_team_daily",
    "rollup_content_periods",
    "rollup_employee_periods",
    "rollup_person_periods",
    "rollup_interest_periods",
    "rollup_sharer_tags",
    "rollup_interest_tags",
)


def make_app(database_url: str, redis_url: str):
    from app import create_app

    production_env(redis_url, database_url)
    return create_app()


def build(days: int, rng: random.Random) -> None:
    """Schema, people, content and shares (not measured)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import (
        ContentItem,
        ContentStatus,
        ContentTag,
        Employee,
        Interest,
        Share,
        Team,
        employee_interests,
    )
    from app.services.people import company_settings
    from app.services.single_row import stored_single_row
    from scoring.names import name_key
    from scoring.vocabulary import Channel

    upgrade()
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=days)
    stored_single_row(company_settings())
    names = [f"Team {i}" for i in range(TEAMS)]
    db.session.execute(insert(Team), [{"name": n, "name_key": name_key(n)} for n in names])
    team_ids = list(db.session.scalars(select(Team.id)))
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
                "published_at": start,
            }
            for i in range(CONTENT_ITEMS)
        ],
    )
    people = list(db.session.execute(select(Employee.id, Employee.team_id)))
    content_ids = list(db.session.scalars(select(ContentItem.id)))
    # Tags and interests, so that the worker keeps the interest x tag rollups too.
    interests = [f"Interest {i}" for i in range(INTERESTS)]
    db.session.execute(insert(Interest), [{"name": n, "name_key": name_key(n)} for n in interests])
    interest_ids = list(db.session.scalars(select(Interest.id)))
    db.session.execute(
        insert(employee_interests),
        [
            {"employee_id": employee_id, "interest_id": interest_id}
            for employee_id, _team in people
            for interest_id in rng.sample(interest_ids, rng.randrange(4))
        ],
    )
    db.session.execute(
        insert(ContentTag),
        [
            {"content_id": content_id, "tag": f"tag{n}"}
            for content_id in content_ids
            for n in rng.sample(range(TAGS), rng.randrange(1, 4))
        ],
    )
    db.session.execute(
        insert(Share),
        [
            {
                "employee_id": employee_id,
                "team_id": team_id,
                "content_id": rng.choice(content_ids),
                "channel": rng.choice(list(Channel)),
                "text": "Worth a read #employee",
                "ref_code": f"ref{n:010d}",
                "created_at": start + timedelta(seconds=rng.randrange(days * 86400 // 2)),
            }
            for n, (employee_id, team_id) in enumerate(rng.choices(people, k=SHARES))
        ],
    )
    db.session.commit()


def queue_clicks(clicks: int, rng: random.Random, round_number: int) -> None:
    """Raw clicks in the stream, as ``record_raw_click`` writes them (not measured)."""
    from sqlalchemy import select

    from app.extensions import db, get_redis
    from app.models import Share
    from app.services.calendar import company_calendar
    from app.services.click_capture import STREAM

    zone, _ = company_calendar()
    shares = list(db.session.execute(select(Share.id, Share.created_at).order_by(Share.id)))
    now = datetime.now(UTC)
    # A few shares draw most clicks.
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(shares))]
    chosen = rng.choices(shares, weights=weights, k=clicks)
    connection = get_redis()
    pipe = connection.pipeline(transaction=False)
    previous = None
    for n, (share_id, shared_at) in enumerate(chosen):
        at = shared_at + (now - shared_at) * rng.random()
        visitor = n
        if previous is not None and rng.random() < 0.05:
            share_id, at, visitor = previous  # the same visitor again, the same day
        previous = (share_id, at, visitor)
        pipe.xadd(
            STREAM,
            {
                "s": share_id,
                "t": int(at.timestamp() * 1000),
                "d": at.astimezone(zone).date().isoformat(),
                "v": f"{round_number:04x}{visitor:028x}",
                "ua": PREVIEW if rng.random() < 0.04 else BROWSER,
                "h": 0,
                "u": "",
            },
        )
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def clear() -> None:
    """Empty what the worker writes: TRUNCATE on PostgreSQL, so that no dead rows slow
    the next round."""
    from sqlalchemy import inspect, text

    from app.extensions import db, get_redis

    present = [t for t in WRITTEN if inspect(db.engine).has_table(t)]
    if db.engine.dialect.name == "postgresql":
        # CASCADE: the ledger refers to events (it is empty here).
        db.session.execute(text(f"TRUNCATE {', '.join(present)} CASCADE"))
    else:
        for table in present:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    db.session.execute(text("UPDATE shares SET counted_clicks = 0"))  # kept by the worker
    db.session.commit()
    get_redis().flushdb()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE shares, employees"))


def run_worker() -> dict[str, float]:
    """The click job until the stream is empty, timed."""
    from app import jobs
    from app.extensions import get_redis
    from app.services.click_capture import STREAM

    started = time.perf_counter()
    recorded = 0
    while get_redis().xlen(STREAM):
        recorded += jobs.process_clicks().get("recorded", 0)
    return {"recorded": recorded, "seconds": time.perf_counter() - started}


def written_rows() -> tuple[list[dict], list[dict]]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ClickRecord, Event

    def rows(model) -> list[dict]:
        columns = [c for c in model.__table__.columns if c.name != "id"]
        query = select(*columns).order_by(model.id)
        return [dict(row._mapping) for row in db.session.execute(query)]

    return rows(ClickRecord), rows(Event)


def run_floor(records: list[dict], events: list[dict], clicks: int) -> float:
    """The same rows inserted with no logic: per batch of raw clicks, its records and
    events in statements of 100 rows, one commit. Returns seconds."""
    from app.db import insert_ignoring_conflicts
    from app.extensions import db
    from app.models import ClickRecord, Event

    clear()
    batches = max(1, round(clicks / BATCH))
    per_records = max(1, -(-len(records) // batches))
    per_events = max(1, -(-len(events) // batches))
    started = time.perf_counter()
    for batch in range(batches):
        for model, rows, size in ((ClickRecord, records, per_records), (Event, events, per_events)):
            part = rows[batch * size : (batch + 1) * size]
            for start in range(0, len(part), 100):
                insert_ignoring_conflicts(model, part[start : start + 100])
        db.session.commit()
    return time.perf_counter() - started


def bench_database(name: str, database_url: str, redis_url: str, options) -> dict:
    app = make_app(database_url, redis_url)
    with app.app_context():
        rng = random.Random(options.seed)
        build(options.days, rng)
        worker: list[dict[str, float]] = []
        floors: list[float] = []
        for round_number in range(1, options.rounds + 1):
            clear()
            queue_clicks(options.clicks, rng, round_number)
            result = run_worker()
            worker.append(result)
            records, events = written_rows()
            floors.append(run_floor(records, events, options.clicks))
            print(
                f"round {round_number} {name:10} worker "
                f"{options.clicks / result['seconds']:7,.0f} clicks/s ({result['seconds']:.2f} s, "
                f"{result['recorded']:,} records)  floor {options.clicks / floors[-1]:7,.0f}",
                flush=True,
            )
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    clicks = options.clicks
    return {
        "clicks": clicks,
        "recorded": worker[0]["recorded"],
        "clicks_per_s": median([clicks / r["seconds"] for r in worker]),
        "seconds": median([r["seconds"] for r in worker]),
        "floor_clicks_per_s": median([clicks / s for s in floors]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=50_000, help="raw clicks per round")
    parser.add_argument("--days", type=int, default=7, help="shares and clicks span these days")
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
        f"{first['clicks']:,} raw clicks ({first['recorded']:,} records) on {SHARES:,} shares, "
        f"batches of {BATCH}, median of {options.rounds}"
    )
    heading = ("database", "worker clicks/s", "seconds", "floor clicks/s", "ratio")
    print("{:12} {:>16} {:>8} {:>15} {:>6}".format(*heading))
    for name, r in results.items():
        print(
            f"{name:12} {r['clicks_per_s']:16,.0f} {r['seconds']:8.2f} "
            f"{r['floor_clicks_per_s']:15,.0f} {r['clicks_per_s'] / r['floor_clicks_per_s']:6.2f}"
        )
    main_db = "postgresql" if "postgresql" in results else "sqlite"
    figures = {
        "clicks_per_s": round(results[main_db]["clicks_per_s"]),
        "floor_clicks_per_s": round(results[main_db]["floor_clicks_per_s"]),
        "database": main_db,
        "ratio": round(
            results[main_db]["clicks_per_s"] / results[main_db]["floor_clicks_per_s"], 3
        ),
        "sqlite_clicks_per_s": round(results["sqlite"]["clicks_per_s"]),
        "sqlite_floor_clicks_per_s": round(results["sqlite"]["floor_clicks_per_s"]),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
