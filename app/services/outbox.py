"""The outbox: mail about the game, posts to chat channels (mentions of people among
them: ``app.services.mentions``) and deliveries to webhook endpoints
(``app.services.webhook_endpoints``), written in the transaction of what caused them
and sent by the workers (``scoring.delivery`` has a message's life and the meaning of
an answer).

Writing mail (``queue_mail``) follows each person's choices and rhythm: nothing for
someone who does not want that kind by mail, nothing before their quiet hours end, and
beyond their weekly budget the message is folded into their next digest. Sending
(``claim``, then ``send_claimed`` for a mail, ``app.services.chat.send_post`` for a
post, ``app.services.webhook_endpoints.send_delivery`` for a delivery, run by
``app.jobs.deliver_outbox``) sends a message at most once: only one worker
wins the claim, and a message whose worker died while sending is given up as failed,
never sent again by itself. An admin may send a failed one again (``retry``).

Keys (this module owns the namespace ``chorus:outbox:``):

- ``chorus:outbox:rate:<destination>:<second>``: messages sent to a destination in
  that second, for the rate limit.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.db import among, bulk_insert
from app.errors import Conflict, NotFound
from app.extensions import db, get_redis
from app.http_client import Answer
from app.mail import MailRefused, send_message
from app.models import ChatDestination, Employee, OutboxMessage, utcnow
from app.services import audit
from app.services.calendar import company_calendar
from app.services.notifications import Told, preferences_of, recipients
from app.services.people import participants
from scoring.chat import PER_SECOND
from scoring.delivery import (
    State,
    Verdict,
    http_verdict,
    retry_after_seconds,
    retry_at,
    smtp_verdict,
    sources,
)
from scoring.notifications import Channel, Digest, Kind, deliver_at, within_budget, zone_of

WEEK = timedelta(days=7)
KEPT = timedelta(days=90)  # how long a settled message stays (the export, the admins' list)
STUCK = timedelta(minutes=10)  # a claim older than this lost its worker
RATE_TAG = "chorus:outbox:rate"
LOST_WHILE_SENDING = "The worker stopped while sending; it may have arrived."
SMTP = "smtp"  # the destination of every mail
# What counts against the weekly budget: single messages on their way or gone.
BUDGETED = (State.PENDING, State.SENDING, State.SENT)


@dataclass(frozen=True)
class Mail:
    """One message to write: for whom, what about (``key``, once), and what it says."""

    employee_id: int | None  # None: a post to a chat channel (``destination_id``)
    kind: Kind
    key: str
    payload: dict[str, Any]


def mail_of(told: Told) -> Mail:
    """The mail for something told in the inbox: the same words, under the same key."""
    return Mail(
        told.employee_id,
        told.kind,
        f"{told.kind.value}:{told.employee_id}:{told.key}",
        {"title": told.title, "body": told.body, "link": told.link},
    )


def queue_mail(mails: Iterable[Mail], now: datetime | None = None) -> int:
    """Write each mail its person wants, due when their quiet hours allow, or folded
    when their weekly budget is spent; returns how many were new."""
    mails = list(mails)
    now = now or utcnow()
    by_kind: dict[Kind, set[int]] = {}
    for mail in mails:
        by_kind.setdefault(mail.kind, set()).add(mail.employee_id)
    wanted = {kind: recipients(people, kind, Channel.EMAIL) for kind, people in by_kind.items()}
    people = sorted(set().union(*wanted.values())) if wanted else []
    preferences = preferences_of(people)
    sent = sent_in_week(people, now)
    company_zone, _ = company_calendar()
    rows = []
    for mail in mails:
        if mail.employee_id not in wanted[mail.kind]:
            continue
        mine = preferences[mail.employee_id]
        folded = not within_budget(mine, sent[mail.employee_id])
        sent[mail.employee_id] += not folded
        rows.append(
            row(mail, now, deliver_at(mine, zone_of(mine, company_zone), now), folded=folded)
        )
    return insert_rows(rows)


def row(
    mail: Mail,
    now: datetime,
    due: datetime,
    folded: bool = False,
    destination_id: int | None = None,
    endpoint_id: int | None = None,
) -> dict[str, Any]:
    """The row of a message: to a person (``mail.employee_id``), a chat channel
    (``destination_id``; both: a mention of the person there) or a webhook endpoint
    (``endpoint_id``)."""
    return {
        "key": mail.key,
        "employee_id": mail.employee_id,
        "destination_id": destination_id,
        "endpoint_id": endpoint_id,
        "kind": mail.kind,
        "payload": json.dumps(mail.payload, separators=(",", ":")),
        "state": State.FOLDED if folded else State.PENDING,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
    }


def insert_rows(rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows; a key written before is skipped (a job that runs twice)."""
    return bulk_insert(
        OutboxMessage.__table__,
        rows,
        lambda statement: statement.on_conflict_do_nothing(index_elements=["key"]),
    )


