"""The standings of share challenges, for every surface that shows them: the challenge
page and API, the home page and a profile all read them here, so they never disagree.

The decisions are ``scoring.challenges``'s; this module gathers their inputs from SQL:

- events of the period (``Event``: kind, employee, team at the time, content, channel,
  when it happened and when it arrived, ``created_at``), the content's tags, and for
  the points metric what each event earned: the sum of its ledger lines of the kinds
  award and compensation. Prize lines have no event and never count.
- who is ranked: opted in, active, not hidden, and not declining this challenge.
  Everyone else is left out before ranking and still sees their own total.
- team mode's active members: the CURRENT members of each team in scope who are
  ranked (opted in, shown, not declined). Current membership is what Chorus knows
  (it keeps no history of team moves); points still go to the team the employee was in
  when the event happened, and only an active member's points count for the team, so
  numerator and denominator are the same people (``scoring.challenges.team_tallies``).

Which board a viewer reads:

- live (HR and admins always; everyone while the challenge is open): the Redis board
  (``app.services.challenge_boards``), rebuilt from SQL when missing;
- frozen (employees and team leads from the freeze moment until settlement): the board
  as of the freeze moment (``scoring.challenges.cutoff_for``), computed from SQL and
  cached in Redis for a few minutes;
- settled (everyone): the ``challenge_placings`` rows that settlement wrote.

The live board is kept up to date by ``update_challenge_boards`` (a job on the clock):
each run recomputes, from SQL, the totals of everyone with an event or a counting
ledger line created since the previous run started (minus ``OVERLAP``, for
transactions that committed late) and sets them as absolute totals, so an update that
runs twice or overlaps changes nothing more. Every ``REBUILD_EVERY`` the board is
rebuilt from SQL, which also brings in changes that write no event (someone hiding,
opting out, or declining; a decline calls ``follow_entrant`` too). A rebuild equals
the incremental board by construction: both come from ``_compute`` over the same
events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import and_, case, exists, func, null, or_, select, type_coerce

from app.boards import member_text
from app.db import among
from app.extensions import after_commit, db
from app.models import (
    Challenge,
    ChallengeAward,
    ChallengeDecline,
    ChallengePlacing,
    ContentTag,
    Employee,
    Event,
    LedgerLine,
    LineKind,
    Role,
    Team,
    UTCDateTime,
    challenge_teams,
    utcnow,
)
from app.services import challenge_boards as boards
from scoring import challenges as sc
from scoring.challenges import (
    ChallengeState,
    Metric,
    Mode,
    MyStanding,
    Placing,
    Progress,
    ScopeKind,
)
from scoring.participation import board_name, is_ranked
from scoring.ranking import Standing
from scoring.vocabulary import Channel

COUNTED_LINES = (LineKind.AWARD, LineKind.COMPENSATION)
REBUILD_EVERY = timedelta(minutes=10)
OVERLAP = timedelta(minutes=5)
MANY = 5_000  # more ids than this: read everyone rather than list them in SQL


# The challenge as scoring.challenges sees it -----------------------------------------


def schedule_of(challenge: Challenge) -> sc.Schedule:
    return sc.Schedule(
        challenge.starts_at,
        challenge.ends_at,
        challenge.freeze_hours,
        timedelta(hours=challenge.lateness_hours),
    )


def team_ids_of(challenge_id: int) -> frozenset[int]:
    return frozenset(
        db.session.scalars(
            select(challenge_teams.c.team_id).where(challenge_teams.c.challenge_id == challenge_id)
        )
    )


def scope_of(challenge: Challenge) -> sc.Scope:
    if challenge.scope is ScopeKind.COMPANY:
        return sc.Scope(ScopeKind.COMPANY)
    return sc.Scope(challenge.scope, team_ids_of(challenge.id))


def filters_of(challenge: Challenge) -> sc.Filters:
    return sc.Filters(
        frozenset(challenge.content_ids or ()),
        frozenset(challenge.tags or ()),
        frozenset(Channel(c) for c in challenge.channels or ()),
    )


def viewer_of(employee: Employee) -> sc.Viewer:
    return {
        Role.ADMIN: sc.Viewer.ADMIN,
        Role.HR: sc.Viewer.HR,
        Role.TEAM_LEAD: sc.Viewer.TEAM_LEAD,
    }.get(employee.role, sc.Viewer.EMPLOYEE)


def in_scope(
    challenge: Challenge, team_id: int | None, team_ids: Collection[int] | None = None
) -> bool:
    """Whether someone now in ``team_id`` takes part (company scope: everyone)."""
    if challenge.scope is ScopeKind.COMPANY:
        return True
    return team_id in (team_ids if team_ids is not None else team_ids_of(challenge.id))


# Reading the inputs from SQL ------------------------------------------------------------


def load_events(
    challenge: Challenge,
    cutoff: sc.Cutoff,
    employee_ids: Collection[int] | None = None,
    team_ids: frozenset[int] | None = None,
) -> list[sc.Event]:
    """The events that may count, as ``scoring.challenges.Event``. SQL narrows them
    (period, arrival, kind, teams, content, network, the cut-off); the pure
    ``contributions`` decides again, so SQL is only ever a pre-filter."""
    schedule = schedule_of(challenge)
    metric = challenge.metric
    query = select(
        Event.employee_id,
        Event.team_id,
        Event.kind,
        Event.occurred_at,
        Event.created_at,
        Event.content_id,
        Event.channel,
        Event.id,
    ).where(
        Event.occurred_at >= schedule.start,
        Event.occurred_at < min(schedule.end, cutoff.occurred_before),
        Event.created_at < min(schedule.settle_at, cutoff.arrived_before),
    )
    if metric is not Metric.POINTS:
        query = query.where(Event.kind.in_(list(sc.METRIC_KINDS[metric])))
    if challenge.scope is not ScopeKind.COMPANY:
        teams = team_ids if team_ids is not None else team_ids_of(challenge.id)
        query = query.where(among(Event.team_id, teams or {0}))
    if challenge.content_ids:
        query = query.where(among(Event.content_id, challenge.content_ids))
    if challenge.channels:
        query = query.where(Event.channel.in_([Channel(c) for c in challenge.channels]))
    if employee_ids is not None:
        query = query.where(among(Event.employee_id, employee_ids or {0}))
    # Core rows, not ORM ones: a settlement reads 200,000 of them.
    rows = db.session.connection().execute(query).all()
    tags: dict[int, frozenset[str]] = {}
    if challenge.tags:
        content_ids = {row[5] for row in rows if row[5] is not None}
        found: dict[int, set[str]] = {}
        if content_ids:
            for content_id, tag in db.session.execute(
                select(ContentTag.content_id, ContentTag.tag).where(
                    among(ContentTag.content_id, content_ids)
                )
            ):
                found.setdefault(content_id, set()).add(tag)
        tags = {k: frozenset(v) for k, v in found.items()}
    earned = _points_earned([row[7] for row in rows]) if metric is Metric.POINTS else {}
    return [
        sc.Event(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            earned.get(row[7], 0),
            row[5],
            tags.get(row[5], frozenset()) if row[5] is not None else frozenset(),
            row[6],
        )
        for row in rows
    ]


def load_pairs(
    challenge: Challenge,
    cutoff: sc.Cutoff,
    employee_ids: Collection[int] | None = None,
    team_ids: frozenset[int] | None = None,
) -> dict[tuple[int | None, int], Standing]:
    """What ``scoring.challenges.pair_totals`` gives over the contributions of
    ``load_events``, summed by SQL in one statement: every rule of
    ``scoring.challenges.exclusion`` and the cut-off is a WHERE clause here (period,
    arrival, metric kinds, scope, content, tags, network), and for the points metric
    each event's value is the sum of its award and compensation lines (0 without
    any). Per (team at the time, employee): the sum of the values, and the latest
    time of an event whose value is not 0 (a 0-value contribution does not move the
    time). A settlement of 100,000 people reads one row per person, not per event."""
    schedule = schedule_of(challenge)
    metric = challenge.metric
    conditions = [
        Event.occurred_at >= schedule.start,
        Event.occurred_at < min(schedule.end, cutoff.occurred_before),
        Event.created_at < min(schedule.settle_at, cutoff.arrived_before),
    ]
    if metric is not Metric.POINTS:
        conditions.append(Event.kind.in_(sorted(sc.METRIC_KINDS[metric])))
    if challenge.scope is not ScopeKind.COMPANY:
        teams = team_ids if team_ids is not None else team_ids_of(challenge.id)
        conditions.append(among(Event.team_id, teams or {0}))
    if challenge.content_ids:
        conditions.append(among(Event.content_id, challenge.content_ids))
    if challenge.tags:
        conditions.append(
            exists().where(
                ContentTag.content_id == Event.content_id,
                ContentTag.tag.in_(sorted(challenge.tags)),
            )
        )
    if challenge.channels:
        conditions.append(Event.channel.in_([Channel(c) for c in challenge.channels]))
    if employee_ids is not None:
        conditions.append(among(Event.employee_id, employee_ids or {0}))
    if metric is Metric.POINTS:
        per_event = (
            select(
                Event.team_id,
                Event.employee_id,
                Event.occurred_at,
                func.coalesce(func.sum(LedgerLine.points), 0).label("value"),
            )
            .select_from(Event)
            .outerjoin(
                LedgerLine,
                and_(LedgerLine.event_id == Event.id, LedgerLine.kind.in_(COUNTED_LINES)),
            )
            .where(*conditions)
            .group_by(Event.id, Event.team_id, Event.employee_id, Event.occurred_at)
            .subquery()
        )
        value = per_event.c.value
        query = select(
            per_event.c.team_id,
            per_event.c.employee_id,
            func.sum(value),
            type_coerce(
                func.max(case((value != 0, per_event.c.occurred_at), else_=null())),
                UTCDateTime(),
            ),
        ).group_by(per_event.c.team_id, per_event.c.employee_id)
    else:  # every counting event adds 1
        query = (
            select(
                Event.team_id,
                Event.employee_id,
                func.count(),
                type_coerce(func.max(Event.occurred_at), UTCDateTime()),
            )
            .where(*conditions)
            .group_by(Event.team_id, Event.employee_id)
        )
    rows = db.session.connection().execute(query).all()
    return sc.pairs_from_rows(rows, schedule.start)


def _points_earned(event_ids: list[int]) -> dict[int, int]:
    """What each event earned: the sum of its award and compensation lines. Read by the
    events' ids, or for many events by the range of their ids (the ledger's index on
    ``event_id``; lines of other events in the range are read and ignored), summed per
    event by SQL: a narrower query than grouping the events themselves."""
    if not event_ids:
        return {}
    wanted = set(event_ids)
    which = (
        among(LedgerLine.event_id, wanted)  # a few people's events: by id
        if len(wanted) <= MANY
        else LedgerLine.event_id.between(min(wanted), max(wanted))
    )
    rows = db.session.connection().execute(
        select(LedgerLine.event_id, func.sum(LedgerLine.points))
        .where(which, LedgerLine.kind.in_(COUNTED_LINES))
        .group_by(LedgerLine.event_id)
    )
    return {event_id: int(points) for event_id, points in rows if event_id in wanted}


@dataclass(frozen=True)
class Person:
    id: int
    team_id: int | None
    ranked: bool  # opted in, active, not hidden, not declined
    taking_part: bool  # opted in, active, not declined (hidden people too)
    name: str | None  # as boards show it; None when not shown


def load_people(
    challenge_id: int,
    employee_ids: Collection[int] | None = None,
    team_ids: Collection[int] | None = None,
) -> dict[int, Person]:
    """Employees as a challenge sees them: by id, or every member of ``team_ids``."""
    declined = select(ChallengeDecline.employee_id).where(
        ChallengeDecline.challenge_id == challenge_id
    )
    query = select(
        Employee.id,
        Employee.team_id,
        Employee.opted_in_at,
        Employee.active,
        Employee.erased_at,
        Employee.presence,
        Employee.name,
        Employee.pseudonym,
        Employee.id.in_(declined),
    )
    if employee_ids is not None:
        if not employee_ids:
            return {}
        if len(employee_ids) <= MANY:
            query = query.where(among(Employee.id, employee_ids))
    if team_ids is not None:
        query = query.where(among(Employee.team_id, team_ids or {0}))
    people = {}
    wanted = set(employee_ids) if employee_ids is not None else None
    for row in db.session.connection().execute(query):
        if wanted is not None and row[0] not in wanted:
            continue
        active = row[3] and row[4] is None
        shown = is_ranked(row[2], row[5], active)
        taking_part = active and row[2] is not None and not row[8]
        people[row[0]] = Person(
            row[0],
            row[1],
            shown and not row[8],
            taking_part,
            board_name(row[5], row[6], row[7]) if shown else None,
        )
    return people


def scoped_teams(challenge: Challenge) -> frozenset[int]:
    """The teams a team-mode challenge ranks: its teams, or every team."""
    if challenge.scope is ScopeKind.COMPANY:
        return frozenset(db.session.scalars(select(Team.id)))
    return team_ids_of(challenge.id)


def active_members(challenge: Challenge, people: dict[int, Person] | None = None):
    """Team -> its active members (see the module docstring), and the people read."""
    teams = scoped_teams(challenge)
    if people is None:
        people = load_people(challenge.id, team_ids=teams)
    members: dict[int, set[int]] = {team: set() for team in teams}
    for person in people.values():
        if person.ranked and person.team_id in members:
            members[person.team_id].add(person.id)
    return {team: frozenset(ids) for team, ids in members.items()}, people


# Computing standings ------------------------------------------------------------------


@dataclass
class Computed:
    """Standings computed from SQL with one cut-off."""

    totals: dict[int, Standing]  # per person, ranked or not
    placings: list[Placing]
    people: dict[int, Person]
    members: dict[int, frozenset[int]] | None = None  # team mode: active members
    pairs: dict[tuple[int | None, int], Standing] = field(default_factory=dict)


def compute(
    challenge: Challenge, cutoff: sc.Cutoff, employee_ids: Collection[int] | None = None
) -> Computed:
    """Standings from the totals SQL sums (``load_pairs``); the decisions, from the
    totals on, are ``scoring.challenges``'s (``totals_from_pairs`` and
    ``tallies_from_pairs`` equal ``person_totals`` and ``team_tallies`` over the same
    contributions)."""
    schedule = schedule_of(challenge)
    scope = scope_of(challenge)
    pairs = load_pairs(challenge, cutoff, employee_ids, scope.team_ids)
    totals = sc.totals_from_pairs(pairs, schedule.start)
    if challenge.mode is Mode.TEAM:
        if employee_ids is None:
            members, people = active_members(challenge)
        else:
            people = load_people(challenge.id, employee_ids)
            members = {}
        tallies = sc.tallies_from_pairs(pairs, members, schedule.start)
        return Computed(
            totals,
            sc.team_standings(tallies, challenge.minimum),
            people,
            members,
            pairs,
        )
    people = load_people(challenge.id, set(totals) if employee_ids is None else employee_ids)
    ranked = {pid for pid, person in people.items() if person.ranked}
    return Computed(totals, sc.individual_standings(totals, ranked, challenge.minimum), people)


def board_entries(challenge: Challenge, computed: Computed) -> list[boards.Entry]:
    """What a Redis board holds: ranked people (individual), or every pair (team)."""
    if challenge.mode is Mode.TEAM:
        return [
            boards.Entry(boards.pair_text(team, employee), s.points, s.reached_at)
            for (team, employee), s in computed.pairs.items()
        ]
    return [
        boards.Entry(member_text(pid), s.points, s.reached_at)
        for pid, s in computed.totals.items()
        if computed.people.get(pid) is not None and computed.people[pid].ranked
    ]


# Keeping the live board ---------------------------------------------------------------


def rebuild_challenge_board(challenge_id: int, now: datetime | None = None) -> int:
    """Recompute a challenge's live board from SQL and swap it in; returns its size."""
    started = utcnow()
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        return 0
    if challenge.state in sc.FINAL:
        boards.forget(challenge_id)
        return 0
    entries = board_entries(challenge, compute(challenge, sc.final_cutoff(schedule_of(challenge))))
    boards.replace(challenge_id, boards.LIVE, entries)
    boards.set_mark(challenge_id, started, started)
    return len(entries)


