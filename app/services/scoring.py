"""The scoring pipeline: events become ledger lines, ledger lines reach the boards.

Both steps run in batches inside jobs, one at a time (a Redis lock), and are safe to run
again: an event is claimed for scoring with a conditional UPDATE, ledger lines have
unique keys, and each line reaches the boards once (``app.boards``). The SQL ledger is
the truth; ``rebuild_boards`` recomputes every board from it, and a settle run that
finds the boards' marker gone (Redis lost its data) has them rebuilt.

Keys: this module owns ``chorus:lock:scoring``, the lease of the one scoring run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from time import time

from sqlalchemy import (
    case,
    select,
    update,
)

from app.boards import BoardLine, BoardStore, boards_for
from app.db import among, bulk_insert
from app.extensions import db, get_redis
from app.leases import Lease, LeaseTaken, leased
from app.models import (
    CapUsage,
    ContentItem,
    ContentTag,
    Employee,
    Event,
    LedgerLine,
    LineKind,
    Share,
    utcnow,
)
from app.queue import enqueue
from app.services import rollups
from app.services.calendar import company_calendar
from app.services.rules import all_versions, to_domain
from scoring.badges import POINTS_LINE
from scoring.engine import MAX_FUTURE, EventFacts, cap_window_key, score_events
from scoring.keys import award_line_key
from scoring.participation import is_ranked
from scoring.ranking import EPOCH
from scoring.vocabulary import EventKind

LOCK_NAME = "chorus:lock:scoring"
# Seconds. The holder renews the lease every third of it while it works; a holder that
# died (killed with -9) stops renewing and frees the lock within this time.
LOCK_LEASE = 12
USAGE_CHUNK = 5000  # cap counters per upsert statement
REBUILD_TIMEOUT = 3600  # seconds; a rebuild of 5M lines takes about a minute


class Busy(RuntimeError):
    """Another job holds the scoring lock; this one can simply run later."""


@contextmanager
def scoring_lock(blocking_timeout: float = 0, lease: float = LOCK_LEASE) -> Iterator[Lease]:
    """One scoring run at a time, held as a renewed lease (``app.leases``)."""
    try:
        with leased(get_redis(), LOCK_NAME, lease, blocking_timeout) as held:
            yield held
    except LeaseTaken as exc:
        raise Busy("scoring is running elsewhere") from exc


def event_facts(events: Sequence[Event]) -> list[EventFacts]:
    """Facts for the engine from events (models, or rows with the same attributes)."""
    return _facts(
        [
            (
                e.id,
                e.kind,
                e.employee_id,
                e.occurred_at,
                e.team_id,
                e.channel,
                e.content_id,
                e.details,
                e.share_id,
            )
            for e in events
        ]
    )


def _facts(events: Sequence[tuple], own_words_asked: bool = True) -> list[EventFacts]:
    """``event_facts`` of tuples in the order of ``_EVENT_COLUMNS``: unpacked rather than
    read by name, which costs a row ~0.25 µs an attribute. Whether shares are in own
    words is read only when ``own_words_asked`` (some rule has the condition)."""
    content_ids = {e[6] for e in events if e[6] is not None}
    tags: dict[int, set[str]] = defaultdict(set)
    campaigns: dict[int, str | None] = {}
    if content_ids:
        # Items and their tags in one query (an item without tags comes once, tag NULL).
        for content_id, campaign, tag in db.session.execute(
            select(ContentItem.id, ContentItem.campaign_hashtag, ContentTag.tag)
            .outerjoin(ContentTag, ContentTag.content_id == ContentItem.id)
            .where(among(ContentItem.id, content_ids))
        ):
            campaigns[content_id] = campaign
            if tag is not None:
                tags[content_id].add(tag)
    # Content items are few and shared by many events: one frozenset each.
    tag_sets = {content_id: frozenset(names) for content_id, names in tags.items()}
    empty: frozenset[str] = frozenset()
    own_words = (
        _own_words_shares({e[8] for e in events if e[8] is not None}) if own_words_asked else set()
    )
    return [
        EventFacts(
            event_id=event_id,
            kind=kind,
            employee_id=employee_id,
            occurred_at=occurred_at,
            team_id=team_id,
            channel=channel,
            tags=tag_sets.get(content_id, empty),
            campaign=campaigns.get(content_id),
            share_points=bool((details or {}).get("share_points", True)),
            own_words=share_id in own_words,
        )
        for (
            event_id,
            kind,
            employee_id,
            occurred_at,
            team_id,
            channel,
            content_id,
            details,
            share_id,
        ) in events
    ]


def _own_words_shares(share_ids: set[int]) -> set[int]:
    """Of these shares, those in the employee's own words: one query for the batch,
    returning only the (few) that are."""
    if not share_ids:
        return set()
    return set(
        db.session.scalars(select(Share.id).where(among(Share.id, share_ids), Share.own_words))
    )


def _upsert_usage_statement(statement):
    return statement.on_conflict_do_update(
        index_elements=["employee_id", "rule_id", "window_key"],
        set_={"used": statement.excluded.used},
    )


def upsert_usage(usage: dict[tuple[int, int, str], int]) -> None:
    if not usage:
        return
    rows = [
        {"employee_id": e, "rule_id": r, "window_key": w, "used": used}
        for (e, r, w), used in usage.items()
    ]
    for start in range(0, len(rows), USAGE_CHUNK):
        bulk_insert(CapUsage.__table__, rows[start : start + USAGE_CHUNK], _upsert_usage_statement)


def _cap_usage(keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], int]:
    """Prior usage of these (employee, rule, window) keys. Asked for by the three parts
    separately and filtered here: a short query instead of a long tuple IN list."""
    if not keys:
        return {}
    employees = {k[0] for k in keys}
    rule_ids = {k[1] for k in keys}
    windows = {k[2] for k in keys}
    rows = db.session.execute(
        select(CapUsage.employee_id, CapUsage.rule_id, CapUsage.window_key, CapUsage.used).where(
            among(CapUsage.employee_id, employees),
            among(CapUsage.rule_id, rule_ids),
            among(CapUsage.window_key, windows),
        )
    )
    found = {(e, r, w): used for e, r, w, used in rows}
    return {key: used for key, used in found.items() if key in keys}


_EVENT_COLUMNS = (
    Event.id,
    Event.kind,
    Event.employee_id,
    Event.occurred_at,
    Event.team_id,
    Event.channel,
    Event.content_id,
    # Only shares read their details (share_points): other kinds skip decoding JSON.
    case((Event.kind == EventKind.SHARE, Event.details), else_=None).label("details"),
    Event.share_id,  # shares and clicks: whether the share is in own words
)


def score_pending_events(
    batch_size: int = 1000,
    now: datetime | None = None,
    touched: dict[int, set[str]] | None = None,
) -> int:
    """Score up to ``batch_size`` unscored events in time order; returns how many.
    The caller holds the scoring lock and commits. ``touched`` gains the people whose
    events were scored, each with the kinds of their events and ``POINTS_LINE`` when
    they earned points: their badges on those are evaluated after the commit."""
    now = now or utcnow()
    waiting = (
        select(Event.id)
        .where(Event.scored_at.is_(None), Event.occurred_at <= now + MAX_FUTURE)
        .order_by(Event.occurred_at, Event.id)
        .limit(batch_size)
    )
    # Claimed and read in one statement. Only events this transaction itself moved from
    # unscored to scored come back: an event another run claimed first is left to it.
    events = db.session.execute(
        update(Event)
        .where(Event.id.in_(waiting.scalar_subquery()), Event.scored_at.is_(None))
        .values(scored_at=now)
        .returning(*_EVENT_COLUMNS)
        .execution_options(synchronize_session=False)
    ).all()
    if not events:
        return 0
    if touched is not None:
        for row in events:
            touched.setdefault(row.employee_id, set()).add(row.kind)

    zone, week_start = company_calendar()
    versions = all_versions()
    rules = [to_domain(v) for v in versions]
    version_ids = {(v.rule_id, v.version): v.id for v in versions}
    facts = _facts(events, own_words_asked=any(rule.own_words for rule in rules))
    capped_rules: dict[object, list] = defaultdict(list)
    for rule in rules:
        if rule.cap is not None:
            capped_rules[rule.event_kind].append(rule)
    keys = {
        (f.employee_id, r.rule_id, cap_window_key(r.cap_window, f.occurred_at, zone, week_start))
        for f in facts
        for r in capped_rules.get(f.kind, ())
    }
    usage = _cap_usage(keys)
    lines, new_usage = score_events(facts, rules, usage, now=now, zone=zone, week_start=week_start)
    written = bulk_insert(
        LedgerLine.__table__,
        [
            {
                "line_key": award_line_key(line.event_id, line.rule_id),
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
        lambda statement: statement.on_conflict_do_nothing(),
    )
    # The points in the analytics rollups, with the content item and channel of the
    # event each line is about.
    about = {row[0]: (row[6], row[5]) for row in events}
    rollups.count_lines(
        [
            (line.employee_id, line.team_id, line.points, line.occurred_at, *about[line.event_id])
            for line in lines
        ],
        complete=written == len(lines),
    )
    upsert_usage({k: v for k, v in new_usage.items() if usage.get(k) != v})
    if touched is not None:
        for line in lines:
            if line.points > 0:
                touched[line.employee_id].add(POINTS_LINE)
    return len(events)


def _visible_members(employee_ids: Collection[int] | None = None) -> set[int]:
    """Who may appear on boards (of ``employee_ids``, or everyone), as
    ``scoring.participation.is_ranked`` decides: opted in, active, not hidden."""
    query = select(
        Employee.id, Employee.opted_in_at, Employee.presence, Employee.active, Employee.erased_at
    ).where(Employee.opted_in_at.is_not(None))  # the others are never shown: not read
    if employee_ids is not None:
        if not employee_ids:
            return set()
        query = query.where(among(Employee.id, employee_ids))
    return {
        row.id
        for row in db.session.execute(query)
        if is_ranked(row.opted_in_at, row.presence, row.active and row.erased_at is None)
    }


def apply_pending_lines(store: BoardStore, batch_size: int = 5000) -> int:
    """Put ledger lines not yet on the boards there; returns how many were handled.
    Lines of hidden or opted-out people are marked done without reaching a board: if
    they come back, ``restore_member`` adds their points from the ledger."""
    lines = [
        BoardLine(*row)
        for row in db.session.execute(
            select(
                LedgerLine.id,
                LedgerLine.employee_id,
                LedgerLine.team_id,
                LedgerLine.points,
                LedgerLine.occurred_at,
            )
            .where(~LedgerLine.boards_applied)
            .order_by(LedgerLine.id)
            .limit(batch_size)
        )
    ]
    if not lines:
        return 0
    zone, week_start = company_calendar()
    visible = _visible_members({line.employee_id for line in lines})
    # Redis applies the lines while the database marks them, each server working at
    # once. Nothing is committed before both are done; lines that reach the boards but
    # stay unmarked (a failed commit) are recognised by the boards when tried again.
    with ThreadPoolExecutor(max_workers=1) as redis_side:
        applying = redis_side.submit(
            store.apply_lines,
            [line for line in lines if line.employee_id in visible],
            zone,
            week_start,
        )
        db.session.execute(
            update(LedgerLine)
            .where(among(LedgerLine.id, [line.line_id for line in lines]))
            .values(boards_applied=True)
            .execution_options(synchronize_session=False)
        )
        applying.result()
    return len(lines)


def ensure_boards_built(store: BoardStore, now: float | None = None) -> bool:
    """Whether the boards hold every applied line. When Redis has lost its data (its
    marker is gone) while the ledger has lines on the boards, a rebuild is queued,
    once per hour slot whatever the number of settle runs and clocks, and False is
    returned; new lines keep reaching the boards meanwhile and the rebuild keeps them."""
    if store.is_built():
        return True
    applied = db.session.scalar(
        select(LedgerLine.id).where(LedgerLine.boards_applied.is_(True)).limit(1)
    )
    if applied is None:  # nothing on the boards yet: empty boards are whole
        store.mark_built()
        return True
    slot = int((time() if now is None else now) // 3600)
    enqueue(
        "app.jobs.rebuild_boards",
        job_id=f"rebuild-boards-after-loss-{slot}",
        queue_name="scoring",
        timeout=REBUILD_TIMEOUT,
        retries=0,
    )
    return False


def _standings(lines) -> dict[str, dict[int, list]]:
    """board key -> member -> [points, reached_at] from applied ledger lines."""
    zone, week_start = company_calendar()
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


def _rebuild_standings(visible: set[int]) -> dict[str, dict[int, list]]:
    """``_standings`` of every applied line of visible people, for a full rebuild:
    streamed from the database as plain rows, each line's board keys looked up once per
    (team, company-local day) rather than computed per line."""
    zone, week_start = company_calendar()
    boards: dict[str, dict[int, list]] = defaultdict(dict)
    keys_of: dict[tuple[int | None, date], list[dict[int, list]]] = {}
    query = (
        select(
            LedgerLine.employee_id, LedgerLine.team_id, LedgerLine.points, LedgerLine.occurred_at
        )
        .where(LedgerLine.boards_applied.is_(True))
        .execution_options(yield_per=20_000)
    )
    for employee_id, team_id, points, occurred_at in db.session.execute(query):
        if employee_id not in visible:
            continue
        day = occurred_at.astimezone(zone).date()
        targets = keys_of.get((team_id, day))
        if targets is None:
            line = BoardLine(0, employee_id, team_id, points, occurred_at)
            targets = [boards[key] for key in boards_for(line, zone, week_start)]
            keys_of[(team_id, day)] = targets
        for board in targets:
            entry = board.get(employee_id)
            if entry is None:
                board[employee_id] = [points, occurred_at if points else None]
            else:
                entry[0] += points
                if points and (entry[1] is None or occurred_at > entry[1]):
                    entry[1] = occurred_at
    return boards


def rebuild_boards(store: BoardStore) -> int:
    """Recompute every board from the ledger and swap it in; returns the board count.
    Lines still waiting for ``apply_pending_lines`` are left to it."""
    boards = _rebuild_standings(_visible_members())
    store.replace_boards(
        {
            key: {
                member: (points, reached or EPOCH) for member, (points, reached) in members.items()
            }
            for key, members in boards.items()
        }
    )
    store.forget_boards_except(set(boards))
    store.forget_applied_lines()
    store.forget_names()  # read afresh from the database as the boards are shown
    store.mark_built()
    return len(boards)


def restore_member(store: BoardStore, employee_id: int) -> None:
    """Put someone back on their boards from the ledger (opted in again, unhidden)."""
    store.remove_member(employee_id)
    if not _visible_members({employee_id}):
        return
    for key, members in _standings(_applied_lines({employee_id})).items():
        points, reached = members[employee_id]
        store.set_member(key, employee_id, points, reached or EPOCH)
