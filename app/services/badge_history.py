"""People's histories as the badge core reads them (``scoring.badges.Fact`` and
``Placing``), loaded in bulk: a few streaming queries for a whole group of people, each
asking only for what the badges at hand read (``scoring.badges.Needs``), never one
query per person.

What a history holds:
- events of the counted kinds (shares, clicks, referral stages), one fact each, dated
  when they happened;
- ledger lines, one ``POINTS_LINE`` fact each with its points: every line counts toward
  the points measure (awards, compensations, adjustments, prizes, lessons), so a
  reversal lowers the running sum but never undoes a grant;
- finished lessons, one ``LESSON_FACT`` each;
- settled challenge placings. In individual mode the entrant is the person. In team
  mode a team's place counts for everyone who scored for that team during the challenge
  (an event credited to the team between its start and end) and did not decline it:
  the people who made the team's score, not whoever is in the team today.

Only people taking part (opted in, active, not erased: ``scoring.participation``) have
histories; nobody is tracked before opting in.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
    update,
)

from app.db import among
from app.extensions import db
from app.models import (
    BadgeGrant,
    BadgeTally,
    Challenge,
    ChallengeDecline,
    ChallengePlacing,
    Event,
    LedgerLine,
    LessonCompletion,
)
from app.services.people import participants
from scoring.badges import LESSON_FACT, ONCE_PERIOD, POINTS_LINE, Fact, Needs, Placing
from scoring.challenges import ChallengeState, Mode

# People per group of the full pass: bounds memory (a group's histories are held at
# once) while keeping the queries few.
CHUNK = 5000
STREAM = 20_000  # rows fetched at a time from a streaming query


@dataclass
class History:
    facts: list[Fact] = field(default_factory=list)
    placings: list[Placing] = field(default_factory=list)


def _whose(column, employee_ids: Sequence[int], span: tuple[int, int] | None):
    """People by a range of ids (a group of the full pass: the index does the rest) or
    by a list."""
    if span is not None:
        return and_(column >= span[0], column <= span[1])
    return among(column, list(employee_ids))


def load_histories(
    employee_ids: Sequence[int],
    needs: Needs,
    until: datetime | None = None,
    span: tuple[int, int] | None = None,
) -> dict[int, History]:
    """The histories of ``employee_ids`` (taking part: see ``participants``) with what
    ``needs`` names, up to ``until``; facts in time order. ``span`` (lowest, highest id)
    reads the rows by id range; rows of people not in ``employee_ids`` are dropped."""
    histories = {employee_id: History() for employee_id in employee_ids}
    if not histories:
        return histories

    def whose(column):
        return _whose(column, employee_ids, span)

    kinds = sorted(needs.event_kinds)
    parts = _Parts(
        events=and_(whose(Event.employee_id), Event.kind.in_(kinds)) if kinds else None,
        points=whose(LedgerLine.employee_id) if needs.points else None,
        lessons=whose(LessonCompletion.employee_id) if needs.lessons else None,
        placings=(employee_ids, span) if needs.placings else None,
    )
    with collection_paused():
        _load(histories, parts, until)
    return histories


def load_each(needs: Mapping[int, Needs], until: datetime | None = None) -> dict[int, History]:
    """Like ``load_histories``, each person with what their own ``needs`` name: one
    statement per part of a history for everyone, whatever mix of badges they are
    looked at for (the events by person and kind)."""
    histories = {employee_id: History() for employee_id in needs}
    if not histories:
        return histories
    pairs = sorted((e, kind) for e, need in needs.items() for kind in need.event_kinds)
    wanting = {
        part: sorted(e for e, need in needs.items() if getattr(need, part))
        for part in ("points", "lessons", "placings")
    }
    parts = _Parts(
        # The pairs alone would not be looked up by the index on SQLite: the people
        # and the kinds are, and the pairs then drop what nobody asked for.
        events=and_(
            among(Event.employee_id, sorted({e for e, _ in pairs})),
            Event.kind.in_(sorted({kind for _, kind in pairs})),
            tuple_(Event.employee_id, Event.kind).in_(pairs),
        )
        if pairs
        else None,
        points=among(LedgerLine.employee_id, wanting["points"]) if wanting["points"] else None,
        lessons=among(LessonCompletion.employee_id, wanting["lessons"])
        if wanting["lessons"]
        else None,
        placings=(wanting["placings"], None) if wanting["placings"] else None,
    )
    with collection_paused():
        _load(histories, parts, until)
    return histories


@dataclass(frozen=True)
class _Parts:
    """Which rows of each part of a history to read (None: not that part); placings
    as (people, span) for ``_placings``."""

    events: Any
    points: Any
    lessons: Any
    placings: tuple[Sequence[int], tuple[int, int] | None] | None


@contextmanager
def collection_paused() -> Iterator[None]:
    """Millions of small objects are made here and none refers back to another: the
    cyclic garbage collector would walk them all again and again, for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(histories: dict[int, History], parts: _Parts, until: datetime | None) -> None:
    facts: dict[int, list[Fact]] = defaultdict(list)

    def read(query):
        return db.session.execute(query.execution_options(yield_per=STREAM))

    if parts.events is not None:
        query = select(Event.employee_id, Event.occurred_at, Event.kind).where(parts.events)
        if until is not None:
            query = query.where(Event.occurred_at <= until)
        for employee_id, occurred_at, kind in read(query):
            facts[employee_id].append(Fact(occurred_at, kind))
    if parts.points is not None:
        query = select(LedgerLine.employee_id, LedgerLine.occurred_at, LedgerLine.points).where(
            parts.points
        )
        if until is not None:
            query = query.where(LedgerLine.occurred_at <= until)
        for employee_id, occurred_at, points in read(query):
            facts[employee_id].append(Fact(occurred_at, POINTS_LINE, points))
    if parts.lessons is not None:
        query = select(LessonCompletion.employee_id, LessonCompletion.completed_at).where(
            parts.lessons
        )
        if until is not None:
            query = query.where(LessonCompletion.completed_at <= until)
        for employee_id, completed_at in read(query):
            facts[employee_id].append(Fact(completed_at, LESSON_FACT))
    for employee_id, items in facts.items():
        history = histories.get(employee_id)
        if history is not None:
            items.sort(key=_when)
            history.facts = items
    if parts.placings is not None:
        for employee_id, placing in _placings(*parts.placings, until):
            history = histories.get(employee_id)
            if history is not None:
                history.placings.append(placing)


