"""Benchmark of leaderboard reads: Redis through the service layer against SQL, and HTTP.

Starts a throwaway redis-server and, for the SQL side and the app, a throwaway
PostgreSQL database (SQLite for the app when no PostgreSQL answers: then no SQL figure).
For each board size (100k and 1M members by default):

- Redis: the board is loaded with pipelined ZADDs of encoded scores (points skewed like
  real activity, a random time each); then ``app.boards.BoardStore`` answers, for a few
  thousand random members in random order: the top 10 (``page``), "around me"
  (``around``, 10 rows) and "standing" (``standing``: my rank, my score, the board
  size). Latency is wall time per call from Python, one call at a time.
- SQL, the best answer without Redis: a pre-aggregated totals table with an index on
  the total, in PostgreSQL, queried with prepared statements: top 10 = ORDER BY total
  DESC LIMIT 10; standing = my total and 1 + COUNT(total > mine); around me = that
  count plus the 5 rows above and the 5 below by the index.

``sql_speedup`` is the SQL p99 of "standing" over the Redis p99 of the same read at the
largest size (the top 10 is cheap either way; the table shows every read).

- HTTP: Chorus under gunicorn (gthread 2x4, CHORUS_ENV=production) serving
  GET /api/v1/leaderboards/company?window=all_time with a bearer token against the
  largest board, loaded with wrk (-t2 -c32) in rounds alternating with the floor, a
  minimal Flask app doing one Redis write (bench/floor.py); medians.

The last line is JSON: {"members": ..., "p99_ms": ..., "sql_speedup": ..., "http_rps": ...}
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this directory comes first on the path, and bench/scoring.py would
# shadow the ``scoring`` package: look modules up from the repository root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import redis  # noqa: E402

from app.boards import BoardStore, member_text  # noqa: E402
from bench.support import (  # noqa: E402
    ROOT,
    free_port,
    machine,
    percentile,
    postgres_reachable,
    start_app_and_floor,
    start_redis,
    throwaway_postgres,
    warm_up,
    wrk,
)
from scoring.ranking import MAX_POINTS, encode_score  # noqa: E402

EMPLOYEES = 10_000  # employees in the app's database besides the top of the board
OPERATIONS = ("top-10", "around me", "standing")


def skewed_points(rng: random.Random) -> int:
    """Most people have a little, a few a lot: many ties at the bottom, as in real use."""
    return min(MAX_POINTS, int(rng.paretovariate(1.1) * 5) - 5)


def load_board(connection: redis.Redis, key: str, members: int, seed: int) -> list[int]:
    """Members 1..n with skewed points; returns everyone's points (index = member - 1)."""
    rng = random.Random(seed)
    start_time = datetime(2026, 1, 1, tzinfo=UTC)
    points = [skewed_points(rng) for _ in range(members)]
    connection.delete(key)
    pipe = connection.pipeline(transaction=False)
    for first in range(0, members, 10_000):
        chunk = range(first, min(members, first + 10_000))
        pipe.zadd(
            key,
            {
                member_text(m + 1): encode_score(
                    points[m], start_time + timedelta(seconds=rng.randrange(10**7))
                )
                for m in chunk
            },
        )
        if len(pipe) >= 10:
            pipe.execute()
    pipe.execute()
    return points


def timed(calls: list[Callable[[], object]]) -> list[float]:
    """Milliseconds per call."""
    out = []
    clock = time.perf_counter_ns
    for call in calls:
        began = clock()
        call()
        out.append((clock() - began) / 1e6)
    return out


def measure(operations: dict[str, Callable[[int], object]], members: int, samples: int, seed: int):
    """Per operation, p50 and p99 over ``samples`` random members, interleaved."""
    rng = random.Random(seed)
    who = [rng.randint(1, members) for _ in range(samples)]
    for operation in operations.values():  # warm up connections and caches
        for member in who[:50]:
            operation(member)
    latencies: dict[str, list[float]] = {name: [] for name in operations}
    for member in who:
        for name, operation in operations.items():
            latencies[name].extend(timed([lambda o=operation, m=member: o(m)]))
    return {
        name: {"p50": statistics.median(values), "p99": percentile(values, 0.99)}
        for name, values in latencies.items()
    }


def redis_reads(store: BoardStore, key: str) -> dict[str, Callable[[int], object]]:
    return {
        "top-10": lambda member: store.page(key, 0, 10),
        "around me": lambda member: store.around(key, member, 10),
        "standing": lambda member: store.standing(key, member),
    }


