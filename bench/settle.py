"""Benchmark of settling a share challenge of 100,000 members.

Builds a throwaway database (SQLite, or with ``--postgres`` a throwaway PostgreSQL
database on the machine's server), migrated like production, with 100,000 opted-in
employees in 500 teams, a company-wide challenge on points that ended two days ago, and
200,000 scored events in its period, each with its award line in the ledger (bulk
inserts, not measured). The challenge has prizes for the first three places and bonus
points for everyone who reaches the minimum. Then, against a throwaway redis-server:

- settle: ``app.services.challenge_settlement.settle_challenge`` and its commit:
  reading events and their points, ranking, the digest, the conditional UPDATE, the
  placings, the awards and the prize lines;
- floor: the plainest query over the same rows: each employee's points for the
  period's events (``SELECT employee_id, SUM(points) ... GROUP BY employee_id``).

The placings are then checked against the floor's sums. Settle and floor are measured
in ``--rounds`` rounds (what a round wrote is deleted and the challenge reopened before
the next); the medians are reported, with this process's CPU time (the steadier figure
on a shared machine) and wall and CPU per step of the first round. The last line is
JSON: {"members": ..., "events": ..., "seconds": ..., "floor_seconds": ..., "ratio": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.support import (  # noqa: E402
    machine,
    postgres_reachable,
    production_env,
    start_redis,
    throwaway_postgres,
)


def build(members: int, teams: int, events: int, seed: int) -> int:
    """Schema, people, the challenge, events and their award lines; the challenge id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Challenge, Employee, Event, LedgerLine, Team
    from app.services.people import company_settings
    from scoring.challenges import Metric, Mode, ScopeKind
    from scoring.names import name_key

    upgrade()
    company_settings()
    db.session.execute(
        insert(Team),
        [{"name": f"Team {i}", "name_key": name_key(f"Team {i}")} for i in range(teams)],
    )
    team_ids = list(db.session.scalars(select(Team.id)))
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    start = end - timedelta(days=14)
    db.session.execute(
        insert(Employee),
        [
            {
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "team_id": team_ids[i % teams],
                "opted_in_at": start - timedelta(days=30),
            }
            for i in range(members)
        ],
    )
    challenge = Challenge(
        title="Share week",
        scope=ScopeKind.COMPANY,
        mode=Mode.INDIVIDUAL,
        metric=Metric.POINTS,
        starts_at=start,
        ends_at=end,
        minimum=20,
        prizes=[
            {"kind": "points", "value": 500, "place": 1},
            {"kind": "points", "value": 250, "place": 2},
            {"kind": "points", "value": 100, "place": 3},
            {"kind": "points", "value": 10, "place": None},
        ],
    )
    db.session.add(challenge)
    db.session.commit()
    people = list(db.session.execute(select(Employee.id, Employee.team_id)))
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(people))]
    span = int((end - start).total_seconds())
    written = 0
    while written < events:
        count = min(50_000, events - written)
        who = rng.choices(people, weights=weights, k=count)
        rows = []
        for n, (employee_id, team_id) in enumerate(who):
            at = start + timedelta(seconds=rng.randrange(span))
            rows.append(
                {
                    "kind": "share" if n % 10 else "click",
                    "natural_key": f"bench:{written + n}",
                    "employee_id": employee_id,
                    "team_id": team_id,
                    "channel": "linkedin",
                    "occurred_at": at,
                    "created_at": at,
                    "scored_at": at,
                    "details": {},
                }
            )
        db.session.execute(insert(Event), rows)
        first = db.session.scalar(select(Event.id).where(Event.natural_key == f"bench:{written}"))
        db.session.execute(
            insert(LedgerLine),
            [
                {
                    "line_key": f"award:{first + n}:1",
                    "kind": "award",
                    "employee_id": row["employee_id"],
                    "team_id": row["team_id"],
                    "event_id": first + n,
                    "points": 10 if row["kind"] == "share" else 1,
                    "capped": False,
                    "occurred_at": row["occurred_at"],
                    "reason": "Shares: a share",
                    "created_at": row["occurred_at"],
                    "boards_applied": True,
                }
                for n, row in enumerate(rows)
            ],
        )
        db.session.commit()
        written += count
    return challenge.id


def floor(challenge_id: int) -> tuple[float, dict[int, int]]:
    """The plain aggregate over the same rows: seconds, and employee -> points."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Challenge, Event, LedgerLine

    challenge = db.session.get(Challenge, challenge_id)
    began = time.perf_counter()
    totals = dict(
        db.session.execute(
            select(Event.employee_id, func.sum(LedgerLine.points))
            .join(LedgerLine, LedgerLine.event_id == Event.id)
            .where(Event.occurred_at >= challenge.starts_at, Event.occurred_at < challenge.ends_at)
            .group_by(Event.employee_id)
        ).all()
    )
    seconds = time.perf_counter() - began
    db.session.commit()
    return seconds, totals


class Steps:
    """Wall and CPU seconds spent in the named functions of the settlement modules."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}
        self.active = True

    def wrap(self, module, attribute: str, label: str) -> None:
        original = getattr(module, attribute)

        def timed(*args, **kwargs):
            if not self.active:
                return original(*args, **kwargs)
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent = self.spent.setdefault(label, [0.0, 0.0])
                spent[0] += time.perf_counter() - wall
                spent[1] += time.process_time() - cpu

        setattr(module, attribute, timed)


