"""The taboo-topic guard: HR's topics, and the check every share text passes."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import TabooTopic
from scoring import sharing


def active_topics() -> list[sharing.TabooTopic]:
    rows = db.session.scalars(select(TabooTopic).where(TabooTopic.active.is_(True)))
    return [
        sharing.TabooTopic(
            name=row.name, explanation=row.explanation, phrases=row.phrases, patterns=row.patterns
        )
        for row in rows
    ]


def check_text(text: str) -> list[sharing.TabooHit]:
    """The topics ``text`` touches; an empty list means it may be shared."""
    return sharing.find_taboo(text, active_topics())
