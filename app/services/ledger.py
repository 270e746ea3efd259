"""Reading and correcting the ledger: balances, history with reasons, admin adjustments
and the recalculation after a rule change. Corrections are always new lines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, case, func, select

from app.db import insert, inserted_rows
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import (
    CapUsage,
    Employee,
    Event,
    LedgerLine,
    LineKind,
    Pledge,
    PledgeState,
    Redemption,
    RedemptionState,
    RuleVersion,
    utcnow,
)
from app.services import audit, rollups
from app.services.calendar import company_calendar
from app.services.rules import all_versions, to_domain
from app.services.scoring import event_facts, upsert_usage
from rewards.redemptions import HELD
from scoring.engine import score_events
from scoring.keys import adjustment_line_key, recalculation_line_key
from scoring.ranking import MAX_POINTS
from scoring.vocabulary import Channel
from scoring.windows import Window, window_key, window_start

ADJUSTMENT_REASON_MAX = 300


@dataclass(frozen=True)
class Balance:
    lifetime: int  # everything earned: what ranks use
    vested: int  # earned and past any holding period
    pending: int  # earned, still in a holding period
    spent: int = 0  # on fulfilled redemptions and pledges toward funded team rewards
    held: int = 0  # by pending and approved redemptions and held pledges, until settled

    @property
    def spendable(self) -> int:
        # Spending lives in the redemptions, not the ledger: it never touches lifetime
        # points or rank. A reversal after spending (a referral withdrawn) may leave
        # less earned than spent; the balance then shows 0, never a debt.
        return max(0, self.vested - self.spent - self.held)


def _balance_sums() -> tuple:
    """Earned (lifetime, vested), spent (redemptions, pledges) and held (redemptions,
    pledges): six scalar subqueries on the tables' columns, with the bind parameters
    ``employee_id`` and ``now``. Built once: a redemption reads them under the
    employee's lock, next to the reward, and building them anew cost more than the
    query."""
    lines, redemptions, pledges = LedgerLine.__table__, Redemption.__table__, Pledge.__table__
    employee_id, now = bindparam("employee_id"), bindparam("now", type_=lines.c.vests_at.type)
    vested_case = case(
        (lines.c.vests_at.is_(None) | (lines.c.vests_at <= now), lines.c.points), else_=0
    )

    def total(column, *where):
        return func.coalesce(select(func.sum(column)).where(*where).scalar_subquery(), 0)

    mine = redemptions.c.employee_id == employee_id
    pledged = pledges.c.employee_id == employee_id
    return (
        total(lines.c.points, lines.c.employee_id == employee_id),
        total(vested_case, lines.c.employee_id == employee_id),
        # Spent: fulfilled redemptions and pledges toward funded team rewards.
        total(redemptions.c.points, mine, redemptions.c.state == RedemptionState.FULFILLED),
        total(pledges.c.points, pledged, pledges.c.state == PledgeState.SPENT),
        # Held: redemptions not yet decided and pledges toward open fundings;
        # rejected, cancelled and refunded ones count no more.
        total(redemptions.c.points, mine, redemptions.c.state.in_(HELD)),
        total(pledges.c.points, pledged, pledges.c.state == PledgeState.HELD),
    )


BALANCE_SUMS = _balance_sums()
_BALANCE = select(*BALANCE_SUMS)


def balance_from(sums) -> Balance:
    """The Balance from the six ``BALANCE_SUMS`` as read."""
    lifetime, vested, spent, spent_pledged, held, held_pledged = (int(v) for v in sums)
    return Balance(lifetime, vested, lifetime - vested, spent + spent_pledged, held + held_pledged)


def balance(employee_id: int, now: datetime | None = None) -> Balance:
    """Earned (lifetime, vested) and spent or held, in one statement."""
    row = db.session.execute(_BALANCE, {"employee_id": employee_id, "now": now or utcnow()})
    return balance_from(row.one())


def history(employee_id: int, limit: int = 50, before_id: int | None = None) -> list[LedgerLine]:
    """The employee's ledger, newest first: every line says why."""
    query = (
        select(LedgerLine)
        .where(LedgerLine.employee_id == employee_id)
        .order_by(LedgerLine.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(LedgerLine.id < before_id)
    return list(db.session.scalars(query))


def adjustment_key(adjustment_id: str) -> str:
    """The ledger line key of an admin adjustment: one line per client-chosen id."""
    return adjustment_line_key(adjustment_id)


def adjust_points(
    actor: Employee, employee: Employee, points: int, reason: str, adjustment_id: str
) -> LedgerLine:
    """An admin's correction, with a reason, as a line of its own. ``adjustment_id``
    makes it idempotent: sending the same adjustment again returns the first line."""
    return record_adjustment(actor, employee, points, reason, adjustment_id)[0]


def record_adjustment(
    actor: Employee, employee: Employee, points: int, reason: str, adjustment_id: str
) -> tuple[LedgerLine, bool]:
    """``adjust_points``, also saying whether this call wrote the line. The unique line
    key decides: of two identical requests racing, only the one whose insert wrote the
    line is told "created"; the other gets the first line back."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the points change; the employee will see it.", field="reason")
    if points == 0:
        raise InvalidInput(
            "An adjustment changes points: give a number other than 0.", field="points"
        )
    key = adjustment_key(adjustment_id)
    existing = _adjustment_line(key)
    if existing is not None:
        return _repeated(existing, employee, points), False
    lifetime = balance(employee.id).lifetime
    if points < 0 and lifetime + points < 0:
        raise InvalidInput("A correction cannot take the total below zero.", field="points")
    if lifetime + points > MAX_POINTS:  # a board holds totals up to this exactly
        raise InvalidInput(
            f"A total cannot go above {MAX_POINTS:,} points on the boards.", field="points"
        )
    line_id = db.session.scalar(
        insert(LedgerLine)
        .values(
            line_key=key,
            kind=LineKind.ADJUSTMENT,
            employee_id=employee.id,
            team_id=employee.team_id,
            points=points,
            occurred_at=utcnow(),
            reason=reason[:ADJUSTMENT_REASON_MAX],
            created_by_id=actor.id,
        )
        .on_conflict_do_nothing(index_elements=[LedgerLine.line_key])
        .returning(LedgerLine.id)
    )
    if line_id is None:  # a concurrent request with the same id wrote it first
        return _repeated(_adjustment_line(key), employee, points), False
    line = db.session.get(LedgerLine, line_id)
    rollups.count_lines([(employee.id, line.team_id, points, line.occurred_at, None, None)])
    audit.record(actor, "ledger.adjust", employee, points=points, reason=reason, line_id=line.id)
    return line, True


def _adjustment_line(key: str) -> LedgerLine | None:
    return db.session.scalar(
        select(LedgerLine)
        .where(LedgerLine.line_key == key)
        .execution_options(populate_existing=True)
    )


def _repeated(existing: LedgerLine, employee: Employee, points: int) -> LedgerLine:
    if existing.employee_id != employee.id or existing.points != points:
        raise Conflict("This adjustment id was used for another adjustment.", field="adjustment_id")
    return existing


def _counted_usage(*conditions, zone, week_start: int) -> dict[tuple[int, int, str], int]:
    """Cap usage summed from the ledger lines of capped rules that match ``conditions``."""
    rows = db.session.execute(
        select(
            LedgerLine.employee_id,
            RuleVersion.rule_id,
            RuleVersion.cap_window,
            LedgerLine.points,
            LedgerLine.occurred_at,
        )
        .join(RuleVersion, LedgerLine.rule_version_id == RuleVersion.id)
        .where(RuleVersion.cap.is_not(None), *conditions)
    )
    usage: dict[tuple[int, int, str], int] = defaultdict(int)
    for employee_id, rule_id, cap_window, points, occurred_at in rows:
        key = window_key(cap_window, occurred_at, zone, week_start)
        usage[(employee_id, rule_id, key)] += points
    return dict(usage)


def _prior_usage(since: datetime, zone, week_start: int) -> dict[tuple[int, int, str], int]:
    """Cap usage before ``since``, for the windows that reach into the replayed period."""
    earliest = min(
        window_start(Window.MONTH, since, zone, week_start),
        window_start(Window.WEEK, since, zone, week_start),
    )
    return _counted_usage(
        LedgerLine.occurred_at < since,
        (LedgerLine.occurred_at >= earliest) | (RuleVersion.cap_window == Window.ALL_TIME),
        zone=zone,
        week_start=week_start,
    )


def recalculate(actor: Employee | None, since: datetime, now: datetime | None = None) -> int:
    """Replay every scored event from ``since`` under the rules as they now stand and
    write compensating lines where the ledger differs; returns how many were written.
    Run twice, the second run finds nothing to correct. The caller holds the scoring
    lock, commits, and then lets the boards catch up (``apply_pending_lines``)."""
    now = now or utcnow()
    zone, week_start = company_calendar()
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.occurred_at >= since, Event.scored_at.is_not(None))
            .order_by(Event.occurred_at, Event.id)
        )
    )
    if not events:
        return 0
    versions = all_versions()
    version_ids = {(v.rule_id, v.version): v.id for v in versions}
    prior = _prior_usage(since, zone, week_start)
    lines, _usage = score_events(
        event_facts(events),
        [to_domain(v) for v in versions],
        prior,
        now=now,
        zone=zone,
        week_start=week_start,
    )
    wanted = {(line.event_id, line.rule_id): line for line in lines}

    booked: dict[tuple[int, int], list[int]] = defaultdict(list)  # (event, rule) -> points
    for event_id, rule_id, points in db.session.execute(
        select(LedgerLine.event_id, RuleVersion.rule_id, LedgerLine.points)
        .join(RuleVersion, LedgerLine.rule_version_id == RuleVersion.id)
        .where(LedgerLine.event_id.in_([e.id for e in events]))
    ):
        booked[(event_id, rule_id)].append(points)

    events_by_id = {e.id: e for e in events}
    corrections = []
    for key in sorted(set(wanted) | set(booked)):
        event_id, rule_id = key
        target = wanted[key].points if key in wanted else 0
        difference = target - sum(booked.get(key, []))
        if difference == 0:
            continue
        event = events_by_id[event_id]
        source = wanted.get(key)
        version_id = (
            version_ids[(rule_id, source.rule_version)]
            if source
            else _latest_version_id(rule_id, versions)
        )
        corrections.append(
            {
                "line_key": recalculation_line_key(event_id, rule_id, len(booked.get(key, []))),
                "kind": LineKind.COMPENSATION,
                "employee_id": event.employee_id,
                "team_id": event.team_id,
                "event_id": event_id,
                "rule_version_id": version_id,
                "points": difference,
                "capped": bool(source and source.capped),
                "occurred_at": event.occurred_at,
                "vests_at": source.vests_at if source else None,
                "reason": (
                    f"Recalculated after a rule change: {source.reason}"
                    if source
                    else "Recalculated after a rule change: the rule no longer applies"
                )[:300],
                "created_at": now,
                "boards_applied": False,
            }
        )
    keys = {key for (key,) in inserted_rows(LedgerLine, corrections, LedgerLine.line_key)}
    rollups.count_lines(
        [
            (
                line["employee_id"],
                line["team_id"],
                line["points"],
                line["occurred_at"],
                events_by_id[line["event_id"]].content_id,
                events_by_id[line["event_id"]].channel,
            )
            for line in corrections
            if line["line_key"] in keys
        ]
    )
    written = len(keys)
    if written:
        _recount_usage({e.employee_id for e in events}, zone, week_start)
    if written:
        audit.record(actor, "ledger.recalculate", None, since=since.isoformat(), lines=written)
    return written


def _latest_version_id(rule_id: int, versions: list[RuleVersion]) -> int:
    return max((v for v in versions if v.rule_id == rule_id), key=lambda v: v.version).id


def _recount_usage(employee_ids: set[int], zone, week_start: int) -> None:
    """Cap counters of these employees, counted again from their ledger lines."""
    db.session.execute(CapUsage.__table__.delete().where(CapUsage.employee_id.in_(employee_ids)))
    upsert_usage(
        _counted_usage(LedgerLine.employee_id.in_(employee_ids), zone=zone, week_start=week_start)
    )


@dataclass(frozen=True)
class Preview:
    events: int
    current_points: int
    proposed_points: int
    employees: int  # people whose points would change
    people: int  # people the rule would give points to with the changes


def preview_rule_change(rule_id: int, changes: dict, since: datetime, until: datetime) -> Preview:
    """What the rule would have given between ``since`` and ``until`` with ``changes``,
    against what the rules in force gave: nothing is written."""
    zone, week_start = company_calendar()
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.occurred_at >= since, Event.occurred_at < until)
            .order_by(Event.occurred_at, Event.id)
        )
    )
    rules = [to_domain(v) for v in all_versions()]
    allowed = {
        k: v
        for k, v in changes.items()
        if k in {"points", "cap", "cap_window", "channels", "tags", "team_ids", "campaign"}
        or k == "own_words"
    }
    # Changes come as a version stores them (lists); the engine's rules hold sets.
    for name, kind in (("channels", Channel), ("tags", str), ("team_ids", int)):
        if allowed.get(name) is not None:
            allowed[name] = frozenset(kind(v) for v in allowed[name]) or None
    proposed = [
        replace(r, **allowed) if r.rule_id == rule_id and r.in_force(until) else r for r in rules
    ]
    prior = _prior_usage(since, zone, week_start)
    facts = event_facts(events)
    now = max(until, utcnow())
    current, _ = score_events(facts, rules, prior, now=now, zone=zone, week_start=week_start)
    after, _ = score_events(facts, proposed, prior, now=now, zone=zone, week_start=week_start)

    def totals(lines) -> dict[int, int]:
        result: dict[int, int] = defaultdict(int)
        for line in lines:
            if line.rule_id == rule_id:
                result[line.employee_id] += line.points
        return result

    before_totals, after_totals = totals(current), totals(after)
    changed = {
        e
        for e in set(before_totals) | set(after_totals)
        if before_totals.get(e, 0) != after_totals.get(e, 0)
    }
    return Preview(
        len(events),
        sum(before_totals.values()),
        sum(after_totals.values()),
        len(changed),
        sum(1 for points in after_totals.values() if points),
    )


def vesting_schedule(employee_id: int, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Points still in a holding period, by the time they become spendable."""
    now = now or utcnow()
    rows = db.session.execute(
        select(LedgerLine.vests_at, func.sum(LedgerLine.points))
        .where(LedgerLine.employee_id == employee_id, LedgerLine.vests_at > now)
        .group_by(LedgerLine.vests_at)
        .order_by(LedgerLine.vests_at)
    )
    return [(vests_at, int(points)) for vests_at, points in rows if points]