def sent_in_week(employee_ids: list[int], now: datetime) -> dict[int, int]:
    """Single messages (not digests) each person was sent or will be, in seven days."""
    counts = dict.fromkeys(employee_ids, 0)
    if employee_ids:
        query = (
            select(OutboxMessage.employee_id, func.count())
            .where(
                among(OutboxMessage.employee_id, employee_ids),
                OutboxMessage.created_at > now - WEEK,
                OutboxMessage.kind != Kind.DIGEST,
                OutboxMessage.state.in_(BUDGETED),
            )
            .group_by(OutboxMessage.employee_id)
        )
        counts.update(db.session.execute(query).all())
    return counts


# Sending ---------------------------------------------------------------------------


class Route(StrEnum):
    MAIL = "mail"
    CHAT = "chat"
    WEBHOOK = "webhook"


class Due(NamedTuple):
    """A message whose time has come, the way it goes, and the destination whose rate
    it counts against."""

    id: int
    route: Route
    rate_key: str
    per_second: int


def due(now: datetime, limit: int = 100) -> list[Due]:
    """Messages waiting to go whose time has come, longest waiting first."""
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.destination_id,
            OutboxMessage.endpoint_id,
            ChatDestination.provider,
        )
        .outerjoin(ChatDestination, ChatDestination.id == OutboxMessage.destination_id)
        .where(OutboxMessage.state == State.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    config = current_app.config
    found = []
    for message_id, destination_id, endpoint_id, provider in db.session.execute(query):
        if destination_id is not None:
            # A channel gone meanwhile (provider None): its post is cancelled when claimed.
            rate = PER_SECOND.get(provider, 1)
            found.append(Due(message_id, Route.CHAT, f"chat:{destination_id}", rate))
        elif endpoint_id is not None:
            rate = config["WEBHOOK_PER_SECOND"]
            found.append(Due(message_id, Route.WEBHOOK, f"webhook:{endpoint_id}", rate))
        else:
            found.append(Due(message_id, Route.MAIL, SMTP, config["MAIL_PER_SECOND"]))
    return found


def claim(message_id: int, now: datetime) -> bool:
    """Take a message to send it; False when another worker took it first. The caller
    commits the claim before sending, so that no other worker can take it."""
    return _move(
        message_id,
        State.SENDING,
        (OutboxMessage.next_attempt_at <= now,),
        attempts=OutboxMessage.attempts + 1,
        claimed_at=now,
    )


def _move(message_id: int, target: State, conditions=(), **values: Any) -> bool:
    """Move a message to ``target`` if it is in a state that may (``scoring.delivery``);
    one statement, so two racing movers cannot both win."""
    moved = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.state.in_(sources(target)),
            *conditions,
        )
        .values(state=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved == 1


Render = Callable[[OutboxMessage, Employee], EmailMessage | None]


def send_claimed(message_id: int, render: Render) -> State:
    """Send a message this worker claimed, and record what came of it. ``render``
    gives the mail, or None when there is nothing left to say (or nobody to say it to
    any more): the message is cancelled."""
    message = db.session.get(OutboxMessage, message_id)
    employee = db.session.get(Employee, message.employee_id)
    email = render(message, employee) if still_wanted(message) else None
    if email is None:
        return cancel(message_id)
    try:
        send_message(email)
    except MailRefused as refused:
        return record(message, smtp_verdict(refused.code), refused.reason)
    return record(message, Verdict.SENT)


def cancel(message_id: int) -> State:
    _move(message_id, State.CANCELLED)
    return State.CANCELLED


def record(
    message: OutboxMessage,
    verdict: Verdict,
    error: str | None = None,
    retry_after: float | None = None,
    status: int | None = None,
) -> State:
    """Move a claimed message on after its answer (``status``: its HTTP status): sent,
    waiting for another try (not sooner than ``retry_after`` seconds), or failed."""
    now = utcnow()
    if verdict is Verdict.SENT:
        _move(message.id, State.SENT, sent_at=now, last_error=None, last_status=status)
        return State.SENT
    error = (error or "")[:300] or None
    jitter = random.random()  # noqa: S311 - spreads retries, guards nothing
    again = retry_at(message.attempts, now, jitter, retry_after)
    if verdict is Verdict.RETRY and again is not None:
        _move(
            message.id, State.PENDING, next_attempt_at=again, last_error=error, last_status=status
        )
        return State.PENDING
    _move(message.id, State.FAILED, last_error=error, last_status=status)
    return State.FAILED


def record_answer(message: OutboxMessage, answer: Answer, disable: Callable[[str], None]) -> State:
    """Record what a chat channel or webhook endpoint answered; one that says it is
    gone is turned off by ``disable(words)``."""
    verdict = http_verdict(answer.status)
    if verdict is Verdict.DISABLE:
        disable(answer.words)
    return record(
        message,
        verdict,
        None if verdict is Verdict.SENT else answer.words,
        retry_after_seconds(answer.retry_after, utcnow()),
        answer.status,
    )


def still_wanted(message: OutboxMessage, channel: Channel = Channel.EMAIL) -> bool:
    """Whether the person still wants this kind of message on ``channel`` now that its
    turn came."""
    employee_id = message.employee_id
    if message.kind is Kind.DIGEST:
        digest = preferences_of([employee_id])[employee_id].digest
        return digest is not Digest.OFF and bool(participants([employee_id]))
    return employee_id in recipients([employee_id], message.kind, channel)


def give_up_stuck(now: datetime) -> int:
    """Messages whose worker died while sending are failed, not sent again: they may
    have arrived. An admin can send one again."""
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == State.SENDING, OutboxMessage.claimed_at < now - STUCK)
        .values(state=State.FAILED, last_error=LOST_WHILE_SENDING)
        .execution_options(synchronize_session=False)
    ).rowcount