def _when(fact: Fact) -> datetime:
    return fact.occurred_at


def _placings(
    employee_ids: Sequence[int], span: tuple[int, int] | None, until: datetime | None
) -> Iterator[tuple[int, Placing]]:
    settled = [Challenge.state == ChallengeState.SETTLED, Challenge.settled_at.is_not(None)]
    if until is not None:
        settled.append(Challenge.settled_at <= until)
    alone = (
        select(
            ChallengePlacing.entrant_id,
            ChallengePlacing.challenge_id,
            ChallengePlacing.rank,
            Challenge.settled_at,
        )
        .join(Challenge, Challenge.id == ChallengePlacing.challenge_id)
        .where(
            Challenge.mode == Mode.INDIVIDUAL,
            *settled,
            _whose(ChallengePlacing.entrant_id, employee_ids, span),
        )
    )
    for employee_id, challenge_id, rank, settled_at in db.session.execute(alone):
        yield employee_id, Placing(challenge_id, rank, settled_at)
    declined = exists().where(
        ChallengeDecline.challenge_id == Challenge.id,
        ChallengeDecline.employee_id == Event.employee_id,
    )
    together = (
        select(
            Event.employee_id,
            ChallengePlacing.challenge_id,
            ChallengePlacing.rank,
            Challenge.settled_at,
        )
        .distinct()
        .select_from(Challenge)
        .join(ChallengePlacing, ChallengePlacing.challenge_id == Challenge.id)
        .join(
            Event,
            and_(
                Event.team_id == ChallengePlacing.entrant_id,
                Event.occurred_at >= Challenge.starts_at,
                Event.occurred_at < Challenge.ends_at,
            ),
        )
        .where(
            Challenge.mode == Mode.TEAM,
            *settled,
            _whose(Event.employee_id, employee_ids, span),
            ~declined,
        )
    )
    for employee_id, challenge_id, rank, settled_at in db.session.execute(together):
        yield employee_id, Placing(challenge_id, rank, settled_at)


