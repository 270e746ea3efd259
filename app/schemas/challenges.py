"""Share challenges: their definition, and their standings as the caller may see them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import AwareDateTime, Integer, Length, NaiveDateTime, String
from scoring.challenges import (
    MAX_FREEZE_HOURS,
    MAX_LATENESS_HOURS,
    MAX_MINIMUM,
    MAX_PLACE,
    MAX_PRIZES,
    MAX_TARGET,
    MAX_TITLE,
    ChallengeState,
    Metric,
    Mode,
    PrizeKind,
    ScopeKind,
)
from scoring.vocabulary import Channel

MAX_IDS = 100
MAX_TAGS = 50


class ChallengePrizeSchema(Schema):
    kind = fields.Enum(
        PrizeKind,
        by_value=True,
        required=True,
        metadata={"description": "badge, points or reward"},
    )
    value = Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "the badge's or reward's id, or the bonus points"},
    )
    place = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_PLACE),
        metadata={"description": "1 for first…; null: everyone who qualifies"},
    )


class ChallengePrizeFormSchema(ChallengePrizeSchema):
    """A page form's prize: numbers arrive as text."""

    value = Integer(required=True, validate=validate.Range(min=1))
    place = Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_PLACE)
    )


def _definition(required: bool, moment=AwareDateTime, strict: bool = True) -> dict:
    """The fields a definition holds; ``required`` gives create's requirements and
    defaults, and update has neither. Pages send wall-clock times and numbers as text."""

    def default(value):
        return {"load_default": value} if required else {}

    must = {"required": True} if required else {}
    return {
        "title": String(**must, validate=Length(min=1, max=MAX_TITLE)),
        "description": String(**default(""), validate=Length(max=4000)),
        "starts_at": moment(
            **must, metadata={"description": "when it starts (ISO 8601 with a zone)"}
        ),
        "ends_at": moment(**must, metadata={"description": "when it ends; events before count"}),
        "metric": fields.Enum(
            Metric,
            by_value=True,
            **must,
            metadata={"description": "shares, clicks (counted), referral_stages or points"},
        ),
        "mode": fields.Enum(
            Mode,
            by_value=True,
            **default(Mode.INDIVIDUAL),
            metadata={"description": "individual, or team: points per active member"},
        ),
        "scope": fields.Enum(
            ScopeKind,
            by_value=True,
            **must,
            metadata={"description": "company, teams (one or chosen teams) or team_vs_team"},
        ),
        "team_ids": fields.List(
            Integer(strict=strict, validate=validate.Range(min=1)),
            **default([]),
            validate=Length(max=MAX_IDS),
            metadata={"description": "the teams in it; none for the company"},
        ),
        "content_ids": fields.List(
            Integer(strict=strict, validate=validate.Range(min=1)),
            **default([]),
            validate=Length(max=MAX_IDS),
            metadata={"description": "only this content counts; empty: any"},
        ),
        "tags": fields.List(
            String(validate=Length(min=1, max=60)),
            **default([]),
            validate=Length(max=MAX_TAGS),
            metadata={"description": "only content with one of these tags counts; empty: any"},
        ),
        "channels": fields.List(
            fields.Enum(Channel, by_value=True),
            **default([]),
            validate=Length(max=len(Channel)),
            metadata={"description": "only shares to these networks count; empty: any"},
        ),
        "freeze_hours": Integer(
            **default(0),
            strict=strict,
            validate=validate.Range(min=0, max=MAX_FREEZE_HOURS),
            metadata={"description": "ranks hidden from employees for the last hours"},
        ),
        "lateness_hours": Integer(
            **default(24),
            strict=strict,
            validate=validate.Range(min=0, max=MAX_LATENESS_HOURS),
            metadata={"description": "late clicks and stages of the period count this long"},
        ),
        "minimum": Integer(
            **default(0),
            strict=strict,
            validate=validate.Range(min=0, max=MAX_MINIMUM),
            metadata={"description": "to qualify for prizes (per active member in team mode)"},
        ),
        "target": Integer(
            **default(None),
            allow_none=True,
            strict=strict,
            validate=validate.Range(min=1, max=MAX_TARGET),
            metadata={"description": "a collective target; null: none"},
        ),
        "prizes": fields.List(
            fields.Nested(ChallengePrizeSchema if strict else ChallengePrizeFormSchema),
            **default([]),
            validate=Length(max=MAX_PRIZES),
        ),
    }