def refresh_entrants(challenge: Challenge, employee_ids: Collection[int]) -> int:
    """Set these people's totals on the live board from SQL (absolute, so running it
    again changes nothing); take those no longer ranked off it."""
    if not employee_ids:
        return 0
    computed = compute(challenge, sc.final_cutoff(schedule_of(challenge)), employee_ids)
    entries = board_entries(challenge, computed)
    if challenge.mode is Mode.TEAM:
        boards.update(challenge.id, entries, ())
    else:
        boards.update(challenge.id, entries, [member_text(pid) for pid in employee_ids])
    return len(entries)


def follow_entrant(challenge: Challenge, employee_id: int) -> None:
    """The live board follows one person's change (they declined the challenge, or
    take part again): their line is computed now, in the transaction that made the
    change (flush it first), and set on the board once it commits."""
    if challenge.state in sc.FINAL or not boards.is_built(challenge.id):
        return
    computed = compute(challenge, sc.final_cutoff(schedule_of(challenge)), [employee_id])
    entries = board_entries(challenge, computed)
    remove = [] if challenge.mode is Mode.TEAM else [member_text(employee_id)]
    challenge_id = challenge.id

    def apply() -> None:
        boards.update(challenge_id, entries, remove)
        boards.forget_frozen(challenge_id)

    after_commit(apply)


