"""Intranet links: the secret addresses of the Atom feed and the widget."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.fields import Integer, String


class IntranetLinkSchema(Schema):
    id = Integer(dump_only=True)
    team_id = Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "the team whose content it shows; null: the whole company"},
    )
    team_name = String(dump_only=True, allow_none=True)
    prefix = String(
        dump_only=True, metadata={"description": "the secret's first characters, to tell apart"}
    )
    created_at = fields.DateTime(dump_only=True)
    created_by_id = Integer(dump_only=True, allow_none=True)
    created_by_name = String(dump_only=True, allow_none=True)
    last_read_at = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "when the feed or widget was last read, if known"},
    )
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class NewIntranetLinkSchema(IntranetLinkSchema):
    """Shown once, when the link is made: the secret is not stored."""

    secret = String(dump_only=True, metadata={"description": "shown only in this answer"})
    feed_url = String(dump_only=True, metadata={"description": "the Atom feed"})
    widget_url = String(dump_only=True, metadata={"description": "the widget, to embed"})
