"""Telling people something in their inbox, and by mail for those who chose mail for
that kind: the inbox (``app.services.notifications.tell``) and the outbox
(``app.services.outbox.queue_mail``) in the caller's transaction, under one key each,
so a job that runs twice tells and mails nobody twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from app.services import notifications, outbox
from app.services.notifications import Told, recipients
from scoring.notifications import Channel, Kind


def announce(told: Iterable[Told], now: datetime | None = None) -> int:
    """Tell each person, and queue the mail of whoever wants this kind by mail; returns
    how many were new in the inbox. Mail is built only for the people who want it (a
    challenge tells thousands, and mail is off for most). ``now``: when it is told (the
    clock's moment; the demo's history)."""
    told = list(told)
    written = notifications.tell(told, now)
    by_kind: dict[Kind, set[int]] = {}
    for item in told:
        by_kind.setdefault(item.kind, set()).add(item.employee_id)
    wanting = {kind: recipients(people, kind, Channel.EMAIL) for kind, people in by_kind.items()}
    mails = [outbox.mail_of(item) for item in told if item.employee_id in wanting[item.kind]]
    if mails:
        outbox.queue_mail(mails, now)
    return written
