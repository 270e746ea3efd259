"""Benchmark of composing and queueing the weekly digest for 100,000 employees.

Builds a throwaway PostgreSQL database on the machine's server (``--sqlite`` for a
throwaway SQLite file instead), migrated like production, with 100,000 opted-in
employees in 200 teams with a few of 20 interests each, a tenth of them with their
own settings, 40 items published in the last ten days (aimed at everyone, at teams or
at interests) and 200,000 shares of them (bulk inserts, not measured). The moment is
the company's first weekday at 09:05 in Europe/Berlin, when everyone's weekly digest
is due. Then, in a fresh process (so that its peak memory is the composing's own):

- compose: ``app.services.digests.compose_due`` and its commits: who is due, their
  last digests, interests, shares, what each digest lists, the outbox rows;
- floor: the plainest set-based write of as many rows: one
  ``INSERT INTO outbox ... SELECT ... FROM employees`` of empty digests.

A second compose at the same moment must write nothing (once per local day), and the
digests of a sample of people are checked against the feed's own SQL targeting. The
last line is JSON: {"recipients": ..., "seconds": ..., "peak_mib": ..., ...}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.support import (  # noqa: E402
    machine,
    postgres_reachable,
    production_env,
    start_redis,
    throwaway_postgres,
)

BERLIN = ZoneInfo("Europe/Berlin")


def due_moment() -> datetime:
    """The next Monday (the company's first weekday) at 09:05 in Berlin, in UTC."""
    today = datetime.now(BERLIN).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime(monday.year, monday.month, monday.day, 9, 5, tzinfo=BERLIN).astimezone(UTC)


def build(employees: int, teams: int, items: int, shares: int, now: datetime, seed: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import (
        ContentItem,
        ContentStatus,
        Employee,
        Interest,
        NotificationSettings,
        Share,
        Team,
        content_interests,
        content_teams,
        employee_interests,
    )
    from app.services.people import company_settings
    from scoring.names import name_key
    from scoring.notifications import Digest

    rng = random.Random(seed)
    upgrade()
    company_settings()
    db.session.execute(
        insert(Team), [{"name": f"T{i}", "name_key": name_key(f"T{i}")} for i in range(teams)]
    )
    db.session.execute(
        insert(Interest), [{"name": f"I{i}", "name_key": name_key(f"I{i}")} for i in range(20)]
    )
    team_ids = list(db.session.scalars(select(Team.id)))
    interest_ids = list(db.session.scalars(select(Interest.id)))
    for start in range(0, employees, 20_000):
        db.session.execute(
            insert(Employee),
            [
                {
                    "email": f"person{i}@example.com",
                    "name": f"Person {i}",
                    "team_id": team_ids[i % teams],
                    "opted_in_at": now - timedelta(days=60),
                }
                for i in range(start, min(start + 20_000, employees))
            ],
        )
    people = list(db.session.scalars(select(Employee.id)))
    db.session.execute(
        insert(employee_interests),
        [
            {"employee_id": e, "interest_id": i}
            for e in people
            for i in rng.sample(interest_ids, rng.randrange(4))
        ],
    )
    # A tenth chose their own rhythm; each is still due now (weekly or daily at nine).
    db.session.execute(
        insert(NotificationSettings),
        [
            {
                "employee_id": e,
                "digest": rng.choice([Digest.WEEKLY, Digest.DAILY]),
                "digest_hour": 9,
                "time_zone": "Europe/Berlin",
                "quiet_from": rng.choice([None, 20, 22]),
                "quiet_until": None,
                "weekly_budget": rng.randrange(6),
            }
            for e in people[::10]
        ],
    )
    db.session.execute(  # quiet hours have both ends or none
        NotificationSettings.__table__.update()
        .where(NotificationSettings.quiet_from.is_not(None))
        .values(quiet_until=7)
    )
    content = []
    for n in range(items):
        published = now - timedelta(hours=rng.randrange(1, 240))
        content.append(
            {
                "title": f"Story {n}",
                "summary": "What we built, and why it matters.",
                "destination_url": f"https://www.example.com/stories/{n}",
                "status": ContentStatus.PUBLISHED,
                "published_at": published,
                "created_at": published,
            }
        )
    db.session.execute(insert(ContentItem), content)
    content_ids = list(db.session.scalars(select(ContentItem.id)))
    aimed_at_teams = content_ids[items // 4 : items * 3 // 4]
    aimed_at_interests = content_ids[items * 3 // 4 :]
    db.session.execute(
        insert(content_teams),
        [
            {"content_id": c, "team_id": t}
            for c in aimed_at_teams
            for t in rng.sample(team_ids, min(10, len(team_ids)))
        ],
    )
    db.session.execute(
        insert(content_interests),
        [{"content_id": c, "interest_id": rng.choice(interest_ids)} for c in aimed_at_interests],
    )
    pairs = {(rng.choice(people), rng.choice(content_ids)) for _ in range(shares)}
    rows = [
        {
            "employee_id": e,
            "content_id": c,
            "channel": "linkedin",
            "text": "",
            "ref_code": f"r{n:015d}",
            "created_at": now - timedelta(hours=1),
        }
        for n, (e, c) in enumerate(pairs)
    ]
    for start in range(0, len(rows), 50_000):
        db.session.execute(insert(Share), rows[start : start + 50_000])
    db.session.commit()


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM belongs to the process's own memory
    map, which exec replaced; ru_maxrss would also count the parent's peak before it."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compose(now: datetime) -> dict:
    """In this (fresh) process: compose, then a second time, then the floor."""
    from sqlalchemy import delete, func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import OutboxMessage
    from app.services import digests
    from scoring.notifications import Kind

    app = create_app()
    with app.app_context():
        db.session.execute(select(1))  # connect before the clock starts
        db.session.rollback()
        baseline = peak_rss_mib()
        began, cpu = time.perf_counter(), time.process_time()
        written = 0
        for count in digests.compose_due(now):  # as app.jobs.compose_digests does
            db.session.commit()
            written += count
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        peak = peak_rss_mib()
        began = time.perf_counter()
        again = sum(digests.compose_due(now))
        db.session.commit()
        again_seconds = time.perf_counter() - began
        recipients = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == Kind.DIGEST)
        )
        began = time.perf_counter()
        db.session.execute(
            text(
                "INSERT INTO outbox (key, employee_id, kind, payload, state, attempts,"
                " next_attempt_at, created_at) SELECT 'floor:' || id, id, 'digest', '{}',"
                " 'pending', 0, :now, :now FROM employees"
            ),
            {"now": now},
        )
        db.session.commit()
        floor_seconds = time.perf_counter() - began
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.key.like("floor:%")))
        db.session.commit()
    return {
        "recipients": recipients,
        "written": written,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "again_written": again,
        "again_seconds": round(again_seconds, 2),
        "floor_seconds": round(floor_seconds, 2),
        "baseline_mib": round(baseline, 1),
        "peak_mib": round(peak, 1),
    }


