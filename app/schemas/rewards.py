"""Rewards, the catalogue, redemptions and HR's decisions on them."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from app.models import RedemptionState, RewardKind
from app.schemas.fields import Integer, Length, String
from rewards.funding import FundingState, PledgeState
from rewards.redemptions import KIND_LABELS

MAX_REWARD_COST = 1_000_000


def image_url(reward) -> str | None:
    """Reward images are stored and served like content images."""
    return (
        url_for("content.media", filename=reward.image_filename) if reward.image_filename else None
    )


def _details(required: bool) -> dict:
    """The fields rewards gained with their kind; ``required`` gives create's defaults."""
    default = {"load_default": None} if required else {}
    return {
        "kind": fields.Enum(
            RewardKind,
            by_value=True,
            **({"load_default": RewardKind.EXPERIENCE} if required else {}),
            metadata={"description": "experience, donation, swag or team (funded by pledges)"},
        ),
        "charity_name": String(
            allow_none=True,
            validate=Length(max=120),
            **default,
            metadata={"description": "a donation goes to this charity; required for one"},
        ),
        "available_from": fields.Date(
            allow_none=True, **default, metadata={"description": "first day; null: open"}
        ),
        "available_until": fields.Date(
            allow_none=True, **default, metadata={"description": "last day; null: open"}
        ),
        "needs_approval": fields.Boolean(
            **({"load_default": True} if required else {}),
            metadata={"description": "false: a redemption is approved at once"},
        ),
        "tax_note": String(
            validate=Length(max=2000),
            **({"load_default": ""} if required else {}),
            metadata={"description": "HR's note on tax treatment; never shown to employees"},
        ),
        "image_credit": String(
            allow_none=True,
            validate=Length(max=200),
            **default,
            metadata={"description": "the image's source, required for an image"},
        ),
        "image_rights_confirmed": fields.Boolean(
            **({"load_default": False} if required else {}),
            metadata={"description": "we may use the image; required for an image"},
        ),
    }


# What rewards gained with their kind, as bases: create's defaults, update's none.
RewardDetails = Schema.from_dict(_details(required=True), name="RewardDetails")
RewardDetailsUpdate = Schema.from_dict(_details(required=False), name="RewardDetailsUpdate")


