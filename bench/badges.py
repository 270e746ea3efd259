"""Benchmark of badge evaluation: after a scoring batch, and a full backfill.

Two parts, each in a throwaway SQLite database (migrated like production) against a
throwaway redis-server:

- incremental: the company of ``bench/scoring.py`` (10,000 opted-in employees, the
  default rules with their caps, skewed activity) with the default badges and a
  history of scored events, every badge already evaluated. Each round queues a batch
  of 1,000 fresh events and times the settle job's work on it (``score_pending_events``
  and ``apply_pending_lines``, each committed), then the badge evaluation the job
  queues for the people the batch touched (``evaluate_employees``, committed).
  ``incremental_ratio`` = median badge seconds / median scoring seconds.
- backfill: 100,000 opted-in employees with 1,000,000 events and as many ledger lines
  (one line per event), finished lessons and a settled challenge, bulk-inserted; then
  ten new badges (the defaults) are backfilled to everyone in one full pass
  (``evaluate_everyone``, a commit per group), timed as ``backfill_s``.

The last line is JSON: {"incremental_ratio": ..., "backfill_s": ..., "lines": ..., ...};
``--no-backfill`` runs the incremental part alone (``backfill_s`` and ``lines`` null);
``--postgres`` runs the incremental part on a throwaway PostgreSQL database too
(``postgresql_incremental_ratio``: wall time, the database working in its own process).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this directory comes first on the path, and bench/scoring.py would
# shadow the ``scoring`` package: look modules up from the repository root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.support import (  # noqa: E402
    machine,
    median,
    postgres_reachable,
    production_env,
    start_redis,
    throwaway_postgres,
)

KIND_POINTS = {"share": 5, "click": 1, "referral_applied": 25}
KIND_POINTS |= {"referral_interviewed": 50, "referral_hired": 200}
MIX = (("share", 8), ("click", 90), ("referral_applied", 1.4))
MIX += (("referral_interviewed", 0.5), ("referral_hired", 0.1))


def make_app(database_url: str, redis_url: str):
    from app import create_app

    production_env(redis_url, database_url)
    return create_app()


def install_badges() -> list:
    from app.extensions import db, get_redis
    from app.services.badges import ensure_default_badges

    created = ensure_default_badges()
    db.session.commit()
    get_redis().flushdb()  # their backfill jobs: run here by hand, not by a worker
    return created


# Incremental ---------------------------------------------------------------------------


def settle_all() -> None:
    from app.boards import BoardStore
    from app.extensions import get_redis
    from app.jobs import settle
    from app.services.scoring import scoring_lock

    with scoring_lock():
        settle(BoardStore(get_redis()), max_batches=100_000)


def incremental(database_url: str, redis_url: str, options) -> dict:
    from app.boards import BoardStore
    from app.extensions import db, get_redis
    from app.services.badges import (
        evaluate_employees,
        evaluate_everyone,
        format_touched,
        parse_touched,
    )
    from app.services.scoring import apply_pending_lines, score_pending_events
    from bench.scoring import build_company, queue_events

    app = make_app(database_url, redis_url)
    with app.app_context():
        build_company(options.days)
        install_badges()
        rng = random.Random(options.seed)
        began = time.perf_counter()
        queue_events(options.history, options.days, rng, 0)
        settle_all()
        for _ in evaluate_everyone():
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # As autovacuum would have by now in a live database: without it the fresh
            # tables' visibility map is empty and no index can be read on its own.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        print(
            f"history of {options.history:,} events scored and evaluated in "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )
        store = BoardStore(get_redis())
        scoring_s, badge_s, people, grants = [], [], [], []
        scoring_cpu, badge_cpu, handoff_s = [], [], []
        for round_number in range(1, options.rounds + 1):
            queue_events(options.batch, 1, rng, round_number)
            touched: dict[int, set[str]] = {}
            started = time.perf_counter()
            cpu = time.process_time()
            scored = score_pending_events(batch_size=options.batch, touched=touched)
            db.session.commit()
            while apply_pending_lines(store):
                db.session.commit()
            db.session.commit()
            middle = time.perf_counter()
            cpu_middle = time.process_time()
            # The hand-off as the settle job makes it: the job's argument, read back.
            kinds = parse_touched(format_touched(touched))
            handoff_s.append(time.perf_counter() - middle)
            added = evaluate_employees(None, kinds=kinds)
            db.session.commit()
            ended = time.perf_counter()
            scoring_cpu.append(cpu_middle - cpu)
            badge_cpu.append(time.process_time() - cpu_middle)
            if scored != options.batch:
                raise RuntimeError(f"scored {scored} of {options.batch} events")
            scoring_s.append(middle - started)
            badge_s.append(ended - middle)
            people.append(len(touched))
            grants.append(added)
            print(
                f"round {round_number}: scoring {scoring_s[-1] * 1000:6.1f} ms, badges "
                f"{badge_s[-1] * 1000:6.1f} ms for {len(touched)} people ({added} grants)",
                flush=True,
            )
        db.session.remove()
        db.engine.dispose()
    return {
        "scoring_ms": median(scoring_s) * 1000,
        "badges_ms": median(badge_s) * 1000,
        "scoring_cpu_ms": median(scoring_cpu) * 1000,
        "badges_cpu_ms": median(badge_cpu) * 1000,
        "handoff_ms": median(handoff_s) * 1000,
        "incremental_ratio": median(badge_s) / median(scoring_s),
        # SQLite works in this process: its CPU time is the work, whatever the load.
        "incremental_cpu_ratio": median(badge_cpu) / median(scoring_cpu),
        "touched": median(people),
        "grants": sum(grants),
    }


# Backfill ------------------------------------------------------------------------------


def sqlite_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite (what ``UTCDateTime`` reads back)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_history(options) -> int:
    """People, events with one ledger line each, lessons and a settled challenge,
    written with the driver's executemany (not measured); returns the line count."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Challenge, ChallengePlacing, Employee, Lesson, LessonCompletion, Team
    from app.services.people import company_settings
    from scoring.challenges import ChallengeState, Metric, ScopeKind
    from scoring.names import name_key

    upgrade()
    company_settings()
    names = [f"Team {i}" for i in range(options.teams)]
    db.session.execute(insert(Team), [{"name": n, "name_key": name_key(n)} for n in names])
    team_ids = list(db.session.scalars(select(Team.id)))
    rng = random.Random(options.seed)
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=options.backfill_days)
    rows = [
        {
            "email": f"person{i}@example.com",
            "name": f"Person {i}",
            "team_id": team_ids[i % len(team_ids)],
            "opted_in_at": start - timedelta(days=1),
        }
        for i in range(options.employees)
    ]
    for chunk in range(0, len(rows), 20_000):
        db.session.execute(insert(Employee), rows[chunk : chunk + 20_000])
    db.session.commit()
    people = list(db.session.execute(select(Employee.id, Employee.team_id)))
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(people))]
    raw = db.session.connection().connection.driver_connection
    created = sqlite_time(end)
    span = options.backfill_days * 86400
    kinds = [k for k, _ in MIX]
    kind_weights = [w for _, w in MIX]
    written = 0
    while written < options.lines:
        count = min(100_000, options.lines - written)
        who = rng.choices(people, weights=weights, k=count)
        what = rng.choices(kinds, weights=kind_weights, k=count)
        when = [sqlite_time(start + timedelta(seconds=rng.randrange(span))) for _ in range(count)]
        raw.executemany(
            "INSERT INTO events (id, kind, natural_key, employee_id, team_id, occurred_at, "
            "created_at, details, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?)",
            (
                (written + n + 1, kind, f"{kind}:{written + n}", e, t, at, created, created)
                for n, ((e, t), kind, at) in enumerate(zip(who, what, when, strict=True))
            ),
        )
        raw.executemany(
            "INSERT INTO ledger_lines (line_key, kind, employee_id, team_id, event_id, points, "
            "capped, occurred_at, reason, created_at, boards_applied) "
            "VALUES (?, 'award', ?, ?, ?, ?, 0, ?, 'Points', ?, 1)",
            (
                (
                    f"award:{written + n + 1}:1",
                    e,
                    t,
                    written + n + 1,
                    KIND_POINTS[kind],
                    at,
                    created,
                )
                for n, ((e, t), kind, at) in enumerate(zip(who, what, when, strict=True))
            ),
        )
        written += count
    raw.commit()
    lesson = Lesson(title="Your profile", published_at=start)
    challenge = Challenge(
        title="Autumn sharing",
        scope=ScopeKind.COMPANY,
        metric=Metric.SHARES,
        starts_at=start,
        ends_at=start + timedelta(days=7),
        state=ChallengeState.SETTLED,
        settled_at=start + timedelta(days=8),
        digest="0" * 64,
    )
    db.session.add_all([lesson, challenge])
    db.session.flush()
    finishers = rng.sample(people, k=len(people) // 5)
    db.session.execute(
        insert(LessonCompletion),
        [
            {
                "lesson_id": lesson.id,
                "employee_id": e,
                "completed_at": start + timedelta(seconds=rng.randrange(span)),
            }
            for e, _ in finishers
        ],
    )
    placed = rng.sample(people, k=min(len(people), 100))
    db.session.execute(
        insert(ChallengePlacing),
        [
            {
                "challenge_id": challenge.id,
                "entrant_id": e,
                "rank": rank,
                "points": 100 - rank,
                "score_numerator": 100 - rank,
            }
            for rank, (e, _) in enumerate(placed, start=1)
        ],
    )
    db.session.commit()
    return written


def backfill(database_url: str, redis_url: str, options) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import BadgeGrant
    from app.services.badges import evaluate_everyone

    app = make_app(database_url, redis_url)
    with app.app_context():
        began = time.perf_counter()
        lines = build_history(options)
        print(
            f"{lines:,} events and ledger lines over {options.employees:,} employees written in "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )
        created = install_badges()
        began = time.perf_counter()
        cpu = time.process_time()
        for _ in evaluate_everyone(badges=created):
            db.session.commit()
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
        grants = db.session.scalar(select(func.count()).select_from(BadgeGrant))
        quiet = db.session.scalar(select(func.count()).where(BadgeGrant.quiet))
        db.session.remove()
        db.engine.dispose()
    return {
        "backfill_s": seconds,
        "backfill_cpu_s": cpu,
        "lines": lines,
        "badges": len(created),
        "grants": grants,
        "quiet": quiet,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=100_000, help="events scored before")
    parser.add_argument("--days", type=int, default=60, help="the history spans this many days")
    parser.add_argument("--batch", type=int, default=1000, help="events per scoring batch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--employees", type=int, default=100_000, help="backfill: people")
    parser.add_argument("--lines", type=int, default=1_000_000, help="backfill: ledger lines")
    parser.add_argument("--teams", type=int, default=500, help="backfill: teams")
    parser.add_argument("--backfill-days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-backfill", action="store_true", help="the incremental part only (no backfill_s)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="the incremental part on a throwaway PostgreSQL database too (BENCH_PG_URL)",
    )
    options = parser.parse_args()
    print(f"machine: {machine()}", flush=True)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        steady = incremental(f"sqlite:///{tmp / 'incremental.db'}", redis_url, options)
        pg = None
        if options.postgres:
            if not postgres_reachable():
                raise SystemExit("--postgres: no PostgreSQL server reachable (BENCH_PG_URL)")
            database = stack.enter_context(throwaway_postgres(f"chorus_bench_{os.getpid()}"))
            pg = incremental(database, redis_url, options)
        full = None
        if not options.no_backfill:
            full = backfill(f"sqlite:///{tmp / 'backfill.db'}", redis_url, options)

    print()
    print(f"{'scoring batch (median)':40} {steady['scoring_ms']:10.1f} ms")
    print(f"{'  of which this process CPU':40} {steady['scoring_cpu_ms']:10.1f} ms")
    print(f"{'badges for the people it touched':40} {steady['badges_ms']:10.1f} ms")
    print(f"{'  of which this process CPU':40} {steady['badges_cpu_ms']:10.1f} ms")
    print(f"{'  of which the hand-off (job argument)':40} {steady['handoff_ms']:10.2f} ms")
    print(f"{'  people touched (median)':40} {steady['touched']:10.0f}")
    print(f"{'incremental ratio (target <= 0.2)':40} {steady['incremental_ratio']:10.3f}")
    print(f"{'  the same in this process CPU':40} {steady['incremental_cpu_ratio']:10.3f}")
    figures = {
        "incremental_ratio": round(steady["incremental_ratio"], 3),
        "backfill_s": None,
        "lines": None,
        "incremental_cpu_ratio": round(steady["incremental_cpu_ratio"], 3),
        "load_average": round(os.getloadavg()[0], 1),
        "scoring_ms": round(steady["scoring_ms"], 1),
        "badges_ms": round(steady["badges_ms"], 1),
        "scoring_cpu_ms": round(steady["scoring_cpu_ms"], 1),
        "badges_cpu_ms": round(steady["badges_cpu_ms"], 1),
        "handoff_ms": round(steady["handoff_ms"], 2),
        "touched": steady["touched"],
        "database": "sqlite",
    }
    if pg is not None:
        # The database works in a process of its own here: wall time is the figure.
        print(f"{'PostgreSQL: scoring batch (median)':40} {pg['scoring_ms']:10.1f} ms")
        print(f"{'PostgreSQL: badges (median)':40} {pg['badges_ms']:10.1f} ms")
        print(f"{'PostgreSQL: incremental ratio':40} {pg['incremental_ratio']:10.3f}")
        figures |= {
            "postgresql_incremental_ratio": round(pg["incremental_ratio"], 3),
            "postgresql_scoring_ms": round(pg["scoring_ms"], 1),
            "postgresql_badges_ms": round(pg["badges_ms"], 1),
            "postgresql_touched": pg["touched"],
        }
    if full is not None:
        print(f"{'backfill: badges, people':40} {full['badges']:>10}, {options.employees:,}")
        print(f"{'backfill: events, ledger lines':40} {full['lines']:>10,} each")
        print(f"{'backfill: grants written (quiet)':40} {full['grants']:>10,} ({full['quiet']:,})")
        print(f"{'backfill seconds (target <= 60)':40} {full['backfill_s']:10.1f}")
        print(f"{'  of which this process CPU':40} {full['backfill_cpu_s']:10.1f}")
        figures |= {
            "backfill_s": round(full["backfill_s"], 1),
            "lines": full["lines"],
            "backfill_cpu_s": round(full["backfill_cpu_s"], 1),
            "employees": options.employees,
            "badges": full["badges"],
            "grants": full["grants"],
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
