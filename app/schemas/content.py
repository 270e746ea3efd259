"""The content hub: content items, their share texts and images."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import FileStorage

from app.models import ContentStatus
from app.schemas.fields import AwareDateTime, Integer, Length, String
from scoring.vocabulary import Channel


def _image_url(item) -> str | None:
    from flask import url_for

    if not item.image_filename:
        return None
    return url_for("content.media", filename=item.image_filename)


def _destination_problem(item) -> str | None:
    from app.services.content import allowed_domain_names, destination_problem

    return destination_problem(item.destination_url, allowed_domain_names())


class ShareTemplateSchema(Schema):
    id = Integer(dump_only=True)
    channel = fields.Enum(Channel, by_value=True, required=True)
    text = String(
        required=True,
        validate=Length(min=1, max=5000),
        metadata={"description": "checked by the taboo guard and the channel's length limit"},
    )
    position = Integer(dump_only=True)


class ShareTemplateUpdateSchema(Schema):
    channel = fields.Enum(Channel, by_value=True)
    text = String(validate=Length(min=1, max=5000))


class ContentInputSchema(Schema):
    """A new content item. The destination must be on the allow-list; share texts pass
    the taboo guard and the channel's length limit."""

    title = String(required=True, validate=Length(min=1, max=200))
    summary = String(load_default="", validate=Length(max=5000))
    destination_url = String(
        required=True,
        validate=Length(min=1, max=2000),
        metadata={"description": "http(s) on an allowed domain; fixed once published"},
    )
    image_credit = String(allow_none=True, load_default=None, validate=Length(max=200))
    image_rights_confirmed = fields.Boolean(load_default=False)
    campaign_hashtag = String(
        allow_none=True,
        load_default=None,
        validate=Length(max=60),
        metadata={"description": "one word starting with #"},
    )
    featured = fields.Boolean(load_default=False)
    valid_from = AwareDateTime(allow_none=True, load_default=None)
    valid_until = AwareDateTime(allow_none=True, load_default=None)
    tags = fields.List(
        String(validate=Length(max=60)),
        load_default=list,
        metadata={"description": "lowercased, trimmed and deduplicated"},
    )
    team_ids = fields.List(
        Integer(), load_default=list, metadata={"description": "empty: every team"}
    )
    interest_ids = fields.List(
        Integer(), load_default=list, metadata={"description": "empty: everyone"}
    )
    templates = fields.List(
        fields.Nested(ShareTemplateSchema),
        load_default=list,
        metadata={"description": "the share texts; replaces all of them"},
    )


class ContentUpdateSchema(Schema):
    title = String(validate=Length(min=1, max=200))
    summary = String(validate=Length(max=5000))
    destination_url = String(validate=Length(min=1, max=2000))
    image_credit = String(allow_none=True, validate=Length(max=200))
    image_rights_confirmed = fields.Boolean()
    campaign_hashtag = String(allow_none=True, validate=Length(max=60))
    featured = fields.Boolean()
    valid_from = AwareDateTime(allow_none=True)
    valid_until = AwareDateTime(allow_none=True)
    tags = fields.List(String(validate=Length(max=60)))
    team_ids = fields.List(Integer())
    interest_ids = fields.List(Integer())
    templates = fields.List(fields.Nested(ShareTemplateSchema))


class ContentItemSchema(Schema):
    id = Integer()
    title = String()
    summary = String()
    destination_url = String()
    destination_problem = fields.Function(
        _destination_problem,
        metadata={"description": "why the destination would not pass now (null: it does)"},
    )
    image_url = fields.Function(_image_url)
    image_credit = String(allow_none=True)
    image_rights_confirmed = fields.Boolean()
    campaign_hashtag = String(allow_none=True)
    featured = fields.Boolean()
    status = fields.Enum(ContentStatus, by_value=True)
    valid_from = fields.DateTime(allow_none=True)
    valid_until = fields.DateTime(allow_none=True)
    tags = fields.List(String(), attribute="tag_names")
    team_ids = fields.Function(lambda item: [t.id for t in item.target_teams])
    interest_ids = fields.Function(lambda item: [i.id for i in item.target_interests])
    templates = fields.List(fields.Nested(ShareTemplateSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class ContentQuerySchema(Schema):
    status = fields.Enum(ContentStatus, by_value=True)
    q = String(validate=Length(max=120), metadata={"description": "title or summary"})
    tag = String(validate=Length(max=60))


class ImageFileField(fields.Field):
    """An uploaded file's bytes; the service checks type (by content) and size."""

    def _deserialize(self, value, attr, data, **kwargs) -> bytes:
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Upload an image file.")
        return value.read()


class ImageFileSchema(Schema):
    """multipart/form-data with the image in the field ``file``."""

    file = ImageFileField(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "PNG, JPEG or WebP, 2 MB"},
    )
