"""Outgoing mail. The backend is chosen by MAIL_BACKEND: ``console`` writes mails to the
log (development), ``smtp`` sends them, ``memory`` keeps them in a list (tests)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("chorus.mail")


def outbox() -> list[EmailMessage]:
    return current_app.extensions.setdefault("mail_outbox", [])


def send_mail(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        log.info("mail to %s: %s\n%s", to, subject, body)
    elif backend == "memory":
        outbox().append(message)
    elif backend == "smtp":
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    else:
        raise RuntimeError(f"MAIL_BACKEND={backend!r}: use console, smtp or memory")
