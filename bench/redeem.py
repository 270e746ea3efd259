"""Benchmark of redemptions on PostgreSQL under concurrency, with none oversold.

In a throwaway database on the machine's PostgreSQL it builds a company of employees
who each hold 150 points, and one reward costing 100 points (approved at once) whose
stock is smaller than the demand. Then ``--concurrency`` workers (threads, spread over
``--processes`` processes so that Python's interpreter lock does not become what is
measured) call the real redemption service, ``app.services.redemptions.redeem``, each
thread in its own application context with its own database session and connection,
one transaction per call, committed like a request's. Each employee asks twice, with
two keys: the second is refused for want of points, unless the stock ran out first.

The service is called directly rather than through HTTP under gunicorn: on a small
machine gunicorn's workers would compete with PostgreSQL for the same cores and the
figure would mostly measure request parsing, while what can go wrong here (locks held
too long, overselling, overspending) lives in the service and the database.

- settled: redemptions committed per second, from the start until the last one;
- oversold: redemptions counted minus the stock there was (must be 0), also checked
  as stock left + redemptions == stock at the start;
- balances: no employee's points earned less points held or spent is ever below 0;
- floor: under the same concurrency and process layout, transactions per second of
  the least a redemption must do: ``UPDATE rewards SET stock = stock - 1 WHERE id = ...
  AND stock > 0`` on one row and a commit;
- CPU per transaction committed, of the workers' processes (every call, refused ones
  too) and, when this machine runs the server, of the server processes serving them:
  on a shared machine steadier than the rates, which move with everyone's load.

The last line is JSON:
{"settled_per_s": ..., "oversold": 0, "concurrency": 50, "floor_per_s": ..., "ratio": ...}
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import secrets
import sys
import threading
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

POINTS_EACH = 150
COST = 100
ASKS_EACH = 2  # the second ask is refused for want of points (or stock)
SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005


def make_app(database_url: str, redis_url: str, pool: int):
    from app import create_app

    production_env(
        redis_url,
        database_url,
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        MAIL_BACKEND="console",
    )
    return create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": pool + 2, "max_overflow": 4}})


def build(employees: int, stock: int, floor_stock: int) -> tuple[int, int]:
    """Schema, people with their points, the reward and the floor's row (not measured);
    returns the reward's and the floor row's ids."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Employee, LedgerLine, LineKind, Reward, Team
    from app.services.people import company_settings
    from scoring.names import name_key

    upgrade()
    company_settings()
    db.session.execute(insert(Team), [{"name": "Everyone", "name_key": name_key("Everyone")}])
    team_id = db.session.scalar(select(Team.id))
    then = datetime.now(UTC) - timedelta(days=30)
    db.session.execute(
        insert(Employee),
        [
            {
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "team_id": team_id,
                "opted_in_at": then,
            }
            for i in range(employees)
        ],
    )
    ids = list(db.session.scalars(select(Employee.id).order_by(Employee.id)))
    db.session.execute(
        insert(LedgerLine),
        [
            {
                "line_key": f"welcome:{employee_id}",
                "kind": LineKind.ADJUSTMENT,
                "employee_id": employee_id,
                "team_id": team_id,
                "points": POINTS_EACH,
                "occurred_at": then,
                "reason": "Welcome",
            }
            for employee_id in ids
        ],
    )

    def reward(name: str, units: int) -> int:
        row = Reward(name=name, cost=COST, stock=units, needs_approval=False)
        db.session.add(row)
        db.session.flush()
        return row.id

    ids = reward("Concert tickets", stock), reward("Floor row", floor_stock)
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    return ids


def _split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


