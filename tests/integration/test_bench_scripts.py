"""The benchmarks behind ``make bench-*`` still run: each at a tiny size, to its JSON line.

They measure nothing here (the figures come from the full runs); this only keeps the
entry points working as the code under them moves. bench-redirect needs wrk and a few
minutes of load, so only its argument parsing is not covered here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RUNS = {
    "clicks": (
        ["--sqlite-only", "--clicks", "600", "--rounds", "1"],
        {"clicks_per_s", "floor_clicks_per_s", "ratio", "database"},
    ),
    "scoring": (
        ["--sqlite-only", "--events", "300", "--rounds", "1"],
        {"events_per_s", "floor_events_per_s", "ratio", "database"},
    ),
    "rebuild": (
        ["--lines", "3000", "--employees", "200", "--teams", "5", "--days", "20"],
        {"lines", "seconds", "boards", "database"},
    ),
    "boards": (
        ["--sizes", "2000", "--no-http", "--samples", "50", "--sql-samples", "5"],
        {"members", "p99_ms"},
    ),
    "badges": (
        [
            *("--history", "2000", "--batch", "100", "--rounds", "1"),
            *("--employees", "300", "--lines", "3000", "--teams", "5"),
        ],
        {"incremental_ratio", "backfill_s", "lines"},
    ),
    "digest": (
        ["--sqlite", "--employees", "300", "--shares", "600", "--teams", "5", "--sample", "50"],
        {"recipients", "seconds", "peak_mib", "floor_seconds", "database"},
    ),
    "settle": (
        ["--members", "300", "--events", "600", "--teams", "5"],
        {"members", "seconds", "floor_seconds", "ratio", "database"},
    ),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_benchmark_runs_to_its_json_line(name: str):
    arguments, keys = RUNS[name]
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys <= set(figures)


def test_the_redemption_benchmark_runs_to_its_json_line_with_none_oversold():
    """bench-redeem needs PostgreSQL: skipped when the local server does not answer."""
    from bench.support import postgres_reachable

    if not postgres_reachable():
        pytest.skip("bench-redeem needs PostgreSQL, and none answers")
    arguments = ["--employees", "40", "--stock", "25", "--concurrency", "6", "--processes", "2"]
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "bench" / "redeem.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"settled_per_s", "oversold", "concurrency", "floor_per_s", "ratio"} <= set(figures)
    assert figures["oversold"] == 0
    assert figures["redeemed"] == 25  # the demand (80 asks) exceeds the stock
    assert figures["negative_balances"] == 0


def test_the_analytics_benchmark_runs_to_its_json_line_with_the_figures_agreeing():
    """bench-analytics needs PostgreSQL: skipped when the local server does not answer.
    The benchmark itself fails when the dashboard's figures and the raw GROUP BY's
    differ."""
    from bench.support import postgres_reachable

    if not postgres_reachable():
        pytest.skip("bench-analytics needs PostgreSQL, and none answers")
    arguments = [
        *("--employees", "300", "--teams", "5", "--items", "40", "--interests", "8"),
        *("--shares", "3000", "--clicks", "30000", "--referrals", "60", "--click-lines", "3000"),
        *("--rounds", "1"),
    ]
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "bench" / "analytics.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"p95_ms", "raw_p95_ms", "speedup", "clicks", "p50_ms", "shares", "database"} <= set(
        figures
    )
    assert figures["clicks"] == 30000
    assert figures["shares"] == 3000
    assert figures["database"] == "postgresql"
    assert isinstance(figures["p95_ok"], bool)
    assert isinstance(figures["speedup_ok"], bool)
