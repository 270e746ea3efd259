"""Webhook endpoints: admins register other systems' addresses (the intranet, BI, HR),
and Chorus delivers the events each picked, signed (``scoring.webhooks``).

An event is written as one outbox row per endpoint that takes it (``emit``), in the
transaction of what happened, and the workers deliver it like a chat post
(``send_delivery``): retried on 429, 5xx and lost connections, never twice once an
endpoint took it, and an endpoint that answers it is gone (403, 404, 410) is disabled
and the admins are told. The rows are the delivery log (``deliveries``); a failed one
can be sent again (``app.services.outbox.retry``).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, select

from app import http_client
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Employee, OutboxMessage, WebhookEndpoint, utcnow
from app.services import announcements, audit, outbox
from app.urls import path_for
from scoring import webhooks as core
from scoring.delivery import State, Verdict
from scoring.notifications import Kind
from scoring.webhooks import Event

NAME_MAX = 80
KEY_TAG = "webhook"  # outbox keys: webhook:<endpoint id>:<event type>:<subject>
DEFAULT_OVERLAP = timedelta(hours=24)


# Registering --------------------------------------------------------------------------


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint with id {endpoint_id}.", field="id")
    return endpoint


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "url" in values:
        values["url"] = values["url"].strip()
        problem = core.url_problem(values["url"], current_app.config["WEBHOOK_ALLOW_PRIVATE"])
        if problem:
            raise InvalidInput(problem, field="url")
    if "name" in values:
        values["name"] = values["name"].strip()[:NAME_MAX]
        if not values["name"]:
            raise InvalidInput("Name the endpoint, e.g. HR data warehouse.", field="name")
    if "events" in values:
        picked = set(values["events"])
        unknown = picked - set(Event)
        if unknown:
            raise InvalidInput(f"No such event: {', '.join(sorted(unknown))}.", field="events")
        if not picked:
            raise InvalidInput("Pick at least one event.", field="events")
        values["events"] = " ".join(event for event in Event if event in picked)
    return values


def register(actor: Employee, data: dict[str, Any]) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (``name``, ``url``, ``events``); its secret is returned to
    be shown once."""
    secret = core.new_secret(secrets.token_bytes(core.SECRET_BYTES))
    endpoint = WebhookEndpoint(secret=secret, created_by_id=actor.id, **_checked(data))
    db.session.add(endpoint)
    db.session.flush()
    audit.record(actor, "webhook.register", endpoint, name=endpoint.name)
    return endpoint, secret


def change(actor: Employee, endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookEndpoint:
    """Change what is given; a new address, or ``enabled``, turns it back on."""
    outbox.change_destination(endpoint, _checked(data))
    audit.record(actor, "webhook.change", endpoint, name=endpoint.name)
    return endpoint


def rotate_secret(
    actor: Employee, endpoint: WebhookEndpoint, overlap: timedelta = DEFAULT_OVERLAP
) -> str:
    """A new secret, returned to be shown once; the old one goes on signing beside it
    for ``overlap`` (zero: it stops at once), so the receiver can switch without
    losing a delivery."""
    if not timedelta(0) <= overlap <= core.LONGEST_OVERLAP:
        days = core.LONGEST_OVERLAP.days
        raise InvalidInput(f"The overlap is 0 to {days * 24} hours.", field="overlap_hours")
    secret = core.new_secret(secrets.token_bytes(core.SECRET_BYTES))
    endpoint.previous_secret = endpoint.secret if overlap else None
    endpoint.previous_until = utcnow() + overlap if overlap else None
    endpoint.secret = secret
    audit.record(actor, "webhook.rotate", endpoint, name=endpoint.name, overlap=str(overlap))
    return secret


def remove(actor: Employee, endpoint: WebhookEndpoint) -> None:
    """Forget an endpoint and its deliveries."""
    audit.record(actor, "webhook.remove", endpoint, name=endpoint.name)
    outbox.drop_waiting(OutboxMessage.endpoint_id, endpoint.id)
    db.session.delete(endpoint)


def disable(endpoint: WebhookEndpoint, reason: str) -> None:
    """The endpoint answered it is gone: off until an admin repairs it, and every
    admin is told."""
    endpoint.disabled_at, endpoint.disabled_reason = utcnow(), reason[:300]
    announcements.tell_admins(
        Kind.WEBHOOK_DISABLED,
        key=f"webhook_disabled:{endpoint.id}:{int(endpoint.disabled_at.timestamp())}",
        title=f"The webhook endpoint {endpoint.name} was turned off",
        body=f"It answered {reason[:200]}. Repair it, then turn it back on.",
        link=path_for("webhook_pages.detail", endpoint_id=endpoint.id),
    )


# Events -------------------------------------------------------------------------------


def emit(
    event: Event, happened: Iterable[tuple[str, dict[str, Any]]], now: datetime | None = None
) -> int:
    """Write a delivery to every active endpoint that takes ``event``, for each
    ``(subject, data)`` that happened (``subject`` names it once: a share's id, a
    grant's key); returns how many were new. Cheap when nobody listens: one read."""
    now = now or utcnow()
    listening = [
        endpoint_id
        for endpoint_id, events in db.session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.disabled_at.is_(None)
            )
        )
        if event.value in events.split()
    ]
    if not listening:
        return 0
    rows = []
    for subject, data in happened:
        body = core.envelope(event.value, now, data)
        for endpoint_id in listening:
            key = f"{KEY_TAG}:{endpoint_id}:{event.value}:{subject}"
            mail = outbox.Mail(None, Kind.WEBHOOK, key, body)
            rows.append(outbox.row(mail, now, now, endpoint_id=endpoint_id))
    return outbox.insert_rows(rows)


