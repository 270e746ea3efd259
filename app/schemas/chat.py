"""Chat channels (Slack, Teams): connecting one, and how it is shown (never its full
webhook address)."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.fields import Integer, Length, String
from scoring.chat import Provider, masked


class ChatDestinationSchema(Schema):
    id = Integer(dump_only=True)
    provider = fields.Enum(Provider, by_value=True, required=True)
    name = String(required=True, validate=Length(min=1, max=80), metadata={"example": "#sales"})
    team_id = Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "the team whose channel it is; null: the company's"},
    )
    url = String(
        required=True,
        load_only=True,
        validate=Length(max=500),
        metadata={"description": "the incoming-webhook address; never shown back"},
    )
    address = fields.Function(
        lambda destination: masked(destination.url),
        dump_only=True,
        metadata={"description": "the address, masked"},
    )
    post_content = fields.Boolean(
        load_default=True, metadata={"description": "post new content meant for its audience"}
    )
    post_game = fields.Boolean(
        load_default=True,
        metadata={"description": "post challenges (start, results) and the week's top"},
    )
    post_mentions = fields.Boolean(
        load_default=False,
        metadata={
            "description": "post news of people of its audience who asked to be mentioned "
            "(a badge, a challenge result)"
        },
    )
    disabled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    disabled_reason = String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class ChatChangeSchema(Schema):
    """What is given changes; a new ``url`` or ``enabled: true`` turns it back on."""

    name = String(validate=Length(min=1, max=80))
    team_id = Integer(allow_none=True)
    url = String(validate=Length(max=500))
    post_content = fields.Boolean()
    post_game = fields.Boolean()
    post_mentions = fields.Boolean()
    enabled = fields.Boolean()


class SentTestSchema(Schema):
    """What came of a test message (to a chat channel or a webhook endpoint)."""

    delivered = fields.Boolean(dump_only=True, metadata={"description": "the other side took it"})
    answer = String(dump_only=True, metadata={"description": "its answer in words"})