def touched_since(challenge: Challenge, since: datetime) -> set[int]:
    """Who has an event, or a counting ledger line, recorded since ``since``."""
    schedule = schedule_of(challenge)
    events = select(Event.employee_id).where(
        Event.created_at >= since,
        Event.occurred_at >= schedule.start,
        Event.occurred_at < schedule.end,
    )
    lines = (
        select(LedgerLine.employee_id)
        .join(Event, Event.id == LedgerLine.event_id)
        .where(
            LedgerLine.created_at >= since,
            LedgerLine.kind.in_(COUNTED_LINES),
            Event.occurred_at >= schedule.start,
            Event.occurred_at < schedule.end,
        )
    )
    found = set(db.session.scalars(events.distinct()))
    if challenge.metric is Metric.POINTS:
        found |= set(db.session.scalars(lines.distinct()))
    return found


def update_challenge_board(challenge: Challenge) -> int:
    """Bring one live board up to date: rebuilt when missing or due, else the people
    touched since the last update (see the module docstring). Returns people set."""
    started = utcnow()
    updated, rebuilt = boards.get_mark(challenge.id)
    if (
        not boards.is_built(challenge.id)
        or updated is None
        or rebuilt is None
        or started - rebuilt >= REBUILD_EVERY
    ):
        return rebuild_challenge_board(challenge.id)
    count = refresh_entrants(challenge, touched_since(challenge, updated - OVERLAP))
    boards.set_mark(challenge.id, started)
    return count