def load_totals(conn, points: list[int]) -> None:
    """The SQL contender: one pre-aggregated row per member, an index on the total."""
    conn.execute("DROP TABLE IF EXISTS bench_totals")
    conn.execute(
        "CREATE TABLE bench_totals (employee_id integer PRIMARY KEY, total integer NOT NULL)"
    )
    buffer = io.StringIO("".join(f"{m + 1}\t{p}\n" for m, p in enumerate(points)))
    with conn.cursor().copy("COPY bench_totals (employee_id, total) FROM STDIN") as copy:
        copy.write(buffer.getvalue())
    conn.execute("CREATE INDEX ix_bench_totals_total ON bench_totals (total)")
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE bench_totals")  # index-only scans need the visibility map
    conn.autocommit = False


SQL_TOP = "SELECT employee_id, total FROM bench_totals ORDER BY total DESC LIMIT 10"
SQL_STANDING = """
SELECT me.total, 1 + (SELECT count(*) FROM bench_totals o WHERE o.total > me.total)
FROM bench_totals me WHERE me.employee_id = %s
"""
SQL_AROUND = """
SELECT 1 + count(*), NULL, NULL FROM bench_totals
 WHERE total > (SELECT total FROM bench_totals WHERE employee_id = %(member)s)
UNION ALL (SELECT NULL, employee_id, total FROM bench_totals
 WHERE total > (SELECT total FROM bench_totals WHERE employee_id = %(member)s)
 ORDER BY total LIMIT 5)
UNION ALL (SELECT NULL, employee_id, total FROM bench_totals
 WHERE total <= (SELECT total FROM bench_totals WHERE employee_id = %(member)s)
 ORDER BY total DESC LIMIT 5)
"""


def sql_reads(conn) -> dict[str, Callable[[int], object]]:
    def run(query: str, params) -> list:
        return conn.execute(query, params, prepare=True).fetchall()

    return {
        "top-10": lambda member: run(SQL_TOP, None),
        "around me": lambda member: run(SQL_AROUND, {"member": member}),
        "standing": lambda member: run(SQL_STANDING, (member,)),
    }


# Run in a process of its own, configured by the app's environment.
PREPARE_APP = """
import json, sys
from flask_migrate import upgrade
from sqlalchemy import insert, text
from app import create_app
from app.extensions import db
from app.models import Employee, utcnow
from app.services.tokens import create_token

given = json.loads(sys.argv[1])
app = create_app()
with app.app_context():
    upgrade()
    now = utcnow()
    db.session.execute(insert(Employee), [
        {"id": i, "email": f"person{i}@example.com", "name": f"Person {i}", "opted_in_at": now}
        for i in given["ids"]
    ])
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequence on
        db.session.execute(text(
            "SELECT setval(pg_get_serial_sequence('employees', 'id'), max(id)) FROM employees"
        ))
    viewer = db.session.get(Employee, given["viewer"])
    token, secret = create_token(viewer, viewer, "bench")
    db.session.commit()
    print(secret)
"""


