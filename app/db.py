"""SQL helpers every service may use, and the one place that asks which database runs.

Chorus runs on PostgreSQL in production and on SQLite on laptops and in most tests.
Where the two differ (``ON CONFLICT`` inserts, ``= ANY`` for long id lists, bulk
inserts, row locks), the difference is written here once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Enum,
    Integer,
    String,
    Table,
    Text,
    any_,
    case,
    cast,
    event,
    func,
    inspect,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.errors import NotFound
from app.extensions import db
from app.models import UTCDateTime


def tune_sqlite(engine: Engine) -> None:
    """A SQLite file in write-ahead-log mode: the web, the worker and the clock read
    while one of them writes, and a commit does not wait for the disk (synchronous
    NORMAL: a crash of the machine may lose the last commits, never the file). Nothing
    on PostgreSQL or for a database in memory."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _write_ahead(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file: once is enough
        cursor.execute("PRAGMA synchronous=NORMAL")  # per connection
        cursor.close()


def get_or_404(model, object_id: int, field: str = "id"):
    obj = db.session.get(model, object_id)
    if obj is None:
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", model.__name__).lower()  # ScoringRule
        raise NotFound(f"No {words} with id {object_id}.", field=field)
    return obj


def on_postgresql() -> bool:
    """PostgreSQL, or else SQLite: the only question asked about the database."""
    return db.session.get_bind().dialect.name == "postgresql"


def insert(table):
    """The dialect's INSERT, which knows ``on_conflict_do_nothing`` and ``RETURNING``."""
    return postgresql.insert(table) if on_postgresql() else sqlite.insert(table)


def insert_ignoring_conflicts(model, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping those that clash with a unique constraint; returns how
    many were inserted."""
    # RETURNING counts what was inserted: rowcount is not reliable for multi-row inserts.
    return len(inserted_rows(model, rows, next(iter(inspect(model).primary_key))))


def inserted_rows(model, rows: Sequence[dict[str, Any]], *columns) -> list:
    """Insert rows, skipping those that clash with a unique constraint; returns
    ``columns`` of the rows inserted (one multi-row statement: keep batches small)."""
    if not rows:
        return []
    statement = insert(model).values(list(rows)).on_conflict_do_nothing().returning(*columns)
    return db.session.execute(statement).all()


def lock_row(model, row_id: int) -> None:
    """Hold the row until the commit: FOR UPDATE on PostgreSQL. SQLite has no row locks:
    a no-op write takes the database's write lock, which serialises every writer."""
    table = model.__table__
    if on_postgresql():
        db.session.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())
    else:
        db.session.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))


def among(column, values: Collection) -> ColumnElement[bool]:
    """``column IN values``. On PostgreSQL as ``= ANY(array)``: one parameter, so the
    statement text stays short and the same for every batch (psycopg parses long
    statements anew each time, which cost more than the query itself)."""
    if on_postgresql():
        # A list psycopg adapts, not an array literal cast from text: the planner folds
        # the former into a constant, the latter would be parsed again for every row.
        array = postgresql.ARRAY(column.type)
        return column == any_(cast(literal(list(values), array), array))
    return column.in_(list(values))


def bulk_insert(table: Table, rows: Sequence[dict[str, Any]], on_conflict=None) -> int:
    """Insert many rows in one statement per batch; returns how many were inserted (not
    skipped by ``on_conflict(statement)``, which adds the ON CONFLICT clause).
    PostgreSQL gets one array per column and unnests them (a short statement, compiled
    and parsed once); SQLite an executemany of one cached INSERT."""
    if not rows:
        return 0
    postgres = on_postgresql()
    if postgres:
        names = list(rows[0])
        arrays = [func.unnest(_array(table.c[name], [row[name] for row in rows])) for name in names]
        statement = postgresql.insert(table).from_select(names, select(*arrays))
    else:
        statement = sqlite.insert(table)
    if on_conflict is not None:
        statement = on_conflict(statement)
    # The count is kept for INSERTs only when asked (SQLAlchemy keeps it for UPDATEs).
    statement = statement.execution_options(preserve_rowcount=True)
    return db.session.execute(statement, None if postgres else list(rows)).rowcount


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utc_text(value: datetime) -> str:
    if value.tzinfo is None:  # as UTCDateTime refuses them
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return _quoted(value.astimezone(UTC).isoformat())


def _array_type(column):
    """The column's element type for a PostgreSQL array, and how one value is written
    in an array literal (NULL stays unquoted; text is quoted and escaped)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return DateTime(timezone=True), _utc_text
    if isinstance(kind, Enum):
        return String(), lambda value: _quoted(getattr(value, "value", value))
    if isinstance(kind, Boolean):
        return kind, lambda value: "t" if value else "f"
    if isinstance(kind, Date):
        return kind, lambda value: value.isoformat()
    if isinstance(kind, Integer):
        return kind, lambda value: str(int(value))
    if isinstance(kind, String):
        return kind, _quoted
    raise TypeError(f"no array type for {column}")


def _array(column, values: Iterable[Any]) -> ColumnElement:
    """``values`` as one PostgreSQL array parameter of the column's type, for a SELECT
    list (evaluated once). Written as an array literal here: psycopg's adaptation of a
    list costs ~3 µs a value in Python."""
    element, text = _array_type(column)
    literal_text = "{" + ",".join("NULL" if v is None else text(v) for v in values) + "}"
    return cast(literal(literal_text, Text()), postgresql.ARRAY(element))


def local_date(column, offsets: Sequence[tuple[datetime, int]]) -> ColumnElement:
    """The local calendar date of a UTC time column, given the zone's offsets from UTC
    and the instants they start (``scoring.analytics.utc_offsets``; the first applies
    to anything earlier too). Plain date arithmetic, the same on both databases and
    equal to Python's: SQLite knows no time zones, and PostgreSQL's own zone data may
    differ from Python's."""
    if on_postgresql():

        def shifted(seconds: int) -> ColumnElement:
            utc = func.timezone("UTC", column)
            return cast(utc + literal_column(f"INTERVAL '{int(seconds)} seconds'"), Date)
    else:

        def shifted(seconds: int) -> ColumnElement:
            return func.date(column, f"{int(seconds):+d} seconds")

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    # Latest first: most rows are recent.
    later = [(column >= start, shifted(seconds)) for start, seconds in reversed(offsets[1:])]
    return case(*later, else_=shifted(offsets[0][1]))


def period_of(day, starts: Sequence[date], daily: bool = False) -> ColumnElement:
    """The first day of the period (of consecutive periods starting on ``starts``) that
    holds a date column's day; ``daily``: the periods are days, each its own start."""
    if daily:
        return day
    # Latest first; a day before the first start has none (NULL).
    return case(*[(day >= start, literal(start, Date)) for start in reversed(starts)])


def period_start_of(day, period: str, week_start: int = 0) -> ColumnElement:
    """The first day of the day (itself), week (from ``week_start``, 0 = Monday) or month
    that holds a date column's day, as ``scoring.analytics.period_start`` works it out."""
    if period == "day":
        return day
    if on_postgresql():
        if period == "month":
            return cast(func.date_trunc("month", day), Date)
        weekday = cast(func.extract("isodow", day), Integer) - 1
        return day - (weekday - week_start + 7) % 7
    if period == "month":
        return func.date(day, "start of month")
    # strftime('%w'): 0 is Sunday; Python's weekday(): 0 is Monday.
    back = (cast(func.strftime("%w", day), Integer) + 13 - week_start) % 7
    return func.date(day, "-" + cast(back, String) + " days")
