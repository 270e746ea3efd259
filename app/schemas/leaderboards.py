"""Leaderboards: which board to read, and what a board answers."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_dump, validate

from app.schemas.fields import Integer, Length, String
from app.schemas.people import TeamRefSchema

BOARD_WINDOW_NAMES = ("week", "month", "all_time")
# Far beyond any company's headcount, and exact in the board script's Lua numbers.
MAX_BOARD_OFFSET = 1_000_000


class BoardQuerySchema(Schema):
    window = String(load_default="week", validate=validate.OneOf(BOARD_WINDOW_NAMES))
    period = String(
        load_default=None,
        validate=Length(min=1, max=20),
        metadata={
            "description": 'a finished window, e.g. "2026-10" (month) or "w2026-10-26" '
            "(the week starting that day); default the current one"
        },
    )
    offset = Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_BOARD_OFFSET),
        metadata={"description": "rows to skip from the top"},
    )
    limit = Integer(load_default=20, validate=validate.Range(min=1, max=100))
    around_me = fields.Boolean(
        load_default=False,
        metadata={"description": "the page around your own rank (ignores offset when on it)"},
    )


class BoardRowSchema(Schema):
    rank = Integer()
    name = String(metadata={"description": "the name or pseudonym each person chose"})
    points = Integer()
    is_me = fields.Boolean()


class BoardStandingSchema(Schema):
    rank = Integer(allow_none=True, metadata={"description": "null: not on this board"})
    points = Integer(metadata={"description": "your own, even when hidden"})
    on_board = fields.Boolean()


class BoardViewSchema(Schema):
    scope = String(metadata={"description": "company or team"})
    team = fields.Nested(TeamRefSchema, allow_none=True)
    window = String()
    period = String(metadata={"description": "the window's key"})
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True, metadata={"description": "exclusive"})
    size = Integer(metadata={"description": "people on the board"})
    offset = Integer()
    rows = fields.List(fields.Nested(BoardRowSchema))
    me = fields.Nested(BoardStandingSchema)

    @pre_dump
    def _from_view(self, view, **kwargs) -> dict:
        """A ``leaderboards.BoardView``, with the viewer's standing as one object."""
        if isinstance(view, dict):
            return view
        return {
            "scope": view.scope,
            "team": view.team,
            "window": view.window,
            "period": view.window_key,
            "starts_at": view.starts_at,
            "ends_at": view.ends_at,
            "size": view.size,
            "offset": view.offset,
            "rows": view.rows,
            "me": {"rank": view.my_rank, "points": view.my_points, "on_board": view.on_board},
        }


def board_view_json(view) -> dict:
    """What ``BoardViewSchema`` dumps, built directly: boards are read far more often
    than anything else, and marshmallow's per-field work would be most of a read's
    cost. The schema documents the shape; a test holds the two equal."""
    return {
        "scope": view.scope.value,
        "team": None if view.team is None else {"id": view.team.id, "name": view.team.name},
        "window": view.window.value,
        "period": view.window_key,
        "starts_at": None if view.starts_at is None else view.starts_at.isoformat(),
        "ends_at": None if view.ends_at is None else view.ends_at.isoformat(),
        "size": view.size,
        "offset": view.offset,
        "rows": [
            {"rank": r.rank, "name": r.name, "points": r.points, "is_me": r.is_me}
            for r in view.rows
        ],
        "me": {"rank": view.my_rank, "points": view.my_points, "on_board": view.on_board},
    }


class BoardPageSchema(BoardQuerySchema):
    scope = String(load_default="company", validate=validate.OneOf(("company", "team")))
    view = String(load_default=None, validate=validate.OneOf(("top", "around")))