def everyone_in_groups(
    needs: Needs, until: datetime | None = None, size: int = CHUNK
) -> Iterator[dict[int, History]]:
    """The histories of everyone taking part, a group of ``size`` people at a time."""
    people = participants()
    for start in range(0, len(people), size):
        group = people[start : start + size]
        yield load_histories(group, needs, until, span=(group[0], group[-1]))


# Streaks since the last grant ------------------------------------------------------------
#
# A person who holds a level of a streak badge crossed it at its grant's date with a run
# of that many weeks. That run plus every week shared in since bounds from above the
# run they may have now, without reading their whole history.


def _since_grants(badge_id: int, employee_ids: Sequence[int], rows, person, moment):
    """``rows`` (a select) of each person from their latest grant of the badge on,
    and all of them for people without one: two selects (run as one statement), each a
    range on an index."""
    latest = (
        select(BadgeGrant.employee_id, func.max(BadgeGrant.granted_at).label("since"))
        .where(
            BadgeGrant.badge_id == badge_id,
            BadgeGrant.period == ONCE_PERIOD,
            among(BadgeGrant.employee_id, list(employee_ids)),
        )
        .group_by(BadgeGrant.employee_id)
        .subquery()
    )
    holders = rows.join(latest, and_(latest.c.employee_id == person, moment >= latest.c.since))
    others = rows.where(
        among(person, list(employee_ids)),
        ~exists().where(
            BadgeGrant.badge_id == badge_id,
            BadgeGrant.period == ONCE_PERIOD,
            BadgeGrant.employee_id == person,
        ),
    )
    return holders, others


def share_times_since_grant(
    badge_id: int, kinds: Collection[str], employee_ids: Sequence[int], until: datetime
) -> dict[int, list[datetime]]:
    """When each person shared since their latest grant of the (streak) badge."""
    found: dict[int, list[datetime]] = defaultdict(list)
    if not employee_ids:
        return found
    rows = select(Event.employee_id, Event.occurred_at).where(
        Event.kind.in_(sorted(kinds)), Event.occurred_at <= until
    )
    holders, others = _since_grants(
        badge_id, employee_ids, rows, Event.employee_id, Event.occurred_at
    )
    for employee_id, occurred_at in db.session.execute(union_all(holders, others)).all():
        found[employee_id].append(occurred_at)
    return found


def placings_of(employee_ids: Sequence[int], until: datetime) -> dict[int, list[Placing]]:
    found: dict[int, list[Placing]] = defaultdict(list)
    if employee_ids:
        for employee_id, placing in _placings(employee_ids, None, until):
            found[employee_id].append(placing)
    return found


# What people have now: the values the incremental evaluation compares -------------------
#
# The tallies (``BadgeTally``), kept by the database as rows are written: a count badge is
# crossed exactly when a count reaches its threshold (counts only grow); points can fall
# (reversals), so the points gained, reversals left out, bound the running sum from
# above. Tallies hold everything written so far, so for an earlier moment they bound the
# value then from above too.


@dataclass
class BadgeStanding:
    """What the incremental evaluation reads of a person before it picks whose history
    to read: their tallies (fact -> value) and the grants they hold of the badges at
    hand, as (badge id, level, period)."""

    tallies: dict[str, int] = field(default_factory=dict)
    held: list[tuple[int, str, str]] = field(default_factory=list)


