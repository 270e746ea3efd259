"""Small helpers over the database session that every layer may use."""

from __future__ import annotations

import re

from app.errors import NotFound
from app.extensions import db


def get_or_404(model, object_id: int, field: str = "id"):
    obj = db.session.get(model, object_id)
    if obj is None:
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", model.__name__).lower()  # ScoringRule
        raise NotFound(f"No {words} with id {object_id}.", field=field)
    return obj
