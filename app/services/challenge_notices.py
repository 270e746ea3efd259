"""What people in a share challenge are told about it: that it started, that it ends
tomorrow, and their result once it is settled.

Each is told by a sweep on the clock (``app.jobs``), never inside settlement: a
settlement of 100,000 people stays one quick transaction, and the results follow
within a minute. A challenge's moment (``announced_at``, ``ending_told_at``,
``results_told_at``) is set by a conditional UPDATE in the transaction that tells, so
a sweep finds only what is left, two sweeps at once tell once (on PostgreSQL the
second waits on the row and finds it marked), and a sweep that fails tells nothing
and leaves the moment unset for the next. Every notification has its key besides.

Who hears: everyone in the challenge's scope who takes part and did not decline it;
for results, each person with a placing (in team mode, the current members, taking
part, of each placed team).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import Challenge, ChallengeAward, ChallengePlacing, Employee, Team, utcnow
from app.services import challenge_boards, chat
from app.services.announcements import announce
from app.services.calendar import company_calendar
from app.services.challenge_standings import load_people, schedule_of, scope_of
from app.services.notifications import Told
from app.urls import absolute_url, path_for
from scoring import challenges as sc
from scoring.challenges import ChallengeState, Mode, ScopeKind
from scoring.chat import Post
from scoring.home_ranks import competition_ranks
from scoring.notifications import (
    ENDING_NOTICE,
    Kind,
    amount,
    ending_due,
    result_words,
    standing_words,
    started_due,
)
from scoring.participation import board_name

CHUNK = 5_000  # people told per batch of rows
LIVE = (ChallengeState.OPEN, ChallengeState.FROZEN)


def _mark(challenge_id: int, column, now: datetime, *conditions) -> bool:
    """Set a challenge's moment if unset: True when this call set it (and tells)."""
    return (
        db.session.execute(
            update(Challenge)
            .where(Challenge.id == challenge_id, column.is_(None), *conditions)
            # Telling is not an edit of the definition: its updated_at stays.
            .values({column.key: now, "updated_at": Challenge.updated_at})
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _scope_teams(challenge: Challenge) -> frozenset[int] | None:
    """The teams of a challenge's scope; None for the whole company."""
    scope = scope_of(challenge)
    return None if scope.kind is ScopeKind.COMPANY else scope.team_ids


def _in_scope(challenge: Challenge) -> list[int]:
    """Ids of the people in scope who take part and did not decline, in id order."""
    people = load_people(challenge.id, team_ids=_scope_teams(challenge))
    return sorted(p.id for p in people.values() if p.taking_part)


def _post(challenge: Challenge, kind: Kind, post: Post, now: datetime) -> None:
    """The same news for the chat channels of the challenge's company or teams."""
    chat.post_challenge(_scope_teams(challenge), kind, challenge.id, post, now)


def _button(challenge: Challenge) -> dict:
    url = absolute_url("challenge_pages.detail", challenge_id=challenge.id)
    return {"button": "See the challenge", "url": url}


def _when(moment: datetime) -> str:
    local = moment.astimezone(company_calendar()[0])
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def _link(challenge: Challenge) -> str:
    return path_for("challenge_pages.detail", challenge_id=challenge.id)


# Started ------------------------------------------------------------------------------


def starts_to_tell(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Challenge.id)
            .where(
                Challenge.state.in_(LIVE),
                Challenge.announced_at.is_(None),
                Challenge.starts_at <= now,
                Challenge.ends_at > now,
            )
            .order_by(Challenge.starts_at, Challenge.id)
        )
    )


def tell_started(challenge_id: int, now: datetime | None = None) -> int:
    """Tell everyone in scope that the challenge started; returns how many were told."""
    now = now or utcnow()
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not started_due(challenge.starts_at, challenge.ends_at, now):
        return 0
    if not _mark(challenge_id, Challenge.announced_at, now, Challenge.state.in_(LIVE)):
        return 0
    what_counts = sc.rules_in_words(
        challenge.metric,
        challenge.mode,
        challenge.minimum,
        challenge.target,
        challenge.freeze_hours,
        challenge.lateness_hours,
    )[0]
    body = f"{what_counts} It ends {_when(challenge.ends_at)}."
    title = f"{challenge.title} has started"
    _post(challenge, Kind.CHALLENGE_STARTED, Post(title, body, **_button(challenge)), now)
    told = 0
    for ids in _chunks(_in_scope(challenge)):
        told += announce(
            (
                Told(
                    e,
                    Kind.CHALLENGE_STARTED,
                    key=f"challenge:{challenge_id}:started",
                    title=title,
                    body=body,
                    link=_link(challenge),
                )
                for e in ids
            ),
            now,
        )
    return told


# Ending tomorrow ------------------------------------------------------------------------