def badge_standings(
    employee_ids: Collection[int], badge_ids: Collection[int]
) -> dict[int, BadgeStanding]:
    """Each of ``employee_ids`` with their standing, whether they take part or not (the
    few who may have crossed something are asked ``participants`` after): two
    statements on primary keys and covering indexes, whatever the length of the
    people's histories (their tallies, then their grants)."""
    found = {employee_id: BadgeStanding() for employee_id in employee_ids}
    if not found:
        return found
    people = sorted(found)
    tally, grant = BadgeTally.__table__.c, BadgeGrant.__table__.c
    query = select(tally.employee_id, tally.fact, tally.value).where(
        among(tally.employee_id, people)
    )
    for employee_id, fact, value in db.session.execute(query).all():
        found[employee_id].tallies[fact] = value
    if badge_ids:
        # Every grant of these people, the badges picked here: with the badges in the
        # query too, SQLite would seek the index once per person and badge. The level
        # as stored text, not made an enum member row by row.
        wanted = set(badge_ids)
        level = type_coerce(grant.level, String)
        query = select(grant.badge_id, grant.employee_id, level, grant.period).where(
            among(grant.employee_id, people)
        )
        for badge_id, employee_id, held, period in db.session.execute(query).all():
            if badge_id in wanted:
                found[employee_id].held.append((badge_id, held, period))
    return found


def tallies_at_their_gates(
    employee_ids: Collection[int], facts: Collection[str], version: int
) -> dict[tuple[int, str], int]:
    """(person, fact) -> gate, of the tallies of ``facts`` that reached their gate, or
    whose gate was worked out for other badges than ``version``'s (or never): the only
    tallies that may have a badge level to give. One statement on the primary key."""
    if not employee_ids or not facts:
        return {}
    tally = BadgeTally.__table__.c
    query = select(tally.employee_id, tally.fact, tally.next_level_at).where(
        among(tally.employee_id, sorted(employee_ids)),
        tally.fact.in_(sorted(facts)),
        or_(tally.value >= tally.next_level_at, tally.gates_version != version),
    )
    return {(e, fact): gate for e, fact, gate in db.session.execute(query).all()}


def stored_gates(employee_ids: Sequence[int], facts: Collection[str]) -> dict:
    """(person, fact) -> (gate, version) of these people's tallies of ``facts``."""
    if not employee_ids or not facts:
        return {}
    tally = BadgeTally.__table__.c
    query = select(tally.employee_id, tally.fact, tally.next_level_at, tally.gates_version).where(
        _whose(tally.employee_id, employee_ids, (min(employee_ids), max(employee_ids))),
        tally.fact.in_(sorted(facts)),
    )
    wanted = set(employee_ids)  # the range holds people not asked about too
    return {
        (e, fact): (gate, version)
        for e, fact, gate, version in db.session.execute(query)
        if e in wanted
    }


def set_gates(gates: Mapping[tuple[int, str], int], version: int) -> None:
    """Store each tally's gate, (person, fact) -> value, worked out under ``version``.
    In key order, the order the tally triggers lock rows in."""
    if not gates:
        return
    tally = BadgeTally.__table__.c
    statement = (
        update(BadgeTally.__table__)
        .where(tally.employee_id == bindparam("e"), tally.fact == bindparam("f"))
        .values(next_level_at=bindparam("gate"), gates_version=version)
    )
    rows = [{"e": e, "f": fact, "gate": gate} for (e, fact), gate in sorted(gates.items())]
    db.session.execute(statement, rows)


def counted_tallies() -> dict[tuple[int, str], int]:
    """The tallies as counted from the rows themselves: what the table must hold."""
    gained = func.sum(case((LedgerLine.points > 0, LedgerLine.points), else_=0))
    query = union_all(
        select(Event.employee_id, type_coerce(Event.kind, String), func.count()).group_by(
            Event.employee_id, Event.kind
        ),
        select(LedgerLine.employee_id, literal(POINTS_LINE), gained)
        .where(LedgerLine.points > 0)
        .group_by(LedgerLine.employee_id),
        select(LessonCompletion.employee_id, literal(LESSON_FACT), func.count()).group_by(
            LessonCompletion.employee_id
        ),
    )
    return {(e, fact): int(value) for e, fact, value in db.session.execute(query)}
