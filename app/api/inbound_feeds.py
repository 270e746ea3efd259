"""Inbound feeds: RSS and Atom feeds whose new entries become drafts for HR."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import InboundFeed, Role
from app.schemas.inbound_feeds import (
    FetchRequestedSchema,
    InboundFeedSchema,
    InboundFeedUpdateSchema,
)
from app.services import inbound_feeds

bp = api_blueprint(
    "inbound_feeds", "/feeds", "RSS and Atom feeds imported as draft content every 30 minutes."
)


@bp.route("")
class Feeds(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, InboundFeedSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[InboundFeed]:
        """All feeds, with their last fetch and last error"""
        query = select(InboundFeed).order_by(InboundFeed.name, InboundFeed.id)
        return paginate_select(query, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(InboundFeedSchema)
    @bp.response(201, InboundFeedSchema)
    @bp.alt_response(409, response="CONFLICT", description="The feed is registered already")
    def post(self, data: dict) -> InboundFeed:
        """Register a feed"""
        feed = inbound_feeds.create_feed(caller(), **data)
        return feed


@bp.route("/<int:feed_id>")
class FeedById(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, InboundFeedSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, feed_id: int) -> InboundFeed:
        """One feed"""
        return inbound_feeds.get_feed(feed_id)

    @requires_role(Role.HR)
    @bp.arguments(InboundFeedUpdateSchema)
    @bp.response(200, InboundFeedSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The feed is registered already")
    def patch(self, changes: dict, feed_id: int) -> InboundFeed:
        """Rename, change the address, or (de)activate a feed"""
        feed = inbound_feeds.update_feed(caller(), inbound_feeds.get_feed(feed_id), changes)
        return feed

    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, feed_id: int) -> None:
        """Delete a feed; drafts imported from it stay"""
        inbound_feeds.delete_feed(caller(), inbound_feeds.get_feed(feed_id))


@bp.route("/<int:feed_id>/fetch")
class FetchFeed(MethodView):
    @requires_role(Role.HR)
    @bp.response(202, FetchRequestedSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, feed_id: int) -> dict:
        """Import the feed now, in the background"""
        return {"queued": inbound_feeds.request_fetch(inbound_feeds.get_feed(feed_id))}