def message_id_of(message: OutboxMessage) -> str:
    """The ``webhook-id`` of a delivery: its event's, the same for every endpoint."""
    return core.message_id(message.key.split(":", 2)[2])


# Delivering ---------------------------------------------------------------------------


def send_delivery(message_id: int) -> State:
    """Deliver a message this worker claimed, signed, and record what came of it."""
    message = db.session.get(OutboxMessage, message_id)
    endpoint = db.session.get(WebhookEndpoint, message.endpoint_id)
    if endpoint is None or endpoint.disabled_at is not None:
        return outbox.cancel(message_id)
    inside = _resolves_inside(endpoint.url)
    if inside:
        return outbox.record(message, Verdict.GIVE_UP, inside)
    answer = _post(endpoint, message_id_of(message), message.payload.encode())
    return outbox.record_answer(message, answer, lambda words: disable(endpoint, words))


def send_test(endpoint: WebhookEndpoint) -> tuple[bool, str]:
    """Deliver a signed ``chorus.ping`` now, whatever the endpoint's state: whether it
    took it, and its answer in words. Nothing is stored."""
    now = utcnow()
    body = core.envelope(core.PING, now, {"endpoint_id": endpoint.id, "name": endpoint.name})
    inside = _resolves_inside(endpoint.url)
    if inside:
        return False, inside
    message_id = core.message_id(f"{core.PING}:{endpoint.id}:{now.isoformat()}")
    answer = _post(endpoint, message_id, _json(body))
    return answer.status is not None and 200 <= answer.status < 300, answer.words


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _post(endpoint: WebhookEndpoint, message_id: str, body: bytes) -> http_client.Answer:
    timestamp = int(time.time())
    signing = core.signing_secrets(
        endpoint.secret, endpoint.previous_secret, endpoint.previous_until, utcnow()
    )
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": core.signature_header(signing, message_id, timestamp, body),
    }
    return http_client.post(endpoint.url, body, headers)


def _resolves_inside(url: str) -> str | None:
    """Why not to deliver to ``url`` now: its name leads inside the network (checked
    when registering for addresses, here for names, which may change)."""
    if current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        return None
    host = urlsplit(url).hostname or ""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return None  # no answer: the post fails as a lost connection and is retried
    for *_, address in found:
        if not ipaddress.ip_address(address[0]).is_global:
            return f"{host} leads to an address inside the network; nothing was sent."
    return None


# The delivery log -------------------------------------------------------------------


def deliveries(endpoint: WebhookEndpoint, state: State | None = None) -> Select:
    """An endpoint's deliveries, newest first (kept 90 days)."""
    query = select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    return query.order_by(OutboxMessage.id.desc())


def retry(actor: Employee, endpoint: WebhookEndpoint, delivery_id: int) -> OutboxMessage:
    """Send one of the endpoint's failed deliveries again."""
    message = db.session.get(OutboxMessage, delivery_id)
    if message is None or message.endpoint_id != endpoint.id:
        raise NotFound(f"No delivery with id {delivery_id} to this endpoint.", field="id")
    return outbox.retry(actor, delivery_id)


def event_type(message: OutboxMessage) -> str:
    """The event a delivery carries."""
    return message.key.split(":", 3)[2]
