"""Server-rendered pages: one Flask blueprint per feature. What the views share lives
in ``app.web.pages``."""

from __future__ import annotations

from flask import Flask

from app.web import (
    admin,
    analytics,
    auth,
    badges,
    challenges,
    chat,
    content,
    deliveries,
    feed,
    home,
    hr,
    inbound_feeds,
    inbox,
    intranet,
    leaderboards,
    lessons,
    pages,
    participation,
    points,
    policy,
    profile,
    referrals,
    rewards,
    rules,
    shares,
    unsubscribe,
    webhook_endpoints,
)


def register_pages(app: Flask) -> None:
    for module in (
        home, auth, participation, profile, hr, admin, deliveries, chat,  # people, admin
        webhook_endpoints,
        inbox, unsubscribe,
        content, policy, inbound_feeds, intranet,  # the content hub
        feed, shares,  # sharing (tracked links are a fast path: app.fast_paths)
        referrals,
        points, leaderboards, rules,  # points and boards
        rewards,
        lessons,
        badges,
        challenges,
        analytics,
    ):  # fmt: skip
        app.register_blueprint(module.bp)
    pages.init_templates(app)
