"""The JSON API under /api/v1: one flask-smorest blueprint per feature. What the
blueprints share lives in ``app.api.support``.

Conventions (also in the OpenAPI document at /api/openapi.json):
- authentication: ``Authorization: Bearer <token>``, or the session cookie plus an
  ``X-CSRFToken`` header for the pages' own scripts;
- errors: ``{"code", "status", "message", "errors": {field: [problems]}}``;
- lists: ``?page=1&page_size=20``; the items are the body, and the ``X-Pagination``
  header carries ``{"total", "total_pages", "page", "page_size", ...}``.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Blueprint

from app.api import (
    analytics,
    audit,
    badges,
    challenges,
    chat,
    company,
    content,
    employees,
    feed,
    guidelines,
    inbound_feeds,
    interests,
    intranet,
    leaderboards,
    lessons,
    me,
    notifications,
    outbox,
    points,
    policy,
    reference,
    referrals,
    rewards,
    rules,
    shares,
    taboo,
    teams,
    tokens,
    webhook_endpoints,
    webhooks,
)
from app.extensions import api

# Every API blueprint, in the order of the OpenAPI document.
BLUEPRINTS: list[Blueprint] = [
    me.bp,
    notifications.bp,
    guidelines.bp,
    company.bp,
    teams.bp,
    employees.bp,
    interests.bp,
    tokens.bp,
    audit.bp,
    outbox.bp,
    chat.bp,
    webhook_endpoints.bp,
    # referrals
    referrals.programmes_bp,
    referrals.integrations_bp,
    referrals.referrals_bp,
    webhooks.bp,
    # the content hub
    content.bp,
    policy.bp,
    taboo.bp,
    inbound_feeds.bp,
    intranet.bp,
    # sharing
    feed.bp,
    shares.bp,
    # points and boards
    points.bp,
    leaderboards.bp,
    rules.bp,
    rules.bonuses_bp,
    # rewards
    rewards.rewards_bp,
    rewards.redemptions_bp,
    rewards.pledges_bp,
    # the game
    challenges.bp,
    badges.bp,
    # learning
    lessons.bp,
    # analytics
    analytics.bp,
]


def register_api(app: Flask) -> None:
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API token"}
    )
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
    app.register_blueprint(reference.bp)  # /api/docs: the document, readable