def worker_process(
    mode: str,
    database_url: str,
    redis_url: str,
    row_id: int,
    work: list,
    threads: int,
    barrier,
    results,
    sampled,
) -> None:
    """One process: ``threads`` threads, each with its own app context and session,
    working through its share of ``work`` after every process is ready."""
    # A thread whose statement returned gets the interpreter back sooner: it may hold the
    # reward's row until it sends its COMMIT.
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = make_app(database_url, redis_url, threads)
    from sqlalchemy import text

    from app.errors import ChorusError
    from app.extensions import db
    from app.models import Employee
    from app.services import redemptions

    shares = _split(work, threads)
    redeemed, refused, errors = [], [0], []
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)
    go = threading.Event()

    def run(share: list) -> None:
        with app.app_context():
            db.session.execute(text("SELECT 1"))  # connect before the clock starts
            db.session.rollback()
            ready.wait()
            go.wait()
            for item in share:
                try:
                    if mode == "floor":
                        db.session.execute(
                            text(
                                "UPDATE rewards SET stock = stock - 1 WHERE id = :id AND stock > 0"
                            ),
                            {"id": row_id},
                        )
                        db.session.commit()
                        with lock:
                            redeemed.append(time.time())
                        continue
                    employee_id, key = item
                    employee = db.session.get(Employee, employee_id)
                    redemptions.redeem(employee, row_id, key)
                    db.session.commit()
                    with lock:
                        redeemed.append(time.time())
                except ChorusError:
                    db.session.rollback()
                    with lock:
                        refused[0] += 1
                except Exception as exc:  # reported, never hidden
                    db.session.rollback()
                    with lock:
                        errors.append(repr(exc))
                finally:
                    db.session.expunge_all()

    pool = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in pool:
        thread.start()
    ready.wait()
    barrier.wait()  # every process connected
    barrier.wait()  # the server's CPU read: go
    cpu = time.process_time()
    go.set()
    for thread in pool:
        thread.join()
    cpu = time.process_time() - cpu
    results.put({"times": redeemed, "refused": refused[0], "errors": errors[:5], "cpu": cpu})
    sampled.wait(60)  # the connections stay open until their server processes are read


