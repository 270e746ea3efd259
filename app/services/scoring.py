"""The scoring pipeline: events become ledger lines, ledger lines reach the boards.

Both steps run in batches inside jobs, one at a time (a Redis lock), and are safe to run
again: an event is claimed for scoring with a conditional UPDATE, ledger lines have
unique keys, and each line reaches the boards once (``app.boards``). The SQL ledger is
the truth; ``rebuild_boards`` recomputes every board from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from app.boards import BoardLine, BoardStore, boards_for
from app.extensions import db, get_redis
from app.models import (
    CapUsage,
    ContentItem,
    ContentTag,
    Employee,
    Event,
    LedgerLine,
    LineKind,
    utcnow,
)
from app.services.events import insert_ignoring_conflicts
from app.services.people import company_settings
from app.services.rules import all_versions, to_domain
from scoring.engine import MAX_FUTURE, EventFacts, score_events
from scoring.participation import Presence
from scoring.ranking import EPOCH
from scoring.windows import window_key

LOCK_NAME = "chorus:lock:scoring"
LOCK_TIMEOUT = 300  # seconds; a batch takes far less


class Busy(RuntimeError):
    """Another job holds the scoring lock; this one can simply run later."""


@contextmanager
def scoring_lock(blocking_timeout: float = 0) -> Iterator[None]:
    lock = get_redis().lock(LOCK_NAME, timeout=LOCK_TIMEOUT, blocking_timeout=blocking_timeout)
    if not lock.acquire(blocking=blocking_timeout > 0):
        raise Busy("scoring is running elsewhere")
    try:
        yield
    finally:
        lock.release()


def company_zone() -> tuple[ZoneInfo, int]:
    settings = company_settings()
    return ZoneInfo(settings.time_zone), settings.week_start


def event_facts(events: list[Event]) -> list[EventFacts]:
    content_ids = {e.content_id for e in events if e.content_id is not None}
    tags: dict[int, set[str]] = defaultdict(set)
    campaigns: dict[int, str | None] = {}
    if content_ids:
        for content_id, tag in db.session.execute(
            select(ContentTag.content_id, ContentTag.tag).where(
                ContentTag.content_id.in_(content_ids)
            )
        ):
            tags[content_id].add(tag)
        campaigns = dict(
            db.session.execute(
                select(ContentItem.id, ContentItem.campaign_hashtag).where(
                    ContentItem.id.in_(content_ids)
                )
            ).all()
        )
    return [
        EventFacts(
            event_id=e.id,
            kind=e.kind,
            employee_id=e.employee_id,
            occurred_at=e.occurred_at,
            team_id=e.team_id,
            channel=e.channel,
            tags=frozenset(tags.get(e.content_id, ())),
            campaign=campaigns.get(e.content_id),
            share_points=bool((e.details or {}).get("share_points", True)),
        )
        for e in events
    ]


def upsert_usage(usage: dict[tuple[int, int, str], int]) -> None:
    if not usage:
        return
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CapUsage)
    rows = [
        {"employee_id": e, "rule_id": r, "window_key": w, "used": used}
        for (e, r, w), used in usage.items()
    ]
    statement = insert.values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["employee_id", "rule_id", "window_key"],
            set_={"used": statement.excluded.used},
        )
    )


def score_pending_events(batch_size: int = 1000, now: datetime | None = None) -> int:
    """Score up to ``batch_size`` unscored events in time order; returns how many.
    The caller holds the scoring lock and commits."""
    now = now or utcnow()
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.scored_at.is_(None), Event.occurred_at <= now + MAX_FUTURE)
            .order_by(Event.occurred_at, Event.id)
            .limit(batch_size)
        )
    )
    if not events:
        return 0
    ids = [e.id for e in events]
    claimed = db.session.execute(
        update(Event)
        .where(Event.id.in_(ids), Event.scored_at.is_(None))
        .values(scored_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(ids):  # someone else scored part of the batch: leave it to them
        db.session.rollback()
        return 0

    zone, week_start = company_zone()
    versions = all_versions()
    rules = [to_domain(v) for v in versions]
    version_ids = {(v.rule_id, v.version): v.id for v in versions}
    facts = event_facts(events)
    keys = {
        (f.employee_id, r.rule_id, window_key(r.cap_window, f.occurred_at, zone, week_start))
        for f in facts
        for r in rules
        if r.cap is not None and r.event_kind is f.kind
    }
    usage = {}
    if keys:
        usage = {
            (row.employee_id, row.rule_id, row.window_key): row.used
            for row in db.session.scalars(
                select(CapUsage).where(
                    tuple_(CapUsage.employee_id, CapUsage.rule_id, CapUsage.window_key).in_(keys)
                )
            )
        }
    lines, new_usage = score_events(facts, rules, usage, now=now, zone=zone, week_start=week_start)
    insert_ignoring_conflicts(
        LedgerLine,
        [
            {
                "line_key": f"award:{line.event_id}:{line.rule_id}",
                "kind": LineKind.AWARD,
                "employee_id": line.employee_id,
                "team_id": line.team_id,
                "event_id": line.event_id,
                "rule_version_id": version_ids[(line.rule_id, line.rule_version)],
                "points": line.points,
                "capped": line.capped,
                "occurred_at": line.occurred_at,
                "reason": line.reason[:300],
                "vests_at": line.vests_at,
                "created_at": now,
                "boards_applied": False,
            }
            for line in lines
        ],
    )
    upsert_usage({k: v for k, v in new_usage.items() if usage.get(k) != v})
    return len(events)


def _visible_members(employee_ids: set[int] | None = None) -> set[int]:
    """Who may appear on boards (of ``employee_ids``, or everyone): opted in, active,
    not hidden."""
    query = select(Employee.id).where(
        Employee.opted_in_at.is_not(None),
        Employee.active.is_(True),
        Employee.erased_at.is_(None),
        Employee.presence != Presence.HIDDEN,
    )
    if employee_ids is not None:
        if not employee_ids:
            return set()
        query = query.where(Employee.id.in_(employee_ids))
    return set(db.session.scalars(query))


def _board_line(line: LedgerLine) -> BoardLine:
    return BoardLine(line.id, line.employee_id, line.team_id, line.points, line.occurred_at)


def apply_pending_lines(store: BoardStore, batch_size: int = 5000) -> int:
    """Put ledger lines not yet on the boards there; returns how many were handled.
    Lines of hidden or opted-out people are marked done without reaching a board: if
    they come back, ``restore_member`` adds their points from the ledger."""
    lines = list(
        db.session.scalars(
            select(LedgerLine)
            .where(LedgerLine.boards_applied.is_(False))
            .order_by(LedgerLine.id)
            .limit(batch_size)
        )
    )
    if not lines:
        return 0
    zone, week_start = company_zone()
    visible = _visible_members({line.employee_id for line in lines})
    store.apply_lines(
        [_board_line(line) for line in lines if line.employee_id in visible], zone, week_start
    )
    db.session.execute(
        update(LedgerLine)
        .where(LedgerLine.id.in_([line.id for line in lines]))
        .values(boards_applied=True)
        .execution_options(synchronize_session=False)
    )
    return len(lines)


def _standings(lines) -> dict[str, dict[int, list]]:
    """board key -> member -> [points, reached_at] from applied ledger lines."""
    zone, week_start = company_zone()
    boards: dict[str, dict[int, list]] = defaultdict(dict)
    for line in lines:
        for key in boards_for(line, zone, week_start):
            entry = boards[key].setdefault(line.employee_id, [0, None])
            entry[0] += line.points
            if line.points and (entry[1] is None or line.occurred_at > entry[1]):
                entry[1] = line.occurred_at
    return boards


def _applied_lines(employee_ids: set[int] | None = None) -> Iterator[BoardLine]:
    query = (
        select(
            LedgerLine.id,
            LedgerLine.employee_id,
            LedgerLine.team_id,
            LedgerLine.points,
            LedgerLine.occurred_at,
        )
        .where(LedgerLine.boards_applied.is_(True))
        .order_by(LedgerLine.id)
        .execution_options(yield_per=20_000)
    )
    if employee_ids is not None:
        query = query.where(LedgerLine.employee_id.in_(employee_ids))
    for row in db.session.execute(query):
        yield BoardLine(*row)


def rebuild_boards(store: BoardStore) -> int:
    """Recompute every board from the ledger and swap it in; returns the board count.
    Lines still waiting for ``apply_pending_lines`` are left to it."""
    visible = _visible_members()
    boards = _standings(line for line in _applied_lines() if line.employee_id in visible)
    for key, members in boards.items():
        store.replace_board(
            key,
            [(member, points, reached or EPOCH) for member, (points, reached) in members.items()],
        )
    store.forget_boards_except(set(boards))
    store.forget_applied_lines()
    return len(boards)


def restore_member(store: BoardStore, employee_id: int) -> None:
    """Put someone back on their boards from the ledger (opted in again, unhidden)."""
    store.remove_member(employee_id)
    if not _visible_members({employee_id}):
        return
    for key, members in _standings(_applied_lines({employee_id})).items():
        points, reached = members[employee_id]
        store.set_member(key, employee_id, points, reached or EPOCH)
