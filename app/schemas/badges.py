"""Badges: definitions HR writes, the catalogue with progress, grants and the preview.

A definition is the plain dict ``scoring.badges.parse_badge`` reads; these schemas check
types and bounds at the edge, and the core checks what goes together (a streak has no
measure, a first badge no levels) with a 422 naming the field.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import Integer, Length, String
from scoring.badges import (
    GRADED_LEVELS,
    MAX_GRACE_WEEKS,
    MAX_NAME,
    MAX_SLUG,
    CriterionKind,
    Level,
    Measure,
    describe_badge,
    parse_badge,
)

MAX_THRESHOLD = 1_000_000_000
MAX_DESCRIPTION = 2000


def _definition(required: bool) -> dict:
    """The definition's fields: create's required ones, or every one optional (a null
    removes a field) for an edit."""
    need = {"required": True} if required else {}
    return {
        "id": String(
            **need,
            validate=Length(min=1, max=MAX_SLUG),
            metadata={"description": "the badge's stable id: lowercase, digits, dashes"},
        ),
        "name": String(**need, validate=Length(min=1, max=MAX_NAME)),
        "description": String(allow_none=True, validate=Length(max=MAX_DESCRIPTION)),
        "kind": String(
            **need,
            validate=validate.OneOf([k.value for k in CriterionKind]),
            metadata={"description": "count, first, streak or placing"},
        ),
        "measure": String(
            allow_none=True,
            validate=validate.OneOf([m.value for m in Measure]),
            metadata={"description": "count and first: what is counted"},
        ),
        "levels": fields.Dict(
            keys=String(validate=validate.OneOf([level.value for level in GRADED_LEVELS])),
            values=Integer(strict=True, validate=validate.Range(min=1, max=MAX_THRESHOLD)),
            allow_none=True,
            metadata={
                "description": "thresholds for bronze, silver and gold, increasing: counts, "
                "points, weeks running or placings"
            },
        ),
        "grace_weeks": Integer(
            strict=True,
            allow_none=True,
            validate=validate.Range(min=0, max=MAX_GRACE_WEEKS),
            metadata={"description": "streak: empty weeks in a row that don't break it"},
        ),
        "top": Integer(
            strict=True,
            allow_none=True,
            validate=validate.Range(min=1, max=1000),
            metadata={"description": "placing: a place this good or better counts"},
        ),
        "per_challenge": fields.Boolean(
            allow_none=True,
            metadata={"description": "placing: once for every challenge placed in"},
        ),
    }


BadgeDefinitionSchema = Schema.from_dict(_definition(required=True), name="BadgeDefinition")
_BadgeEdit = Schema.from_dict(_definition(required=False), name="BadgeEditFields")


class BadgeUpdateSchema(_BadgeEdit):
    active = fields.Boolean(metadata={"description": "false: retired, no longer granted"})


def _field(name: str):
    return lambda badge: badge.definition.get(name)


def _criterion(badge) -> str:
    return describe_badge(parse_badge({**badge.definition, "id": badge.slug, "name": badge.name}))


class BadgeSchema(Schema):
    id = Integer(dump_only=True)
    slug = String(metadata={"description": "the stable id of the definition"})
    name = String()
    description = fields.Function(lambda b: b.definition.get("description") or "")
    kind = fields.Function(_field("kind"))
    measure = fields.Function(_field("measure"), allow_none=True)
    levels = fields.Function(
        lambda b: b.definition.get("levels"),
        allow_none=True,
        metadata={"description": "thresholds by level; null for a badge earned once"},
    )
    grace_weeks = fields.Function(lambda b: b.definition.get("grace_weeks", 0))
    top = fields.Function(_field("top"), allow_none=True)
    per_challenge = fields.Function(lambda b: bool(b.definition.get("per_challenge", False)))
    criterion = fields.Function(_criterion, metadata={"description": "what earns it, in words"})
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class BadgeEarnedLevelSchema(Schema):
    level = fields.Enum(Level, by_value=True)
    granted_at = fields.DateTime(metadata={"description": "when the threshold was crossed"})
    period = String(metadata={"description": "'all', or the challenge it was earned in"})


class BadgeProgressSchema(Schema):
    current = Integer()
    threshold = Integer(allow_none=True, metadata={"description": "null: every level earned"})
    next_level = fields.Enum(Level, by_value=True, allow_none=True)
    percent = Integer()


class BadgeCardSchema(Schema):
    badge = fields.Nested(BadgeSchema)
    earned = fields.List(fields.Nested(BadgeEarnedLevelSchema))
    progress = fields.Nested(BadgeProgressSchema)
    locked = fields.Boolean(metadata={"description": "nothing of it earned yet"})
    description = String(metadata={"description": "the criterion in words"})


class BadgeGrantSchema(Schema):
    id = Integer()
    badge_id = Integer()
    badge_slug = String(attribute="badge.slug")
    badge_name = String(attribute="badge.name")
    level = fields.Enum(Level, by_value=True)
    period = String()
    granted_at = fields.DateTime(metadata={"description": "when the threshold was crossed"})
    quiet = fields.Boolean(metadata={"description": "backfilled: announced to no one"})


class BadgePreviewEntrySchema(Schema):
    name = String()
    level = fields.Enum(Level, by_value=True)
    granted_at = fields.DateTime()


class BadgePreviewSchema(Schema):
    count = Integer(metadata={"description": "people who would hold it now"})
    sample = fields.List(
        fields.Nested(BadgePreviewEntrySchema),
        metadata={"description": "the first to have earned it, with their highest level"},
    )
