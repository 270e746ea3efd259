"""Names that must be unique whatever their case: teams, interests, rewards, taboo topics,
scoring rules, referral programmes and pseudonyms.

Two names are the same when their Unicode case folds are equal ("Ärzte" and "ÄRZTE",
"Straße" and "STRASSE"). The comparison runs in Python, not in SQL: SQLite's ``lower()``
folds ASCII letters only and PostgreSQL's follows the server's locale, so a check in SQL
would answer differently on the two databases. These catalogues hold tens of names, so
reading them all is cheap. The column's own unique constraint still refuses an exact
duplicate written by a concurrent request; ``flush_unique`` turns that into a 409.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict
from app.extensions import db


def name_key(name: str) -> str:
    """What two names share when they are the same name."""
    return unicodedata.normalize("NFKC", name).casefold()


def same_name_as(column, name: str, other_than: int | None = None) -> str | None:
    """The name stored in ``column`` (``Team.name``) by another row that is the same
    name as ``name``, if any; ``other_than`` is the id of the row being renamed."""
    key = name_key(name)
    row_id = column.class_.id
    for found_id, stored in db.session.execute(select(row_id, column).where(column.is_not(None))):
        if found_id != other_than and name_key(stored) == key:
            return stored
    return None


def flush_unique(message: str) -> None:
    """Flush; a unique name taken meanwhile by another request answers 409."""
    try:
        db.session.flush()
    except IntegrityError as exc:  # the error handler rolls the request back
        raise Conflict(message, field="name") from exc
