"""The signed-in employee's own profile: networks, interests, presence, opt-in, erasure."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.models import Role
from app.schemas.fields import Integer, Length, String
from app.schemas.people import InterestSchema, TeamRefSchema
from scoring.participation import Network, Presence, board_name


class NetworkSchema(Schema):
    network = fields.Enum(Network, by_value=True, required=True)
    handle = String(allow_none=True, load_default=None, validate=Length(max=120))
    audience_size = Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=100_000_000)
    )


class NetworksSchema(Schema):
    networks = fields.List(fields.Nested(NetworkSchema), required=True)


class InterestIdsSchema(Schema):
    interest_ids = fields.List(Integer(), required=True)


class PresenceSchema(Schema):
    presence = fields.Enum(Presence, by_value=True, required=True)
    pseudonym = String(allow_none=True, load_default=None, validate=Length(max=40))


class OptInSchema(Schema):
    guidelines_version_id = Integer(required=True)


class EraseSchema(Schema):
    confirm_email = String(
        required=True, metadata={"description": "the account's e-mail, typed again"}
    )


class ProfileSchema(Schema):
    """The signed-in employee's own view of themselves."""

    id = Integer()
    email = String()
    name = String()
    role = fields.Enum(Role, by_value=True)
    team = fields.Nested(TeamRefSchema, allow_none=True)
    participating = fields.Boolean()
    opted_in_at = fields.DateTime(allow_none=True)
    guidelines_version_id = Integer(allow_none=True)
    presence = fields.Enum(Presence, by_value=True)
    pseudonym = String(allow_none=True)
    shown_on_boards_as = fields.Function(
        lambda e: board_name(e.presence, e.name, e.pseudonym) if e.participating else None
    )
    networks = fields.List(fields.Nested(NetworkSchema))
    interests = fields.List(fields.Nested(InterestSchema))