ChallengeInputSchema = Schema.from_dict(_definition(required=True), name="ChallengeInput")
ChallengeUpdateSchema = Schema.from_dict(_definition(required=False), name="ChallengeUpdate")
# The page form: wall-clock times in the company's zone, numbers as text.
ChallengeFormSchema = Schema.from_dict(
    _definition(required=True, moment=NaiveDateTime, strict=False), name="ChallengeForm"
)


class ChallengeSchema(Schema):
    """A challenge's definition and where it stands."""

    id = Integer()
    title = String()
    description = String()
    organiser_id = Integer(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    metric = fields.Enum(Metric, by_value=True)
    mode = fields.Enum(Mode, by_value=True)
    scope = fields.Enum(ScopeKind, by_value=True)
    team_ids = fields.List(Integer())
    content_ids = fields.List(Integer())
    tags = fields.List(String())
    channels = fields.List(String())
    freeze_hours = Integer()
    lateness_hours = Integer()
    minimum = Integer()
    target = Integer(allow_none=True)
    prizes = fields.List(fields.Nested(ChallengePrizeSchema))
    state = fields.Enum(
        ChallengeState,
        by_value=True,
        metadata={"description": "now: open, frozen, settled or cancelled"},
    )
    freeze_starts_at = fields.DateTime(metadata={"description": "when ranks are hidden"})
    settles_at = fields.DateTime(metadata={"description": "when results are final"})
    settled_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    digest = String(
        allow_none=True,
        metadata={"description": "settled: SHA-256 of the canonical settled standings"},
    )
    rules = fields.List(String(), metadata={"description": "the rules in words"})
    team_rule = String(allow_none=True, metadata={"description": "team mode, in words"})
    declined = fields.Boolean(metadata={"description": "the caller declined it"})
    can_manage = fields.Boolean(metadata={"description": "the caller may edit and cancel it"})


class ChallengeRowSchema(Schema):
    rank = Integer()
    entrant_id = Integer(metadata={"description": "an employee, or a team in team mode"})
    name = String()
    points = Integer()
    score = String(metadata={"description": "exact: points, or per active member (a/b)"})
    active_members = Integer()
    qualified = fields.Boolean()
    is_me = fields.Boolean()
    is_my_team = fields.Boolean()


class MyChallengeStandingSchema(Schema):
    rank = Integer(allow_none=True, metadata={"description": "null: not ranked or frozen"})
    points = Integer(metadata={"description": "your own total, always shown"})
    qualified = fields.Boolean()


class ChallengeProgressSchema(Schema):
    total = Integer()
    target = Integer()
    percent = Integer()
    reached = fields.Boolean()


class ChallengeAwardSchema(Schema):
    prize_kind = String()
    value = Integer()
    place = Integer(allow_none=True)
    created_at = fields.DateTime()


class ChallengeBoardSchema(Schema):
    state = fields.Enum(ChallengeState, by_value=True)
    frozen = fields.Boolean(
        metadata={"description": "ranks are hidden from you until the results: rows empty"}
    )
    rows = fields.List(fields.Nested(ChallengeRowSchema))
    total_rows = Integer()
    mine = fields.Nested(
        MyChallengeStandingSchema,
        allow_none=True,
        metadata={"description": "null: not in its scope"},
    )
    progress = fields.Nested(ChallengeProgressSchema, allow_none=True)
    my_awards = fields.List(fields.Nested(ChallengeAwardSchema))


class ChallengeDetailSchema(Schema):
    challenge = fields.Nested(ChallengeSchema)
    standings = fields.Nested(ChallengeBoardSchema)


class ChallengeBoardQuerySchema(Schema):
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=100))
    offset = Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class ChallengeListQuerySchema(Schema):
    phase = String(
        load_default=None,
        validate=validate.OneOf(["running", "upcoming", "finished"]),
        metadata={"description": "running, upcoming or finished; none: all"},
    )


class ChallengeTakingPartSchema(Schema):
    declined = fields.Boolean()
    changed = fields.Boolean(metadata={"description": "false: it was so already"})
