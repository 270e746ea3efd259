"""Benchmark of rebuilding every leaderboard from the ledger.

Builds a throwaway SQLite database (migrated like production) with 50,000 opted-in
employees in 500 teams and 1,000,000 applied ledger lines over five months (bulk
inserts: a few seconds), starts a throwaway redis-server, and times
``app.services.scoring.rebuild_boards``: reading the ledger, summing per board (company
and team, all-time, month and week windows in the company's time zone) and swapping
every board in. The boards are then checked against totals summed by SQL. The last
line is JSON: {"lines": ..., "seconds": ..., "boards": ...}
"""

from __future__ import annotations

import argparse
import json
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

from bench.support import machine, production_env, start_redis  # noqa: E402


def sqlite_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite (what ``UTCDateTime`` reads back)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_ledger(lines: int, employees: int, teams: int, days: int, seed: int) -> None:
    """Schema, people and applied ledger lines, written with the driver's executemany."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Employee, Team
    from app.services.people import company_settings
    from scoring.names import name_key

    upgrade()
    company_settings()
    names = [f"Team {i}" for i in range(teams)]
    db.session.execute(insert(Team), [{"name": n, "name_key": name_key(n)} for n in names])
    team_ids = list(db.session.scalars(select(Team.id)))
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=days)
    db.session.execute(
        insert(Employee),
        [
            {
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "team_id": team_ids[i % teams],
                "opted_in_at": start - timedelta(days=1),
            }
            for i in range(employees)
        ],
    )
    db.session.commit()
    people = list(db.session.execute(select(Employee.id, Employee.team_id)))
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(people))]
    created = sqlite_time(end)
    raw = db.session.connection().connection.driver_connection
    span = days * 86400
    statement = (
        "INSERT INTO ledger_lines (line_key, kind, employee_id, team_id, points, capped, "
        "occurred_at, reason, created_at, boards_applied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    written = 0
    while written < lines:
        count = min(100_000, lines - written)
        who = rng.choices(people, weights=weights, k=count)
        raw.executemany(
            statement,
            (
                (
                    f"award:{written + n}:1",
                    "award",
                    employee_id,
                    team_id,
                    rng.choice((0, 1, 1, 1, 5, 5, 25)),
                    False,
                    sqlite_time(start + timedelta(seconds=rng.randrange(span))),
                    "Unique clicks: a unique click on your link",
                    created,
                    True,
                )
                for n, (employee_id, team_id) in enumerate(who)
            ),
        )
        written += count
    raw.commit()
    db.session.commit()


def check(store) -> int:
    """The rebuilt all-time company board against per-employee sums from SQL."""
    from sqlalchemy import func, select

    from app.boards import BoardStore
    from app.extensions import db
    from app.models import LedgerLine

    totals = dict(
        db.session.execute(
            select(LedgerLine.employee_id, func.sum(LedgerLine.points)).group_by(
                LedgerLine.employee_id
            )
        ).all()
    )
    board = store.scores(BoardStore.key("all"))
    mismatched = sum(1 for member, (points, _) in board.items() if totals.get(member) != points)
    if mismatched or len(board) != len(totals):
        raise RuntimeError(f"rebuilt board differs from the ledger ({mismatched} members)")
    return len(board)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--days", type=int, default=150, help="the ledger spans this many days")
    parser.add_argument("--seed", type=int, default=5)
    options = parser.parse_args()
    print(f"machine: {machine()}", flush=True)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        production_env(redis_url, f"sqlite:///{tmp / 'bench.db'}")
        from app import create_app
        from app.boards import BoardStore
        from app.extensions import db, get_redis
        from app.services.scoring import rebuild_boards

        app = create_app()
        with app.app_context():
            began = time.perf_counter()
            build_ledger(options.lines, options.employees, options.teams, options.days, 5)
            print(
                f"{options.lines:,} ledger lines written in {time.perf_counter() - began:.1f} s "
                "(SQLite)",
                flush=True,
            )
            store = BoardStore(get_redis())
            began = time.perf_counter()
            cpu = time.process_time()
            boards = rebuild_boards(store)
            seconds = time.perf_counter() - began
            cpu = time.process_time() - cpu
            db.session.commit()
            members = check(store)
            memory = get_redis().info("memory")["used_memory"]
            db.session.remove()
            db.engine.dispose()

    print()
    print(f"{'ledger lines':34} {options.lines:>12,}")
    print(
        f"{'employees, teams, days':34} {options.employees:>12,}, {options.teams}, {options.days}"
    )
    print(f"{'boards rebuilt':34} {boards:>12,}")
    print(f"{'members on the all-time board':34} {members:>12,}")
    print(f"{'Redis memory after':34} {memory / 2**20:>10,.0f} MiB")
    print(f"{'rebuild wall seconds':34} {seconds:>12.1f}")
    print(f"{'  of which this process CPU':34} {cpu:>12.1f}")
    print(f"{'lines per second':34} {options.lines / seconds:>12,.0f}")
    print(
        json.dumps(
            {
                "lines": options.lines,
                "seconds": round(seconds, 1),
                "boards": boards,
                "database": "sqlite",
            }
        )
    )


if __name__ == "__main__":
    main()
