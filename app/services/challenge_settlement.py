"""Freezing and settling share challenges, and paying their prizes, exactly once.

The state moves open -> frozen -> settled only by conditional UPDATE
(``... WHERE id = :id AND state IN scoring.challenges.sources(...)``): of two workers
settling at once, the second finds the row no longer in a source state (on PostgreSQL
it waits on the first one's row lock, then re-reads it) and writes nothing. Cancelled
challenges are never settled. Placings (primary key challenge, entrant), awards (unique
award key), prize ledger lines (unique line key), badge grants (unique employee,
badge, level, period) and reward redemptions (unique employee, idempotency key) are
written insert-if-absent besides, so a settlement run late or twice gives every prize
once. Everything happens in the caller's transaction: the job commits (``app.jobs``).

Scored first: for the points metric, a challenge is not settled while an event of its
period that arrived inside the lateness window is still unscored (the scoring job
settles events every few seconds; the sweep tries again a minute later). Counts
(shares, clicks, referral stages) are read from events and do not wait.

Prizes (``challenge.prizes``: ``[{"kind", "value", "place"}]``):

- points: a ledger line of kind prize (``line_key`` = the award key), dated at the
  challenge's end, for the employee's current team. It has no event, so it never
  counts toward any challenge;
- badge: a grant of that badge, level once, period ``challenge:<id>``, dated when the
  challenge was settled, announced (not quiet);
- reward: an approved redemption of that reward costing 0 points (idempotency key =
  the award key). It takes a unit of stock when the reward has stock; when none is
  left, the redemption is still written, approved, with a note for HR ("out of stock:
  HR arranges it"), so the winner's prize is recorded and visible either way.

A prize naming a badge or reward that no longer exists is recorded as an award only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select, update

from app.db import among, bulk_insert, insert, inserted_rows, lock_row
from app.extensions import after_commit, db
from app.models import (
    Badge,
    BadgeGrant,
    Challenge,
    ChallengeAward,
    ChallengePlacing,
    Employee,
    Event,
    LedgerLine,
    LineKind,
    Redemption,
    RedemptionState,
    Reward,
    utcnow,
)
from app.services import challenge_boards, rollups, webhook_endpoints
from app.services.challenge_standings import active_members, compute, schedule_of
from scoring import challenges as sc
from scoring.badges import Level, challenge_period
from scoring.challenges import ChallengeState, Metric, Mode, Party, Prize, PrizeKind
from scoring.webhooks import Event as WebhookEvent

log = logging.getLogger("chorus.challenges")

REASON_LIMIT = 300
CHUNK = 5_000  # rows per bulk insert
REDEMPTIONS_AT_ONCE = 1_000  # rows per multi-row INSERT ... RETURNING (prize lines too)


def _insert_absent(model, rows: list[dict]) -> None:
    """Insert-if-absent in chunks (a challenge of 100,000 people writes that many
    placings): rows clashing with a unique constraint are skipped."""
    for start in range(0, len(rows), CHUNK):
        bulk_insert(
            model.__table__,
            rows[start : start + CHUNK],
            lambda statement: statement.on_conflict_do_nothing(),
        )


def _read_by(values: list, query) -> list[tuple]:
    """The rows of ``query(part)`` for each part of ``values`` (ids or keys), CHUNK at
    a time: a settlement may ask about 100,000 of them."""
    rows: list[tuple] = []
    for start in range(0, len(values), CHUNK):
        rows += db.session.execute(query(values[start : start + CHUNK])).all()
    return rows


def prizes_of(challenge: Challenge) -> list[Prize]:
    return [
        Prize(PrizeKind(p["kind"]), int(p["value"]), p.get("place")) for p in challenge.prizes or ()
    ]


def _move(challenge_id: int, to: ChallengeState, **values) -> bool:
    """The conditional UPDATE: true when this call made the move."""
    sources = list(sc.sources(to, Party.CLOCK))
    result = db.session.execute(
        update(Challenge)
        .where(Challenge.id == challenge_id, Challenge.state.in_(sources))
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def freeze_due(now: datetime | None = None) -> list[int]:
    """Move open challenges whose freeze moment has come to frozen; their ids."""
    now = now or utcnow()
    frozen = []
    candidates = db.session.scalars(
        select(Challenge).where(Challenge.state == ChallengeState.OPEN, Challenge.starts_at <= now)
    ).all()
    for challenge in candidates:
        schedule = schedule_of(challenge)
        if sc.clock_state(schedule, now) is ChallengeState.FROZEN and _move(
            challenge.id, ChallengeState.FROZEN
        ):
            frozen.append(challenge.id)
    return frozen


def settle_due(now: datetime | None = None) -> list[int]:
    """Ids of challenges, not final, whose settlement is due (end + lateness)."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Challenge)
        .where(Challenge.state.not_in(list(sc.FINAL)), Challenge.ends_at <= now)
        .order_by(Challenge.ends_at, Challenge.id)
    ).all()
    return [c.id for c in candidates if sc.settlement_due(schedule_of(c), now)]


