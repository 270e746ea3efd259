"""Server-rendered pages: one Flask blueprint per feature."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from app.models import Role
from app.services.calendar import company_calendar
from scoring.participation import Network
from scoring.vocabulary import CHANNEL_LABELS, Channel

# The networks' own spellings, the same as the channels'.
NETWORK_LABELS = {network: Channel(network.value).label for network in Network}
# A time people can act on: the weekday and date, and the hour in the company's zone.
LONG_TIME = "%A %d %B %Y, %H:%M"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def register_pages(app: Flask) -> None:
    from app.web import (
        admin,
        auth,
        content,
        feed,
        home,
        hr,
        inbound_feeds,
        leaderboards,
        participation,
        points,
        policy,
        profile,
        referrals,
        rewards,
        rules,
        shares,
    )

    for module in (
        home, auth, participation, profile, hr, admin,  # people and participation
        content, policy, inbound_feeds,  # the content hub
        feed, shares,  # sharing (tracked links are a fast path: app.fast_paths)
        referrals,
        points, leaderboards, rules,  # points and boards
        rewards,
    ):  # fmt: skip
        app.register_blueprint(module.bp)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["problems"] = problems
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["network"] = network_label
    app.jinja_env.globals.update(
        NETWORK_LABELS=NETWORK_LABELS,
        WEEKDAYS=WEEKDAYS,
        Role=Role,
        LONG_TIME=LONG_TIME,
        company_zone=_company_zone,
    )


def _company_zone() -> ZoneInfo:
    return company_calendar()[0]


def localtime(value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A stored UTC time as the company's wall-clock time."""
    if value is None:
        return ""
    return value.astimezone(_company_zone()).strftime(fmt)


def problems(errors: dict | None, name: str) -> list[str]:
    """The messages for one field, however marshmallow or a service nested them."""
    found = (errors or {}).get(name)
    if not found:
        return []
    if isinstance(found, str):
        return [found]
    if isinstance(found, dict):
        return [m for value in found.values() for m in problems({"v": value}, "v")]
    return [m for value in found for m in problems({"v": value}, "v")]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The count with its noun: 1 point, 2 points."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def network_label(value) -> str:
    """A network or channel (or its stored value) as the network spells itself."""
    try:
        return CHANNEL_LABELS[Channel(getattr(value, "value", value))]
    except ValueError:
        return str(value)
