"""What sharing is held to: guidelines, allowed domains, taboo topics, the share policy
and each network's policy.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import Email, Integer, Length, String
from scoring.vocabulary import Channel


class GuidelinesSchema(Schema):
    id = Integer(dump_only=True)
    body = String(required=True, validate=Length(min=20, max=50_000))
    contact_name = String(required=True, validate=Length(min=1, max=120))
    contact_email = Email(required=True)
    created_at = fields.DateTime(dump_only=True)


class AllowedDomainSchema(Schema):
    id = Integer(dump_only=True)
    domain = String(
        required=True,
        validate=Length(min=1, max=253),
        metadata={"description": "a host name such as example.com; subdomains are included"},
    )
    created_at = fields.DateTime(dump_only=True)


class TabooTopicSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    explanation = String(
        required=True,
        validate=Length(min=1, max=2000),
        metadata={"description": "shown to the employee whose text touches the topic"},
    )
    phrases = fields.List(
        String(validate=Length(max=200)),
        load_default=list,
        metadata={"description": "matched as whole words, ignoring case"},
    )
    patterns = fields.List(
        String(validate=Length(max=200)),
        load_default=list,
        metadata={"description": "regular expressions, ignoring case"},
    )
    active = fields.Boolean(load_default=True)


class TabooTopicUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    explanation = String(validate=Length(min=1, max=2000))
    phrases = fields.List(String(validate=Length(max=200)))
    patterns = fields.List(String(validate=Length(max=200)))
    active = fields.Boolean()


class TabooCheckSchema(Schema):
    text = String(required=True, validate=Length(max=10_000))


class TabooHitSchema(Schema):
    topic = String()
    explanation = String()
    matched = String()


class TabooCheckResultSchema(Schema):
    ok = fields.Boolean()
    hits = fields.List(fields.Nested(TabooHitSchema))


def _cap(description: str, maximum: int = 10_000) -> fields.Integer:
    return Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=maximum),
        metadata={"description": f"{description}; null switches it off"},
    )


class SharePolicySchema(Schema):
    """Disclosure, UTM medium and the share caps that protect employees' networks."""

    disclosure = String(
        validate=[
            Length(min=2, max=60),
            validate.Regexp(r"^#\w+$", error="One word starting with #, such as #employee."),
        ],
        metadata={"description": "added to every share text, e.g. #employee"},
    )
    utm_medium = String(
        validate=[
            Length(min=1, max=60),
            validate.Regexp(
                r"^[A-Za-z0-9._-]+$", error="Letters, digits, dots, dashes and underscores only."
            ),
        ]
    )
    per_day = _cap("shares per employee per day")
    per_week = _cap("shares per employee per week")
    per_channel_per_day = _cap("shares per employee per network per day")
    per_content = _cap("shares of one item per employee")
    min_spacing_minutes = _cap("minutes between two shares", maximum=10_080)
    updated_at = fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "null until HR changes it"}
    )


class NetworkPolicySchema(Schema):
    channel = fields.Enum(Channel, by_value=True, dump_only=True)
    share_points = fields.Boolean(
        required=True, metadata={"description": "false: shares there earn no points"}
    )
    note = String(allow_none=True, load_default=None, validate=Length(max=300))