def check_sample(now: datetime, sample: int, seed: int) -> int:
    """Each sampled person's digest lists exactly what the feed's SQL targeting gives:
    meant for them now, published in the lookback, not shared by them."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ContentItem, Employee, OutboxMessage, Share
    from app.services.feed import meant_for
    from scoring.notifications import DIGEST_ITEMS, DIGEST_LOOKBACK

    rng = random.Random(seed)
    ids = list(db.session.scalars(select(Employee.id)))
    checked = 0
    for employee_id in rng.sample(ids, min(sample, len(ids))):
        employee = db.session.get(Employee, employee_id)
        published = func.coalesce(ContentItem.published_at, ContentItem.created_at)
        shared = select(Share.content_id).where(Share.employee_id == employee_id)
        expected = list(
            db.session.scalars(
                select(ContentItem.id)
                .where(
                    *meant_for(employee, now),
                    published > now - DIGEST_LOOKBACK,
                    ContentItem.id.not_in(shared),
                )
                .order_by(published.desc(), ContentItem.id.desc())
            )
        )
        payload = db.session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.employee_id == employee_id)
        )
        got = json.loads(payload) if payload else {"items": [], "more": 0}
        if got["items"] != expected[:DIGEST_ITEMS] or got["more"] != max(
            len(expected) - DIGEST_ITEMS, 0
        ):
            raise RuntimeError(f"employee {employee_id}: {got} but the feed gives {expected}")
        checked += 1
    return checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--shares", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=200, help="digests checked against SQL")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite", action="store_true", help="SQLite, not PostgreSQL")
    parser.add_argument("--compose-at", help=argparse.SUPPRESS)  # the measuring child
    options = parser.parse_args()
    if options.compose_at:
        print(json.dumps(compose(datetime.fromisoformat(options.compose_at))))
        return
    print(f"machine: {machine()}", flush=True)
    now = due_moment()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        if options.sqlite:
            database_url, database = f"sqlite:///{tmp / 'bench.db'}", "sqlite"
        else:
            if not postgres_reachable():
                raise SystemExit("bench-digest: no PostgreSQL answers (or pass --sqlite)")
            database_url = stack.enter_context(throwaway_postgres("chorus_bench_digest"))
            database = "postgresql"
        production_env(redis_url, database_url)
        from app import create_app
        from app.extensions import db

        app = create_app()
        with app.app_context():
            began = time.perf_counter()
            build(
                options.employees, options.teams, options.items, options.shares, now, options.seed
            )
            print(
                f"{options.employees:,} employees, {options.items} items, {options.shares:,} "
                f"shares written in {time.perf_counter() - began:.1f} s ({database})",
                flush=True,
            )
            db.session.remove()
            db.engine.dispose()
        child = subprocess.run(
            [sys.executable, __file__, "--compose-at", now.isoformat()],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ,
        )
        if child.returncode:
            raise SystemExit(child.stderr[-3000:])
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        if figures["again_written"]:
            raise RuntimeError("a second compose at the same moment wrote digests again")
        with app.app_context():
            checked = check_sample(now, options.sample, options.seed)
            db.session.remove()
            db.engine.dispose()

    print(f"{'moment (Monday 09:05 Berlin)':34} {now.isoformat():>26}")
    print(f"{'employees taking part':34} {options.employees:>12,}")
    print(f"{'digests written':34} {figures['recipients']:>12,}")
    print(f"{'compose wall seconds':34} {figures['seconds']:>12.2f}")
    print(f"{'  of which this process CPU':34} {figures['cpu_seconds']:>12.2f}")
    print(f"{'second compose (writes none) s':34} {figures['again_seconds']:>12.2f}")
    print(f"{'floor (INSERT ... SELECT) s':34} {figures['floor_seconds']:>12.2f}")
    memory = f"{figures['baseline_mib']:.0f} / {figures['peak_mib']:.0f}"
    print(f"{'process RSS before / peak MiB':34} {memory:>12}")
    print(f"{'digests checked against SQL':34} {checked:>12,}")
    ratio = figures["seconds"] / figures["floor_seconds"] if figures["floor_seconds"] else None
    print(
        json.dumps(
            {
                "recipients": figures["recipients"],
                "seconds": figures["seconds"],
                "peak_mib": figures["peak_mib"],
                "baseline_mib": figures["baseline_mib"],
                "floor_seconds": figures["floor_seconds"],
                "ratio": round(ratio, 1) if ratio else None,
                "database": database,
            }
        )
    )


if __name__ == "__main__":
    main()