class RewardSchema(RewardDetails):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    description = String(load_default="", validate=Length(max=2000))
    cost = Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_REWARD_COST),
        metadata={"description": "points; redemptions made before a change keep their cost"},
    )
    stock = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "units left; null: unlimited"},
    )
    per_person_limit = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "redemptions per person, rejected and cancelled not counted"},
    )
    active = fields.Boolean(load_default=True, metadata={"description": "in the catalogue"})
    image_url = fields.Function(image_url, dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class RewardUpdateSchema(RewardDetailsUpdate):
    name = String(validate=Length(min=1, max=120))
    description = String(validate=Length(max=2000))
    cost = Integer(strict=True, validate=validate.Range(min=0, max=MAX_REWARD_COST))
    stock = Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    per_person_limit = Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    active = fields.Boolean()


class CatalogueRewardSchema(Schema):
    """A reward in the catalogue, with whether the caller may redeem it now."""

    id = Integer(attribute="reward.id")
    name = String(attribute="reward.name")
    description = String(attribute="reward.description")
    cost = Integer(attribute="reward.cost")
    stock = Integer(attribute="reward.stock", allow_none=True)
    per_person_limit = Integer(attribute="reward.per_person_limit", allow_none=True)
    kind = fields.Enum(RewardKind, by_value=True, attribute="reward.kind")
    kind_label = fields.Function(lambda entry: KIND_LABELS[entry.reward.kind])
    charity_name = String(attribute="reward.charity_name", allow_none=True)
    available_from = fields.Date(attribute="reward.available_from", allow_none=True)
    available_until = fields.Date(attribute="reward.available_until", allow_none=True)
    needs_approval = fields.Boolean(
        attribute="reward.needs_approval",
        metadata={"description": "false: a redemption is approved at once"},
    )
    image_url = fields.Function(lambda entry: image_url(entry.reward), allow_none=True)
    image_credit = String(attribute="reward.image_credit", allow_none=True)
    redeemed_by_me = Integer(attribute="redeemed")
    available = fields.Boolean(attribute="check.allowed")
    unavailable_reason = String(
        attribute="check.refusal",
        allow_none=True,
        metadata={
            "description": "retired, not_yet, ended, team (pledge instead), stock, limit "
            "or balance; null when available"
        },
    )
    message = String(attribute="check.message", metadata={"description": "why not"})


class CatalogueSchema(Schema):
    spendable = Integer(metadata={"description": "what the caller can spend now"})
    rewards = fields.List(fields.Nested(CatalogueRewardSchema))


class RedeemSchema(Schema):
    reward_id = Integer(required=True, strict=True)
    idempotency_key = String(
        required=True,
        validate=Length(min=1, max=100),
        metadata={"description": "your key: the same again answers with the first redemption"},
    )


class RedemptionSchema(Schema):
    id = Integer()
    employee_id = Integer()
    employee_name = fields.Function(lambda r: r.employee.name)
    reward_id = Integer()
    reward_name = String(attribute="reward.name")
    points = Integer(metadata={"description": "the cost when it was redeemed"})
    state = fields.Enum(
        RedemptionState,
        by_value=True,
        metadata={"description": "pending, approved, fulfilled, rejected or cancelled"},
    )
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = String(allow_none=True, metadata={"description": "HR's words"})


class RedemptionQuerySchema(Schema):
    state = fields.Enum(RedemptionState, by_value=True, load_default=RedemptionState.PENDING)


class DecisionSchema(Schema):
    note = String(
        load_default=None,
        allow_none=True,
        validate=Length(max=300),
        metadata={"description": "for the employee, e.g. where to pick it up"},
    )


class RejectionSchema(Schema):
    reason = String(
        required=True,
        validate=Length(min=1, max=300),
        metadata={"description": "the employee reads it"},
    )


class RewardFormSchema(RewardSchema):
    """The page form: numbers arrive as text and an empty field means none."""

    cost = Integer(required=True, validate=validate.Range(min=0, max=MAX_REWARD_COST))
    stock = Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    per_person_limit = Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


# Team rewards: pledges and the team's funding ----------------------------------------


class PledgeRequestSchema(Schema):
    points = Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_REWARD_COST),
        metadata={"description": "points to pledge; more than is left to fund is capped"},
    )
    idempotency_key = String(
        load_default=None,
        validate=Length(min=1, max=100),
        metadata={
            "description": "your key (or the Idempotency-Key header): the same again "
            "answers with the first pledge"
        },
    )


class PledgeSchema(Schema):
    id = Integer()
    funding_id = Integer()
    reward_id = Integer(attribute="funding.reward_id")
    team_id = Integer(attribute="funding.team_id")
    employee_id = Integer()
    points = Integer(metadata={"description": "held until the funding is complete"})
    state = fields.Enum(
        PledgeState, by_value=True, metadata={"description": "held, spent or refunded"}
    )
    funding_state = fields.Enum(
        FundingState,
        by_value=True,
        attribute="funding.state",
        metadata={"description": "open, funded, fulfilled or refunded"},
    )
    created_at = fields.DateTime()


class PledgerSchema(Schema):
    name = String(
        allow_none=True,
        metadata={"description": "as they appear on boards; null for someone hidden"},
    )
    points = Integer()
    mine = fields.Boolean()


class TeamFundingSchema(Schema):
    """The caller's team's funding of a team reward."""

    reward_id = Integer(attribute="reward.id")
    funding_id = Integer(attribute="funding.id", allow_none=True)
    team_id = Integer(attribute="funding.team_id", allow_none=True)
    state = String(metadata={"description": "not_started, open, funded, fulfilled or refunded"})
    target = Integer(metadata={"description": "points to fund: the cost when it opened"})
    pledged = Integer(metadata={"description": "held while open; spent once funded"})
    remaining = Integer()
    percent = Integer()
    pledgers = fields.List(fields.Nested(PledgerSchema))
    my_pledge_id = Integer(attribute="my_pledge.id", allow_none=True)


class FundingToFulfilSchema(Schema):
    id = Integer()
    reward_id = Integer()
    reward_name = String(attribute="reward.name")
    team_id = Integer()
    team_name = String(attribute="team.name")
    target = Integer()
    state = fields.Enum(FundingState, by_value=True)
    closed_at = fields.DateTime(allow_none=True, metadata={"description": "when it was funded"})
