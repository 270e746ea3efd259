"""Webhook endpoints: registering one, how it is shown (never its secret, its address
only masked), rotating its secret, and its delivery log."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import Integer, Length, String
from app.schemas.notifications import OutboxMessageSchema
from app.services.webhook_endpoints import event_type, message_id_of
from scoring.chat import masked
from scoring.delivery import State
from scoring.webhooks import LONGEST_OVERLAP, Event

EVENTS_DOC = "the events it receives: " + ", ".join(Event)


class WebhookEndpointSchema(Schema):
    id = Integer(dump_only=True)
    name = String(
        required=True, validate=Length(min=1, max=80), metadata={"example": "HR data warehouse"}
    )
    url = String(
        required=True,
        load_only=True,
        validate=Length(max=500),
        metadata={"description": "the https:// address deliveries go to; never shown back"},
    )
    address = fields.Function(
        lambda endpoint: masked(endpoint.url),
        dump_only=True,
        metadata={"description": "the address, masked"},
    )
    events = fields.List(
        fields.Enum(Event, by_value=True),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": EVENTS_DOC},
    )
    previous_until = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "until when the secret before the last rotation signs too"},
    )
    disabled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    disabled_reason = String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class WebhookEndpointOutSchema(WebhookEndpointSchema):
    events = fields.Function(
        lambda endpoint: endpoint.event_types, dump_only=True, metadata={"description": EVENTS_DOC}
    )


class WebhookEndpointCreatedSchema(WebhookEndpointOutSchema):
    secret = String(
        dump_only=True,
        metadata={"description": "the signing secret (whsec_…); shown this once only"},
    )


class WebhookEndpointChangeSchema(Schema):
    """What is given changes; a new ``url`` or ``enabled: true`` turns it back on."""

    name = String(validate=Length(min=1, max=80))
    url = String(validate=Length(max=500))
    events = fields.List(fields.Enum(Event, by_value=True), validate=validate.Length(min=1))
    enabled = fields.Boolean()


class RotateSecretSchema(Schema):
    overlap_hours = Integer(
        load_default=24,
        validate=validate.Range(min=0, max=LONGEST_OVERLAP.days * 24),
        metadata={"description": "how long the old secret goes on signing beside the new one"},
    )


class RotatedSecretSchema(Schema):
    secret = String(dump_only=True, metadata={"description": "the new secret; shown once only"})
    previous_until = fields.AwareDateTime(dump_only=True, allow_none=True)


class DeliverySchema(OutboxMessageSchema):
    """One event delivered (or on its way) to an endpoint."""

    event = fields.Function(
        event_type, dump_only=True, metadata={"description": "the event's type"}
    )
    webhook_id = fields.Function(
        message_id_of,
        dump_only=True,
        metadata={"description": "the webhook-id header: the same on every try"},
    )


class DeliveryFilterSchema(Schema):
    state = fields.Enum(
        State,
        by_value=True,
        metadata={"description": "only deliveries in this state"},
    )