def live_challenges(now: datetime) -> list[Challenge]:
    """Challenges whose live board is still read: not final and started."""
    return list(
        db.session.scalars(
            select(Challenge)
            .where(
                Challenge.state.not_in(list(sc.FINAL)),
                Challenge.starts_at <= now,
            )
            .order_by(Challenge.id)
        )
    )


def update_challenge_boards(now: datetime | None = None) -> dict[str, int]:
    """The clock's job: every live board up to date."""
    now = now or utcnow()
    done = {"challenges": 0, "entrants": 0}
    for challenge in live_challenges(now):
        done["entrants"] += update_challenge_board(challenge)
        done["challenges"] += 1
    return done


def _ensure(challenge: Challenge, kind: str) -> None:
    if boards.is_built(challenge.id, kind):
        return
    if kind == boards.LIVE:
        rebuild_challenge_board(challenge.id)
        return
    schedule = schedule_of(challenge)
    cutoff = sc.Cutoff(schedule.freeze_start, schedule.freeze_start)  # as cutoff_for freezes
    computed = compute(challenge, cutoff)
    boards.replace(
        challenge.id, boards.FROZEN, board_entries(challenge, computed), ttl=boards.FROZEN_TTL
    )


# Views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandingRow:
    rank: int
    entrant_id: int  # an employee, or a team in team mode
    name: str
    points: int
    score: Fraction  # points; per active member in team mode
    active_members: int
    qualified: bool
    is_me: bool
    is_my_team: bool