def may_send(destination: str, per_second: int) -> bool:
    """One more message to ``destination`` in this second, within its rate?"""
    key = f"{RATE_TAG}:{destination}:{int(time.time())}"
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, 2)
    count, _ = pipe.execute()
    return count <= per_second


SETTLED = (State.SENT, State.FAILED, State.DIGESTED, State.CANCELLED)


def prune(now: datetime) -> int:
    """Forget settled messages older than ``KEPT``: what a mail said is its person's,
    and nothing needs it once it is long gone (digests look back two weeks)."""
    return db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.state.in_(SETTLED), OutboxMessage.created_at < now - KEPT)
        .execution_options(synchronize_session=False)
    ).rowcount


# Destinations: chat channels and webhook endpoints --------------------------------

OFF_BY_ADMIN = "Turned off by an admin."


def change_destination(target: Any, values: dict[str, Any]) -> None:
    """Set ``values`` on a chat channel or webhook endpoint: a new ``url``, or
    ``enabled: true``, turns it back on; ``enabled: false`` turns it off."""
    enabled = values.pop("enabled", None)
    for name, value in values.items():
        setattr(target, name, value)
    if enabled is True or "url" in values:
        target.disabled_at = target.disabled_reason = None
    elif enabled is False and target.disabled_at is None:
        target.disabled_at, target.disabled_reason = utcnow(), OFF_BY_ADMIN


def drop_waiting(recipient_column: Any, recipient_id: int) -> None:
    """Forget the messages of a destination being removed (also where the database
    does not cascade, as SQLite without its foreign-key checks)."""
    db.session.execute(
        delete(OutboxMessage)
        .where(recipient_column == recipient_id)
        .execution_options(synchronize_session=False)
    )


# Failed messages, for admins -------------------------------------------------------

UNSETTLED = (State.PENDING, State.SENDING, State.FAILED, State.FOLDED)


def failed(limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.state == State.FAILED)
    return list(db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def unsettled_counts() -> dict[State, int]:
    """How many messages wait, are being sent, failed or wait for a digest."""
    counts = dict.fromkeys(UNSETTLED, 0)
    query = (
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.state.in_(UNSETTLED))
        .group_by(OutboxMessage.state)
    )
    counts.update(db.session.execute(query).all())
    return counts


def retry(actor: Employee, message_id: int) -> OutboxMessage:
    """Send a failed message again, from a fresh count of tries."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No message with id {message_id}.", field="id")
    moved = _move(message_id, State.PENDING, attempts=0, next_attempt_at=utcnow())
    db.session.refresh(message)
    if not moved and message.state is not State.PENDING:
        raise Conflict(f"The message is {message.state.value}: only a failed one is sent again.")
    if moved:
        audit.record(actor, "outbox.retry", message, kind=message.kind.value)
    return message
