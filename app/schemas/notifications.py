"""The inbox and the choices of what reaches a person where."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates_schema

from app.schemas.fields import Integer, Length
from scoring.notifications import (
    CHANNEL_LABELS,
    DEFAULT_CHANNELS,
    KIND_LABELS,
    OFFERED,
    Channel,
    Kind,
    channels_for,
    offered,
)

MAX_IDS = 500


class NotificationSchema(Schema):
    id = Integer(dump_only=True)
    kind = fields.Enum(Kind, by_value=True, dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    link = fields.String(dump_only=True, allow_none=True, metadata={"description": "a path"})
    created_at = fields.AwareDateTime(dump_only=True)
    read_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class UnreadSchema(Schema):
    unread = Integer(dump_only=True)


class MarkReadSchema(Schema):
    ids = fields.List(
        Integer(),
        required=True,
        validate=Length(min=1, max=MAX_IDS),
        metadata={"description": "ids of your notifications; others' change nothing"},
    )


class MarkedSchema(Schema):
    marked = Integer(dump_only=True, metadata={"description": "how many were unread"})
    unread = Integer(dump_only=True)


class ChoiceSchema(Schema):
    kind = fields.Enum(Kind, by_value=True, required=True)
    channel = fields.Enum(Channel, by_value=True, required=True)
    on = fields.Boolean(required=True)

    @validates_schema
    def _offered(self, data: dict, **_kwargs) -> None:
        if data["channel"] not in OFFERED[data["kind"]]:
            raise ValidationError(
                f"{CHANNEL_LABELS[data['channel']]} is not offered for this kind.", "channel"
            )


class ChoicesSchema(Schema):
    choices = fields.List(
        fields.Nested(ChoiceSchema), required=True, validate=Length(min=1, max=len(Kind) * 2)
    )


class SettingSchema(Schema):
    kind = fields.Enum(Kind, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    on = fields.Boolean()
    default = fields.Boolean(metadata={"description": "what it is when you have not chosen"})
    label = fields.String(metadata={"description": "what the kind is, in words"})


class SettingsSchema(Schema):
    settings = fields.List(fields.Nested(SettingSchema), dump_only=True)


def settings_json(choices: dict) -> dict:
    """Every offered (kind, channel) with the person's setting and the default."""
    mine = {kind: channels_for(kind, choices, True) for kind in Kind}
    return {
        "settings": [
            {
                "kind": kind,
                "channel": channel,
                "on": channel in mine[kind],
                "default": channel in DEFAULT_CHANNELS[kind],
                "label": KIND_LABELS[kind],
            }
            for kind, channel in offered()
        ]
    }