@dataclass(frozen=True)
class ChallengeView:
    challenge: Challenge
    state: ChallengeState
    frozen: bool  # this viewer sees the board as of the freeze moment
    rows: list[StandingRow]
    total_rows: int
    mine: MyStanding | None  # None: the viewer is not in the challenge's scope
    progress: Progress | None  # None: no collective target
    team_rule: str | None  # team mode: the rule in words
    digest: str | None  # settled: the SHA-256 of the settled standings
    my_awards: list[ChallengeAward]
    declined: bool
    offset: int = 0
    limit: int = 50
    as_of: datetime | None = None  # frozen: the freeze moment the board shows


def is_declined(challenge_id: int, employee_id: int) -> bool:
    return db.session.get(ChallengeDecline, (challenge_id, employee_id)) is not None


def _progress(challenge: Challenge, total: int) -> Progress | None:
    return sc.target_progress(total, challenge.target) if challenge.target else None


def _names(challenge: Challenge, ids: Iterable[int]) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    if challenge.mode is Mode.TEAM:
        return dict(db.session.execute(select(Team.id, Team.name).where(among(Team.id, ids))).all())
    return {
        row.id: board_name(row.presence, row.name, row.pseudonym) or ""
        for row in db.session.execute(
            select(Employee.id, Employee.presence, Employee.name, Employee.pseudonym).where(
                among(Employee.id, ids)
            )
        )
    }


