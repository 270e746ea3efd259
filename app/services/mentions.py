"""Chat mentions: news worth celebrating (a badge, a challenge result), posted to the
person's team channel with an @mention of them, for the people who asked for it.

A channel takes mentions only when an admin said so (``post_mentions``); the person's
team's channels are used, or the company's when their team has none. Slack mentions by
member ID, which the person gives in their settings (without it, no Slack mention);
Teams by the work e-mail. A mention is an outbox row with both the person and the
channel: it counts against the person's weekly budget (beyond it, nothing is posted:
the inbox has it) and waits for their quiet hours to end, like mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from app.db import among
from app.extensions import db
from app.models import ChatDestination, Employee, utcnow
from app.services import outbox
from app.services.calendar import company_calendar
from app.services.notifications import Told, preferences_of, recipients
from app.urls import absolute_url
from scoring.chat import Mention, Post, can_mention, message_for
from scoring.notifications import OFFERED, Channel, deliver_at, within_budget, zone_of


def mention(told: Iterable[Told], now: datetime | None = None) -> int:
    """Queue a mention for each thing told whose person wants this kind as a chat
    mention, in a channel that takes mentions and can name them; returns how many."""
    told = [t for t in told if Channel.CHAT in OFFERED[t.kind]]
    if not told:
        return 0
    channels = _taking_mentions()
    if not channels:
        return 0  # the usual case, settled by one small read
    now = now or utcnow()
    wanting = set()
    for kind in {t.kind for t in told}:
        wanting |= {
            (kind, e)
            for e in recipients({t.employee_id for t in told if t.kind is kind}, kind, Channel.CHAT)
        }
    people = sorted({employee_id for _, employee_id in wanting})
    if not people:
        return 0
    who = {e.id: e for e in db.session.scalars(select(Employee).where(among(Employee.id, people)))}
    preferences = preferences_of(people)
    sent = outbox.sent_in_week(people, now)
    company_zone, _ = company_calendar()
    rows = []
    for item in told:
        if (item.kind, item.employee_id) not in wanting:
            continue
        person, mine = who[item.employee_id], preferences[item.employee_id]
        named = Mention(person.name, person.email, mine.slack_member_id)
        places = [c for c in _channels_of(person, channels) if can_mention(c.provider, named)]
        if not places or not within_budget(mine, sent[person.id]):
            continue
        sent[person.id] += 1
        post = Post(
            title=item.title,
            text=item.body,
            button="Open Chorus",
            url=absolute_url("home.index"),
            footer="Posted because they asked for it in Chorus.",
            mention=named,
        )
        due = deliver_at(mine, zone_of(mine, company_zone), now)
        for channel in places:
            message = outbox.Mail(
                person.id,
                item.kind,
                f"mention:{channel.id}:{item.kind.value}:{person.id}:{item.key}"[:120],
                message_for(channel.provider, post),
            )
            rows.append(outbox.row(message, now, due, destination_id=channel.id))
    return outbox.insert_rows(rows)


def places_for(person: Employee) -> list[ChatDestination]:
    """Where a mention of ``person`` would be posted (whether or not they can be named
    there: Slack needs their member ID)."""
    return _channels_of(person, _taking_mentions())


def _taking_mentions() -> list[ChatDestination]:
    return list(
        db.session.scalars(
            select(ChatDestination)
            .where(ChatDestination.post_mentions.is_(True), ChatDestination.disabled_at.is_(None))
            .order_by(ChatDestination.id)
        )
    )


def _channels_of(person: Employee, channels: list[ChatDestination]) -> list[ChatDestination]:
    """The person's team's channels that take mentions, else the company's."""
    own = [c for c in channels if c.team_id is not None and c.team_id == person.team_id]
    return own or [c for c in channels if c.team_id is None]
