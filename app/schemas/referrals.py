"""Referral programmes, ATS integrations and the stages candidates reach."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import AwareDateTime, Integer, Length, String
from scoring.vocabulary import ReferralStage

STAGE_NAMES = [stage.value for stage in ReferralStage]


class ReferralProgrammeSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    content_tag = String(
        required=True,
        validate=Length(min=1, max=60),
        metadata={"description": 'content carrying this tag counts, e.g. "job" for job ads'},
    )
    stages = fields.List(
        String(validate=validate.OneOf(STAGE_NAMES)),
        load_default=lambda: list(STAGE_NAMES),
        validate=Length(min=1),
        metadata={"description": "the stages that award points; default all"},
    )
    attribution_days = Integer(
        load_default=90,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "how long after the last click a stage is attributed"},
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)


class ReferralProgrammeUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    content_tag = String(validate=Length(min=1, max=60))
    stages = fields.List(String(validate=validate.OneOf(STAGE_NAMES)), validate=Length(min=1))
    attribution_days = Integer(validate=validate.Range(min=1, max=3650))
    active = fields.Boolean()


def webhook_url(integration) -> str:
    from app.urls import base_url

    return f"{base_url()}/api/v1/webhooks/ats/{integration.id}"


class IntegrationSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    secret_starts_with = fields.Function(lambda i: i.secret[:10], dump_only=True)
    webhook_url = fields.Function(webhook_url, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class NewIntegrationSchema(IntegrationSchema):
    secret = String(
        dump_only=True, metadata={"description": "the signing secret; shown only in this answer"}
    )


class ReferralStageSchema(Schema):
    """A candidate reaching a stage, as HR records it by hand."""

    ref = String(
        required=True,
        validate=Length(min=1, max=64),
        metadata={"description": "the referral code the tracked link carried (?ref=)"},
    )
    candidate_id = String(
        required=True,
        validate=Length(min=1, max=200),
        metadata={"description": "the ATS's candidate id; stored only as a keyed hash"},
    )
    stage = fields.Enum(ReferralStage, by_value=True, required=True)
    occurred_at = AwareDateTime(
        load_default=None,
        metadata={"description": "ISO 8601 with a zone; default now; not in the future"},
    )


class WebhookDeliverySchema(ReferralStageSchema):
    """The ATS's delivery; fields Chorus does not know are ignored."""

    class Meta:
        unknown = "exclude"


class ReferralReceiptSchema(Schema):
    id = Integer()
    ref = String(attribute="ref_code")
    stage = fields.Enum(ReferralStage, by_value=True)
    outcome = String(
        metadata={"description": "awarded, backwards (nothing awarded) or unattributed"}
    )
    reason = String(
        allow_none=True,
        metadata={
            "description": "why nothing was awarded: unknown_code, no_programme, "
            "stage_not_awarded, outside_window, owner_not_participating, "
            "earlier_than_recorded"
        },
    )
    occurred_at = fields.DateTime()
    received_at = fields.DateTime()


def _referrer(referral) -> str | None:
    share = referral.share
    return share.employee.name if share is not None and share.employee.participating else None


class ReferralSchema(ReferralReceiptSchema):
    share_id = Integer(allow_none=True)
    programme_id = Integer(allow_none=True)
    integration_id = Integer(allow_none=True)
    recorded_by_id = Integer(allow_none=True)
    content_title = fields.Function(
        lambda r: r.share.content.title if r.share is not None else None
    )
    referrer = fields.Function(
        _referrer, metadata={"description": "who shared the link; only while they take part"}
    )
