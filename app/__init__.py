"""Chorus: the Flask adapter around the pure ``scoring`` and ``rewards`` domains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)

    from app import auth, cli, errors, logs, routing, transactions
    from app.db import tune_sqlite
    from app.extensions import api, csrf, db, init_redis, limiter, migrate
    from app.redis_server import ensure_embedded_redis

    logs.init_app(app)
    routing.init_app(app)  # before any route: path ids are bounded
    init_redis(app, app.config["REDIS_URL"] or ensure_embedded_redis(app.instance_path))
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limits_uri(app.config["REDIS_URL"]))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has one writer: on a laptop the web, the worker and the clock wait for
        # each other's writes (loading the demo takes seconds) rather than fail at 5 s.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
            app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
        )
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    transactions.init_app(app)  # one commit or rollback per request
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    errors.register_error_handlers(app)  # after the Api, so that ours answer HTTP errors
    _register_blueprints(app)
    cli.init_app(app)
    _compose_fast_paths(app)
    return app


def _limits_uri(redis_url: str) -> str:
    # The `limits` package names unix sockets redis+unix://
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def _compose_fast_paths(app: Flask) -> None:
    """Tracked links and board reads with a token skip Flask's request machinery
    (``app.fast_paths``); last, once every route is known. ``FAST_LANES = False`` leaves
    them out: board reads then take their routes, tracked links have none."""
    from app.api.leaderboards import BoardReads
    from app.fast_paths import FastPaths
    from app.web.redirect import TrackedLinks

    if app.config.get("FAST_LANES", True):
        app.wsgi_app = FastPaths(app, app.wsgi_app, [TrackedLinks(app), BoardReads(app)])


def _register_blueprints(app: Flask) -> None:
    from app.api import register_api
    from app.health import bp as health_bp
    from app.web import register_pages

    app.register_blueprint(health_bp)
    register_api(app)
    register_pages(app)
