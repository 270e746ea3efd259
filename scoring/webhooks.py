"""Outbound webhooks: the events Chorus tells other systems of (the intranet, BI, HR),
how a delivery is signed, and which addresses are accepted.

Deliveries follow the Standard Webhooks specification (standardwebhooks.com): a JSON
body ``{"type", "timestamp", "data"}`` and three headers,

- ``webhook-id``: the event's id, the same on every try and for every endpoint, so a
  receiver can drop what it already has;
- ``webhook-timestamp``: the try's time in Unix seconds;
- ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
  ``<id>.<timestamp>.<body>`` under the endpoint's secret (``whsec_`` and the base64
  key). While a rotated secret's overlap lasts, the old secret signs too: the header
  then carries both signatures, separated by a space.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class Event(StrEnum):
    SHARE_CREATED = "share.created"
    REFERRAL_STAGE = "referral.stage_reached"
    BADGE_GRANTED = "badge.granted"
    CHALLENGE_SETTLED = "challenge.settled"
    REDEMPTION_DECIDED = "redemption.decided"


# What each event says, for the admins' page and the API reference.
EVENT_WORDS = {
    Event.SHARE_CREATED: "An employee shared an item (its id, network, team; never its text).",
    Event.REFERRAL_STAGE: "A candidate reached a stage (applied, interviewed, hired) "
    "and whether it was attributed to a share; never who the candidate is.",
    Event.BADGE_GRANTED: "An employee was granted a badge (or a level of one).",
    Event.CHALLENGE_SETTLED: "A share challenge ended and its results are final.",
    Event.REDEMPTION_DECIDED: "HR approved, rejected or fulfilled a reward redemption.",
}

# A test delivery (the admins' "send test"); no endpoint subscribes to it.
PING = "chorus.ping"

SECRET_PREFIX = "whsec_"  # noqa: S105 - the specification's marker, not a secret
SECRET_BYTES = 32
ID_PREFIX = "msg_"
LONGEST_OVERLAP = timedelta(days=7)


def new_secret(key: bytes) -> str:
    """A secret as the specification writes it, from ``key`` (random bytes)."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature, ``v1,<base64>``, of a delivery under ``secret``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: a signature under each secret in use."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


def signing_secrets(
    secret: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign now: the current one, and the one it replaced until its
    overlap ends (receivers switch over in their own time)."""
    if previous and previous_until is not None and now < previous_until:
        return [secret, previous]
    return [secret]


def message_id(event_key: str) -> str:
    """The ``webhook-id`` of an event, from the key it is written under: stable across
    tries and endpoints, and it says nothing of what is inside."""
    return ID_PREFIX + hashlib.sha256(event_key.encode()).hexdigest()[:32]


def envelope(event_type: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body of a delivery, as the specification lays it out."""
    return {"type": event_type, "timestamp": at.isoformat(), "data": data}


def url_problem(url: str, allow_private: bool = False) -> str | None:
    """Why Chorus would not deliver to ``url``, or None. HTTPS only, and no address
    inside the company's own network (a webhook must not become a way to reach the
    server's neighbours) unless ``allow_private`` (local development, tests)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return "This is not a web address."
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        return "Give the full https:// address of the endpoint."
    if parts.username or parts.password:
        return "The address must not carry a user or a password."
    if allow_private:
        return None
    if parts.scheme != "https":
        return "Only https:// addresses: deliveries carry data about people."
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "The address must be reachable on the internet, not a local name."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: resolved when delivering
    if not address.is_global:
        return "The address must be reachable on the internet, not a private one."
    return None