def unscored_events(challenge: Challenge) -> bool:
    """Whether an event that may count for the points metric still waits for scoring."""
    schedule = schedule_of(challenge)
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Event.scored_at.is_(None),
                    Event.occurred_at >= schedule.start,
                    Event.occurred_at < schedule.end,
                    Event.created_at < schedule.settle_at,
                )
            )
        )
    )


def settle_challenge(challenge_id: int, now: datetime | None = None) -> bool:
    """Settle one challenge if due: placings, digest, awards and prizes, in the
    caller's transaction (flushed, not committed). False when it is not due, not
    scored yet, final already, or another run settled it first."""
    now = now or utcnow()
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or challenge.state in sc.FINAL:
        return False
    schedule = schedule_of(challenge)
    if not sc.settlement_due(schedule, now):
        return False
    if challenge.metric is Metric.POINTS and unscored_events(challenge):
        log.info("challenge %s: events still to score, settling later", challenge_id)
        return False
    computed = compute(challenge, sc.final_cutoff(schedule))
    placings = computed.placings
    digest = sc.settlement_digest(challenge_id, placings)
    if not _move(challenge_id, ChallengeState.SETTLED, settled_at=now, digest=digest):
        return False
    _insert_absent(
        ChallengePlacing,
        [
            {
                "challenge_id": challenge_id,
                "entrant_id": p.entrant_id,
                "rank": p.rank,
                "points": p.points,
                "score_numerator": p.score.numerator,
                "score_denominator": p.score.denominator,
                "active_members": p.active_members,
                "qualified": p.qualified,
            }
            for p in placings
        ],
    )
    prizes = prizes_of(challenge)
    if prizes:
        if challenge.mode is Mode.TEAM:
            members = computed.members
            if members is None:
                members, _ = active_members(challenge)
            won = sc.awards(challenge_id, placings, prizes, members=members)
        else:
            hidden = [
                pid
                for pid, total in computed.totals.items()
                if pid in computed.people
                and computed.people[pid].taking_part
                and not computed.people[pid].ranked
                and sc.qualifies(total.points, challenge.minimum)
            ]
            won = sc.awards(challenge_id, placings, prizes, unranked_qualifiers=hidden)
        pay_awards(challenge, won, now, {p.id: p.team_id for p in computed.people.values()})
    _tell_systems(challenge, placings, now)
    db.session.flush()
    db.session.expire(challenge)
    after_commit(lambda: challenge_boards.forget(challenge_id))  # settled: placings rule
    return True


def _tell_systems(challenge: Challenge, placings: list[sc.Placing], now: datetime) -> None:
    """The settlement, for webhook endpoints: what the challenge was and how many
    took part; the standings are the API's (``/challenges/<id>/standings``)."""
    data = {
        "challenge_id": challenge.id,
        "title": challenge.title,
        "mode": challenge.mode.value,
        "metric": challenge.metric.value,
        "starts_at": challenge.starts_at.isoformat(),
        "ends_at": challenge.ends_at.isoformat(),
        "settled_at": now.isoformat(),
        "ranked": len(placings),  # on its board: hidden people are not counted
        "qualified": sum(1 for p in placings if p.qualified),
    }
    webhook_endpoints.emit(WebhookEvent.CHALLENGE_SETTLED, [(str(challenge.id), data)], now)


def _reason(challenge: Challenge, place: int | None) -> str:
    where = f"place {place}" if place is not None else "qualified"
    suffix = f", {where}"
    title = challenge.title[: REASON_LIMIT - len("Prize: ") - len(suffix)]
    return f"Prize: {title}{suffix}"


