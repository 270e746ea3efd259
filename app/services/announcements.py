"""Telling people something in their inbox, and by mail for those who chose mail for
that kind: the inbox (``app.services.notifications.tell``) and the outbox
(``app.services.outbox.queue_mail``) in the caller's transaction, under one key each,
so a job that runs twice tells and mails nobody twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Employee, Role
from app.services import mentions, notifications, outbox
from app.services.notifications import Told, recipients
from scoring.notifications import Channel, Kind


def announce(told: Iterable[Told], now: datetime | None = None) -> int:
    """Tell each person, and queue the mail of whoever wants this kind by mail and the
    chat mention of whoever wants that; returns how many were new in the inbox. Mail is
    built only for the people who want it (a challenge tells thousands, and mail is off
    for most). ``now``: when it is told (the clock's moment; the demo's history)."""
    told = list(told)
    written = notifications.tell(told, now)
    by_kind: dict[Kind, set[int]] = {}
    for item in told:
        by_kind.setdefault(item.kind, set()).add(item.employee_id)
    wanting = {kind: recipients(people, kind, Channel.EMAIL) for kind, people in by_kind.items()}
    mails = [outbox.mail_of(item) for item in told if item.employee_id in wanting[item.kind]]
    if mails:
        outbox.queue_mail(mails, now)
    mentions.mention(told, now)
    return written


def tell_admins(kind: Kind, key: str, title: str, body: str, link: str) -> int:
    """Tell every active admin (something of theirs to repair), under one ``key``."""
    admins = db.session.scalars(
        select(Employee.id).where(Employee.role == Role.ADMIN, Employee.active.is_(True))
    )
    return announce(
        Told(admin_id, kind, key=key, title=title, body=body, link=link) for admin_id in admins
    )
