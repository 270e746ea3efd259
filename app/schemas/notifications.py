"""The inbox and the choices of what reaches a person where."""

from __future__ import annotations

from dataclasses import asdict

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from app.schemas.fields import Integer, Length, String
from scoring.chat import SLACK_MEMBER_ID
from scoring.delivery import State
from scoring.notifications import (
    BUDGET_MAX,
    CHANNEL_LABELS,
    DEFAULT_CHANNELS,
    DEFAULT_PREFERENCES,
    KIND_LABELS,
    OFFERED,
    Channel,
    Digest,
    Kind,
    Preferences,
    channels_for,
    offered,
    time_zones,
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


HOUR = validate.Range(0, 23)


class MailSchema(Schema):
    """How often and when mail and chat mentions may reach you. Hours are whole hours of
    your time zone."""

    digest = fields.Enum(
        Digest,
        by_value=True,
        metadata={
            "description": "new content to share: off, daily (Monday to Friday), "
            "weekly or twice_weekly (the company's first weekday, and three days on)"
        },
    )
    digest_hour = Integer(validate=HOUR, metadata={"description": "the hour it comes, 0-23"})
    time_zone = String(
        allow_none=True,
        validate=Length(max=64),
        metadata={"description": "an IANA zone such as Europe/Berlin; null: the company's"},
    )
    quiet_from = Integer(
        allow_none=True, validate=HOUR, metadata={"description": "no mail from this hour…"}
    )
    quiet_until = Integer(
        allow_none=True, validate=HOUR, metadata={"description": "…until this one; null: none"}
    )
    weekly_budget = Integer(
        validate=validate.Range(0, BUDGET_MAX),
        metadata={
            "description": "single messages (mails, chat mentions) a week at most; the "
            "mails beyond wait for the digest"
        },
    )

    slack_member_id = String(
        allow_none=True,
        validate=Length(max=32),
        metadata={
            "description": "your Slack member ID (U…), for chat mentions in Slack; null: none",
            "example": "U012AB3CDE",
        },
    )

    @validates("slack_member_id")
    def _slack_id(self, value: str | None, **_kwargs) -> None:
        if value is not None and not SLACK_MEMBER_ID.fullmatch(value):
            raise ValidationError(
                "A Slack member ID looks like U012AB3CDE: in Slack, your profile, ⋮, "
                "Copy member ID."
            )

    @validates("time_zone")
    def _known_zone(self, value: str | None, **_kwargs) -> None:
        if value is not None and value not in time_zones():
            raise ValidationError("Not a time zone we know; use a name like Europe/Berlin.")

    @validates_schema
    def _quiet_hours_paired(self, data: dict, **_kwargs) -> None:
        if ("quiet_from" in data) != ("quiet_until" in data) or (
            (data.get("quiet_from") is None) != (data.get("quiet_until") is None)
        ):
            raise ValidationError("Give both ends of your quiet hours, or neither.", "quiet_until")


class ChoicesSchema(Schema):
    choices = fields.List(fields.Nested(ChoiceSchema), validate=Length(min=1, max=len(Kind) * 2))
    mail = fields.Nested(MailSchema, metadata={"description": "what you leave out stays"})

    @validates_schema
    def _something(self, data: dict, **_kwargs) -> None:
        if not data.get("choices") and not data.get("mail"):
            raise ValidationError("Give choices, mail, or both.", "choices")


class SettingSchema(Schema):
    kind = fields.Enum(Kind, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    on = fields.Boolean()
    default = fields.Boolean(metadata={"description": "what it is when you have not chosen"})
    label = fields.String(metadata={"description": "what the kind is, in words"})


class SettingsSchema(Schema):
    settings = fields.List(fields.Nested(SettingSchema), dump_only=True)
    mail = fields.Nested(MailSchema, dump_only=True)
    mail_default = fields.Nested(
        MailSchema, dump_only=True, metadata={"description": "the rhythm of who never chose"}
    )


def settings_json(choices: dict, preferences: Preferences, admin: bool = False) -> dict:
    """Every (kind, channel) offered to the person with their setting and the default,
    and their rhythm of mail."""
    mine = {kind: channels_for(kind, choices, True) for kind in Kind}
    return {
        "mail": asdict(preferences),
        "mail_default": asdict(DEFAULT_PREFERENCES),
        "settings": [
            {
                "kind": kind,
                "channel": channel,
                "on": channel in mine[kind],
                "default": channel in DEFAULT_CHANNELS[kind],
                "label": KIND_LABELS[kind],
            }
            for kind, channel in offered(admin)
        ],
    }


class OutboxMessageSchema(Schema):
    """A message in the outbox (a mail, a chat post, a webhook delivery), without what
    it says; exactly one of ``employee_id``, ``destination_id`` and ``endpoint_id``."""

    id = Integer(dump_only=True)
    employee_id = Integer(dump_only=True, allow_none=True, metadata={"description": "a mail's"})
    destination_id = Integer(
        dump_only=True, allow_none=True, metadata={"description": "a chat channel's"}
    )
    endpoint_id = Integer(
        dump_only=True, allow_none=True, metadata={"description": "a webhook endpoint's"}
    )
    kind = fields.Enum(Kind, by_value=True, dump_only=True)
    state = fields.Enum(State, by_value=True, dump_only=True)
    attempts = Integer(dump_only=True, metadata={"description": "tries so far"})
    created_at = fields.AwareDateTime(dump_only=True)
    next_attempt_at = fields.AwareDateTime(dump_only=True)
    sent_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    last_error = fields.String(dump_only=True, allow_none=True)
    last_status = Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the HTTP status of the last answer (chat, webhooks)"},
    )
