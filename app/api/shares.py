"""Sharing through tracked links: create a share, list yours with their clicks."""

from __future__ import annotations

import math
from http import HTTPStatus

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.extensions import db
from app.models import Role, Share, utcnow
from app.schemas.sharing import ShareCreateSchema, ShareSchema
from app.services import sharing

bp = api_blueprint("shares", "/shares", "Your shares, their tracked links, clicks and referrals.")


def share_body(share: Share, stats: sharing.ShareStats | None = None) -> dict:
    package = sharing.package(share)
    stats = stats or sharing.ShareStats()
    return {
        "share": share,
        "link": package.link,
        "intent_url": package.intent_url,
        "clicks": {
            "human": stats.human,
            "filtered": stats.filtered,
            "bot": stats.bot,
            "self_clicks": stats.self_clicks,
        },
        "referrals": stats.referrals or {},
    }


def cap_refusal(exc: sharing.ShareCapReached) -> Response:
    """The usual error shape, plus which cap refused and when the next share is allowed."""
    db.session.rollback()
    response = jsonify(
        {
            "code": exc.status,
            "status": HTTPStatus(exc.status).phrase,
            "message": exc.message,
            "errors": exc.errors,
            "cap": exc.cap,
            "next_allowed_at": exc.next_allowed_at.isoformat() if exc.next_allowed_at else None,
        }
    )
    response.status_code = exc.status
    if exc.next_allowed_at is not None:
        wait = (exc.next_allowed_at - utcnow()).total_seconds()
        response.headers["Retry-After"] = str(max(math.ceil(wait), 1))
    return response


@bp.route("")
class Shares(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, ShareSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[dict]:
        """Your shares, newest first, with counted and filtered clicks and referrals"""
        employee = caller()
        shares = paginate_select(sharing.my_shares_select(employee), pagination_parameters)
        stats = sharing.share_stats([share.id for share in shares])
        return [share_body(share, stats[share.id]) for share in shares]

    @requires_role(Role.EMPLOYEE)
    @bp.arguments(ShareCreateSchema)
    @bp.response(201, ShareSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="No such item in your feed")
    @bp.alt_response(
        409, response="CONFLICT", description="Not opted in, or the item's own cap is reached"
    )
    @bp.alt_response(
        429, response="TOO_MANY_REQUESTS", description="A share cap: see cap and next_allowed_at"
    )
    def post(self, data: dict) -> dict | Response:
        """Share an item on a channel

        Answers with the tracked link, the final text (the disclosure and the campaign
        hashtag are added when missing) and the network's share dialog. A text touching
        a taboo topic is refused (422, with the topic's explanation under ``text``); a
        share cap refuses with 429 (or 409 for the per-item cap), naming the ``cap`` and
        ``next_allowed_at``.
        """
        try:
            share = sharing.create_share(caller(), **data)
        except sharing.ShareCapReached as exc:
            return cap_refusal(exc)
        sharing.warm_link(share)
        return share_body(share)


@bp.route("/<int:share_id>")
class ShareById(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, ShareSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="Not one of your shares")
    def get(self, share_id: int) -> dict:
        """One of your shares"""
        share = sharing.own_share(caller(), share_id)
        return share_body(share, sharing.share_stats([share.id])[share.id])
