"""The taboo-topic guard: HR's topics, and the check every share text passes."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Employee, TabooTopic
from app.services import audit
from app.services.names import flush_unique, same_name_as
from scoring import sharing

# Every share text runs every pattern: keep them short.
MAX_PATTERN_LENGTH = 200


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


# HR's topics -----------------------------------------------------------------------


def get_topic(topic_id: int) -> TabooTopic:
    topic = db.session.get(TabooTopic, topic_id)
    if topic is None:
        raise NotFound(f"No taboo topic with id {topic_id}.", field="id")
    return topic


def all_topics() -> list[TabooTopic]:
    return list(db.session.scalars(select(TabooTopic).order_by(TabooTopic.name)))


def _clean_list(values: list[str]) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        value = " ".join((value or "").split()) if value else ""
        if value and value.lower() not in {v.lower() for v in cleaned}:
            cleaned.append(value)
    return cleaned


def _clean_patterns(patterns: list[str]) -> list[str]:
    cleaned = [p.strip() for p in patterns if p and p.strip()]
    for number, pattern in enumerate(cleaned, start=1):
        if len(pattern) > MAX_PATTERN_LENGTH:
            problem = f"at most {MAX_PATTERN_LENGTH} characters"
        elif error := sharing.pattern_error(pattern):
            problem = f"not a valid regular expression: {error}"
        elif re.search(pattern, "", flags=re.IGNORECASE) is not None:
            problem = "it matches an empty text, so it would block every share"
        else:
            continue
        message = f"Pattern {number} ({pattern}) is refused: {problem}."
        raise InvalidInput(message, field="patterns")
    return list(dict.fromkeys(cleaned))


def _check_name_free(name: str, topic_id: int | None = None) -> None:
    clash = same_name_as(TabooTopic.name, name, other_than=topic_id)
    if clash is not None:
        raise Conflict(f"A taboo topic called {clash!r} exists already.", field="name")


def _apply(topic: TabooTopic, data: dict[str, Any]) -> None:
    if "name" in data:
        topic.name = " ".join(data["name"].split())
        if not topic.name:
            raise InvalidInput("A taboo topic needs a name.", field="name")
        _check_name_free(topic.name, topic.id)
    if "explanation" in data:
        topic.explanation = data["explanation"].strip()
        if not topic.explanation:
            raise InvalidInput(
                "Explain why the topic is off-limits: employees read this.", field="explanation"
            )
    if "phrases" in data:
        topic.phrases = _clean_list(data["phrases"])
    if "patterns" in data:
        topic.patterns = _clean_patterns(data["patterns"])
    if "active" in data:
        topic.active = data["active"]
    if not topic.phrases and not topic.patterns:
        raise InvalidInput("Give at least one phrase or pattern.", field="phrases")


def create_topic(actor: Employee, data: dict[str, Any]) -> TabooTopic:
    topic = TabooTopic(name="", explanation="", phrases=[], patterns=[], active=True)
    with db.session.no_autoflush:
        _apply(topic, {"name": "", "explanation": "", **data})
    db.session.add(topic)
    flush_unique(TabooTopic.name, f"A taboo topic called {topic.name!r} exists already.")
    audit.record(actor, "taboo_topic.create", topic, name=topic.name)
    return topic


def update_topic(actor: Employee, topic: TabooTopic, changes: dict[str, Any]) -> TabooTopic:
    with db.session.no_autoflush:
        _apply(topic, changes)
    flush_unique(TabooTopic.name, f"A taboo topic called {topic.name!r} exists already.")
    audit.record(actor, "taboo_topic.update", topic, fields=sorted(changes))
    return topic


def delete_topic(actor: Employee, topic: TabooTopic) -> None:
    audit.record(actor, "taboo_topic.delete", topic, name=topic.name)
    db.session.delete(topic)