def reopen(challenge_id: int) -> None:
    """Undo a settlement: its placings, awards and prize lines, the state."""
    from sqlalchemy import delete, update

    from app.extensions import db
    from app.models import Challenge, ChallengeAward, ChallengePlacing, LedgerLine, LineKind
    from scoring.challenges import ChallengeState

    db.session.execute(
        delete(ChallengePlacing).where(ChallengePlacing.challenge_id == challenge_id)
    )
    db.session.execute(delete(ChallengeAward).where(ChallengeAward.challenge_id == challenge_id))
    db.session.execute(delete(LedgerLine).where(LedgerLine.kind == LineKind.PRIZE))
    db.session.execute(
        update(Challenge)
        .where(Challenge.id == challenge_id)
        .values(state=ChallengeState.OPEN, settled_at=None, digest=None)
    )
    db.session.commit()
    db.session.expire_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL database, not SQLite"
    )
    options = parser.parse_args()
    print(f"machine: {machine()}", flush=True)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        if options.postgres:
            if not postgres_reachable():
                raise SystemExit("bench-settle --postgres: no PostgreSQL answers")
            database_url = stack.enter_context(throwaway_postgres("chorus_bench_settle"))
            database = "postgresql"
        else:
            database_url = f"sqlite:///{tmp / 'bench.db'}"
            database = "sqlite"
        production_env(redis_url, database_url)
        from sqlalchemy import func, select

        from app import create_app
        from app.extensions import db
        from app.models import Challenge, ChallengePlacing, LedgerLine, LineKind
        from app.services import challenge_settlement, challenge_standings
        from app.services.challenge_settlement import settle_challenge, verify_digest
        from scoring import challenges as scoring_challenges

        steps = Steps()
        steps.wrap(challenge_standings, "load_pairs", "read totals (SQL sums)")
        steps.wrap(challenge_standings, "load_people", "read people")
        steps.wrap(scoring_challenges, "individual_standings", "rank")
        steps.wrap(scoring_challenges, "settlement_digest", "digest")
        steps.wrap(challenge_settlement, "_move", "conditional UPDATE")
        steps.wrap(challenge_settlement, "pay_awards", "awards and prizes")
        steps.wrap(challenge_settlement, "_insert_absent", "inserts (placings, awards, lines)")

        app = create_app()
        with app.app_context():
            began = time.perf_counter()
            challenge_id = build(options.members, options.teams, options.events, options.seed)
            print(
                f"{options.members:,} members, {options.events:,} events written in "
                f"{time.perf_counter() - began:.1f} s ({database})",
                flush=True,
            )
            walls, cpus, floors = [], [], []
            for round_ in range(options.rounds):
                if round_:
                    reopen(challenge_id)
                floor_seconds, totals = floor(challenge_id)
                began = time.perf_counter()
                cpu = time.process_time()
                settled = settle_challenge(challenge_id)
                commit_began = time.perf_counter(), time.process_time()
                db.session.commit()
                commit = (
                    time.perf_counter() - commit_began[0],
                    time.process_time() - commit_began[1],
                )
                walls.append(time.perf_counter() - began)
                cpus.append(time.process_time() - cpu)
                floors.append(floor_seconds)
                if not settled:
                    raise RuntimeError("the challenge was not settled")
                if round_ == 0:
                    steps.spent["commit"] = list(commit)
                    steps.active = False
                print(
                    f"round {round_ + 1}: settle {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU; "
                    f"floor {floor_seconds:.2f} s; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            seconds = statistics.median(walls)
            cpu = statistics.median(cpus)
            floor_seconds = statistics.median(floors)
            placings = dict(
                db.session.execute(
                    select(ChallengePlacing.entrant_id, ChallengePlacing.points).where(
                        ChallengePlacing.challenge_id == challenge_id
                    )
                ).all()
            )
            if placings != totals:
                raise RuntimeError("the placings differ from the plain sums")
            prizes = db.session.scalar(
                select(func.count())
                .select_from(LedgerLine)
                .where(LedgerLine.kind == LineKind.PRIZE)
            )
            if not verify_digest(db.session.get(Challenge, challenge_id)):
                raise RuntimeError("the digest does not match the placings")
            db.session.remove()
            db.engine.dispose()

    print()
    print("first round, per step (wall / CPU seconds; inserts are also inside awards):")
    for label, (wall, cpu_spent) in steps.spent.items():
        print(f"  {label:36} {wall:>7.2f} / {cpu_spent:.2f}")
    print(f"{'members (opted in, in scope)':34} {options.members:>12,}")
    print(f"{'events in the period':34} {options.events:>12,}")
    print(f"{'placings written':34} {len(placings):>12,}")
    print(f"{'prize lines written':34} {prizes:>12,}")
    print(f"{'settle wall seconds':34} {seconds:>12.2f}")
    print(f"{'  of which this process CPU':34} {cpu:>12.2f}")
    print(f"{'floor (SUM GROUP BY) seconds':34} {floor_seconds:>12.2f}")
    print(
        json.dumps(
            {
                "members": options.members,
                "events": options.events,
                "placings": len(placings),
                "prize_lines": prizes,
                "seconds": round(seconds, 2),
                "floor_seconds": round(floor_seconds, 3),
                "ratio": round(seconds / floor_seconds, 1) if floor_seconds else None,
                "cpu_seconds": round(cpu, 2),
                "rounds": options.rounds,
                "load_average": round(os.getloadavg()[0], 1),
                "database": database,
            }
        )
    )


if __name__ == "__main__":
    main()
