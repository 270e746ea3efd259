"""Share challenges as people define and see them: create, edit, cancel, decline and
take part again, and which challenges a person sees.

The decisions are pure (``scoring.challenges``): who may organise which scope, who may
manage and who sees a challenge, what is wrong with a definition, and what may still
change once it has started. Here they are fed from the database, and the answers stored.
Standings, the live board, the freeze and settlement are
``app.services.challenge_standings``'s.

Cancelling is the state machine's move (organiser or HR), made by a conditional
``UPDATE ... WHERE state IN (...)``: if settlement got there first, the cancel finds no
row and says so, and the other way round settlement finds the challenge cancelled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, false, or_, select, update
from sqlalchemy.orm import selectinload

from app.db import insert
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import (
    Badge,
    Challenge,
    ChallengeDecline,
    ContentItem,
    Employee,
    Reward,
    Role,
    Team,
    challenge_teams,
    utcnow,
)
from app.services import audit, challenge_standings
from scoring.challenges import (
    FINAL,
    ChallengeState,
    Metric,
    Mode,
    MyStanding,
    Party,
    Prize,
    PrizeKind,
    Schedule,
    ScopeKind,
    TransitionRefused,
    challenge_problems,
    check_transition,
    current_state,
    edit_problems,
    may_manage,
    organise_problem,
    rules_in_words,
    sources,
    start_problem,
    team_rule_text,
    visible_to,
)

# What a definition holds, as the API and the forms name it.
FIELDS = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "metric",
    "mode",
    "scope",
    "team_ids",
    "content_ids",
    "tags",
    "channels",
    "freeze_hours",
    "lateness_hours",
    "minimum",
    "target",
    "prizes",
)
DEFAULTS: dict[str, Any] = {
    "description": "",
    "mode": Mode.INDIVIDUAL,
    "team_ids": [],
    "content_ids": [],
    "tags": [],
    "channels": [],
    "freeze_hours": 0,
    "lateness_hours": 24,
    "minimum": 0,
    "target": None,
    "prizes": [],
}


# Reading a challenge as plain values -----------------------------------------------


def schedule_of(challenge: Challenge) -> Schedule:
    return Schedule(
        challenge.starts_at,
        challenge.ends_at,
        challenge.freeze_hours,
        timedelta(hours=challenge.lateness_hours),
    )


def state_of(challenge: Challenge, now: datetime | None = None) -> ChallengeState:
    """What it is now: a final stored state stands, otherwise the clock says open or
    frozen (even before the freeze job has run)."""
    return current_state(ChallengeState(challenge.state), schedule_of(challenge), now or utcnow())


def team_ids_of(challenge: Challenge) -> list[int]:
    return sorted(team.id for team in challenge.teams)


def prizes_of(raw: list[dict[str, Any]]) -> list[Prize]:
    try:
        return [Prize(PrizeKind(p["kind"]), int(p["value"]), p.get("place")) for p in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"A prize is not valid: {exc}.", field="prizes") from exc


def values_of(challenge: Challenge) -> dict[str, Any]:
    """The definition as the fields name it."""
    values = {name: getattr(challenge, name) for name in FIELDS if name != "team_ids"}
    values["team_ids"] = team_ids_of(challenge)
    return values


def _is_hr(employee: Employee) -> bool:
    return employee.has_role(Role.HR)


def can_manage(actor: Employee, challenge: Challenge) -> bool:
    """May ``actor`` edit or cancel it (HR any, a team lead their own team's)."""
    return actor.has_role(Role.TEAM_LEAD) and may_manage(
        _is_hr(actor),
        actor.id,
        actor.team_id,
        challenge.organiser_id,
        ScopeKind(challenge.scope),
        team_ids_of(challenge),
    )


def can_organise(actor: Employee) -> bool:
    return actor.has_role(Role.TEAM_LEAD) and (_is_hr(actor) or actor.team_id is not None)


def in_scope(employee: Employee, challenge: Challenge) -> bool:
    """Whether the employee's team takes part (a company challenge: everyone)."""
    return challenge.scope == ScopeKind.COMPANY or employee.team_id in team_ids_of(challenge)


# Who sees what ---------------------------------------------------------------------


def _visible(viewer: Employee) -> Select:
    statement = select(Challenge)
    if _is_hr(viewer):
        return statement
    of_my_team = (
        exists()
        .where(challenge_teams.c.challenge_id == Challenge.id)
        .where(challenge_teams.c.team_id == viewer.team_id)
        if viewer.team_id is not None
        else false()
    )
    return statement.where(
        or_(Challenge.scope == ScopeKind.COMPANY, of_my_team, Challenge.organiser_id == viewer.id)
    )


class Phase:
    """The three lists on the challenges page, by the clock and the stored state."""

    RUNNING = "running"
    UPCOMING = "upcoming"
    FINISHED = "finished"


def list_visible(
    viewer: Employee,
    phase: str | None = None,
    now: datetime | None = None,
) -> Select:
    """The challenges ``viewer`` sees, as a query to page through: running ones by their
    end (soonest first), upcoming by their start, finished (ended, settled or cancelled)
    newest first."""
    now = now or utcnow()
    statement = _visible(viewer).options(selectinload(Challenge.teams))
    live = Challenge.state.in_([ChallengeState.OPEN, ChallengeState.FROZEN])
    if phase == Phase.RUNNING:
        return statement.where(live, Challenge.starts_at <= now, Challenge.ends_at > now).order_by(
            Challenge.ends_at, Challenge.id
        )
    if phase == Phase.UPCOMING:
        return statement.where(live, Challenge.starts_at > now).order_by(
            Challenge.starts_at, Challenge.id
        )
    if phase == Phase.FINISHED:
        return statement.where(or_(~live, Challenge.ends_at <= now)).order_by(
            Challenge.ends_at.desc(), Challenge.id.desc()
        )
    return statement.order_by(Challenge.starts_at.desc(), Challenge.id.desc())


def phase_of(challenge: Challenge, now: datetime | None = None) -> str:
    now = now or utcnow()
    if challenge.state in FINAL or challenge.ends_at <= now:
        return Phase.FINISHED
    return Phase.UPCOMING if challenge.starts_at > now else Phase.RUNNING


def get_visible(viewer: Employee, challenge_id: int) -> Challenge:
    """The challenge, if ``viewer`` may see it; otherwise 404, as if it did not exist."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not visible_to(
        _is_hr(viewer),
        viewer.id,
        viewer.team_id,
        challenge.organiser_id,
        ScopeKind(challenge.scope),
        team_ids_of(challenge),
    ):
        raise NotFound(f"No challenge with id {challenge_id}.", field="challenge_id")
    return challenge


def has_declined(employee: Employee, challenge: Challenge) -> bool:
    return db.session.get(ChallengeDecline, (challenge.id, employee.id)) is not None


# Checking a definition -------------------------------------------------------------


def _refused(problems: dict[str, str], error=InvalidInput) -> None:
    if problems:
        field, message = next(iter(sorted(problems.items())))
        raise error(message, field=field, errors={k: [v] for k, v in sorted(problems.items())})


def _reference_problems(values: dict[str, Any]) -> dict[str, str]:
    """Teams, content, badges and rewards named must exist (badges and rewards active)."""
    problems = {}
    team_ids = set(values["team_ids"])
    if team_ids:
        found = set(db.session.scalars(select(Team.id).where(Team.id.in_(team_ids))))
        if missing := sorted(team_ids - found):
            problems["team_ids"] = f"No team with id {missing[0]}."
    content_ids = set(values["content_ids"])
    if content_ids:
        found = set(
            db.session.scalars(select(ContentItem.id).where(ContentItem.id.in_(content_ids)))
        )
        if missing := sorted(content_ids - found):
            problems["content_ids"] = f"No content with id {missing[0]}."
    for prize in values["prizes"]:
        kind = PrizeKind(prize["kind"])
        if kind is PrizeKind.BADGE:
            badge = db.session.get(Badge, prize["value"])
            if badge is None or not badge.active:
                problems["prizes"] = f"No active badge with id {prize['value']}."
        elif kind is PrizeKind.REWARD:
            reward = db.session.get(Reward, prize["value"])
            if reward is None or not reward.active:
                problems["prizes"] = f"No reward with id {prize['value']} in the catalogue."
    return problems


def _definition_problems(values: dict[str, Any]) -> dict[str, str]:
    prizes = prizes_of(values["prizes"])
    problems = challenge_problems(
        title=values["title"],
        start=values["starts_at"],
        end=values["ends_at"],
        mode=Mode(values["mode"]),
        scope=ScopeKind(values["scope"]),
        team_ids=values["team_ids"],
        freeze_hours=values["freeze_hours"],
        lateness_hours=values["lateness_hours"],
        minimum=values["minimum"],
        target=values["target"],
        prizes=prizes,
    )
    return {**_reference_problems(values), **problems}


def _tidy(data: dict[str, Any]) -> dict[str, Any]:
    """Stored shapes: sorted unique ids and tags, enum values, no blank text."""
    data = {k: v for k, v in data.items() if k in FIELDS}
    if "title" in data:
        data["title"] = data["title"].strip()
    if "description" in data:
        data["description"] = (data["description"] or "").strip()
    for name in ("team_ids", "content_ids"):
        if name in data:
            data[name] = sorted(set(data[name] or []))
    if "tags" in data:
        data["tags"] = sorted({t.strip().lower() for t in data["tags"] or [] if t.strip()})
    if "channels" in data:
        data["channels"] = sorted({getattr(c, "value", c) for c in data["channels"] or []})
    if "prizes" in data:
        data["prizes"] = [
            {"kind": PrizeKind(p["kind"]).value, "value": p["value"], "place": p.get("place")}
            for p in data["prizes"] or []
        ]
    for name, kind in (("metric", Metric), ("mode", Mode), ("scope", ScopeKind)):
        if data.get(name) is not None:
            data[name] = kind(data[name])
    return data


def _store(challenge: Challenge, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "team_ids":
            challenge.teams = list(
                db.session.scalars(select(Team).where(Team.id.in_(value))) if value else []
            )
        else:
            setattr(challenge, name, value)


# Writing ---------------------------------------------------------------------------


def create_challenge(
    actor: Employee, data: dict[str, Any], now: datetime | None = None
) -> Challenge:
    """A new challenge: a team lead's for exactly their own team, HR's for any scope.
    Every problem is refused before anything is written."""
    now = now or utcnow()
    values = {**DEFAULTS, **_tidy(data)}
    refusal = organise_problem(
        _is_hr(actor), actor.team_id, ScopeKind(values["scope"]), values["team_ids"]
    )
    if refusal:
        raise Forbidden(refusal, field="team_ids")
    problems = {**start_problem(values["starts_at"], values["ends_at"], now)}
    problems.update(_definition_problems(values))
    _refused(problems)
    challenge = Challenge(organiser_id=actor.id, state=ChallengeState.OPEN)
    _store(challenge, values)
    db.session.add(challenge)
    db.session.flush()
    audit.record(
        actor,
        "challenge.create",
        challenge,
        title=challenge.title,
        scope=challenge.scope.value,
        team_ids=values["team_ids"],
    )
    return challenge


def _manage_or_refuse(actor: Employee, challenge: Challenge, doing: str) -> None:
    if not can_manage(actor, challenge):
        raise Forbidden(f"Only HR or the team lead of its team can {doing} this challenge.")


def update_challenge(
    actor: Employee, challenge: Challenge, changes: dict[str, Any], now: datetime | None = None
) -> Challenge:
    """Change a challenge. Before its start anything may change; once it has started only
    the title, the description, a later end and added prizes; once frozen, settled or
    cancelled nothing. A refused change writes nothing."""
    now = now or utcnow()
    _manage_or_refuse(actor, challenge, "edit")
    before = values_of(challenge)
    changes = _tidy(changes)
    changed = {name for name, value in changes.items() if before[name] != value}
    if not changed:
        return challenge
    after = {**before, **changes}
    if {"scope", "team_ids"} & changed:
        refusal = organise_problem(
            _is_hr(actor), actor.team_id, ScopeKind(after["scope"]), after["team_ids"]
        )
        if refusal:
            raise Forbidden(refusal, field="team_ids")
    started = now >= challenge.starts_at
    locked = edit_problems(
        state_of(challenge, now),
        started,
        changed,
        before["ends_at"],
        after["ends_at"],
        prizes_of(before["prizes"]),
        prizes_of(after["prizes"]),
        now,
    )
    _refused(locked, Conflict)
    problems = {}
    if not started and {"starts_at", "ends_at"} & changed:
        problems.update(start_problem(after["starts_at"], after["ends_at"], now))
    problems.update(_definition_problems(after))
    _refused(problems)
    with db.session.no_autoflush:
        _store(challenge, {name: after[name] for name in changed})
    db.session.flush()
    audit.record(actor, "challenge.update", challenge, changes=sorted(changed))
    return challenge


def cancel_challenge(
    actor: Employee, challenge: Challenge, now: datetime | None = None
) -> Challenge:
    """Call it off: no placings, no prizes. The state machine says who may and from
    where; the conditional UPDATE makes a settlement that got there first win."""
    now = now or utcnow()
    _manage_or_refuse(actor, challenge, "cancel")
    party = Party.HR if _is_hr(actor) else Party.ORGANISER
    try:
        check_transition(state_of(challenge, now), ChallengeState.CANCELLED, party)
    except TransitionRefused as exc:
        raise Conflict(exc.message, field="state") from exc
    moved = db.session.execute(
        update(Challenge)
        .where(
            Challenge.id == challenge.id,
            Challenge.state.in_(sources(ChallengeState.CANCELLED, party)),
        )
        .values(state=ChallengeState.CANCELLED, cancelled_at=now, cancelled_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(challenge)
    if moved.rowcount != 1:
        raise Conflict(f"A {challenge.state.value} challenge cannot be cancelled.", field="state")
    audit.record(actor, "challenge.cancel", challenge, title=challenge.title)
    return challenge


def _may_change_taking_part(employee: Employee, challenge: Challenge) -> None:
    if not in_scope(employee, challenge):
        raise Conflict("Your team is not in this challenge.", field="challenge_id")
    if challenge.state in FINAL:
        raise Conflict(
            f"The challenge is {challenge.state.value}: taking part no longer changes.",
            field="challenge_id",
        )


def decline(employee: Employee, challenge: Challenge) -> bool:
    """Leave a challenge: off its board and out of its team counts. Declining twice is
    once; returns whether this call declined."""
    _may_change_taking_part(employee, challenge)
    statement = (
        insert(ChallengeDecline)
        .values(challenge_id=challenge.id, employee_id=employee.id, declined_at=utcnow())
        .on_conflict_do_nothing()
        .returning(ChallengeDecline.employee_id)
    )
    declined = db.session.execute(statement).first() is not None
    if declined:
        challenge_standings.follow_entrant(challenge, employee.id)  # off the live board
    return declined


def rejoin(employee: Employee, challenge: Challenge) -> bool:
    """Take part again; returns whether this call changed anything."""
    _may_change_taking_part(employee, challenge)
    row = db.session.get(ChallengeDecline, (challenge.id, employee.id))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    challenge_standings.follow_entrant(challenge, employee.id)  # back on the live board
    return True


@dataclass(frozen=True)
class PrizeLine:
    """A prize in words: "1st place: the badge Gold sharer"."""

    who: str
    what: str


def prize_lines(challenge: Challenge) -> list[PrizeLine]:
    lines = []
    for prize in sorted(
        prizes_of(challenge.prizes), key=lambda p: (p.place is None, p.place or 0, p.kind)
    ):
        who = "Everyone who qualifies" if prize.place is None else f"{ordinal(prize.place)} place"
        if prize.kind is PrizeKind.POINTS:
            what = f"{prize.value} bonus points"
        elif prize.kind is PrizeKind.BADGE:
            badge = db.session.get(Badge, prize.value)
            what = f"the badge {badge.name}" if badge else "a badge"
        else:
            reward = db.session.get(Reward, prize.value)
            what = f"the reward {reward.name}" if reward else "a reward"
        lines.append(PrizeLine(who, what))
    return lines


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# What a viewer sees ----------------------------------------------------------------


def standings(
    challenge: Challenge,
    viewer: Employee,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> challenge_standings.ChallengeView:
    """The standings as ``viewer`` may see them, from the one function every surface
    reads. While frozen for this viewer, no rank shows: no rows (their order would tell
    the ranks) and no rank of their own; their own total stays."""
    view = challenge_standings.view_challenge(challenge, viewer, now, limit=limit, offset=offset)
    if not view.frozen:
        return view
    mine = view.mine and MyStanding(None, view.mine.points, view.mine.qualified)
    return replace(view, rows=[], total_rows=0, mine=mine)


def describe(challenge: Challenge, viewer: Employee, now: datetime | None = None) -> dict:
    """The definition and where it stands, as the API answers it."""
    now = now or utcnow()
    schedule = schedule_of(challenge)
    return {
        **values_of(challenge),
        "prizes": [{**prize, "kind": PrizeKind(prize["kind"])} for prize in challenge.prizes],
        "id": challenge.id,
        "organiser_id": challenge.organiser_id,
        "state": state_of(challenge, now),
        "freeze_starts_at": schedule.freeze_start,
        "settles_at": schedule.settle_at,
        "settled_at": challenge.settled_at,
        "cancelled_at": challenge.cancelled_at,
        "digest": challenge.digest,
        "rules": rules_of(challenge),
        "team_rule": team_rule_text(challenge.metric) if challenge.mode == Mode.TEAM else None,
        "declined": has_declined(viewer, challenge),
        "can_manage": can_manage(viewer, challenge),
    }


def rules_of(challenge: Challenge) -> list[str]:
    return rules_in_words(
        Metric(challenge.metric),
        Mode(challenge.mode),
        challenge.minimum,
        challenge.target,
        challenge.freeze_hours,
        challenge.lateness_hours,
    )


def board_of(view: challenge_standings.ChallengeView) -> dict:
    """The standings as the API answers them (exact scores as "a/b")."""
    return {
        "state": view.state,
        "frozen": view.frozen,
        "rows": [
            {**asdict(row), "score": f"{row.score.numerator}/{row.score.denominator}"}
            for row in view.rows
        ],
        "total_rows": view.total_rows,
        "mine": view.mine,
        "progress": view.progress,
        "my_awards": view.my_awards,
    }
