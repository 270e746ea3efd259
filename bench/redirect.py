"""Benchmark of the tracked-link redirect against a floor, in one run.

Starts a throwaway redis-server, builds a throwaway SQLite database with one published
item and one share, and serves two apps with the production server setup
(gunicorn gthread, 2 workers x 4 threads) on 127.0.0.1:

- redirect: Chorus itself (CHORUS_ENV=production), GET /l/<token>;
- floor: a minimal Flask app doing one Redis write (XADD) and a 302.

wrk loads each (-t2 -c32, warmed up until stable first) in alternating rounds; the medians
are compared. The last line is JSON:
{"redirect_rps": ..., "floor_rps": ..., "ratio": ..., "p99_ms": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from support import ROOT, free_port, redis_binary, start, start_app_and_floor, warm_up, wrk


def prepare_database(env: dict[str, str]) -> str:
    """Migrate the throwaway database, add an item and a share; return its token."""
    script = """
from flask_migrate import upgrade
from app import create_app
from app.extensions import db
from app.links import make_token
from app.models import ContentItem, ContentStatus, Employee, utcnow
from app.services import sharing
from scoring.vocabulary import Channel

app = create_app()
with app.app_context():
    upgrade()
    person = Employee(email="bench@example.com", name="Bench", opted_in_at=utcnow())
    item = ContentItem(title="A story", destination_url="https://www.example.com/stories/1",
                       status=ContentStatus.PUBLISHED, published_at=utcnow())
    db.session.add_all([person, item])
    db.session.commit()
    share = sharing.create_share(person, content_id=item.id, channel=Channel.LINKEDIN)
    db.session.commit()
    sharing.warm_link(share)
    print(make_token(share.id))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--warmup", type=int, default=2, help="least seconds of warm-up per server (until stable)"
    )
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--no-lane",
        action="store_true",
        help="also measure Chorus without its fast path, in the same rounds",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (make bench-redirect does it as root)")
    redis_server = redis_binary()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-")))
        if os.environ.get("BENCH_KEEP"):  # look at the logs afterwards
            tmp = Path(tempfile.mkdtemp(prefix="chorus-bench-"))
        redis_port, app_port, floor_port = free_port(), free_port(), free_port()
        no_lane_port = free_port() if options.no_lane else None
        start(
            stack,
            [
                redis_server,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
            ],
            redis_port,
            tmp / "redis.log",
        )
        env = {
            **os.environ,
            "CHORUS_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "BASE_URL": f"http://127.0.0.1:{app_port}",
        }
        token = prepare_database(env)
        start_app_and_floor(
            stack,
            tmp,
            env,
            app_port=app_port,
            floor_port=floor_port,
            worker_class=options.worker_class,
            workers=options.workers,
            threads=options.threads,
            no_lane_port=no_lane_port,
        )
        targets = {
            "redirect": f"http://127.0.0.1:{app_port}/l/{token}",
            "floor": f"http://127.0.0.1:{floor_port}/f/{token}",
        }
        if no_lane_port is not None:
            targets["no-lane"] = f"http://127.0.0.1:{no_lane_port}/l/{token}"
        for name, url in targets.items():
            warm_up(url, options.warmup, options.connections, name=name)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for round_number in range(1, options.rounds + 1):
            for name, url in targets.items():
                result = wrk(url, options.seconds, options.connections)
                runs[name].append(result)
                print(
                    f"round {round_number} {name:8} {result['rps']:9,.0f} req/s  "
                    f"p99 {result['p99_ms']:6.2f} ms",
                    flush=True,
                )
        with open(tmp / "app.log") as log:
            request_lines = sum(1 for line in log if '"route": "/l/<path:token>"' in line)

    median = {
        name: {key: statistics.median(r[key] for r in results) for key in ("rps", "p99_ms")}
        for name, results in runs.items()
    }
    ratio = median["redirect"]["rps"] / median["floor"]["rps"]
    print()
    setup = f"gunicorn {options.worker_class} {options.workers}x{options.threads}"
    print(f"{setup:32} {'req/s (median)':>15} {'p99 ms (median)':>16}")
    for name, label in (("redirect", "Chorus GET /l/<token>"), ("floor", "Flask + XADD + 302")):
        print(f"{label:32} {median[name]['rps']:15,.0f} {median[name]['p99_ms']:16.2f}")
    print(f"{'ratio redirect / floor':32} {ratio:15.2f}")
    if options.no_lane:
        no_lane = median["no-lane"]
        print(
            f"{'Chorus without the fast path':32} {no_lane['rps']:15,.0f} {no_lane['p99_ms']:16.2f}"
        )
        print(f"{'ratio no fast path / floor':32} {no_lane['rps'] / median['floor']['rps']:15.2f}")
    print(f"(request log lines written by the app: {request_lines:,})")
    print(
        json.dumps(
            {
                "redirect_rps": round(median["redirect"]["rps"]),
                "floor_rps": round(median["floor"]["rps"]),
                "ratio": round(ratio, 3),
                "p99_ms": round(median["redirect"]["p99_ms"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
