"""``/healthz``: is the database reachable, Redis answering, the queue being worked?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from rq import Worker
from sqlalchemy import text

from app.auth import public
from app.extensions import db, get_redis, limiter
from app.queue import QUEUES, queue

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
        checks["queues"] = {
            "ok": True,
            "workers": Worker.count(connection=redis),
            "queued": {name: queue(name).count for name in QUEUES},
            "failed": {name: queue(name).failed_job_registry.count for name in QUEUES},
        }
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
        checks["queues"] = {"ok": False}
    healthy = checks["database"]["ok"] and checks["redis"]["ok"]
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503
