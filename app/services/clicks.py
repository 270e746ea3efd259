"""Clicks on tracked links: the fast path in the redirect, and the worker that turns raw
clicks into click records and events.

This module owns every Redis key of link tracking:

- ``chorus:link:<share id>``: the share's final destination (UTM and ref added), or ""
  for a share that does not exist; filled on share creation and on a miss;
- ``chorus:clicks``: the stream of raw clicks, read by the consumer group
  ``click-workers``; an entry leaves it only after its records are committed;
- ``chorus:click-seen:<share>:<visitor>:<day>:<kind>``: the fast dedupe filter.

The redirect does one Redis round trip (GET destination + XADD raw click) and no SQL
once its caches are warm. A raw click holds no address: the visitor is an HMAC of
address and user agent under a secret that changes every company-local day.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import crawleruseragents
import redis
from flask import current_app
from sqlalchemy import select

from app.extensions import db, get_redis
from app.links import campaign_name, destination_with_tracking, is_web_address
from app.models import (
    ClickKind,
    ClickRecord,
    ContentItem,
    Employee,
    Event,
    Share,
    SharePolicy,
)
from app.services.calendar import company_calendar
from app.services.events import insert_ignoring_conflicts
from scoring.participation import is_participating
from scoring.vocabulary import EventKind

log = logging.getLogger("chorus.clicks")

STREAM = "chorus:clicks"
GROUP = "click-workers"
LINK_TTL = 24 * 3600  # destinations change rarely; a day bounds how long a stale one lives
MISSING_TTL = 300  # a share that does not exist: answer 404 without asking the database
SEEN_TTL = 2 * 24 * 3600  # a visitor-day, plus slack for a worker that was down
USER_AGENT_LENGTH = 300
DEFAULT_MEDIUM = "employee_advocacy"  # SharePolicy.utm_medium's default

# Mail-security gateways that open every link in a mail before the reader does; the
# maintained crawler list does not know all of them.
MAIL_SCANNER_MARKERS = (
    "microsoft office",
    "ms-office",
    "safelinks",
    "proofpoint",
    "mimecast",
    "barracuda",
    "messagelabs",
    "ironport",
    "forcepoint",
    "trendmicro",
)


def link_key(share_id: int) -> str:
    return f"chorus:link:{share_id}"


def seen_key(share_id: int, visitor: str, day: str, kind: ClickKind) -> str:
    return f"chorus:click-seen:{share_id}:{visitor}:{day}:{kind.value}"


# Destinations ----------------------------------------------------------------------


def final_destination(share: Share, content: ContentItem, utm_medium: str) -> str | None:
    """Where the share's link leads, or None when the stored destination is not a web
    address (then the link answers 404 rather than go anywhere else)."""
    if not is_web_address(content.destination_url):
        return None
    return destination_with_tracking(
        content.destination_url,
        channel=share.channel,
        medium=utm_medium,
        campaign=campaign_name(content.campaign_hashtag, content.id),
        share_id=share.id,
        ref_code=share.ref_code,
    )


def cache_destination(share_id: int, destination: str | None) -> None:
    if destination:
        get_redis().set(link_key(share_id), destination, ex=LINK_TTL)
    else:
        get_redis().set(link_key(share_id), "", ex=MISSING_TTL)


def load_destination(share_id: int) -> str | None:
    """The destination from the database, put into the cache for the next click."""
    row = db.session.execute(
        select(Share, ContentItem).join(ContentItem).where(Share.id == share_id)
    ).first()
    destination = None
    if row is not None:
        # Read, not share_policy(): a click must never create the policy row.
        medium = db.session.scalar(select(SharePolicy.utm_medium).limit(1))
        destination = final_destination(row.Share, row.ContentItem, medium or DEFAULT_MEDIUM)
    cache_destination(share_id, destination)
    db.session.rollback()  # end the read transaction at once
    return destination


def forget_destinations(share_ids: Iterable[int] | None = None) -> None:
    """Drop cached destinations (all of them when no ids are given), after HR changed
    what goes into them: an item's campaign hashtag, the UTM medium."""
    connection = get_redis()
    if share_ids is None:
        keys = connection.scan_iter(match=link_key("*"), count=1000)
    else:
        keys = (link_key(share_id) for share_id in share_ids)
    batch = []
    for key in keys:
        batch.append(key)
        if len(batch) == 1000:
            connection.unlink(*batch)
            batch = []
    if batch:
        connection.unlink(*batch)


