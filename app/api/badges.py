"""Badges: everyone's catalogue with what they earned and their progress, their own
grants; HR defines badges and previews who would get one before saving it."""

from __future__ import annotations

from flask.views import MethodView

from app.api.support import api_blueprint, caller
from app.auth import requires_role
from app.models import Badge, BadgeGrant, Role
from app.schemas.badges import (
    BadgeCardSchema,
    BadgeDefinitionSchema,
    BadgeGrantSchema,
    BadgePreviewSchema,
    BadgeSchema,
    BadgeUpdateSchema,
)
from app.services import badges
from app.services.badges import BadgeCard, Preview

bp = api_blueprint(
    "badges",
    "",
    "Badges: the catalogue with your progress and your grants; HR defines and previews them.",
)


@bp.route("/badges")
class Badges(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, BadgeCardSchema(many=True))
    def get(self) -> list[BadgeCard]:
        """Every badge on offer, with the levels you earned (dated when you crossed
        them), your progress to the next one and what earns it, in words"""
        return badges.catalogue_for(caller())

    @requires_role(Role.HR)
    @bp.arguments(BadgeDefinitionSchema)
    @bp.response(201, BadgeSchema)
    @bp.alt_response(409, response="CONFLICT", description="The id or the name is taken")
    def post(self, data: dict) -> Badge:
        """Define a badge

        ``kind`` is count (with ``measure`` and ``levels``), first (with ``measure``),
        streak (``levels`` in weeks running, optional ``grace_weeks``) or placing
        (``top``, and ``levels`` in placings or ``per_challenge``). Everyone who
        already qualifies gets it by a backfill, dated when they crossed the threshold
        and announced to no one when that was more than two days ago.
        """
        return badges.create_badge(caller(), data)


@bp.route("/badges/preview")
class BadgePreview(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(BadgeDefinitionSchema)
    @bp.response(200, BadgePreviewSchema)
    def post(self, data: dict) -> Preview:
        """Who would get this badge now, if it were saved: nothing is written"""
        return badges.preview(data)


@bp.route("/badges/<int:badge_id>")
class BadgeById(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, BadgeCardSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, badge_id: int) -> BadgeCard:
        """One badge, with what you earned of it and your progress"""
        return badges.card_for(caller(), badges.get_badge(badge_id))

    @requires_role(Role.HR)
    @bp.arguments(BadgeUpdateSchema)
    @bp.response(200, BadgeSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def patch(self, data: dict, badge_id: int) -> Badge:
        """Change a badge's definition (a null removes a field), or retire it with
        ``active: false``

        The id never changes. New criteria are backfilled; grants already made stay.
        """
        return badges.update_badge(caller(), badges.get_badge(badge_id), data)


@bp.route("/me/badges")
class MyBadges(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, BadgeGrantSchema(many=True))
    def get(self) -> list[BadgeGrant]:
        """The badges you earned, newest first"""
        return badges.grants_of(caller())
