"""The company's calendar: its time zone and first weekday, kept per process.

Windows (day, week, month) and board keys depend on them, so the redirect, the scoring
job and every board read need them; they live here rather than with the directory.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import select

from app.extensions import db
from app.models import CompanySettings

CALENDAR_TTL = 60.0  # seconds a process trusts its copy of the time zone and week start


def company_calendar(app: Flask | None = None) -> tuple[ZoneInfo, int]:
    """The company's time zone and first weekday. Hot paths (every click, every board
    read) must not query for them each time: a process keeps them for a minute, and a
    change made here is seen at once. Reading never creates the settings row."""
    app = app or current_app
    cached = app.extensions.get("chorus.calendar")
    now = time.monotonic()
    if cached is not None and cached[2] > now:
        return cached[0], cached[1]
    row = db.session.execute(
        select(CompanySettings.time_zone, CompanySettings.week_start).limit(1)
    ).first()
    zone = ZoneInfo(row.time_zone if row else app.config["COMPANY_TIME_ZONE"])
    week_start = row.week_start if row else 0
    app.extensions["chorus.calendar"] = (zone, week_start, now + CALENDAR_TTL)
    return zone, week_start


def forget_company_calendar(app: Flask | None = None) -> None:
    (app or current_app).extensions.pop("chorus.calendar", None)