def _own_points(challenge: Challenge, employee_id: int, cutoff: sc.Cutoff) -> int:
    computed_totals = sc.person_totals(
        sc.contributions(
            load_events(challenge, cutoff, [employee_id]),
            schedule_of(challenge),
            challenge.metric,
            scope_of(challenge),
            filters_of(challenge),
            cutoff,
        ),
        challenge.starts_at,
    )
    own = computed_totals.get(employee_id)
    return own.points if own is not None else 0


def _team_rows(
    challenge: Challenge, placings: list[Placing], viewer: Employee, offset: int, limit: int
) -> list[StandingRow]:
    page = placings[offset : offset + limit]
    names = _names(challenge, [p.entrant_id for p in page])
    return [
        StandingRow(
            p.rank,
            p.entrant_id,
            names.get(p.entrant_id, ""),
            p.points,
            p.score,
            p.active_members,
            p.qualified,
            False,
            p.entrant_id == viewer.team_id,
        )
        for p in page
    ]


def _settled(challenge: Challenge, viewer: Employee, offset: int, limit: int):
    base = select(ChallengePlacing).where(ChallengePlacing.challenge_id == challenge.id)
    total = db.session.scalar(
        select(func.count())
        .select_from(ChallengePlacing)
        .where(ChallengePlacing.challenge_id == challenge.id)
    )
    page = (
        list(
            db.session.scalars(
                base.order_by(ChallengePlacing.rank, ChallengePlacing.entrant_id)
                .offset(offset)
                .limit(limit)
            )
        )
        if limit > 0
        else []
    )
    names = _names(challenge, [p.entrant_id for p in page])
    team = challenge.mode is Mode.TEAM
    rows = [
        StandingRow(
            p.rank,
            p.entrant_id,
            names.get(p.entrant_id, ""),
            p.points,
            Fraction(p.score_numerator, p.score_denominator),
            p.active_members,
            p.qualified,
            not team and p.entrant_id == viewer.id,
            team and p.entrant_id == viewer.team_id,
        )
        for p in page
    ]
    mine_id = viewer.team_id if team else viewer.id
    own = db.session.get(ChallengePlacing, (challenge.id, mine_id)) if mine_id is not None else None
    if own is not None:
        mine = MyStanding(own.rank, own.points, own.qualified)
    elif team:
        mine = MyStanding(None, 0, False)
    else:
        points = _own_points(challenge, viewer.id, sc.final_cutoff(schedule_of(challenge)))
        mine = MyStanding(None, points, sc.qualifies(points, challenge.minimum))
    progress = None
    if challenge.target:
        summed = db.session.scalar(
            select(func.coalesce(func.sum(ChallengePlacing.points), 0)).where(
                ChallengePlacing.challenge_id == challenge.id
            )
        )
        progress = _progress(challenge, int(summed))
    return rows, int(total or 0), mine, progress


