"""What the page views share: the signed-in employee, page numbers, what a form does on
bad input, and the filters and names every template may use."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, render_template, request
from flask_login import current_user

from app.errors import ChorusError
from app.extensions import db
from app.models import Employee, Role
from app.services import notifications
from app.services.calendar import company_calendar
from scoring.participation import Network
from scoring.vocabulary import CHANNEL_LABELS, Channel

# The networks' own spellings, the same as the channels'.
NETWORK_LABELS = {network: Channel(network.value).label for network in Network}
# A time people can act on: the weekday and date, and the hour in the company's zone.
LONG_TIME = "%A %d %B %Y, %H:%M"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def init_templates(app: Flask) -> None:
    """The filters and names every page's template may use."""
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["problems"] = problems
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["network"] = network_label
    app.jinja_env.globals.update(
        NETWORK_LABELS=NETWORK_LABELS,
        WEEKDAYS=WEEKDAYS,
        Role=Role,
        LONG_TIME=LONG_TIME,
        company_zone=company_zone,
        unread_notifications=unread_notifications,
    )


def unread_notifications() -> int:
    """The signed-in person's unread count, for the navigation and the inbox page:
    counted once per request."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(me())
    return g.unread_notifications


def me() -> Employee:
    """The signed-in employee itself: services inspect the type, which a proxy hides."""
    return current_user._get_current_object()


def page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def optional_int(value: str | None) -> str | None:
    """Empty form fields mean "none"; anything else goes to the schema as typed."""
    value = (value or "").strip()
    return value or None


def form_failed(exc: ChorusError, template: str, **context) -> tuple[str, int]:
    """What every page form does on bad input: undo, re-render with the problems, answer
    with the error's status (422, or 409/403/404 as the service says)."""
    db.session.rollback()  # services flush as they go; nothing of this request stays
    context.setdefault("values", request.form)
    page = render_template(template, errors=exc.errors, error_message=exc.message, **context)
    return page, exc.status


def company_zone() -> ZoneInfo:
    return company_calendar()[0]


def localtime(value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A stored UTC time as the company's wall-clock time."""
    if value is None:
        return ""
    return value.astimezone(company_zone()).strftime(fmt)


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
