"""Flask integrations, created unbound here and bound in ``create_app`` via ``init_app``."""

from __future__ import annotations

from collections.abc import Callable

import redis
from flask import Flask, current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase

from app.client_ip import client_ip


class Base(DeclarativeBase):
    # Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = Api()
limiter = Limiter(key_func=client_ip, default_limits=[])


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction commits (and never if it rolls
    back): for side effects outside the database, such as dropping a Redis cache, that
    must not run ahead of the data they follow."""
    db.session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(FlaskSession, "after_commit")
def _run_after_commit(session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


@event.listens_for(FlaskSession, "after_rollback")
def _forget_after_commit(session) -> None:
    session.info.pop("after_commit", None)


def init_redis(app: Flask, url: str) -> None:
    """One connection pool per process, shared by boards, queues and rate limits."""
    app.extensions["redis"] = redis.Redis.from_url(
        url, health_check_interval=30, socket_connect_timeout=2, socket_timeout=5
    )
    app.config["REDIS_URL"] = url


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