def endings_to_tell(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    candidates = db.session.execute(
        select(Challenge.id, Challenge.starts_at, Challenge.ends_at)
        .where(
            Challenge.state.in_(LIVE),
            Challenge.ending_told_at.is_(None),
            Challenge.ends_at > now,
            Challenge.ends_at <= now + ENDING_NOTICE,
        )
        .order_by(Challenge.ends_at, Challenge.id)
    ).all()
    return [c.id for c in candidates if ending_due(c.starts_at, c.ends_at, now)]


def _live_ranks(challenge: Challenge, now: datetime) -> tuple[dict[int, tuple[int, int]], int]:
    """person -> (rank, total) from the live board, and how many it ranks, when it is
    cheap and may be shown: an individual challenge not frozen for its players, whose
    board is built (one read of it). Otherwise nothing."""
    frozen = sc.clock_state(schedule_of(challenge), now) is ChallengeState.FROZEN
    if challenge.mode is not Mode.INDIVIDUAL or frozen:
        return {}, 0
    board = challenge_boards.everything(challenge.id, challenge_boards.LIVE)
    totals = {int(member): points for member, (points, _second) in board.items()}
    ranks = competition_ranks(totals)
    return {member: (ranks[member], totals[member]) for member in totals}, len(totals)


def tell_ending(challenge_id: int, now: datetime | None = None) -> int:
    """Tell everyone in scope that the challenge ends within a day, with their standing
    where the board shows it; returns how many were told."""
    now = now or utcnow()
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not ending_due(challenge.starts_at, challenge.ends_at, now):
        return 0
    if not _mark(challenge_id, Challenge.ending_told_at, now, Challenge.state.in_(LIVE)):
        return 0
    standings, size = _live_ranks(challenge, now)
    unit = sc.METRIC_WORDS[challenge.metric]
    ends = f"It ends {_when(challenge.ends_at)}."
    told = 0
    for ids in _chunks(_in_scope(challenge)):
        told += announce(
            (
                Told(
                    e,
                    Kind.CHALLENGE_ENDING,
                    key=f"challenge:{challenge_id}:ending",
                    title=f"{challenge.title} ends tomorrow",
                    body=(
                        f"{ends} {standing_words(*standings[e], unit, size)}"
                        if e in standings
                        else ends
                    ),
                    link=_link(challenge),
                )
                for e in ids
            ),
            now,
        )
    return told


# Results --------------------------------------------------------------------------------


def results_to_tell() -> list[int]:
    return list(
        db.session.scalars(
            select(Challenge.id)
            .where(
                Challenge.state == ChallengeState.SETTLED,
                Challenge.results_told_at.is_(None),
            )
            .order_by(Challenge.settled_at, Challenge.id)
        )
    )


def tell_results(challenge_id: int, now: datetime | None = None) -> int:
    """Tell each person with a placing their result; returns how many were told."""
    now = now or utcnow()
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or challenge.state is not ChallengeState.SETTLED:
        return 0
    settled = Challenge.state == ChallengeState.SETTLED
    if not _mark(challenge_id, Challenge.results_told_at, now, settled):
        return 0
    placings = db.session.execute(
        select(
            ChallengePlacing.entrant_id,
            ChallengePlacing.rank,
            ChallengePlacing.points,
            ChallengePlacing.qualified,
        ).where(ChallengePlacing.challenge_id == challenge_id)
    ).all()
    of = len(placings)
    by_entrant = {p.entrant_id: p for p in placings}
    team = challenge.mode is Mode.TEAM
    if team:
        people = load_people(challenge_id, team_ids=list(by_entrant))
        placing_of = {
            p.id: by_entrant[p.team_id]
            for p in people.values()
            if p.taking_part and p.team_id in by_entrant
        }
    else:
        placing_of = by_entrant
    prized = set(
        db.session.scalars(
            select(ChallengeAward.employee_id)
            .where(ChallengeAward.challenge_id == challenge_id)
            .distinct()
        )
    )
    unit = sc.METRIC_WORDS[challenge.metric]
    podium = _podium(challenge, placings, unit)
    text = "The first places:" if podium else "Nobody was placed."
    post = Post(f"Results: {challenge.title}", text, podium, **_button(challenge))
    _post(challenge, Kind.CHALLENGE_RESULTS, post, now)
    told = 0
    for ids in _chunks(sorted(placing_of)):
        told += announce(
            (
                Told(
                    e,
                    Kind.CHALLENGE_RESULTS,
                    key=f"challenge:{challenge_id}:results",
                    title=f"Results: {challenge.title}",
                    body=result_words(
                        placing_of[e].rank,
                        of,
                        placing_of[e].points,
                        unit,
                        placing_of[e].qualified,
                        challenge.minimum,
                        team,
                    )
                    + (" You won a prize: see the challenge page." if e in prized else ""),
                    link=_link(challenge),
                )
                for e in ids
            ),
            now,
        )
    return told


def _podium(challenge: Challenge, placings, unit: str) -> tuple[str, ...]:
    """The first three places in words, named as on boards: pseudonyms stay
    pseudonyms, and hidden people are left out."""
    first = sorted((p for p in placings if p.rank <= 3), key=lambda p: (p.rank, p.entrant_id))
    ids = [p.entrant_id for p in first]
    if challenge.mode is Mode.TEAM:
        names = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all())
    else:
        rows = db.session.execute(
            select(Employee.id, Employee.presence, Employee.name, Employee.pseudonym).where(
                Employee.id.in_(ids)
            )
        )
        names = {e: board_name(presence, name, alias) for e, presence, name, alias in rows}
    return tuple(
        f"{p.rank}. {names[p.entrant_id]}: {amount(p.points, unit)}"
        for p in first
        if names.get(p.entrant_id)
    )
