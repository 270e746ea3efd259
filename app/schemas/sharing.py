"""The employee's feed, the share caps' allowance, and shares with their clicks."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.fields import Integer, Length, String
from scoring.vocabulary import Channel


def _feed_image_url(entry) -> str | None:
    from flask import current_app, url_for

    filename = entry["item"].image_filename
    if not filename or "content.media" not in current_app.view_functions:
        return None
    return url_for("content.media", filename=filename)


class FeedTemplateSchema(Schema):
    id = Integer()
    channel = fields.Enum(Channel, by_value=True)
    text = String()


class FeedItemSchema(Schema):
    """A content item as an employee sees it in their feed."""

    id = Integer(attribute="item.id")
    title = String(attribute="item.title")
    summary = String(attribute="item.summary")
    destination_url = String(attribute="item.destination_url")
    image_url = fields.Function(_feed_image_url, allow_none=True)
    image_credit = String(attribute="item.image_credit", allow_none=True)
    campaign_hashtag = String(attribute="item.campaign_hashtag", allow_none=True)
    featured = fields.Boolean(attribute="item.featured")
    tags = fields.List(String(), attribute="item.tag_names")
    valid_until = fields.DateTime(attribute="item.valid_until", allow_none=True)
    published_at = fields.DateTime(attribute="item.published_at", allow_none=True)
    templates = fields.List(fields.Nested(FeedTemplateSchema), attribute="item.templates")
    shared_on = fields.List(
        fields.Enum(Channel, by_value=True),
        metadata={"description": "the channels you shared this item on, oldest first"},
    )
    shares_left = Integer(
        allow_none=True,
        metadata={"description": "how often you may still share this item (null: no limit)"},
    )


class AllowanceSchema(Schema):
    """What the share caps leave you now; null where HR switched a cap off."""

    today_left = Integer(allow_none=True)
    week_left = Integer(allow_none=True)
    per_channel_left = fields.Dict(keys=String(), values=Integer(allow_none=True))
    next_allowed_at = fields.DateTime(
        allow_none=True, metadata={"description": "set when no share is possible right now"}
    )
    blocked_by = String(
        allow_none=True, metadata={"description": "the cap that blocks a share right now"}
    )


class ShareCreateSchema(Schema):
    content_id = Integer(required=True, strict=True)
    channel = fields.Enum(Channel, by_value=True, required=True)
    template_id = Integer(
        allow_none=True,
        load_default=None,
        strict=True,
        metadata={"description": "the item's share text to start from (default: the first)"},
    )
    text = String(
        allow_none=True,
        load_default=None,
        validate=Length(max=3000),
        metadata={
            "description": "your edited text; the disclosure and the campaign hashtag are "
            "added when missing"
        },
    )


class ShareFormSchema(ShareCreateSchema):
    """The share dialog's form: the item comes from the page's address."""

    class Meta:
        exclude = ("content_id",)

    template_id = Integer(allow_none=True, load_default=None)


class ClickCountsSchema(Schema):
    human = Integer(metadata={"description": "counted: one per visitor and day"})
    filtered = Integer(metadata={"description": "bots, link previews and your own"})
    bot = Integer()
    self_clicks = Integer(data_key="self")


class ShareSchema(Schema):
    id = Integer(attribute="share.id")
    content_id = Integer(attribute="share.content_id")
    content_title = String(attribute="share.content.title")
    channel = fields.Enum(Channel, by_value=True, attribute="share.channel")
    text = String(attribute="share.text")
    ref_code = String(attribute="share.ref_code")
    created_at = fields.DateTime(attribute="share.created_at")
    link = String(metadata={"description": "the tracked link to post"})
    intent_url = String(
        allow_none=True,
        metadata={"description": "the network's share dialog, prefilled; null for Instagram"},
    )
    clicks = fields.Nested(ClickCountsSchema)
    referrals = fields.Dict(
        keys=String(),
        values=Integer(),
        metadata={"description": "awarded referral stages reached through this share"},
    )