# The fast path ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _daily_secret(secret_key: str, day: str) -> bytes:
    return hmac.new(secret_key.encode(), f"visitor:{day}".encode(), hashlib.sha256).digest()


def visitor_id(secret_key: str, day: str, client_ip: str, user_agent: str) -> str:
    """Who clicked, pseudonymously: the same address and browser give the same id
    within one company-local day, and nothing links it to another day."""
    message = f"{client_ip}|{user_agent}".encode()
    return hmac.new(_daily_secret(secret_key, day), message, hashlib.sha256).hexdigest()[:32]


def record_raw_click(
    share_id: int,
    *,
    client_ip: str,
    user_agent: str,
    head: bool,
    session_user_id: str | None,
    now: datetime | None = None,
) -> str | None:
    """Queue the raw click and return the share's destination (None: no such share).
    One round trip when the destination is cached."""
    app = current_app._get_current_object()
    now = now or datetime.now(UTC)
    day = now.astimezone(company_calendar(app)[0]).date().isoformat()
    fields = {
        "s": share_id,
        "t": int(now.timestamp() * 1000),
        "d": day,
        "v": visitor_id(app.config["SECRET_KEY"], day, client_ip, user_agent),
        "ua": user_agent[:USER_AGENT_LENGTH],
        "h": 1 if head else 0,
        "u": session_user_id or "",
    }
    connection = get_redis()
    pipe = connection.pipeline(transaction=False)
    pipe.get(link_key(share_id))
    pipe.xadd(STREAM, fields)
    destination, entry_id = pipe.execute()
    destination = load_destination(share_id) if destination is None else destination.decode()
    if not destination:
        connection.xdel(STREAM, entry_id)  # nothing to count for a share that is not there
        return None
    return destination


# The worker ------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def is_bot_agent(user_agent: str) -> bool:
    """Crawlers, link previews and scanners, by the maintained list and a few mail
    gateways it misses. An empty agent is a script, not a person."""
    if not user_agent.strip():
        return True
    lowered = user_agent.lower()
    if any(marker in lowered for marker in MAIL_SCANNER_MARKERS):
        return True
    return crawleruseragents.is_crawler(user_agent)


@dataclass(frozen=True)
class RawClick:
    entry_id: str
    share_id: int
    occurred_at: datetime
    day: str
    visitor: str
    user_agent: str
    head: bool
    session_user_id: str

    @classmethod
    def parse(cls, entry_id: bytes | str, fields: dict) -> RawClick | None:
        entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        try:
            values = {k.decode(): v.decode() for k, v in fields.items()}
            return cls(
                entry_id=entry_id,
                share_id=int(values["s"]),
                occurred_at=datetime.fromtimestamp(int(values["t"]) / 1000, UTC),
                day=date.fromisoformat(values["d"]).isoformat(),
                visitor=values["v"][:32],
                user_agent=values.get("ua", "")[:USER_AGENT_LENGTH],
                head=values.get("h") == "1",
                session_user_id=values.get("u", ""),
            )
        except (KeyError, ValueError, UnicodeError):
            return None

    def kind(self, owner_id: int) -> ClickKind:
        if self.head or is_bot_agent(self.user_agent):
            return ClickKind.BOT
        if self.session_user_id == str(owner_id):
            return ClickKind.SELF
        return ClickKind.HUMAN


@dataclass(frozen=True)
class _Owner:
    employee_id: int
    team_id: int | None
    content_id: int
    channel: object
    participating: bool


def _owners(share_ids: set[int]) -> dict[int, _Owner]:
    rows = db.session.execute(
        select(
            Share.id,
            Share.employee_id,
            Share.team_id,
            Share.content_id,
            Share.channel,
            Employee.opted_in_at,
            Employee.active,
            Employee.erased_at,
        )
        .join(Employee, Employee.id == Share.employee_id)
        .where(Share.id.in_(share_ids))
    )
    return {
        row.id: _Owner(
            row.employee_id,
            row.team_id,
            row.content_id,
            row.channel,
            is_participating(row.opted_in_at, row.active and row.erased_at is None),
        )
        for row in rows
    }


