"""The employee's home over the API: the same figures as the home page, from
``app.services.home.home_for``."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.fields import Integer, String
from app.schemas.people import TeamRefSchema
from app.schemas.sharing import AllowanceSchema


class RankChangeSchema(Schema):
    places = Integer(
        allow_none=True,
        metadata={"description": "places up since the week began (negative: down); null: unknown"},
    )
    new = fields.Boolean(metadata={"description": "on this board now, not when the week began"})
    words = String(metadata={"description": "the change in words; empty when none is known"})


class HomeBoardSchema(Schema):
    scope = String(metadata={"description": "company or team"})
    window = String(metadata={"description": "all_time, month or week: the current one"})
    team = fields.Nested(TeamRefSchema, allow_none=True)
    rank = Integer(allow_none=True, metadata={"description": "null: not on this board"})
    points = Integer(metadata={"description": "your own, even when hidden"})
    size = Integer(metadata={"description": "people on this board"})
    change = fields.Nested(RankChangeSchema)


class StreakSchema(Schema):
    weeks = Integer(metadata={"description": "company weeks running with a share"})
    longest = Integer()
    words = String(metadata={"description": 'e.g. "3 weeks running"'})


class NextBadgeSchema(Schema):
    badge_id = Integer()
    slug = String()
    name = String()
    level = String(allow_none=True, metadata={"description": "the level to earn next"})
    current = Integer()
    threshold = Integer()
    percent = Integer()
    description = String(metadata={"description": "what earns it, in words"})


class NewBadgeSchema(Schema):
    badge_id = Integer()
    slug = String()
    name = String()
    level = String()
    granted_at = fields.DateTime(metadata={"description": "when the threshold was crossed"})


class HomeChallengeSchema(Schema):
    id = Integer()
    title = String()
    state = String(metadata={"description": "open or frozen"})
    frozen = fields.Boolean(metadata={"description": "ranks are hidden from you until results"})
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    rank = Integer(allow_none=True, metadata={"description": "null: not ranked, or frozen"})
    points = Integer(metadata={"description": "your own (as of the freeze while frozen)"})
    qualified = fields.Boolean()


class HomeResultSchema(Schema):
    id = Integer()
    title = String()
    settled_at = fields.DateTime(allow_none=True)
    rank = Integer(allow_none=True, metadata={"description": "null: not placed"})
    points = Integer()
    qualified = fields.Boolean()
    prizes = fields.List(String(), metadata={"description": "what you won, in words"})


class HomeContentSchema(Schema):
    id = Integer()
    title = String()
    summary = String()
    featured = fields.Boolean()
    published_at = fields.DateTime(allow_none=True)


class HomeLessonSchema(Schema):
    id = Integer()
    title = String()
    summary = String()


class HomeSchema(Schema):
    """Where you stand and what to do next."""

    hidden = fields.Boolean(metadata={"description": "you are hidden: no ranks, your points"})
    boards = fields.List(fields.Nested(HomeBoardSchema))
    points_this_week = Integer()
    streak = fields.Nested(StreakSchema)
    next_badge = fields.Nested(NextBadgeSchema, allow_none=True)
    new_badges = fields.List(fields.Nested(NewBadgeSchema))
    challenges = fields.List(fields.Nested(HomeChallengeSchema))
    results = fields.List(fields.Nested(HomeResultSchema))
    allowance = fields.Nested(AllowanceSchema)
    newest_content = fields.List(fields.Nested(HomeContentSchema))
    new_lessons = fields.List(fields.Nested(HomeLessonSchema))


def home_json(home) -> dict:
    """What ``HomeSchema`` dumps, from an ``app.services.home.Home``."""
    card = home.next_badge
    allowance = home.allowance
    return {
        "hidden": home.hidden,
        "boards": [
            {
                "scope": place.scope.value,
                "window": place.window.value,
                "team": place.team,
                "rank": place.rank,
                "points": place.points,
                "size": place.size,
                "change": {
                    "places": place.change.places,
                    "new": place.change.new,
                    "words": place.change.words(),
                },
            }
            for place in home.boards
        ],
        "points_this_week": home.points_this_week,
        "streak": {
            "weeks": home.streak.current,
            "longest": home.streak.longest,
            "words": home.streak_words,
        },
        "next_badge": None
        if card is None
        else {
            "badge_id": card.badge.id,
            "slug": card.badge.slug,
            "name": card.badge.name,
            "level": card.progress.next_level.value if card.progress.next_level else None,
            "current": card.progress.current,
            "threshold": card.progress.threshold,
            "percent": card.progress.percent,
            "description": card.description,
        },
        "new_badges": [
            {
                "badge_id": grant.badge_id,
                "slug": grant.badge.slug,
                "name": grant.badge.name,
                "level": grant.level.value,
                "granted_at": grant.granted_at,
            }
            for grant in home.new_badges
        ],
        "challenges": [
            {
                "id": line.challenge.id,
                "title": line.challenge.title,
                "state": line.state.value,
                "frozen": line.frozen,
                "starts_at": line.challenge.starts_at,
                "ends_at": line.challenge.ends_at,
                "rank": line.rank,
                "points": line.points,
                "qualified": line.qualified,
            }
            for line in home.running
        ],
        "results": [
            {
                "id": result.challenge.id,
                "title": result.challenge.title,
                "settled_at": result.challenge.settled_at,
                "rank": result.rank,
                "points": result.points,
                "qualified": result.qualified,
                "prizes": result.prizes,
            }
            for result in home.results
        ],
        "allowance": {
            "today_left": allowance.today_left,
            "week_left": allowance.week_left,
            "per_channel_left": {c.value: n for c, n in allowance.per_channel_left.items()},
            "next_allowed_at": allowance.next_allowed_at,
            "blocked_by": allowance.blocked_by,
        },
        "newest_content": [
            {
                "id": item.id,
                "title": item.title,
                "summary": item.summary,
                "featured": item.featured,
                "published_at": item.published_at,
            }
            for item in home.newest
        ],
        "new_lessons": [
            {"id": lesson.id, "title": lesson.title, "summary": lesson.summary}
            for lesson in home.new_lessons
        ],
    }
