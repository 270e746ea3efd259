"""What sharing is held to: guidelines, allowed domains, taboo topics, the share policy
and each network's policy.
"""

from __future__ import annotations

from marshmallow import Schema, fields, pre_dump, validate

from app.schemas.fields import Email, Integer, Length, String
from scoring.media_value import DEFAULTS, MAX_CENTS
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


def _assumption(description: str, maximum: int) -> fields.Integer:
    return Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, max=maximum),
        metadata={"description": description},
    )


class ValueAssumptionsSchema(Schema):
    """What a network's attention costs, for its earned-media value (a range): each
    assumption's low and high end."""

    cpm_low_cents = _assumption("cost per thousand impressions, low, in cents", MAX_CENTS)
    cpm_high_cents = _assumption("cost per thousand impressions, high, in cents", MAX_CENTS)
    cpc_low_cents = _assumption("cost per click, low, in cents", MAX_CENTS)
    cpc_high_cents = _assumption("cost per click, high, in cents", MAX_CENTS)
    seen_low_percent = _assumption("percentage of an audience that sees a post, low", 100)
    seen_high_percent = _assumption("percentage of an audience that sees a post, high", 100)


class DefaultAssumptionsSchema(ValueAssumptionsSchema):
    """The defaults of a network (dumped from its channel: they are not stored)."""

    @pre_dump
    def _of_channel(self, channel: Channel, **kwargs) -> dict:
        defaults = DEFAULTS[channel]
        return {
            "cpm_low_cents": defaults.cpm_cents[0],
            "cpm_high_cents": defaults.cpm_cents[1],
            "cpc_low_cents": defaults.cpc_cents[0],
            "cpc_high_cents": defaults.cpc_cents[1],
            "seen_low_percent": defaults.seen_percent[0],
            "seen_high_percent": defaults.seen_percent[1],
        }


class NetworkPolicySchema(ValueAssumptionsSchema):
    """A network's policy: share points, and the assumptions of its earned-media value
    (all six, or all null for the defaults)."""

    channel = fields.Enum(Channel, by_value=True, dump_only=True)
    share_points = fields.Boolean(
        required=True, metadata={"description": "false: shares there earn no points"}
    )
    note = String(allow_none=True, load_default=None, validate=Length(max=300))
    default_assumptions = fields.Nested(
        DefaultAssumptionsSchema,
        attribute="channel",
        dump_only=True,
        metadata={"description": "what the analytics use while the six are null"},
    )
