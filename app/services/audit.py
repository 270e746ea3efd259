"""The audit log of administrative and consent actions."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEntry, Employee


def record(
    actor: Employee | None,
    action: str,
    target: Any = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__tablename__ if target is not None else None,
        target_id=target.id if target is not None else None,
        details=details,
    )
    db.session.add(entry)
    return entry
