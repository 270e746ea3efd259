"""Settings kept in a table of one row (company settings, the sharing policy)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from app.extensions import db
from app.models import Employee
from app.services import audit

M = TypeVar("M")


def single_row(model: type[M], **defaults: Any) -> M:
    """The row, created with ``defaults`` on first use."""
    row = db.session.scalar(select(model).limit(1))
    if row is None:
        row = model(**defaults)
        db.session.add(row)
        db.session.flush()
    return row


def update_single_row(row: M, actor: Employee | None, action: str, changes: dict) -> M:
    """Apply changes the edge schema validated, and audit them."""
    for key, value in changes.items():
        setattr(row, key, value)
    audit.record(actor, action, row, **changes)
    return row