def _individual_live(
    challenge: Challenge, kind: str, viewer: Employee, cutoff: sc.Cutoff, offset: int, limit: int
):
    for attempt in range(2):
        read = boards.read(
            challenge.id,
            kind,
            offset,
            limit,
            member_text(viewer.id),
            with_sum=bool(challenge.target),
        )
        ids = [int(row.member) for row in read.rows]
        people = load_people(challenge.id, ids)
        stale = [i for i in ids if i not in people or not people[i].ranked]
        if not stale or attempt:
            break
        # Someone hid, opted out or declined since the board was built: rebuild it.
        if kind == boards.LIVE:
            rebuild_challenge_board(challenge.id)
        else:
            boards.forget_frozen(challenge.id)
            _ensure(challenge, kind)
    rows = [
        StandingRow(
            row.rank,
            int(row.member),
            people[int(row.member)].name or "" if int(row.member) in people else "",
            row.points,
            Fraction(row.points),
            1,
            sc.qualifies(row.points, challenge.minimum),
            int(row.member) == viewer.id,
            False,
        )
        for row in read.rows
        if int(row.member) in people and people[int(row.member)].ranked
    ]
    if read.mine is not None:
        mine = MyStanding(
            read.mine.rank, read.mine.points, sc.qualifies(read.mine.points, challenge.minimum)
        )
    else:
        points = _own_points(challenge, viewer.id, cutoff)
        mine = MyStanding(None, points, sc.qualifies(points, challenge.minimum))
    progress = _progress(challenge, read.total or 0)
    return rows, read.size, mine, progress


def _team_live(challenge: Challenge, kind: str, viewer: Employee, offset: int, limit: int):
    pairs = {
        boards.parse_pair(member): Standing(
            boards.parse_pair(member)[1], points, boards.second_time(second)
        )
        for member, (points, second) in boards.everything(challenge.id, kind).items()
    }
    members, _people = active_members(challenge)
    start = challenge.starts_at
    placings = sc.team_standings(sc.tallies_from_pairs(pairs, members, start), challenge.minimum)
    rows = _team_rows(challenge, placings, viewer, offset, limit)
    mine = sc.standing_of(viewer.team_id, placings, {}) if viewer.team_id is not None else None
    if mine is None:
        mine = MyStanding(None, 0, False)
    return rows, len(placings), mine, _progress(challenge, sc.collective_total(placings))