def pay_awards(
    challenge: Challenge,
    won: list[sc.Award],
    now: datetime,
    known_teams: dict[int, int | None] | None = None,
) -> int:
    """Write the awards and pay their prizes, each once (insert-if-absent); returns
    how many awards were due."""
    _insert_absent(
        ChallengeAward,
        [
            {
                "award_key": a.key,
                "challenge_id": challenge.id,
                "employee_id": a.employee_id,
                "prize_kind": a.prize.kind.value,
                "value": a.prize.value,
                "place": a.place,
                "created_at": now,
            }
            for a in won
        ],
    )
    teams = dict(known_teams or {})
    missing = list({a.employee_id for a in won} - set(teams))
    teams.update(
        _read_by(
            missing,
            lambda ids: select(Employee.id, Employee.team_id).where(among(Employee.id, ids)),
        )
    )
    points = [a for a in won if a.prize.kind is PrizeKind.POINTS]
    lines = [
        {
            "line_key": a.key,
            "kind": LineKind.PRIZE,
            "employee_id": a.employee_id,
            "team_id": teams.get(a.employee_id),
            "points": a.prize.value,
            "occurred_at": challenge.ends_at,
            "reason": _reason(challenge, a.place),
            "capped": False,
            "boards_applied": False,
            "created_at": now,
        }
        for a in points
    ]
    # Insert-if-absent, knowing which were written: they count in the analytics rollups.
    for start in range(0, len(lines), REDEMPTIONS_AT_ONCE):
        chunk = lines[start : start + REDEMPTIONS_AT_ONCE]
        written = {key for (key,) in inserted_rows(LedgerLine, chunk, LedgerLine.line_key)}
        rollups.count_lines(
            [
                (
                    line["employee_id"],
                    line["team_id"],
                    line["points"],
                    line["occurred_at"],
                    None,
                    None,
                )
                for line in chunk
                if line["line_key"] in written
            ]
        )
    badges = [a for a in won if a.prize.kind is PrizeKind.BADGE]
    known_badges = (
        set(
            db.session.scalars(
                select(Badge.id).where(Badge.id.in_({a.prize.value for a in badges}))
            )
        )
        if badges
        else set()
    )
    _insert_absent(
        BadgeGrant,
        [
            {
                "badge_id": a.prize.value,
                "employee_id": a.employee_id,
                "level": Level.ONCE,
                "period": challenge_period(challenge.id),
                "granted_at": now,
                "quiet": False,
                "created_at": now,
            }
            for a in badges
            if a.prize.value in known_badges
        ],
    )
    by_reward: dict[int, list[sc.Award]] = {}
    for award in won:
        if award.prize.kind is PrizeKind.REWARD:
            by_reward.setdefault(award.prize.value, []).append(award)
    for reward_id, awarded in sorted(by_reward.items()):
        _give_reward(challenge, reward_id, awarded, now)
    return len(won)


def _stock_change(reward_id: int, change: int) -> None:
    db.session.execute(
        update(Reward)
        .where(Reward.id == reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + change)
        .execution_options(synchronize_session=False)
    )


def _give_reward(
    challenge: Challenge, reward_id: int, awarded: list[sc.Award], now: datetime
) -> None:
    """One reward's redemptions for its awards, in the awards' order: the first ones
    take the units left in stock, the rest are written with the out-of-stock note.
    Awards already redeemed are skipped, and a unit taken for a redemption another
    run wrote meanwhile is given back."""
    if db.session.scalar(select(Reward.id).where(Reward.id == reward_id)) is None:
        return
    present = set(
        _read_by(
            [a.key for a in awarded],
            lambda keys: select(Redemption.employee_id, Redemption.idempotency_key).where(
                among(Redemption.idempotency_key, keys)
            ),
        )
    )
    due = [a for a in awarded if (a.employee_id, a.key) not in present]
    if not due:
        return
    lock_row(Reward, reward_id)  # held to the commit: stock is counted once
    stock = db.session.scalar(select(Reward.stock).where(Reward.id == reward_id))
    taken = len(due) if stock is None else min(max(stock, 0), len(due))
    if stock is not None and taken:
        _stock_change(reward_id, -taken)
    note = f"Prize: {challenge.title}"[:250]
    rows = [
        {
            "employee_id": a.employee_id,
            "reward_id": reward_id,
            "idempotency_key": a.key,
            "points": 0,
            "state": RedemptionState.APPROVED,
            "created_at": now,
            "decided_at": now,
            "decision_note": note if n < taken else note + "; out of stock: HR arranges it",
        }
        for n, a in enumerate(due)
    ]
    inserted: set[str] = set()
    for start in range(0, len(rows), REDEMPTIONS_AT_ONCE):
        inserted.update(
            db.session.scalars(
                insert(Redemption)
                .values(rows[start : start + REDEMPTIONS_AT_ONCE])
                .on_conflict_do_nothing()
                .returning(Redemption.idempotency_key)
            )
        )
    if stock is not None:  # written meanwhile by another run: give those units back
        back = sum(1 for a in due[:taken] if a.key not in inserted)
        if back:
            _stock_change(reward_id, back)


def verify_digest(challenge: Challenge) -> bool:
    """Recompute the digest from the stored placings: true when they are as settled."""
    if challenge.state is not ChallengeState.SETTLED or challenge.digest is None:
        return False
    rows = db.session.execute(
        select(
            ChallengePlacing.rank,
            ChallengePlacing.entrant_id,
            ChallengePlacing.points,
            ChallengePlacing.score_numerator,
            ChallengePlacing.score_denominator,
            ChallengePlacing.active_members,
            ChallengePlacing.qualified,
        ).where(ChallengePlacing.challenge_id == challenge.id)
    ).all()
    placings = sc.placings_from_rows(tuple(row) for row in rows)
    return sc.settlement_digest(challenge.id, placings) == challenge.digest
