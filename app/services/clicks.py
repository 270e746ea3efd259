"""The worker's side of link tracking: raw clicks read from the stream the redirect
fills (``app.services.click_capture``) become click records and CLICK events.

What a click is (bot, self, person, duplicate) is decided in ``scoring.clicks``; this
module reads, stores and acknowledges. Workers read the stream as the consumer group
``click-workers``; an entry leaves the stream only after its records are committed.
This module owns the key ``chorus:click-seen:<share>:<visitor>:<day>:<kind>``, the fast
dedupe filter.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import crawleruseragents
import redis
from sqlalchemy import select

from app.db import insert_ignoring_conflicts, inserted_rows
from app.extensions import after_commit, db, get_redis
from app.models import ClickRecord, Employee, Event, Share
from app.services import rollups
from app.services.click_capture import STREAM, USER_AGENT_LENGTH
from scoring import clicks as click_rules
from scoring.analytics import ShareFacts
from scoring.clicks import ClickKind, CrawlerList, click_kind, earns_points, first_sighting
from scoring.keys import click_event_key
from scoring.participation import is_participating
from scoring.vocabulary import EventKind

log = logging.getLogger("chorus.clicks")

GROUP = "click-workers"
SEEN_TTL = 2 * 24 * 3600  # a visitor-day, plus slack for a worker that was down


def seen_key(share_id: int, visitor: str, day: str, kind: ClickKind) -> str:
    return f"chorus:click-seen:{share_id}:{visitor}:{day}:{kind.value}"


@lru_cache(maxsize=1)
def _crawlers() -> CrawlerList:
    return CrawlerList(entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA)


@lru_cache(maxsize=4096)
def is_bot_agent(user_agent: str) -> bool:
    """By the maintained crawler list (the crawler-user-agents package) and the mail
    gateways it misses."""
    return click_rules.is_bot_agent(user_agent, _crawlers())


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
        return click_kind(
            head=self.head,
            bot_agent=is_bot_agent(self.user_agent),
            session_user_id=self.session_user_id,
            owner_id=owner_id,
        )


@dataclass(frozen=True)
class _Owner:
    employee_id: int
    team_id: int | None
    content_id: int
    channel: object
    participating: bool
    shared_at: datetime

    @property
    def share(self) -> ShareFacts:
        return ShareFacts(
            self.employee_id, self.content_id, self.channel, self.team_id, self.shared_at
        )


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
            Share.created_at,
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
            row.created_at,
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
        if first_sighting(previous and previous.decode(), click.entry_id):
            fresh.append((click, kind))
    return fresh


def _store(
    connection: redis.Redis, entries: Sequence[tuple[bytes, dict | None]], stats: Counter
) -> None:
    """Records and events for one batch, and the counted clicks in the analytics
    rollups (one upsert per rollup table), flushed; its entries leave the stream once
    the batch is committed."""
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
        if earns_points(kind):
            events.append(
                {
                    "kind": EventKind.CLICK,
                    "natural_key": click_event_key(click.share_id, click.visitor, click.day),
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
    tally, per_share = rollups.new_tally(), Counter()
    for start in range(0, len(records), 100):
        recorded = inserted_rows(
            ClickRecord,
            records[start : start + 100],
            ClickRecord.share_id,
            ClickRecord.kind,
            ClickRecord.occurred_at,
        )
        stats["recorded"] += len(recorded)
        for share_id, kind, occurred_at in recorded:
            if earns_points(kind):  # counted: what the pipeline decided
                tally.click(owners[share_id].share, occurred_at)
                per_share[share_id] += 1
    for start in range(0, len(events), 100):
        stats["events"] += insert_ignoring_conflicts(Event, events[start : start + 100])
    rollups.count(tally)
    rollups.count_share_clicks(per_share)
    after_commit(lambda: _acknowledge(connection, handled))


def _acknowledge(connection: redis.Redis, entry_ids: list) -> None:
    if entry_ids:
        pipe = connection.pipeline(transaction=False)
        pipe.xack(STREAM, GROUP, *entry_ids)
        pipe.xdel(STREAM, *entry_ids)
        pipe.execute()


def store_clicks(
    stats: Counter, batch_size: int = 500, min_idle_ms: int = 60_000, max_batches: int = 40
) -> Iterator[int]:
    """Turn raw clicks into click records and CLICK events, a batch at a time: yields
    each batch's size once it is flushed, for the caller (the job) to commit it. Entries
    another worker took but did not acknowledge for ``min_idle_ms`` are taken over
    first; an entry is acknowledged and deleted only once its batch is committed
    (``after_commit``). Counts go to ``stats``. Safe to run concurrently and twice."""
    connection = get_redis()
    ensure_group(connection)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    start = "0-0"
    while True:  # stale entries of a crashed worker
        next_start, claimed, *_ = connection.xautoclaim(
            STREAM, GROUP, consumer, min_idle_ms, start, count=batch_size
        )
        if claimed:
            stats["reclaimed"] += len(claimed)
            _store(connection, claimed, stats)
            yield len(claimed)
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
        _store(connection, entries, stats)
        yield len(entries)
        if len(entries) < batch_size:
            break
    if stats:
        log.info("clicks processed", extra={"fields": dict(stats)})
