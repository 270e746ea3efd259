"""The employee's home: where they stand, what they can do next.

Every figure comes from the function the rest of Chorus shows it with, so the home
page, its JSON twin and the boards never disagree: ranks and points from
``app.services.leaderboards.view_board`` (the boards' page and API), shares left from
``app.services.feed.allowance`` (the feed and the share dialog), the newest content
from ``app.services.feed.feed_select`` (the feed); the streak, the next badge and new
badges from ``app.services.badges`` (the badge pages); challenges and results from
``app.services.challenge_standings`` (the challenge board: a frozen challenge shows
an employee no rank here either); new lessons from ``app.services.lessons``. The
change since last week compares a board's rank now with the rank kept when the
company week began (``app.services.home_ranks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.extensions import db
from app.models import (
    Badge,
    BadgeGrant,
    Challenge,
    ChallengeAward,
    ContentItem,
    Employee,
    Lesson,
    Reward,
    Team,
    utcnow,
)
from app.services import badges, challenge_standings, feed, home_ranks, lessons
from app.services.leaderboards import Scope, view_board
from scoring.badges import Streak, describe_streak
from scoring.challenges import LIVE_VIEWERS, ChallengeState, MyStanding, PrizeKind
from scoring.home_ranks import RankChange, rank_change
from scoring.participation import Presence
from scoring.sharing import Allowance
from scoring.windows import Window

BOARD_WINDOWS = (Window.ALL_TIME, Window.MONTH, Window.WEEK)
NEWEST_CONTENT = 3
NEW_LESSONS = 3
# Results and badges this recent are news on the home page.
RECENT = timedelta(days=14)


@dataclass(frozen=True)
class BoardPlace:
    """The viewer on one board: their rank (None when not on it: hidden, opted out, or
    no points in the window yet), their own points (always theirs, even hidden) and the
    change since the week began."""

    scope: Scope
    window: Window
    team: Team | None
    rank: int | None
    points: int
    size: int
    change: RankChange


@dataclass(frozen=True)
class RunningChallenge:
    """A challenge the viewer is in, not final yet. While it is frozen for them (an
    employee or team lead in its last hours) no rank is shown: ``rank`` is None and
    ``points`` their own as of the freeze."""

    challenge: Challenge
    state: ChallengeState
    frozen: bool
    rank: int | None
    points: int
    qualified: bool


@dataclass(frozen=True)
class ChallengeResult:
    challenge: Challenge
    rank: int | None  # None: not placed (hidden, declined, no counting event)
    points: int
    qualified: bool
    prizes: list[str]  # what the viewer won, in words


@dataclass(frozen=True)
class Home:
    employee: Employee
    now: datetime
    hidden: bool
    boards: list[BoardPlace]
    points_this_week: int
    allowance: Allowance
    newest: list[ContentItem]
    streak: Streak
    streak_words: str  # never loss-framed: "3 weeks running"
    next_badge: badges.BadgeCard | None
    new_badges: list[BadgeGrant]
    running: list[RunningChallenge]
    results: list[ChallengeResult]
    new_lessons: list[Lesson]

    def board(self, scope: Scope, window: Window) -> BoardPlace | None:
        return next((b for b in self.boards if b.scope is scope and b.window is window), None)


def _places(employee: Employee, now: datetime) -> list[BoardPlace]:
    scopes = [Scope.COMPANY] + ([Scope.TEAM] if employee.team_id is not None else [])
    views = [
        view_board(employee, scope, window, limit=1) for scope in scopes for window in BOARD_WINDOWS
    ]
    names = [
        home_ranks.board_name(view.window, view.team.id if view.team else None) for view in views
    ]
    compared, before = home_ranks.ranks_when_week_began(employee.id, names, now)
    month_compared = home_ranks.month_compared(now)
    places = []
    for view, name in zip(views, names, strict=True):
        known = compared and (view.window is not Window.MONTH or month_compared)
        places.append(
            BoardPlace(
                view.scope,
                view.window,
                view.team,
                view.my_rank,
                view.my_points,
                view.size,
                rank_change(before[name], view.my_rank, known),
            )
        )
    return places


def newest_content(employee: Employee, now: datetime, limit: int = NEWEST_CONTENT):
    """The feed's first items: featured first, then newest, as the feed lists them."""
    return list(db.session.scalars(feed.feed_select(employee, now).limit(limit)))


def prize_words(award: ChallengeAward) -> str:
    """A prize won, in words: "50 bonus points", "the badge Gold sharer"."""
    kind = PrizeKind(award.prize_kind)
    if kind is PrizeKind.POINTS:
        return f"{award.value} bonus point{'' if award.value == 1 else 's'}"
    if kind is PrizeKind.BADGE:
        badge = db.session.get(Badge, award.value)
        return f"the badge {badge.name}" if badge else "a badge"
    reward = db.session.get(Reward, award.value)
    return f"the reward {reward.name}" if reward else "a reward"


def running_challenges(employee: Employee, now: datetime) -> list[RunningChallenge]:
    """``challenge_standings.running_for``, the challenge board's own reads, with the
    rank left out while the challenge is frozen for this viewer."""
    hides = challenge_standings.viewer_of(employee) not in LIVE_VIEWERS
    running = []
    for challenge, mine, state in challenge_standings.running_for(employee, now):
        frozen = hides and state is ChallengeState.FROZEN
        running.append(
            RunningChallenge(
                challenge,
                state,
                frozen,
                None if frozen else mine.rank,
                mine.points,
                mine.qualified,
            )
        )
    return running


def challenge_results(employee: Employee, since: datetime) -> list[ChallengeResult]:
    found: list[tuple[Challenge, MyStanding, list[ChallengeAward]]] = (
        challenge_standings.results_for(employee, since)
    )
    return [
        ChallengeResult(
            challenge,
            mine.rank,
            mine.points,
            mine.qualified,
            [prize_words(award) for award in awards],
        )
        for challenge, mine, awards in found
    ]


def home_for(employee: Employee, now: datetime | None = None) -> Home:
    """Everything the home page and ``GET /api/v1/me/home`` show, for one employee who
    takes part."""
    moment = now or utcnow()
    places = _places(employee, moment)
    this_week = next(p for p in places if p.scope is Scope.COMPANY and p.window is Window.WEEK)
    streak = badges.streak_for(employee, moment)
    return Home(
        employee=employee,
        now=moment,
        hidden=employee.presence is Presence.HIDDEN,
        boards=places,
        points_this_week=this_week.points,
        allowance=feed.allowance(employee, moment),
        newest=newest_content(employee, moment),
        streak=streak,
        streak_words=describe_streak(streak.current),
        next_badge=badges.next_badge_progress(employee, moment),
        new_badges=badges.recent_grants(employee, moment - RECENT),
        running=running_challenges(employee, moment),
        results=challenge_results(employee, moment - RECENT),
        new_lessons=lessons.new_for(employee, limit=NEW_LESSONS),
    )
