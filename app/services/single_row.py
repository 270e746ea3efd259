"""Settings kept in a table of one row (company settings, the sharing policy).

Reading never writes: until someone changes a setting, the row is not stored, and
reading it answers an unsaved row holding the defaults (the company's name and time zone
from the environment, the policy's gentle caps). The first change stores it, with the
fixed id ``SINGLE_ROW_ID``, so that two first changes at once store one row.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect, select

from app.db import insert_ignoring_conflicts
from app.extensions import db
from app.models import Employee
from app.services import audit

M = TypeVar("M")

SINGLE_ROW_ID = 1


def single_row(model: type[M], **defaults: Any) -> M:
    """The stored row, or an unsaved one with ``defaults`` (not added to the session)."""
    row = db.session.scalar(select(model).order_by(model.id).limit(1))
    return row if row is not None else model(**defaults)


def stored_single_row(row: M) -> M:
    """``row`` as stored: an unsaved row is stored first, with the values it holds."""
    if not inspect(row).transient:
        return row
    model = type(row)
    values = {
        column.key: getattr(row, column.key)
        for column in inspect(model).column_attrs
        if getattr(row, column.key) is not None
    }
    # A first change made at the same moment elsewhere stored it already: keep that one.
    insert_ignoring_conflicts(model, [{**values, "id": SINGLE_ROW_ID}])
    return db.session.scalar(select(model).order_by(model.id).limit(1))


def update_single_row(row: M, actor: Employee | None, action: str, changes: dict) -> M:
    """Apply changes the edge schema validated, and audit them; stores the row first
    if it never was."""
    row = stored_single_row(row)
    for key, value in changes.items():
        setattr(row, key, value)
    audit.record(actor, action, row, **changes)
    return row