def run_round(mode, database_url, redis_url, row_id, work, concurrency, processes) -> dict:
    """Spread ``work`` over the processes and threads; returns counts and the seconds
    from the start to the last committed transaction."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    sampled = context.Event()
    per_process = _split(list(range(concurrency)), processes)
    shares = _split(work, processes)
    children = [
        context.Process(
            target=worker_process,
            args=(
                mode,
                database_url,
                redis_url,
                row_id,
                shares[i],
                len(per_process[i]),
                barrier,
                results,
                sampled,
            ),
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    barrier.wait()
    backends = _backends(database_url)
    server = _cpu_seconds(backends)
    barrier.wait()
    started = time.time()
    outcomes = [results.get(timeout=600) for _ in children]
    server = _cpu_seconds(backends) - server
    sampled.set()
    for child in children:
        child.join()
    times = sorted(t for o in outcomes for t in o["times"])
    errors = [e for o in outcomes for e in o["errors"]]
    if errors:
        raise RuntimeError(f"{mode}: unexpected errors: {errors}")
    seconds = (times[-1] - started) if times else float("nan")
    done = len(times)
    client = sum(o["cpu"] for o in outcomes)
    return {
        "done": done,
        "refused": sum(o["refused"] for o in outcomes),
        "seconds": seconds,
        "per_s": done / seconds if times else 0.0,
        # CPU per transaction committed: the workers' processes (every call, refused ones
        # too) and the database server's processes serving their connections.
        "client_ms": 1000 * client / done if done else float("nan"),
        "server_ms": 1000 * server / done if done and backends else float("nan"),
    }


def _backends(database_url: str) -> list[int]:
    """The process ids of the PostgreSQL server processes connected to our database
    (the workers connected before the start), when this machine runs that server."""
    import psycopg

    plain = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        return [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if _is_postgres(pid)
        ]


def _is_postgres(pid: int) -> bool:
    """Whether the process is PostgreSQL's here (a server in a container of its own
    numbers its processes otherwise: then the server's CPU is not measured)."""
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes have used (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def verify(reward_id: int, stock: int) -> dict:
    """Counted from the tables: nothing oversold, no balance below zero."""
    from sqlalchemy import text

    from app.extensions import db

    counted = db.session.scalar(
        text("SELECT count(*) FROM redemptions WHERE reward_id = :id"), {"id": reward_id}
    )
    left = db.session.scalar(text("SELECT stock FROM rewards WHERE id = :id"), {"id": reward_id})
    negative = db.session.scalar(
        text(
            """
            SELECT count(*) FROM (
              SELECT e.id,
                     (SELECT coalesce(sum(points), 0) FROM ledger_lines l
                       WHERE l.employee_id = e.id)
                   - (SELECT coalesce(sum(points), 0) FROM redemptions r
                       WHERE r.employee_id = e.id
                         AND r.state IN ('pending', 'approved', 'fulfilled')) AS balance
              FROM employees e
            ) balances WHERE balance < 0
            """
        )
    )
    keys_twice = db.session.scalar(
        text(
            "SELECT count(*) FROM (SELECT employee_id, idempotency_key FROM redemptions "
            "GROUP BY 1, 2 HAVING count(*) > 1) twice"
        )
    )
    db.session.rollback()
    return {
        "counted": counted,
        "left": left,
        "oversold": max(0, counted - stock),
        "stock_consistent": left + counted == stock,
        "negative_balances": negative,
        "keys_twice": keys_twice,
    }


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def _allows(outcome: dict) -> float | None:
    cost = outcome["client_ms"] + (0 if math.isnan(outcome["server_ms"]) else outcome["server_ms"])
    return None if math.isnan(cost) or not cost else round(os.cpu_count() * 1000 / cost, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=3000)
    parser.add_argument("--stock", type=int, default=2000, help="units; less than the demand")
    parser.add_argument("--concurrency", type=int, default=50, help="threads in all")
    parser.add_argument("--processes", type=int, default=5, help="processes the threads use")
    options = parser.parse_args()
    if options.stock >= options.employees:
        parser.error("--stock must be smaller than --employees: the demand exceeds the stock")
    processes = max(1, min(options.processes, options.concurrency))
    if not postgres_reachable():
        print("bench-redeem needs PostgreSQL, and none answers (BENCH_PG_URL)", file=sys.stderr)
        sys.exit(2)
    print(f"machine: {machine()}", flush=True)
    os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48))

    with ExitStack() as stack:
        import tempfile

        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        database = stack.enter_context(throwaway_postgres(f"chorus_bench_redeem_{os.getpid()}"))
        app = make_app(database, redis_url, 2)
        demand = options.employees * ASKS_EACH
        with app.app_context():
            reward_id, floor_id = build(options.employees, options.stock, demand * 2)
            from sqlalchemy import select

            from app.extensions import db
            from app.models import Employee

            people = list(db.session.scalars(select(Employee.id).order_by(Employee.id)))
            db.session.remove()
        # Each employee asks twice, the asks interleaved so two of one person's run at once.
        work = [(person, f"ask-{n}") for n in range(ASKS_EACH) for person in people]
        floor = run_round(
            "floor",
            database,
            redis_url,
            floor_id,
            [None] * demand,
            options.concurrency,
            processes,
        )
        print(
            f"floor   {floor['per_s']:8,.0f} single-row UPDATE transactions/s "
            f"({floor['done']:,} in {floor['seconds']:.2f} s; CPU per transaction "
            f"{floor['client_ms']:.2f} ms client, {floor['server_ms']:.2f} ms server)",
            flush=True,
        )
        redeem = run_round(
            "redeem", database, redis_url, reward_id, work, options.concurrency, processes
        )
        print(
            f"redeem  {redeem['per_s']:8,.0f} redemptions settled/s "
            f"({redeem['done']:,} redeemed, {redeem['refused']:,} refused, "
            f"in {redeem['seconds']:.2f} s; CPU per redemption settled "
            f"{redeem['client_ms']:.2f} ms client, {redeem['server_ms']:.2f} ms server)",
            flush=True,
        )
        with app.app_context():
            checked = verify(reward_id, options.stock)
            db.session.remove()
            db.engine.dispose()
    print(
        f"{demand:,} asks by {options.employees:,} employees for a stock of {options.stock:,}; "
        f"{options.concurrency} threads in {processes} processes; counted {checked['counted']:,}, "
        f"{checked['left']} left, oversold {checked['oversold']}, "
        f"negative balances {checked['negative_balances']}"
    )
    problems = []
    if checked["oversold"] or not checked["stock_consistent"]:
        problems.append("stock oversold or inconsistent")
    if checked["negative_balances"]:
        problems.append("a balance went below zero")
    if checked["keys_twice"]:
        problems.append("an idempotency key was used twice")
    if checked["counted"] != redeem["done"]:
        problems.append("committed redemptions and counted rows differ")
    figures = {
        "settled_per_s": round(redeem["per_s"], 1),
        "oversold": checked["oversold"],
        "concurrency": options.concurrency,
        "processes": processes,
        "redeemed": checked["counted"],
        "stock": options.stock,
        "demand": demand,
        "negative_balances": checked["negative_balances"],
        "floor_per_s": round(floor["per_s"], 1),
        "ratio": round(redeem["per_s"] / floor["per_s"], 3) if floor["per_s"] else None,
        # CPU per transaction committed is steadier than the rates on a shared machine.
        "client_cpu_ms": _ms(redeem["client_ms"]),
        "server_cpu_ms": _ms(redeem["server_ms"]),
        "floor_client_cpu_ms": _ms(floor["client_ms"]),
        "floor_server_cpu_ms": _ms(floor["server_ms"]),
        # The rate that CPU cost allows if every core did nothing else.
        "cpu_allows_per_s": _allows(redeem),
        "floor_cpu_allows_per_s": _allows(floor),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "database": "postgresql",
    }
    print(json.dumps(figures))
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
