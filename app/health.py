"""``/healthz``: is the database reachable, Redis answering, the queue being worked?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.auth import public
from app.extensions import db, get_redis, limiter
from app.queue import QUEUES, queue
from app.worker_status import abandoned_job_ids, live_workers

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
@public
def healthz():
    checks: dict = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        redis = get_redis()
        redis.ping()
        checks["redis"] = {"ok": True}
        queues = {name: queue(name) for name in QUEUES}
        abandoned = {
            name: len(abandoned_job_ids(redis, name, q.failed_job_registry.key))
            for name, q in queues.items()
        }
        checks["queues"] = {
            "ok": True,
            # Workers heard from lately; a killed one drops out within a minute.
            "workers": len(live_workers(redis)),
            "queued": {name: q.count for name, q in queues.items()},
            "failed": {
                name: q.failed_job_registry.count - abandoned[name] for name, q in queues.items()
            },
            # Jobs whose worker died mid-run; scheduled work is done again by its next run.
            "abandoned": abandoned,
        }
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
        checks["queues"] = {"ok": False}
    healthy = checks["database"]["ok"] and checks["redis"]["ok"]
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503
