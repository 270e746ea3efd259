"""The employee's feed: content meant for them, and what the share caps leave today."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import Role, utcnow
from app.schemas.sharing import AllowanceSchema, FeedItemSchema
from app.services import feed

bp = api_blueprint("feed", "/feed", "Your feed of content to share, and your share allowance.")


def allowance_body(allowance: feed.Allowance) -> dict:
    return {
        "today_left": allowance.today_left,
        "week_left": allowance.week_left,
        "per_channel_left": {c.value: n for c, n in allowance.per_channel_left.items()},
        "next_allowed_at": allowance.next_allowed_at,
        "blocked_by": allowance.blocked_by,
    }


@bp.route("")
class Feed(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, FeedItemSchema(many=True))
    @bp.alt_response(409, response="CONFLICT", description="You have not opted in")
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[dict]:
        """Published, current content meant for you: featured first, then newest

        Each item says on which channels you shared it and how often you may still
        share it.
        """
        employee = caller()
        feed.require_participating(employee)
        now = utcnow()
        items = paginate_select(feed.feed_select(employee, now), pagination_parameters)
        ids = [item.id for item in items]
        shared = feed.shared_channels(employee.id, ids)
        allowance = feed.allowance(employee, now, ids)
        return [
            {
                "item": item,
                "shared_on": shared.get(item.id, []),
                "shares_left": allowance.item_left(item.id),
            }
            for item in items
        ]


@bp.route("/allowance")
class Allowance(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, AllowanceSchema)
    @bp.alt_response(409, response="CONFLICT", description="You have not opted in")
    def get(self) -> dict:
        """What the share caps leave you now: today, this week, per channel"""
        employee = caller()
        feed.require_participating(employee)
        return allowance_body(feed.allowance(employee, utcnow()))
