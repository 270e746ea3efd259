"""Slack and Teams channels: admins connect them, Chorus posts to them.

A channel is connected by its incoming-webhook address (``scoring.chat`` says which
addresses are accepted and how a post looks on each provider). Posts are outbox rows
(``app.services.outbox``), written in the transaction of what caused them: new content
goes to the company's channels when it is aimed at everyone, and to a team's channels
when it is aimed at that team. A channel that answers it is gone (403, 404, 410) is
turned off and the admins are told (``disable``).

Posting goes through ``app.http_client``: a JSON body, a timeout, no redirects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app import http_client
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import ChatDestination, ContentItem, Employee, OutboxMessage, Team, utcnow
from app.services import announcements, audit, outbox
from app.urls import absolute_url, path_for
from scoring.chat import PROVIDER_LABELS, Post, Provider, message_for, webhook_problem
from scoring.delivery import State
from scoring.notifications import Channel, Kind

NAME_MAX = 80


# Connecting -------------------------------------------------------------------------


def get_destination(destination_id: int) -> ChatDestination:
    destination = db.session.get(ChatDestination, destination_id)
    if destination is None:
        raise NotFound(f"No chat channel with id {destination_id}.", field="id")
    return destination


def destinations() -> list[ChatDestination]:
    return list(db.session.scalars(select(ChatDestination).order_by(ChatDestination.id)))


def _checked(data: dict[str, Any], provider: Provider) -> dict[str, Any]:
    values = dict(data)
    if "url" in values:
        values["url"] = values["url"].strip()
        problem = webhook_problem(provider, values["url"])
        if problem:
            raise InvalidInput(problem, field="url")
    if "name" in values:
        values["name"] = values["name"].strip()[:NAME_MAX]
        if not values["name"]:
            raise InvalidInput("Name the channel, e.g. #sales.", field="name")
    if values.get("team_id") is not None and db.session.get(Team, values["team_id"]) is None:
        raise InvalidInput(f"No team with id {values['team_id']}.", field="team_id")
    return values


def connect(actor: Employee, data: dict[str, Any]) -> ChatDestination:
    """Connect a channel: ``provider``, ``name``, ``url``, ``team_id`` (None: the
    company's), ``post_content``."""
    provider = Provider(data["provider"])
    values = _checked(data, provider)
    destination = ChatDestination(created_by_id=actor.id, **values)
    db.session.add(destination)
    db.session.flush()
    audit.record(actor, "chat.connect", destination, name=destination.name)
    return destination


def change(actor: Employee, destination: ChatDestination, data: dict[str, Any]) -> ChatDestination:
    """Change what is given; a new address, or ``enabled``, turns a channel back on."""
    outbox.change_destination(destination, _checked(data, destination.provider))
    audit.record(actor, "chat.change", destination, name=destination.name)
    return destination


def remove(actor: Employee, destination: ChatDestination) -> None:
    """Disconnect a channel, and drop what waited for it."""
    audit.record(actor, "chat.remove", destination, name=destination.name)
    outbox.drop_waiting(OutboxMessage.destination_id, destination.id)
    db.session.delete(destination)


def send_test(destination: ChatDestination) -> tuple[bool, str]:
    """Post a test message now, whatever the channel's state: whether the provider
    took it, and its answer in words. Nothing is stored."""
    posts = [
        words
        for words, wanted in (
            ("new content to share", destination.post_content),
            ("share challenges and the week's top", destination.post_game),
        )
        if wanted
    ]
    post = Post(
        title="Chorus is connected",
        text=f"This channel ({destination.name}) will get posts from Chorus: "
        + (" and ".join(posts) + "." if posts else "nothing for now."),
        button="Open Chorus",
        url=absolute_url("home.index"),
    )
    answer = _post(destination.url, message_for(destination.provider, post))
    return answer.status is not None and 200 <= answer.status < 300, answer.words


def disable(destination: ChatDestination, reason: str) -> None:
    """The channel answered it is gone: off until an admin repairs it, and every
    admin is told (in their inbox; by mail when they chose it)."""
    destination.disabled_at, destination.disabled_reason = utcnow(), reason[:300]
    label = PROVIDER_LABELS[destination.provider]
    announcements.tell_admins(
        Kind.CHAT_DISABLED,
        key=f"chat_disabled:{destination.id}:{int(destination.disabled_at.timestamp())}",
        title=f"The {label} channel {destination.name} was turned off",
        body=f"It answered {reason[:200]}. Give it a new address to turn it back on.",
        link=path_for("chat_pages.channels"),
    )


# Posting ----------------------------------------------------------------------------


def post_new_content(item: ContentItem, now: datetime | None = None) -> int:
    """Queue a post about a published item to the channels it is meant for: the
    company's when it is aimed at everyone, a team's when aimed at that team. Each
    channel gets it once, at the earliest when the item becomes valid."""
    now = now or utcnow()
    team_ids = [team.id for team in item.target_teams]
    if not team_ids and item.target_interests:
        return 0  # aimed at interests only: no channel is that audience
    post = Post(
        title=item.title,
        text=item.summary,
        button="Share",
        url=absolute_url("feed_pages.dialog", content_id=item.id),
    )
    due = max(now, item.valid_from) if item.valid_from else now
    wanted = ChatDestination.post_content.is_(True)
    return _post_to(team_ids or None, wanted, Kind.NEW_CONTENT, f"item:{item.id}", post, now, due)


def post_challenge(
    team_ids: Iterable[int] | None, kind: Kind, challenge_id: int, post: Post, now: datetime
) -> int:
    """Queue a post about a challenge (started, results) to the channels of its scope:
    the company's for a company challenge, its teams' otherwise."""
    team_ids = None if team_ids is None else sorted(team_ids)
    return _post_to(team_ids, _GAME, kind, f"challenge:{challenge_id}", post, now, now)


_GAME = ChatDestination.post_game.is_(True)


def post_weekly_tops(now: datetime, week: str, top: Callable[[int | None], Post | None]) -> int:
    """Queue last week's top (``top(team_id)``: the post for the company's board, or a
    team's; None when the board is empty) to each channel that posts the game, once per
    channel and week."""
    channels = db.session.scalars(
        select(ChatDestination).where(_GAME, ChatDestination.disabled_at.is_(None))
    ).all()
    posts = {team_id: top(team_id) for team_id in {c.team_id for c in channels}}
    kind = Kind.TOP_OF_WEEK
    return outbox.insert_rows(
        [_row(channel, kind, f"{kind.value}:{week}:{channel.id}", posts[channel.team_id], now, now)
         for channel in channels
         if posts[channel.team_id] is not None]
    )  # fmt: skip


def _post_to(team_ids, wanted, kind: Kind, about: str, post: Post, now, due) -> int:
    """One post per active channel of the audience (``team_ids`` None: the company's)."""
    audience = (
        ChatDestination.team_id.is_(None)
        if team_ids is None
        else ChatDestination.team_id.in_(team_ids)
    )
    found = db.session.scalars(
        select(ChatDestination).where(audience, wanted, ChatDestination.disabled_at.is_(None))
    )
    return outbox.insert_rows(
        [_row(destination, kind, f"{kind.value}:{about}:{destination.id}", post, now, due)
         for destination in found]
    )  # fmt: skip


def _row(destination: ChatDestination, kind: Kind, key: str, post: Post, now, due):
    mail = outbox.Mail(None, kind, key, message_for(destination.provider, post))
    return outbox.row(mail, now, due, destination_id=destination.id)


def send_post(message_id: int) -> State:
    """Post a message this worker claimed to its channel, and record what came of it:
    a channel turned off meanwhile gets nothing; one that answers it is gone is
    turned off (``disable``); a busy one is tried again, not before its Retry-After."""
    message = db.session.get(OutboxMessage, message_id)
    destination = db.session.get(ChatDestination, message.destination_id)
    if destination is None or destination.disabled_at is not None:
        return outbox.cancel(message_id)
    if message.employee_id is not None and not outbox.still_wanted(message, Channel.CHAT):
        return outbox.cancel(message_id)  # a mention its person turned off meanwhile
    return outbox.record_answer(
        message,
        http_client.post(destination.url, message.payload.encode()),
        lambda words: disable(destination, words),
    )


def _post(url: str, body: dict[str, Any]) -> http_client.Answer:
    return http_client.post(url, json.dumps(body).encode())
