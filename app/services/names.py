"""Names that must be unique whatever their case: teams, interests, rewards, taboo topics,
scoring rules, referral programmes and pseudonyms.

Two names are the same when their Unicode case folds are equal (``scoring.names``:
"Ärzte" and "ÄRZTE", "Straße" and "STRASSE"). The fold is computed in Python, not in
SQL: SQLite's ``lower()`` folds ASCII letters only and PostgreSQL's follows the server's
locale, so a fold in SQL would answer differently on the two databases. Each model
stores the fold of its name beside it (``name_key``, ``pseudonym_key``; set by
``app.models`` whenever the name is set) under a unique constraint, so the database is
the judge: the service's check gives the friendly 409 first, and when two requests pass
it at the same moment the second write breaks the constraint, which ``flush_unique``
turns into the same 409.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict
from app.extensions import db
from scoring.names import name_key


def key_column(column):
    """The stored key of a name column: ``Team.name`` -> ``Team.name_key``."""
    return getattr(column.class_, f"{column.key}_key")


def same_name_as(column, name: str, other_than: int | None = None) -> str | None:
    """The name stored in ``column`` (``Team.name``) by another row that is the same
    name as ``name``, if any; ``other_than`` is the id of the row being renamed."""
    query = select(column).where(key_column(column) == name_key(name))
    if other_than is not None:
        query = query.where(column.class_.id != other_than)
    return db.session.scalars(query.limit(1)).first()


def _breaks_unique_key(error: IntegrityError, column) -> bool:
    # PostgreSQL names the constraint (uq_teams_name_key), SQLite the column
    # (teams.name_key); any other integrity error is not a name clash.
    key = key_column(column)
    table = column.class_.__tablename__
    text = str(error.orig)
    return f"uq_{table}_{key.key}" in text or f"{table}.{key.key}" in text


def flush_unique(column, message: str, field: str = "name") -> None:
    """Flush; a name in ``column`` taken meanwhile by another request answers 409."""
    try:
        db.session.flush()
    except IntegrityError as exc:  # the error handler rolls the request back
        if not _breaks_unique_key(exc, column):
            raise
        raise Conflict(message, field=field) from exc
