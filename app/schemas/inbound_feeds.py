"""RSS and Atom feeds that bring content into the hub as drafts."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.fields import Integer, Length, String


class InboundFeedSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    url = String(
        required=True,
        validate=Length(min=1, max=2000),
        metadata={"description": "http(s) address of an RSS or Atom feed"},
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    last_fetched_at = fields.DateTime(dump_only=True, allow_none=True)
    last_error = String(dump_only=True, allow_none=True)
    last_error_at = fields.DateTime(dump_only=True, allow_none=True)


class InboundFeedUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    url = String(validate=Length(min=1, max=2000))
    active = fields.Boolean()


class FetchRequestedSchema(Schema):
    queued = fields.Boolean(metadata={"description": "false: an import is queued already"})
