"""An app on a database of its own, migrated up to an older revision, for the tests of
the migrations that come after it: SQLite, a file of its own; PostgreSQL, a schema of
its own in the test database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db

SCHEMA = "migration_check"


@contextmanager
def app_migrated_to(
    revision: str, database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        separator = "&" if "?" in database_url else "?"
        url = f"{database_url}{separator}options=-csearch_path%3D{SCHEMA}"
    app = create_app(
        {
            "CHORUS_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "MAIL_BACKEND": "memory",
            "BASE_URL": "http://localhost",
            "SERVER_NAME": None,
        }
    )
    try:
        with app.app_context():
            upgrade(revision=revision)
            try:
                yield app
            finally:
                db.session.rollback()
                db.engine.dispose()
    finally:
        if database_url.startswith("postgresql"):
            with engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
            engine.dispose()