def view_challenge(
    challenge: Challenge,
    viewer: Employee,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ChallengeView:
    """A challenge's standings as this viewer may see them (see the module docstring).

    ``mine`` is the viewer's own line in individual mode (a rank only when ranked; their
    own total always), and their current team's line in team mode."""
    now = now or utcnow()
    limit = max(0, limit)
    offset = max(0, offset)
    schedule = schedule_of(challenge)
    state = sc.current_state(challenge.state, schedule, now)
    declined = is_declined(challenge.id, viewer.id)
    scoped = in_scope(challenge, viewer.team_id)
    awards = list(
        db.session.scalars(
            select(ChallengeAward)
            .where(
                ChallengeAward.challenge_id == challenge.id,
                ChallengeAward.employee_id == viewer.id,
            )
            .order_by(ChallengeAward.id)
        )
    )
    team_rule = sc.team_rule_text(challenge.metric) if challenge.mode is Mode.TEAM else None
    frozen = False
    as_of = None
    if challenge.state is ChallengeState.SETTLED:
        rows, total, mine, progress = _settled(challenge, viewer, offset, limit)
    elif challenge.state is ChallengeState.CANCELLED:
        rows, total, mine, progress = [], 0, None, None
    else:
        cutoff = sc.cutoff_for(viewer_of(viewer), challenge.state, schedule, now)
        frozen = cutoff != sc.final_cutoff(schedule)
        kind = boards.FROZEN if frozen else boards.LIVE
        as_of = schedule.freeze_start if frozen else None
        _ensure(challenge, kind)
        if challenge.mode is Mode.TEAM:
            rows, total, mine, progress = _team_live(challenge, kind, viewer, offset, limit)
        else:
            rows, total, mine, progress = _individual_live(
                challenge, kind, viewer, cutoff, offset, limit
            )
    return ChallengeView(
        challenge,
        state,
        frozen,
        rows,
        total,
        mine if scoped else None,
        progress,
        team_rule,
        challenge.digest if challenge.state is ChallengeState.SETTLED else None,
        awards,
        declined,
        offset,
        limit,
        as_of,
    )


def my_standing(challenge: Challenge, employee: Employee, now: datetime | None = None):
    """The viewer's line alone, from the same reads as the board."""
    return view_challenge(challenge, employee, now, limit=0).mine


def _in_scope_query(employee: Employee):
    mine = select(challenge_teams.c.challenge_id).where(
        challenge_teams.c.team_id == (employee.team_id if employee.team_id is not None else 0)
    )
    return or_(Challenge.scope == ScopeKind.COMPANY, Challenge.id.in_(mine))


def running_for(
    employee: Employee, now: datetime | None = None
) -> list[tuple[Challenge, MyStanding, ChallengeState]]:
    """Challenges not final whose scope includes the employee and that they did not
    decline, soonest end first, with their standing as they may see it (frozen while
    frozen) and the state now. Challenges starting later are included (state open,
    standing 0) so the home page can announce them."""
    now = now or utcnow()
    declined = select(ChallengeDecline.challenge_id).where(
        ChallengeDecline.employee_id == employee.id
    )
    challenges = db.session.scalars(
        select(Challenge)
        .where(
            Challenge.state.not_in(list(sc.FINAL)),
            _in_scope_query(employee),
            Challenge.id.not_in(declined),
        )
        .order_by(Challenge.ends_at, Challenge.id)
    ).all()
    result = []
    for challenge in challenges:
        view = view_challenge(challenge, employee, now, limit=0)
        if view.mine is not None:
            result.append((challenge, view.mine, view.state))
    return result


def results_for(
    employee: Employee, since: datetime
) -> list[tuple[Challenge, MyStanding, list[ChallengeAward]]]:
    """Challenges settled since ``since`` that the employee took part in (in scope now,
    or placed or awarded), newest first, with their placing and their awards."""
    awarded = select(ChallengeAward.challenge_id).where(ChallengeAward.employee_id == employee.id)
    placed = select(ChallengePlacing.challenge_id).where(ChallengePlacing.entrant_id == employee.id)
    challenges = db.session.scalars(
        select(Challenge)
        .where(
            Challenge.state == ChallengeState.SETTLED,
            Challenge.settled_at >= since,
            or_(
                _in_scope_query(employee),
                Challenge.id.in_(awarded),
                (Challenge.mode == Mode.INDIVIDUAL) & Challenge.id.in_(placed),
            ),
        )
        .order_by(Challenge.settled_at.desc(), Challenge.id.desc())
    ).all()
    result = []
    for challenge in challenges:
        view = view_challenge(challenge, employee, limit=0)
        mine = view.mine if view.mine is not None else MyStanding(None, 0, False)
        result.append((challenge, mine, view.my_awards))
    return result