def ensure_group(connection: redis.Redis) -> None:
    try:
        connection.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _new_ones(connection: redis.Redis, candidates: Sequence[tuple[RawClick, ClickKind]]):
    """The clicks not counted before, by SET NX in Redis. A key holding this very
    entry's id was set by a run that crashed before its commit: still new. The
    database's unique key has the last word either way."""
    pipe = connection.pipeline(transaction=False)
    for click, kind in candidates:
        key = seen_key(click.share_id, click.visitor, click.day, kind)
        pipe.set(key, click.entry_id, nx=True, get=True, ex=SEEN_TTL)
    fresh = []
    for (click, kind), previous in zip(candidates, pipe.execute(), strict=True):
        if previous is None or previous.decode() == click.entry_id:
            fresh.append((click, kind))
    return fresh


def _store(entries: Sequence[tuple[bytes, dict | None]], stats: Counter) -> list:
    """Records and events for one batch, committed; returns the entry ids handled."""
    handled = [entry_id for entry_id, _ in entries]
    clicks = []
    for entry_id, fields in entries:
        click = RawClick.parse(entry_id, fields) if fields else None
        if click is None:
            stats["malformed"] += 1
            continue
        clicks.append(click)
    owners = _owners({click.share_id for click in clicks}) if clicks else {}
    candidates = []
    for click in clicks:
        owner = owners.get(click.share_id)
        if owner is None:
            stats["unknown_share"] += 1
        elif not owner.participating:
            stats["not_participating"] += 1  # nobody is tracked after opting out
        else:
            candidates.append((click, click.kind(owner.employee_id)))
    fresh = _new_ones(get_redis(), candidates) if candidates else []
    stats["duplicate"] += len(candidates) - len(fresh)
    records, events = [], []
    for click, kind in fresh:
        owner = owners[click.share_id]
        records.append(
            {
                "share_id": click.share_id,
                "visitor": click.visitor,
                "day": date.fromisoformat(click.day),
                "kind": kind,
                "occurred_at": click.occurred_at,
                "user_agent": click.user_agent if kind is ClickKind.BOT else None,
            }
        )
        if kind is ClickKind.HUMAN:
            events.append(
                {
                    "kind": EventKind.CLICK,
                    "natural_key": f"click:{click.share_id}:{click.visitor}:{click.day}",
                    "employee_id": owner.employee_id,
                    "team_id": owner.team_id,
                    "share_id": click.share_id,
                    "content_id": owner.content_id,
                    "channel": owner.channel,
                    "occurred_at": click.occurred_at,
                    "created_at": datetime.now(UTC),
                    "details": {},
                }
            )
    # One row per statement batch keeps SQLite under its bound-parameter limit.
    for start in range(0, len(records), 100):
        stats["recorded"] += insert_ignoring_conflicts(ClickRecord, records[start : start + 100])
    for start in range(0, len(events), 100):
        stats["events"] += insert_ignoring_conflicts(Event, events[start : start + 100])
    db.session.commit()
    return handled


def _acknowledge(connection: redis.Redis, entry_ids: list) -> None:
    if entry_ids:
        pipe = connection.pipeline(transaction=False)
        pipe.xack(STREAM, GROUP, *entry_ids)
        pipe.xdel(STREAM, *entry_ids)
        pipe.execute()


def process_clicks(
    batch_size: int = 500, min_idle_ms: int = 60_000, max_batches: int = 40
) -> dict[str, int]:
    """Turn raw clicks into click records and CLICK events, in batches. Entries another
    worker took but did not acknowledge for ``min_idle_ms`` are taken over first; an
    entry is acknowledged and deleted only after its batch is committed. Safe to run
    concurrently and twice."""
    connection = get_redis()
    ensure_group(connection)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    stats: Counter = Counter()
    start = "0-0"
    while True:  # stale entries of a crashed worker
        next_start, claimed, *_ = connection.xautoclaim(
            STREAM, GROUP, consumer, min_idle_ms, start, count=batch_size
        )
        if claimed:
            stats["reclaimed"] += len(claimed)
            _acknowledge(connection, _store(claimed, stats))
        next_start = next_start.decode() if isinstance(next_start, bytes) else next_start
        if next_start == "0-0":
            break
        start = next_start
    for _ in range(max_batches):
        answer = connection.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=batch_size)
        entries = answer[0][1] if answer else []
        if not entries:
            break
        stats["read"] += len(entries)
        _acknowledge(connection, _store(entries, stats))
        if len(entries) < batch_size:
            break
    if stats:
        log.info("clicks processed", extra={"fields": dict(stats)})
    return dict(stats)