def prepare_app_database(env: dict[str, str], viewer: int, shown: list[int]) -> str:
    """Migrate the app's database, add employees (the viewer among them, and everyone
    in ``shown``: the board's top, whose names the pages show) and a token for the
    viewer; returns the token's secret."""
    ids = sorted(set(range(1, EMPLOYEES + 1)) | set(shown) | {viewer})
    done = subprocess.run(
        [sys.executable, "-c", PREPARE_APP, json.dumps({"viewer": viewer, "ids": ids})],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def http_bench(stack: ExitStack, tmp: Path, env: dict[str, str], secret: str, options) -> dict:
    app_port, floor_port = free_port(), free_port()
    no_lane_port = free_port() if options.no_lane else None
    start_app_and_floor(
        stack,
        tmp,
        env,
        app_port=app_port,
        floor_port=floor_port,
        workers=options.workers,
        threads=options.threads,
        no_lane_port=no_lane_port,
    )
    targets = {
        "leaderboard": f"http://127.0.0.1:{app_port}/api/v1/leaderboards/company?window=all_time",
        "floor": f"http://127.0.0.1:{floor_port}/f/bench",
    }
    headers = {"leaderboard": [f"Authorization: Bearer {secret}"], "floor": []}
    if no_lane_port is not None:
        path = "/api/v1/leaderboards/company?window=all_time"
        targets["no-lane"] = f"http://127.0.0.1:{no_lane_port}{path}"
        headers["no-lane"] = headers["leaderboard"]
    for name, url in targets.items():
        warm_up(url, options.warmup, options.connections, headers[name], name=name)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    for round_number in range(1, options.rounds + 1):
        for name, url in targets.items():
            result = wrk(url, options.seconds, options.connections, headers[name])
            runs[name].append(result)
            print(
                f"http round {round_number} {name:12} {result['rps']:8,.0f} req/s  "
                f"p99 {result['p99_ms']:6.2f} ms",
                flush=True,
            )
    return {
        name: {key: statistics.median(r[key] for r in results) for key in ("rps", "p99_ms")}
        for name, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="board sizes, comma-separated")
    parser.add_argument("--samples", type=int, default=3000, help="Redis reads per operation")
    parser.add_argument("--sql-samples", type=int, default=300, help="SQL reads per operation")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--no-lane",
        action="store_true",
        help="also measure the board read without its fast path, in the same rounds",
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    if not options.no_http and shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (make bench-boards does it as root)")
    print(f"machine: {machine()}", flush=True)
    with_sql = postgres_reachable()
    if not with_sql:
        print("PostgreSQL does not answer: no SQL comparison, the app runs on SQLite")

    results: dict[int, dict[str, dict]] = {}
    http: dict | None = None
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        connection = redis.Redis.from_url(redis_url)
        store = BoardStore(connection)
        conn = None
        if with_sql:
            import psycopg

            database = stack.enter_context(throwaway_postgres(f"chorus_bench_{os.getpid()}"))
            conn = stack.enter_context(
                psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://"))
            )
        key = BoardStore.key("all")
        for size in sizes:
            began = time.perf_counter()
            points = load_board(connection, key, size, options.seed)
            loaded = time.perf_counter() - began
            memory = connection.memory_usage(key, samples=0) or 0
            print(
                f"{size:,} members loaded in {loaded:.1f} s ({memory / 2**20:,.0f} MiB)",
                flush=True,
            )
            results[size] = {"redis": measure(redis_reads(store, key), size, options.samples, 1)}
            if conn is not None:
                load_totals(conn, points)
                results[size]["sql"] = measure(sql_reads(conn), size, options.sql_samples, 2)
            for side, figures in results[size].items():
                for name, f in figures.items():
                    print(
                        f"  {side:5} {name:10} p50 {f['p50']:8.3f} ms  p99 {f['p99']:8.3f} ms",
                        flush=True,
                    )
        if not options.no_http:
            viewer = 42  # on the board (members are 1..n) and a real employee
            env = {
                **os.environ,
                "CHORUS_ENV": "production",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "REDIS_URL": redis_url,
                "DATABASE_URL": database if with_sql else f"sqlite:///{tmp / 'bench.db'}",
                "BASE_URL": "http://127.0.0.1",
                "LOG_LEVEL": "WARNING",
            }
            if conn is not None:
                conn.commit()
            top = [int(member) for member in connection.zrange(key, 0, 199)]
            secret = prepare_app_database(env, viewer, top)
            http = http_bench(stack, tmp, env, secret, options)
        connection.close()

    largest = max(sizes)
    print()
    print(f"{'board read (p99 ms / p50 ms)':28}" + "".join(f"{size:>24,}" for size in sizes))
    for side in ("redis", "sql"):
        for name in OPERATIONS:
            if side not in results[largest]:
                continue
            cells = "".join(
                f"{results[s][side][name]['p99']:>13.3f} /{results[s][side][name]['p50']:>8.3f}"
                for s in sizes
            )
            print(f"{side + ' ' + name:28}{cells}")
    worst = max(results[largest]["redis"][name]["p99"] for name in OPERATIONS)
    speedup = None
    if "sql" in results[largest]:
        speedup = (
            results[largest]["sql"]["standing"]["p99"]
            / results[largest]["redis"]["standing"]["p99"]
        )
        for size in sizes:
            figures = results[size]
            ratios = ", ".join(
                f"{name} {figures['sql'][name]['p99'] / figures['redis'][name]['p99']:.1f}x"
                for name in OPERATIONS
            )
            print(f"SQL p99 / Redis p99 at {size:,}: {ratios}")
    if http:
        print(
            f"HTTP GET /api/v1/leaderboards/company (gthread {options.workers}x{options.threads}, "
            f"wrk -c{options.connections}): {http['leaderboard']['rps']:,.0f} req/s, "
            f"p99 {http['leaderboard']['p99_ms']:.1f} ms; floor (Flask + one Redis write) "
            f"{http['floor']['rps']:,.0f} req/s; ratio "
            f"{http['leaderboard']['rps'] / http['floor']['rps']:.2f}"
        )
        if "no-lane" in http:
            print(
                f"the same without the fast path: {http['no-lane']['rps']:,.0f} req/s, "
                f"p99 {http['no-lane']['p99_ms']:.1f} ms; ratio "
                f"{http['no-lane']['rps'] / http['floor']['rps']:.2f}"
            )
    print(
        json.dumps(
            {
                "members": largest,
                "p99_ms": round(worst, 3),
                "sql_speedup": round(speedup, 1) if speedup else None,
                "http_rps": round(http["leaderboard"]["rps"]) if http else None,
                "http_floor_rps": round(http["floor"]["rps"]) if http else None,
            }
        )
    )


if __name__ == "__main__":
    main()
